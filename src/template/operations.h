// Python semantics of Jinja's operators on Values: arithmetic, comparison,
// membership, subscripts and slices. Errors are thrown as TemplateError
// without a position; the interpreter adds the expression's.
#pragma once

#include <string>

#include "template/interpreter.h"
#include "template/value.h"

namespace minnow::tmpl {

// op is one of + - * / // % ** ~
Value binary_op(Interpreter& interp, const std::string& op, const Value& a, const Value& b);
// op is one of == != < > <= >= in "not in"
bool compare_op(const std::string& op, const Value& a, const Value& b, WorkBudget* budget);
// Python `a < b` for numbers, strings and sequences.
bool less_than(const Value& a, const Value& b, WorkBudget* budget);
bool contains(const Value& container, const Value& item, WorkBudget* budget);
// obj[key]; missing keys and out-of-range indexes give Undefined, as in Jinja.
Value get_item(Interpreter& interp, const Value& obj, const Value& key);
// obj[start:stop:step]; absent parts are Undefined.
Value slice_value(Interpreter& interp, const Value& obj, const Value& start, const Value& stop, const Value& step);
// Python len(); throws for values without one.
int64_t length_of(const Value& v);
// Python `str % args`.
std::string percent_format(Interpreter& interp, const std::string& fmt, const Value& args);

}  // namespace minnow::tmpl
