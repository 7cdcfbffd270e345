// Where in the template source something is, and the error the engine throws
// internally. The exception never leaves src/template: render_chat_template
// turns it into an Error value.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

namespace minnow::tmpl {

struct SourcePos {
  uint32_t line = 0;  // 1-based; 0 when unknown
  uint32_t column = 0;
};

enum class TemplateErrorKind {
  kSyntax,       // the source does not parse
  kUnsupported,  // valid Jinja we deliberately do not implement
  kRender,       // a type error, undefined access, or raise_exception()
  kLimit,        // a sandbox limit was hit
};

class TemplateError {
 public:
  TemplateError(TemplateErrorKind kind, std::string message, SourcePos pos = {})
      : kind_(kind), message_(std::move(message)), pos_(pos) {}

  TemplateErrorKind kind() const { return kind_; }
  const std::string& message() const { return message_; }
  const SourcePos& pos() const { return pos_; }
  bool has_pos() const { return pos_.line != 0; }
  void set_pos_if_unknown(const SourcePos& pos) {
    if (!has_pos()) pos_ = pos;
  }
  // "line L, column C: message".
  std::string to_string() const;

 private:
  TemplateErrorKind kind_;
  std::string message_;
  SourcePos pos_;
};

[[noreturn]] inline void throw_render_error(std::string message, SourcePos pos = {}) {
  throw TemplateError(TemplateErrorKind::kRender, std::move(message), pos);
}

}  // namespace minnow::tmpl
