// x.name: dict keys and namespace attributes, and the methods of str, dict
// and list that chat templates call. Mutating methods are refused, as in
// Hugging Face's ImmutableSandboxedEnvironment; nothing else (no dunder
// attributes, no Python internals) is reachable.
#include <cstring>

#include "template/builtins.h"
#include "template/operations.h"
#include "template/python_strings.h"
#include "template/utf8.h"

namespace minnow::tmpl {
namespace {

std::optional<std::string> optional_string(const Value& v, const char* what) {
  if (v.is_undefined() || v.is_none()) return std::nullopt;
  return require_string(v, what);
}

const std::string& self_str(const Value& self) { return self.as_string(); }

Value str_strip_impl(Interpreter& interp, CallArgs& a, const Value& self, bool left, bool right, const char* fn) {
  check_arity(a, fn, 1);
  return interp.make_string(py_strip(self_str(self), optional_string(arg_at(a, 0, "chars"), "chars"), left, right));
}
Value str_strip(Interpreter& i, CallArgs& a, const Value& s) { return str_strip_impl(i, a, s, true, true, "strip"); }
Value str_lstrip(Interpreter& i, CallArgs& a, const Value& s) { return str_strip_impl(i, a, s, true, false, "lstrip"); }
Value str_rstrip(Interpreter& i, CallArgs& a, const Value& s) { return str_strip_impl(i, a, s, false, true, "rstrip"); }

Value str_split(Interpreter& interp, CallArgs& a, const Value& self) {
  check_arity(a, "split", 2, {"sep", "maxsplit"});
  const Value& max = arg_at(a, 1, "maxsplit");
  const auto parts = py_split(self_str(self), optional_string(arg_at(a, 0, "sep"), "sep"),
                              max.is_undefined() ? -1 : require_int(max, "maxsplit"));
  interp.check_list_size(parts.size());
  std::vector<Value> out;
  out.reserve(parts.size());
  for (const auto& p : parts) out.push_back(Value::string(p));
  return Value::list(std::move(out));
}

Value str_affix(CallArgs& a, const Value& self, bool prefix) {
  check_arity(a, prefix ? "startswith" : "endswith", 1);
  const Value& arg = arg_at(a, 0, "");
  const std::string& s = self_str(self);
  auto matches = [&](const Value& v) {
    const std::string p = require_string(v, prefix ? "startswith() argument" : "endswith() argument");
    if (p.size() > s.size()) return false;
    return prefix ? s.compare(0, p.size(), p) == 0 : s.compare(s.size() - p.size(), p.size(), p) == 0;
  };
  if (arg.is_list() && arg.as_list().is_tuple) {
    for (const auto& v : arg.as_list().items)
      if (matches(v)) return Value::boolean(true);
    return Value::boolean(false);
  }
  return Value::boolean(matches(arg));
}
Value str_startswith(Interpreter&, CallArgs& a, const Value& s) { return str_affix(a, s, true); }
Value str_endswith(Interpreter&, CallArgs& a, const Value& s) { return str_affix(a, s, false); }

Value str_upper(Interpreter& i, CallArgs& a, const Value& s) {
  check_arity(a, "upper", 0);
  return i.make_string(utf8::to_upper(self_str(s)));
}
Value str_lower(Interpreter& i, CallArgs& a, const Value& s) {
  check_arity(a, "lower", 0);
  return i.make_string(utf8::to_lower(self_str(s)));
}
Value str_title(Interpreter& i, CallArgs& a, const Value& s) {
  check_arity(a, "title", 0);
  return i.make_string(utf8::to_title(self_str(s)));
}
Value str_capitalize(Interpreter& i, CallArgs& a, const Value& s) {
  check_arity(a, "capitalize", 0);
  return i.make_string(utf8::capitalize(self_str(s)));
}

Value str_replace(Interpreter& interp, CallArgs& a, const Value& self) {
  check_arity(a, "replace", 3, {"count"});
  const Value& count = arg_at(a, 2, "count");
  return interp.make_string(py_replace(interp, self_str(self), require_string(arg_at(a, 0, "old"), "old"),
                                       require_string(arg_at(a, 1, "new"), "new"),
                                       count.is_undefined() ? -1 : require_int(count, "count")));
}

Value str_format(Interpreter& interp, CallArgs& a, const Value& self) {
  return interp.make_string(py_format(interp, self_str(self), a));
}

Value str_join(Interpreter& interp, CallArgs& a, const Value& self) {
  check_arity(a, "join", 1);
  std::string out;
  bool first = true;
  for (const auto& item : iterate_value(interp, arg_at(a, 0, ""))) {
    if (!first) out += self_str(self);
    first = false;
    out += require_string(item, "join() item");
    interp.check_string_size(out.size());
  }
  return interp.make_string(std::move(out));
}

Value str_find(Interpreter&, CallArgs& a, const Value& self) {
  check_arity(a, "find", 1);
  const std::string& s = self_str(self);
  const size_t at = s.find(require_string(arg_at(a, 0, "sub"), "sub"));
  if (at == std::string::npos) return Value::integer(-1);
  return Value::integer(int64_t(utf8::count(std::string_view(s).substr(0, at))));
}

Value str_count(Interpreter&, CallArgs& a, const Value& self) {
  check_arity(a, "count", 1);
  const std::string& s = self_str(self);
  const std::string sub = require_string(arg_at(a, 0, "sub"), "sub");
  if (sub.empty()) return Value::integer(int64_t(utf8::count(s)) + 1);
  int64_t n = 0;
  for (size_t at = s.find(sub); at != std::string::npos; at = s.find(sub, at + sub.size())) ++n;
  return Value::integer(n);
}

template <bool (*Pred)(unsigned char)>
Value str_is(Interpreter&, CallArgs& a, const Value& self) {
  check_arity(a, "is...", 0);
  const std::string& s = self_str(self);
  if (s.empty()) return Value::boolean(false);
  for (char c : s)
    if (!Pred(static_cast<unsigned char>(c))) return Value::boolean(false);
  return Value::boolean(true);
}
bool ascii_digit(unsigned char c) { return std::isdigit(c) != 0; }
bool ascii_alpha(unsigned char c) { return std::isalpha(c) != 0 || c >= 0x80; }
bool ascii_space(unsigned char c) { return std::isspace(c) != 0; }

Value dict_items(Interpreter& interp, CallArgs& a, const Value& self) {
  check_arity(a, "items", 0);
  interp.check_list_size(self.as_dict().entries.size());
  std::vector<Value> out;
  for (const auto& [k, v] : self.as_dict().entries) out.push_back(Value::list({k, v}, true));
  return Value::list(std::move(out));
}
Value dict_keys(Interpreter& interp, CallArgs& a, const Value& self) {
  check_arity(a, "keys", 0);
  interp.check_list_size(self.as_dict().entries.size());
  std::vector<Value> out;
  for (const auto& [k, v] : self.as_dict().entries) out.push_back(k);
  return Value::list(std::move(out));
}
Value dict_values(Interpreter& interp, CallArgs& a, const Value& self) {
  check_arity(a, "values", 0);
  interp.check_list_size(self.as_dict().entries.size());
  std::vector<Value> out;
  for (const auto& [k, v] : self.as_dict().entries) out.push_back(v);
  return Value::list(std::move(out));
}
Value dict_get(Interpreter&, CallArgs& a, const Value& self) {
  check_arity(a, "get", 2);
  if (a.positional.empty()) throw_render_error("get() expects at least 1 argument");
  if (const Value* v = self.as_dict().find(a.positional[0])) return *v;
  return a.positional.size() > 1 ? a.positional[1] : Value::none();
}

Value list_index(Interpreter& interp, CallArgs& a, const Value& self) {
  check_arity(a, "index", 1);
  const auto& items = self.as_list().items;
  for (size_t i = 0; i < items.size(); ++i)
    if (values_equal(items[i], arg_at(a, 0, ""), &interp.budget())) return Value::integer(int64_t(i));
  throw_render_error("list.index(x): x not in list");
}
Value list_count(Interpreter& interp, CallArgs& a, const Value& self) {
  check_arity(a, "count", 1);
  int64_t n = 0;
  for (const auto& item : self.as_list().items) n += values_equal(item, arg_at(a, 0, ""), &interp.budget()) ? 1 : 0;
  return Value::integer(n);
}

struct Method {
  const char* name;
  NativeFunction::Fn fn;
};

const Method kStringMethods[] = {
    {"strip", str_strip},       {"lstrip", str_lstrip},         {"rstrip", str_rstrip},
    {"split", str_split},       {"startswith", str_startswith}, {"endswith", str_endswith},
    {"upper", str_upper},       {"lower", str_lower},           {"title", str_title},
    {"capitalize", str_capitalize}, {"replace", str_replace},   {"format", str_format},
    {"join", str_join},         {"find", str_find},             {"count", str_count},
    {"isdigit", str_is<ascii_digit>}, {"isalpha", str_is<ascii_alpha>}, {"isspace", str_is<ascii_space>},
};
const Method kDictMethods[] = {
    {"items", dict_items}, {"keys", dict_keys}, {"values", dict_values}, {"get", dict_get},
};
const Method kListMethods[] = {{"index", list_index}, {"count", list_count}};
const char* const kMutatingMethods[] = {"append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse",
                                        "update", "setdefault", "popitem", "add", "discard"};

template <size_t N>
Value bind(const Method (&table)[N], const std::string& name, const Value& self, bool* found) {
  for (const auto& m : table) {
    if (name == m.name) {
      *found = true;
      return Value::callable(std::make_shared<NativeFunction>(name, m.fn, self));
    }
  }
  *found = false;
  return Value();
}

void refuse_mutation(const Value& obj, const std::string& name) {
  for (const char* m : kMutatingMethods)
    if (name == m)
      throw_render_error("access to attribute '" + name + "' of '" + type_name(obj) +
                         "' object is unsafe (templates cannot modify values)");
}

// loop.cycle(a, b, ...): self is the iteration's index0.
Value loop_cycle(Interpreter&, CallArgs& args, const Value& self) {
  if (args.positional.empty()) throw_render_error("loop.cycle() needs at least one argument");
  return args.positional[size_t(self.as_int()) % args.positional.size()];
}

Value loop_attribute(const LoopData& loop, const std::string& name) {
  const int64_t n = int64_t(loop.items->size());
  const int64_t i = int64_t(loop.index);
  if (name == "index") return Value::integer(i + 1);
  if (name == "index0") return Value::integer(i);
  if (name == "revindex") return Value::integer(n - i);
  if (name == "revindex0") return Value::integer(n - i - 1);
  if (name == "first") return Value::boolean(i == 0);
  if (name == "last") return Value::boolean(i == n - 1);
  if (name == "length") return Value::integer(n);
  if (name == "depth") return Value::integer(1);
  if (name == "depth0") return Value::integer(0);
  if (name == "previtem") return i > 0 ? (*loop.items)[size_t(i - 1)] : Value();
  if (name == "nextitem") return i + 1 < n ? (*loop.items)[size_t(i + 1)] : Value();
  if (name == "cycle")
    return Value::callable(std::make_shared<NativeFunction>("loop.cycle", loop_cycle, Value::integer(i)));
  return Value();
}

}  // namespace

Value get_attribute(Interpreter& interp, const Value& obj, const std::string& name) {
  bool found = false;
  switch (obj.kind()) {
    case ValueKind::kDict: {
      Value m = bind(kDictMethods, name, obj, &found);
      if (found) return m;
      refuse_mutation(obj, name);
      if (const Value* v = obj.as_dict().find(Value::string(name))) return *v;
      return Value();
    }
    case ValueKind::kNamespace:
      if (const Value* v = obj.as_namespace().attrs.find(Value::string(name))) return *v;
      return Value();
    case ValueKind::kString: {
      Value m = bind(kStringMethods, name, obj, &found);
      return found ? m : Value();
    }
    case ValueKind::kList: {
      Value m = bind(kListMethods, name, obj, &found);
      if (found) return m;
      refuse_mutation(obj, name);
      return Value();
    }
    case ValueKind::kLoop:
      return loop_attribute(obj.as_loop(), name);
    default:
      return Value();
  }
}

const Value& arg_at(const CallArgs& args, size_t i, const char* name) {
  static const Value kUndefined;
  if (i < args.positional.size()) return args.positional[i];
  if (name && *name)
    for (const auto& [k, v] : args.keyword)
      if (k == name) return v;
  return kUndefined;
}

void check_arity(const CallArgs& args, const char* fn, size_t max_positional,
                 std::initializer_list<const char*> keywords) {
  if (args.positional.size() > max_positional)
    throw_render_error(std::string(fn) + "() takes at most " + std::to_string(max_positional) + " argument(s), got " +
                       std::to_string(args.positional.size()));
  for (const auto& [k, v] : args.keyword) {
    bool known = false;
    for (const char* allowed : keywords) known = known || k == allowed;
    if (!known) throw_render_error(std::string(fn) + "() got an unexpected keyword argument '" + k + "'");
  }
}

std::string require_string(const Value& v, const char* what) {
  if (!v.is_string()) throw_render_error(std::string(what) + " must be a string, not '" + type_name(v) + "'");
  return v.as_string();
}

int64_t require_int(const Value& v, const char* what) {
  if (!v.is_int() && !v.is_bool())
    throw_render_error(std::string(what) + " must be an integer, not '" + type_name(v) + "'");
  return v.as_int();
}

}  // namespace minnow::tmpl
