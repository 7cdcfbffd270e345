// One GGUF metadata value: a scalar, a string, or an array of values (arrays
// may nest). Owned, so the writer and the reader share the type.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace minnow {

enum class GgufValueType : uint32_t {
  UINT8 = 0, INT8 = 1, UINT16 = 2, INT16 = 3, UINT32 = 4, INT32 = 5, FLOAT32 = 6,
  BOOL = 7, STRING = 8, ARRAY = 9, UINT64 = 10, INT64 = 11, FLOAT64 = 12,
};

const char* gguf_value_type_name(GgufValueType t);
// Bytes of one scalar on disk; 0 for STRING and ARRAY (variable size).
uint32_t gguf_scalar_size(GgufValueType t);
bool gguf_value_type_known(uint32_t raw);

class GgufValue {
 public:
  using Array = std::vector<GgufValue>;

  static GgufValue u8(uint8_t v) { return {GgufValueType::UINT8, uint64_t(v)}; }
  static GgufValue i8(int8_t v) { return {GgufValueType::INT8, int64_t(v)}; }
  static GgufValue u16(uint16_t v) { return {GgufValueType::UINT16, uint64_t(v)}; }
  static GgufValue i16(int16_t v) { return {GgufValueType::INT16, int64_t(v)}; }
  static GgufValue u32(uint32_t v) { return {GgufValueType::UINT32, uint64_t(v)}; }
  static GgufValue i32(int32_t v) { return {GgufValueType::INT32, int64_t(v)}; }
  static GgufValue u64(uint64_t v) { return {GgufValueType::UINT64, v}; }
  static GgufValue i64(int64_t v) { return {GgufValueType::INT64, v}; }
  static GgufValue f32(float v) { return {GgufValueType::FLOAT32, double(v)}; }
  static GgufValue f64(double v) { return {GgufValueType::FLOAT64, v}; }
  static GgufValue boolean(bool v) { return {GgufValueType::BOOL, v}; }
  static GgufValue string(std::string v) { return {GgufValueType::STRING, std::move(v)}; }
  static GgufValue array(GgufValueType elem_type, Array items);
  static GgufValue string_array(const std::vector<std::string>& items);
  static GgufValue f32_array(const std::vector<float>& items);
  static GgufValue i32_array(const std::vector<int32_t>& items);

  GgufValueType type() const { return type_; }
  GgufValueType array_type() const { return elem_type_; }  // meaningful for ARRAY only

  // Any integer type that fits; nullopt for other types or out of range.
  std::optional<int64_t> as_int() const;
  std::optional<uint64_t> as_uint() const;
  // Any numeric type.
  std::optional<double> as_double() const;
  std::optional<bool> as_bool() const;
  const std::string* as_string() const { return std::get_if<std::string>(&v_); }
  const Array* as_array() const { return std::get_if<Array>(&v_); }

  bool operator==(const GgufValue& o) const {
    return type_ == o.type_ && elem_type_ == o.elem_type_ && v_ == o.v_;
  }

  // Short human form; arrays are summarized past `max_items`.
  std::string to_display(size_t max_items = 8) const;

 private:
  using Storage = std::variant<uint64_t, int64_t, double, bool, std::string, Array>;
  GgufValue(GgufValueType t, Storage v) : type_(t), v_(std::move(v)) {}
  GgufValueType type_;
  GgufValueType elem_type_ = GgufValueType::UINT8;
  Storage v_;
};

}  // namespace minnow
