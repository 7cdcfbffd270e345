// Where tests find shared conformance data and scratch space.
#pragma once

#include <filesystem>
#include <string>

namespace minnow::test {

// ../shared/conformance beside the project root; empty path when absent.
std::filesystem::path conformance_dir();

// Skips the current test with a clear message when conformance data is absent.
#define MINNOW_REQUIRE_CONFORMANCE()                                                         \
  do {                                                                                       \
    if (::minnow::test::conformance_dir().empty())                                           \
      GTEST_SKIP() << "../shared/conformance not found beside the project root; skipping";   \
  } while (0)

// A fresh directory for one test, removed by the caller's TempDir destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace minnow::test
