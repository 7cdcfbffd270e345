#include "template/template_error.h"

namespace minnow::tmpl {

std::string TemplateError::to_string() const {
  if (!has_pos()) return message_;
  return "line " + std::to_string(pos_.line) + ", column " + std::to_string(pos_.column) + ": " + message_;
}

}  // namespace minnow::tmpl
