#include "gguf/gguf_value.h"

#include <cstdio>
#include <limits>

namespace minnow {

const char* gguf_value_type_name(GgufValueType t) {
  switch (t) {
    case GgufValueType::UINT8: return "u8";
    case GgufValueType::INT8: return "i8";
    case GgufValueType::UINT16: return "u16";
    case GgufValueType::INT16: return "i16";
    case GgufValueType::UINT32: return "u32";
    case GgufValueType::INT32: return "i32";
    case GgufValueType::FLOAT32: return "f32";
    case GgufValueType::BOOL: return "bool";
    case GgufValueType::STRING: return "str";
    case GgufValueType::ARRAY: return "arr";
    case GgufValueType::UINT64: return "u64";
    case GgufValueType::INT64: return "i64";
    case GgufValueType::FLOAT64: return "f64";
  }
  return "?";
}

uint32_t gguf_scalar_size(GgufValueType t) {
  switch (t) {
    case GgufValueType::UINT8: case GgufValueType::INT8: case GgufValueType::BOOL: return 1;
    case GgufValueType::UINT16: case GgufValueType::INT16: return 2;
    case GgufValueType::UINT32: case GgufValueType::INT32: case GgufValueType::FLOAT32: return 4;
    case GgufValueType::UINT64: case GgufValueType::INT64: case GgufValueType::FLOAT64: return 8;
    case GgufValueType::STRING: case GgufValueType::ARRAY: return 0;
  }
  return 0;
}

bool gguf_value_type_known(uint32_t raw) { return raw <= uint32_t(GgufValueType::FLOAT64); }

GgufValue GgufValue::array(GgufValueType elem_type, Array items) {
  GgufValue v(GgufValueType::ARRAY, std::move(items));
  v.elem_type_ = elem_type;
  return v;
}

GgufValue GgufValue::string_array(const std::vector<std::string>& items) {
  Array a;
  a.reserve(items.size());
  for (const auto& s : items) a.push_back(string(s));
  return array(GgufValueType::STRING, std::move(a));
}

GgufValue GgufValue::f32_array(const std::vector<float>& items) {
  Array a;
  a.reserve(items.size());
  for (float f : items) a.push_back(f32(f));
  return array(GgufValueType::FLOAT32, std::move(a));
}

GgufValue GgufValue::i32_array(const std::vector<int32_t>& items) {
  Array a;
  a.reserve(items.size());
  for (int32_t i : items) a.push_back(i32(i));
  return array(GgufValueType::INT32, std::move(a));
}

std::optional<int64_t> GgufValue::as_int() const {
  if (auto* s = std::get_if<int64_t>(&v_)) return *s;
  if (auto* u = std::get_if<uint64_t>(&v_)) {
    if (*u > uint64_t(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return int64_t(*u);
  }
  return std::nullopt;
}

std::optional<uint64_t> GgufValue::as_uint() const {
  if (auto* u = std::get_if<uint64_t>(&v_)) return *u;
  if (auto* s = std::get_if<int64_t>(&v_)) {
    if (*s < 0) return std::nullopt;
    return uint64_t(*s);
  }
  return std::nullopt;
}

std::optional<double> GgufValue::as_double() const {
  if (auto* d = std::get_if<double>(&v_)) return *d;
  if (auto* u = std::get_if<uint64_t>(&v_)) return double(*u);
  if (auto* s = std::get_if<int64_t>(&v_)) return double(*s);
  return std::nullopt;
}

std::optional<bool> GgufValue::as_bool() const {
  if (auto* b = std::get_if<bool>(&v_)) return *b;
  return std::nullopt;
}

namespace {

std::string quote_short(const std::string& s, size_t max_chars) {
  std::string out = "\"";
  size_t n = 0;
  for (unsigned char c : s) {
    if (n++ >= max_chars) { out += "..."; break; }
    if (c == '\n') out += "\\n";
    else if (c == '"') out += "\\\"";
    else if (c < 0x20) { char buf[8]; std::snprintf(buf, sizeof buf, "\\x%02x", c); out += buf; }
    else out += char(c);
  }
  return out + "\"";
}

}  // namespace

std::string GgufValue::to_display(size_t max_items) const {
  switch (type_) {
    case GgufValueType::BOOL: return *as_bool() ? "true" : "false";
    case GgufValueType::STRING: return quote_short(*as_string(), 60);
    case GgufValueType::FLOAT32: case GgufValueType::FLOAT64: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%g", *as_double());
      return buf;
    }
    case GgufValueType::ARRAY: {
      const Array& a = *as_array();
      std::string out = "[";
      out += gguf_value_type_name(elem_type_);
      out += " x " + std::to_string(a.size()) + "]";
      if (a.empty()) return out;
      out += " ";
      for (size_t i = 0; i < a.size() && i < max_items; ++i) {
        if (i) out += ", ";
        out += a[i].to_display(2);
      }
      if (a.size() > max_items) out += ", ...";
      return out;
    }
    default:
      if (auto* s = std::get_if<int64_t>(&v_)) return std::to_string(*s);
      return std::to_string(std::get<uint64_t>(v_));
  }
}

}  // namespace minnow
