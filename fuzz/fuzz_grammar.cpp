// libFuzzer entry for constrained decoding's parsers: the first byte picks
// GBNF text (parsed, then matched against a fixed sample text) or a JSON
// Schema (converted, and the result must parse). Any input must end in a
// result or a clean error, never a crash or a hang.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sampling/grammar.h"
#include "sampling/grammar_matcher.h"
#include "sampling/json_schema_grammar.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 1) {
    auto schema = nlohmann::ordered_json::parse(input, nullptr, false);
    if (schema.is_discarded()) return 0;
    auto gbnf = minnow::json_schema_to_gbnf(schema);
    if (!gbnf.ok()) return 0;
    auto g = minnow::Grammar::parse(*gbnf);
    if (!g.ok()) __builtin_trap();  // the converter must only write grammars the parser takes
    (void)minnow::grammar_accepts(**g, R"({"a": [1, "x", {"b": null}], "c": true})");
    return 0;
  }
  minnow::GrammarLimits limits;
  limits.max_symbols = 20000;
  limits.max_rules = 2000;
  auto g = minnow::Grammar::parse(input, "root", limits);
  if (!g.ok()) return 0;
  (void)minnow::grammar_accepts(**g, "{\"key\": [1, 2.5e3, \"v\xC3\xA9\"], \"n\": null}");
  (void)minnow::grammar_accepts(**g, "");
  return 0;
}
