// The names templates call: filters (x|name), tests (x is name), attributes
// and methods of values (x.name), and global functions.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "template/interpreter.h"
#include "template/value.h"

namespace minnow::tmpl {

// filters.cpp. Throws kUnsupported for a filter we do not implement.
Value apply_filter(Interpreter& interp, const std::string& name, const Value& input, CallArgs& args);
// builtin_tests.cpp. Throws kUnsupported for an unknown test.
bool apply_test(Interpreter& interp, const std::string& name, const Value& v, const CallArgs& args);
// For the parser: Jinja rejects unknown filter and test names before rendering.
bool is_known_filter(const std::string& name);
bool is_known_test(const std::string& name);
// methods.cpp: dict keys, namespace attributes, and bound methods of str,
// dict and list (only the non-mutating ones; the sandbox is immutable).
Value get_attribute(Interpreter& interp, const Value& obj, const std::string& name);
// globals.cpp: range, dict, namespace, raise_exception, strftime_now, cycler, joiner.
std::vector<std::pair<std::string, Value>> make_globals();

// A builtin function implemented in C++.
class NativeFunction : public Callable {
 public:
  using Fn = Value (*)(Interpreter&, CallArgs&, const Value& self);
  NativeFunction(std::string name, Fn fn, Value self = Value()) : name_(std::move(name)), fn_(fn), self_(std::move(self)) {}
  Value call(Interpreter& interp, CallArgs& args, const SourcePos&) const override { return fn_(interp, args, self_); }
  std::string describe() const override { return "<built-in function " + name_ + ">"; }

 private:
  std::string name_;
  Fn fn_;
  Value self_;  // the receiver of a bound method
};

// Argument helpers shared by filters, methods and globals: the i-th positional
// argument, or the keyword `name`, or Undefined.
const Value& arg_at(const CallArgs& args, size_t i, const char* name);
// Throws when more positionals than `max_positional` or an unknown keyword was passed.
void check_arity(const CallArgs& args, const char* fn, size_t max_positional,
                 std::initializer_list<const char*> keywords = {});
std::string require_string(const Value& v, const char* what);
int64_t require_int(const Value& v, const char* what);

}  // namespace minnow::tmpl
