// Context-free grammars in llama.cpp's GBNF syntax, compiled once and shared.
//
//   root  ::= "{" ws pair ("," ws pair)* "}"
//   pair  ::= [a-z]+ ":" ws ( "true" | "false" )
//   ws    ::= [ \t\n]*
//
// Supported: rules `name ::= alternatives`, `|`, grouping `( )`, string
// literals with escapes (\n \t \r \" \\ \xHH \uHHHH \UHHHHHHHH), character
// classes `[a-z]`, `[^"\\]`, the any-character `.`, rule references, the
// repetitions `* + ?` and `{m}`, `{m,}`, `{m,n}`, and `#` comments. Every
// repetition and group is lowered into plain rules, so the matcher only
// sees sequences of terminals (character classes) and rule references.
//
// Rejected with a clear error naming line and column: undefined rules,
// left recursion (the matcher could not terminate), empty-only grammars,
// and sizes beyond the limits below (a request body must not be able to
// make us build a billion-rule grammar).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace minnow {

// One element of a sequence: a set of code points, or a reference to a rule.
struct GrammarSymbol {
  enum class Kind : uint8_t { kChars, kRule };
  Kind kind = Kind::kChars;
  bool negated = false;                               // kChars: [^...]
  std::vector<std::pair<uint32_t, uint32_t>> ranges;  // kChars: inclusive code point ranges
  uint32_t rule = 0;                                  // kRule

  bool matches(uint32_t cp) const;
};

struct GrammarRule {
  std::string name;
  std::vector<std::vector<GrammarSymbol>> alternatives;  // an empty alternative matches ""
};

struct GrammarLimits {
  size_t max_source_bytes = 1 << 20;
  size_t max_rules = 20000;
  size_t max_symbols = 200000;
  uint32_t max_repeat = 1000;  // m and n of {m,n}
  uint32_t max_nesting = 256;  // depth of ( ) groups: the parser recurses
};

class Grammar {
 public:
  // Parses GBNF text; `root` names the start rule.
  static Expected<std::shared_ptr<const Grammar>> parse(std::string_view gbnf, std::string_view root = "root",
                                                        const GrammarLimits& limits = {});

  const std::vector<GrammarRule>& rules() const { return rules_; }
  uint32_t root() const { return root_; }
  // Index of a rule by name, or -1.
  int32_t find_rule(std::string_view name) const;
  // The GBNF text and start rule it was parsed from: equal sources give
  // equal grammars, so callers can share compiled automatons by it.
  const std::string& source() const { return source_; }

 private:
  std::vector<GrammarRule> rules_;
  std::string source_;
  uint32_t root_ = 0;
  friend class GrammarParser;
};

// Whether the whole of `text` (UTF-8) is a sentence of the grammar. For
// tests and validation; the sampler uses GrammarMatcher.
bool grammar_accepts(const Grammar& grammar, std::string_view text);

}  // namespace minnow
