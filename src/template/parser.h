// Tokens -> syntax tree. Rejects what the interpreter cannot run, naming the
// construct and where it is, so nothing is silently rendered differently.
#pragma once

#include <string_view>

#include "template/ast.h"

namespace minnow::tmpl {

// Throws TemplateError (kSyntax, kUnsupported or kLimit when nesting exceeds
// max_nesting).
TemplateAst parse_template(std::string_view source, int max_nesting);

}  // namespace minnow::tmpl
