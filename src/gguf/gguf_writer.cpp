#include "gguf/gguf_writer.h"

#include <malloc.h>

#include <type_traits>

#include <cstring>
#include <vector>

#include "base/mapped_file.h"
#include "gguf/gguf_file.h"

namespace minnow {
namespace {

template <class T>
void put(std::vector<uint8_t>& out, T v) {
  uint8_t buf[sizeof(T)];
  std::memcpy(buf, &v, sizeof(T));
  out.insert(out.end(), buf, buf + sizeof(T));
}

void pad_to(std::vector<uint8_t>& out, uint64_t alignment) {
  while (out.size() % alignment != 0) out.push_back(0);
}

}  // namespace

void gguf_encode_string(std::vector<uint8_t>& out, const std::string& s) {
  put<uint64_t>(out, s.size());
  out.insert(out.end(), s.begin(), s.end());
}

void gguf_encode_value(std::vector<uint8_t>& out, const GgufValue& v) {
  switch (v.type()) {
    case GgufValueType::UINT8: put<uint8_t>(out, uint8_t(*v.as_uint())); break;
    case GgufValueType::INT8: put<int8_t>(out, int8_t(*v.as_int())); break;
    case GgufValueType::UINT16: put<uint16_t>(out, uint16_t(*v.as_uint())); break;
    case GgufValueType::INT16: put<int16_t>(out, int16_t(*v.as_int())); break;
    case GgufValueType::UINT32: put<uint32_t>(out, uint32_t(*v.as_uint())); break;
    case GgufValueType::INT32: put<int32_t>(out, int32_t(*v.as_int())); break;
    case GgufValueType::UINT64: put<uint64_t>(out, *v.as_uint()); break;
    case GgufValueType::INT64: put<int64_t>(out, *v.as_int()); break;
    case GgufValueType::FLOAT32: put<float>(out, float(*v.as_double())); break;
    case GgufValueType::FLOAT64: put<double>(out, *v.as_double()); break;
    case GgufValueType::BOOL: put<uint8_t>(out, *v.as_bool() ? 1 : 0); break;
    case GgufValueType::STRING: gguf_encode_string(out, *v.as_string()); break;
    case GgufValueType::ARRAY:
      put<uint32_t>(out, uint32_t(v.array_type()));
      put<uint64_t>(out, v.as_array()->size());
      for (const auto& item : *v.as_array()) gguf_encode_value(out, item);
      break;
  }
}

GgufWriter::GgufWriter(uint32_t alignment) : alignment_(alignment) {
  if (alignment != kGgufDefaultAlignment) set("general.alignment", GgufValue::u32(alignment));
}

void GgufWriter::set(const std::string& key, GgufValue value) {
  for (auto& [k, v] : kv_) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  kv_.emplace_back(key, std::move(value));
}

void GgufWriter::remove(const std::string& key) {
  std::erase_if(kv_, [&](const auto& kv) { return kv.first == key; });
}

Status GgufWriter::add_tensor(const std::string& name, GgmlType type, std::vector<uint64_t> ne,
                              std::vector<uint8_t> data) {
  auto info = ggml_type_info(type);
  if (!info) return invalid_argument("unknown tensor type").with_field(name);
  if (ne.empty() || ne.size() > kGgufMaxDims) return invalid_argument("tensor needs 1..4 dimensions").with_field(name);
  uint64_t n = 1;
  for (uint64_t d : ne) n *= d;
  if (ne[0] % info->block_elems != 0)
    return invalid_argument("row length is not a multiple of the block size").with_field(name);
  const uint64_t expected = n / info->block_elems * info->block_bytes;
  if (data.size() != expected)
    return invalid_argument("data holds " + std::to_string(data.size()) + " bytes, shape needs " +
                            std::to_string(expected))
        .with_field(name);
  for (const auto& t : tensors_)
    if (t.name == name) return invalid_argument("duplicate tensor name").with_field(name);
  tensors_.push_back({name, type, std::move(ne), std::move(data)});
  return Status::success();
}

Status GgufWriter::add_f32_tensor(const std::string& name, std::vector<uint64_t> ne, std::span<const float> values) {
  std::vector<uint8_t> bytes(values.size() * 4);
  if (!values.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
  return add_tensor(name, GgmlType::F32, std::move(ne), std::move(bytes));
}

// Self is const for serialize(); take_serialized() passes a mutable writer,
// which gives up each tensor's data once copied.
template <class Self>
std::vector<uint8_t> GgufWriter::serialize_impl(Self& self) {
  std::vector<uint8_t> out;
  out.reserve(1 << 16);  // the header; also keeps GCC 12's -Wstringop-overflow from misfiring on the first insert
  put<uint32_t>(out, kGgufMagic);
  put<uint32_t>(out, 3);
  put<uint64_t>(out, self.tensors_.size());
  put<uint64_t>(out, self.kv_.size());
  for (const auto& [k, v] : self.kv_) {
    gguf_encode_string(out, k);
    put<uint32_t>(out, uint32_t(v.type()));
    gguf_encode_value(out, v);
  }
  const uint64_t align = self.alignment_;
  uint64_t offset = 0;
  for (const auto& t : self.tensors_) {
    gguf_encode_string(out, t.name);
    put<uint32_t>(out, uint32_t(t.ne.size()));
    for (uint64_t d : t.ne) put<uint64_t>(out, d);
    put<uint32_t>(out, uint32_t(t.type));
    put<uint64_t>(out, offset);
    offset += t.data.size();
    offset = (offset + align - 1) / align * align;
  }
  pad_to(out, self.alignment_);
  out.reserve(out.size() + offset);  // one allocation: growing by doubling held up to 2x the model
  for (auto& t : self.tensors_) {
    out.insert(out.end(), t.data.begin(), t.data.end());
    pad_to(out, self.alignment_);
    if constexpr (!std::is_const_v<Self>) {
      const bool big = t.data.size() >= (1u << 20);
      std::vector<uint8_t>().swap(t.data);
      // Freed chunks inside the heap stay resident until trimmed (the CLI
      // raises glibc's trim threshold for its forward passes).
      if (big) malloc_trim(0);
    }
  }
  if constexpr (!std::is_const_v<Self>) self.tensors_.clear();
  return out;
}

std::vector<uint8_t> GgufWriter::serialize() const { return serialize_impl(*this); }

std::vector<uint8_t> GgufWriter::take_serialized() { return serialize_impl(*this); }

Status GgufWriter::write(const std::string& path) const {
  const std::vector<uint8_t> bytes = serialize();
  return write_file_atomic(path, bytes);
}

}  // namespace minnow
