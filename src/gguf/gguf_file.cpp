#include "gguf/gguf_file.h"

#include <algorithm>
#include <cstring>

#include "base/checked_math.h"

namespace minnow {

// Reads the header, metadata and tensor infos with a bounds-checked cursor.
// Every count is checked against the bytes that remain before anything is
// allocated for it, so a hostile count cannot make us reserve gigabytes.
class GgufParser {
 public:
  GgufParser(std::span<const uint8_t> bytes, GgufFile& out) : b_(bytes), f_(out) {}

  Status run() {
    MINNOW_TRY(parse_header());
    MINNOW_TRY(parse_metadata());
    MINNOW_TRY(parse_tensor_infos());
    return check_data_section();
  }

 private:
  uint64_t remaining() const { return b_.size() - pos_; }

  Error fail(std::string what, uint64_t at) const { return corrupt(std::move(what)).with_offset(at); }

  template <class T>
  Expected<T> read_scalar(const char* what) {
    if (remaining() < sizeof(T)) return fail(std::string("truncated while reading ") + what, pos_);
    T v;
    std::memcpy(&v, b_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }

  Expected<std::string> read_string(const char* what) {
    const uint64_t at = pos_;
    MINNOW_ASSIGN_OR_RETURN(uint64_t len, read_scalar<uint64_t>(what));
    if (len > remaining())
      return fail(std::string(what) + " length " + std::to_string(len) + " exceeds the file", at);
    std::string s(reinterpret_cast<const char*>(b_.data() + pos_), size_t(len));
    pos_ += len;
    return s;
  }

  Status parse_header() {
    MINNOW_ASSIGN_OR_RETURN(uint32_t magic, read_scalar<uint32_t>("magic"));
    if (magic != kGgufMagic) return fail("not a GGUF file (bad magic)", 0);
    MINNOW_ASSIGN_OR_RETURN(uint32_t version, read_scalar<uint32_t>("version"));
    // A big-endian file stores version 3 as 0x03000000: the low half is zero.
    if ((version & 0xffff) == 0 && version != 0)
      return unsupported("big-endian GGUF is not supported").with_offset(4);
    if (version == 1) return unsupported("GGUF version 1 is not supported (re-convert the model)").with_offset(4);
    if (version != 2 && version != 3)
      return unsupported("unknown GGUF version " + std::to_string(version)).with_offset(4);
    f_.version_ = version;
    MINNOW_ASSIGN_OR_RETURN(n_tensors_, read_scalar<uint64_t>("tensor count"));
    MINNOW_ASSIGN_OR_RETURN(n_kv_, read_scalar<uint64_t>("metadata count"));
    // Each metadata pair needs >= 13 bytes (key length, type, 1-byte value);
    // each tensor info >= 8+4+8+4+8 bytes. Reject impossible counts up front.
    if (n_kv_ > remaining() / 13) return fail("metadata count " + std::to_string(n_kv_) + " exceeds the file", 16);
    if (n_tensors_ > remaining() / 32)
      return fail("tensor count " + std::to_string(n_tensors_) + " exceeds the file", 8);
    return Status::success();
  }

  Expected<GgufValue> read_value(GgufValueType type, int depth, const std::string& key) {
    const uint64_t at = pos_;
    switch (type) {
      case GgufValueType::UINT8: { MINNOW_ASSIGN_OR_RETURN(auto v, read_scalar<uint8_t>(key.c_str())); return GgufValue::u8(v); }
      case GgufValueType::INT8: { MINNOW_ASSIGN_OR_RETURN(auto v, read_scalar<int8_t>(key.c_str())); return GgufValue::i8(v); }
      case GgufValueType::UINT16: { MINNOW_ASSIGN_OR_RETURN(auto v, read_scalar<uint16_t>(key.c_str())); return GgufValue::u16(v); }
      case GgufValueType::INT16: { MINNOW_ASSIGN_OR_RETURN(auto v, read_scalar<int16_t>(key.c_str())); return GgufValue::i16(v); }
      case GgufValueType::UINT32: { MINNOW_ASSIGN_OR_RETURN(auto v, read_scalar<uint32_t>(key.c_str())); return GgufValue::u32(v); }
      case GgufValueType::INT32: { MINNOW_ASSIGN_OR_RETURN(auto v, read_scalar<int32_t>(key.c_str())); return GgufValue::i32(v); }
      case GgufValueType::UINT64: { MINNOW_ASSIGN_OR_RETURN(auto v, read_scalar<uint64_t>(key.c_str())); return GgufValue::u64(v); }
      case GgufValueType::INT64: { MINNOW_ASSIGN_OR_RETURN(auto v, read_scalar<int64_t>(key.c_str())); return GgufValue::i64(v); }
      case GgufValueType::FLOAT32: { MINNOW_ASSIGN_OR_RETURN(auto v, read_scalar<float>(key.c_str())); return GgufValue::f32(v); }
      case GgufValueType::FLOAT64: { MINNOW_ASSIGN_OR_RETURN(auto v, read_scalar<double>(key.c_str())); return GgufValue::f64(v); }
      case GgufValueType::BOOL: {
        MINNOW_ASSIGN_OR_RETURN(auto v, read_scalar<uint8_t>(key.c_str()));
        if (v > 1) return fail("bool value " + std::to_string(v) + " is neither 0 nor 1", at).with_field(key);
        return GgufValue::boolean(v != 0);
      }
      case GgufValueType::STRING: {
        MINNOW_ASSIGN_OR_RETURN(auto s, read_string(key.c_str()));
        return GgufValue::string(std::move(s));
      }
      case GgufValueType::ARRAY: return read_array(depth, key);
    }
    return fail("unknown value type", at).with_field(key);
  }

  Expected<GgufValue> read_array(int depth, const std::string& key) {
    const uint64_t at = pos_;
    if (depth >= kGgufMaxArrayNesting)
      return fail("arrays nested deeper than " + std::to_string(kGgufMaxArrayNesting), at).with_field(key);
    MINNOW_ASSIGN_OR_RETURN(uint32_t raw_type, read_scalar<uint32_t>("array type"));
    if (!gguf_value_type_known(raw_type))
      return fail("unknown array element type " + std::to_string(raw_type), at).with_field(key);
    const auto elem = GgufValueType(raw_type);
    MINNOW_ASSIGN_OR_RETURN(uint64_t n, read_scalar<uint64_t>("array length"));
    // Strings need 8 bytes each, nested arrays 12, scalars their size.
    const uint64_t min_elem = elem == GgufValueType::STRING ? 8 : elem == GgufValueType::ARRAY ? 12 : gguf_scalar_size(elem);
    if (n > remaining() / min_elem)
      return fail("array length " + std::to_string(n) + " exceeds the file", at + 4).with_field(key);
    GgufValue::Array items;
    items.reserve(size_t(n));
    for (uint64_t i = 0; i < n; ++i) {
      MINNOW_ASSIGN_OR_RETURN(auto v, read_value(elem, depth + 1, key));
      items.push_back(std::move(v));
    }
    return GgufValue::array(elem, std::move(items));
  }

  Status parse_metadata() {
    f_.kv_.reserve(size_t(n_kv_));
    for (uint64_t i = 0; i < n_kv_; ++i) {
      const uint64_t at = pos_;
      MINNOW_ASSIGN_OR_RETURN(std::string key, read_string("metadata key"));
      if (key.empty()) return fail("empty metadata key", at);
      if (f_.kv_index_.count(key)) return fail("duplicate metadata key", at).with_field(key);
      const uint64_t type_at = pos_;
      MINNOW_ASSIGN_OR_RETURN(uint32_t raw_type, read_scalar<uint32_t>("value type"));
      if (!gguf_value_type_known(raw_type))
        return fail("unknown value type " + std::to_string(raw_type), type_at).with_field(key);
      MINNOW_ASSIGN_OR_RETURN(GgufValue value, read_value(GgufValueType(raw_type), 0, key));
      f_.kv_index_.emplace(key, f_.kv_.size());
      f_.kv_.emplace_back(std::move(key), std::move(value));
    }
    if (const GgufValue* a = f_.find("general.alignment")) {
      auto v = a->as_uint();
      if (a->type() != GgufValueType::UINT32 || !v || !is_power_of_two(*v))
        return corrupt("must be a power-of-two u32").with_field("general.alignment");
      f_.alignment_ = *v;
    }
    return Status::success();
  }

  Status parse_tensor_infos() {
    f_.tensors_.reserve(size_t(n_tensors_));
    for (uint64_t i = 0; i < n_tensors_; ++i) {
      GgufTensorInfo t;
      t.info_offset = pos_;
      MINNOW_ASSIGN_OR_RETURN(t.name, read_string("tensor name"));
      if (t.name.empty()) return fail("empty tensor name", t.info_offset);
      if (t.name.size() > kGgufMaxTensorName)
        return fail("tensor name longer than " + std::to_string(kGgufMaxTensorName) + " bytes", t.info_offset);
      if (f_.tensor_index_.count(t.name)) return fail("duplicate tensor name", t.info_offset).with_field(t.name);
      const uint64_t dims_at = pos_;
      MINNOW_ASSIGN_OR_RETURN(uint32_t n_dims, read_scalar<uint32_t>("n_dims"));
      if (n_dims == 0 || n_dims > kGgufMaxDims)
        return fail("n_dims " + std::to_string(n_dims) + " not in 1..4", dims_at).with_field(t.name);
      uint64_t n_elements = 1;
      for (uint32_t d = 0; d < n_dims; ++d) {
        const uint64_t at = pos_;
        MINNOW_ASSIGN_OR_RETURN(uint64_t dim, read_scalar<uint64_t>("dimension"));
        if (dim == 0) return fail("dimension " + std::to_string(d) + " is zero", at).with_field(t.name);
        // ggml indexes with int64_t: every count must stay below 2^63.
        auto prod = checked_mul(n_elements, dim);
        if (!prod || *prod > uint64_t(INT64_MAX)) return fail("element count overflows", at).with_field(t.name);
        n_elements = *prod;
        t.ne.push_back(dim);
      }
      t.n_elements = n_elements;
      const uint64_t type_at = pos_;
      MINNOW_ASSIGN_OR_RETURN(uint32_t raw_type, read_scalar<uint32_t>("tensor type"));
      auto info = ggml_type_info(raw_type);
      if (!info) return fail("unknown ggml type id " + std::to_string(raw_type), type_at).with_field(t.name);
      t.type = info->type;
      if (t.ne[0] % info->block_elems != 0)
        return fail("row length " + std::to_string(t.ne[0]) + " is not a multiple of the " + std::string(info->name) +
                        " block size " + std::to_string(info->block_elems),
                    dims_at)
            .with_field(t.name);
      auto bytes = checked_mul(n_elements / info->block_elems, info->block_bytes);
      if (!bytes) return fail("byte size overflows", dims_at).with_field(t.name);
      t.n_bytes = *bytes;
      const uint64_t off_at = pos_;
      MINNOW_ASSIGN_OR_RETURN(t.offset, read_scalar<uint64_t>("tensor offset"));
      if (t.offset % f_.alignment_ != 0)
        return fail("data offset " + std::to_string(t.offset) + " is not aligned to " + std::to_string(f_.alignment_),
                    off_at)
            .with_field(t.name);
      f_.tensor_index_.emplace(t.name, f_.tensors_.size());
      f_.tensors_.push_back(std::move(t));
    }
    return Status::success();
  }

  Status check_data_section() {
    auto data = checked_align_up(pos_, f_.alignment_);
    if (!data) return fail("data section offset overflows", pos_);
    f_.data_offset_ = *data;
    if (f_.tensors_.empty()) return Status::success();
    if (*data > b_.size()) return fail("file ends before the tensor data section", b_.size());
    const uint64_t data_size = b_.size() - *data;
    // Trailing bytes after the last tensor are tolerated, as llama.cpp does.
    std::vector<const GgufTensorInfo*> by_offset;
    for (const auto& t : f_.tensors_) {
      auto end = checked_add(t.offset, t.n_bytes);
      if (!end || *end > data_size)
        return fail("tensor data [" + std::to_string(t.offset) + ", +" + std::to_string(t.n_bytes) +
                        ") runs past the end of the file (data section holds " + std::to_string(data_size) + " bytes)",
                    t.info_offset)
            .with_field(t.name);
      by_offset.push_back(&t);
    }
    std::sort(by_offset.begin(), by_offset.end(),
              [](const auto* a, const auto* b) { return a->offset < b->offset; });
    for (size_t i = 1; i < by_offset.size(); ++i) {
      const auto* prev = by_offset[i - 1];
      if (prev->offset + prev->n_bytes > by_offset[i]->offset)
        return fail("tensor data overlaps tensor '" + prev->name + "'", by_offset[i]->info_offset)
            .with_field(by_offset[i]->name);
    }
    return Status::success();
  }

  std::span<const uint8_t> b_;
  GgufFile& f_;
  uint64_t pos_ = 0;
  uint64_t n_tensors_ = 0;
  uint64_t n_kv_ = 0;
};

Expected<GgufFile> GgufFile::parse(std::span<const uint8_t> bytes, std::string name) {
  GgufFile f;
  f.bytes_ = bytes;
  f.name_ = std::move(name);
  Status s = GgufParser(bytes, f).run();
  if (!s.ok()) return std::move(s).error().with_file(f.name_);
  return f;
}

Expected<GgufFile> GgufFile::parse_releasable(std::span<const uint8_t> bytes, std::string name) {
  MINNOW_ASSIGN_OR_RETURN(GgufFile f, parse(bytes, std::move(name)));
  f.releasable_ = true;
  return f;
}

void GgufFile::release_pages(std::span<const uint8_t> bytes) const {
  if (mapping_) return mapping_->release_pages(bytes);
  if (!releasable_ || bytes.empty() || bytes.data() < bytes_.data() ||
      bytes.data() + bytes.size() > bytes_.data() + bytes_.size())
    return;
  release_whole_pages(bytes);
}

Expected<GgufFile> GgufFile::open(const std::string& path) {
  MINNOW_ASSIGN_OR_RETURN(MappedFile mapping, MappedFile::open(path));
  // The mapping's address survives the move below, so the span stays valid.
  MINNOW_ASSIGN_OR_RETURN(GgufFile f, parse(mapping.bytes(), path));
  f.mapping_ = std::move(mapping);
  return f;
}

void GgufFile::drop_arrays(std::string_view key_prefix) {
  std::erase_if(kv_, [&](const auto& kv) {
    return kv.second.type() == GgufValueType::ARRAY && std::string_view(kv.first).starts_with(key_prefix);
  });
  kv_index_.clear();
  for (size_t i = 0; i < kv_.size(); ++i) kv_index_.emplace(kv_[i].first, i);
}

const GgufValue* GgufFile::find(std::string_view key) const {
  auto it = kv_index_.find(std::string(key));
  return it == kv_index_.end() ? nullptr : &kv_[it->second].second;
}

std::optional<std::string> GgufFile::get_string(std::string_view key) const {
  const GgufValue* v = find(key);
  if (v == nullptr || v->as_string() == nullptr) return std::nullopt;
  return *v->as_string();
}

std::optional<int64_t> GgufFile::get_int(std::string_view key) const {
  const GgufValue* v = find(key);
  return v ? v->as_int() : std::nullopt;
}

std::optional<double> GgufFile::get_double(std::string_view key) const {
  const GgufValue* v = find(key);
  return v ? v->as_double() : std::nullopt;
}

std::optional<bool> GgufFile::get_bool(std::string_view key) const {
  const GgufValue* v = find(key);
  return v ? v->as_bool() : std::nullopt;
}

const GgufTensorInfo* GgufFile::find_tensor(std::string_view name) const {
  auto it = tensor_index_.find(std::string(name));
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

std::span<const uint8_t> GgufFile::tensor_data(const GgufTensorInfo& t) const {
  return bytes_.subspan(size_t(data_offset_ + t.offset), size_t(t.n_bytes));
}

}  // namespace minnow
