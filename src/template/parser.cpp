#include "template/parser.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <map>

#include "template/builtins.h"
#include "template/lexer.h"

namespace minnow::tmpl {
namespace {

// Expression trees taller than this are refused: evaluating and destroying a
// tree recurses once per level, and a hostile `1+1+1+...` must not blow the stack.
constexpr uint32_t kMaxExprHeight = 256;

class Parser {
 public:
  Parser(std::vector<Token> tokens, int max_nesting) : tokens_(std::move(tokens)), max_nesting_(max_nesting) {}

  TemplateAst run() {
    TemplateAst ast;
    ast.body = parse_body({});
    return ast;
  }

 private:
  // --- token helpers ---------------------------------------------------------
  const Token& cur() const { return tokens_[i_]; }
  const Token& peek(size_t ahead = 1) const { return tokens_[std::min(i_ + ahead, tokens_.size() - 1)]; }
  void advance() {
    if (i_ + 1 < tokens_.size()) ++i_;
  }
  bool is_op(std::string_view op) const { return cur().kind == TokenKind::kOperator && cur().text == op; }
  bool is_name(std::string_view name) const { return cur().kind == TokenKind::kName && cur().text == name; }
  bool skip_op(std::string_view op) {
    if (!is_op(op)) return false;
    advance();
    return true;
  }
  bool skip_name(std::string_view name) {
    if (!is_name(name)) return false;
    advance();
    return true;
  }

  static std::string describe(const Token& t) {
    switch (t.kind) {
      case TokenKind::kText: return "template text";
      case TokenKind::kVarBegin: return "'{{'";
      case TokenKind::kVarEnd: return "'}}'";
      case TokenKind::kBlockBegin: return "'{%'";
      case TokenKind::kBlockEnd: return "'%}'";
      case TokenKind::kName: return "name '" + t.text + "'";
      case TokenKind::kString: return "string literal";
      case TokenKind::kInteger: case TokenKind::kFloat: return "number " + t.text;
      case TokenKind::kOperator: return "'" + t.text + "'";
      case TokenKind::kEof: return "end of template";
    }
    return "token";
  }

  [[noreturn]] void fail(const std::string& message, SourcePos pos) {
    throw TemplateError(TemplateErrorKind::kSyntax, message, pos);
  }
  [[noreturn]] void fail_here(const std::string& message) { fail(message + ", found " + describe(cur()), cur().pos); }
  [[noreturn]] void unsupported(const std::string& what, SourcePos pos) {
    throw TemplateError(TemplateErrorKind::kUnsupported, what + " is not supported", pos);
  }

  void expect_op(std::string_view op) {
    if (!skip_op(op)) fail_here("expected '" + std::string(op) + "'");
  }
  std::string expect_name(const char* what) {
    if (cur().kind != TokenKind::kName) fail_here(std::string("expected ") + what);
    std::string name = cur().text;
    advance();
    return name;
  }
  void expect_block_end(const char* tag) {
    if (cur().kind != TokenKind::kBlockEnd) fail_here(std::string("expected '%}' to end the '") + tag + "' tag");
    advance();
  }

  // Counts nesting of recursive constructs so a hostile template cannot
  // exhaust the parser's stack.
  struct DepthGuard {
    Parser& p;
    DepthGuard(Parser& parser, SourcePos pos) : p(parser) {
      if (++p.depth_ > p.max_nesting_)
        throw TemplateError(TemplateErrorKind::kLimit,
                            "template nests deeper than " + std::to_string(p.max_nesting_) + " levels", pos);
    }
    ~DepthGuard() { --p.depth_; }
  };

  // --- node construction -----------------------------------------------------
  ExprPtr make(ExprKind kind, SourcePos pos) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->pos = pos;
    return e;
  }
  // Checks the height of a finished node (children and keywords already attached).
  ExprPtr finish(ExprPtr e) {
    uint32_t h = 0;
    for (const auto& c : e->children)
      if (c) h = std::max(h, c->height);
    for (const auto& [k, v] : e->keyword) h = std::max(h, v->height);
    if (h + 1 > kMaxExprHeight)
      throw TemplateError(TemplateErrorKind::kLimit,
                          "expression nests deeper than " + std::to_string(kMaxExprHeight) + " levels", e->pos);
    e->height = h + 1;
    return e;
  }
  ExprPtr make_binary(const std::string& op, ExprPtr lhs, ExprPtr rhs, SourcePos pos) {
    auto e = make(ExprKind::kBinary, pos);
    e->name = op;
    e->children.push_back(std::move(lhs));
    e->children.push_back(std::move(rhs));
    return finish(std::move(e));
  }

  // --- template body and statements ----------------------------------------
  // Parses until EOF or a block tag whose name is in `end_tags`; in the
  // latter case stops with cur() at that name.
  Body parse_body(std::initializer_list<std::string_view> end_tags) {
    Body body;
    while (true) {
      const Token& t = cur();
      if (t.kind == TokenKind::kEof) {
        if (end_tags.size() != 0) {
          std::string expected;
          for (auto tag : end_tags) expected += (expected.empty() ? "'{% " : " or '{% ") + std::string(tag) + " %}'";
          fail("unexpected end of template, expected " + expected, t.pos);
        }
        return body;
      }
      if (t.kind == TokenKind::kText) {
        auto s = make_stmt(StmtKind::kText, t.pos);
        s->text = t.text;
        body.push_back(std::move(s));
        advance();
      } else if (t.kind == TokenKind::kVarBegin) {
        auto s = make_stmt(StmtKind::kOutput, t.pos);
        advance();
        s->expr = parse_tuple(true);
        if (cur().kind != TokenKind::kVarEnd) fail_here("expected '}}'");
        advance();
        body.push_back(std::move(s));
      } else if (t.kind == TokenKind::kBlockBegin) {
        advance();
        if (cur().kind != TokenKind::kName) fail_here("expected a tag name after '{%'");
        for (auto end : end_tags)
          if (cur().text == end) return body;
        body.push_back(parse_statement());
      } else {
        fail_here("unexpected token");
      }
    }
  }

  StmtPtr make_stmt(StmtKind kind, SourcePos pos) {
    auto s = std::make_unique<Stmt>();
    s->kind = kind;
    s->pos = pos;
    return s;
  }

  StmtPtr parse_statement() {
    const Token tag = cur();
    DepthGuard guard(*this, tag.pos);
    const std::string& n = tag.text;
    if (n == "if") return parse_if();
    if (n == "for") return parse_for();
    if (n == "set") return parse_set();
    if (n == "macro") return parse_macro();
    if (n == "call") return parse_call_block();
    if (n == "filter") return parse_filter_block();
    if (n == "generation") return parse_generation_block();
    if (n == "break" || n == "continue") {
      if (loop_depth_ == 0) fail("'" + n + "' outside of a loop", tag.pos);
      advance();
      expect_block_end(n.c_str());
      return make_stmt(n == "break" ? StmtKind::kBreak : StmtKind::kContinue, tag.pos);
    }
    static const char* const kKnownUnsupported[] = {"extends", "block", "include", "import", "from", "with",
                                                    "autoescape", "do", "trans", "pluralize"};
    for (const char* u : kKnownUnsupported)
      if (n == u) unsupported("the '{% " + n + " %}' tag", tag.pos);
    fail("unknown tag '" + n + "'", tag.pos);
  }

  StmtPtr parse_if() {
    auto s = make_stmt(StmtKind::kIf, cur().pos);
    advance();  // "if"
    auto cond = parse_tuple(false);
    expect_block_end("if");
    auto body = parse_body({"elif", "else", "endif"});
    s->branches.emplace_back(std::move(cond), std::move(body));
    while (true) {
      if (skip_name("elif")) {
        auto c = parse_tuple(false);
        expect_block_end("elif");
        auto b = parse_body({"elif", "else", "endif"});
        s->branches.emplace_back(std::move(c), std::move(b));
      } else if (skip_name("else")) {
        expect_block_end("else");
        s->else_body = parse_body({"endif"});
      } else {
        advance();  // "endif"
        expect_block_end("endif");
        return s;
      }
    }
  }

  std::vector<std::string> parse_targets(const char* tag) {
    std::vector<std::string> targets;
    const bool parens = skip_op("(");
    do {
      if (parens && is_op(")")) break;
      targets.push_back(expect_name(tag[0] == 'f' ? "a loop variable name" : "a variable name"));
    } while (skip_op(","));
    if (parens) expect_op(")");
    return targets;
  }

  StmtPtr parse_for() {
    auto s = make_stmt(StmtKind::kFor, cur().pos);
    advance();  // "for"
    s->targets = parse_targets("for");
    if (!skip_name("in")) fail_here("expected 'in' in for loop");
    s->expr = parse_tuple(false);
    if (skip_name("if")) s->filter = parse_expression(true);
    if (is_name("recursive")) unsupported("recursive for loops", cur().pos);
    expect_block_end("for");
    const int loop_refs_before = name_refs_["loop"];
    ++loop_depth_;
    s->body = parse_body({"else", "endfor"});
    --loop_depth_;
    s->uses_loop = name_refs_["loop"] != loop_refs_before;
    if (skip_name("else")) {
      expect_block_end("else");
      const int saved = loop_depth_;
      loop_depth_ = 0;  // break in a for-else belongs to no loop of this for
      s->else_body = parse_body({"endfor"});
      loop_depth_ = saved;
    }
    advance();  // "endfor"
    expect_block_end("endfor");
    return s;
  }

  StmtPtr parse_set() {
    auto s = make_stmt(StmtKind::kSet, cur().pos);
    advance();  // "set"
    if (cur().kind == TokenKind::kName && peek().kind == TokenKind::kOperator && peek().text == ".") {
      s->targets.push_back(cur().text);
      advance();
      advance();
      s->attribute = expect_name("an attribute name");
      expect_op("=");
      s->expr = parse_tuple(true);
      expect_block_end("set");
      return s;
    }
    s->targets = parse_targets("set");
    if (skip_op("=")) {
      s->expr = parse_tuple(true);
      expect_block_end("set");
      return s;
    }
    if (s->targets.size() != 1) fail("a block {% set %} takes exactly one name", s->pos);
    s->kind = StmtKind::kSetBlock;
    if (is_op("|")) s->filter = parse_filter_chain(nullptr);
    expect_block_end("set");
    s->body = parse_body({"endset"});
    advance();
    expect_block_end("endset");
    return s;
  }

  void parse_params(Stmt& s) {
    expect_op("(");
    while (!is_op(")")) {
      if (!s.params.empty()) expect_op(",");
      if (is_op(")")) break;
      s.params.push_back(expect_name("a parameter name"));
      if (skip_op("=")) s.defaults.push_back(parse_expression(true));
      else if (!s.defaults.empty() && s.defaults.back()) fail_here("non-default parameter follows default parameter");
      else s.defaults.push_back(nullptr);
    }
    advance();  // ")"
  }

  StmtPtr parse_macro() {
    auto s = make_stmt(StmtKind::kMacro, cur().pos);
    advance();  // "macro"
    s->name = expect_name("a macro name");
    parse_params(*s);
    expect_block_end("macro");
    std::map<std::string, int> before = {{"caller", name_refs_["caller"]}, {"varargs", name_refs_["varargs"]},
                                         {"kwargs", name_refs_["kwargs"]}};
    const int saved_loop_depth = loop_depth_;
    loop_depth_ = 0;
    s->body = parse_body({"endmacro"});
    loop_depth_ = saved_loop_depth;
    s->uses_caller = name_refs_["caller"] != before["caller"];
    s->uses_varargs = name_refs_["varargs"] != before["varargs"];
    s->uses_kwargs = name_refs_["kwargs"] != before["kwargs"];
    advance();
    expect_block_end("endmacro");
    return s;
  }

  StmtPtr parse_call_block() {
    auto s = make_stmt(StmtKind::kCallBlock, cur().pos);
    advance();  // "call"
    if (is_op("(")) parse_params(*s);
    s->expr = parse_expression(true);
    if (s->expr->kind != ExprKind::kCall) fail("'{% call %}' expects a macro call", s->expr->pos);
    expect_block_end("call");
    const int saved_loop_depth = loop_depth_;
    loop_depth_ = 0;
    s->body = parse_body({"endcall"});
    loop_depth_ = saved_loop_depth;
    advance();
    expect_block_end("endcall");
    return s;
  }

  StmtPtr parse_filter_block() {
    auto s = make_stmt(StmtKind::kFilterBlock, cur().pos);
    advance();  // "filter"
    s->filter = parse_filter_chain(nullptr, /*leading_bar=*/false);
    expect_block_end("filter");
    s->body = parse_body({"endfilter"});
    advance();
    expect_block_end("endfilter");
    return s;
  }

  // transformers' AssistantTracker extension: {% generation %} only marks the
  // assistant's tokens for training masks; rendering shows the body as is.
  StmtPtr parse_generation_block() {
    auto s = make_stmt(StmtKind::kIf, cur().pos);
    advance();  // "generation"
    expect_block_end("generation");
    s->branches.emplace_back(literal(Value::boolean(true), s->pos), parse_body({"endgeneration"}));
    advance();
    expect_block_end("endgeneration");
    return s;
  }

  // --- expressions -------------------------------------------------------------
  ExprPtr parse_tuple(bool with_condexpr) {
    const SourcePos pos = cur().pos;
    std::vector<ExprPtr> items;
    bool is_tuple = false;
    while (true) {
      if (!items.empty() && is_tuple_end()) break;
      items.push_back(with_condexpr ? parse_expression(true) : parse_or());
      if (!skip_op(",")) break;
      is_tuple = true;
    }
    if (!is_tuple) return std::move(items[0]);
    auto e = make(ExprKind::kTuple, pos);
    e->children = std::move(items);
    return finish(std::move(e));
  }
  bool is_tuple_end() const {
    return cur().kind == TokenKind::kVarEnd || cur().kind == TokenKind::kBlockEnd || is_op(")") ||
           is_name("in") || is_name("if") || is_op("=");
  }

  ExprPtr parse_expression(bool with_condexpr) {
    DepthGuard guard(*this, cur().pos);
    auto expr = parse_or();
    if (!with_condexpr) return expr;
    while (is_name("if")) {
      const SourcePos pos = cur().pos;
      advance();
      auto e = make(ExprKind::kCondition, pos);
      auto cond = parse_or();
      ExprPtr otherwise;
      if (skip_name("else")) otherwise = parse_expression(true);
      e->children.push_back(std::move(expr));
      e->children.push_back(std::move(cond));
      e->children.push_back(std::move(otherwise));
      expr = finish(std::move(e));
    }
    return expr;
  }

  ExprPtr parse_or() {
    auto lhs = parse_and();
    while (is_name("or")) {
      const SourcePos pos = cur().pos;
      advance();
      lhs = make_binary("or", std::move(lhs), parse_and(), pos);
    }
    return lhs;
  }

  ExprPtr parse_and() {
    auto lhs = parse_not();
    while (is_name("and")) {
      const SourcePos pos = cur().pos;
      advance();
      lhs = make_binary("and", std::move(lhs), parse_not(), pos);
    }
    return lhs;
  }

  ExprPtr parse_not() {
    if (is_name("not")) {
      const SourcePos pos = cur().pos;
      DepthGuard guard(*this, pos);
      advance();
      auto e = make(ExprKind::kUnary, pos);
      e->name = "not";
      e->children.push_back(parse_not());
      return finish(std::move(e));
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
    const SourcePos pos = cur().pos;
    auto first = parse_math1();
    ExprPtr cmp;
    while (true) {
      std::string op;
      if (cur().kind == TokenKind::kOperator &&
          (cur().text == "==" || cur().text == "!=" || cur().text == "<" || cur().text == ">" ||
           cur().text == "<=" || cur().text == ">=")) {
        op = cur().text;
        advance();
      } else if (is_name("in")) {
        op = "in";
        advance();
      } else if (is_name("not") && peek().kind == TokenKind::kName && peek().text == "in") {
        op = "not in";
        advance();
        advance();
      } else {
        break;
      }
      if (!cmp) {
        cmp = make(ExprKind::kCompare, pos);
        cmp->children.push_back(std::move(first));
      }
      cmp->ops.push_back(op);
      cmp->children.push_back(parse_math1());
    }
    return cmp ? finish(std::move(cmp)) : std::move(first);
  }

  template <class Next>
  ExprPtr parse_left_assoc(std::initializer_list<std::string_view> ops, Next next) {
    auto lhs = (this->*next)();
    while (cur().kind == TokenKind::kOperator &&
           std::find(ops.begin(), ops.end(), std::string_view(cur().text)) != ops.end()) {
      const SourcePos pos = cur().pos;
      const std::string op = cur().text;
      advance();
      lhs = make_binary(op, std::move(lhs), (this->*next)(), pos);
    }
    return lhs;
  }
  ExprPtr parse_math1() { return parse_left_assoc({"+", "-"}, &Parser::parse_concat); }
  ExprPtr parse_concat() { return parse_left_assoc({"~"}, &Parser::parse_math2); }
  ExprPtr parse_math2() { return parse_left_assoc({"*", "/", "//", "%"}, &Parser::parse_pow); }
  ExprPtr parse_pow() { return parse_left_assoc({"**"}, &Parser::parse_unary_filtered); }
  ExprPtr parse_unary_filtered() { return parse_unary(true); }

  ExprPtr parse_unary(bool with_filter) {
    ExprPtr node;
    if (is_op("-") || is_op("+")) {
      const SourcePos pos = cur().pos;
      DepthGuard guard(*this, pos);
      auto e = make(ExprKind::kUnary, pos);
      e->name = cur().text;
      advance();
      e->children.push_back(parse_unary(false));
      node = finish(std::move(e));
    } else {
      node = parse_primary();
    }
    node = parse_postfix(std::move(node));
    if (with_filter) node = parse_filter_expr(std::move(node));
    return node;
  }

  ExprPtr literal(Value v, SourcePos pos) {
    auto e = make(ExprKind::kLiteral, pos);
    e->literal = std::move(v);
    return finish(std::move(e));
  }

  ExprPtr parse_primary() {
    const Token t = cur();
    switch (t.kind) {
      case TokenKind::kName: {
        advance();
        if (t.text == "true" || t.text == "True") return literal(Value::boolean(true), t.pos);
        if (t.text == "false" || t.text == "False") return literal(Value::boolean(false), t.pos);
        if (t.text == "none" || t.text == "None") return literal(Value::none(), t.pos);
        ++name_refs_[t.text];
        auto e = make(ExprKind::kName, t.pos);
        e->name = t.text;
        return finish(std::move(e));
      }
      case TokenKind::kString: {
        std::string s = t.text;
        advance();
        while (cur().kind == TokenKind::kString) {  // "a" "b" concatenates, as in Python
          s += cur().text;
          advance();
        }
        return literal(Value::string(std::move(s)), t.pos);
      }
      case TokenKind::kInteger: {
        advance();
        int64_t v = 0;
        const auto r = std::from_chars(t.text.data(), t.text.data() + t.text.size(), v);
        if (r.ec != std::errc()) return literal(Value::number(std::strtod(t.text.c_str(), nullptr)), t.pos);
        return literal(Value::integer(v), t.pos);
      }
      case TokenKind::kFloat:
        advance();
        return literal(Value::number(std::strtod(t.text.c_str(), nullptr)), t.pos);
      case TokenKind::kOperator:
        if (t.text == "(") {
          advance();
          if (skip_op(")")) {
            auto e = make(ExprKind::kTuple, t.pos);
            return finish(std::move(e));
          }
          auto inner = parse_tuple(true);
          expect_op(")");
          return inner;
        }
        if (t.text == "[" || t.text == "{") return parse_collection(t);
        break;
      default:
        break;
    }
    fail_here("expected an expression");
  }

  ExprPtr parse_collection(const Token& open) {
    const bool is_dict = open.text == "{";
    const std::string close = is_dict ? "}" : "]";
    advance();
    auto e = make(is_dict ? ExprKind::kDict : ExprKind::kList, open.pos);
    while (!is_op(close)) {
      if (!e->children.empty()) {
        expect_op(",");
        if (is_op(close)) break;
      }
      e->children.push_back(parse_expression(true));
      if (is_dict) {
        expect_op(":");
        e->children.push_back(parse_expression(true));
      }
    }
    advance();
    return finish(std::move(e));
  }

  ExprPtr parse_postfix(ExprPtr node) {
    while (true) {
      const SourcePos pos = cur().pos;
      if (skip_op(".")) {
        if (cur().kind == TokenKind::kInteger) {  // x.0 is x[0]
          auto idx = literal(Value::integer(std::atoll(cur().text.c_str())), cur().pos);
          advance();
          auto e = make(ExprKind::kSubscript, pos);
          e->children.push_back(std::move(node));
          e->children.push_back(std::move(idx));
          node = finish(std::move(e));
          continue;
        }
        auto e = make(ExprKind::kAttribute, pos);
        e->name = expect_name("an attribute name after '.'");
        e->children.push_back(std::move(node));
        node = finish(std::move(e));
      } else if (is_op("[")) {
        node = parse_subscript(std::move(node));
      } else if (is_op("(")) {
        node = parse_call(std::move(node));
      } else {
        return node;
      }
    }
  }

  ExprPtr parse_subscript(ExprPtr node) {
    const SourcePos pos = cur().pos;
    advance();  // "["
    DepthGuard guard(*this, pos);
    ExprPtr parts[3];
    bool is_slice = false;
    for (int k = 0; k < 3; ++k) {
      if (!is_op(":") && !is_op("]")) parts[k] = parse_expression(true);
      if (k < 2 && skip_op(":")) {
        is_slice = true;
        continue;
      }
      break;
    }
    if (is_op(",")) unsupported("subscripting with a tuple", cur().pos);
    expect_op("]");
    if (!is_slice && !parts[0]) fail("empty subscript", pos);
    auto e = make(is_slice ? ExprKind::kSlice : ExprKind::kSubscript, pos);
    e->children.push_back(std::move(node));
    if (is_slice) {
      for (auto& p : parts) e->children.push_back(std::move(p));
    } else {
      e->children.push_back(std::move(parts[0]));
    }
    return finish(std::move(e));
  }

  // Parses "(args)" into e->children (after any already there) and e->keyword.
  void parse_call_args(Expr& e) {
    expect_op("(");
    bool first = true;
    while (!is_op(")")) {
      if (!first) {
        expect_op(",");
        if (is_op(")")) break;
      }
      first = false;
      if (is_op("*") || is_op("**")) unsupported("'*args' and '**kwargs' in calls", cur().pos);
      if (cur().kind == TokenKind::kName && peek().kind == TokenKind::kOperator && peek().text == "=") {
        std::string key = cur().text;
        advance();
        advance();
        e.keyword.emplace_back(std::move(key), parse_expression(true));
      } else {
        if (!e.keyword.empty()) fail_here("positional argument follows keyword argument");
        e.children.push_back(parse_expression(true));
      }
    }
    advance();  // ")"
  }

  ExprPtr parse_call(ExprPtr callee) {
    auto e = make(ExprKind::kCall, cur().pos);
    e->children.push_back(std::move(callee));
    parse_call_args(*e);
    return finish(std::move(e));
  }

  ExprPtr parse_filter_expr(ExprPtr node) {
    while (true) {
      if (is_op("|")) {
        node = parse_filter_chain(std::move(node));
      } else if (is_name("is")) {
        node = parse_test(std::move(node));
      } else if (is_op("(")) {
        node = parse_call(std::move(node));
      } else {
        return node;
      }
    }
  }

  // One or more "|name(args)"; `node` may be null (filter blocks, set blocks).
  ExprPtr parse_filter_chain(ExprPtr node, bool leading_bar = true) {
    bool need_bar = leading_bar;
    while (need_bar ? is_op("|") : true) {
      if (need_bar) advance();
      need_bar = true;
      auto e = make(ExprKind::kFilter, cur().pos);
      e->name = expect_name("a filter name");
      while (is_op(".")) {  // dotted filter names
        advance();
        e->name += "." + expect_name("a filter name");
      }
      if (!is_known_filter(e->name)) unsupported("the filter '" + e->name + "'", e->pos);
      e->children.push_back(std::move(node));
      if (is_op("(")) parse_call_args(*e);
      node = finish(std::move(e));
    }
    return node;
  }

  ExprPtr parse_test(ExprPtr node) {
    auto e = make(ExprKind::kTest, cur().pos);
    advance();  // "is"
    e->negated = skip_name("not");
    const SourcePos name_pos = cur().pos;
    e->name = expect_name("a test name after 'is'");
    if (!is_known_test(e->name)) unsupported("the test '" + e->name + "'", name_pos);
    e->children.push_back(std::move(node));
    if (is_op("(")) {
      parse_call_args(*e);
    } else if ((cur().kind == TokenKind::kName || cur().kind == TokenKind::kString ||
                cur().kind == TokenKind::kInteger || cur().kind == TokenKind::kFloat || is_op("(") ||
                is_op("[") || is_op("{")) &&
               !is_name("else") && !is_name("or") && !is_name("and")) {
      if (is_name("is")) fail_here("tests cannot be chained with 'is'");
      e->children.push_back(parse_postfix(parse_primary()));
    }
    return finish(std::move(e));
  }

  std::vector<Token> tokens_;
  size_t i_ = 0;
  int max_nesting_;
  int depth_ = 0;
  int loop_depth_ = 0;
  std::map<std::string, int> name_refs_;
};

}  // namespace

TemplateAst parse_template(std::string_view source, int max_nesting) {
  return Parser(tokenize(source), max_nesting).run();
}

}  // namespace minnow::tmpl
