#include "base/huge_pages.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
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

}  // namespace
}  // namespace minnow
