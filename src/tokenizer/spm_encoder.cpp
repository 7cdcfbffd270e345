#include "tokenizer/spm_encoder.h"

#include <algorithm>

#include "tokenizer/utf8.h"

namespace minnow {
namespace {

constexpr std::string_view kSpmSpace = "\xE2\x96\x81";  // U+2581

struct Symbol {
  uint32_t start;
  uint32_t len;  // 0 once merged into its left neighbour
  int32_t prev;
  int32_t next;
};

struct Bigram {
  float score;
  uint32_t left_start;
  uint32_t len;  // combined length when queued; a mismatch means stale
  int32_t left;
  int32_t right;
};

// Highest score first; on ties the leftmost pair, as sentencepiece does.
struct BigramOrder {
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.score < b.score || (a.score == b.score && a.left_start > b.left_start);
  }
};

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

// Buffers reused across the segments of one encode call.
struct SpmScratch {
  std::vector<Symbol> symbols;
  std::vector<Bigram> heap;
};

int parse_byte_token(std::string_view text) {
  if (text.size() != 6 || text.substr(0, 3) != "<0x" || text[5] != '>') return -1;
  const int hi = hex_digit(text[3]);
  const int lo = hex_digit(text[4]);
  return (hi < 0 || lo < 0) ? -1 : hi * 16 + lo;
}

Expected<std::unique_ptr<FragmentEncoder>> SpmEncoder::create(const Vocab& vocab) {
  if (vocab.scores.size() != vocab.tokens.size())
    return invalid_argument("SPM vocabulary needs one score per token (" + std::to_string(vocab.scores.size()) +
                            " scores for " + std::to_string(vocab.tokens.size()) + " tokens)")
        .with_file(vocab.name);
  auto enc = std::unique_ptr<SpmEncoder>(new SpmEncoder(vocab));
  enc->byte_tokens_.fill(-1);
  enc->text_to_id_.reserve(vocab.tokens.size());
  for (size_t id = 0; id < vocab.tokens.size(); ++id) {
    enc->text_to_id_.insert(vocab.tokens[id], int32_t(id));  // first id wins on duplicates
    if (vocab.types[id] == TokenType::kByte) {
      const int b = parse_byte_token(vocab.tokens[id]);
      if (b >= 0 && enc->byte_tokens_[size_t(b)] < 0) enc->byte_tokens_[size_t(b)] = int32_t(id);
    }
  }
  // Segmenting at "▁word" starts is exact only if no piece glues a "▁" to
  // a preceding non-space character.
  enc->split_at_spaces_ = true;
  for (const std::string& t : vocab.tokens) {
    for (size_t p = t.find(kSpmSpace, 1); p != std::string::npos; p = t.find(kSpmSpace, p + 1)) {
      if (p < kSpmSpace.size() || std::string_view(t).substr(p - kSpmSpace.size(), kSpmSpace.size()) != kSpmSpace) {
        enc->split_at_spaces_ = false;
        break;
      }
    }
    if (!enc->split_at_spaces_) break;
  }
  return std::unique_ptr<FragmentEncoder>(std::move(enc));
}

void SpmEncoder::merge_segment(std::string_view text, SpmScratch& scratch, std::vector<int32_t>& out) const {
  std::vector<Symbol>& symbols = scratch.symbols;
  symbols.clear();
  // One symbol per character; an invalid byte is a character of its own so
  // that it reaches the byte fallback instead of being dropped.
  for (size_t i = 0; i < text.size();) {
    size_t len = utf8::sequence_length(std::string_view(text).substr(i));
    if (len == 0) len = 1;
    const auto idx = int32_t(symbols.size());
    symbols.push_back({uint32_t(i), uint32_t(len), idx - 1, idx + 1});
    i += len;
  }
  if (symbols.empty()) return;
  symbols.back().next = -1;

  std::vector<Bigram>& heap = scratch.heap;
  heap.clear();
  auto try_add = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const Symbol& l = symbols[size_t(left)];
    const Symbol& r = symbols[size_t(right)];
    const int32_t id = text_to_id_.find(std::string_view(text).substr(l.start, l.len + r.len));
    if (id < 0) return;
    heap.push_back({vocab_.scores[size_t(id)], l.start, l.len + r.len, left, right});
    std::push_heap(heap.begin(), heap.end(), BigramOrder{});
  };
  for (size_t i = 1; i < symbols.size(); ++i) try_add(int32_t(i - 1), int32_t(i));

  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), BigramOrder{});
    const Bigram b = heap.back();
    heap.pop_back();
    Symbol& l = symbols[size_t(b.left)];
    Symbol& r = symbols[size_t(b.right)];
    if (l.len == 0 || r.len == 0 || l.len + r.len != b.len) continue;  // a side was merged since
    l.len += r.len;
    r.len = 0;
    l.next = r.next;
    if (r.next >= 0) symbols[size_t(r.next)].prev = b.left;
    try_add(l.prev, b.left);
    try_add(b.left, l.next);
  }

  for (int32_t i = 0; i >= 0; i = symbols[size_t(i)].next) {
    const Symbol& s = symbols[size_t(i)];
    const std::string_view piece = std::string_view(text).substr(s.start, s.len);
    const int32_t id = text_to_id_.find(piece);
    if (id >= 0) {
      out.push_back(id);
      continue;
    }
    // Only single characters can lack a piece: merges always produce pieces.
    bool all_bytes = true;
    for (char c : piece) all_bytes = all_bytes && byte_tokens_[uint8_t(c)] >= 0;
    if (all_bytes) {
      for (char c : piece) out.push_back(byte_tokens_[uint8_t(c)]);
    } else if (vocab_.unk >= 0) {
      out.push_back(vocab_.unk);  // a vocabulary without byte fallback
    }
  }
}

Status SpmEncoder::encode(std::string_view fragment, bool starts_segment, std::vector<int32_t>& out) const {
  std::string text;
  text.reserve(fragment.size() + fragment.size() / 2 + 3);
  if (vocab_.add_space_prefix && starts_segment) text += kSpmSpace;
  for (char c : fragment) {
    if (c == ' ') text += kSpmSpace;
    else text += c;
  }
  if (text.size() > UINT32_MAX / 2) return resource_limit("text too long to tokenize").with_file(vocab_.name);

  // Merges never cross the start of a "▁word" when no piece has a "▁" right
  // after another character; then each such segment is merged on its own,
  // with a small heap, and the result is the same.
  SpmScratch scratch;
  if (!split_at_spaces_) {
    merge_segment(text, scratch, out);
    return Status::success();
  }
  size_t seg_start = 0;
  for (size_t p = 1; p + kSpmSpace.size() <= text.size(); ++p) {
    if (std::string_view(text).substr(p, kSpmSpace.size()) != kSpmSpace) continue;
    if (p >= kSpmSpace.size() && std::string_view(text).substr(p - kSpmSpace.size(), kSpmSpace.size()) == kSpmSpace)
      continue;  // inside a run of spaces
    if (p > seg_start) merge_segment(std::string_view(text).substr(seg_start, p - seg_start), scratch, out);
    seg_start = p;
  }
  merge_segment(std::string_view(text).substr(seg_start), scratch, out);
  return Status::success();
}

}  // namespace minnow
