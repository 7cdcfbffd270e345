#include "quant/quant_recipe.h"

#include <array>
#include <charconv>

namespace minnow {
namespace {

using T = GgmlType;

constexpr std::array<QuantRecipe, 14> kRecipes = {{
    {"F16", T::F16, 1, false},       {"BF16", T::BF16, 32, false},    {"Q8_0", T::Q8_0, 7, true},
    {"Q4_0", T::Q4_0, 2, true},      {"Q4_1", T::Q4_1, 3, true},      {"Q5_0", T::Q5_0, 8, true},
    {"Q5_1", T::Q5_1, 9, true},      {"Q2_K", T::Q2_K, 10, true},     {"Q3_K_M", T::Q3_K, 12, true},
    {"Q4_K_M", T::Q4_K, 15, true},   {"Q5_K_M", T::Q5_K, 17, true},   {"Q6_K", T::Q6_K, 18, true},
    {"IQ4_NL", T::IQ4_NL, 25, true}, {"IQ4_XS", T::IQ4_XS, 30, true},
}};

enum class Role { kOutput, kTokenEmbd, kAttnV, kAttnOutput, kAttnQkv, kFfnDown, kOther };

enum class Layers {
  kAll,
  kMoreBits,        // first and last eighth of the layers, and every third one between
  kFirstTwo,
  kFirstSixteenth,
};

struct Rule {
  std::string_view recipe;  // "*" = every mixed recipe
  Role role;
  Layers layers;
  uint32_t min_gqa;  // rule applies when n_head / n_head_kv >= this
  GgmlType type;
};

// The recipe table. First matching row wins; a tensor no row matches gets
// the recipe's base type. Everything not listed (attn_q, attn_k, ffn_gate,
// ffn_up, token_embd) stays at the base type, as in llama.cpp.
//
//  recipe     tensor              layers                  gqa  type
constexpr Rule kRules[] = {
    {"Q8_0",   Role::kOutput,     Layers::kAll,            0, T::Q8_0},  // already above Q6_K
    {"*",      Role::kOutput,     Layers::kAll,            0, T::Q6_K},  // the logits need the bits
    {"Q2_K",   Role::kAttnV,      Layers::kAll,            4, T::Q4_K},  // shared by >= 4 heads
    {"Q2_K",   Role::kAttnV,      Layers::kAll,            0, T::Q3_K},
    {"Q2_K",   Role::kFfnDown,    Layers::kAll,            0, T::Q3_K},
    {"Q2_K",   Role::kAttnOutput, Layers::kAll,            0, T::Q3_K},
    {"Q3_K_M", Role::kAttnV,      Layers::kFirstTwo,       0, T::Q5_K},
    {"Q3_K_M", Role::kAttnV,      Layers::kAll,            0, T::Q4_K},
    {"Q3_K_M", Role::kFfnDown,    Layers::kFirstSixteenth, 0, T::Q5_K},
    {"Q3_K_M", Role::kFfnDown,    Layers::kAll,            0, T::Q4_K},
    {"Q3_K_M", Role::kAttnOutput, Layers::kAll,            0, T::Q4_K},
    {"Q3_K_M", Role::kAttnQkv,    Layers::kAll,            0, T::Q4_K},
    {"Q4_K_M", Role::kAttnV,      Layers::kMoreBits,       0, T::Q6_K},
    {"Q4_K_M", Role::kFfnDown,    Layers::kMoreBits,       0, T::Q6_K},
    {"Q4_K_M", Role::kAttnQkv,    Layers::kAll,            0, T::Q5_K},
    {"Q5_K_M", Role::kAttnV,      Layers::kMoreBits,       0, T::Q6_K},
    {"Q5_K_M", Role::kFfnDown,    Layers::kMoreBits,       0, T::Q6_K},
    {"Q5_K_M", Role::kAttnQkv,    Layers::kAll,            0, T::Q6_K},
    {"IQ4_NL", Role::kAttnV,      Layers::kAll,            4, T::Q5_K},
    {"IQ4_XS", Role::kAttnV,      Layers::kAll,            4, T::Q5_K},
};

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

Role role_of(std::string_view name, bool has_output) {
  if (name == "output.weight" || (!has_output && name == "token_embd.weight")) return Role::kOutput;
  if (name == "token_embd.weight") return Role::kTokenEmbd;
  if (ends_with(name, ".attn_v.weight")) return Role::kAttnV;
  if (ends_with(name, ".attn_output.weight")) return Role::kAttnOutput;
  if (ends_with(name, ".attn_qkv.weight")) return Role::kAttnQkv;
  if (ends_with(name, ".ffn_down.weight")) return Role::kFfnDown;
  return Role::kOther;
}

// "blk.12.ffn_down.weight" -> 12; -1 when the name has no layer.
int layer_of(std::string_view name) {
  if (name.substr(0, 4) != "blk.") return -1;
  int layer = -1;
  auto [p, ec] = std::from_chars(name.data() + 4, name.data() + name.size(), layer);
  return ec == std::errc() && p < name.data() + name.size() && *p == '.' ? layer : -1;
}

bool layer_matches(Layers which, int layer, int n_layer) {
  switch (which) {
    case Layers::kAll: return true;
    case Layers::kFirstTwo: return layer >= 0 && layer < 2;
    case Layers::kFirstSixteenth: return layer >= 0 && layer < n_layer / 16;
    case Layers::kMoreBits:
      return layer >= 0 && (layer < n_layer / 8 || layer >= 7 * n_layer / 8 || (layer - n_layer / 8) % 3 == 2);
  }
  return false;
}

// Only weight matrices are quantized; norms, biases and small lookup
// tables stay as they are (llama.cpp skips the same names).
bool is_quantizable(std::string_view name, std::span<const uint64_t> ne) {
  if (ne.size() < 2 || !ends_with(name, "weight")) return false;
  for (std::string_view skip : {"_norm.weight", "ffn_gate_inp.weight", "position_embd", "token_types"})
    if (name.find(skip) != std::string_view::npos) return false;
  return true;
}

uint32_t block_elems(GgmlType t) { return ggml_type_info(t)->block_elems; }

// A row length the chosen type cannot hold: step to a type with 32-element
// blocks and similar bits, as llama.cpp does, else F16.
GgmlType compatible_type(GgmlType t, uint64_t row) {
  if (row % block_elems(t) == 0) return t;
  switch (t) {
    case T::Q2_K: case T::Q3_K: case T::IQ4_XS: t = T::IQ4_NL; break;
    case T::Q4_K: t = T::Q5_0; break;
    case T::Q5_K: t = T::Q5_1; break;
    case T::Q6_K: t = T::Q8_0; break;
    default: break;
  }
  return row % block_elems(t) == 0 ? t : T::F16;
}

}  // namespace

std::span<const QuantRecipe> quant_recipes() { return kRecipes; }

std::optional<QuantRecipe> find_quant_recipe(std::string_view name) {
  for (const auto& r : kRecipes)
    if (r.name == name) return r;
  return std::nullopt;
}

TensorTypeChoice choose_tensor_type(const QuantRecipe& recipe, const ModelQuantInfo& model, std::string_view name,
                                    std::span<const uint64_t> ne) {
  TensorTypeChoice choice;
  if (!is_quantizable(name, ne)) return choice;
  choice.quantize = true;
  choice.type = recipe.base;
  if (recipe.mixed) {
    const Role role = role_of(name, model.has_output);
    const int layer = layer_of(name);
    for (const Rule& rule : kRules) {
      if ((rule.recipe != "*" && rule.recipe != recipe.name) || rule.role != role) continue;
      if (model.n_gqa < rule.min_gqa || !layer_matches(rule.layers, layer, int(model.n_layer))) continue;
      choice.type = rule.type;
      break;
    }
  }
  const GgmlType wanted = choice.type;
  choice.type = compatible_type(wanted, ne[0]);
  if (choice.type != wanted)
    choice.note = "row length " + std::to_string(ne[0]) + " is not a multiple of " +
                  std::to_string(block_elems(wanted)) + ", using " + std::string(ggml_type_name(choice.type)) +
                  " instead of " + std::string(ggml_type_name(wanted));
  return choice;
}

}  // namespace minnow
