#include "base/huge_pages.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

namespace minnow {
namespace {

constexpr uintptr_t kTwoMiB = uintptr_t(2) << 20;

TEST(HugePages, BufferIsAlignedZeroedAndWritableToItsLastByte) {
  for (size_t bytes : {size_t(1), size_t(4096), size_t(3) << 20, (size_t(4) << 20) + 17}) {
    HugePageBuffer buf = allocate_huge_pages(bytes);
    ASSERT_NE(buf, nullptr) << bytes;
    EXPECT_EQ(uintptr_t(buf.get()) % kTwoMiB, 0u) << bytes;
    EXPECT_EQ(buf.get_deleter().bytes % kTwoMiB, 0u);
    EXPECT_GE(buf.get_deleter().bytes, bytes);
    EXPECT_EQ(buf[0], 0);
    EXPECT_EQ(buf[bytes - 1], 0);
    std::memset(buf.get(), 0x5a, bytes);
    EXPECT_EQ(buf[bytes - 1], 0x5a);
  }
}

TEST(HugePages, ZeroBytesIsNoBuffer) { EXPECT_EQ(allocate_huge_pages(0), nullptr); }

TEST(HugePages, AbsurdSizesFailCleanly) {
  EXPECT_EQ(allocate_huge_pages(size_t(1) << 61), nullptr);
  EXPECT_EQ(allocate_huge_pages(SIZE_MAX), nullptr);  // would wrap when rounded up
}

TEST(HugePages, CollapseKeepsTheBytes) {
  // Any memory, aligned or not, smaller than a huge page or not: the data stays.
  for (size_t bytes : {size_t(100), size_t(5) << 20}) {
    std::vector<uint8_t> v(bytes);
    for (size_t i = 0; i < bytes; ++i) v[i] = uint8_t(i * 7);
    collapse_to_huge_pages(v.data() + 1, bytes - 1);
    for (size_t i = 0; i < bytes; ++i) ASSERT_EQ(v[i], uint8_t(i * 7)) << i;
  }
}

TEST(HugePages, SmapsRollupCountsAnonymousAndFileHugePages) {
  std::istringstream smaps(
      "55d1e7400000-7ffd2b1f0000 ---p 00000000 00:00 0                          [rollup]\n"
      "Rss:              453152 kB\n"
      "AnonHugePages:    376832 kB\n"
      "ShmemPmdMapped:        0 kB\n"
      "FilePmdMapped:     45056 kB\n"
      "Swap:                  0 kB\n");
  EXPECT_EQ(huge_page_bytes_in_smaps(smaps), (376832ull + 45056ull) * 1024);
  std::istringstream none("Rss: 12 kB\nAnonHugePages: 0 kB\n");
  EXPECT_EQ(huge_page_bytes_in_smaps(none), 0u);
  std::istringstream garbage("AnonHugePages: lots\n");
  EXPECT_EQ(huge_page_bytes_in_smaps(garbage), 0u);
  EXPECT_EQ(resident_huge_page_bytes() % (2u << 20), 0u);  // whole huge pages, or 0
}

TEST(HugePages, ModeIsTheBracketedWord) {
  EXPECT_EQ(huge_page_mode_in("always [madvise] never"), "madvise");
  EXPECT_EQ(huge_page_mode_in("[always] madvise never"), "always");
  EXPECT_EQ(huge_page_mode_in("always madvise [never]"), "never");
  EXPECT_EQ(huge_page_mode_in("always madvise never"), "");
  EXPECT_EQ(huge_page_mode_in(""), "");
  const std::string here = transparent_huge_page_mode();
  EXPECT_TRUE(here.empty() || here == "always" || here == "madvise" || here == "never") << here;
}

}  // namespace
}  // namespace minnow
