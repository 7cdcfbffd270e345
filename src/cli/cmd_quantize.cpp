// `minnow quantize IN.gguf OUT.gguf TYPE [--threads N]`
//
// Plans every tensor's type from the recipe table (quant/quant_recipe.h),
// writes the header, then streams tensor data into OUT.tmp one tensor at a
// time (rows split across threads) and renames it to OUT only when the file
// is complete and validates. Ctrl-C or any error removes OUT.tmp.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cli/commands.h"
#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "quant/dequantize.h"
#include "quant/quant_recipe.h"
#include "quant/quantize.h"

namespace minnow::cli {
namespace {

constexpr uint32_t kQuantizationVersion = 2;  // ggml's GGML_QNT_VERSION, read by llama.cpp

struct QuantizeOptions {
  std::string in, out, type;
  unsigned threads = 0;  // 0: one per hardware thread
};

struct TensorPlan {
  const GgufTensorInfo* src;
  GgmlType type;        // type written
  bool convert;         // false: bytes copied unchanged
  uint64_t out_bytes;
  uint64_t out_offset;  // within the data section
};

std::atomic<bool> g_interrupted{false};  // set by SIGINT/SIGTERM; workers poll it
extern "C" void on_interrupt(int) { g_interrupted.store(true); }

// Installs the interrupt handler for the life of one quantize run.
class InterruptGuard {
 public:
  InterruptGuard() {
    g_interrupted.store(false);
    old_int_ = std::signal(SIGINT, on_interrupt);
    old_term_ = std::signal(SIGTERM, on_interrupt);
  }
  ~InterruptGuard() {
    std::signal(SIGINT, old_int_);
    std::signal(SIGTERM, old_term_);
  }

 private:
  void (*old_int_)(int);
  void (*old_term_)(int);
};

// Removes the temp file unless released after the final rename.
class TempFile {
 public:
  explicit TempFile(std::string path) : path_(std::move(path)) {}
  ~TempFile() {
    if (file_ != nullptr) std::fclose(file_);
    if (!path_.empty()) std::remove(path_.c_str());
  }
  Status open() {
    file_ = std::fopen(path_.c_str(), "wb");
    if (file_ == nullptr) return io_error(std::string("cannot create: ") + std::strerror(errno)).with_file(path_);
    return Status::success();
  }
  Status write(const void* data, size_t n) {
    if (n != 0 && std::fwrite(data, 1, n, file_) != n) return io_error("write failed (disk full?)").with_file(path_);
    return Status::success();
  }
  Status close() {
    const bool ok = std::fclose(file_) == 0;
    file_ = nullptr;
    return ok ? Status::success() : io_error("write failed (disk full?)").with_file(path_);
  }
  void release() { path_.clear(); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  FILE* file_ = nullptr;
};

ModelQuantInfo model_info(const GgufFile& f) {
  ModelQuantInfo info;
  const std::string arch = f.architecture();
  info.has_output = f.find_tensor("output.weight") != nullptr;
  if (auto n = f.get_int(arch + ".block_count"); n && *n > 0) info.n_layer = uint32_t(*n);
  const auto heads = f.get_int(arch + ".attention.head_count");
  const auto heads_kv = f.get_int(arch + ".attention.head_count_kv");
  if (heads && heads_kv && *heads_kv > 0 && *heads >= *heads_kv) info.n_gqa = uint32_t(*heads / *heads_kv);
  return info;
}

Expected<std::vector<TensorPlan>> plan_tensors(const GgufFile& f, const QuantRecipe& recipe) {
  const ModelQuantInfo info = model_info(f);
  std::vector<TensorPlan> plans;
  uint64_t offset = 0;
  bool warned_requant = false;
  for (const auto& t : f.tensors()) {
    const TensorTypeChoice c = choose_tensor_type(recipe, info, t.name, t.ne);
    TensorPlan p{&t, t.type, false, t.n_bytes, 0};
    if (c.quantize && c.type != t.type) {
      if (!dequantize_supported(t.type))
        return unsupported("cannot read tensors of type " + std::string(ggml_type_name(t.type))).with_field(t.name);
      p.type = c.type;
      p.convert = true;
      p.out_bytes = *quantized_size(c.type, t.n_elements);
      if (!c.note.empty()) std::fprintf(stderr, "minnow: note: %s: %s\n", t.name.c_str(), c.note.c_str());
      const bool src_is_float = t.type == GgmlType::F32 || t.type == GgmlType::F16 || t.type == GgmlType::BF16;
      if (!src_is_float && !warned_requant) {
        std::fprintf(stderr,
                     "minnow: warning: %s is already quantized (%s); requantizing through f32 compounds the "
                     "error; quantize from the F16/F32 original when you can\n",
                     f.name().c_str(), std::string(ggml_type_name(t.type)).c_str());
        warned_requant = true;
      }
    }
    p.out_offset = offset;
    offset = (offset + p.out_bytes + f.alignment() - 1) / f.alignment() * f.alignment();
    plans.push_back(p);
  }
  return plans;
}

std::vector<uint8_t> encode_header(const GgufFile& f, const QuantRecipe& recipe, const std::vector<TensorPlan>& plans) {
  std::vector<std::pair<std::string, GgufValue>> kv;
  for (const auto& [k, v] : f.metadata())
    if (k != "general.file_type" && k != "general.quantization_version") kv.emplace_back(k, v);
  kv.emplace_back("general.quantization_version", GgufValue::u32(kQuantizationVersion));
  kv.emplace_back("general.file_type", GgufValue::u32(recipe.file_type));

  std::vector<uint8_t> out;
  auto put = [&out](auto v) {
    uint8_t buf[sizeof v];
    std::memcpy(buf, &v, sizeof v);
    out.insert(out.end(), buf, buf + sizeof v);
  };
  put(kGgufMagic);
  put(uint32_t(3));
  put(uint64_t(plans.size()));
  put(uint64_t(kv.size()));
  for (const auto& [k, v] : kv) {
    gguf_encode_string(out, k);
    put(uint32_t(v.type()));
    gguf_encode_value(out, v);
  }
  for (const auto& p : plans) {
    gguf_encode_string(out, p.src->name);
    put(uint32_t(p.src->ne.size()));
    for (uint64_t d : p.src->ne) put(d);
    put(uint32_t(p.type));
    put(p.out_offset);
  }
  out.resize((out.size() + f.alignment() - 1) / f.alignment() * f.alignment(), 0);
  return out;
}

// Converts one tensor, rows shared among threads through an atomic cursor.
Status convert_tensor(const GgufFile& f, const TensorPlan& p, unsigned n_threads, std::vector<uint8_t>& out) {
  const GgufTensorInfo& t = *p.src;
  const uint64_t row_len = t.ne[0], n_rows = t.n_rows();
  const uint64_t in_row_bytes = t.n_bytes / n_rows, out_row_bytes = p.out_bytes / n_rows;
  const std::span<const uint8_t> in = f.tensor_data(t);
  out.assign(p.out_bytes, 0);
  // Enough rows per grab that the cursor is not contended, few enough to balance.
  const uint64_t rows_per_grab = std::max<uint64_t>(1, n_rows / (uint64_t(n_threads) * 8));
  std::atomic<uint64_t> next_row{0};
  std::mutex error_mutex;
  std::optional<Error> first_error;
  auto work = [&] {
    std::vector<float> row(row_len);
    for (;;) {
      const uint64_t r0 = next_row.fetch_add(rows_per_grab);
      if (r0 >= n_rows || g_interrupted.load()) return;
      for (uint64_t r = r0; r < std::min(n_rows, r0 + rows_per_grab); ++r) {
        Status s = dequantize(t.type, in.subspan(r * in_row_bytes, in_row_bytes), row);
        if (s.ok()) s = quantize(p.type, row, std::span(out).subspan(r * out_row_bytes, out_row_bytes));
        if (!s.ok()) {
          std::lock_guard lock(error_mutex);
          if (!first_error)
            first_error = Error(s.error().code(), "row " + std::to_string(r) + ": " + s.error().message());
          next_row.store(n_rows);
          return;
        }
      }
    }
  };
  const unsigned n_workers = unsigned(std::min<uint64_t>(n_threads, (n_rows + rows_per_grab - 1) / rows_per_grab));
  std::vector<std::thread> workers;
  for (unsigned i = 1; i < n_workers; ++i) workers.emplace_back(work);
  work();
  for (auto& w : workers) w.join();
  if (first_error) return std::move(*first_error).with_field(t.name);
  if (g_interrupted.load()) return Error(ErrorCode::kInvalidArgument, "interrupted");
  return Status::success();
}

void show_progress(uint64_t done, uint64_t total, const std::string& name) {
  constexpr int kWidth = 30;
  const int filled = total ? int(double(done) / double(total) * kWidth) : kWidth;
  std::fprintf(stderr, "\r[%.*s%*s] %3d%%  %-40.40s", filled, "##############################", kWidth - filled, "",
               total ? int(100.0 * double(done) / double(total)) : 100, name.c_str());
  std::fflush(stderr);
}

int run_quantize(const QuantizeOptions& o) {
  const auto recipe = find_quant_recipe(o.type);
  if (!recipe) {
    std::string names;
    for (const auto& r : quant_recipes()) names += " " + std::string(r.name);
    return report_error(invalid_argument("unknown quantization type '" + o.type + "'; one of:" + names));
  }
  auto file = GgufFile::open(o.in);
  if (!file.ok()) return report_error(file.error());
  const GgufFile& f = *file;
  auto plans = plan_tensors(f, *recipe);
  if (!plans.ok()) return report_error(std::move(plans).error().with_file(o.in));

  InterruptGuard interrupt_guard;
  TempFile tmp(o.out + ".tmp");
  const unsigned n_threads = o.threads ? o.threads : std::max(1u, std::thread::hardware_concurrency());
  const bool tty = isatty(STDERR_FILENO) != 0;
  uint64_t total_elements = 0, done_elements = 0, out_bytes = 0;
  for (const auto& p : *plans) total_elements += p.src->n_elements;

  auto write_all = [&]() -> Status {
    MINNOW_TRY(tmp.open());
    const std::vector<uint8_t> header = encode_header(f, *recipe, *plans);
    MINNOW_TRY(tmp.write(header.data(), header.size()));
    std::vector<uint8_t> data;
    const std::vector<uint8_t> padding(f.alignment(), 0);
    for (const auto& p : *plans) {
      if (tty) show_progress(done_elements, total_elements, p.src->name);
      if (p.convert) {
        MINNOW_TRY(convert_tensor(f, p, n_threads, data));
        MINNOW_TRY(tmp.write(data.data(), data.size()));
      } else {
        const auto bytes = f.tensor_data(*p.src);
        MINNOW_TRY(tmp.write(bytes.data(), bytes.size()));
      }
      if (g_interrupted.load()) return Error(ErrorCode::kInvalidArgument, "interrupted");
      MINNOW_TRY(tmp.write(padding.data(), (f.alignment() - p.out_bytes % f.alignment()) % f.alignment()));
      done_elements += p.src->n_elements;
      out_bytes += p.out_bytes;
    }
    if (tty) show_progress(total_elements, total_elements, "done"), std::fputc('\n', stderr);
    MINNOW_TRY(tmp.close());
    // Read back what was written before it may replace anything.
    auto check = GgufFile::open(tmp.path());
    if (!check.ok()) return Error(ErrorCode::kInternal, "wrote an invalid file: " + check.error().to_string());
    if (std::rename(tmp.path().c_str(), o.out.c_str()) != 0)
      return io_error(std::string("cannot rename into place: ") + std::strerror(errno)).with_file(o.out);
    tmp.release();
    return Status::success();
  };
  Status s = write_all();
  if (!s.ok()) {
    if (tty) std::fputc('\n', stderr);
    Error e = std::move(s).error();
    return report_error(e.file().empty() ? std::move(e).with_file(o.in) : e);
  }
  size_t n_converted = 0;
  for (const auto& p : *plans) n_converted += p.convert;
  std::printf("wrote %s: %s, %zu tensors (%zu converted), %.2f MiB, %.2f bits per weight\n", o.out.c_str(),
              std::string(recipe->name).c_str(), plans->size(), n_converted, double(out_bytes) / (1 << 20),
              total_elements ? 8.0 * double(out_bytes) / double(total_elements) : 0.0);
  return 0;
}

}  // namespace

void add_quantize_command(CLI::App& app, RunFn& run) {
  auto o = std::make_shared<QuantizeOptions>();
  auto* sub = app.add_subcommand("quantize", "convert a GGUF model's weights to another type");
  sub->add_option("in", o->in, "input GGUF file")->required();
  sub->add_option("out", o->out, "output GGUF file (written atomically)")->required();
  sub->add_option("type", o->type,
                  "F16 BF16 Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 Q2_K Q3_K_M Q4_K_M Q5_K_M Q6_K IQ4_NL IQ4_XS")
      ->required();
  sub->add_option("-t,--threads", o->threads, "worker threads (default: all hardware threads)");
  sub->callback([&run, o] { run = [o] { return run_quantize(*o); }; });
}

}  // namespace minnow::cli
