// A validated GGUF file (v2/v3, little-endian). Everything is checked before
// anything is handed out, so later code may trust shapes, types and offsets.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/ggml_type.h"
#include "base/mapped_file.h"
#include "base/status.h"
#include "gguf/gguf_value.h"

namespace minnow {

inline constexpr uint32_t kGgufMagic = 0x46554747;  // "GGUF" little-endian
inline constexpr uint32_t kGgufDefaultAlignment = 32;
inline constexpr uint32_t kGgufMaxDims = 4;
inline constexpr size_t kGgufMaxTensorName = 63;  // ggml's GGML_MAX_NAME - 1
inline constexpr int kGgufMaxArrayNesting = 8;

struct GgufTensorInfo {
  std::string name;
  GgmlType type;
  std::vector<uint64_t> ne;  // ggml order: ne[0] is the contiguous row length
  uint64_t offset = 0;       // relative to the data section
  uint64_t n_elements = 0;
  uint64_t n_bytes = 0;
  uint64_t info_offset = 0;  // where its tensor-info record starts in the file

  uint64_t n_rows() const { return n_elements / ne[0]; }
};

class GgufFile {
 public:
  // Maps PATH and validates it. Errors name PATH and the byte offset.
  static Expected<GgufFile> open(const std::string& path);
  // Validates bytes that the caller keeps alive (fuzzing, tests).
  static Expected<GgufFile> parse(std::span<const uint8_t> bytes, std::string name = "<memory>");
  // The same for a buffer the caller keeps alive but no longer reads: a
  // tensor the model copies into another layout (release_pages) has its
  // pages dropped from it as from a mapped file's (they then read as zeros).
  // `minnow bench --synthetic`'s generated weights.
  static Expected<GgufFile> parse_releasable(std::span<const uint8_t> bytes, std::string name);

  const std::string& name() const { return name_; }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t file_size() const { return bytes_.size(); }
  uint64_t data_offset() const { return data_offset_; }

  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return kv_; }
  const GgufValue* find(std::string_view key) const;
  // Typed look-ups: nullopt when absent or of another type.
  std::optional<std::string> get_string(std::string_view key) const;
  std::optional<int64_t> get_int(std::string_view key) const;
  std::optional<double> get_double(std::string_view key) const;
  std::optional<bool> get_bool(std::string_view key) const;
  std::string architecture() const { return get_string("general.architecture").value_or(""); }

  // Removes the ARRAY values whose keys start with key_prefix (a loader that
  // copied them, e.g. the tokenizer's 150k-entry vocabulary and merges,
  // which otherwise stay resident twice).
  void drop_arrays(std::string_view key_prefix);

  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* find_tensor(std::string_view name) const;
  // The tensor's bytes, zero-copy from the mapping.
  std::span<const uint8_t> tensor_data(const GgufTensorInfo& t) const;
  // The whole pages of `bytes` (tensor data of this file) leave the resident
  // set (mapped files and parse_releasable's buffers only): for tensors the
  // model has copied into another layout.
  void release_pages(std::span<const uint8_t> bytes) const;
  // Whether the bytes are a mapped file (not a buffer the caller holds).
  bool is_mapped() const { return mapping_.has_value(); }

 private:
  friend class GgufParser;
  std::optional<MappedFile> mapping_;
  std::span<const uint8_t> bytes_;
  bool releasable_ = false;  // parse_releasable's buffer
  std::string name_;
  uint32_t version_ = 0;
  uint64_t alignment_ = kGgufDefaultAlignment;
  uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string, GgufValue>> kv_;
  std::unordered_map<std::string, size_t> kv_index_;
  std::vector<GgufTensorInfo> tensors_;
  std::unordered_map<std::string, size_t> tensor_index_;
};

}  // namespace minnow
