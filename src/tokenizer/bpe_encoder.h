// Byte-level BPE (GPT-2, Llama 3, Qwen, DeepSeek, StarCoder...): split with
// the pre-tokenizer, then merge each pre-token's bytes by merge rank. Merges
// run on token ids over the raw bytes (no per-merge string building): a
// (left id, right id) -> (rank, merged id) hash map and a heap over a linked
// list of symbols, O(n log n) in the pre-token length.
#pragma once

#include <array>
#include <memory>
#include <unordered_map>

#include "tokenizer/fragment_encoder.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/flat_tables.h"
#include "tokenizer/vocab.h"

namespace minnow {

class BpeEncoder final : public FragmentEncoder {
 public:
  static Expected<std::unique_ptr<FragmentEncoder>> create(const Vocab& vocab);
  Status encode(std::string_view text, bool starts_segment, std::vector<int32_t>& out) const override;

 private:
  using Merge = MergeTable::Merge;
  explicit BpeEncoder(const Vocab& vocab);
  static constexpr size_t kShortWord = 24;
  void encode_word(std::string_view word, std::vector<int32_t>& out) const;
  void encode_short_word(std::string_view word, std::vector<int32_t>& out) const;
  const Merge* find_merge(int32_t left, int32_t right) const;

  const Vocab& vocab_;
  const uint64_t cache_owner_;  // identifies this encoder to the per-thread word cache
  Pretokenizer pre_;
  std::array<int32_t, 256> byte_tokens_{};
  TokenTable raw_to_id_;  // raw bytes of each normal token, for ignore_merges
  MergeTable merges_;
};

}  // namespace minnow
