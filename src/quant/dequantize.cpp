#include "quant/dequantize.h"

#include <cstring>
#include <string>

#include "base/half.h"

namespace minnow {
namespace {

template <class T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

}  // namespace

bool dequantize_supported(GgmlType type) {
  switch (type) {
    case GgmlType::F32: case GgmlType::F16: case GgmlType::BF16: return true;
    default: return false;
  }
}

Status dequantize(GgmlType type, std::span<const uint8_t> src, std::span<float> dst) {
  auto info = ggml_type_info(type);
  if (!info || !dequantize_supported(type))
    return unsupported(std::string("dequantization of ") + std::string(ggml_type_name(type)) + " is not implemented");
  if (dst.size() % info->block_elems != 0 || src.size() != dst.size() / info->block_elems * info->block_bytes)
    return invalid_argument("dequantize: source and destination sizes disagree");
  const uint8_t* s = src.data();
  const size_t n = dst.size();
  switch (type) {
    case GgmlType::F32: if (n) std::memcpy(dst.data(), s, n * 4); break;
    case GgmlType::F16: for (size_t i = 0; i < n; ++i) dst[i] = fp16_to_float(load<uint16_t>(s + 2 * i)); break;
    case GgmlType::BF16: for (size_t i = 0; i < n; ++i) dst[i] = bf16_to_float(load<uint16_t>(s + 2 * i)); break;
    default: break;
  }
  return Status::success();
}

}  // namespace minnow
