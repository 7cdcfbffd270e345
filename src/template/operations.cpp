#include "template/operations.h"

#include <cctype>
#include <cmath>
#include <algorithm>
#include <cstdio>
#include <optional>

#include "template/builtins.h"
#include "template/template_error.h"
#include "template/utf8.h"

namespace minnow::tmpl {
namespace {

[[noreturn]] void type_error(const std::string& op, const Value& a, const Value& b) {
  throw_render_error("unsupported operand types for " + op + ": '" + type_name(a) + "' and '" + type_name(b) + "'");
}

int64_t add_checked(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) throw_render_error("integer overflow");
  return r;
}
int64_t sub_checked(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_sub_overflow(a, b, &r)) throw_render_error("integer overflow");
  return r;
}
int64_t mul_checked(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) throw_render_error("integer overflow");
  return r;
}

Value repeat(Interpreter& interp, const Value& seq, int64_t count) {
  if (count < 0) count = 0;
  if (seq.is_string()) {
    const std::string& s = seq.as_string();
    if (!s.empty() && uint64_t(count) > interp.limits().max_output_bytes / s.size())
      interp.check_string_size(interp.limits().max_output_bytes + 1);
    const size_t total = s.size() * size_t(count);
    if (total == 0) return Value::string("");
    std::string out;
    out.reserve(total);
    out += s;
    while (out.size() * 2 <= total) out += out;  // doubling: a few big copies
    out.append(out, 0, total - out.size());
    return interp.make_string(std::move(out));
  }
  const auto& l = seq.as_list();
  if (!l.items.empty() && uint64_t(count) > interp.limits().max_loop_iterations / l.items.size())
    interp.check_list_size(interp.limits().max_loop_iterations + 1);
  interp.check_list_size(l.items.size() * size_t(count));
  std::vector<Value> out;
  for (int64_t i = 0; i < count; ++i) out.insert(out.end(), l.items.begin(), l.items.end());
  return Value::list(std::move(out), l.is_tuple);
}

double floor_mod(double a, double b) {
  double m = std::fmod(a, b);
  if (m != 0 && ((m < 0) != (b < 0))) m += b;
  return m;
}

Value int_pow(int64_t base, int64_t exp) {
  if (exp < 0) return Value::number(std::pow(double(base), double(exp)));
  int64_t result = 1;
  while (exp > 0) {
    if (exp & 1) result = mul_checked(result, base);
    exp >>= 1;
    if (exp > 0) base = mul_checked(base, base);
  }
  return Value::integer(result);
}

// Python's clamping of slice bounds; returns the indices the slice visits.
std::vector<int64_t> slice_indices(int64_t n, const Value& start_v, const Value& stop_v, const Value& step_v) {
  auto as_opt = [](const Value& v, const char* what) -> std::optional<int64_t> {
    if (v.is_undefined() || v.is_none()) return std::nullopt;
    if (!v.is_int() && !v.is_bool())
      throw_render_error(std::string("slice ") + what + " must be an integer or none, not '" + type_name(v) + "'");
    return v.as_int();
  };
  const int64_t step = as_opt(step_v, "step").value_or(1);
  if (step == 0) throw_render_error("slice step cannot be zero");
  auto clamp = [&](std::optional<int64_t> v, int64_t dflt) {
    if (!v) return dflt;
    int64_t x = *v;
    if (x < 0) x += n;
    if (step > 0) return std::clamp<int64_t>(x, 0, n);
    return std::clamp<int64_t>(x, -1, n - 1);
  };
  const int64_t start = clamp(as_opt(start_v, "start"), step > 0 ? 0 : n - 1);
  const int64_t stop = clamp(as_opt(stop_v, "stop"), step > 0 ? n : -1);
  std::vector<int64_t> out;
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) out.push_back(i);
  return out;
}

}  // namespace

int64_t length_of(const Value& v) {
  switch (v.kind()) {
    case ValueKind::kUndefined: return 0;
    case ValueKind::kString: return int64_t(utf8::count(v.as_string()));
    case ValueKind::kList:
      if (v.is_iterator()) break;
      return int64_t(v.as_list().items.size());
    case ValueKind::kDict: return int64_t(v.as_dict().entries.size());
    default: break;
  }
  {
    throw_render_error(std::string("object of type '") + type_name(v) + "' has no len()");
  }
}

Value binary_op(Interpreter& interp, const std::string& op, const Value& a, const Value& b) {
  if (op == "~") {
    std::string s = interp.to_str(a);
    const std::string rhs = interp.to_str(b);
    interp.check_string_size(s.size() + rhs.size());
    s += rhs;
    return interp.make_string(std::move(s));
  }
  if (a.is_undefined() || b.is_undefined()) throw_render_error("undefined value used with '" + op + "'");
  if (op == "%" && a.is_string()) return interp.make_string(percent_format(interp, a.as_string(), b));
  const bool numbers = a.is_number() && b.is_number();
  const bool ints = numbers && !a.is_float() && !b.is_float();
  if (op == "+") {
    if (ints) {
      return Value::integer(add_checked(a.as_int(), b.as_int()));
    }
    if (numbers) return Value::number(a.as_double() + b.as_double());
    if (a.is_string() && b.is_string()) {
      interp.check_string_size(a.as_string().size() + b.as_string().size());
      return interp.make_string(a.as_string() + b.as_string());
    }
    if (a.is_sequence() && b.is_sequence() && a.as_list().is_tuple == b.as_list().is_tuple) {
      interp.check_list_size(a.as_list().items.size() + b.as_list().items.size());
      std::vector<Value> items = a.as_list().items;
      items.insert(items.end(), b.as_list().items.begin(), b.as_list().items.end());
      return Value::list(std::move(items), a.as_list().is_tuple);
    }
    type_error(op, a, b);
  }
  if (op == "*") {
    if (ints) {
      return Value::integer(mul_checked(a.as_int(), b.as_int()));
    }
    if (numbers) return Value::number(a.as_double() * b.as_double());
    if ((a.is_string() || a.is_sequence()) && (b.is_int() || b.is_bool())) return repeat(interp, a, b.as_int());
    if ((b.is_string() || b.is_sequence()) && (a.is_int() || a.is_bool())) return repeat(interp, b, a.as_int());
    type_error(op, a, b);
  }
  if (!numbers) type_error(op, a, b);
  if (op == "-") {
    if (ints) {
      return Value::integer(sub_checked(a.as_int(), b.as_int()));
    }
    return Value::number(a.as_double() - b.as_double());
  }
  if (op == "/") {
    if (b.as_double() == 0) throw_render_error("division by zero");
    return Value::number(a.as_double() / b.as_double());
  }
  if (op == "//" || op == "%") {
    if (b.as_double() == 0) throw_render_error(op == "//" ? "integer division by zero" : "modulo by zero");
    if (ints) {
      const int64_t x = a.as_int(), y = b.as_int();
      if (x == INT64_MIN && y == -1) throw_render_error("integer overflow");
      int64_t q = x / y, m = x % y;
      if (m != 0 && ((m < 0) != (y < 0))) {
        --q;
        m += y;
      }
      return Value::integer(op == "//" ? q : m);
    }
    if (op == "//") return Value::number(std::floor(a.as_double() / b.as_double()));
    return Value::number(floor_mod(a.as_double(), b.as_double()));
  }
  if (op == "**") {
    if (ints) return int_pow(a.as_int(), b.as_int());
    return Value::number(std::pow(a.as_double(), b.as_double()));
  }
  throw_render_error("unknown operator '" + op + "'");
}

bool less_than(const Value& a, const Value& b, WorkBudget* budget) {
  if (budget) budget->spend(1);
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.as_double() < b.as_double();
    return a.as_int() < b.as_int();
  }
  if (a.is_string() && b.is_string()) return a.as_string() < b.as_string();
  if (a.is_sequence() && b.is_sequence()) {
    const auto& x = a.as_list().items;
    const auto& y = b.as_list().items;
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (values_equal(x[i], y[i], budget)) continue;
      return less_than(x[i], y[i], budget);
    }
    return x.size() < y.size();
  }
  if (a.is_undefined() || b.is_undefined()) throw_render_error("undefined value in a comparison");
  throw_render_error(std::string("'<' not supported between instances of '") + type_name(a) + "' and '" +
                     type_name(b) + "'");
}

bool contains(const Value& container, const Value& item, WorkBudget* budget) {
  switch (container.kind()) {
    case ValueKind::kUndefined: return false;
    case ValueKind::kString:
      if (!item.is_string())
        throw_render_error(std::string("'in <string>' requires string as left operand, not ") + type_name(item));
      return container.as_string().find(item.as_string()) != std::string::npos;
    case ValueKind::kList:
      for (const auto& x : container.as_list().items)
        if (values_equal(x, item, budget)) return true;
      return false;
    case ValueKind::kDict:
      if (item.is_list() || item.is_dict())
        throw_render_error(std::string("unhashable type: '") + type_name(item) + "'");
      return container.as_dict().find(item) != nullptr;
    case ValueKind::kNamespace: return container.as_namespace().attrs.find(item) != nullptr;
    default:
      throw_render_error(std::string("argument of type '") + type_name(container) + "' is not iterable");
  }
}

bool compare_op(const std::string& op, const Value& a, const Value& b, WorkBudget* budget) {
  if (op == "==") return values_equal(a, b, budget);
  if (op == "!=") return !values_equal(a, b, budget);
  if (op == "<") return less_than(a, b, budget);
  if (op == ">") return less_than(b, a, budget);
  if (op == "<=") return less_than(a, b, budget) || values_equal(a, b, budget);
  if (op == ">=") return less_than(b, a, budget) || values_equal(a, b, budget);
  if (op == "in") return contains(b, a, budget);
  if (op == "not in") return !contains(b, a, budget);
  throw_render_error("unknown comparison '" + op + "'");
}

Value get_item(Interpreter& interp, const Value& obj, const Value& key) {
  switch (obj.kind()) {
    case ValueKind::kUndefined:
      throw_render_error("cannot subscript an undefined value");
    case ValueKind::kDict:
      if (const Value* v = obj.as_dict().find(key)) return *v;
      break;
    case ValueKind::kNamespace:
      if (const Value* v = obj.as_namespace().attrs.find(key)) return *v;
      break;
    case ValueKind::kList:
    case ValueKind::kString:
      if (obj.is_iterator()) return Value();  // generators are not subscriptable
      if (key.is_int() || key.is_bool()) {
        int64_t i = key.as_int();
        if (obj.is_list()) {
          const auto& items = obj.as_list().items;
          const int64_t n = int64_t(items.size());
          if (i < 0) i += n;
          if (i >= 0 && i < n) return items[size_t(i)];
          return Value();
        }
        const std::string& s = obj.as_string();
        if (utf8::is_ascii(s)) {
          const int64_t n = int64_t(s.size());
          if (i < 0) i += n;
          if (i >= 0 && i < n) return Value::string(std::string(1, s[size_t(i)]));
          return Value();
        }
        const auto offsets = utf8::offsets(s);
        const int64_t n = int64_t(offsets.size()) - 1;
        interp.charge(s.size());
        if (i < 0) i += n;
        if (i >= 0 && i < n) return Value::string(s.substr(offsets[size_t(i)], offsets[size_t(i) + 1] - offsets[size_t(i)]));
        return Value();
      }
      break;
    default:
      break;
  }
  // Jinja falls back to attribute lookup for string keys (x['items'] finds
  // the dict method when there is no such key).
  if (key.is_string()) return get_attribute(interp, obj, key.as_string());
  return Value();
}

Value slice_value(Interpreter& interp, const Value& obj, const Value& start, const Value& stop, const Value& step) {
  if (obj.is_undefined()) throw_render_error("cannot slice an undefined value");
  if (obj.is_sequence()) {
    const auto& items = obj.as_list().items;
    const auto idx = slice_indices(int64_t(items.size()), start, stop, step);
    interp.charge(idx.size() * 8);
    std::vector<Value> out;
    out.reserve(idx.size());
    for (int64_t i : idx) out.push_back(items[size_t(i)]);
    return Value::list(std::move(out), obj.as_list().is_tuple);
  }
  if (obj.is_string()) {
    const std::string& s = obj.as_string();
    interp.charge(s.size());
    std::string out;
    if (utf8::is_ascii(s)) {
      for (int64_t i : slice_indices(int64_t(s.size()), start, stop, step)) out += s[size_t(i)];
    } else {
      const auto offsets = utf8::offsets(s);
      for (int64_t i : slice_indices(int64_t(offsets.size()) - 1, start, stop, step))
        out.append(s, offsets[size_t(i)], offsets[size_t(i) + 1] - offsets[size_t(i)]);
    }
    return interp.make_string(std::move(out));
  }
  if (obj.is_dict()) throw_render_error("unhashable type: 'slice'");
  return Value();  // Jinja turns the TypeError of slicing a non-sequence into Undefined
}

std::string percent_format(Interpreter& interp, const std::string& fmt, const Value& args) {
  std::vector<Value> values;
  if (args.is_list() && args.as_list().is_tuple) values = args.as_list().items;
  else values.push_back(args);
  size_t next = 0;
  std::string out;
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%') {
      out += fmt[i];
      continue;
    }
    // %[flags][width][.precision]conversion, as printf spells it.
    size_t j = i + 1;
    if (j < fmt.size() && fmt[j] == '(')
      throw TemplateError(TemplateErrorKind::kUnsupported, "'%(name)s' formatting is not supported");
    while (j < fmt.size() && std::string_view("-+ 0#").find(fmt[j]) != std::string_view::npos) ++j;
    size_t digits = 0;
    while (j < fmt.size() && std::isdigit(static_cast<unsigned char>(fmt[j])) && digits++ < 3) ++j;
    if (j < fmt.size() && fmt[j] == '.') {
      ++j;
      digits = 0;
      while (j < fmt.size() && std::isdigit(static_cast<unsigned char>(fmt[j])) && digits++ < 3) ++j;
    }
    if (j >= fmt.size()) throw_render_error("incomplete format");
    const char c = fmt[j];
    const std::string spec = fmt.substr(i, j - i);  // "%-5.2", without the conversion
    i = j;
    if (c == '%') {
      out += '%';
      continue;
    }
    if (next >= values.size()) throw_render_error("not enough arguments for format string");
    const Value& v = values[next++];
    char buf[2048];  // widths and precisions are at most 3 digits
    if (c == 's' || c == 'r') {
      const std::string text = c == 's' ? interp.to_str(v) : to_python_repr(v, interp.limits().max_output_bytes);
      if (spec == "%") {
        out += text;
      } else {
        std::snprintf(buf, sizeof buf, (spec + "s").c_str(), text.c_str());
        out += (text.size() < 256) ? std::string(buf) : text;
      }
    } else if (c == 'd' || c == 'i' || c == 'x' || c == 'X' || c == 'o') {
      if (!v.is_number())
        throw_render_error(std::string("%") + c + " format: a number is required, not " + type_name(v));
      const long long n = v.is_float() ? (long long)v.as_double() : (long long)v.as_int();
      std::snprintf(buf, sizeof buf, (spec + "ll" + c).c_str(), n);
      out += buf;
    } else if (c == 'f' || c == 'F' || c == 'e' || c == 'E' || c == 'g' || c == 'G') {
      if (!v.is_number())
        throw_render_error(std::string("%") + c + " format: a number is required, not " + type_name(v));
      std::snprintf(buf, sizeof buf, (spec + c).c_str(), v.as_double());
      out += buf;
    } else {
      throw TemplateError(TemplateErrorKind::kUnsupported, std::string("'%") + c + "' formatting is not supported");
    }
    interp.check_string_size(out.size());
  }
  if (next < values.size()) throw_render_error("not all arguments converted during string formatting");
  return out;
}

}  // namespace minnow::tmpl
