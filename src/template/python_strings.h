// Python str methods with Python's exact edge cases (whitespace-run split,
// empty-pattern replace, strip with a character set), on UTF-8 strings.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "template/interpreter.h"

namespace minnow::tmpl {

// chars == nullopt strips Unicode whitespace.
std::string py_strip(std::string_view s, const std::optional<std::string>& chars, bool left, bool right);
// sep == nullopt splits on whitespace runs; maxsplit < 0 means no limit.
std::vector<std::string> py_split(std::string_view s, const std::optional<std::string>& sep, int64_t maxsplit);
// count < 0 replaces all. Checks the result size before building it.
std::string py_replace(Interpreter& interp, std::string_view s, std::string_view old, std::string_view repl,
                       int64_t count);
// str.format with {} / {0} / {name} fields (no format specs).
std::string py_format(Interpreter& interp, std::string_view fmt, const CallArgs& args);

}  // namespace minnow::tmpl
