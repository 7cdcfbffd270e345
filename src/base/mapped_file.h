// A whole file mapped read-only. Parsers take its byte span, so the same
// parser code runs on fuzz inputs that never touch the disk.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "base/status.h"

namespace minnow {

class MappedFile {
 public:
  static Expected<MappedFile> open(const std::string& path);

  MappedFile() = default;
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  std::span<const uint8_t> bytes() const { return {data_, size_}; }
  // Drops the whole pages inside `range` (part of this mapping) from the
  // process's resident set; they are read from the file again if touched.
  // For data that was copied elsewhere (repacked weights).
  void release_pages(std::span<const uint8_t> range) const;
  const std::string& path() const { return path_; }

 private:
  void release();
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  std::string path_;
};

// Drops the whole pages inside `range` from the resident set
// (MADV_DONTNEED): a file mapping's are read from the file again if
// touched, an anonymous buffer's come back as zeros. Only for bytes that
// were copied elsewhere and that nobody reads again.
void release_whole_pages(std::span<const uint8_t> range);

// Reads a whole (small) file into memory.
Expected<std::string> read_file(const std::string& path);

// Writes to PATH.tmp then renames, so a failure never leaves a partial PATH.
Status write_file_atomic(const std::string& path, std::span<const uint8_t> bytes);

}  // namespace minnow
