// GBNF parsing, matching and token masks.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "sampling/grammar.h"
#include "sampling/grammar_matcher.h"

namespace minnow {
namespace {

std::shared_ptr<const Grammar> parse_ok(std::string_view src) {
  auto g = Grammar::parse(src);
  EXPECT_TRUE(g.ok()) << (g.ok() ? "" : g.error().to_string());
  return g.ok() ? *g : nullptr;
}

struct MatchCase {
  const char* grammar;
  std::vector<const char*> accept;
  std::vector<const char*> reject;
};

TEST(Grammar, MatchesWhatItShouldAndNothingElse) {
  const std::vector<MatchCase> cases = {
      {R"(root ::= "yes" | "no")", {"yes", "no"}, {"", "ye", "yess", "No", "yesno"}},
      {R"(root ::= [a-c]+)", {"a", "abc", "cccc"}, {"", "d", "abd"}},
      {R"(root ::= [^"\\]*)", {"", "abc", "é ü 中"}, {"\"", "a\\b"}},
      {R"(root ::= "a"? "b"*)", {"", "a", "ab", "bbb", "abbb"}, {"aa", "ba"}},
      {R"(root ::= x{2,3}
x ::= "ab")", {"abab", "ababab"}, {"ab", "abababab", "aba"}},
      {R"(root ::= [0-9]{3})", {"123", "000"}, {"12", "1234", "12a"}},
      {R"(root ::= [0-9]{2,})", {"12", "12345"}, {"1", ""}},
      {R"g(root ::= ( "(" root ")" )*)g", {"", "()", "(())()", "((()))"}, {"(", ")(", "(()"}},
      {R"(root ::= . . .)", {"abc", "a中c", "🙂🙂🙂"}, {"ab", "abcd"}},
      {R"(root ::= "\x41\u00e9\n" [\t])", {"Aé\n\t"}, {"Ae\n\t"}},
      {R"(# comment line
root ::= greeting " " name   # trailing comment
greeting ::= "hi" | "hello"
name ::=
  [A-Z] [a-z]*)", {"hi Bob", "hello X"}, {"hi bob", "hey Bob"}},
      {R"(root ::= "a"
  | "b")", {"a", "b"}, {"ab"}},
      {R"(root ::= [a-z&&] "-"? [\-\]])", {"a-]", "&-", "a]"}, {"--"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.grammar);
    auto g = parse_ok(c.grammar);
    ASSERT_TRUE(g);
    for (const char* t : c.accept) EXPECT_TRUE(grammar_accepts(*g, t)) << "should accept: " << t;
    for (const char* t : c.reject) EXPECT_FALSE(grammar_accepts(*g, t)) << "should reject: " << t;
  }
}

TEST(Grammar, ErrorsNameLineAndColumn) {
  struct Bad {
    const char* src;
    const char* expect;
  };
  const std::vector<Bad> bad = {
      {"", "empty"},
      {"root ::= foo", "'foo' is used but never defined"},
      {"root ::= \"abc", "unterminated string"},
      {"root ::= [abc", "unterminated character class"},
      {"root ::= \"a\"\nroot ::= \"b\"", "defined twice"},
      {"root ::= root \"a\"", "left-recursive"},
      {"root ::= x \"a\"\nx ::= \"b\"? root", "left-recursive"},
      {"root ::= (\"a\"", "expected ')'"},
      {"root ::= \"a\"{3,2}", "n < m"},
      {"root ::= \"a\"{100000}", "limit"},
      {"other ::= \"a\"", "no 'root' rule"},
      {"root := \"a\"", "expected '::='"},
      {"root ::= \"\\q\"", "unknown escape"},
      {"root ::= [z-a]", "reversed"},
      {"root ::= \"a\" @", "unexpected character '@'"},
  };
  for (const auto& b : bad) {
    auto g = Grammar::parse(b.src);
    ASSERT_FALSE(g.ok()) << b.src;
    EXPECT_NE(g.error().message().find(b.expect), std::string::npos) << b.src << " -> " << g.error().message();
  }
  auto g = Grammar::parse("root ::= \"a\"\nx ::= \"b\" @");
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.error().message().find("line 2, column 11"), std::string::npos) << g.error().message();
}

TEST(Grammar, HostileGrammarsStayBounded) {
  // A 2^40-way ambiguous chain must not explode: it is cut by the stack limit.
  std::string chain = "root ::= a0 \"!\"\n";
  for (int i = 0; i < 40; ++i) chain += "a" + std::to_string(i) + " ::= a" + std::to_string(i + 1) + " a" + std::to_string(i + 1) + " | \"x\"\n";
  chain += "a40 ::= \"x\"?\n";
  auto g = Grammar::parse(chain);
  if (g.ok()) {
    (void)grammar_accepts(**g, "xxx!");  // terminates; result not the point
  }
  // The token-mask walk has its own budget: a 2^40-way grammar against a
  // vocabulary of many x-runs still masks in bounded time, and whatever the
  // mask allows, accept() takes.
  if (g.ok()) {
    std::vector<std::string> pieces;
    for (int len = 1; len <= 12; ++len) pieces.push_back(std::string(size_t(len), 'x'));
    for (int len = 1; len <= 12; ++len) pieces.push_back(std::string(size_t(len), 'x') + "!");
    GrammarRuntimeLimits tight;
    tight.max_mask_walk_steps = 50000;
    auto automaton = std::make_shared<GrammarAutomaton>(*g, std::make_shared<GrammarVocab>(pieces, std::vector<int32_t>{}), tight);
    GrammarMatcher m(automaton);
    const auto allowed = m.allowed_tokens();
    for (size_t t = 0; t < allowed.size(); ++t)
      if (allowed[t]) {
        EXPECT_TRUE(GrammarMatcher(m).accept(int32_t(t)).ok()) << pieces[t];
      }
  }
  // Nested repetition stays compact (rules reference rules), and matching
  // it needs no expansion of the 10^9 strings it describes.
  auto big = parse_ok("root ::= ((\"a\"{1000}){1000}){1000}");
  EXPECT_FALSE(grammar_accepts(*big, std::string(5000, 'a')));
  // Flat repetition beyond the symbol limit is refused at parse time.
  GrammarLimits small;
  small.max_symbols = 500;
  EXPECT_FALSE(Grammar::parse("root ::= \"a\"{600}", "root", small).ok());
  // Deeply nested groups are refused, not a stack overflow.
  auto deep = Grammar::parse("root ::= " + std::string(200000, '(') + "\"a\"" + std::string(200000, ')'));
  ASSERT_FALSE(deep.ok());
  EXPECT_NE(deep.error().message().find("nested deeper"), std::string::npos);
  // Very deep nesting in the text is cut by the depth limit, not the C++ stack.
  auto parens = parse_ok("root ::= \"(\" root \")\" | \"x\"");
  EXPECT_FALSE(grammar_accepts(*parens, std::string(100000, '(')));
}

// A small vocabulary with multi-byte and partial-UTF-8 pieces.
std::shared_ptr<GrammarVocab> test_vocab() {
  std::vector<std::string> pieces = {"", "{", "}", "\"", "a", "ab", "b", "\"a", "\":", " ", "1", "12", "x",
                                     "\xE4\xB8", "\xAD", "\xE4\xB8\xAD", "\xFF", "true", "tr", "ue", "<eos>"};
  pieces.back() = "";  // an end token has no text
  return std::make_shared<GrammarVocab>(pieces, std::vector<int32_t>{20});
}

TEST(GrammarMatcher, MaskAllowsExactlyTheContinuingTokens) {
  auto g = parse_ok(R"(root ::= "{" "\"" [a-b中]+ "\":" " "? ("true" | [0-9]+) "}")");
  auto vocab = test_vocab();
  auto automaton = std::make_shared<GrammarAutomaton>(g, vocab);
  GrammarMatcher m(automaton);
  auto allowed_pieces = [&] {
    std::vector<std::string> out;
    auto bits = m.allowed_tokens();
    for (size_t i = 0; i < bits.size(); ++i)
      if (bits[i]) out.push_back(i == 20 ? "<eos>" : vocab->piece(int32_t(i)));
    return out;
  };
  EXPECT_EQ(allowed_pieces(), (std::vector<std::string>{"{"}));
  ASSERT_TRUE(m.accept(1).ok());
  // A lone lead byte is allowed only where a character it can start fits.
  GrammarMatcher ascii_only(std::make_shared<GrammarAutomaton>(parse_ok("root ::= [ -~]+"), vocab));
  EXPECT_FALSE(ascii_only.allows(13));
  EXPECT_EQ(allowed_pieces(), (std::vector<std::string>{"\"", "\"a"}));
  ASSERT_TRUE(m.accept(7).ok());  // "a
  EXPECT_EQ(allowed_pieces(), (std::vector<std::string>{"\"", "a", "ab", "b", "\":", "\xE4\xB8", "\xE4\xB8\xAD"}));
  ASSERT_TRUE(m.accept(13).ok());  // half of 中
  EXPECT_EQ(allowed_pieces(), (std::vector<std::string>{"\xAD"}));
  EXPECT_FALSE(m.accept(4).ok());  // 'a' cannot finish a character
  ASSERT_TRUE(m.accept(14).ok());
  ASSERT_TRUE(m.accept(8).ok());  // ":
  EXPECT_TRUE(m.allows(18));      // "tr"
  EXPECT_FALSE(m.allows(12));
  ASSERT_TRUE(m.accept(18).ok());
  EXPECT_EQ(allowed_pieces(), (std::vector<std::string>{"ue"}));
  ASSERT_TRUE(m.accept(19).ok());
  EXPECT_FALSE(m.is_accepting());
  EXPECT_FALSE(m.allows(20));
  ASSERT_TRUE(m.accept(2).ok());
  EXPECT_TRUE(m.is_accepting());
  EXPECT_TRUE(m.is_complete());
  EXPECT_EQ(allowed_pieces(), (std::vector<std::string>{"<eos>"}));
  std::vector<float> logits(vocab->size(), 1.0f);
  m.mask(logits);
  for (size_t i = 0; i < logits.size(); ++i) EXPECT_EQ(std::isinf(logits[i]), i != 20) << i;
  ASSERT_TRUE(m.accept(20).ok());
  EXPECT_FALSE(m.accept(2).ok());
}

TEST(GrammarMatcher, MaskAgreesWithTokenByTokenChecks) {
  // Differential: for random walks, the mask equals "does appending this
  // piece keep a valid prefix", computed independently with accept_text.
  auto g = parse_ok(R"(root ::= "{" ws (pair (ws "," ws pair)*)? ws "}"
pair ::= "\"" [a-z]* "\"" ws ":" ws num
num ::= "-"? [0-9]+
ws ::= [ ]{0,2})");
  std::vector<std::string> pieces = {"{", "}", "\"", ",", ":", " ", "  ", "-", "0", "12", "a", "bc", "\"a", "\":",
                                     ", \"", "}\n", "1}", "é", "{\"", "z\":1"};
  auto vocab = std::make_shared<GrammarVocab>(pieces, std::vector<int32_t>{});
  auto automaton = std::make_shared<GrammarAutomaton>(g, vocab);
  std::mt19937 rng(7);
  for (int walk = 0; walk < 30; ++walk) {
    GrammarMatcher m(automaton);
    std::string text;
    for (int step = 0; step < 12; ++step) {
      auto bits = m.allowed_tokens();
      std::vector<int32_t> ok;
      for (size_t t = 0; t < pieces.size(); ++t) {
        GrammarMatcher probe(automaton);
        const bool expected = probe.accept_text(text + pieces[t]);
        EXPECT_EQ(bool(bits[t]), expected) << "after '" << text << "' piece '" << pieces[t] << "'";
        if (expected) ok.push_back(int32_t(t));
      }
      if (ok.empty()) break;
      const int32_t pick = ok[rng() % ok.size()];
      ASSERT_TRUE(m.accept(pick).ok());
      text += pieces[size_t(pick)];
    }
  }
}

}  // namespace
}  // namespace minnow

namespace minnow {
namespace {

TEST(GrammarAutomatonCache, SharesBySourceAndEvictsTheLeastRecent) {
  auto vocab = std::make_shared<GrammarVocab>(std::vector<std::string>{"a", "b"}, std::vector<int32_t>{});
  GrammarAutomatonCache cache(vocab, 2);
  auto a1 = cache.get(*Grammar::parse("root ::= \"a\""));
  auto a2 = cache.get(*Grammar::parse("root ::= \"a\""));  // parsed again: same source
  EXPECT_EQ(a1, a2);
  auto b = cache.get(*Grammar::parse("root ::= \"b\""));
  EXPECT_NE(a1, b);
  EXPECT_NE(cache.get(*Grammar::parse("root ::= \"a\"", "root")), nullptr);
  auto c = cache.get(*Grammar::parse("root ::= \"a\" | \"b\""));  // evicts "b", the least recent
  EXPECT_EQ(cache.get(*Grammar::parse("root ::= \"a\"")), a1);
  EXPECT_NE(cache.get(*Grammar::parse("root ::= \"b\"")), b);
  // Same text, other start rule: another grammar.
  EXPECT_NE(Grammar::parse("root ::= x\nx ::= \"a\"", "root").value()->source(),
            Grammar::parse("root ::= x\nx ::= \"a\"", "x").value()->source());
}

}  // namespace
}  // namespace minnow
