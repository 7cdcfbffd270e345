#include "quant/quantize.h"

#include <cmath>
#include <string>

#include "quant/block_codecs.h"

namespace minnow {

bool quantize_supported(GgmlType type) { return quant::find_block_codec(type) != nullptr; }

std::optional<size_t> quantized_size(GgmlType type, size_t n_values) {
  auto info = ggml_type_info(type);
  if (!info || n_values % info->block_elems != 0) return std::nullopt;
  return n_values / info->block_elems * info->block_bytes;
}

Status quantize(GgmlType type, std::span<const float> src, std::span<uint8_t> dst) {
  auto info = ggml_type_info(type);
  const quant::BlockCodec* codec = quant::find_block_codec(type);
  if (!info || codec == nullptr)
    return unsupported("quantization to " + std::string(ggml_type_name(type)) + " is not implemented");
  if (src.size() % info->block_elems != 0)
    return invalid_argument("quantize: " + std::to_string(src.size()) + " values is not a whole number of " +
                            std::string(info->name) + " blocks of " + std::to_string(info->block_elems));
  const size_t n_blocks = src.size() / info->block_elems;
  if (dst.size() != n_blocks * info->block_bytes)
    return invalid_argument("quantize: " + std::to_string(src.size()) + " values of " + std::string(info->name) +
                            " need " + std::to_string(n_blocks * info->block_bytes) + " bytes, got " +
                            std::to_string(dst.size()));
  // The scale searches compare and divide; one NaN would silently poison a
  // whole block, so refuse it up front.
  for (size_t i = 0; i < src.size(); ++i)
    if (!std::isfinite(src[i]))
      return invalid_argument("quantize: value " + std::to_string(i) + " is " + (std::isnan(src[i]) ? "NaN" : "infinite") +
                              "; only finite values can be quantized");
  if (n_blocks) codec->quantize(src.data(), dst.data(), n_blocks);
  return Status::success();
}

}  // namespace minnow
