#include "cli/synthetic_model.h"

#include <cmath>
#include <cstring>

#include "base/half.h"
#include "base/huge_pages.h"
#include "base/thread_pool.h"
#include "gguf/gguf_writer.h"
#include "model/arch.h"
#include "quant/quant_recipe.h"
#include "quant/quantize.h"

namespace minnow::cli {
namespace {

constexpr SyntheticPreset kPresets[] = {
    // name, arch, n_embd, n_ff, n_layer, n_head, n_head_kv, head_dim, n_vocab, tied
    {"tiny", "qwen2", 256, 512, 2, 4, 2, 0, 1024, true},  // for tests: K-quant rows, seconds to run
    {"qwen2.5-0.5b", "qwen2", 896, 4864, 24, 14, 2, 0, 151936, true},
    {"qwen2.5-1.5b", "qwen2", 1536, 8960, 28, 12, 2, 0, 151936, true},
    {"llama3.2-1b", "llama", 2048, 8192, 16, 32, 8, 0, 128256, true},
    {"llama3.2-3b", "llama", 3072, 8192, 28, 24, 8, 0, 128256, true},
    {"phi3-mini", "phi3", 3072, 8192, 32, 32, 32, 0, 32064, false},
    {"gemma2-2b", "gemma2", 2304, 9216, 26, 8, 4, 256, 256000, true},
    {"mistral-7b", "llama", 4096, 14336, 32, 32, 8, 0, 32000, false},
};

// Where a block keeps its fp16 scale fields, and how large to make them so
// that a row's values have roughly unit variance / sqrt(row length): random
// codes times these scales never overflow in the forward pass.
struct BlockScales {
  GgmlType type;
  uint8_t n_fields;
  uint8_t offset[2];
  float scale;  // times 1/sqrt(row length)
};

constexpr BlockScales kBlockScales[] = {
    {GgmlType::Q4_0, 1, {0, 0}, 0.2f},   {GgmlType::Q4_1, 2, {0, 2}, 0.1f},   {GgmlType::Q5_0, 1, {0, 0}, 0.1f},
    {GgmlType::Q5_1, 2, {0, 2}, 0.05f},  {GgmlType::Q8_0, 1, {0, 0}, 0.013f}, {GgmlType::Q2_K, 2, {80, 82}, 0.05f},
    {GgmlType::Q3_K, 1, {108, 0}, 0.01f}, {GgmlType::Q4_K, 2, {0, 2}, 0.006f}, {GgmlType::Q5_K, 2, {0, 2}, 0.003f},
    {GgmlType::Q6_K, 1, {208, 0}, 0.001f}, {GgmlType::IQ4_NL, 1, {0, 0}, 0.01f}, {GgmlType::IQ4_XS, 1, {0, 0}, 0.01f},
};

// splitmix64: fast, and every chunk gets its own independent stream.
struct Rng {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  float uniform() { return float(next() >> 40) * (1.0f / 16777216.0f) * 2.0f - 1.0f; }  // [-1, 1)
};

// Fills rows [begin, end) of a tensor of `type` with random values.
void fill_rows(GgmlType type, uint64_t ne0, uint64_t row_bytes, uint8_t* data, size_t begin, size_t end,
               uint64_t seed) {
  Rng rng{seed * 0x2545f4914f6cdd1dull + begin};
  const float amp = 1.7f / std::sqrt(float(ne0));  // uniform with std 1/sqrt(ne0)
  for (size_t r = begin; r < end; ++r) {
    uint8_t* row = data + r * row_bytes;
    if (type == GgmlType::F32) {
      for (uint64_t i = 0; i < ne0; ++i) {
        const float v = rng.uniform() * amp;
        std::memcpy(row + 4 * i, &v, 4);
      }
      continue;
    }
    if (type == GgmlType::F16 || type == GgmlType::BF16) {
      for (uint64_t i = 0; i < ne0; ++i) {
        const float v = rng.uniform() * amp;
        const uint16_t h = type == GgmlType::F16 ? float_to_fp16(v) : float_to_bf16(v);
        std::memcpy(row + 2 * i, &h, 2);
      }
      continue;
    }
    for (uint64_t i = 0; i + 8 <= row_bytes; i += 8) {
      const uint64_t bits = rng.next();
      std::memcpy(row + i, &bits, 8);
    }
    for (uint64_t i = row_bytes & ~uint64_t(7); i < row_bytes; ++i) row[i] = uint8_t(rng.next());
    for (const auto& bs : kBlockScales) {
      if (bs.type != type) continue;
      const auto info = *ggml_type_info(type);
      const float d = bs.scale / std::sqrt(float(ne0));
      for (uint64_t b = 0; b < row_bytes; b += info.block_bytes)
        for (int f = 0; f < bs.n_fields; ++f) {
          const uint16_t h = float_to_fp16(d * (0.5f + 0.5f * std::fabs(rng.uniform())));
          std::memcpy(row + b + bs.offset[f], &h, 2);
        }
    }
  }
}

bool writes_blocks_directly(GgmlType t) {
  if (t == GgmlType::F32 || t == GgmlType::F16 || t == GgmlType::BF16) return true;
  for (const auto& bs : kBlockScales)
    if (bs.type == t) return true;
  return false;
}

uint64_t resolve(Dim d, const SyntheticPreset& p) {
  const uint64_t head_dim = p.head_dim ? p.head_dim : p.n_embd / p.n_head;
  switch (d) {
    case Dim::kNone: return 1;
    case Dim::kEmbd: return p.n_embd;
    case Dim::kFf: return p.n_ff;
    case Dim::kFf2: return 2ull * p.n_ff;
    case Dim::kVocab: return p.n_vocab;
    case Dim::kQ: return head_dim * p.n_head;
    case Dim::kKv: return head_dim * p.n_head_kv;
    case Dim::kQkv: return head_dim * (p.n_head + 2ull * p.n_head_kv);
    default: return 0;  // not used by the decoder presets
  }
}

}  // namespace

std::span<const SyntheticPreset> synthetic_presets() { return kPresets; }

Expected<SyntheticModel> make_synthetic_model(std::string_view preset_name, std::string_view quant,
                                              unsigned n_threads) {
  const SyntheticPreset* p = nullptr;
  for (const auto& candidate : kPresets)
    if (candidate.name == preset_name) p = &candidate;
  if (!p) {
    std::string names;
    for (const auto& c : kPresets) names += (names.empty() ? "" : ", ") + std::string(c.name);
    return invalid_argument("unknown preset '" + std::string(preset_name) + "' (known: " + names + ")")
        .with_field("--synthetic");
  }
  std::optional<QuantRecipe> recipe;
  if (quant != "F32") {
    recipe = find_quant_recipe(quant);
    if (!recipe) return invalid_argument("unknown quantization '" + std::string(quant) + "'").with_field("--quant");
  }
  const ArchTraits* traits = find_arch(p->arch);
  if (!traits) return unsupported("preset architecture " + std::string(p->arch) + " is not built in");

  GgufWriter w;
  const std::string a(p->arch);
  w.set("general.architecture", GgufValue::string(a));
  w.set("general.name", GgufValue::string(std::string(p->name) + " (synthetic, random weights)"));
  w.set(a + ".context_length", GgufValue::u32(8192));
  w.set(a + ".embedding_length", GgufValue::u32(p->n_embd));
  w.set(a + ".feed_forward_length", GgufValue::u32(p->n_ff));
  w.set(a + ".block_count", GgufValue::u32(p->n_layer));
  w.set(a + ".attention.head_count", GgufValue::u32(p->n_head));
  w.set(a + ".attention.head_count_kv", GgufValue::u32(p->n_head_kv));
  if (p->head_dim) w.set(a + ".attention.key_length", GgufValue::u32(p->head_dim));
  if (p->head_dim) w.set(a + ".attention.value_length", GgufValue::u32(p->head_dim));
  w.set(a + ".attention.layer_norm_rms_epsilon", GgufValue::f32(1e-6f));
  w.set(a + ".rope.freq_base", GgufValue::f32(10000.0f));

  ModelQuantInfo info{p->n_layer, p->n_head / p->n_head_kv, !p->tied};
  ThreadPool pool(n_threads);
  uint64_t seed = 1;
  for (const TensorSpec& spec : traits->tensors) {
    const bool wanted = spec.required || (spec.role == Role::kOutput && !p->tied);
    if (!wanted) continue;
    for (uint32_t il = 0; il < (spec.per_layer ? p->n_layer : 1); ++il, ++seed) {
      const std::string name = spec.per_layer ? "blk." + std::to_string(il) + "." + spec.name : spec.name;
      std::vector<uint64_t> ne = {resolve(spec.ne0, *p)};
      if (spec.ne1 != Dim::kNone) ne.push_back(resolve(spec.ne1, *p));
      GgmlType type = GgmlType::F32;
      if (recipe && ne.size() == 2) {
        const TensorTypeChoice choice = choose_tensor_type(*recipe, info, name, ne);
        if (choice.quantize) type = choice.type;
      }
      const uint64_t rows = ne.size() == 2 ? ne[1] : 1;
      const auto row_bytes = quantized_size(type, ne[0]);
      if (!row_bytes) return Error(ErrorCode::kInternal, "no row size for " + name);
      std::vector<uint8_t> data(*row_bytes * rows);
      if (ne.size() == 1) {  // norms weigh 1, biases 0
        const float v = std::string_view(spec.name).find("bias") != std::string_view::npos ? 0.0f : 1.0f;
        for (uint64_t i = 0; i < ne[0]; ++i) std::memcpy(data.data() + 4 * i, &v, 4);
      } else if (writes_blocks_directly(type)) {
        pool.parallel_for(rows, [&](size_t b, size_t e) { fill_rows(type, ne[0], *row_bytes, data.data(), b, e, seed); });
      } else {  // a type without known scale fields: quantize random floats
        std::vector<float> values(ne[0] * rows);
        fill_rows(GgmlType::F32, ne[0], ne[0] * 4, reinterpret_cast<uint8_t*>(values.data()), 0, rows, seed);
        MINNOW_TRY(quantize(type, values, data));
      }
      MINNOW_TRY(w.add_tensor(name, type, std::move(ne), std::move(data)));
    }
  }
  SyntheticModel out;
  out.bytes = std::make_shared<std::vector<uint8_t>>(w.take_serialized());
  // The tensors the kernels read in place (those not repacked at load) stay
  // here; the pages of those repacked are dropped as the model copies them.
  collapse_to_huge_pages(out.bytes->data(), out.bytes->size());
  MINNOW_ASSIGN_OR_RETURN(GgufFile file, GgufFile::parse_releasable(*out.bytes, std::string(p->name)));
  MINNOW_ASSIGN_OR_RETURN(out.model, Model::from_file(std::move(file)));
  return out;
}

}  // namespace minnow::cli
