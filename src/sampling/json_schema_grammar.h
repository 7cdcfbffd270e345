// JSON Schema -> GBNF, for OpenAI `response_format` (json_object /
// json_schema) and for constraining tool-call arguments.
//
// The produced grammar (grammar.h's dialect) matches JSON texts without
// leading or trailing whitespace. Between tokens it allows `ws`, which is
// deliberately bounded: nothing, one space or tab, or one newline followed by
// at most 40 spaces/tabs of indentation — enough for pretty-printed output,
// but a model cannot spin forever emitting whitespace. `compact` removes it.
//
// Supported (everything else that constrains values is an error naming the
// keyword and the JSON pointer of the schema, never silently ignored):
//   - `true`, `{}`: any JSON value; `false` only as an (absent) property or
//     as "no further items".
//   - type: string, number, integer, boolean, null, object, array, or a list
//     of them. Without `type`, keywords of one kind imply it (`properties`
//     => object, `items` => array, ...): stricter than JSON Schema, which
//     would also admit other types, but what schema authors mean.
//   - object: properties (emitted in declared order; required mandatory,
//     optional ones may be left out), required, additionalProperties.
//     CHOICE: when `properties` is given and additionalProperties is absent,
//     no extra keys are allowed (stricter than JSON Schema; what generation
//     wants). additionalProperties true/schema allows extra members after
//     the declared ones, under any name but the declared ones (extra names
//     are written without escapes so "\u0061" cannot spell a declared "a").
//     Declared keys are matched as nlohmann dumps them.
//   - array: items, prefixItems (arrays may stop early, as JSON Schema says;
//     without `items` no further items — the same choice as for objects),
//     draft-7 array-form items with additionalItems, minItems/maxItems
//     (at most 1000), uniqueItems: false.
//   - string: minLength/maxLength (at most 1000, counted in JSON characters:
//     an escape sequence is one), format date, time, date-time, uuid, email,
//     ipv4 (simple patterns: a date like 2024-02-31 passes).
//   - integer: minimum/maximum/exclusiveMinimum/exclusiveMaximum, exact.
//   - number: the same bounds when their values are integers; bounded
//     numbers are written without an exponent.
//   - enum/const (any JSON values, matched as nlohmann dumps them, filtered
//     by `type`), anyOf/oneOf (as alternatives: oneOf's exclusivity is not
//     enforced), allOf with one element, $ref to a JSON pointer in the
//     same document ("#", "#/$defs/x", "#/definitions/x"), recursive refs
//     when the cycle passes through an object or array.
//   - ignored annotations: title, description, examples, default, $schema,
//     $id, $comment, strict, deprecated, readOnly, writeOnly, content*, x-*.
// Rejected: pattern, multipleOf, not, if/then/else, patternProperties,
// uniqueItems: true, min/maxProperties, contains, unknown formats, unknown
// keywords, non-integer bounds on numbers, $ref cycles that consume no input
// or have no base case, schemas nested deeper than max_depth, grammars over
// max_rules rules.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "sampling/gbnf_writer.h"  // gbnf_literal, for grammars that embed schemas

namespace minnow {

struct JsonGrammarOptions {
  bool compact = false;     // no optional whitespace between tokens
  uint32_t max_depth = 32;  // nesting of subschemas (and $ref chains)
  size_t max_rules = 5000;  // rules emitted, before the GBNF parser lowers repetitions
};

// GBNF text whose rule `root` matches exactly the JSON texts valid under
// `schema` (within the choices documented above).
Expected<std::string> json_schema_to_gbnf(const nlohmann::ordered_json& schema, const JsonGrammarOptions& options = {});

// Any JSON object (response_format json_object): `root` is an object of
// arbitrary JSON values.
std::string json_object_gbnf();

// For grammars that embed schemas: appends the rules for `schema` to
// `gbnf_out`, every name starting with `prefix` ([a-zA-Z0-9-]+, not already
// used by a rule in gbnf_out), and returns the name of its root rule.
Expected<std::string> append_json_schema_rules(const nlohmann::ordered_json& schema, std::string_view prefix,
                                               std::string& gbnf_out, const JsonGrammarOptions& options = {});

}  // namespace minnow
