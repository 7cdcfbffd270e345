// The syntax tree the parser builds and the interpreter walks. One node
// struct per category keeps the tree easy to build; which fields a node uses
// is listed beside each kind.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "template/template_error.h"
#include "template/value.h"

namespace minnow::tmpl {

struct Expr;
struct Stmt;
using ExprPtr = std::unique_ptr<Expr>;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

enum class ExprKind {
  kLiteral,    // literal
  kName,       // name
  kList,       // children: items
  kTuple,      // children: items
  kDict,       // children: key, value, key, value, ...
  kAttribute,  // children[0] . name
  kSubscript,  // children[0] [ children[1] ]
  kSlice,      // children[0] [ children[1] : children[2] : children[3] ]; absent parts are null
  kCall,       // children[0] ( children[1..], keyword )
  kFilter,     // children[0] | name ( children[1..], keyword )
  kTest,       // children[0] is [not] name ( children[1..] ); negated
  kUnary,      // op children[0]: "-", "+", "not"
  kBinary,     // children[0] op children[1]: + - * / // % ** ~ and or
  kCompare,    // children[0] ops[0] children[1] ops[1] children[2] ...
  kCondition,  // children[0] if children[1] else children[2] (may be null)
};

struct Expr {
  ExprKind kind;
  SourcePos pos;
  std::string name;  // variable, attribute, filter or test name; operator for kUnary/kBinary
  Value literal;
  std::vector<ExprPtr> children;
  std::vector<std::pair<std::string, ExprPtr>> keyword;  // name=value call arguments
  std::vector<std::string> ops;                         // kCompare: "==", "<", "in", "not in", ...
  bool negated = false;                                 // kTest: "is not"
  uint32_t height = 1;                                  // longest path to a leaf, bounded by the parser
};

enum class StmtKind {
  kText,       // text
  kOutput,     // {{ expr }}
  kIf,         // branches (condition, body); else_body
  kFor,        // targets in expr [if filter] body [else else_body]; uses_loop
  kSet,        // targets = expr, or targets[0].attribute = expr (namespace)
  kSetBlock,   // {% set targets[0] %} body {% endset %}, filtered by filter (a kFilter chain or null)
  kMacro,      // name(params = defaults) body
  kCallBlock,  // {% call(params) expr %} body: expr is a kCall; body becomes `caller`
  kFilterBlock,// {% filter f %} body: filter is a kFilter chain whose innermost child is null
  kBreak,
  kContinue,
};

struct Stmt {
  StmtKind kind;
  SourcePos pos;
  std::string text;
  ExprPtr expr;
  ExprPtr filter;
  std::vector<std::string> targets;
  std::string attribute;
  std::vector<std::pair<ExprPtr, Body>> branches;
  Body body;
  Body else_body;
  // kMacro / kCallBlock: parameters and their defaults (null when none).
  std::string name;
  std::vector<std::string> params;
  std::vector<ExprPtr> defaults;
  bool uses_loop = false;     // kFor: body mentions `loop`, so build it
  bool uses_caller = false;   // kMacro: body mentions `caller`
  bool uses_varargs = false;  // kMacro: body mentions `varargs` (extra positionals allowed)
  bool uses_kwargs = false;   // kMacro: body mentions `kwargs` (extra keywords allowed)
};

struct TemplateAst {
  Body body;
};

}  // namespace minnow::tmpl
