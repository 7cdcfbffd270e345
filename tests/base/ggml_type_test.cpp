#include "base/ggml_type.h"

#include <gtest/gtest.h>

namespace minnow {
namespace {

TEST(GgmlType, BlockGeometryMatchesGgml) {
  EXPECT_EQ(ggml_type_info(GgmlType::Q4_K)->block_bytes, 144u);
  EXPECT_EQ(ggml_type_info(GgmlType::Q6_K)->block_bytes, 210u);
  EXPECT_EQ(ggml_type_info(GgmlType::IQ4_XS)->block_bytes, 136u);
  EXPECT_EQ(ggml_type_info(GgmlType::Q8_0)->block_elems, 32u);
  EXPECT_FALSE(ggml_type_info(4u).has_value());   // retired Q4_2
  EXPECT_FALSE(ggml_type_info(31u).has_value());  // retired Q4_0_4_4
  EXPECT_EQ(ggml_type_from_name("IQ4_NL"), GgmlType::IQ4_NL);
  EXPECT_EQ(ggml_type_name(GgmlType::BF16), "BF16");
}

}  // namespace
}  // namespace minnow
