// Builds a GGUF v3 file: metadata in insertion order, tensors laid out at
// the alignment in the order they were added.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "base/ggml_type.h"
#include "base/status.h"
#include "gguf/gguf_value.h"

namespace minnow {

class GgufWriter {
 public:
  // An alignment other than 32 is recorded as general.alignment.
  explicit GgufWriter(uint32_t alignment = 32);

  // Replaces an existing key of the same name, keeping its position.
  void set(const std::string& key, GgufValue value);
  void remove(const std::string& key);
  // `data` must hold exactly the bytes ne and type imply.
  Status add_tensor(const std::string& name, GgmlType type, std::vector<uint64_t> ne, std::vector<uint8_t> data);
  Status add_f32_tensor(const std::string& name, std::vector<uint64_t> ne, std::span<const float> values);

  std::vector<uint8_t> serialize() const;
  // The same bytes, giving up each tensor's data as soon as it is copied:
  // peak memory is one copy of the model plus one tensor (synthetic models
  // of several GB are built this way). The writer is left without tensors.
  std::vector<uint8_t> take_serialized();
  // Atomic: writes PATH.tmp and renames it into place.
  Status write(const std::string& path) const;

 private:
  struct Tensor {
    std::string name;
    GgmlType type;
    std::vector<uint64_t> ne;
    std::vector<uint8_t> data;
  };
  template <class Self>
  static std::vector<uint8_t> serialize_impl(Self& self);
  uint32_t alignment_;
  std::vector<std::pair<std::string, GgufValue>> kv_;
  std::vector<Tensor> tensors_;
};

// Appends one value's on-disk encoding (no key); exposed for tests that
// craft malformed files byte by byte.
void gguf_encode_value(std::vector<uint8_t>& out, const GgufValue& v);
void gguf_encode_string(std::vector<uint8_t>& out, const std::string& s);

}  // namespace minnow
