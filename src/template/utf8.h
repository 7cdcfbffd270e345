// UTF-8 helpers for Python string semantics: len() and indexing count code
// points, not bytes. Invalid bytes decode as U+FFFD, one byte each, so every
// input makes progress.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace minnow::tmpl::utf8 {

// Decodes the code point at s[i] and advances i past it.
char32_t decode(std::string_view s, size_t& i);
void append(std::string& out, char32_t cp);
size_t count(std::string_view s);
// Byte offset of each code point, plus s.size() at the end.
std::vector<size_t> offsets(std::string_view s);
bool is_ascii(std::string_view s);
// Python str.isprintable() for one code point (repr() escapes the rest).
bool is_printable(char32_t cp);
// Python str.isspace() for one code point.
bool is_space(char32_t cp);
std::string to_upper(std::string_view s);
std::string to_lower(std::string_view s);
// Python str.title() and str.capitalize().
std::string to_title(std::string_view s);
std::string capitalize(std::string_view s);

}  // namespace minnow::tmpl::utf8
