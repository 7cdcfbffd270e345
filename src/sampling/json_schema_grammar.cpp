// JSON Schema -> GBNF: the public entry points (json_schema_grammar.h says
// what is supported); the conversion itself is json_schema_converter.h's.
#include "sampling/json_schema_grammar.h"

#include "sampling/json_schema_converter.h"

#include <algorithm>
#include <exception>
#include <utility>

namespace minnow {
namespace {

using json_schema::Converter;

bool valid_rule_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
  });
}

// Whether a rule in `gbnf` is named `prefix` or `prefix-...`.
bool prefix_in_use(std::string_view gbnf, std::string_view prefix) {
  size_t pos = 0;
  while (pos < gbnf.size()) {
    size_t end = gbnf.find('\n', pos);
    if (end == std::string_view::npos) end = gbnf.size();
    std::string_view line = gbnf.substr(pos, end - pos);
    pos = end + 1;
    size_t def = line.find("::=");
    if (def == std::string_view::npos) continue;
    std::string_view name = line.substr(0, def);
    while (!name.empty() && (name.front() == ' ' || name.front() == '\t')) name.remove_prefix(1);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
    if (name.substr(0, prefix.size()) == prefix && (name.size() == prefix.size() || name[prefix.size()] == '-'))
      return true;
  }
  return false;
}

Expected<std::string> convert(const nlohmann::ordered_json& schema, std::string prefix, std::string& out,
                              const JsonGrammarOptions& options) {
  try {
    Converter c(schema, std::move(prefix), options);
    return c.run(out);
  } catch (const std::exception& e) {  // nlohmann or allocation: never escapes
    return Error(ErrorCode::kInternal, std::string("JSON Schema conversion failed: ") + e.what());
  }
}

}  // namespace

Expected<std::string> json_schema_to_gbnf(const nlohmann::ordered_json& schema, const JsonGrammarOptions& options) {
  std::string out;
  MINNOW_TRY(convert(schema, "", out, options));
  return out;
}

std::string json_object_gbnf() {
  auto g = json_schema_to_gbnf(nlohmann::ordered_json{{"type", "object"}});
  return g.ok() ? *g : std::string();
}

Expected<std::string> append_json_schema_rules(const nlohmann::ordered_json& schema, std::string_view prefix,
                                               std::string& gbnf_out, const JsonGrammarOptions& options) {
  if (!valid_rule_name(prefix))
    return invalid_argument("grammar rule prefix \"" + std::string(prefix) + "\" must match [a-zA-Z0-9-]+");
  if (prefix_in_use(gbnf_out, prefix))
    return invalid_argument("grammar rule prefix \"" + std::string(prefix) + "\" is already used");
  std::string rules;
  MINNOW_ASSIGN_OR_RETURN(std::string root, convert(schema, std::string(prefix), rules, options));
  if (!gbnf_out.empty() && gbnf_out.back() != '\n') gbnf_out += '\n';
  gbnf_out += rules;
  return root;
}

}  // namespace minnow
