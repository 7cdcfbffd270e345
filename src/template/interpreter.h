// Walks the syntax tree and produces text. Owns the sandbox accounting
// (steps, loop iterations, call depth, string sizes) that builtins charge too.
#pragma once

#include <ctime>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "template/ast.h"
#include "template/limits.h"
#include "template/value.h"

namespace minnow::tmpl {

// Variables visible to a block; a for loop or macro call opens a child.
struct Scope {
  std::shared_ptr<Scope> parent;
  std::vector<std::pair<std::string, Value>> vars;
  bool captured = false;  // a macro or call block holds it as its closure

  Value* find_local(const std::string& name);
  void set(const std::string& name, Value v);
};

class Interpreter {
 public:
  // `now` is what strftime_now() formats.
  Interpreter(const TemplateLimits& limits, std::tm now);
  ~Interpreter();

  // Renders `ast` with `variables` as the template's context. Throws TemplateError.
  std::string render(const TemplateAst& ast, std::vector<std::pair<std::string, Value>> variables);

  // --- used by filters, methods and globals --------------------------------
  const TemplateLimits& limits() const { return limits_; }
  const std::tm& now() const { return now_; }
  // One unit of work; throws when the step budget is spent.
  void step();
  // Work proportional to `bytes` of string or items produced.
  void charge(size_t bytes);
  // Throws a limit error before a string of `bytes` would be built.
  void check_string_size(size_t bytes) const;
  // Throws a limit error before a list of `n` items would be built.
  void check_list_size(size_t n);
  Value make_string(std::string s);
  // str(v), bounded by the output limit.
  std::string to_str(const Value& v) { return to_python_str(v, limits_.max_output_bytes); }
  // The step budget, lent to comparisons whose cost grows with value size.
  WorkBudget& budget() { return budget_; }
  Value call(const Value& fn, CallArgs& args, const SourcePos& pos);
  // Registers a namespace() so its (possibly cyclic) contents are released after rendering.
  Value make_namespace(std::vector<std::pair<Value, Value>> attrs);

  // Runs a macro body (or a call block's body as `caller`) in `scope`.
  std::string run_body(const Body& body, const std::shared_ptr<Scope>& scope);
  Value eval(const Expr& e, const std::shared_ptr<Scope>& scope);
  void enter_call(const SourcePos& pos);
  void leave_call() { --call_depth_; }
  std::shared_ptr<Scope> root_scope() const { return root_; }

 private:
  enum class Flow { kNormal, kBreak, kContinue };

  Flow exec_body(const Body& body, const std::shared_ptr<Scope>& scope, std::string& out);
  Flow exec(const Stmt& s, const std::shared_ptr<Scope>& scope, std::string& out);
  Flow exec_for(const Stmt& s, const std::shared_ptr<Scope>& scope, std::string& out);
  void exec_set(const Stmt& s, const std::shared_ptr<Scope>& scope);
  void exec_call_block(const Stmt& s, const std::shared_ptr<Scope>& scope, std::string& out);
  void append_output(std::string& out, std::string_view text);

  Value eval_inner(const Expr& e, const std::shared_ptr<Scope>& scope);
  Value eval_call(const Expr& e, const std::shared_ptr<Scope>& scope);
  Value eval_filter(const Expr& e, const std::shared_ptr<Scope>& scope, const Value* block_input);
  Value eval_test(const Expr& e, const std::shared_ptr<Scope>& scope);
  Value eval_compare(const Expr& e, const std::shared_ptr<Scope>& scope);
  CallArgs eval_args(const Expr& e, const std::shared_ptr<Scope>& scope, size_t first_child);
  Value lookup(const std::string& name, const std::shared_ptr<Scope>& scope) const;
  void bind_targets(const std::vector<std::string>& targets, const Value& v, Scope& scope);

  TemplateLimits limits_;
  std::tm now_;
  WorkBudget budget_;  // steps left
  uint64_t loop_iterations_ = 0;
  int call_depth_ = 0;
  std::shared_ptr<Scope> root_;
  std::vector<std::pair<std::string, Value>> globals_;
  std::vector<std::shared_ptr<NamespaceData>> namespaces_;
};

// Unpacks an iterable into items the way a Python for loop sees them: list
// items, dict keys, string characters; Undefined yields nothing. Throws for
// none, numbers and other non-iterables.
std::vector<Value> iterate_value(Interpreter& interp, const Value& v);

}  // namespace minnow::tmpl
