// Functions every template can call. Hugging Face adds raise_exception and
// strftime_now to Jinja's defaults; there is deliberately nothing here that
// reaches files, the clock beyond a date, or the process.
#include <ctime>

#include "template/builtins.h"

namespace minnow::tmpl {
namespace {

Value g_range(Interpreter& interp, CallArgs& a, const Value&) {
  check_arity(a, "range", 3);
  if (a.positional.empty()) throw_render_error("range expected at least 1 argument, got 0");
  int64_t start = 0, stop, step = 1;
  if (a.positional.size() == 1) {
    stop = require_int(a.positional[0], "range() argument");
  } else {
    start = require_int(a.positional[0], "range() argument");
    stop = require_int(a.positional[1], "range() argument");
    if (a.positional.size() == 3) step = require_int(a.positional[2], "range() argument");
  }
  if (step == 0) throw_render_error("range() arg 3 must not be zero");
  // Size first, so range(10**9) fails before allocating anything.
  const long double span = step > 0 ? (long double)stop - start : (long double)start - stop;
  const long double n = span <= 0 ? 0 : (span + (long double)(step > 0 ? step : -step) - 1) /
                                            (long double)(step > 0 ? step : -step);
  interp.check_list_size(n > 1e18L ? size_t(-1) : size_t(n));
  std::vector<Value> out;
  out.reserve(size_t(n));
  for (int64_t i = 0; i < int64_t(n); ++i) out.push_back(Value::integer(start + i * step));
  return Value::list(std::move(out));
}

std::vector<std::pair<Value, Value>> keyword_entries(const CallArgs& a) {
  std::vector<std::pair<Value, Value>> entries;
  for (const auto& [k, v] : a.keyword) entries.emplace_back(Value::string(k), v);
  return entries;
}

Value g_dict(Interpreter&, CallArgs& a, const Value&) {
  if (a.positional.size() > 1) throw_render_error("dict() takes at most one positional argument");
  std::vector<std::pair<Value, Value>> entries;
  if (!a.positional.empty()) {
    if (!a.positional[0].is_dict()) throw_render_error("dict() positional argument must be a mapping");
    entries = a.positional[0].as_dict().entries;
  }
  for (auto& e : keyword_entries(a)) entries.push_back(std::move(e));
  return Value::dict(std::move(entries));
}

Value g_namespace(Interpreter& interp, CallArgs& a, const Value&) {
  std::vector<std::pair<Value, Value>> entries;
  if (a.positional.size() > 1) throw_render_error("namespace() takes at most one positional argument");
  if (!a.positional.empty()) {
    if (!a.positional[0].is_dict()) throw_render_error("namespace() positional argument must be a mapping");
    entries = a.positional[0].as_dict().entries;
  }
  for (auto& e : keyword_entries(a)) entries.push_back(std::move(e));
  return interp.make_namespace(std::move(entries));
}

Value g_raise_exception(Interpreter& interp, CallArgs& a, const Value&) {
  const Value& msg = arg_at(a, 0, "message");
  throw_render_error(msg.is_undefined() ? std::string("raise_exception() called") : interp.to_str(msg));
}

Value g_strftime_now(Interpreter& interp, CallArgs& a, const Value&) {
  check_arity(a, "strftime_now", 1);
  const std::string fmt = require_string(arg_at(a, 0, "format"), "strftime_now() format");
  if (fmt.empty()) return Value::string("");
  // %c and friends could expand a lot; cap the buffer and retry once bigger.
  const size_t cap = std::min<size_t>(fmt.size() * 64 + 64, interp.limits().max_output_bytes);
  std::string buf(cap, '\0');
  const size_t n = std::strftime(buf.data(), buf.size(), fmt.c_str(), &interp.now());
  if (n == 0) throw_render_error("strftime_now(): result too long or empty for format '" + fmt + "'");
  buf.resize(n);
  return interp.make_string(std::move(buf));
}

Value native(const char* name, NativeFunction::Fn fn) {
  return Value::callable(std::make_shared<NativeFunction>(name, fn));
}

}  // namespace

std::vector<std::pair<std::string, Value>> make_globals() {
  return {
      {"range", native("range", g_range)},
      {"dict", native("dict", g_dict)},
      {"namespace", native("namespace", g_namespace)},
      {"raise_exception", native("raise_exception", g_raise_exception)},
      {"strftime_now", native("strftime_now", g_strftime_now)},
  };
}

}  // namespace minnow::tmpl
