#include "tokenizer/bpe_encoder.h"

#include <atomic>
#include <cstdlib>
#include <queue>
#include <utf8proc.h>

#include "tokenizer/byte_unicode.h"

namespace minnow {
namespace {

struct Symbol {
  int32_t id;
  uint32_t start;  // byte offset in the word, for tie-breaking
  int32_t prev;
  int32_t next;
  bool alive;
};

struct Candidate {
  int32_t rank;
  uint32_t left_start;
  int32_t left;
  int32_t right;
  int32_t left_id;
  int32_t right_id;
};

// Lowest rank first; equal ranks merge leftmost first.
struct CandidateOrder {
  bool operator()(const Candidate& a, const Candidate& b) const {
    return a.rank > b.rank || (a.rank == b.rank && a.left_start > b.left_start);
  }
};

// NFC with utf8proc; invalid UTF-8 is left as it is (it is encoded byte by byte).
bool nfc(std::string_view text, std::string& out) {
  utf8proc_uint8_t* result = nullptr;
  const utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                                          utf8proc_ssize_t(text.size()), &result,
                                          utf8proc_option_t(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  if (n < 0) return false;
  out.assign(reinterpret_cast<const char*>(result), size_t(n));
  std::free(result);
  return true;
}

// Pre-tokens repeat (Zipf): remembering each thread's recent results skips
// the merge loop for most words of prose and code. Per thread, so encoders
// stay lock-free when shared; a different encoder on the thread resets it.
struct WordCache {
  uint64_t owner = 0;
  TokenTable index;                                // word -> span number
  std::vector<std::pair<uint32_t, uint32_t>> spans;  // (first, count) in ids
  std::vector<int32_t> ids;
};
constexpr size_t kCacheMaxWord = 48;
constexpr size_t kCacheMaxEntries = 1 << 15;

void reset(WordCache& cache, uint64_t owner) {
  cache.owner = owner;
  cache.index.clear();
  cache.spans.clear();
  cache.ids.clear();
}

WordCache& word_cache(uint64_t owner) {
  thread_local WordCache cache;
  if (cache.owner != owner) reset(cache, owner);
  return cache;
}

std::atomic<uint64_t> g_next_encoder_id{1};

}  // namespace

BpeEncoder::BpeEncoder(const Vocab& vocab) : vocab_(vocab), cache_owner_(g_next_encoder_id.fetch_add(1)) {}

Expected<std::unique_ptr<FragmentEncoder>> BpeEncoder::create(const Vocab& vocab) {
  auto enc = std::unique_ptr<BpeEncoder>(new BpeEncoder(vocab));
  if (!vocab.pre_regexes.empty()) {
    MINNOW_ASSIGN_OR_RETURN(enc->pre_, Pretokenizer::from_regexes(vocab.pre_regexes));
  } else {
    auto pre = Pretokenizer::from_name(vocab.pre);
    if (!pre.ok()) return std::move(pre).error().with_file(vocab.name);
    enc->pre_ = std::move(pre).value();
  }

  TokenTable stored_to_id;
  stored_to_id.reserve(vocab.tokens.size());
  for (size_t id = 0; id < vocab.tokens.size(); ++id) {
    stored_to_id.insert(vocab.tokens[id], int32_t(id));
    if (vocab.types[id] != TokenType::kNormal) continue;
    if (auto raw = unicode_to_bytes(vocab.tokens[id])) enc->raw_to_id_.insert(*raw, int32_t(id));
  }
  for (int b = 0; b < 256; ++b)
    enc->byte_tokens_[size_t(b)] = stored_to_id.find(byte_to_unicode_utf8(uint8_t(b)));

  enc->merges_.build(vocab.merges.size());
  std::string joined;
  for (size_t rank = 0; rank < vocab.merges.size(); ++rank) {
    const auto& [a, b] = vocab.merges[rank];
    const int32_t left = stored_to_id.find(a);
    const int32_t right = stored_to_id.find(b);
    joined.assign(a).append(b);
    const int32_t result = stored_to_id.find(joined);
    // A merge whose parts or result are not tokens can never fire usefully.
    if (left < 0 || right < 0 || result < 0) continue;
    enc->merges_.insert(left, right, Merge{int32_t(rank), result});  // first rank wins
  }
  return std::unique_ptr<FragmentEncoder>(std::move(enc));
}

const BpeEncoder::Merge* BpeEncoder::find_merge(int32_t left, int32_t right) const {
  if (left < 0 || right < 0) return nullptr;
  return merges_.find(left, right);
}

// Short pre-tokens (nearly all of them in prose and code) merge faster by
// rescanning a small array for the lowest-rank pair than through a heap;
// the order of merges is the same: lowest rank, then leftmost.
void BpeEncoder::encode_short_word(std::string_view word, std::vector<int32_t>& out) const {
  int32_t ids[kShortWord];
  size_t n = word.size();
  for (size_t i = 0; i < n; ++i) ids[i] = byte_tokens_[uint8_t(word[i])];
  const Merge* merges[kShortWord];
  for (size_t i = 0; i + 1 < n; ++i) merges[i] = find_merge(ids[i], ids[i + 1]);
  while (n > 1) {
    size_t best = n;
    int32_t best_rank = INT32_MAX;
    for (size_t i = 0; i + 1 < n; ++i)
      if (merges[i] && merges[i]->rank < best_rank) {
        best_rank = merges[i]->rank;
        best = i;
      }
    if (best == n) break;
    ids[best] = merges[best]->result;
    for (size_t i = best + 1; i + 1 < n; ++i) {
      ids[i] = ids[i + 1];
      merges[i] = merges[i + 1];
    }
    --n;
    if (best > 0) merges[best - 1] = find_merge(ids[best - 1], ids[best]);
    if (best + 1 < n) merges[best] = find_merge(ids[best], ids[best + 1]);
  }
  for (size_t i = 0; i < n; ++i) {
    if (ids[i] >= 0) out.push_back(ids[i]);
    else if (vocab_.unk >= 0) out.push_back(vocab_.unk);
  }
}

void BpeEncoder::encode_word(std::string_view word, std::vector<int32_t>& out) const {
  if (vocab_.ignore_merges) {
    const int32_t id = raw_to_id_.find(word);
    if (id >= 0) {
      out.push_back(id);
      return;
    }
  }
  if (word.size() == 1) {
    const int32_t id = byte_tokens_[uint8_t(word[0])];
    if (id >= 0) out.push_back(id);
    else if (vocab_.unk >= 0) out.push_back(vocab_.unk);
    return;
  }
  if (word.size() <= kShortWord) {
    encode_short_word(word, out);
    return;
  }
  std::vector<Symbol> symbols(word.size());
  for (size_t i = 0; i < word.size(); ++i)
    symbols[i] = {byte_tokens_[uint8_t(word[i])], uint32_t(i), int32_t(i) - 1, int32_t(i) + 1, true};
  symbols.back().next = -1;

  std::vector<Candidate> storage;
  storage.reserve(word.size());
  std::priority_queue<Candidate, std::vector<Candidate>, CandidateOrder> queue(CandidateOrder{}, std::move(storage));
  auto try_add = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const Symbol& l = symbols[size_t(left)];
    const Symbol& r = symbols[size_t(right)];
    if (const Merge* m = find_merge(l.id, r.id)) queue.push({m->rank, l.start, left, right, l.id, r.id});
  };
  for (size_t i = 1; i < symbols.size(); ++i) try_add(int32_t(i - 1), int32_t(i));

  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    Symbol& l = symbols[size_t(c.left)];
    Symbol& r = symbols[size_t(c.right)];
    // Stale when either side has merged with something else since.
    if (!l.alive || !r.alive || l.next != c.right || l.id != c.left_id || r.id != c.right_id) continue;
    l.id = find_merge(c.left_id, c.right_id)->result;
    r.alive = false;
    l.next = r.next;
    if (r.next >= 0) symbols[size_t(r.next)].prev = c.left;
    try_add(l.prev, c.left);
    try_add(c.left, l.next);
  }
  for (int32_t i = 0; i >= 0; i = symbols[size_t(i)].next) {
    const int32_t id = symbols[size_t(i)].id;
    if (id >= 0) out.push_back(id);
    else if (vocab_.unk >= 0) out.push_back(vocab_.unk);
  }
}

Status BpeEncoder::encode(std::string_view text, bool starts_segment, std::vector<int32_t>& out) const {
  std::string normalized;
  if (vocab_.normalize_nfc && nfc(text, normalized)) text = normalized;
  WordCache& cache = word_cache(cache_owner_);
  Status st = pre_.for_each_piece(text, [&](std::string_view word) {
    if (word.size() < 2 || word.size() > kCacheMaxWord) {
      encode_word(word, out);
      return;
    }
    const int32_t hit = cache.index.find(word);
    if (hit >= 0) {
      const auto [first, count] = cache.spans[size_t(hit)];
      out.insert(out.end(), cache.ids.begin() + first, cache.ids.begin() + first + count);
      return;
    }
    const size_t before = out.size();
    encode_word(word, out);
    if (cache.spans.size() >= kCacheMaxEntries) reset(cache, cache_owner_);
    cache.index.insert(word, int32_t(cache.spans.size()));
    cache.spans.emplace_back(uint32_t(cache.ids.size()), uint32_t(out.size() - before));
    cache.ids.insert(cache.ids.end(), out.begin() + before, out.end());
  });
  if (!st.ok()) return std::move(st).error().with_file(vocab_.name);
  return Status::success();
}

}  // namespace minnow
