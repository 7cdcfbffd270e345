#include "base/status.h"

#include <gtest/gtest.h>

namespace minnow {
namespace {

Expected<int> parse_positive(int v) {
  if (v <= 0) return out_of_range("must be positive").with_field("n").with_offset(12);
  return v;
}

Expected<int> doubled(int v) {
  MINNOW_ASSIGN_OR_RETURN(int x, parse_positive(v));
  return 2 * x;
}

Status check(int v) {
  MINNOW_TRY(parse_positive(v));
  return Status::success();
}

TEST(Status, ErrorCarriesFileFieldAndOffset) {
  Error e = corrupt("bad magic").with_file("m.gguf").with_field("header").with_offset(0);
  EXPECT_EQ(e.to_string(), "m.gguf: header: bad magic (offset 0)");
  EXPECT_EQ(e.code(), ErrorCode::kCorrupt);
  EXPECT_EQ(invalid_argument("x").to_string(), "x");
}

TEST(Status, PropagatesThroughMacros) {
  EXPECT_EQ(doubled(4).value(), 8);
  auto bad = doubled(-1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().to_string(), "n: must be positive (offset 12)");
  EXPECT_TRUE(check(3).ok());
  EXPECT_EQ(check(0).error().code(), ErrorCode::kOutOfRange);
}

}  // namespace
}  // namespace minnow
