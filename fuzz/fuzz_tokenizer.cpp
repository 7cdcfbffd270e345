// libFuzzer entry for the tokenizers: any bytes must encode without crashing
// or hanging (the pre-tokenizer regexes included), byte-level BPE and SPM must
// decode them back exactly (SPM: text without its space marker U+2581), and
// the streaming detokenizer must only emit
// whole UTF-8 characters.
//
// Vocabularies: MINNOW_TOKENIZER_VOCAB_DIR, else ../shared/conformance/tokenizer
// relative to the working directory (CI runs from the project root); when
// those files are missing, the small vocabularies built in code.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "gguf/gguf_file.h"
#include "tokenizer/streaming_detokenizer.h"
#include "tokenizer/tiny_vocab.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace {

struct Loaded {
  std::unique_ptr<minnow::Tokenizer> tokenizer;
  bool lossless;
  // Text it cannot give back even so: SentencePiece writes spaces as U+2581
  // and decodes every U+2581 as a space, so a literal one comes back as a
  // space (as in sentencepiece and llama.cpp).
  const char* marker = nullptr;
};

constexpr const char* kSpmSpace = "\xe2\x96\x81";

std::unique_ptr<minnow::Tokenizer> from_gguf(const std::string& dir, const char* name) {
  auto f = minnow::GgufFile::open(dir + "/ggml-vocab-" + name + ".gguf");
  if (!f.ok()) return nullptr;
  auto t = minnow::load_tokenizer_from_gguf(*f);
  return t.ok() ? std::make_unique<minnow::Tokenizer>(std::move(t).value()) : nullptr;
}

std::unique_ptr<minnow::Tokenizer> from_vocab(minnow::Vocab v) {
  auto t = minnow::Tokenizer::create(std::move(v));
  if (!t.ok()) std::abort();  // the in-code vocabularies are always valid
  return std::make_unique<minnow::Tokenizer>(std::move(t).value());
}

const std::vector<Loaded>& tokenizers() {
  static const std::vector<Loaded> all = [] {
    const char* env = std::getenv("MINNOW_TOKENIZER_VOCAB_DIR");
    const std::string dir = env ? env : "../shared/conformance/tokenizer";
    std::vector<Loaded> v;
    if (auto t = from_gguf(dir, "gpt-2")) v.push_back({std::move(t), true});
    else v.push_back({from_vocab(minnow::tiny_bpe_vocab()), true});
    if (auto t = from_gguf(dir, "llama-spm")) v.push_back({std::move(t), true, kSpmSpace});
    else v.push_back({from_vocab(minnow::tiny_spm_vocab()), true, kSpmSpace});
    if (auto t = from_gguf(dir, "deepseek-llm")) v.push_back({std::move(t), false});  // multi-regex pre-tokenizer
    if (auto t = from_gguf(dir, "bert-bge")) v.push_back({std::move(t), false});
    return v;
  }();
  return all;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Seeds include multi-megabyte GGUF files; long inputs add time, not coverage.
  if (size > 4096) size = 4096;
  if (size == 0) return 0;
  // The first byte picks the tokenizer and options; the rest is the text.
  const auto& all = tokenizers();
  const Loaded& t = all[data[0] % all.size()];
  const minnow::EncodeOptions options{.add_special = (data[0] & 0x10) != 0, .parse_special = (data[0] & 0x20) != 0};
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  auto ids = t.tokenizer->encode(text, options);
  if (!ids.ok()) return 0;
  for (int32_t id : *ids)
    if (id < 0 || id >= t.tokenizer->n_vocab()) std::abort();
  const bool representable = !t.marker || text.find(t.marker) == std::string::npos;
  if (t.lossless && representable && !options.add_special && !options.parse_special &&
      t.tokenizer->decode(*ids) != text)
    std::abort();
  minnow::StreamingDetokenizer stream(*t.tokenizer);
  for (int32_t id : *ids)
    if (!minnow::utf8::is_valid(stream.push(id))) std::abort();
  if (!minnow::utf8::is_valid(stream.finish())) std::abort();
  return 0;
}
