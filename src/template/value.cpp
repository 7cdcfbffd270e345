#include "template/value.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "template/template_error.h"
#include "template/utf8.h"

namespace minnow::tmpl {
namespace {

uint32_t checked_depth(uint32_t child_depth) {
  if (child_depth + 1 > kMaxValueDepth)
    throw TemplateError(TemplateErrorKind::kLimit,
                        "value nesting deeper than " + std::to_string(kMaxValueDepth) + " levels");
  return child_depth + 1;
}

}  // namespace

const Value* DictData::find(const Value& key) const {
  if (key.is_string()) {
    const auto it = string_index_.find(key.as_string());
    return it == string_index_.end() ? nullptr : &entries[it->second].second;
  }
  for (const auto& [k, v] : entries)
    if (!k.is_string() && values_equal(k, key)) return &v;
  return nullptr;
}

void DictData::insert_or_assign(Value key, Value value) {
  if (const Value* existing = find(key)) {
    *const_cast<Value*>(existing) = std::move(value);
    return;
  }
  if (key.is_string()) string_index_.emplace(key.as_string(), entries.size());
  entries.emplace_back(std::move(key), std::move(value));
}

Value Value::string(std::string s) {
  return Value(Storage(std::in_place_index<5>, std::make_shared<const std::string>(std::move(s))));
}

Value Value::list(std::vector<Value> items, bool is_tuple) {
  uint32_t deepest = 0;
  for (const auto& item : items) deepest = std::max(deepest, item.depth());
  auto data = std::make_shared<ListData>();
  data->depth = checked_depth(deepest);
  data->items = std::move(items);
  data->is_tuple = is_tuple;
  return Value(Storage(std::in_place_index<6>, std::shared_ptr<const ListData>(std::move(data))));
}

Value Value::iterator(std::vector<Value> items, const char* python_type_name) {
  Value v = list(std::move(items));
  std::const_pointer_cast<ListData>(std::get<6>(v.v_))->iterator_name = python_type_name;
  return v;
}

Value Value::dict(std::vector<std::pair<Value, Value>> entries) {
  auto data = std::make_shared<DictData>();
  uint32_t deepest = 0;
  data->entries.reserve(entries.size());
  for (auto& [k, v] : entries) {
    deepest = std::max({deepest, k.depth(), v.depth()});
    data->insert_or_assign(std::move(k), std::move(v));
  }
  data->depth = checked_depth(deepest);
  return Value(Storage(std::in_place_index<7>, std::shared_ptr<const DictData>(std::move(data))));
}

Value Value::namespace_object(std::shared_ptr<NamespaceData> ns) {
  return Value(Storage(std::in_place_index<8>, std::move(ns)));
}

Value Value::callable(std::shared_ptr<const Callable> fn) {
  return Value(Storage(std::in_place_index<9>, std::move(fn)));
}

Value Value::loop(std::shared_ptr<const LoopData> loop) {
  return Value(Storage(std::in_place_index<10>, std::move(loop)));
}

std::shared_ptr<const std::vector<Value>> Value::shared_list_items() const {
  const auto& list = std::get<6>(v_);
  return std::shared_ptr<const std::vector<Value>>(list, &list->items);
}

double Value::as_double() const {
  if (is_float()) return std::get<4>(v_);
  return double(as_int());
}

uint32_t Value::depth() const {
  if (is_list()) return as_list().depth;
  if (is_dict()) return as_dict().depth;
  // A namespace is mutable, so its depth can grow after creation; treat it as
  // a leaf and let printing refuse to descend into it.
  return 1;
}

bool Value::truthy() const {
  switch (kind()) {
    case ValueKind::kUndefined: case ValueKind::kNone: return false;
    case ValueKind::kBool: return as_bool();
    case ValueKind::kInt: return as_int() != 0;
    case ValueKind::kFloat: return as_double() != 0.0;
    case ValueKind::kString: return !as_string().empty();
    case ValueKind::kList: return as_list().iterator_name != nullptr || !as_list().items.empty();
    case ValueKind::kDict: return !as_dict().entries.empty();
    default: return true;
  }
}

void WorkBudget::spend(uint64_t units) {
  if (units > left) {
    left = 0;
    throw TemplateError(TemplateErrorKind::kLimit, "template exceeded its work budget (step limit)");
  }
  left -= units;
}

bool values_equal(const Value& a, const Value& b, WorkBudget* budget) {
  if (budget) budget->spend(1);
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.as_double() == b.as_double();
    return a.as_int() == b.as_int();
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case ValueKind::kUndefined: case ValueKind::kNone: return true;
    case ValueKind::kString: return a.as_string() == b.as_string();
    case ValueKind::kList: {
      const auto& x = a.as_list();
      const auto& y = b.as_list();
      if (&x == &y) return true;  // Python compares identical objects as equal too
      if (x.iterator_name || y.iterator_name) return false;  // iterators compare by identity
      if (x.is_tuple != y.is_tuple || x.items.size() != y.items.size()) return false;
      for (size_t i = 0; i < x.items.size(); ++i)
        if (!values_equal(x.items[i], y.items[i], budget)) return false;
      return true;
    }
    case ValueKind::kDict: {
      const auto& x = a.as_dict();
      const auto& y = b.as_dict();
      if (&x == &y) return true;
      if (x.entries.size() != y.entries.size()) return false;
      for (const auto& [k, v] : x.entries) {
        const Value* other = y.find(k);
        if (!other || !values_equal(v, *other, budget)) return false;
      }
      return true;
    }
    case ValueKind::kNamespace: return &a.as_namespace() == &b.as_namespace();
    case ValueKind::kCallable: return &a.as_callable() == &b.as_callable();
    case ValueKind::kLoop: return &a.as_loop() == &b.as_loop();
    default: return false;
  }
}

const char* type_name(const Value& v) {
  switch (v.kind()) {
    case ValueKind::kUndefined: return "Undefined";
    case ValueKind::kNone: return "NoneType";
    case ValueKind::kBool: return "bool";
    case ValueKind::kInt: return "int";
    case ValueKind::kFloat: return "float";
    case ValueKind::kString: return "str";
    case ValueKind::kList:
      if (v.as_list().iterator_name) return v.as_list().iterator_name;
      return v.as_list().is_tuple ? "tuple" : "list";
    case ValueKind::kDict: return "dict";
    case ValueKind::kNamespace: return "Namespace";
    case ValueKind::kCallable: return "function";
    case ValueKind::kLoop: return "LoopContext";
  }
  return "object";
}

std::string python_float_repr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  // Shortest precision that round-trips, as Python's repr does.
  char buf[40];
  int precision = 1;
  for (; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*e", precision - 1, d);
    if (std::strtod(buf, nullptr) == d) break;
  }
  // buf is "[-]D.DDDDe[+-]XX": split into digits and the decimal exponent.
  std::string s(buf);
  const bool negative = s[0] == '-';
  if (negative) s.erase(0, 1);
  const size_t e = s.find('e');
  const int exponent = std::atoi(s.c_str() + e + 1);
  std::string digits;
  for (size_t i = 0; i < e; ++i)
    if (s[i] != '.') digits += s[i];
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  std::string out = negative ? "-" : "";
  if (exponent >= -4 && exponent < 16) {
    if (exponent < 0) {
      out += "0." + std::string(size_t(-exponent - 1), '0') + digits;
    } else if (size_t(exponent) + 1 >= digits.size()) {
      out += digits + std::string(size_t(exponent) + 1 - digits.size(), '0') + ".0";
    } else {
      out += digits.substr(0, size_t(exponent) + 1) + "." + digits.substr(size_t(exponent) + 1);
    }
    return out;
  }
  out += digits.substr(0, 1);
  if (digits.size() > 1) out += "." + digits.substr(1);
  char exp_buf[16];
  std::snprintf(exp_buf, sizeof exp_buf, "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
  return out + exp_buf;
}

namespace {

void append_string_repr(std::string& out, const std::string& s) {
  const bool has_single = s.find('\'') != std::string::npos;
  const bool has_double = s.find('"') != std::string::npos;
  const char quote = (has_single && !has_double) ? '"' : '\'';
  out += quote;
  for (size_t i = 0; i < s.size();) {
    const size_t start = i;
    const char32_t cp = utf8::decode(s, i);
    char buf[16];
    if (cp == char32_t(quote) || cp == '\\') {
      out += '\\';
      out += char(cp);
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (cp < 0x20 || cp == 0x7F) {
      std::snprintf(buf, sizeof buf, "\\x%02x", unsigned(cp));
      out += buf;
    } else if (cp < 0x80 || utf8::is_printable(cp)) {
      out.append(s, start, i - start);
    } else {
      if (cp <= 0xFF) std::snprintf(buf, sizeof buf, "\\x%02x", unsigned(cp));
      else if (cp <= 0xFFFF) std::snprintf(buf, sizeof buf, "\\u%04x", unsigned(cp));
      else std::snprintf(buf, sizeof buf, "\\U%08x", unsigned(cp));
      out += buf;
    }
  }
  out += quote;
}

void append_repr(std::string& out, const Value& v, bool top_level_str, size_t max_bytes) {
  if (out.size() > max_bytes)
    throw TemplateError(TemplateErrorKind::kLimit,
                        "printing a value takes more than " + std::to_string(max_bytes) + " bytes");
  switch (v.kind()) {
    case ValueKind::kUndefined: break;  // str(Undefined) is ""
    case ValueKind::kNone: out += "None"; break;
    case ValueKind::kBool: out += v.as_bool() ? "True" : "False"; break;
    case ValueKind::kInt: out += std::to_string(v.as_int()); break;
    case ValueKind::kFloat: out += python_float_repr(v.as_double()); break;
    case ValueKind::kString:
      if (top_level_str) out += v.as_string();
      else append_string_repr(out, v.as_string());
      break;
    case ValueKind::kList: {
      const auto& l = v.as_list();
      if (l.iterator_name) {  // Python adds an address here; templates cannot rely on it
        out += std::string("<") + l.iterator_name + " object>";
        break;
      }
      out += l.is_tuple ? '(' : '[';
      for (size_t i = 0; i < l.items.size(); ++i) {
        if (i) out += ", ";
        append_repr(out, l.items[i], false, max_bytes);
      }
      if (l.is_tuple && l.items.size() == 1) out += ',';
      out += l.is_tuple ? ')' : ']';
      break;
    }
    case ValueKind::kDict: {
      out += '{';
      bool first = true;
      for (const auto& [k, val] : v.as_dict().entries) {
        if (!first) out += ", ";
        first = false;
        append_repr(out, k, false, max_bytes);
        out += ": ";
        append_repr(out, val, false, max_bytes);
      }
      out += '}';
      break;
    }
    case ValueKind::kNamespace: out += "<Namespace>"; break;
    case ValueKind::kCallable: out += v.as_callable().describe(); break;
    case ValueKind::kLoop:
      out += "<LoopContext " + std::to_string(v.as_loop().index + 1) + "/" +
             std::to_string(v.as_loop().items->size()) + ">";
      break;
  }
}

}  // namespace

std::string to_python_str(const Value& v, size_t max_bytes) {
  if (v.is_string()) return v.as_string();
  std::string out;
  append_repr(out, v, true, max_bytes);
  if (out.size() > max_bytes) append_repr(out, v, true, max_bytes);  // throws
  return out;
}

std::string to_python_repr(const Value& v, size_t max_bytes) {
  std::string out;
  append_repr(out, v, false, max_bytes);
  if (out.size() > max_bytes) append_repr(out, v, false, max_bytes);  // throws
  return out;
}

}  // namespace minnow::tmpl
