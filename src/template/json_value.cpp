#include "template/json_value.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "template/operations.h"
#include "template/template_error.h"
#include "template/utf8.h"

namespace minnow::tmpl {
namespace {

Value from_json(const nlohmann::ordered_json& j, uint32_t depth) {
  if (depth > kMaxValueDepth)
    throw TemplateError(TemplateErrorKind::kLimit, "JSON input nested deeper than " + std::to_string(kMaxValueDepth));
  switch (j.type()) {
    case nlohmann::ordered_json::value_t::null: return Value::none();
    case nlohmann::ordered_json::value_t::boolean: return Value::boolean(j.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer: return Value::integer(j.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned: {
      const uint64_t u = j.get<uint64_t>();
      if (u <= uint64_t(INT64_MAX)) return Value::integer(int64_t(u));
      return Value::number(double(u));
    }
    case nlohmann::ordered_json::value_t::number_float: return Value::number(j.get<double>());
    case nlohmann::ordered_json::value_t::string: return Value::string(j.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
      std::vector<Value> items;
      items.reserve(j.size());
      for (const auto& item : j) items.push_back(from_json(item, depth + 1));
      return Value::list(std::move(items));
    }
    case nlohmann::ordered_json::value_t::object: {
      std::vector<std::pair<Value, Value>> entries;
      entries.reserve(j.size());
      for (const auto& [k, v] : j.items()) entries.emplace_back(Value::string(k), from_json(v, depth + 1));
      return Value::dict(std::move(entries));
    }
    default:
      return Value::none();  // binary and discarded values do not occur in parsed JSON
  }
}

class JsonWriter {
 public:
  JsonWriter(Interpreter& interp, const JsonDumpOptions& options) : interp_(interp), o_(options) {}

  std::string run(const Value& v) {
    write(v, 0);
    return std::move(out_);
  }

 private:
  void append(std::string_view s) {
    interp_.check_string_size(out_.size() + s.size());
    out_.append(s);
  }

  void write_string(const std::string& s) {
    std::string buf = "\"";
    for (size_t i = 0; i < s.size();) {
      const size_t start = i;
      const char32_t cp = utf8::decode(s, i);
      char esc[16];
      switch (cp) {
        case '"': buf += "\\\""; break;
        case '\\': buf += "\\\\"; break;
        case '\n': buf += "\\n"; break;
        case '\r': buf += "\\r"; break;
        case '\t': buf += "\\t"; break;
        case '\b': buf += "\\b"; break;
        case '\f': buf += "\\f"; break;
        default:
          if (cp < 0x20) {
            std::snprintf(esc, sizeof esc, "\\u%04x", unsigned(cp));
            buf += esc;
          } else if (cp >= 0x80 && o_.ensure_ascii) {
            if (cp >= 0x10000) {
              const unsigned v = unsigned(cp) - 0x10000;
              std::snprintf(esc, sizeof esc, "\\u%04x\\u%04x", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF));
            } else {
              std::snprintf(esc, sizeof esc, "\\u%04x", unsigned(cp));
            }
            buf += esc;
          } else {
            buf.append(s, start, i - start);
          }
      }
    }
    buf += '"';
    append(buf);
  }

  void write_number(const Value& v) {
    if (v.is_bool()) return append(v.as_bool() ? "true" : "false");
    if (v.is_int()) return append(std::to_string(v.as_int()));
    const double d = v.as_double();
    if (std::isnan(d)) return append("NaN");
    if (std::isinf(d)) return append(d > 0 ? "Infinity" : "-Infinity");
    append(python_float_repr(d));
  }

  void newline(int level) {
    if (!o_.indent) return;
    append("\n");
    for (int i = 0; i < level; ++i) append(*o_.indent);
  }

  std::string key_string(const Value& k) {
    if (k.is_string()) return k.as_string();
    if (k.is_bool()) return k.as_bool() ? "true" : "false";
    if (k.is_none()) return "null";
    if (k.is_int()) return std::to_string(k.as_int());
    if (k.is_float()) return python_float_repr(k.as_double());
    throw_render_error(std::string("keys must be str, int, float, bool or None, not ") + type_name(k));
  }

  void write(const Value& v, int level) {
    interp_.step();
    switch (v.kind()) {
      case ValueKind::kNone: return append("null");
      case ValueKind::kBool: case ValueKind::kInt: case ValueKind::kFloat: return write_number(v);
      case ValueKind::kString: return write_string(v.as_string());
      case ValueKind::kList: {
        if (v.is_iterator())
          throw_render_error(std::string("Object of type ") + type_name(v) + " is not JSON serializable");
        const auto& items = v.as_list().items;
        if (items.empty()) return append("[]");
        append("[");
        for (size_t i = 0; i < items.size(); ++i) {
          if (i) append(o_.item_separator);
          newline(level + 1);
          write(items[i], level + 1);
        }
        newline(level);
        return append("]");
      }
      case ValueKind::kDict: {
        std::vector<std::pair<std::string, const Value*>> entries;
        for (const auto& [k, val] : v.as_dict().entries) entries.emplace_back(key_string(k), &val);
        if (o_.sort_keys)
          std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
        if (entries.empty()) return append("{}");
        append("{");
        for (size_t i = 0; i < entries.size(); ++i) {
          if (i) append(o_.item_separator);
          newline(level + 1);
          write_string(entries[i].first);
          append(o_.key_separator);
          write(*entries[i].second, level + 1);
        }
        newline(level);
        return append("}");
      }
      default:
        throw_render_error(std::string("Object of type ") + type_name(v) + " is not JSON serializable");
    }
  }

  Interpreter& interp_;
  const JsonDumpOptions& o_;
  std::string out_;
};

}  // namespace

Value value_from_json(const nlohmann::ordered_json& j) { return from_json(j, 1); }

std::string dump_json(Interpreter& interp, const Value& v, const JsonDumpOptions& options) {
  return JsonWriter(interp, options).run(v);
}

}  // namespace minnow::tmpl
