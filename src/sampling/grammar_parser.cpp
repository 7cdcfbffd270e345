// GBNF text -> Grammar. A recursive-descent parser that lowers groups and
// repetitions into generated rules as it goes, then checks the result:
// every referenced rule defined, no left recursion, limits respected.
#include <algorithm>
#include <functional>
#include <optional>
#include <unordered_map>

#include "sampling/grammar.h"

namespace minnow {

bool GrammarSymbol::matches(uint32_t cp) const {
  bool in = false;
  for (const auto& [lo, hi] : ranges)
    if (cp >= lo && cp <= hi) {
      in = true;
      break;
    }
  return in != negated;
}

int32_t Grammar::find_rule(std::string_view name) const {
  for (size_t i = 0; i < rules_.size(); ++i)
    if (rules_[i].name == name) return int32_t(i);
  return -1;
}

namespace {

using Sequence = std::vector<GrammarSymbol>;
using Alternatives = std::vector<Sequence>;

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

GrammarSymbol char_symbol(uint32_t cp) {
  GrammarSymbol s;
  s.ranges.push_back({cp, cp});
  return s;
}

GrammarSymbol rule_symbol(uint32_t rule) {
  GrammarSymbol s;
  s.kind = GrammarSymbol::Kind::kRule;
  s.rule = rule;
  return s;
}

}  // namespace

class GrammarParser {
 public:
  GrammarParser(std::string_view src, const GrammarLimits& limits) : src_(src), limits_(limits) {}

  Expected<std::shared_ptr<const Grammar>> run(std::string_view root_name) {
    if (src_.size() > limits_.max_source_bytes)
      return error_at(0, "grammar is " + std::to_string(src_.size()) + " bytes, more than the limit of " +
                            std::to_string(limits_.max_source_bytes));
    skip_space(true);
    if (pos_ >= src_.size()) return error_at(pos_, "grammar is empty");
    while (pos_ < src_.size()) {
      if (!parse_rule()) return std::move(*error_);
      skip_space(true);
    }
    for (size_t i = 0; i < g_->rules_.size(); ++i)
      if (!defined_[i]) return error_at(first_use_[i], "rule '" + g_->rules_[i].name + "' is used but never defined");
    const int32_t root = g_->find_rule(root_name);
    if (root < 0) return error_at(0, "grammar has no '" + std::string(root_name) + "' rule");
    g_->root_ = uint32_t(root);
    g_->source_ = std::string(root_name) + "\n" + std::string(src_);
    if (auto st = check_left_recursion(); !st.ok()) return st.error();
    return std::shared_ptr<const Grammar>(std::move(g_));
  }

 private:
  // ---- errors -------------------------------------------------------------
  Error error_at(size_t at, const std::string& what) const {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < at && i < src_.size(); ++i) {
      if (src_[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    return invalid_argument("line " + std::to_string(line) + ", column " + std::to_string(col) + ": " + what)
        .with_field("grammar");
  }
  bool fail(const std::string& what) {
    if (!error_) error_.emplace(error_at(pos_, what));
    return false;
  }

  // ---- lexing -------------------------------------------------------------
  // Spaces and comments; newlines only when `newlines` (inside groups, or
  // between rules).
  void skip_space(bool newlines) {
    while (pos_ < src_.size()) {
      const char c = src_[pos_];
      if (c == ' ' || c == '\t' || c == '\r' || (newlines && c == '\n')) {
        ++pos_;
      } else if (c == '#') {
        while (pos_ < src_.size() && src_[pos_] != '\n') ++pos_;
      } else {
        break;
      }
    }
  }

  // At a newline in a top-level sequence: the sequence continues unless what
  // follows is the start of the next rule (`name ::=`) or the end.
  bool sequence_continues_after_newline() {
    size_t save = pos_;
    skip_space(true);
    bool continues = pos_ < src_.size();
    if (continues) {
      size_t p = pos_;
      while (p < src_.size() && is_name_char(src_[p])) ++p;
      if (p > pos_) {
        while (p < src_.size() && (src_[p] == ' ' || src_[p] == '\t')) ++p;
        if (src_.substr(p, 3) == "::=") continues = false;
      }
    }
    if (!continues) pos_ = save;
    return continues;
  }

  std::string parse_name() {
    const size_t start = pos_;
    while (pos_ < src_.size() && is_name_char(src_[pos_])) ++pos_;
    return std::string(src_.substr(start, pos_ - start));
  }

  // One code point from a literal or class body, handling escapes and UTF-8.
  bool parse_char(uint32_t& cp) {
    if (pos_ >= src_.size()) return fail("unexpected end of grammar");
    const unsigned char c = static_cast<unsigned char>(src_[pos_]);
    if (c == '\\') {
      ++pos_;
      if (pos_ >= src_.size()) return fail("unfinished escape");
      const char e = src_[pos_++];
      switch (e) {
        case 'n': cp = '\n'; return true;
        case 't': cp = '\t'; return true;
        case 'r': cp = '\r'; return true;
        case '\\': case '"': case '[': case ']': case '-': case '^': case '\'': case '/': cp = uint32_t(e); return true;
        case 'x': return parse_hex(2, cp);
        case 'u': return parse_hex(4, cp);
        case 'U': return parse_hex(8, cp);
        default: --pos_; return fail(std::string("unknown escape '\\") + e + "'");
      }
    }
    if (c < 0x80) {
      cp = c;
      ++pos_;
      return true;
    }
    const int len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
    if (len == 0 || pos_ + size_t(len) > src_.size()) return fail("invalid UTF-8 in grammar");
    cp = c & (0x7F >> len);
    for (int i = 1; i < len; ++i) {
      const unsigned char cc = static_cast<unsigned char>(src_[pos_ + size_t(i)]);
      if ((cc & 0xC0) != 0x80) return fail("invalid UTF-8 in grammar");
      cp = (cp << 6) | (cc & 0x3F);
    }
    pos_ += size_t(len);
    return true;
  }

  bool parse_hex(int digits, uint32_t& cp) {
    cp = 0;
    for (int i = 0; i < digits; ++i) {
      if (pos_ >= src_.size()) return fail("unfinished hex escape");
      const char h = src_[pos_];
      uint32_t v;
      if (h >= '0' && h <= '9') v = uint32_t(h - '0');
      else if (h >= 'a' && h <= 'f') v = uint32_t(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F') v = uint32_t(h - 'A' + 10);
      else return fail("expected a hex digit");
      cp = cp * 16 + v;
      ++pos_;
    }
    if (cp > 0x10FFFF) return fail("code point beyond U+10FFFF");
    return true;
  }

  bool parse_uint(uint32_t& out) {
    const size_t start = pos_;
    uint64_t v = 0;
    while (pos_ < src_.size() && src_[pos_] >= '0' && src_[pos_] <= '9') {
      v = v * 10 + uint64_t(src_[pos_] - '0');
      if (v > limits_.max_repeat) return fail("repetition count beyond the limit of " + std::to_string(limits_.max_repeat));
      ++pos_;
    }
    if (pos_ == start) return fail("expected a number");
    out = uint32_t(v);
    return true;
  }

  // ---- rules --------------------------------------------------------------
  uint32_t rule_index(const std::string& name, size_t use_at) {
    if (auto it = by_name_.find(name); it != by_name_.end()) return it->second;
    return new_rule(name, use_at);
  }
  uint32_t new_rule(const std::string& name, size_t use_at) {
    const uint32_t id = uint32_t(g_->rules_.size());
    g_->rules_.push_back({name, {}});
    defined_.push_back(false);
    first_use_.push_back(use_at);
    by_name_[name] = id;
    return id;
  }
  uint32_t generated_rule(Alternatives alts) {
    const uint32_t id = new_rule(current_rule_ + "#" + std::to_string(++generated_), pos_);
    defined_[id] = true;
    g_->rules_[id].alternatives = std::move(alts);
    return id;
  }
  bool count_symbols(size_t n) {
    n_symbols_ += n;
    if (n_symbols_ > limits_.max_symbols) return fail("grammar has more than " + std::to_string(limits_.max_symbols) + " symbols");
    if (g_->rules_.size() > limits_.max_rules) return fail("grammar has more than " + std::to_string(limits_.max_rules) + " rules");
    return true;
  }

  bool parse_rule() {
    const size_t at = pos_;
    const std::string name = parse_name();
    if (name.empty()) return fail("expected a rule name");
    skip_space(false);
    if (src_.substr(pos_, 3) != "::=") return fail("expected '::=' after rule name '" + name + "'");
    pos_ += 3;
    const uint32_t id = rule_index(name, at);
    if (defined_[id]) {
      pos_ = at;
      return fail("rule '" + name + "' is defined twice");
    }
    defined_[id] = true;
    current_rule_ = name;
    Alternatives alts;
    if (!parse_alternatives(alts, false)) return false;
    g_->rules_[id].alternatives = std::move(alts);
    skip_space(false);
    if (pos_ < src_.size() && src_[pos_] != '\n') return fail("unexpected character '" + std::string(1, src_[pos_]) + "'");
    return true;
  }

  bool parse_alternatives(Alternatives& out, bool nested) {
    for (;;) {
      Sequence seq;
      if (!parse_sequence(seq, nested)) return false;
      out.push_back(std::move(seq));
      if (pos_ < src_.size() && src_[pos_] == '|') {
        ++pos_;
        skip_space(true);
        continue;
      }
      return true;
    }
  }

  bool parse_sequence(Sequence& seq, bool nested) {
    for (;;) {
      skip_space(nested);
      if (pos_ >= src_.size()) return true;
      const char c = src_[pos_];
      if (c == '\n') {
        if (!sequence_continues_after_newline()) return true;
        continue;
      }
      if (c == '|' || c == ')') return true;
      Sequence item;
      if (!parse_item(item)) return false;
      skip_space(nested);
      if (!parse_repetition(item)) return false;
      if (!count_symbols(item.size())) return false;
      seq.insert(seq.end(), std::make_move_iterator(item.begin()), std::make_move_iterator(item.end()));
    }
  }

  bool parse_item(Sequence& item) {
    const char c = src_[pos_];
    if (c == '"') {
      ++pos_;
      while (pos_ < src_.size() && src_[pos_] != '"') {
        uint32_t cp;
        if (!parse_char(cp)) return false;
        item.push_back(char_symbol(cp));
      }
      if (pos_ >= src_.size()) return fail("unterminated string literal");
      ++pos_;
      return true;
    }
    if (c == '[') return parse_class(item);
    if (c == '.') {
      ++pos_;
      GrammarSymbol any;
      any.negated = true;  // [^] : every code point
      item.push_back(std::move(any));
      return true;
    }
    if (c == '(') {
      if (++depth_ > limits_.max_nesting)
        return fail("groups nested deeper than " + std::to_string(limits_.max_nesting));
      ++pos_;
      skip_space(true);
      Alternatives alts;
      if (!parse_alternatives(alts, true)) return false;
      skip_space(true);
      if (pos_ >= src_.size() || src_[pos_] != ')') return fail("expected ')'");
      ++pos_;
      --depth_;
      item.push_back(rule_symbol(generated_rule(std::move(alts))));
      return true;
    }
    if (is_name_char(c)) {
      const size_t at = pos_;
      const std::string name = parse_name();
      item.push_back(rule_symbol(rule_index(name, at)));
      return true;
    }
    return fail("unexpected character '" + std::string(1, c) + "'");
  }

  bool parse_class(Sequence& item) {
    ++pos_;  // '['
    GrammarSymbol s;
    if (pos_ < src_.size() && src_[pos_] == '^') {
      s.negated = true;
      ++pos_;
    }
    while (pos_ < src_.size() && src_[pos_] != ']') {
      uint32_t lo, hi;
      if (!parse_char(lo)) return false;
      hi = lo;
      if (pos_ + 1 < src_.size() && src_[pos_] == '-' && src_[pos_ + 1] != ']') {
        ++pos_;
        if (!parse_char(hi)) return false;
        if (hi < lo) return fail("character range is reversed");
      }
      s.ranges.push_back({lo, hi});
    }
    if (pos_ >= src_.size()) return fail("unterminated character class");
    ++pos_;
    item.push_back(std::move(s));
    return true;
  }

  // Postfix * + ? {m} {m,} {m,n} applied to the whole item.
  bool parse_repetition(Sequence& item) {
    if (pos_ >= src_.size()) return true;
    const char c = src_[pos_];
    uint32_t min = 0, max = 0;
    bool unbounded = false;
    if (c == '*') {
      unbounded = true;
      ++pos_;
    } else if (c == '+') {
      min = 1;
      unbounded = true;
      ++pos_;
    } else if (c == '?') {
      max = 1;
      ++pos_;
    } else if (c == '{') {
      ++pos_;
      skip_space(false);
      if (!parse_uint(min)) return false;
      skip_space(false);
      max = min;
      if (pos_ < src_.size() && src_[pos_] == ',') {
        ++pos_;
        skip_space(false);
        if (pos_ < src_.size() && src_[pos_] == '}') {
          unbounded = true;
        } else {
          if (!parse_uint(max)) return false;
          if (max < min) return fail("repetition {m,n} with n < m");
        }
        skip_space(false);
      }
      if (pos_ >= src_.size() || src_[pos_] != '}') return fail("expected '}'");
      ++pos_;
    } else {
      return true;
    }
    skip_space(false);
    const GrammarSymbol unit = item.size() == 1 ? item[0] : rule_symbol(generated_rule({item}));
    Sequence out;
    for (uint32_t i = 0; i < min; ++i) out.push_back(unit);
    if (!count_symbols(out.size())) return false;
    if (unbounded) {
      // star ::= unit star | ""   (right recursion: the matcher's stacks stay flat)
      const uint32_t star = generated_rule({});
      g_->rules_[star].alternatives = {{unit, rule_symbol(star)}, {}};
      out.push_back(rule_symbol(star));
    } else if (max > min) {
      // opt_k ::= unit opt_{k-1} | ""  nested, so "a{0,3}" never matches 4.
      uint32_t tail = generated_rule({{unit}, {}});
      for (uint32_t k = 1; k < max - min; ++k) {
        tail = generated_rule({{unit, rule_symbol(tail)}, {}});
        if (!count_symbols(2)) return false;
      }
      out.push_back(rule_symbol(tail));
    }
    item = std::move(out);
    return true;
  }

  // ---- checks -------------------------------------------------------------
  // A rule that can reach itself without consuming a character would make
  // the matcher loop forever: reject it, naming the rule.
  Status check_left_recursion() const {
    const auto& rules = g_->rules_;
    std::vector<bool> nullable(rules.size(), false);
    for (bool changed = true; changed;) {
      changed = false;
      for (size_t r = 0; r < rules.size(); ++r) {
        if (nullable[r]) continue;
        for (const auto& alt : rules[r].alternatives) {
          const bool all = std::all_of(alt.begin(), alt.end(), [&](const GrammarSymbol& s) {
            return s.kind == GrammarSymbol::Kind::kRule && nullable[s.rule];
          });
          if (all) {
            nullable[r] = changed = true;
            break;
          }
        }
      }
    }
    // Edges r -> s where s can start r's match with nothing consumed before it.
    std::vector<std::vector<uint32_t>> left(rules.size());
    for (size_t r = 0; r < rules.size(); ++r)
      for (const auto& alt : rules[r].alternatives)
        for (const auto& s : alt) {
          if (s.kind != GrammarSymbol::Kind::kRule) break;
          left[r].push_back(s.rule);
          if (!nullable[s.rule]) break;
        }
    // Iterative DFS with colours (a deep grammar must not blow the C++ stack).
    std::vector<uint8_t> colour(rules.size(), 0);
    for (size_t start = 0; start < rules.size(); ++start) {
      if (colour[start]) continue;
      std::vector<std::pair<uint32_t, size_t>> stack{{uint32_t(start), 0}};
      colour[start] = 1;
      while (!stack.empty()) {
        auto& [r, next] = stack.back();
        if (next < left[r].size()) {
          const uint32_t s = left[r][next++];
          if (colour[s] == 1) {
            return invalid_argument("rule '" + display_name(s) + "' is left-recursive (it can reach itself "
                                    "without matching a character)").with_field("grammar");
          }
          if (colour[s] == 0) {
            colour[s] = 1;
            stack.push_back({s, 0});
          }
        } else {
          colour[r] = 2;
          stack.pop_back();
        }
      }
    }
    return Status::success();
  }

  // Generated rules are named "<rule>#N" ('#' cannot appear in a user's
  // name); users know the rule they wrote.
  std::string display_name(uint32_t r) const {
    const std::string& n = g_->rules_[r].name;
    return n.substr(0, n.find('#'));
  }

  std::string_view src_;
  GrammarLimits limits_;
  size_t pos_ = 0;
  std::unique_ptr<Grammar> g_ = std::make_unique<Grammar>();
  std::unordered_map<std::string, uint32_t> by_name_;
  std::vector<bool> defined_;
  std::vector<size_t> first_use_;
  std::string current_rule_;
  uint32_t generated_ = 0;
  uint32_t depth_ = 0;
  size_t n_symbols_ = 0;
  std::optional<Error> error_;
};

Expected<std::shared_ptr<const Grammar>> Grammar::parse(std::string_view gbnf, std::string_view root,
                                                        const GrammarLimits& limits) {
  return GrammarParser(gbnf, limits).run(root);
}

}  // namespace minnow
