#include "support/test_paths.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>

namespace minnow::test {

std::filesystem::path conformance_dir() {
  if (const char* env = std::getenv("MINNOW_CONFORMANCE_DIR")) return env;
  auto p = std::filesystem::path(MINNOW_SOURCE_DIR).parent_path() / "shared" / "conformance";
  return std::filesystem::is_directory(p) ? p : std::filesystem::path();
}

TempDir::TempDir() {
  static std::atomic<int> counter{0};
  path_ = std::filesystem::temp_directory_path() /
          ("minnow-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace minnow::test
