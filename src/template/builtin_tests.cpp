// `x is name`: Jinja's builtin tests, with Python's type rules (bool is a
// number; strings are iterable sequences but not mappings; Undefined is
// iterable and not defined).
#include "template/builtins.h"
#include "template/operations.h"
#include "template/utf8.h"

namespace minnow::tmpl {
namespace {

const Value& test_arg(const CallArgs& args, const std::string& test) {
  if (args.positional.empty()) throw_render_error("test '" + test + "' needs an argument");
  return args.positional[0];
}

bool same_object(const Value& a, const Value& b) {
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case ValueKind::kUndefined: case ValueKind::kNone: return true;
    case ValueKind::kBool: return a.as_bool() == b.as_bool();
    case ValueKind::kInt: return a.as_int() == b.as_int();
    case ValueKind::kString: return &a.as_string() == &b.as_string();
    case ValueKind::kList: return &a.as_list() == &b.as_list();
    case ValueKind::kDict: return &a.as_dict() == &b.as_dict();
    case ValueKind::kNamespace: return &a.as_namespace() == &b.as_namespace();
    case ValueKind::kCallable: return &a.as_callable() == &b.as_callable();
    case ValueKind::kLoop: return &a.as_loop() == &b.as_loop();
    default: return false;
  }
}

}  // namespace

bool apply_test(Interpreter& interp, const std::string& name, const Value& v, const CallArgs& args) {
  interp.step();
  if (name == "defined") return !v.is_undefined();
  if (name == "undefined") return v.is_undefined();
  if (name == "none") return v.is_none();
  if (name == "string") return v.is_string();
  if (name == "mapping") return v.is_dict();
  if (name == "iterable") return v.is_undefined() || v.is_string() || v.is_list() || v.is_dict();
  if (name == "sequence") return v.is_undefined() || v.is_string() || v.is_sequence() || v.is_dict();
  if (name == "number") return v.is_number();
  if (name == "integer") return v.is_int();
  if (name == "float") return v.is_float();
  if (name == "boolean") return v.is_bool();
  if (name == "true") return v.is_bool() && v.as_bool();
  if (name == "false") return v.is_bool() && !v.as_bool();
  if (name == "callable") return v.is_callable() || v.is_undefined();  // Undefined defines __call__
  if (name == "escaped") return false;
  if (name == "equalto" || name == "eq" || name == "==") return values_equal(v, test_arg(args, name), &interp.budget());
  if (name == "ne" || name == "!=") return !values_equal(v, test_arg(args, name), &interp.budget());
  if (name == "lt" || name == "lessthan" || name == "<") return compare_op("<", v, test_arg(args, name), &interp.budget());
  if (name == "le" || name == "<=") return compare_op("<=", v, test_arg(args, name), &interp.budget());
  if (name == "gt" || name == "greaterthan" || name == ">") return compare_op(">", v, test_arg(args, name), &interp.budget());
  if (name == "ge" || name == ">=") return compare_op(">=", v, test_arg(args, name), &interp.budget());
  if (name == "in") return contains(test_arg(args, name), v, &interp.budget());
  if (name == "sameas") return same_object(v, test_arg(args, name));
  if (name == "odd" || name == "even") {  // value % 2, so floats work too
    const Value rem = binary_op(interp, "%", v, Value::integer(2));
    return values_equal(rem, Value::integer(name == "odd" ? 1 : 0));
  }
  if (name == "divisibleby") return values_equal(binary_op(interp, "%", v, test_arg(args, name)), Value::integer(0));
  if (name == "lower" || name == "upper") {
    const std::string s = interp.to_str(v);
    const std::string cased = name == "lower" ? utf8::to_lower(s) : utf8::to_upper(s);
    const std::string other = name == "lower" ? utf8::to_upper(s) : utf8::to_lower(s);
    return s == cased && s != other;  // at least one cased character, none of the other case
  }
  throw TemplateError(TemplateErrorKind::kUnsupported, "the test '" + name + "' is not supported");
}

bool is_known_test(const std::string& name) {
  static const char* const kTests[] = {
      "defined", "undefined", "none", "string", "mapping", "iterable", "sequence", "number", "integer",
      "float", "boolean", "true", "false", "callable", "escaped", "equalto", "eq", "==", "ne", "!=",
      "lt", "lessthan", "<", "le", "<=", "gt", "greaterthan", ">", "ge", ">=", "in", "sameas", "odd",
      "even", "divisibleby", "lower", "upper"};
  for (const char* t : kTests)
    if (name == t) return true;
  return false;
}

}  // namespace minnow::tmpl
