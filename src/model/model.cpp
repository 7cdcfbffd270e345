#include "model/model.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <malloc.h>
#include <string_view>

#include "base/thread_pool.h"
#include "quant/dequantize.h"

namespace minnow {
namespace {

uint64_t resolve(Dim d, const ModelHparams& h) {
  switch (d) {
    case Dim::kNone: return 1;
    case Dim::kEmbd: return h.n_embd;
    case Dim::kFf: return h.n_ff;
    case Dim::kFf2: return 2ull * h.n_ff;
    case Dim::kVocab: return h.n_vocab;
    case Dim::kQ: return h.q_dim();
    case Dim::kKv: return h.kv_dim();
    case Dim::kQkv: return h.q_dim() + 2ull * h.kv_dim();
    case Dim::kCtx: return h.n_ctx_train;
    case Dim::kTwo: return 2;
    case Dim::kRopeHalf: return h.rope_dim / 2;
  }
  return 0;
}

std::string shape_str(uint64_t a, uint64_t b, bool one_d) {
  // Appends, not operator+ on a literal: GCC 12 warns falsely (-Wrestrict) about the latter.
  std::string s = "[";
  s += std::to_string(a);
  if (!one_d) {
    s += ", ";
    s += std::to_string(b);
  }
  s += ']';
  return s;
}

std::string layer_name(const TensorSpec& s, uint32_t il) {
  return s.per_layer ? "blk." + std::to_string(il) + "." + s.name : s.name;
}

}  // namespace

Expected<std::shared_ptr<const Model>> Model::load(const std::string& path) {
  MINNOW_ASSIGN_OR_RETURN(GgufFile file, GgufFile::open(path));
  return from_file(std::move(file));
}

Expected<std::shared_ptr<const Model>> Model::from_file(GgufFile file) {
  auto m = std::make_shared<Model>();
  const std::string arch = file.architecture();
  m->traits_ = find_arch(arch);
  if (m->traits_ == nullptr)
    return unsupported("architecture '" + arch + "' is not supported (supported: " + supported_arch_list() + ")")
        .with_file(file.name());
  MINNOW_ASSIGN_OR_RETURN(m->hp_, read_hparams(file));
  ModelHparams& h = m->hp_;
  // The vocabulary size is the embedding's row count; the tokenizer must agree.
  const GgufTensorInfo* embd = file.find_tensor("token_embd.weight");
  if (embd == nullptr || embd->ne.size() != 2)
    return corrupt("missing or ill-shaped tensor token_embd.weight").with_file(file.name());
  if (embd->ne[1] > (1u << 24)) return corrupt("vocabulary larger than 16M tokens").with_file(file.name());
  h.n_vocab = uint32_t(embd->ne[1]);

  m->layers_.resize(h.n_layer);
  std::string problems;
  for (const TensorSpec& spec : m->traits_->tensors) {
    const uint32_t n = spec.per_layer ? h.n_layer : 1;
    for (uint32_t il = 0; il < n; ++il) {
      const std::string name = layer_name(spec, il);
      const GgufTensorInfo* t = file.find_tensor(name);
      const bool one_d = spec.ne1 == Dim::kNone;
      const uint64_t want0 = resolve(spec.ne0, h), want1 = resolve(spec.ne1, h);
      if (t == nullptr) {
        if (spec.required) problems += std::string(problems.empty() ? " " : "; ") + "missing " + name + " " + shape_str(want0, want1, one_d);
        continue;
      }
      const bool shape_ok = one_d ? (t->ne.size() == 1 && t->ne[0] == want0)
                                  : (t->ne.size() == 2 && t->ne[0] == want0 && t->ne[1] == want1);
      if (!shape_ok) {
        std::string got = "[";
        for (size_t i = 0; i < t->ne.size(); ++i) got += (i ? ", " : "") + std::to_string(t->ne[i]);
        problems += std::string(problems.empty() ? " " : "; ") + "" + name + " has shape " + got + "], expected " + shape_str(want0, want1, one_d);
        continue;
      }
      // Norms, biases and factors are read as plain floats.
      if (one_d && t->type != GgmlType::F32) {
        problems += std::string(problems.empty() ? " " : "; ") + "" + name + " must be F32, is " + std::string(ggml_type_name(t->type));
        continue;
      }
      if (!dequantize_supported(t->type)) {
        problems += std::string(problems.empty() ? " " : "; ") + "" + name + " has unsupported type " + std::string(ggml_type_name(t->type));
        continue;
      }
      TensorRef ref;
      ref.data = file.tensor_data(*t).data();
      ref.type = t->type;
      ref.ne0 = t->ne[0];
      ref.ne1 = one_d ? 1 : t->ne[1];
      ref.row_bytes = t->n_bytes / ref.ne1;
      (spec.per_layer ? m->layers_[il][size_t(spec.role)] : m->globals_[size_t(spec.role)]) = ref;
    }
  }
  if (!problems.empty())
    return corrupt("model tensors do not match architecture '" + arch + "':" + problems).with_file(file.name());
  m->file_ = std::move(file);
  m->prepack_weights();
  // Loading freed megabytes of temporaries inside the heap (the CLI raises
  // glibc's trim threshold for its forward passes, so they would stay
  // resident): hand them back before contexts map their KV caches.
  malloc_trim(0);
  return std::shared_ptr<const Model>(std::move(m));
}

// Matrices whose kernels read a panel layout are repacked once here, so that
// decode streams them from memory in that layout and prefill does not pack
// per call. They go to one arena on huge pages (base/huge_pages.h); so do
// the other matrices that matmul reads from a mapped file, copied as they
// are, since a file's page cache rarely comes in 2 MB pages (a synthetic
// model's buffer is collapsed instead). The file's pages of each moved
// matrix are released, so resident memory stays about one copy of the
// weights. MINNOW_PREPACK=0 keeps the file layout and pages (to compare).
void Model::prepack_weights() {
  const char* env = std::getenv("MINNOW_PREPACK");
  if (env && std::string_view(env) == "0") return;
  std::vector<TensorRef*> refs;
  for (TensorRef& ref : globals_) refs.push_back(&ref);
  for (auto& layer : layers_)
    for (TensorRef& ref : layer) refs.push_back(&ref);
  // Tables only looked up by row (an untied token embedding, position and
  // token-type embeddings) stay in the file, where only the rows read are
  // ever paged in.
  const bool copy_rest = file_.is_mapped() && huge_pages_enabled();
  const bool tied = !global(Role::kOutput);
  auto looked_up = [&](const TensorRef& ref) {
    return (&ref == &globals_[size_t(Role::kTokEmbd)] && !tied) || &ref == &globals_[size_t(Role::kPosEmbd)] ||
           &ref == &globals_[size_t(Role::kTokTypes)];
  };
  auto bytes_of = [&](const TensorRef& ref) -> size_t {
    if (const size_t packed = prepacked_bytes(ref)) return packed;
    return copy_rest && ref && !ref.packed && ref.ne1 > 1 && !looked_up(ref) ? size_t(ref.row_bytes * ref.ne1) : 0;
  };
  auto padded = [](size_t bytes) { return (bytes + 63) / 64 * 64; };  // each matrix on a cache line
  size_t total = 0;
  for (const TensorRef* ref : refs) total += padded(bytes_of(*ref));
  if (total == 0) return;
  // Pages are faulted in as they are written, one matrix at a time, while
  // the file's are dropped: the peak stays about one copy of the weights.
  packed_ = allocate_huge_pages(total);
  if (!packed_) return;  // no memory for a second layout: the file's rows still work
  uint8_t* out = packed_.get();
  // Repacking is compute bound (Q3_K ~1.7 GB/s a core): every core takes
  // part, through one pool for the whole load.
  ThreadPool pool;
  for (TensorRef* ref : refs) {
    const size_t bytes = bytes_of(*ref);
    if (bytes == 0) continue;
    const std::span<const uint8_t> file_bytes(ref->data, bytes);
    if (prepacked_bytes(*ref)) {
      prepack_for_kernels(*ref, out, &pool);
    } else {
      std::memcpy(out, ref->data, bytes);
      ref->data = out;
    }
    file_.release_pages(file_bytes);
    out += padded(bytes);
  }
}

const TensorRef& Model::output() const {
  const TensorRef& out = global(Role::kOutput);
  return out ? out : global(Role::kTokEmbd);
}

uint64_t Model::weight_bytes() const {
  uint64_t total = 0;
  for (const auto& t : file_.tensors()) total += t.n_bytes;
  return total;
}

}  // namespace minnow
