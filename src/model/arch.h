// Architectures as data: which tensors a model has, their shapes, and the
// few switches (norm, rope, ffn, windows) that the shared forward pass reads.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace minnow {

// Every tensor a supported model may hold; globals and per-layer alike.
enum class Role : uint8_t {
  kTokEmbd, kTokTypes, kPosEmbd, kTokEmbdNorm, kTokEmbdNormB, kOutputNorm, kOutputNormB, kOutput,
  kRopeFreqs, kRopeFactorsShort, kRopeFactorsLong,
  kAttnNorm, kAttnNormB, kQ, kQB, kK, kKB, kV, kVB, kQkv, kQkvB, kO, kOB, kPostAttnNorm,
  kAttnOutNorm, kAttnOutNormB, kFfnNorm, kFfnNormB, kGate, kUp, kUpB, kDown, kDownB, kPostFfnNorm,
  kLayerOutNorm, kLayerOutNormB,
  kCount,
};
inline constexpr size_t kRoleCount = size_t(Role::kCount);

// Shape symbols, resolved against the hyper-parameters at load time.
enum class Dim : uint8_t { kNone, kEmbd, kFf, kFf2, kVocab, kQ, kKv, kQkv, kCtx, kTwo, kRopeHalf };

struct TensorSpec {
  Role role;
  const char* name;  // "blk.%d." is prefixed for per-layer roles
  Dim ne0, ne1;      // ggml order; ne1 == kNone for 1-D tensors
  bool per_layer;
  bool required;
};

enum class NormKind { kRms, kLayer };
enum class RopeKind { kNone, kNorm, kNeox };
enum class FfnKind { kGatedSilu, kGatedGelu, kGelu, kFusedGateUpSilu };
enum class SwaLayers { kNone, kAll, kEven };

struct ArchTraits {
  std::string_view name;
  NormKind norm;
  RopeKind rope;
  FfnKind ffn;
  SwaLayers swa;          // which layers use the sliding window (when one is set)
  bool post_norms;        // gemma2: norm the attention and FFN outputs too
  bool scale_embd;        // gemma2: embeddings times sqrt(n_embd)
  bool encoder;           // bert: post-norm, bidirectional, pooled
  std::span<const TensorSpec> tensors;
};

// nullptr when the architecture is not supported.
const ArchTraits* find_arch(std::string_view name);
// "llama, qwen2, ..." for error messages.
const char* supported_arch_list();

}  // namespace minnow
