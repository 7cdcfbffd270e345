// JSON in and out: context variables arrive as JSON (key order kept, hence
// ordered_json), and the tojson filter writes Python json.dumps() text, the
// way Hugging Face overrides it (ensure_ascii=False, ", " and ": ").
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "template/interpreter.h"
#include "template/value.h"

namespace minnow::tmpl {

// Throws TemplateError (kLimit) when nested deeper than kMaxValueDepth.
Value value_from_json(const nlohmann::ordered_json& j);

struct JsonDumpOptions {
  std::optional<std::string> indent;  // nullopt: one line
  bool sort_keys = false;
  bool ensure_ascii = false;
  std::string item_separator = ", ";  // "," when indenting, as in Python
  std::string key_separator = ": ";
};

// Python json.dumps(value, ...). Throws for values JSON cannot hold
// (Undefined, callables, namespaces) and when the text outgrows the limits.
std::string dump_json(Interpreter& interp, const Value& v, const JsonDumpOptions& options);

}  // namespace minnow::tmpl
