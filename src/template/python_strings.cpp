#include "template/python_strings.h"

#include <algorithm>
#include <cctype>

#include "template/template_error.h"
#include "template/utf8.h"

namespace minnow::tmpl {
namespace {

bool in_set(char32_t cp, const std::optional<std::string>& chars) {
  if (!chars) return utf8::is_space(cp);
  for (size_t i = 0; i < chars->size();)
    if (utf8::decode(*chars, i) == cp) return true;
  return false;
}

}  // namespace

std::string py_strip(std::string_view s, const std::optional<std::string>& chars, bool left, bool right) {
  size_t begin = 0, end = s.size();
  if (left) {
    while (begin < end) {
      size_t next = begin;
      if (!in_set(utf8::decode(s, next), chars)) break;
      begin = next;
    }
  }
  if (right) {
    while (end > begin) {
      size_t start = end - 1;  // back up to the first byte of the last code point
      while (start > begin && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
      size_t next = start;
      const char32_t cp = utf8::decode(s, next);
      if (next != end) {  // invalid sequence: treat the last byte alone
        start = end - 1;
        if (!in_set(0xFFFD, chars)) break;
      } else if (!in_set(cp, chars)) {
        break;
      }
      end = start;
    }
  }
  return std::string(s.substr(begin, end - begin));
}

std::vector<std::string> py_split(std::string_view s, const std::optional<std::string>& sep, int64_t maxsplit) {
  std::vector<std::string> out;
  if (sep) {
    if (sep->empty()) throw_render_error("empty separator");
    size_t start = 0;
    while (maxsplit < 0 || int64_t(out.size()) < maxsplit) {
      const size_t at = s.find(*sep, start);
      if (at == std::string_view::npos) break;
      out.emplace_back(s.substr(start, at - start));
      start = at + sep->size();
    }
    out.emplace_back(s.substr(start));
    return out;
  }
  size_t i = 0;
  auto skip_space = [&] {
    while (i < s.size()) {
      size_t next = i;
      if (!utf8::is_space(utf8::decode(s, next))) break;
      i = next;
    }
  };
  skip_space();
  while (i < s.size()) {
    if (maxsplit >= 0 && int64_t(out.size()) >= maxsplit) {
      // The remainder keeps its trailing whitespace, as in Python.
      out.emplace_back(s.substr(i));
      return out;
    }
    const size_t start = i;
    while (i < s.size()) {
      size_t next = i;
      if (utf8::is_space(utf8::decode(s, next))) break;
      i = next;
    }
    out.emplace_back(s.substr(start, i - start));
    skip_space();
  }
  return out;
}

std::string py_replace(Interpreter& interp, std::string_view s, std::string_view old, std::string_view repl,
                       int64_t count) {
  if (old.empty()) {
    // Python inserts `repl` before every code point and at the end.
    const auto offsets = utf8::offsets(s);
    const size_t n_slots = offsets.size();
    const size_t n = count < 0 ? n_slots : std::min<size_t>(n_slots, size_t(count));
    interp.check_string_size(s.size() + n * repl.size());
    interp.charge(n * 64);
    std::string out;
    for (size_t k = 0; k + 1 < offsets.size(); ++k) {
      if (k < n) out += repl;
      out.append(s.substr(offsets[k], offsets[k + 1] - offsets[k]));
    }
    if (n == n_slots) out += repl;
    return out;
  }
  size_t matches = 0;
  for (size_t at = s.find(old); at != std::string_view::npos && (count < 0 || int64_t(matches) < count);
       at = s.find(old, at + old.size()))
    ++matches;
  if (repl.size() > old.size()) interp.check_string_size(s.size() + matches * (repl.size() - old.size()));
  interp.charge(s.size() + matches * 64);  // each match costs about a step
  std::string out;
  size_t start = 0;
  for (size_t k = 0; k < matches; ++k) {
    const size_t at = s.find(old, start);
    out.append(s.substr(start, at - start));
    out.append(repl);
    start = at + old.size();
  }
  out.append(s.substr(start));
  return out;
}

std::string py_format(Interpreter& interp, std::string_view fmt, const CallArgs& args) {
  std::string out;
  size_t auto_index = 0;
  for (size_t i = 0; i < fmt.size(); ++i) {
    const char c = fmt[i];
    if (c == '}') {
      if (i + 1 < fmt.size() && fmt[i + 1] == '}') ++i;
      else throw_render_error("single '}' encountered in format string");
      out += '}';
      continue;
    }
    if (c != '{') {
      out += c;
      continue;
    }
    if (i + 1 < fmt.size() && fmt[i + 1] == '{') {
      out += '{';
      ++i;
      continue;
    }
    const size_t close = fmt.find('}', i);
    if (close == std::string_view::npos) throw_render_error("single '{' encountered in format string");
    const std::string field(fmt.substr(i + 1, close - i - 1));
    if (field.find_first_of(":!.[") != std::string::npos)
      throw TemplateError(TemplateErrorKind::kUnsupported, "format field '{" + field + "}' is not supported");
    const Value* v = nullptr;
    if (field.empty() || std::isdigit(static_cast<unsigned char>(field[0]))) {
      const size_t idx = field.empty() ? auto_index++ : size_t(std::stoul(field.substr(0, 9)));
      if (idx >= args.positional.size())
        throw_render_error("format: replacement index " + std::to_string(idx) + " out of range");
      v = &args.positional[idx];
    } else {
      for (const auto& [k, val] : args.keyword)
        if (k == field) v = &val;
      if (!v) throw_render_error("format: no argument named '" + field + "'");
    }
    out += interp.to_str(*v);
    interp.check_string_size(out.size());
    i = close;
  }
  return out;
}

}  // namespace minnow::tmpl
