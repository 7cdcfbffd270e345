#include "model/arch.h"

#include <array>

namespace minnow {
namespace {

using D = Dim;
using R = Role;

constexpr TensorSpec kLlama[] = {
    {R::kTokEmbd, "token_embd.weight", D::kEmbd, D::kVocab, false, true},
    {R::kOutputNorm, "output_norm.weight", D::kEmbd, D::kNone, false, true},
    {R::kOutput, "output.weight", D::kEmbd, D::kVocab, false, false},  // absent: tied
    {R::kRopeFreqs, "rope_freqs.weight", D::kRopeHalf, D::kNone, false, false},
    {R::kAttnNorm, "attn_norm.weight", D::kEmbd, D::kNone, true, true},
    {R::kQ, "attn_q.weight", D::kEmbd, D::kQ, true, true},
    {R::kK, "attn_k.weight", D::kEmbd, D::kKv, true, true},
    {R::kV, "attn_v.weight", D::kEmbd, D::kKv, true, true},
    {R::kQB, "attn_q.bias", D::kQ, D::kNone, true, false},
    {R::kKB, "attn_k.bias", D::kKv, D::kNone, true, false},
    {R::kVB, "attn_v.bias", D::kKv, D::kNone, true, false},
    {R::kO, "attn_output.weight", D::kQ, D::kEmbd, true, true},
    {R::kFfnNorm, "ffn_norm.weight", D::kEmbd, D::kNone, true, true},
    {R::kGate, "ffn_gate.weight", D::kEmbd, D::kFf, true, true},
    {R::kUp, "ffn_up.weight", D::kEmbd, D::kFf, true, true},
    {R::kDown, "ffn_down.weight", D::kFf, D::kEmbd, true, true},
};

constexpr TensorSpec kQwen2[] = {
    {R::kTokEmbd, "token_embd.weight", D::kEmbd, D::kVocab, false, true},
    {R::kOutputNorm, "output_norm.weight", D::kEmbd, D::kNone, false, true},
    {R::kOutput, "output.weight", D::kEmbd, D::kVocab, false, false},
    {R::kAttnNorm, "attn_norm.weight", D::kEmbd, D::kNone, true, true},
    {R::kQ, "attn_q.weight", D::kEmbd, D::kQ, true, true},
    {R::kK, "attn_k.weight", D::kEmbd, D::kKv, true, true},
    {R::kV, "attn_v.weight", D::kEmbd, D::kKv, true, true},
    {R::kQB, "attn_q.bias", D::kQ, D::kNone, true, true},
    {R::kKB, "attn_k.bias", D::kKv, D::kNone, true, true},
    {R::kVB, "attn_v.bias", D::kKv, D::kNone, true, true},
    {R::kO, "attn_output.weight", D::kQ, D::kEmbd, true, true},
    {R::kFfnNorm, "ffn_norm.weight", D::kEmbd, D::kNone, true, true},
    {R::kGate, "ffn_gate.weight", D::kEmbd, D::kFf, true, true},
    {R::kUp, "ffn_up.weight", D::kEmbd, D::kFf, true, true},
    {R::kDown, "ffn_down.weight", D::kFf, D::kEmbd, true, true},
};

constexpr TensorSpec kPhi3[] = {
    {R::kTokEmbd, "token_embd.weight", D::kEmbd, D::kVocab, false, true},
    {R::kOutputNorm, "output_norm.weight", D::kEmbd, D::kNone, false, true},
    {R::kOutput, "output.weight", D::kEmbd, D::kVocab, false, true},
    {R::kRopeFactorsShort, "rope_factors_short.weight", D::kRopeHalf, D::kNone, false, false},
    {R::kRopeFactorsLong, "rope_factors_long.weight", D::kRopeHalf, D::kNone, false, false},
    {R::kAttnNorm, "attn_norm.weight", D::kEmbd, D::kNone, true, true},
    {R::kQkv, "attn_qkv.weight", D::kEmbd, D::kQkv, true, true},
    {R::kO, "attn_output.weight", D::kQ, D::kEmbd, true, true},
    {R::kFfnNorm, "ffn_norm.weight", D::kEmbd, D::kNone, true, true},
    {R::kUp, "ffn_up.weight", D::kEmbd, D::kFf2, true, true},  // rows: [gate; up]
    {R::kDown, "ffn_down.weight", D::kFf, D::kEmbd, true, true},
};

constexpr TensorSpec kGemma2[] = {
    {R::kTokEmbd, "token_embd.weight", D::kEmbd, D::kVocab, false, true},
    {R::kOutputNorm, "output_norm.weight", D::kEmbd, D::kNone, false, true},
    {R::kAttnNorm, "attn_norm.weight", D::kEmbd, D::kNone, true, true},
    {R::kQ, "attn_q.weight", D::kEmbd, D::kQ, true, true},
    {R::kK, "attn_k.weight", D::kEmbd, D::kKv, true, true},
    {R::kV, "attn_v.weight", D::kEmbd, D::kKv, true, true},
    {R::kO, "attn_output.weight", D::kQ, D::kEmbd, true, true},
    {R::kPostAttnNorm, "post_attention_norm.weight", D::kEmbd, D::kNone, true, true},
    {R::kFfnNorm, "ffn_norm.weight", D::kEmbd, D::kNone, true, true},
    {R::kGate, "ffn_gate.weight", D::kEmbd, D::kFf, true, true},
    {R::kUp, "ffn_up.weight", D::kEmbd, D::kFf, true, true},
    {R::kDown, "ffn_down.weight", D::kFf, D::kEmbd, true, true},
    {R::kPostFfnNorm, "post_ffw_norm.weight", D::kEmbd, D::kNone, true, true},
};

constexpr TensorSpec kStarcoder2[] = {
    {R::kTokEmbd, "token_embd.weight", D::kEmbd, D::kVocab, false, true},
    {R::kOutputNorm, "output_norm.weight", D::kEmbd, D::kNone, false, true},
    {R::kOutputNormB, "output_norm.bias", D::kEmbd, D::kNone, false, true},
    {R::kOutput, "output.weight", D::kEmbd, D::kVocab, false, false},
    {R::kAttnNorm, "attn_norm.weight", D::kEmbd, D::kNone, true, true},
    {R::kAttnNormB, "attn_norm.bias", D::kEmbd, D::kNone, true, true},
    {R::kQ, "attn_q.weight", D::kEmbd, D::kQ, true, true},
    {R::kK, "attn_k.weight", D::kEmbd, D::kKv, true, true},
    {R::kV, "attn_v.weight", D::kEmbd, D::kKv, true, true},
    {R::kQB, "attn_q.bias", D::kQ, D::kNone, true, true},
    {R::kKB, "attn_k.bias", D::kKv, D::kNone, true, true},
    {R::kVB, "attn_v.bias", D::kKv, D::kNone, true, true},
    {R::kO, "attn_output.weight", D::kQ, D::kEmbd, true, true},
    {R::kOB, "attn_output.bias", D::kEmbd, D::kNone, true, true},
    {R::kFfnNorm, "ffn_norm.weight", D::kEmbd, D::kNone, true, true},
    {R::kFfnNormB, "ffn_norm.bias", D::kEmbd, D::kNone, true, true},
    {R::kUp, "ffn_up.weight", D::kEmbd, D::kFf, true, true},
    {R::kUpB, "ffn_up.bias", D::kFf, D::kNone, true, true},
    {R::kDown, "ffn_down.weight", D::kFf, D::kEmbd, true, true},
    {R::kDownB, "ffn_down.bias", D::kEmbd, D::kNone, true, true},
};

constexpr TensorSpec kBert[] = {
    {R::kTokEmbd, "token_embd.weight", D::kEmbd, D::kVocab, false, true},
    {R::kTokTypes, "token_types.weight", D::kEmbd, D::kTwo, false, true},
    {R::kPosEmbd, "position_embd.weight", D::kEmbd, D::kCtx, false, true},
    {R::kTokEmbdNorm, "token_embd_norm.weight", D::kEmbd, D::kNone, false, true},
    {R::kTokEmbdNormB, "token_embd_norm.bias", D::kEmbd, D::kNone, false, true},
    {R::kQ, "attn_q.weight", D::kEmbd, D::kQ, true, true},
    {R::kQB, "attn_q.bias", D::kQ, D::kNone, true, true},
    {R::kK, "attn_k.weight", D::kEmbd, D::kKv, true, true},
    {R::kKB, "attn_k.bias", D::kKv, D::kNone, true, true},
    {R::kV, "attn_v.weight", D::kEmbd, D::kKv, true, true},
    {R::kVB, "attn_v.bias", D::kKv, D::kNone, true, true},
    {R::kO, "attn_output.weight", D::kQ, D::kEmbd, true, true},
    {R::kOB, "attn_output.bias", D::kEmbd, D::kNone, true, true},
    {R::kAttnOutNorm, "attn_output_norm.weight", D::kEmbd, D::kNone, true, true},
    {R::kAttnOutNormB, "attn_output_norm.bias", D::kEmbd, D::kNone, true, true},
    {R::kUp, "ffn_up.weight", D::kEmbd, D::kFf, true, true},
    {R::kUpB, "ffn_up.bias", D::kFf, D::kNone, true, true},
    {R::kDown, "ffn_down.weight", D::kFf, D::kEmbd, true, true},
    {R::kDownB, "ffn_down.bias", D::kEmbd, D::kNone, true, true},
    {R::kLayerOutNorm, "layer_output_norm.weight", D::kEmbd, D::kNone, true, true},
    {R::kLayerOutNormB, "layer_output_norm.bias", D::kEmbd, D::kNone, true, true},
};

// name, norm, rope, ffn, swa, post_norms, scale_embd, encoder, tensors
constexpr std::array<ArchTraits, 6> kArchs = {{
    {"llama", NormKind::kRms, RopeKind::kNorm, FfnKind::kGatedSilu, SwaLayers::kNone, false, false, false, kLlama},
    {"qwen2", NormKind::kRms, RopeKind::kNeox, FfnKind::kGatedSilu, SwaLayers::kNone, false, false, false, kQwen2},
    {"phi3", NormKind::kRms, RopeKind::kNeox, FfnKind::kFusedGateUpSilu, SwaLayers::kAll, false, false, false, kPhi3},
    {"gemma2", NormKind::kRms, RopeKind::kNeox, FfnKind::kGatedGelu, SwaLayers::kEven, true, true, false, kGemma2},
    {"starcoder2", NormKind::kLayer, RopeKind::kNeox, FfnKind::kGelu, SwaLayers::kNone, false, false, false,
     kStarcoder2},
    {"bert", NormKind::kLayer, RopeKind::kNone, FfnKind::kGelu, SwaLayers::kNone, false, false, true, kBert},
}};

}  // namespace

const ArchTraits* find_arch(std::string_view name) {
  for (const auto& a : kArchs)
    if (a.name == name) return &a;
  return nullptr;
}

const char* supported_arch_list() { return "llama, qwen2, phi3, gemma2, starcoder2, bert"; }

}  // namespace minnow
