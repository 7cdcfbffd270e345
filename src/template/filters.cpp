// `x | name(args)`: the Jinja filters chat templates use, with Jinja 3.1's
// argument names and defaults. `tojson` follows Hugging Face's override.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "template/builtins.h"
#include "template/json_value.h"
#include "template/operations.h"
#include "template/python_strings.h"
#include "template/utf8.h"

namespace minnow::tmpl {
namespace {

using FilterFn = Value (*)(Interpreter&, const Value& in, CallArgs& args);

// Jinja converts most filter inputs with str(); Undefined becomes "".
std::string soft_str(Interpreter& interp, const Value& v) { return interp.to_str(v); }

bool bool_arg(const CallArgs& a, size_t i, const char* name, bool dflt) {
  const Value& v = arg_at(a, i, name);
  return v.is_undefined() ? dflt : v.truthy();
}

// "a.b.0" attribute paths as Jinja's make_attrgetter resolves them.
Value get_path(Interpreter& interp, const Value& item, const std::string& path) {
  Value cur = item;
  size_t start = 0;
  while (true) {
    const size_t dot = path.find('.', start);
    const std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    Value key = Value::string(part);
    if (!part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; }))
      key = Value::integer(std::atoll(part.c_str()));
    cur = get_item(interp, cur, key);  // throws past an undefined part, as Jinja does
    if (dot == std::string::npos) return cur;
    start = dot + 1;
  }
}

Value f_length(Interpreter&, const Value& in, CallArgs& a) {
  check_arity(a, "length", 0);
  return Value::integer(length_of(in));
}

Value string_result(Interpreter& interp, std::string s) { return interp.make_string(std::move(s)); }

Value f_trim(Interpreter& interp, const Value& in, CallArgs& a) {
  check_arity(a, "trim", 1, {"chars"});
  const Value& chars = arg_at(a, 0, "chars");
  std::optional<std::string> set;
  if (!chars.is_undefined() && !chars.is_none()) set = require_string(chars, "chars");
  return string_result(interp, py_strip(soft_str(interp, in), set, true, true));
}
Value f_upper(Interpreter& interp, const Value& in, CallArgs& a) {
  check_arity(a, "upper", 0);
  return string_result(interp, utf8::to_upper(soft_str(interp, in)));
}
Value f_lower(Interpreter& interp, const Value& in, CallArgs& a) {
  check_arity(a, "lower", 0);
  return string_result(interp, utf8::to_lower(soft_str(interp, in)));
}
// Jinja's title filter is not str.title(): words start after '-', '(', '{',
// '[', '<' or whitespace, and only their first character is uppercased.
Value f_title(Interpreter& interp, const Value& in, CallArgs& a) {
  check_arity(a, "title", 0);
  const std::string s = soft_str(interp, in);
  std::string out;
  bool word_start = true;
  for (size_t k = 0; k < s.size();) {
    const size_t start = k;
    const char32_t cp = utf8::decode(s, k);
    const bool sep = cp == '-' || cp == '(' || cp == '{' || cp == '[' || cp == '<' || utf8::is_space(cp);
    const std::string ch = s.substr(start, k - start);
    out += sep ? ch : word_start ? utf8::to_upper(ch) : utf8::to_lower(ch);
    word_start = sep;
  }
  return string_result(interp, std::move(out));
}
Value f_capitalize(Interpreter& interp, const Value& in, CallArgs& a) {
  check_arity(a, "capitalize", 0);
  return string_result(interp, utf8::capitalize(soft_str(interp, in)));
}
Value f_replace(Interpreter& interp, const Value& in, CallArgs& a) {
  check_arity(a, "replace", 3, {"old", "new", "count"});
  const Value& count = arg_at(a, 2, "count");
  return string_result(interp, py_replace(interp, soft_str(interp, in), soft_str(interp, arg_at(a, 0, "old")), soft_str(interp, arg_at(a, 1, "new")),
                                     count.is_undefined() || count.is_none() ? -1 : require_int(count, "count")));
}
Value f_string(Interpreter& interp, const Value& in, CallArgs& a) {
  check_arity(a, "string", 0);
  return in.is_string() ? in : string_result(interp, soft_str(interp, in));
}
Value f_safe(Interpreter& interp, const Value& in, CallArgs& a) { return f_string(interp, in, a); }

Value f_escape(Interpreter& interp, const Value& in, CallArgs& a) {
  check_arity(a, "escape", 0);
  std::string out;
  for (char c : soft_str(interp, in)) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return string_result(interp, std::move(out));
}

Value f_join(Interpreter& interp, const Value& in, CallArgs& a) {
  check_arity(a, "join", 2, {"d", "attribute"});
  const std::string sep = soft_str(interp, arg_at(a, 0, "d"));
  const Value& attr = arg_at(a, 1, "attribute");
  std::string out;
  bool first = true;
  for (const auto& item : iterate_value(interp, in)) {
    if (!first) out += sep;
    first = false;
    out += soft_str(interp, attr.is_undefined() ? item : get_path(interp, item, soft_str(interp, attr)));
    interp.check_string_size(out.size());
  }
  return string_result(interp, std::move(out));
}

Value f_first(Interpreter& interp, const Value& in, CallArgs& a) {
  check_arity(a, "first", 0);
  if (in.is_list()) return in.as_list().items.empty() ? Value() : in.as_list().items.front();
  const auto items = iterate_value(interp, in);
  return items.empty() ? Value() : items.front();
}
Value f_last(Interpreter& interp, const Value& in, CallArgs& a) {
  check_arity(a, "last", 0);
  if (in.is_iterator()) throw_render_error(std::string("'") + type_name(in) + "' object is not reversible");
  if (in.is_list()) return in.as_list().items.empty() ? Value() : in.as_list().items.back();
  const auto items = iterate_value(interp, in);
  return items.empty() ? Value() : items.back();
}

Value f_default(Interpreter&, const Value& in, CallArgs& a) {
  check_arity(a, "default", 2, {"default_value", "boolean"});
  const bool boolean = bool_arg(a, 1, "boolean", false);
  if (in.is_undefined() || (boolean && !in.truthy())) {
    const Value& d = arg_at(a, 0, "default_value");
    return d.is_undefined() ? Value::string("") : d;
  }
  return in;
}

Value f_tojson(Interpreter& interp, const Value& in, CallArgs& a) {
  check_arity(a, "tojson", 4, {"ensure_ascii", "indent", "separators", "sort_keys"});
  JsonDumpOptions o;
  o.ensure_ascii = bool_arg(a, 0, "ensure_ascii", false);
  const Value& indent = arg_at(a, 1, "indent");
  if (indent.is_string()) {
    o.indent = indent.as_string();
  } else if (!indent.is_undefined() && !indent.is_none()) {
    const int64_t n = require_int(indent, "indent");
    interp.check_string_size(size_t(std::max<int64_t>(n, 0)));
    o.indent = std::string(size_t(std::max<int64_t>(n, 0)), ' ');
  }
  if (o.indent) o.item_separator = ",";
  const Value& seps = arg_at(a, 2, "separators");
  if (seps.is_list() && seps.as_list().items.size() == 2) {
    o.item_separator = require_string(seps.as_list().items[0], "separators[0]");
    o.key_separator = require_string(seps.as_list().items[1], "separators[1]");
  } else if (!seps.is_undefined() && !seps.is_none()) {
    throw_render_error("tojson separators must be a pair of strings");
  }
  o.sort_keys = bool_arg(a, 3, "sort_keys", false);
  return string_result(interp, dump_json(interp, in, o));
}

Value f_int(Interpreter&, const Value& in, CallArgs& a) {
  check_arity(a, "int", 2, {"default", "base"});
  const Value& dflt = arg_at(a, 0, "default");
  const Value fallback = dflt.is_undefined() ? Value::integer(0) : dflt;
  if (in.is_int() || in.is_bool()) return Value::integer(in.as_int());
  if (in.is_float()) {
    const double d = in.as_double();
    if (!std::isfinite(d) || std::fabs(d) >= 9.2e18) return fallback;
    return Value::integer(int64_t(d));
  }
  if (!in.is_string()) return fallback;
  const std::string s = py_strip(in.as_string(), std::nullopt, true, true);
  const Value& base_v = arg_at(a, 1, "base");
  const int base = base_v.is_undefined() ? 10 : int(require_int(base_v, "base"));
  if (s.empty() || base < 2 || base > 36) return fallback;
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(s.c_str(), &end, base);
  if (errno == 0 && end && *end == '\0') return Value::integer(v);
  const double d = std::strtod(s.c_str(), &end);
  if (end && *end == '\0' && std::isfinite(d) && std::fabs(d) < 9.2e18) return Value::integer(int64_t(d));
  return fallback;
}

Value f_float(Interpreter&, const Value& in, CallArgs& a) {
  check_arity(a, "float", 1, {"default"});
  const Value& dflt = arg_at(a, 0, "default");
  const Value fallback = dflt.is_undefined() ? Value::number(0.0) : dflt;
  if (in.is_number()) return Value::number(in.as_double());
  if (!in.is_string()) return fallback;
  const std::string s = py_strip(in.as_string(), std::nullopt, true, true);
  char* end = nullptr;
  const double d = std::strtod(s.c_str(), &end);
  if (s.empty() || !end || *end != '\0') return fallback;
  return Value::number(d);
}

Value f_abs(Interpreter&, const Value& in, CallArgs& a) {
  check_arity(a, "abs", 0);
  if (in.is_float()) return Value::number(std::fabs(in.as_double()));
  if (in.is_int() || in.is_bool()) {
    if (in.as_int() == INT64_MIN) throw_render_error("integer overflow");
    return Value::integer(std::llabs(in.as_int()));
  }
  throw_render_error(std::string("bad operand type for abs(): '") + type_name(in) + "'");
}

Value f_round(Interpreter&, const Value& in, CallArgs& a) {
  check_arity(a, "round", 2, {"precision", "method"});
  if (!in.is_number()) throw_render_error(std::string("round() needs a number, not '") + type_name(in) + "'");
  const Value& p = arg_at(a, 0, "precision");
  const int64_t precision = std::clamp<int64_t>(p.is_undefined() ? 0 : require_int(p, "precision"), -300, 300);
  const Value& m = arg_at(a, 1, "method");
  const std::string method = m.is_undefined() ? "common" : require_string(m, "method");
  const double x = in.as_double();
  if (method == "common" && !in.is_float() && precision >= 0) return Value::integer(in.as_int());  // round(int) is int
  if (method == "common") {
    // Python's round(): correctly rounded, ties to even (printf rounds the same way).
    if (precision >= 0) {
      char buf[400];
      std::snprintf(buf, sizeof buf, "%.*f", int(precision), x);
      return Value::number(std::strtod(buf, nullptr));
    }
    const double scale = std::pow(10.0, double(-precision));
    return Value::number(std::nearbyint(x / scale) * scale);
  }
  const double scale = std::pow(10.0, double(precision));
  if (method == "floor") return Value::number(std::floor(x * scale) / scale);
  if (method == "ceil") return Value::number(std::ceil(x * scale) / scale);
  throw_render_error("round method must be 'common', 'ceil' or 'floor'");
}

Value f_list(Interpreter& interp, const Value& in, CallArgs& a) {
  check_arity(a, "list", 0);
  return Value::list(iterate_value(interp, in));
}

Value f_items(Interpreter& interp, const Value& in, CallArgs& a) {
  check_arity(a, "items", 0);
  if (in.is_undefined()) return Value::iterator({}, "generator");
  if (!in.is_dict()) throw_render_error(std::string("can only get item pairs from a mapping, not '") + type_name(in) + "'");
  interp.check_list_size(in.as_dict().entries.size());
  std::vector<Value> out;
  for (const auto& [k, v] : in.as_dict().entries) out.push_back(Value::list({k, v}, true));
  return Value::iterator(std::move(out), "generator");
}

// select/reject/selectattr/rejectattr share this: keep items whose (attribute)
// value passes `test` (truthiness when no test is named) == keep_if.
Value select_items(Interpreter& interp, const Value& in, CallArgs& a, bool by_attribute, bool keep_if) {
  size_t next = 0;
  std::string attribute;
  if (by_attribute) {
    if (a.positional.empty()) throw_render_error("selectattr/rejectattr need an attribute name");
    attribute = require_string(a.positional[next++], "attribute");
  }
  std::string test;
  if (next < a.positional.size()) test = require_string(a.positional[next++], "test name");
  CallArgs test_args;
  test_args.positional.assign(a.positional.begin() + std::ptrdiff_t(next), a.positional.end());
  if (!a.keyword.empty()) throw_render_error("select filters take no keyword arguments");
  std::vector<Value> out;
  for (const auto& item : iterate_value(interp, in)) {
    const Value v = by_attribute ? get_path(interp, item, attribute) : item;
    const bool pass = test.empty() ? v.truthy() : apply_test(interp, test, v, test_args);
    if (pass == keep_if) out.push_back(item);
  }
  return Value::iterator(std::move(out), "generator");
}
Value f_select(Interpreter& interp, const Value& in, CallArgs& a) { return select_items(interp, in, a, false, true); }
Value f_reject(Interpreter& interp, const Value& in, CallArgs& a) { return select_items(interp, in, a, false, false); }
Value f_selectattr(Interpreter& interp, const Value& in, CallArgs& a) { return select_items(interp, in, a, true, true); }
Value f_rejectattr(Interpreter& interp, const Value& in, CallArgs& a) { return select_items(interp, in, a, true, false); }

Value f_map(Interpreter& interp, const Value& in, CallArgs& a) {
  std::vector<Value> out;
  const Value& attribute = arg_at(a, 99, "attribute");
  if (!attribute.is_undefined()) {
    const Value& dflt = arg_at(a, 99, "default");
    const std::string path = soft_str(interp, attribute);
    for (const auto& item : iterate_value(interp, in)) {
      Value v = get_path(interp, item, path);
      out.push_back(v.is_undefined() && !dflt.is_undefined() ? dflt : v);
    }
    return Value::iterator(std::move(out), "generator");
  }
  if (a.positional.empty()) throw_render_error("map needs a filter name or attribute=");
  const std::string filter = require_string(a.positional[0], "filter name");
  if (!is_known_filter(filter))
    throw TemplateError(TemplateErrorKind::kUnsupported, "the filter '" + filter + "' is not supported");
  CallArgs rest;
  rest.positional.assign(a.positional.begin() + 1, a.positional.end());
  rest.keyword = a.keyword;
  for (const auto& item : iterate_value(interp, in)) {
    CallArgs copy = rest;
    out.push_back(apply_filter(interp, filter, item, copy));
  }
  return Value::iterator(std::move(out), "generator");
}

// Jinja compares strings case-insensitively unless case_sensitive=true.
Value sort_key(const Value& v, bool case_sensitive) {
  if (!case_sensitive && v.is_string()) return Value::string(utf8::to_lower(v.as_string()));
  return v;
}

Value f_unique(Interpreter& interp, const Value& in, CallArgs& a) {
  check_arity(a, "unique", 2, {"case_sensitive", "attribute"});
  const bool cs = bool_arg(a, 0, "case_sensitive", false);
  const Value& attr = arg_at(a, 1, "attribute");
  std::vector<Value> out, seen;
  for (const auto& item : iterate_value(interp, in)) {
    const Value key = sort_key(attr.is_undefined() ? item : get_path(interp, item, soft_str(interp, attr)), cs);
    bool dup = false;
    for (const auto& s : seen) {
      interp.step();
      if (values_equal(s, key, &interp.budget())) {
        dup = true;
        break;
      }
    }
    if (!dup) {
      seen.push_back(key);
      out.push_back(item);
    }
  }
  return Value::iterator(std::move(out), "generator");
}

Value f_sort(Interpreter& interp, const Value& in, CallArgs& a) {
  check_arity(a, "sort", 3, {"reverse", "case_sensitive", "attribute"});
  const bool reverse = bool_arg(a, 0, "reverse", false);
  const bool cs = bool_arg(a, 1, "case_sensitive", false);
  const Value& attr = arg_at(a, 2, "attribute");
  std::vector<std::pair<Value, Value>> keyed;
  for (const auto& item : iterate_value(interp, in))
    keyed.emplace_back(sort_key(attr.is_undefined() ? item : get_path(interp, item, soft_str(interp, attr)), cs), item);
  interp.charge(keyed.size() * 64);
  std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& x, const auto& y) {
    return reverse ? less_than(y.first, x.first, &interp.budget()) : less_than(x.first, y.first, &interp.budget());
  });
  std::vector<Value> out;
  for (auto& [k, v] : keyed) out.push_back(std::move(v));
  return Value::list(std::move(out));
}

Value f_dictsort(Interpreter& interp, const Value& in, CallArgs& a) {
  check_arity(a, "dictsort", 3, {"case_sensitive", "by", "reverse"});
  if (!in.is_dict()) throw_render_error("dictsort needs a mapping");
  const bool cs = bool_arg(a, 0, "case_sensitive", false);
  const Value& by = arg_at(a, 1, "by");
  const bool by_value = !by.is_undefined() && soft_str(interp, by) == "value";
  const bool reverse = bool_arg(a, 2, "reverse", false);
  auto entries = in.as_dict().entries;
  interp.charge(entries.size() * 64);
  std::stable_sort(entries.begin(), entries.end(), [&](const auto& x, const auto& y) {
    const Value kx = sort_key(by_value ? x.second : x.first, cs), ky = sort_key(by_value ? y.second : y.first, cs);
    return reverse ? less_than(ky, kx, &interp.budget()) : less_than(kx, ky, &interp.budget());
  });
  std::vector<Value> out;
  for (auto& [k, v] : entries) out.push_back(Value::list({k, v}, true));
  return Value::list(std::move(out));
}

Value f_reverse(Interpreter& interp, const Value& in, CallArgs& a) {
  check_arity(a, "reverse", 0);
  if (in.is_string()) {
    const auto offsets = utf8::offsets(in.as_string());
    std::string out;
    for (size_t k = offsets.size() - 1; k > 0; --k)
      out.append(in.as_string(), offsets[k - 1], offsets[k] - offsets[k - 1]);
    return string_result(interp, std::move(out));
  }
  const bool reversible = in.is_sequence() || in.is_dict();  // Python reversed() works on these
  auto items = iterate_value(interp, in);
  std::reverse(items.begin(), items.end());
  if (!reversible) return Value::list(std::move(items));
  return Value::iterator(std::move(items), in.is_dict() ? "dict_reversekeyiterator" : "list_reverseiterator");
}

Value f_sum(Interpreter& interp, const Value& in, CallArgs& a) {
  check_arity(a, "sum", 2, {"attribute", "start"});
  const Value& attr = arg_at(a, 0, "attribute");
  const Value& start = arg_at(a, 1, "start");
  Value total = start.is_undefined() ? Value::integer(0) : start;
  for (const auto& item : iterate_value(interp, in))
    total = binary_op(interp, "+", total, attr.is_undefined() ? item : get_path(interp, item, soft_str(interp, attr)));
  return total;
}

Value min_max(Interpreter& interp, const Value& in, CallArgs& a, bool want_max) {
  check_arity(a, want_max ? "max" : "min", 2, {"case_sensitive", "attribute"});
  const bool cs = bool_arg(a, 0, "case_sensitive", false);
  const Value& attr = arg_at(a, 1, "attribute");
  Value best, best_key;
  for (const auto& item : iterate_value(interp, in)) {
    const Value key = sort_key(attr.is_undefined() ? item : get_path(interp, item, soft_str(interp, attr)), cs);
    if (best.is_undefined() || (want_max ? less_than(best_key, key, &interp.budget()) : less_than(key, best_key, &interp.budget()))) {
      best = item;
      best_key = key;
    }
  }
  return best;
}
Value f_min(Interpreter& interp, const Value& in, CallArgs& a) { return min_max(interp, in, a, false); }
Value f_max(Interpreter& interp, const Value& in, CallArgs& a) { return min_max(interp, in, a, true); }

// Python str.splitlines() (without keepends).
std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t i = 0; i < s.size();) {
    const size_t at = i;
    const char32_t cp = utf8::decode(s, i);
    const bool br = cp == '\n' || cp == '\r' || cp == 0x0B || cp == 0x0C || (cp >= 0x1C && cp <= 0x1E) ||
                    cp == 0x85 || cp == 0x2028 || cp == 0x2029;
    if (!br) continue;
    lines.push_back(s.substr(start, at - start));
    if (cp == '\r' && i < s.size() && s[i] == '\n') ++i;
    start = i;
  }
  if (start < s.size()) lines.push_back(s.substr(start));
  return lines;
}

Value f_indent(Interpreter& interp, const Value& in, CallArgs& a) {
  check_arity(a, "indent", 3, {"width", "first", "blank"});
  const Value& width = arg_at(a, 0, "width");
  std::string pad;
  if (width.is_string()) {
    pad = width.as_string();
  } else {
    const int64_t n = width.is_undefined() ? 4 : require_int(width, "width");
    interp.check_string_size(size_t(std::max<int64_t>(n, 0)));
    pad.assign(size_t(std::max<int64_t>(n, 0)), ' ');
  }
  const bool first = bool_arg(a, 1, "first", false);
  const bool blank = bool_arg(a, 2, "blank", false);
  if (!in.is_string()) throw_render_error(std::string("indent needs a string, not '") + type_name(in) + "'");
  const auto lines = split_lines(soft_str(interp, in) + "\n");
  interp.check_string_size(soft_str(interp, in).size() + lines.size() * pad.size());
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) {
      out += '\n';
      if (blank || !lines[i].empty()) out += pad;
    }
    out += lines[i];
  }
  if (first) out = pad + out;
  return string_result(interp, std::move(out));
}

Value f_format(Interpreter& interp, const Value& in, CallArgs& a) {
  if (!a.keyword.empty()) throw TemplateError(TemplateErrorKind::kUnsupported, "format filter with keyword arguments");
  return string_result(interp, percent_format(interp, soft_str(interp, in), Value::list(a.positional, true)));
}

Value f_attr(Interpreter& interp, const Value& in, CallArgs& a) {
  check_arity(a, "attr", 1);
  // Only real attributes (methods, namespace fields), never dict keys.
  const std::string name = require_string(arg_at(a, 0, "name"), "attribute name");
  if (in.is_undefined()) return Value();
  if (in.is_dict()) {
    static const char* const kDictMethods[] = {"items", "keys", "values", "get"};
    for (const char* m : kDictMethods)
      if (name == m) return get_attribute(interp, in, name);
    return Value();
  }
  return get_attribute(interp, in, name);
}

Value f_wordcount(Interpreter& interp, const Value& in, CallArgs& a) {
  check_arity(a, "wordcount", 0);
  return Value::integer(int64_t(py_split(soft_str(interp, in), std::nullopt, -1).size()));
}

struct FilterEntry {
  const char* name;
  FilterFn fn;
};

const FilterEntry kFilters[] = {
    {"length", f_length},       {"count", f_length},         {"trim", f_trim},
    {"upper", f_upper},         {"lower", f_lower},          {"title", f_title},
    {"capitalize", f_capitalize}, {"replace", f_replace},    {"string", f_string},
    {"safe", f_safe},           {"escape", f_escape},        {"e", f_escape},
    {"forceescape", f_escape},  {"join", f_join},            {"first", f_first},
    {"last", f_last},           {"default", f_default},      {"d", f_default},
    {"tojson", f_tojson},       {"int", f_int},              {"float", f_float},
    {"abs", f_abs},             {"round", f_round},          {"list", f_list},
    {"items", f_items},         {"select", f_select},        {"reject", f_reject},
    {"selectattr", f_selectattr}, {"rejectattr", f_rejectattr}, {"map", f_map},
    {"unique", f_unique},       {"sort", f_sort},            {"dictsort", f_dictsort},
    {"reverse", f_reverse},     {"sum", f_sum},              {"min", f_min},
    {"max", f_max},             {"indent", f_indent},        {"format", f_format},
    {"attr", f_attr},           {"wordcount", f_wordcount},
};

}  // namespace

bool is_known_filter(const std::string& name) {
  for (const auto& f : kFilters)
    if (name == f.name) return true;
  return false;
}

Value apply_filter(Interpreter& interp, const std::string& name, const Value& input, CallArgs& args) {
  for (const auto& f : kFilters)
    if (name == f.name) return f.fn(interp, input, args);
  throw TemplateError(TemplateErrorKind::kUnsupported, "the filter '" + name + "' is not supported");
}

}  // namespace minnow::tmpl
