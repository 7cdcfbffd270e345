// Grammar-constrained decoding: which tokens can continue a sentence of the
// grammar from where generation stands.
//
// The grammar is a pushdown automaton over code points: a configuration is
// a set of stacks (each stack: the positions still to match, innermost on
// top), plus the bytes of a half-received UTF-8 character. Configurations
// are interned into a lazily built DFA over bytes that a GrammarAutomaton
// shares between requests, and every configuration caches its token mask,
// so after warm-up a step costs one bitset copy; a fresh configuration
// costs one walk of the vocabulary's byte trie, pruned where the grammar
// dies.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "sampling/grammar.h"

namespace minnow {

// The vocabulary as bytes, with a trie for the mask walk. Built once per model.
class GrammarVocab {
 public:
  // pieces[id]: the bytes the token adds to the text ("" for control tokens,
  // which a grammar never allows); end_tokens may end a finished sentence.
  GrammarVocab(std::vector<std::string> pieces, std::vector<int32_t> end_tokens);

  size_t size() const { return pieces_.size(); }
  const std::string& piece(int32_t id) const { return pieces_[size_t(id)]; }
  bool is_end(int32_t id) const { return id >= 0 && size_t(id) < is_end_.size() && is_end_[size_t(id)]; }
  const std::vector<int32_t>& end_tokens() const { return end_tokens_; }

  struct Node {
    uint32_t first_child = 0, n_children = 0;  // into edges_
    uint32_t first_token = 0, n_tokens = 0;    // into node_tokens_
  };
  struct Edge {
    uint8_t byte;
    uint32_t child;
  };
  const std::vector<Node>& nodes() const { return nodes_; }
  const std::vector<Edge>& edges() const { return edges_; }
  const std::vector<int32_t>& node_tokens() const { return node_tokens_; }

 private:
  std::vector<std::string> pieces_;
  std::vector<int32_t> end_tokens_;
  std::vector<bool> is_end_;
  std::vector<Node> nodes_;
  std::vector<Edge> edges_;
  std::vector<int32_t> node_tokens_;
};

struct GrammarRuntimeLimits {
  size_t max_stacks = 1024;        // per configuration: an ambiguous grammar stops here
  size_t max_stack_depth = 1024;   // nesting
  size_t max_expansion_steps = 20000;  // rule expansions per code point
  size_t max_mask_walk_steps = 4000000;  // rule expansions per token-mask walk
  size_t max_states = 20000;       // DFA states kept before the cache is rebuilt
  size_t max_cached_masks = 256;  // 19 KB each at a 150k vocabulary
};

// A grammar compiled against one token table. Thread-safe; share it between
// the requests that use the same grammar.
class GrammarAutomaton {
 public:
  GrammarAutomaton(std::shared_ptr<const Grammar> grammar, std::shared_ptr<const GrammarVocab> tokens,
                   GrammarRuntimeLimits limits = {});
  ~GrammarAutomaton();

  const Grammar& grammar() const { return *grammar_; }
  const GrammarVocab& tokens() const { return *tokens_; }

  // Internals shared with GrammarMatcher (see grammar_matcher.cpp).
  struct Impl;
  Impl& impl() const { return *impl_; }

 private:
  std::shared_ptr<const Grammar> grammar_;
  std::shared_ptr<const GrammarVocab> tokens_;
  std::unique_ptr<Impl> impl_;
};

// Compiled automatons by grammar source, so requests that repeat a schema
// (the common case in serving) find its token masks already computed.
// Least recently used ones are dropped beyond `capacity`. Thread-safe.
class GrammarAutomatonCache {
 public:
  explicit GrammarAutomatonCache(std::shared_ptr<const GrammarVocab> vocab, size_t capacity = 16)
      : vocab_(std::move(vocab)), capacity_(capacity) {}
  std::shared_ptr<GrammarAutomaton> get(const std::shared_ptr<const Grammar>& grammar);

 private:
  std::shared_ptr<const GrammarVocab> vocab_;
  size_t capacity_;
  std::mutex mu_;
  std::vector<std::shared_ptr<GrammarAutomaton>> recent_;  // most recent last
};

// One request's position in the grammar.
class GrammarMatcher {
 public:
  explicit GrammarMatcher(std::shared_ptr<GrammarAutomaton> automaton);
  ~GrammarMatcher();
  GrammarMatcher(const GrammarMatcher&);
  GrammarMatcher& operator=(const GrammarMatcher&) = delete;

  // Sets logits of tokens that cannot continue to -inf. End tokens stay
  // only when the text so far is a complete sentence.
  void mask(std::span<float> logits);
  // The allowed set as a bitset over token ids (for tests and benchmarks).
  std::vector<bool> allowed_tokens();
  // Whether one token may follow (cheaper than a full mask).
  bool allows(int32_t token);
  // Advances by a sampled token; an error if the token is not allowed.
  Status accept(int32_t token);
  // Advances by raw text (tests, forced prefixes); false if it leaves the grammar.
  bool accept_text(std::string_view text);

  // The text so far is a sentence of the grammar.
  bool is_accepting() const;
  // ...and nothing may follow it: generation should end here.
  bool is_complete() const;
  // Dead: no continuation and not accepting (only after a failed accept).
  bool is_dead() const;

 private:
  struct State;
  std::shared_ptr<GrammarAutomaton> automaton_;
  std::unique_ptr<State> state_;
};

}  // namespace minnow
