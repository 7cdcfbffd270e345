#include "template/interpreter.h"

#include <algorithm>

#include "template/builtins.h"
#include "template/operations.h"
#include "template/utf8.h"

namespace minnow::tmpl {
namespace {

[[noreturn]] void limit_error(const std::string& message) {
  throw TemplateError(TemplateErrorKind::kLimit, message);
}

// A {% macro %}, or the body of a {% call %} block bound as `caller`.
class MacroFunction : public Callable {
 public:
  MacroFunction(const Stmt& def, std::weak_ptr<Scope> closure, Value caller = Value())
      : def_(def), closure_(std::move(closure)), caller_(std::move(caller)) {}

  Value call(Interpreter& interp, CallArgs& args, const SourcePos& pos) const override {
    interp.enter_call(pos);
    struct Leave {
      Interpreter& i;
      ~Leave() { i.leave_call(); }
    } leave{interp};
    // The defining scope outlives the macro unless the macro escaped it
    // (stored in a namespace); then names resolve at the top level.
    auto parent = closure_.lock();
    if (!parent) parent = interp.root_scope();
    auto scope = std::make_shared<Scope>();
    scope->parent = std::move(parent);
    const auto& params = def_.params;
    if (args.positional.size() > params.size() && !def_.uses_varargs) {
      throw_render_error(describe() + " takes not more than " + std::to_string(params.size()) +
                         " argument(s), got " + std::to_string(args.positional.size()));
    }
    std::vector<bool> bound(params.size(), false);
    for (size_t i = 0; i < params.size() && i < args.positional.size(); ++i) {
      scope->set(params[i], args.positional[i]);
      bound[i] = true;
    }
    std::vector<std::pair<Value, Value>> extra_kwargs;
    Value caller = caller_;
    for (auto& [key, value] : args.keyword) {
      auto it = std::find(params.begin(), params.end(), key);
      if (it != params.end()) {
        const size_t i = size_t(it - params.begin());
        if (bound[i]) throw_render_error(describe() + " got multiple values for argument '" + key + "'");
        scope->set(key, value);
        bound[i] = true;
      } else if (key == "caller") {
        caller = value;
      } else if (def_.uses_kwargs) {
        extra_kwargs.emplace_back(Value::string(key), value);
      } else {
        throw_render_error(describe() + " takes no keyword argument '" + key + "'");
      }
    }
    for (size_t i = 0; i < params.size(); ++i) {
      if (bound[i]) continue;
      scope->set(params[i], def_.defaults[i] ? interp.eval(*def_.defaults[i], scope) : Value());
    }
    if (def_.uses_varargs) {
      std::vector<Value> rest;
      for (size_t i = params.size(); i < args.positional.size(); ++i) rest.push_back(args.positional[i]);
      scope->set("varargs", Value::list(std::move(rest), true));
    }
    if (def_.uses_kwargs) scope->set("kwargs", Value::dict(std::move(extra_kwargs)));
    if (!caller.is_undefined()) scope->set("caller", caller);
    return Value::string(interp.run_body(def_.body, scope));
  }

  std::string describe() const override {
    return def_.kind == StmtKind::kMacro ? "macro '" + def_.name + "'" : "caller";
  }

 private:
  const Stmt& def_;
  std::weak_ptr<Scope> closure_;
  Value caller_;
};

// Source-like text of simple expressions (names, attribute chains), so an
// error can say which value was undefined.
std::string describe_expr(const Expr& e) {
  switch (e.kind) {
    case ExprKind::kName: return e.name;
    case ExprKind::kAttribute: return describe_expr(*e.children[0]) + "." + e.name;
    case ExprKind::kSubscript:
      if (e.children[1]->kind == ExprKind::kLiteral && e.children[1]->literal.is_string())
        return describe_expr(*e.children[0]) + "['" + e.children[1]->literal.as_string() + "']";
      if (e.children[1]->kind == ExprKind::kLiteral && e.children[1]->literal.is_int())
        return describe_expr(*e.children[0]) + "[" + std::to_string(e.children[1]->literal.as_int()) + "]";
      return describe_expr(*e.children[0]) + "[...]";
    default: return "expression";
  }
}

[[noreturn]] void undefined_error(const Expr& value_expr, const std::string& action) {
  throw_render_error("'" + describe_expr(value_expr) + "' is undefined (" + action + ")");
}

// Bytes-equivalent work of comparing or searching `v` (see Interpreter::charge).
size_t comparison_cost(const Value& v) {
  if (v.is_string()) return v.as_string().size();
  if (v.is_list()) return v.as_list().items.size() * 16;
  if (v.is_dict()) return v.as_dict().entries.size() * 16;
  return 0;
}

}  // namespace

Value* Scope::find_local(const std::string& name) {
  for (auto& [k, v] : vars)
    if (k == name) return &v;
  return nullptr;
}

void Scope::set(const std::string& name, Value v) {
  if (Value* existing = find_local(name)) *existing = std::move(v);
  else vars.emplace_back(name, std::move(v));
}

Interpreter::Interpreter(const TemplateLimits& limits, std::tm now)
    : limits_(limits), now_(now), globals_(make_globals()) {
  budget_.left = limits_.max_steps;
}

Interpreter::~Interpreter() {
  // namespace() objects may hold each other (or themselves); break the cycles.
  for (auto& ns : namespaces_) ns->attrs.entries.clear();
  if (root_) root_->vars.clear();
}

void Interpreter::step() {
  if (budget_.left == 0)
    limit_error("template exceeded the step limit (" + std::to_string(limits_.max_steps) + " steps)");
  --budget_.left;
}

void Interpreter::charge(size_t bytes) {
  const uint64_t units = bytes / 64;
  budget_.left = units >= budget_.left ? 0 : budget_.left - units;
  step();
}

void Interpreter::check_string_size(size_t bytes) const {
  if (bytes > limits_.max_output_bytes)
    limit_error("string of " + std::to_string(bytes) + " bytes exceeds the limit of " +
                std::to_string(limits_.max_output_bytes) + " bytes");
}

void Interpreter::check_list_size(size_t n) {
  if (n > limits_.max_loop_iterations)
    limit_error("list of " + std::to_string(n) + " items exceeds the limit of " +
                std::to_string(limits_.max_loop_iterations));
  charge(n * 64);  // building a Value costs about one step
}

Value Interpreter::make_string(std::string s) {
  check_string_size(s.size());
  charge(s.size());
  return Value::string(std::move(s));
}

Value Interpreter::make_namespace(std::vector<std::pair<Value, Value>> attrs) {
  auto ns = std::make_shared<NamespaceData>();
  for (auto& [k, v] : attrs) ns->attrs.insert_or_assign(std::move(k), std::move(v));
  namespaces_.push_back(ns);
  return Value::namespace_object(std::move(ns));
}

void Interpreter::enter_call(const SourcePos& pos) {
  if (++call_depth_ > limits_.max_call_depth) {
    --call_depth_;
    throw TemplateError(TemplateErrorKind::kLimit,
                        "macro calls nested deeper than " + std::to_string(limits_.max_call_depth) +
                            " (infinite recursion?)",
                        pos);
  }
}

Value Interpreter::call(const Value& fn, CallArgs& args, const SourcePos& pos) {
  if (fn.is_undefined()) throw_render_error("called an undefined value");
  if (!fn.is_callable()) throw_render_error(std::string("'") + type_name(fn) + "' object is not callable");
  return fn.as_callable().call(*this, args, pos);
}

std::string Interpreter::render(const TemplateAst& ast, std::vector<std::pair<std::string, Value>> variables) {
  root_ = std::make_shared<Scope>();
  root_->vars = std::move(variables);
  std::string out;
  exec_body(ast.body, root_, out);
  return out;
}

std::string Interpreter::run_body(const Body& body, const std::shared_ptr<Scope>& scope) {
  std::string out;
  exec_body(body, scope, out);
  return out;
}

void Interpreter::append_output(std::string& out, std::string_view text) {
  if (out.size() + text.size() > limits_.max_output_bytes)
    limit_error("output exceeds the limit of " + std::to_string(limits_.max_output_bytes) + " bytes");
  charge(text.size());
  out.append(text);
}

Value Interpreter::lookup(const std::string& name, const std::shared_ptr<Scope>& scope) const {
  for (const Scope* s = scope.get(); s; s = s->parent.get()) {
    for (const auto& [k, v] : s->vars)
      if (k == name) return v;
  }
  for (const auto& [k, v] : globals_)
    if (k == name) return v;
  return Value();
}

// --- statements --------------------------------------------------------------

Interpreter::Flow Interpreter::exec_body(const Body& body, const std::shared_ptr<Scope>& scope, std::string& out) {
  for (const auto& s : body) {
    const Flow f = exec(*s, scope, out);
    if (f != Flow::kNormal) return f;
  }
  return Flow::kNormal;
}

Interpreter::Flow Interpreter::exec(const Stmt& s, const std::shared_ptr<Scope>& scope, std::string& out) {
  try {
    step();
    switch (s.kind) {
      case StmtKind::kText:
        append_output(out, s.text);
        return Flow::kNormal;
      case StmtKind::kOutput: {
        const Value v = eval(*s.expr, scope);
        if (v.is_string()) append_output(out, v.as_string());
        else append_output(out, to_str(v));
        return Flow::kNormal;
      }
      case StmtKind::kIf:
        for (const auto& [cond, body] : s.branches)
          if (eval(*cond, scope).truthy()) return exec_body(body, scope, out);
        return exec_body(s.else_body, scope, out);
      case StmtKind::kFor:
        return exec_for(s, scope, out);
      case StmtKind::kSet:
        exec_set(s, scope);
        return Flow::kNormal;
      case StmtKind::kSetBlock: {
        Value v = make_string(run_body(s.body, scope));
        if (s.filter) v = eval_filter(*s.filter, scope, &v);
        scope->set(s.targets[0], std::move(v));
        return Flow::kNormal;
      }
      case StmtKind::kFilterBlock: {
        const Value body = make_string(run_body(s.body, scope));
        append_output(out, to_str(eval_filter(*s.filter, scope, &body)));
        return Flow::kNormal;
      }
      case StmtKind::kMacro:
        scope->captured = true;
        scope->set(s.name, Value::callable(std::make_shared<MacroFunction>(s, scope)));
        return Flow::kNormal;
      case StmtKind::kCallBlock:
        exec_call_block(s, scope, out);
        return Flow::kNormal;
      case StmtKind::kBreak:
        return Flow::kBreak;
      case StmtKind::kContinue:
        return Flow::kContinue;
    }
  } catch (TemplateError& e) {
    e.set_pos_if_unknown(s.pos);
    throw;
  }
  return Flow::kNormal;
}

void Interpreter::bind_targets(const std::vector<std::string>& targets, const Value& v, Scope& scope) {
  if (targets.size() == 1) {
    scope.set(targets[0], v);
    return;
  }
  const std::vector<Value> parts = iterate_value(*this, v);
  if (parts.size() != targets.size()) {
    throw_render_error(parts.size() < targets.size()
                           ? "not enough values to unpack (expected " + std::to_string(targets.size()) + ", got " +
                                 std::to_string(parts.size()) + ")"
                           : "too many values to unpack (expected " + std::to_string(targets.size()) + ")");
  }
  for (size_t i = 0; i < targets.size(); ++i) scope.set(targets[i], parts[i]);
}

Interpreter::Flow Interpreter::exec_for(const Stmt& s, const std::shared_ptr<Scope>& scope, std::string& out) {
  const Value iterable = eval(*s.expr, scope);
  // Lists are iterated in place; anything else is unpacked into items first.
  std::shared_ptr<const std::vector<Value>> items =
      iterable.is_list() ? iterable.shared_list_items()
                         : std::make_shared<const std::vector<Value>>(iterate_value(*this, iterable));
  // Each iteration starts from a fresh scope: in Jinja, a {% set %} in the
  // body is not seen by the next iteration (nor after the loop). The previous
  // one is recycled unless a macro defined in it still refers to it.
  std::shared_ptr<Scope> spare;
  auto fresh_scope = [&] {
    if (spare && !spare->captured && spare.use_count() == 1) {
      spare->vars.clear();
      return spare;
    }
    spare = std::make_shared<Scope>();
    spare->parent = scope;
    return spare;
  };
  if (s.filter) {
    std::vector<Value> kept;
    for (const auto& item : *items) {
      step();
      auto filter_scope = fresh_scope();
      bind_targets(s.targets, item, *filter_scope);
      if (eval(*s.filter, filter_scope).truthy()) kept.push_back(item);
    }
    items = std::make_shared<const std::vector<Value>>(std::move(kept));
  }
  for (size_t i = 0; i < items->size(); ++i) {
    if (++loop_iterations_ > limits_.max_loop_iterations)
      limit_error("loops ran more than " + std::to_string(limits_.max_loop_iterations) + " iterations");
    step();
    auto loop_scope = fresh_scope();
    bind_targets(s.targets, (*items)[i], *loop_scope);
    if (s.uses_loop) loop_scope->set("loop", Value::loop(std::make_shared<const LoopData>(LoopData{items, i})));
    if (exec_body(s.body, loop_scope, out) == Flow::kBreak) break;
  }
  if (items->empty()) return exec_body(s.else_body, scope, out);
  return Flow::kNormal;
}

void Interpreter::exec_set(const Stmt& s, const std::shared_ptr<Scope>& scope) {
  Value v = eval(*s.expr, scope);
  if (s.attribute.empty()) {
    bind_targets(s.targets, v, *scope);
    return;
  }
  const Value target = lookup(s.targets[0], scope);
  if (!target.is_namespace())
    throw_render_error("cannot assign attribute '" + s.attribute + "' on '" + s.targets[0] +
                       "': only namespace() objects can be changed");
  target.as_namespace().attrs.insert_or_assign(Value::string(s.attribute), std::move(v));
}

void Interpreter::exec_call_block(const Stmt& s, const std::shared_ptr<Scope>& scope, std::string& out) {
  const Expr& call = *s.expr;
  Value fn = eval(*call.children[0], scope);
  CallArgs args = eval_args(call, scope, 1);
  scope->captured = true;
  args.keyword.emplace_back("caller", Value::callable(std::make_shared<MacroFunction>(s, scope)));
  const Value result = this->call(fn, args, call.pos);
  append_output(out, to_str(result));
}

// --- expressions -------------------------------------------------------------

Value Interpreter::eval(const Expr& e, const std::shared_ptr<Scope>& scope) {
  try {
    step();
    return eval_inner(e, scope);
  } catch (TemplateError& err) {
    err.set_pos_if_unknown(e.pos);
    throw;
  }
}

CallArgs Interpreter::eval_args(const Expr& e, const std::shared_ptr<Scope>& scope, size_t first_child) {
  CallArgs args;
  for (size_t i = first_child; i < e.children.size(); ++i) args.positional.push_back(eval(*e.children[i], scope));
  for (const auto& [k, v] : e.keyword) args.keyword.emplace_back(k, eval(*v, scope));
  return args;
}

Value Interpreter::eval_inner(const Expr& e, const std::shared_ptr<Scope>& scope) {
  switch (e.kind) {
    case ExprKind::kLiteral:
      return e.literal;
    case ExprKind::kName:
      return lookup(e.name, scope);
    case ExprKind::kList:
    case ExprKind::kTuple: {
      std::vector<Value> items;
      items.reserve(e.children.size());
      for (const auto& c : e.children) items.push_back(eval(*c, scope));
      return Value::list(std::move(items), e.kind == ExprKind::kTuple);
    }
    case ExprKind::kDict: {
      std::vector<std::pair<Value, Value>> entries;
      for (size_t i = 0; i + 1 < e.children.size(); i += 2) {
        Value k = eval(*e.children[i], scope);
        if (k.is_list() || k.is_dict() || k.is_undefined())
          throw_render_error(std::string("unhashable type: '") + type_name(k) + "'", e.children[i]->pos);
        entries.emplace_back(std::move(k), eval(*e.children[i + 1], scope));
      }
      return Value::dict(std::move(entries));
    }
    case ExprKind::kAttribute: {
      const Value obj = eval(*e.children[0], scope);
      if (obj.is_undefined()) undefined_error(*e.children[0], "reading attribute '" + e.name + "'");
      return get_attribute(*this, obj, e.name);
    }
    case ExprKind::kSubscript: {
      const Value obj = eval(*e.children[0], scope);
      if (obj.is_undefined()) undefined_error(*e.children[0], "subscripting it");
      const Value key = eval(*e.children[1], scope);
      return get_item(*this, obj, key);
    }
    case ExprKind::kSlice: {
      const Value obj = eval(*e.children[0], scope);
      Value parts[3];
      for (int k = 0; k < 3; ++k)
        if (e.children[size_t(k) + 1]) parts[k] = eval(*e.children[size_t(k) + 1], scope);
      return slice_value(*this, obj, parts[0], parts[1], parts[2]);
    }
    case ExprKind::kCall:
      return eval_call(e, scope);
    case ExprKind::kFilter:
      return eval_filter(e, scope, nullptr);
    case ExprKind::kTest:
      return eval_test(e, scope);
    case ExprKind::kUnary: {
      const Value v = eval(*e.children[0], scope);
      if (e.name == "not") return Value::boolean(!v.truthy());
      if (v.is_undefined()) throw_render_error("unary '" + e.name + "' on an undefined value");
      if (!v.is_number()) throw_render_error("bad operand type for unary " + e.name + ": '" + type_name(v) + "'");
      if (e.name == "+") return v.is_float() ? v : Value::integer(v.as_int());
      if (v.is_float()) return Value::number(-v.as_double());
      if (v.as_int() == INT64_MIN) throw_render_error("integer overflow");
      return Value::integer(-v.as_int());
    }
    case ExprKind::kBinary: {
      if (e.name == "and" || e.name == "or") {
        Value lhs = eval(*e.children[0], scope);
        if (lhs.truthy() == (e.name == "or")) return lhs;
        return eval(*e.children[1], scope);
      }
      const Value lhs = eval(*e.children[0], scope);
      const Value rhs = eval(*e.children[1], scope);
      return binary_op(*this, e.name, lhs, rhs);
    }
    case ExprKind::kCompare:
      return eval_compare(e, scope);
    case ExprKind::kCondition:
      if (eval(*e.children[1], scope).truthy()) return eval(*e.children[0], scope);
      return e.children[2] ? eval(*e.children[2], scope) : Value();
  }
  return Value();
}

Value Interpreter::eval_call(const Expr& e, const std::shared_ptr<Scope>& scope) {
  const Value fn = eval(*e.children[0], scope);
  if (fn.is_undefined()) undefined_error(*e.children[0], "calling it");
  CallArgs args = eval_args(e, scope, 1);
  return call(fn, args, e.pos);
}

Value Interpreter::eval_filter(const Expr& e, const std::shared_ptr<Scope>& scope, const Value* block_input) {
  Value input;
  if (e.children[0]) {
    const Expr& inner = *e.children[0];
    input = inner.kind == ExprKind::kFilter ? eval_filter(inner, scope, block_input) : eval(inner, scope);
  } else if (block_input) {
    input = *block_input;
  }
  CallArgs args = eval_args(e, scope, 1);
  try {
    step();
    return apply_filter(*this, e.name, input, args);
  } catch (TemplateError& err) {
    err.set_pos_if_unknown(e.pos);
    throw;
  }
}

Value Interpreter::eval_test(const Expr& e, const std::shared_ptr<Scope>& scope) {
  const Value v = eval(*e.children[0], scope);
  const CallArgs args = eval_args(e, scope, 1);
  const bool result = apply_test(*this, e.name, v, args);
  return Value::boolean(result != e.negated);
}

Value Interpreter::eval_compare(const Expr& e, const std::shared_ptr<Scope>& scope) {
  Value lhs = eval(*e.children[0], scope);
  for (size_t i = 0; i < e.ops.size(); ++i) {
    Value rhs = eval(*e.children[i + 1], scope);
    charge(comparison_cost(lhs) + comparison_cost(rhs));
    if (!compare_op(e.ops[i], lhs, rhs, &budget_)) return Value::boolean(false);
    lhs = std::move(rhs);
  }
  return Value::boolean(true);
}

std::vector<Value> iterate_value(Interpreter& interp, const Value& v) {
  switch (v.kind()) {
    case ValueKind::kUndefined:
      return {};
    case ValueKind::kList:
      interp.charge(v.as_list().items.size() * 8);
      return v.as_list().items;
    case ValueKind::kDict: {
      std::vector<Value> keys;
      interp.charge(v.as_dict().entries.size() * 8);
      for (const auto& [k, val] : v.as_dict().entries) keys.push_back(k);
      return keys;
    }
    case ValueKind::kString: {
      const std::string& s = v.as_string();
      interp.check_list_size(s.size());
      std::vector<Value> chars;
      for (size_t i = 0; i < s.size();) {
        const size_t start = i;
        utf8::decode(s, i);
        chars.push_back(Value::string(s.substr(start, i - start)));
      }
      return chars;
    }
    default:
      throw_render_error(std::string("'") + type_name(v) + "' object is not iterable");
  }
}

}  // namespace minnow::tmpl
