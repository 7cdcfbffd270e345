#include "sampling/grammar_matcher.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_set>

namespace minnow {

// ---- GrammarVocab -------------------------------------------------------------

GrammarVocab::GrammarVocab(std::vector<std::string> pieces, std::vector<int32_t> end_tokens)
    : pieces_(std::move(pieces)), end_tokens_(std::move(end_tokens)), is_end_(pieces_.size(), false) {
  for (int32_t t : end_tokens_)
    if (t >= 0 && size_t(t) < is_end_.size()) is_end_[size_t(t)] = true;
  // Build the trie over sorted pieces: children of a node are contiguous, so
  // the mask walk touches memory in order.
  std::vector<int32_t> order;
  for (size_t i = 0; i < pieces_.size(); ++i)
    if (!pieces_[i].empty() && !is_end_[i]) order.push_back(int32_t(i));
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return pieces_[size_t(a)] < pieces_[size_t(b)]; });

  // Temporary pointer-based trie, then flattened breadth-first.
  struct Tmp {
    std::vector<std::pair<uint8_t, uint32_t>> kids;
    std::vector<int32_t> toks;
  };
  std::vector<Tmp> tmp(1);
  for (int32_t id : order) {
    uint32_t n = 0;
    for (unsigned char b : pieces_[size_t(id)]) {
      auto& kids = tmp[n].kids;
      if (!kids.empty() && kids.back().first == b) {
        n = kids.back().second;  // sorted input: a shared prefix is always the last child
      } else {
        tmp.push_back({});
        const uint32_t child = uint32_t(tmp.size() - 1);
        tmp[n].kids.push_back({b, child});
        n = child;
      }
    }
    tmp[n].toks.push_back(id);
  }
  // Pre-order layout: the mask walk is depth-first, so it then reads the
  // node and edge arrays front to back.
  std::vector<uint32_t> new_index(tmp.size());
  std::vector<uint32_t> bfs;  // visiting order
  bfs.reserve(tmp.size());
  std::vector<uint32_t> todo{0};
  while (!todo.empty()) {
    const uint32_t n = todo.back();
    todo.pop_back();
    bfs.push_back(n);
    for (auto it = tmp[n].kids.rbegin(); it != tmp[n].kids.rend(); ++it) todo.push_back(it->second);
  }
  for (size_t i = 0; i < bfs.size(); ++i) new_index[bfs[i]] = uint32_t(i);
  nodes_.resize(tmp.size());
  for (size_t i = 0; i < bfs.size(); ++i) {
    const Tmp& t = tmp[bfs[i]];
    Node& node = nodes_[i];
    node.first_child = uint32_t(edges_.size());
    node.n_children = uint32_t(t.kids.size());
    for (const auto& [b, c] : t.kids) edges_.push_back({b, new_index[c]});
    node.first_token = uint32_t(node_tokens_.size());
    node.n_tokens = uint32_t(t.toks.size());
    node_tokens_.insert(node_tokens_.end(), t.toks.begin(), t.toks.end());
  }
}

// ---- the automaton ------------------------------------------------------------

namespace {

using Stack = std::vector<uint32_t>;  // positions into Program::elems, innermost last
using StackSet = std::vector<Stack>;  // sorted, unique

constexpr int32_t kDead = -1;
constexpr int32_t kUnknown = -2;

// Half a UTF-8 character: the bytes so far and how many it needs in all.
struct Partial {
  uint8_t n = 0, need = 0;
  uint8_t bytes[3] = {0, 0, 0};
  uint32_t key() const { return n == 0 ? 0 : (uint32_t(n) << 24) | (uint32_t(bytes[0]) << 16) | (uint32_t(bytes[1]) << 8) | bytes[2]; }
};

int utf8_length(uint8_t lead) {
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 0;
}

// The second byte of some lead bytes is narrower (no overlongs, surrogates, > U+10FFFF).
bool valid_second_byte(uint8_t lead, uint8_t b) {
  if ((b & 0xC0) != 0x80) return false;
  if (lead == 0xE0) return b >= 0xA0;
  if (lead == 0xED) return b <= 0x9F;
  if (lead == 0xF0) return b >= 0x90;
  if (lead == 0xF4) return b <= 0x8F;
  return true;
}

// The code points that could complete `p`: [lo, hi].
std::pair<uint32_t, uint32_t> completion_range(const Partial& p) {
  uint32_t lo = p.bytes[0] & (0x7F >> p.need), hi = lo;
  for (int i = 1; i < p.need; ++i) {
    const uint32_t b = i < p.n ? (p.bytes[i] & 0x3F) : 0;
    lo = (lo << 6) | b;
    hi = (hi << 6) | (i < p.n ? b : 0x3F);
  }
  // Overlong forms are invalid, so the shortest code point of each length is the floor.
  static constexpr uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
  return {std::max(lo, kMin[p.need]), std::min<uint32_t>(hi, 0x10FFFF)};
}

struct Elem {
  enum Kind : uint8_t { kEnd, kChars, kRule } kind;
  uint32_t index;  // kChars: into chars; kRule: rule id
};

struct CharClass {
  const GrammarSymbol* symbol;
  uint64_t ascii[2] = {0, 0};  // fast path for code points < 128
  bool matches(uint32_t cp) const {
    return cp < 128 ? ((ascii[cp >> 6] >> (cp & 63)) & 1) != 0 : symbol->matches(cp);
  }
  bool may_match_range(uint32_t lo, uint32_t hi) const {
    if (symbol->negated) {
      for (const auto& [a, b] : symbol->ranges)
        if (a <= lo && hi <= b) return false;
      return true;
    }
    for (const auto& [a, b] : symbol->ranges)
      if (a <= hi && lo <= b) return true;
    return false;
  }
};

struct StackHash {
  size_t operator()(const Stack& s) const {
    uint64_t h = 1469598103934665603ull;
    for (uint32_t v : s) h = (h ^ v) * 1099511628211ull;
    return size_t(h);
  }
};

struct DState {
  uint32_t stackset;
  Partial partial;
  bool accepting = false;  // a stack is empty and no character is half-read
  bool complete = false;   // accepting, and nothing else may follow
  std::vector<int32_t> next;  // 256 transitions, allocated on first use
  int32_t mask = -1;          // into Impl::masks
};

}  // namespace

struct GrammarAutomaton::Impl {
  const Grammar* grammar;
  const GrammarVocab* tokens;
  GrammarRuntimeLimits limits;
  std::mutex mu;

  // The grammar flattened: every alternative is its symbols then kEnd.
  std::vector<Elem> elems;
  std::vector<CharClass> chars;
  std::vector<std::vector<uint32_t>> rule_starts;

  // Interned configurations, rebuilt (epoch + 1) when they outgrow the limit.
  uint64_t epoch = 0;
  std::vector<StackSet> stacksets;
  std::unordered_map<std::string, uint32_t> stackset_ids;
  std::vector<DState> states;
  std::unordered_map<uint64_t, int32_t> state_ids;
  std::vector<std::vector<uint64_t>> masks;
  bool overflowed = false;  // a limit cut a configuration short since the last check
  // Expansion steps left to the mask walk in progress: a hostile grammar
  // would otherwise spend the per-character budget on every trie edge. What
  // the cut makes unreachable is cached as dead, so masks and accept() stay
  // consistent (the grammar only gets narrower, never wrong).
  size_t walk_budget = SIZE_MAX;

  void compile() {
    const auto& rules = grammar->rules();
    rule_starts.resize(rules.size());
    for (size_t r = 0; r < rules.size(); ++r) {
      for (const auto& alt : rules[r].alternatives) {
        rule_starts[r].push_back(uint32_t(elems.size()));
        for (const auto& s : alt) {
          if (s.kind == GrammarSymbol::Kind::kRule) {
            elems.push_back({Elem::kRule, s.rule});
          } else {
            CharClass c{&s};
            for (uint32_t cp = 0; cp < 128; ++cp)
              if (s.matches(cp)) c.ascii[cp >> 6] |= 1ull << (cp & 63);
            elems.push_back({Elem::kChars, uint32_t(chars.size())});
            chars.push_back(c);
          }
        }
        elems.push_back({Elem::kEnd, 0});
      }
    }
  }

  void reset() {
    ++epoch;
    stacksets.clear();
    stackset_ids.clear();
    states.clear();
    state_ids.clear();
    masks.clear();
  }

  // Expands a stack until its top is a character class (or it is empty),
  // adding every result to `out`. No left recursion, so this terminates; the
  // work cap stops pathological ambiguity.
  // `budget` is shared by all the expansions of one step.
  // Sets of stacks are small (a handful for real grammars): flat vectors with
  // linear de-duplication beat hashing, which dominated cold mask walks.
  static bool insert_unique(std::vector<Stack>& set, const Stack& s) {
    if (std::find(set.begin(), set.end(), s) != set.end()) return false;
    set.push_back(s);
    return true;
  }

  // Stacks already queued in one expansion: few for real grammars, but an
  // ambiguous one can queue thousands, where a linear search would be quadratic.
  struct SeenStacks {
    std::vector<Stack> few;
    std::unordered_set<Stack, StackHash> many;
    bool insert(const Stack& s) {
      if (many.empty()) {
        if (few.size() < 64) return insert_unique(few, s);
        if (std::find(few.begin(), few.end(), s) != few.end()) return false;
        many.insert(few.begin(), few.end());
      }
      return many.insert(s).second;
    }
  };

  void expand(Stack start, std::vector<Stack>& out, size_t& budget) {
    std::vector<Stack> work{std::move(start)};
    SeenStacks seen;
    while (!work.empty()) {
      Stack s = std::move(work.back());
      work.pop_back();
      for (;;) {
        if (budget == 0 || walk_budget == 0 || s.size() > limits.max_stack_depth) {
          overflowed = true;
          break;
        }
        if (s.empty()) {
          insert_unique(out, s);
          break;
        }
        --budget;
        --walk_budget;
        const uint32_t p = s.back();
        const Elem e = elems[p];
        if (e.kind == Elem::kEnd) {
          s.pop_back();
          continue;
        }
        if (e.kind == Elem::kChars) {
          insert_unique(out, s);
          break;
        }
        // A rule: continue the parent after it (dropped when nothing follows,
        // so right recursion keeps stacks flat), then try each alternative.
        s.pop_back();
        if (elems[p + 1].kind != Elem::kEnd) s.push_back(p + 1);
        for (uint32_t a : rule_starts[e.index]) {
          Stack next = s;
          next.push_back(a);
          if (seen.insert(next)) work.push_back(std::move(next));
        }
        break;
      }
      if (out.size() > limits.max_stacks) {
        overflowed = true;
        return;
      }
    }
  }

  uint32_t intern_stackset(StackSet set) {
    std::string key;
    for (const auto& s : set) {
      key.append(reinterpret_cast<const char*>(s.data()), s.size() * sizeof(uint32_t));
      key.append(4, '\xff');
    }
    if (auto it = stackset_ids.find(key); it != stackset_ids.end()) return it->second;
    const uint32_t id = uint32_t(stacksets.size());
    stacksets.push_back(std::move(set));
    stackset_ids.emplace(std::move(key), id);
    return id;
  }

  static StackSet canonical(std::vector<Stack>& set) {
    StackSet v = std::move(set);
    std::sort(v.begin(), v.end());
    return v;
  }

  int32_t intern_state(uint32_t stackset, const Partial& partial) {
    const uint64_t key = (uint64_t(stackset) << 32) | partial.key();
    if (auto it = state_ids.find(key); it != state_ids.end()) return it->second;
    DState d;
    d.stackset = stackset;
    d.partial = partial;
    const StackSet& ss = stacksets[stackset];
    const bool has_empty = !ss.empty() && ss.front().empty();  // sorted: the empty stack sorts first
    d.accepting = has_empty && partial.n == 0;
    d.complete = d.accepting && ss.size() == 1;
    const int32_t id = int32_t(states.size());
    states.push_back(std::move(d));
    state_ids.emplace(key, id);
    return id;
  }

  int32_t initial_state() {
    std::vector<Stack> out;
    size_t budget = limits.max_expansion_steps;
    for (uint32_t a : rule_starts[grammar->root()]) expand(Stack{a}, out, budget);
    if (out.empty()) return kDead;
    return intern_state(intern_stackset(canonical(out)), Partial{});
  }

  // Configurations after one whole code point.
  int32_t advance_code_point(uint32_t stackset, uint32_t cp) {
    if (walk_budget == 0) {  // the mask walk in progress is out of work
      overflowed = true;
      return kDead;
    }
    std::vector<Stack> out;
    size_t budget = limits.max_expansion_steps;
    for (const Stack& s : stacksets[stackset]) {
      if (s.empty() || !chars[elems[s.back()].index].matches(cp)) continue;
      Stack next = s;
      ++next.back();
      expand(std::move(next), out, budget);
    }
    if (out.empty()) return kDead;
    return intern_state(intern_stackset(canonical(out)), Partial{});
  }

  bool partial_feasible(uint32_t stackset, const Partial& p) {
    const auto [lo, hi] = completion_range(p);
    for (const Stack& s : stacksets[stackset])
      if (!s.empty() && chars[elems[s.back()].index].may_match_range(lo, hi)) return true;
    return false;
  }

  int32_t compute_transition(int32_t from, uint8_t b) {
    const uint32_t ss = states[size_t(from)].stackset;
    Partial p = states[size_t(from)].partial;
    if (p.n == 0) {
      if (b < 0x80) return advance_code_point(ss, b);
      const int len = utf8_length(b);
      if (len == 0) return kDead;
      p.n = 1;
      p.need = uint8_t(len);
      p.bytes[0] = b;
      return partial_feasible(ss, p) ? intern_state(ss, p) : kDead;
    }
    if (p.n == 1 ? !valid_second_byte(p.bytes[0], b) : (b & 0xC0) != 0x80) return kDead;
    if (p.n + 1 == p.need) {
      uint32_t cp = p.bytes[0] & (0x7F >> p.need);
      for (int i = 1; i < p.n; ++i) cp = (cp << 6) | (p.bytes[i] & 0x3F);
      cp = (cp << 6) | (b & 0x3F);
      return advance_code_point(ss, cp);
    }
    p.bytes[p.n++] = b;
    return partial_feasible(ss, p) ? intern_state(ss, p) : kDead;
  }

  int32_t transition(int32_t from, uint8_t b) {
    if (from < 0) return kDead;
    {
      auto& next = states[size_t(from)].next;
      if (next.empty()) next.assign(256, kUnknown);
      if (next[b] != kUnknown) return next[b];
    }
    const int32_t to = compute_transition(from, b);  // may grow `states`
    states[size_t(from)].next[b] = to;
    return to;
  }

  int32_t walk(int32_t from, std::string_view bytes) {
    for (unsigned char b : bytes) {
      from = transition(from, b);
      if (from < 0) return kDead;
    }
    return from;
  }

  // The allowed-token bitset of a state: one pruned walk of the trie.
  const std::vector<uint64_t>& mask_of(int32_t state) {
    if (states[size_t(state)].mask >= 0) return masks[size_t(states[size_t(state)].mask)];
    std::vector<uint64_t> bits((tokens->size() + 63) / 64, 0);
    const auto& nodes = tokens->nodes();
    const auto& edges = tokens->edges();
    const auto& toks = tokens->node_tokens();
    std::vector<std::pair<uint32_t, int32_t>> work{{0u, state}};
    walk_budget = limits.max_mask_walk_steps;
    while (!work.empty()) {
      const auto [node, st] = work.back();
      work.pop_back();
      const auto& n = nodes[node];
      if (node != 0)
        for (uint32_t i = 0; i < n.n_tokens; ++i) {
          const int32_t t = toks[n.first_token + i];
          bits[size_t(t) >> 6] |= 1ull << (t & 63);
        }
      for (uint32_t i = n.n_children; i-- > 0;) {  // reversed: the first child is walked first
        const auto& e = edges[n.first_child + i];
        const int32_t to = transition(st, e.byte);
        if (to >= 0) work.push_back({e.child, to});
      }
    }
    walk_budget = SIZE_MAX;
    if (states[size_t(state)].accepting)
      for (int32_t t : tokens->end_tokens())
        if (t >= 0 && size_t(t) < tokens->size()) bits[size_t(t) >> 6] |= 1ull << (t & 63);
    if (masks.size() >= limits.max_cached_masks) {
      for (auto& s : states) s.mask = -1;
      masks.clear();
    }
    states[size_t(state)].mask = int32_t(masks.size());
    masks.push_back(std::move(bits));
    return masks.back();
  }
};

GrammarAutomaton::GrammarAutomaton(std::shared_ptr<const Grammar> grammar, std::shared_ptr<const GrammarVocab> tokens,
                                   GrammarRuntimeLimits limits)
    : grammar_(std::move(grammar)), tokens_(std::move(tokens)), impl_(std::make_unique<Impl>()) {
  impl_->grammar = grammar_.get();
  impl_->tokens = tokens_.get();
  impl_->limits = limits;
  impl_->compile();
}

GrammarAutomaton::~GrammarAutomaton() = default;

std::shared_ptr<GrammarAutomaton> GrammarAutomatonCache::get(const std::shared_ptr<const Grammar>& grammar) {
  std::lock_guard lock(mu_);
  for (auto it = recent_.begin(); it != recent_.end(); ++it) {
    if ((*it)->grammar().source() != grammar->source()) continue;
    auto hit = *it;
    recent_.erase(it);
    recent_.push_back(hit);
    return hit;
  }
  auto fresh = std::make_shared<GrammarAutomaton>(grammar, vocab_);
  recent_.push_back(fresh);
  if (recent_.size() > capacity_) recent_.erase(recent_.begin());
  return fresh;
}

// ---- the matcher --------------------------------------------------------------

// Where a request stands: its configuration in full (so it survives a cache
// rebuild) and the interned state id of that configuration in `epoch`.
struct GrammarMatcher::State {
  StackSet stacks;
  Partial partial;
  bool dead = false;
  bool finished = false;  // an end token was accepted
  uint64_t epoch = ~0ull;
  int32_t id = kDead;
};

namespace {

// The current state id, re-interning after a cache rebuild.
template <class MatcherState>
int32_t current(GrammarAutomaton::Impl& a, MatcherState& s) {
  if (s.dead) return kDead;
  if (a.states.size() > a.limits.max_states) a.reset();
  if (s.epoch != a.epoch) {
    s.id = a.intern_state(a.intern_stackset(s.stacks), s.partial);
    s.epoch = a.epoch;
  }
  return s.id;
}

template <class MatcherState>
void move_to(GrammarAutomaton::Impl& a, MatcherState& s, int32_t id) {
  if (id < 0) {
    s.dead = true;
    s.id = kDead;
    return;
  }
  s.id = id;
  s.stacks = a.stacksets[a.states[size_t(id)].stackset];
  s.partial = a.states[size_t(id)].partial;
}

}  // namespace

GrammarMatcher::GrammarMatcher(std::shared_ptr<GrammarAutomaton> automaton)
    : automaton_(std::move(automaton)), state_(std::make_unique<State>()) {
  auto& a = automaton_->impl();
  std::lock_guard lock(a.mu);
  state_->epoch = a.epoch;
  move_to(a, *state_, a.initial_state());
}

GrammarMatcher::GrammarMatcher(const GrammarMatcher& o)
    : automaton_(o.automaton_), state_(std::make_unique<State>(*o.state_)) {}

GrammarMatcher::~GrammarMatcher() = default;

void GrammarMatcher::mask(std::span<float> logits) {
  auto& a = automaton_->impl();
  std::lock_guard lock(a.mu);
  const int32_t id = current(a, *state_);
  if (id < 0 || state_->finished) {
    std::fill(logits.begin(), logits.end(), -std::numeric_limits<float>::infinity());
    return;
  }
  const auto& bits = a.mask_of(id);
  const size_t n = std::min(logits.size(), a.tokens->size());
  constexpr float kOff = -std::numeric_limits<float>::infinity();
  for (size_t w = 0; w * 64 < n; ++w) {
    const uint64_t word = bits[w];
    if (word == ~0ull) continue;  // inside strings nearly every token is allowed
    const size_t end = std::min(n, w * 64 + 64);
    if (word == 0) {
      std::fill(logits.begin() + long(w * 64), logits.begin() + long(end), kOff);
      continue;
    }
    for (size_t i = w * 64; i < end; ++i)
      if (!((word >> (i & 63)) & 1)) logits[i] = kOff;
  }
  for (size_t i = n; i < logits.size(); ++i) logits[i] = -std::numeric_limits<float>::infinity();
}

std::vector<bool> GrammarMatcher::allowed_tokens() {
  auto& a = automaton_->impl();
  std::lock_guard lock(a.mu);
  std::vector<bool> out(a.tokens->size(), false);
  const int32_t id = current(a, *state_);
  if (id < 0 || state_->finished) return out;
  const auto& bits = a.mask_of(id);
  for (size_t i = 0; i < out.size(); ++i) out[i] = (bits[i >> 6] >> (i & 63)) & 1;
  return out;
}

bool GrammarMatcher::allows(int32_t token) {
  auto& a = automaton_->impl();
  std::lock_guard lock(a.mu);
  const int32_t id = current(a, *state_);
  if (id < 0 || state_->finished || token < 0 || size_t(token) >= a.tokens->size()) return false;
  if (a.tokens->is_end(token)) return a.states[size_t(id)].accepting;
  const std::string& piece = a.tokens->piece(token);
  return !piece.empty() && a.walk(id, piece) >= 0;
}

Status GrammarMatcher::accept(int32_t token) {
  auto& a = automaton_->impl();
  std::lock_guard lock(a.mu);
  const int32_t id = current(a, *state_);
  if (id < 0) return invalid_argument("grammar: generation already left the grammar");
  if (state_->finished) return invalid_argument("grammar: token after the end of the sentence");
  if (token < 0 || size_t(token) >= a.tokens->size())
    return out_of_range("grammar: token " + std::to_string(token) + " outside the vocabulary");
  if (a.tokens->is_end(token)) {
    if (!a.states[size_t(id)].accepting) return invalid_argument("grammar: end of text before the sentence is complete");
    state_->finished = true;
    return Status::success();
  }
  a.overflowed = false;
  const int32_t to = a.walk(id, a.tokens->piece(token));
  if (to < 0) {
    if (a.overflowed)
      return resource_limit("grammar: too ambiguous or too deeply nested to follow (more than " +
                            std::to_string(a.limits.max_stacks) + " parses or " +
                            std::to_string(a.limits.max_stack_depth) + " levels)");
    return invalid_argument("grammar: token " + std::to_string(token) + " does not continue the grammar");
  }
  move_to(a, *state_, to);
  return Status::success();
}

bool GrammarMatcher::accept_text(std::string_view text) {
  auto& a = automaton_->impl();
  std::lock_guard lock(a.mu);
  const int32_t id = current(a, *state_);
  if (id < 0 || state_->finished) return false;
  const int32_t to = a.walk(id, text);
  move_to(a, *state_, to);
  return to >= 0;
}

bool GrammarMatcher::is_accepting() const {
  if (state_->dead) return false;
  if (state_->finished) return true;
  return !state_->stacks.empty() && state_->stacks.front().empty() && state_->partial.n == 0;
}

bool GrammarMatcher::is_complete() const {
  return state_->finished || (is_accepting() && state_->stacks.size() == 1);
}

bool GrammarMatcher::is_dead() const { return state_->dead; }

bool grammar_accepts(const Grammar& grammar, std::string_view text) {
  // A table of no tokens: only the byte transitions are used.
  auto shared = std::shared_ptr<const Grammar>(&grammar, [](const Grammar*) {});
  auto automaton = std::make_shared<GrammarAutomaton>(shared, std::make_shared<GrammarVocab>(std::vector<std::string>{},
                                                                                          std::vector<int32_t>{}));
  GrammarMatcher m(automaton);
  return m.accept_text(text) && m.is_accepting();
}

}  // namespace minnow
