// libFuzzer entry for the block codecs: the first byte picks a type, the rest
// are blocks of it. Any bytes must dequantize without a crash or undefined
// behaviour, and the finite results must quantize back.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "quant/dequantize.h"
#include "quant/quantize.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using minnow::GgmlType;
  static const GgmlType kTypes[] = {GgmlType::F32,  GgmlType::F16,  GgmlType::BF16,   GgmlType::Q4_0,
                                    GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1,   GgmlType::Q8_0,
                                    GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::Q4_K,   GgmlType::Q5_K,
                                    GgmlType::Q6_K, GgmlType::Q8_K, GgmlType::IQ4_NL, GgmlType::IQ4_XS};
  if (size < 1) return 0;
  const GgmlType type = kTypes[data[0] % (sizeof kTypes / sizeof kTypes[0])];
  const auto info = minnow::ggml_type_info(type);
  // A few blocks find what many would; more only slow the (sanitized) search.
  const size_t n_blocks = std::min<size_t>((size - 1) / info->block_bytes, 8);
  std::vector<float> values(n_blocks * info->block_elems);
  if (!minnow::dequantize(type, {data + 1, n_blocks * info->block_bytes}, values).ok()) __builtin_trap();
  for (float& v : values)
    if (!std::isfinite(v)) v = 0.0f;
  std::vector<uint8_t> bytes(n_blocks * info->block_bytes);
  if (!minnow::quantize(type, values, bytes).ok()) __builtin_trap();
  return 0;
}
