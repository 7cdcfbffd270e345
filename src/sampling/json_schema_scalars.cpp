// Strings (lengths, formats) and numbers (bounds).
#include "sampling/json_schema_converter.h"

#include <algorithm>
#include <cmath>

namespace minnow::json_schema {

using namespace gbnf;  // NOLINT: the converter is written in these pieces

Expected<std::optional<uint64_t>> Converter::read_count(const Json& s, const char* key, const std::string& path) {
  const Json* v = member(s, key);
  if (!v) return std::optional<uint64_t>();
  bool integral = v->is_number_unsigned() || (v->is_number_integer() && v->get<int64_t>() >= 0) ||
                  (v->is_number_float() && v->get<double>() >= 0 && std::floor(v->get<double>()) == v->get<double>());
  if (!integral)
    return invalid_argument(std::string("'") + key + "' at " + where(path) + " must be a non-negative integer");
  if (v->get<double>() > static_cast<double>(kMaxRepeat))
    return resource_limit(std::string("'") + key + "' " + v->dump() + " at " + where(path) +
                          " exceeds the supported limit of " + std::to_string(kMaxRepeat));
  return std::optional<uint64_t>(v->get<uint64_t>());
}

Expected<Expr> Converter::visit_string(const Json& s, const std::string& path) {
  MINNOW_ASSIGN_OR_RETURN(std::optional<uint64_t> min_len, read_count(s, "minLength", path));
  MINNOW_ASSIGN_OR_RETURN(std::optional<uint64_t> max_len, read_count(s, "maxLength", path));
  const std::string quote = "\"\\\"\"";
  if (const Json* f = member(s, "format")) {
    static const std::map<std::string, Prim> kFormats = {{"date", kDate}, {"time", kTime},
                                                         {"date-time", kDateTime}, {"uuid", kUuid},
                                                         {"email", kEmail}, {"ipv4", kIpv4}};
    auto it = f->is_string() ? kFormats.find(f->get<std::string>()) : kFormats.end();
    if (it == kFormats.end())
      return unsupported("JSON Schema 'format' " + f->dump() + " at " + where(path) + " is not supported");
    if (min_len || max_len)
      return unsupported("'minLength'/'maxLength' together with 'format' at " + where(path) + " is not supported");
    return Expr{seq({quote, prim(it->second), quote}), Need::yes()};
  }
  if (!min_len && !max_len) return Expr{prim(kString), Need::yes()};
  uint64_t lo = min_len.value_or(0);
  if (max_len && lo > *max_len)
    return invalid_argument("'minLength' > 'maxLength' at " + where(path) + ": no string satisfies both");
  return Expr{seq({quote, repeat(prim(kChar), lo, max_len), quote}), Need::yes()};
}

Expected<Bound> Converter::to_bound(const Json& v, const char* key, bool lower, bool exclusive, bool integer,
                         const std::string& path) {
  std::string what = std::string("'") + key + "' " + v.dump() + " at " + where(path);
  Int128 value = 0;
  if (v.is_number_unsigned()) {
    value = v.get<uint64_t>();
  } else if (v.is_number_integer()) {
    value = v.get<int64_t>();
  } else {
    double d = v.get<double>();
    if (!std::isfinite(d) || std::fabs(d) > 1e30) return out_of_range(what + " is out of the supported range");
    double rounded = lower ? std::ceil(d) : std::floor(d);
    if (rounded != d) {
      if (!integer) return unsupported(what + " is not supported (numbers take only integer bounds)");
      // An integer above 2.5 is at least 3: the bound becomes inclusive.
      return Bound{static_cast<Int128>(rounded), false};
    }
    value = static_cast<Int128>(d);
  }
  if (integer && exclusive) return Bound{lower ? value + 1 : value - 1, false};
  return Bound{value, exclusive};
}

Expected<std::optional<Bound>> Converter::read_bound(const Json& s, const std::string& path, bool lower, bool integer) {
  const char* inclusive_key = lower ? "minimum" : "maximum";
  const char* exclusive_key = lower ? "exclusiveMinimum" : "exclusiveMaximum";
  const Json* excl = member(s, exclusive_key);
  bool draft4_exclusive = excl && excl->is_boolean() && excl->get<bool>();
  std::optional<Bound> best;
  for (const char* key : {inclusive_key, exclusive_key}) {
    const Json* v = member(s, key);
    if (!v || (key == exclusive_key && v->is_boolean())) continue;
    if (!v->is_number()) return invalid_argument(std::string("'") + key + "' at " + where(path) + " must be a number");
    bool exclusive = key == exclusive_key || draft4_exclusive;
    MINNOW_ASSIGN_OR_RETURN(Bound b, to_bound(*v, key, lower, exclusive, integer, path));
    bool tighter = !best || (lower ? b.value > best->value : b.value < best->value) ||
                   (b.value == best->value && b.exclusive);
    if (tighter) best = b;
  }
  return best;
}

Expected<Expr> Converter::visit_number(const Json& s, const std::string& path, bool integer) {
  MINNOW_ASSIGN_OR_RETURN(std::optional<Bound> lo, read_bound(s, path, true, integer));
  MINNOW_ASSIGN_OR_RETURN(std::optional<Bound> hi, read_bound(s, path, false, integer));
  if (!lo && !hi) return Expr{prim(integer ? kInteger : kNumber), Need::yes()};
  std::string text;
  if (integer) {
    std::optional<Int128> l, h;
    if (lo) l = lo->value;
    if (hi) h = hi->value;
    text = integer_range(l, h);
  } else {
    text = number_range(lo, hi);
  }
  if (text.empty()) return invalid_argument("numeric bounds at " + where(path) + " admit no value");
  return Expr{text, Need::yes()};
}

}  // namespace minnow::json_schema
