// `minnow inspect FILE [--json] [--tensor NAME --dequant OUT.f32]`
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "base/mapped_file.h"
#include "cli/commands.h"
#include "gguf/gguf_file.h"
#include "quant/dequantize.h"

namespace minnow::cli {
namespace {

struct InspectOptions {
  std::string file;
  bool json = false;
  std::string tensor;
  std::string dequant_out;
};

struct Summary {
  uint64_t params = 0;
  uint64_t bytes = 0;
  double bits_per_weight() const { return params ? 8.0 * double(bytes) / double(params) : 0.0; }
};

Summary summarize(const GgufFile& f) {
  Summary s;
  for (const auto& t : f.tensors()) {
    s.params += t.n_elements;
    s.bytes += t.n_bytes;
  }
  return s;
}

std::string shape_string(const GgufTensorInfo& t) {
  std::string s = "[";
  for (size_t i = 0; i < t.ne.size(); ++i) s += (i ? ", " : "") + std::to_string(t.ne[i]);
  return s + "]";
}

std::string human_count(double v, const char* const units[], double step) {
  int u = 0;
  while (v >= step && units[u + 1] != nullptr) {
    v /= step;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.2f %s", v, units[u]);
  return buf;
}

std::string human_bytes(uint64_t b) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", nullptr};
  return human_count(double(b), kUnits, 1024.0);
}

std::string human_params(uint64_t n) {
  static const char* const kUnits[] = {"", "K", "M", "B", "T", nullptr};
  return human_count(double(n), kUnits, 1000.0);
}

nlohmann::json value_to_json(const GgufValue& v) {
  switch (v.type()) {
    case GgufValueType::BOOL: return *v.as_bool();
    // Invalid UTF-8 in strings is replaced when the document is dumped.
    case GgufValueType::STRING: return *v.as_string();
    case GgufValueType::FLOAT32: case GgufValueType::FLOAT64: return *v.as_double();
    case GgufValueType::ARRAY: {
      auto arr = nlohmann::json::array();
      for (const auto& item : *v.as_array()) arr.push_back(value_to_json(item));
      return arr;
    }
    default:
      if (auto i = v.as_int()) return *i;
      return *v.as_uint();
  }
}

int print_json(const GgufFile& f) {
  const Summary s = summarize(f);
  nlohmann::json j;
  j["file"] = f.name();
  j["version"] = f.version();
  j["alignment"] = f.alignment();
  j["data_offset"] = f.data_offset();
  j["architecture"] = f.architecture();
  j["n_params"] = s.params;
  j["tensor_bytes"] = s.bytes;
  j["bits_per_weight"] = s.bits_per_weight();
  auto& md = j["metadata"] = nlohmann::json::object();
  for (const auto& [k, v] : f.metadata()) md[k] = {{"type", gguf_value_type_name(v.type())}, {"value", value_to_json(v)}};
  auto& ts = j["tensors"] = nlohmann::json::array();
  for (const auto& t : f.tensors())
    ts.push_back({{"name", t.name}, {"type", ggml_type_name(t.type)}, {"ne", t.ne},
                  {"n_bytes", t.n_bytes}, {"offset", f.data_offset() + t.offset}});
  std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  return 0;
}

int print_human(const GgufFile& f) {
  const Summary s = summarize(f);
  std::printf("file:          %s\n", f.name().c_str());
  std::printf("format:        GGUF v%u, alignment %llu, %zu metadata keys, %zu tensors\n", f.version(),
              (unsigned long long)f.alignment(), f.metadata().size(), f.tensors().size());
  const std::string arch = f.architecture();
  std::printf("architecture:  %s\n", arch.empty() ? "(none)" : arch.c_str());
  if (auto name = f.get_string("general.name")) std::printf("name:          %s\n", name->c_str());
  std::printf("parameters:    %s\n", human_params(s.params).c_str());
  std::printf("tensor data:   %s (%.2f bits per weight)\n", human_bytes(s.bytes).c_str(), s.bits_per_weight());

  size_t key_width = 3;
  for (const auto& kv : f.metadata()) key_width = std::max(key_width, kv.first.size());
  std::printf("\nmetadata\n");
  for (const auto& [k, v] : f.metadata())
    std::printf("  %-*s  %-4s  %s\n", int(key_width), k.c_str(), gguf_value_type_name(v.type()), v.to_display().c_str());

  size_t name_width = 4, shape_width = 5;
  for (const auto& t : f.tensors()) {
    name_width = std::max(name_width, t.name.size());
    shape_width = std::max(shape_width, shape_string(t).size());
  }
  std::printf("\ntensors\n  %-*s  %-7s  %-*s  %12s  %12s\n", int(name_width), "name", "type", int(shape_width), "shape",
              "bytes", "offset");
  for (const auto& t : f.tensors())
    std::printf("  %-*s  %-7s  %-*s  %12llu  %12llu\n", int(name_width), t.name.c_str(),
                std::string(ggml_type_name(t.type)).c_str(), int(shape_width), shape_string(t).c_str(),
                (unsigned long long)t.n_bytes, (unsigned long long)(f.data_offset() + t.offset));
  return 0;
}

int dump_tensor(const GgufFile& f, const InspectOptions& o) {
  const GgufTensorInfo* t = f.find_tensor(o.tensor);
  if (t == nullptr) return report_error(invalid_argument("no tensor named '" + o.tensor + "'").with_file(f.name()));
  std::vector<float> values(size_t(t->n_elements));
  Status s = dequantize(t->type, f.tensor_data(*t), values);
  if (!s.ok()) return report_error(std::move(s).error().with_file(f.name()).with_field(t->name));
  const auto* p = reinterpret_cast<const uint8_t*>(values.data());
  s = write_file_atomic(o.dequant_out, {p, values.size() * sizeof(float)});
  if (!s.ok()) return report_error(s.error());
  std::printf("wrote %s: %llu f32 values of %s (%s)\n", o.dequant_out.c_str(), (unsigned long long)t->n_elements,
              t->name.c_str(), std::string(ggml_type_name(t->type)).c_str());
  return 0;
}

int run_inspect(const InspectOptions& o) {
  auto file = GgufFile::open(o.file);
  if (!file.ok()) return report_error(file.error());
  if (!o.dequant_out.empty() || !o.tensor.empty()) {
    if (o.dequant_out.empty() || o.tensor.empty())
      return report_error(invalid_argument("--tensor and --dequant go together"));
    return dump_tensor(*file, o);
  }
  return o.json ? print_json(*file) : print_human(*file);
}

}  // namespace

void add_inspect_command(CLI::App& app, RunFn& run) {
  auto o = std::make_shared<InspectOptions>();
  auto* sub = app.add_subcommand("inspect", "validate a GGUF file and print its metadata and tensors");
  sub->add_option("file", o->file, "GGUF file")->required();
  sub->add_flag("--json", o->json, "machine-readable output");
  sub->add_option("--tensor", o->tensor, "tensor to dump (with --dequant)");
  sub->add_option("--dequant", o->dequant_out, "write the tensor as raw little-endian f32 to this path");
  sub->callback([&run, o] { run = [o] { return run_inspect(*o); }; });
}

}  // namespace minnow::cli
