#include "template/lexer.h"

#include <algorithm>
#include <cctype>

#include "template/utf8.h"

namespace minnow::tmpl {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_name_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Jinja joins the source's lines with "\n" and, without
// keep_trailing_newline, drops one final newline.
std::string normalize_newlines(std::string_view source) {
  std::string out;
  out.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      out += '\n';
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      out += source[i];
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

class Lexer {
 public:
  explicit Lexer(std::string src) : src_(std::move(src)) {}

  std::vector<Token> run() {
    bool line_starting = true;  // did the previous tag end consume a newline?
    while (pos_ < src_.size()) {
      const size_t open = find_tag_open(pos_);
      std::string text = src_.substr(pos_, open - pos_);
      if (open == src_.size()) {
        emit_text(pos_, std::move(text));
        pos_ = open;
        break;
      }
      const char kind = src_[open + 1];  // '{', '%' or '#'
      const char sign = open + 2 < src_.size() ? src_[open + 2] : '\0';
      if (sign == '-') {
        while (!text.empty() && is_space(text.back())) text.pop_back();
      } else if (sign != '+' && kind != '{') {
        lstrip_line(text, line_starting);
      }
      const size_t text_start = pos_;
      if (kind == '%' && is_raw_tag(open)) {
        emit_text(text_start, std::move(text));
        line_starting = lex_raw(open);
        continue;
      }
      emit_text(text_start, std::move(text));
      pos_ = open + 2 + ((sign == '-' || sign == '+') ? 1 : 0);
      if (kind == '#') {
        line_starting = skip_comment(open);
      } else {
        line_starting = lex_tag(kind == '%', open);
      }
    }
    tokens_.push_back({TokenKind::kEof, "", pos_at(src_.size())});
    return std::move(tokens_);
  }

 private:
  SourcePos pos_at(size_t offset) {
    // Lines are scanned incrementally: offsets only grow, except for the
    // rare error path, which rescans from the start.
    if (offset < line_scan_offset_) {
      line_scan_offset_ = 0;
      line_ = 1;
      line_start_ = 0;
    }
    for (; line_scan_offset_ < offset && line_scan_offset_ < src_.size(); ++line_scan_offset_) {
      if (src_[line_scan_offset_] == '\n') {
        ++line_;
        line_start_ = line_scan_offset_ + 1;
      }
    }
    return SourcePos{line_, uint32_t(offset - line_start_ + 1)};
  }

  [[noreturn]] void fail(const std::string& message, size_t offset) {
    throw TemplateError(TemplateErrorKind::kSyntax, message, pos_at(offset));
  }

  size_t find_tag_open(size_t from) const {
    for (size_t i = from; i + 1 < src_.size(); ++i) {
      if (src_[i] == '{' && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#')) return i;
    }
    return src_.size();
  }

  void emit_text(size_t offset, std::string text) {
    if (!text.empty()) tokens_.push_back({TokenKind::kText, std::move(text), pos_at(offset)});
  }

  // lstrip_blocks: whitespace between the start of a line and a block or
  // comment tag is dropped.
  static void lstrip_line(std::string& text, bool line_starting) {
    const size_t nl = text.rfind('\n');
    const size_t line_begin = nl == std::string::npos ? 0 : nl + 1;
    if (line_begin == 0 && !line_starting) return;
    if (line_begin == text.size()) return;
    for (size_t i = line_begin; i < text.size(); ++i)
      if (!is_space(text[i])) return;
    text.resize(line_begin);
  }

  // After a tag's closing delimiter: "-" strips all whitespace, otherwise
  // trim_blocks drops one newline (block and comment tags only). Returns
  // whether what was consumed ended with a newline.
  bool consume_after_tag(size_t after, char sign, bool trim_newline) {
    pos_ = after;
    if (sign == '-') {
      while (pos_ < src_.size() && is_space(src_[pos_])) ++pos_;
    } else if (sign != '+' && trim_newline && pos_ < src_.size() && src_[pos_] == '\n') {
      ++pos_;
    }
    return pos_ > after && src_[pos_ - 1] == '\n';
  }

  bool skip_comment(size_t open) {
    const size_t close = src_.find("#}", pos_);
    if (close == std::string::npos) fail("unterminated comment: missing '#}'", open);
    char sign = '\0';
    if (close > pos_ && (src_[close - 1] == '-' || src_[close - 1] == '+')) sign = src_[close - 1];
    return consume_after_tag(close + 2, sign, true);
  }

  // Matches "{%[-+]? raw [-]?%}" at `open`.
  bool is_raw_tag(size_t open) const {
    size_t i = open + 2;
    if (i < src_.size() && (src_[i] == '-' || src_[i] == '+')) ++i;
    while (i < src_.size() && is_space(src_[i])) ++i;
    if (src_.compare(i, 3, "raw") != 0) return false;
    i += 3;
    while (i < src_.size() && is_space(src_[i])) ++i;
    if (i < src_.size() && src_[i] == '-') ++i;
    return src_.compare(i, 2, "%}") == 0;
  }

  bool lex_raw(size_t open) {
    size_t i = src_.find("%}", open) + 2;
    const bool strip_after_open = src_[i - 3] == '-';
    if (strip_after_open)
      while (i < src_.size() && is_space(src_[i])) ++i;
    // Find "{%[-+]? endraw [-+]?%}".
    for (size_t search = i;;) {
      const size_t tag = src_.find("{%", search);
      if (tag == std::string::npos) fail("unterminated {% raw %} block: missing {% endraw %}", open);
      size_t j = tag + 2;
      const char sign = (j < src_.size() && (src_[j] == '-' || src_[j] == '+')) ? src_[j] : '\0';
      if (sign) ++j;
      while (j < src_.size() && is_space(src_[j])) ++j;
      if (src_.compare(j, 6, "endraw") != 0) {
        search = tag + 2;
        continue;
      }
      j += 6;
      while (j < src_.size() && is_space(src_[j])) ++j;
      char end_sign = '\0';
      if (j < src_.size() && (src_[j] == '-' || src_[j] == '+')) end_sign = src_[j++];
      if (src_.compare(j, 2, "%}") != 0) fail("malformed {% endraw %} tag", tag);
      std::string body = src_.substr(i, tag - i);
      if (sign == '-') {
        while (!body.empty() && is_space(body.back())) body.pop_back();
      } else if (sign != '+') {
        lstrip_line(body, false);
      }
      emit_text(i, std::move(body));
      return consume_after_tag(j + 2, end_sign, true);
    }
  }

  // Tokens inside {{ }} or {% %}; returns whether the tag end consumed a newline.
  bool lex_tag(bool is_block, size_t open) {
    tokens_.push_back({is_block ? TokenKind::kBlockBegin : TokenKind::kVarBegin, "", pos_at(open)});
    const char close_char = is_block ? '%' : '}';
    std::vector<char> brackets;  // "}}" inside an open "{" is not the tag end
    while (true) {
      while (pos_ < src_.size() && is_space(src_[pos_])) ++pos_;
      if (pos_ >= src_.size())
        fail(is_block ? "unterminated block tag: missing '%}'" : "unterminated expression: missing '}}'", open);
      const size_t start = pos_;
      if (brackets.empty()) {
        char sign = '\0';
        size_t at = pos_;
        if ((src_[at] == '-' || src_[at] == '+') && at + 2 < src_.size() && src_[at + 1] == close_char &&
            src_[at + 2] == '}') {
          sign = src_[at];
          ++at;
        }
        if (at + 1 < src_.size() && src_[at] == close_char && src_[at + 1] == '}') {
          tokens_.push_back({is_block ? TokenKind::kBlockEnd : TokenKind::kVarEnd, "", pos_at(start)});
          if (sign == '+' && !is_block) fail("'+' is not allowed before '}}'", start);
          return consume_after_tag(at + 2, sign, is_block);
        }
      }
      const char c = src_[pos_];
      if (is_name_start(c)) {
        while (pos_ < src_.size() && is_name_char(src_[pos_])) ++pos_;
        tokens_.push_back({TokenKind::kName, src_.substr(start, pos_ - start), pos_at(start)});
      } else if (is_digit(c)) {
        lex_number(start);
      } else if (c == '\'' || c == '"') {
        lex_string(start);
      } else {
        lex_operator(start, brackets);
      }
    }
  }

  void lex_number(size_t start) {
    auto digits = [&] {
      while (pos_ < src_.size() && (is_digit(src_[pos_]) || (src_[pos_] == '_' && pos_ + 1 < src_.size() &&
                                                              is_digit(src_[pos_ + 1]))))
        ++pos_;
    };
    digits();
    bool is_float = false;
    if (pos_ + 1 < src_.size() && src_[pos_] == '.' && is_digit(src_[pos_ + 1])) {
      is_float = true;
      ++pos_;
      digits();
    }
    if (pos_ < src_.size() && (src_[pos_] == 'e' || src_[pos_] == 'E')) {
      size_t j = pos_ + 1;
      if (j < src_.size() && (src_[j] == '+' || src_[j] == '-')) ++j;
      if (j < src_.size() && is_digit(src_[j])) {
        is_float = true;
        pos_ = j;
        digits();
      }
    }
    std::string text;
    for (size_t i = start; i < pos_; ++i)
      if (src_[i] != '_') text += src_[i];
    tokens_.push_back({is_float ? TokenKind::kFloat : TokenKind::kInteger, std::move(text), pos_at(start)});
  }

  static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  // Python string-literal escapes, as Jinja decodes them.
  void lex_string(size_t start) {
    const char quote = src_[pos_++];
    std::string value;
    while (true) {
      if (pos_ >= src_.size()) fail("unterminated string literal", start);
      const char c = src_[pos_++];
      if (c == quote) break;
      if (c != '\\') {
        value += c;
        continue;
      }
      if (pos_ >= src_.size()) fail("unterminated string literal", start);
      const char e = src_[pos_++];
      switch (e) {
        case 'n': value += '\n'; break;
        case 't': value += '\t'; break;
        case 'r': value += '\r'; break;
        case '0': value += '\0'; break;
        case 'a': value += '\a'; break;
        case 'b': value += '\b'; break;
        case 'f': value += '\f'; break;
        case 'v': value += '\v'; break;
        case '\\': value += '\\'; break;
        case '\'': value += '\''; break;
        case '"': value += '"'; break;
        case '\n': break;  // line continuation
        case 'x': case 'u': case 'U': {
          const int n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          uint32_t cp = 0;
          for (int k = 0; k < n; ++k) {
            const int h = pos_ < src_.size() ? hex_value(src_[pos_]) : -1;
            if (h < 0) fail(std::string("truncated \\") + e + " escape in string literal", pos_);
            cp = cp * 16 + uint32_t(h);
            ++pos_;
          }
          if (cp > 0x10FFFF) fail("invalid \\U escape in string literal", pos_);
          utf8::append(value, char32_t(cp));
          break;
        }
        default:  // Python keeps unknown escapes verbatim
          value += '\\';
          value += e;
      }
    }
    tokens_.push_back({TokenKind::kString, std::move(value), pos_at(start)});
  }

  void lex_operator(size_t start, std::vector<char>& brackets) {
    static const char* const kTwoChar[] = {"//", "**", "==", "!=", "<=", ">="};
    for (const char* op : kTwoChar) {
      if (src_.compare(pos_, 2, op) == 0) {
        pos_ += 2;
        tokens_.push_back({TokenKind::kOperator, op, pos_at(start)});
        return;
      }
    }
    const char c = src_[pos_];
    static const std::string_view kSingle = "+-/*%~<>()[]{},.:|=;";
    if (kSingle.find(c) == std::string_view::npos) {
      fail(std::string("unexpected character '") + c + "' in tag", start);
    }
    if (c == '(' || c == '[' || c == '{') {
      brackets.push_back(c);
    } else if (c == ')' || c == ']' || c == '}') {
      const char want = c == ')' ? '(' : c == ']' ? '[' : '{';
      if (brackets.empty() || brackets.back() != want) fail(std::string("unexpected '") + c + "'", start);
      brackets.pop_back();
    }
    ++pos_;
    tokens_.push_back({TokenKind::kOperator, std::string(1, c), pos_at(start)});
  }

  std::string src_;
  size_t pos_ = 0;
  std::vector<Token> tokens_;
  size_t line_scan_offset_ = 0;
  uint32_t line_ = 1;
  size_t line_start_ = 0;
};

}  // namespace

std::vector<Token> tokenize(std::string_view source) {
  return Lexer(normalize_newlines(source)).run();
}

}  // namespace minnow::tmpl
