#include "quant/dequantize.h"

#include <string>

#include "quant/block_codecs.h"

namespace minnow {

bool dequantize_supported(GgmlType type) { return quant::find_block_codec(type) != nullptr; }

Status dequantize(GgmlType type, std::span<const uint8_t> src, std::span<float> dst) {
  auto info = ggml_type_info(type);
  const quant::BlockCodec* codec = quant::find_block_codec(type);
  if (!info || codec == nullptr)
    return unsupported("dequantization of " + std::string(ggml_type_name(type)) + " is not implemented");
  if (dst.size() % info->block_elems != 0)
    return invalid_argument("dequantize: " + std::to_string(dst.size()) + " values is not a whole number of " +
                            std::string(info->name) + " blocks of " + std::to_string(info->block_elems));
  const size_t n_blocks = dst.size() / info->block_elems;
  if (src.size() != n_blocks * info->block_bytes)
    return invalid_argument("dequantize: " + std::to_string(dst.size()) + " " + std::string(info->name) +
                            " values need " + std::to_string(n_blocks * info->block_bytes) + " bytes, got " +
                            std::to_string(src.size()));
  if (n_blocks) codec->dequantize(src.data(), dst.data(), n_blocks);
  return Status::success();
}

}  // namespace minnow
