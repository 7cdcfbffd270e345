// Template source -> tokens, with Hugging Face's environment settings baked
// in: trim_blocks and lstrip_blocks on, keep_trailing_newline off, newlines
// normalized to "\n". Comments vanish here and {% raw %} bodies become text.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "template/template_error.h"

namespace minnow::tmpl {

enum class TokenKind {
  kText,        // literal template data between tags
  kVarBegin,    // {{
  kVarEnd,      // }}
  kBlockBegin,  // {%
  kBlockEnd,    // %}
  kName,
  kString,      // text holds the decoded value
  kInteger,
  kFloat,
  kOperator,    // text holds the operator: "+", "//", "==", "(", ...
  kEof,
};

struct Token {
  TokenKind kind;
  std::string text;
  SourcePos pos;
};

// Throws TemplateError (kSyntax) on unterminated tags, strings or comments.
std::vector<Token> tokenize(std::string_view source);

}  // namespace minnow::tmpl
