#include "tokenizer/bpe_encoder.h"

#include <cstdlib>
#include <queue>
#include <utf8proc.h>

#include "tokenizer/byte_unicode.h"

namespace minnow {
namespace {

uint64_t pair_key(int32_t left, int32_t right) { return (uint64_t(uint32_t(left)) << 32) | uint32_t(right); }

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

}  // namespace

Expected<std::unique_ptr<FragmentEncoder>> BpeEncoder::create(const Vocab& vocab) {
  auto enc = std::unique_ptr<BpeEncoder>(new BpeEncoder(vocab));
  if (!vocab.pre_regexes.empty()) {
    MINNOW_ASSIGN_OR_RETURN(enc->pre_, Pretokenizer::from_regexes(vocab.pre_regexes));
  } else {
    auto pre = Pretokenizer::from_name(vocab.pre);
    if (!pre.ok()) return std::move(pre).error().with_file(vocab.name);
    enc->pre_ = std::move(pre).value();
  }

  TokenMap stored_to_id;
  stored_to_id.reserve(vocab.tokens.size());
  for (size_t id = 0; id < vocab.tokens.size(); ++id) {
    stored_to_id.emplace(vocab.tokens[id], int32_t(id));
    if (vocab.types[id] != TokenType::kNormal) continue;
    if (auto raw = unicode_to_bytes(vocab.tokens[id])) enc->raw_to_id_.emplace(std::move(*raw), int32_t(id));
  }
  for (int b = 0; b < 256; ++b)
    enc->byte_tokens_[size_t(b)] = find_id(stored_to_id, byte_to_unicode_utf8(uint8_t(b)));

  enc->merges_.reserve(vocab.merges.size());
  std::string joined;
  for (size_t rank = 0; rank < vocab.merges.size(); ++rank) {
    const auto& [a, b] = vocab.merges[rank];
    const int32_t left = find_id(stored_to_id, a);
    const int32_t right = find_id(stored_to_id, b);
    joined.assign(a).append(b);
    const int32_t result = find_id(stored_to_id, joined);
    // A merge whose parts or result are not tokens can never fire usefully.
    if (left < 0 || right < 0 || result < 0) continue;
    enc->merges_.emplace(pair_key(left, right), Merge{int32_t(rank), result});  // first rank wins
  }
  return std::unique_ptr<FragmentEncoder>(std::move(enc));
}

const BpeEncoder::Merge* BpeEncoder::find_merge(int32_t left, int32_t right) const {
  if (left < 0 || right < 0) return nullptr;
  auto it = merges_.find(pair_key(left, right));
  return it == merges_.end() ? nullptr : &it->second;
}

void BpeEncoder::encode_word(std::string_view word, std::vector<int32_t>& out) const {
  if (vocab_.ignore_merges) {
    const int32_t id = find_id(raw_to_id_, word);
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
  std::vector<std::string_view> words;
  if (Status s = pre_.split(text, words); !s.ok()) return std::move(s).error().with_file(vocab_.name);
  for (std::string_view word : words) encode_word(word, out);
  return Status::success();
}

}  // namespace minnow
