// Behaviour beyond the reference cases: special-token injection, BOS/EOS,
// invalid UTF-8, huge inputs, unknown pre-tokenizers, loader errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "support/test_paths.h"
#include "tokenizer/tiny_vocab.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace minnow {
namespace {

Tokenizer load_gguf_vocab(const std::string& name) {
  auto f = GgufFile::open((test::conformance_dir() / "tokenizer" / ("ggml-vocab-" + name + ".gguf")).string());
  EXPECT_TRUE(f.ok()) << f.error().to_string();
  auto t = load_tokenizer_from_gguf(*f);
  EXPECT_TRUE(t.ok()) << t.error().to_string();
  return std::move(t).value();
}

std::vector<int32_t> enc(const Tokenizer& t, std::string_view text, EncodeOptions o = {.add_special = false}) {
  auto ids = t.encode(text, o);
  EXPECT_TRUE(ids.ok()) << ids.error().to_string();
  return ids.ok() ? *ids : std::vector<int32_t>{};
}

bool contains(const std::vector<int32_t>& ids, int32_t id) { return std::find(ids.begin(), ids.end(), id) != ids.end(); }

TEST(TokenizerSpecial, ControlTokenTextIsPlainTextUnlessParseSpecial) {
  auto t = Tokenizer::create(tiny_bpe_vocab());
  ASSERT_TRUE(t.ok()) << t.error().to_string();
  const int32_t eot = *t->find_token("<|endoftext|>");
  const auto plain = enc(*t, "a<|endoftext|>b");
  EXPECT_FALSE(contains(plain, eot));
  EXPECT_EQ(t->decode(plain), "a<|endoftext|>b");
  const auto parsed = enc(*t, "a<|endoftext|>b", {.add_special = false, .parse_special = true});
  ASSERT_EQ(parsed.size(), 3u);
  EXPECT_EQ(parsed[1], eot);
  EXPECT_EQ(t->decode(parsed), "ab");  // skip_special by default
  EXPECT_EQ(t->decode(parsed, /*skip_special=*/false), "a<|endoftext|>b");
  EXPECT_EQ(t->token_to_piece(eot), "");
  EXPECT_EQ(t->token_to_piece(eot, /*render_special=*/true), "<|endoftext|>");
}

TEST(TokenizerSpecial, UserDefinedTokensAreAlwaysMatched) {
  MINNOW_REQUIRE_CONFORMANCE();
  const Tokenizer phi3 = load_gguf_vocab("phi-3");
  EXPECT_EQ(phi3.token_type(2), TokenType::kUserDefined);  // "</s>"
  EXPECT_TRUE(contains(enc(phi3, "a</s>b"), 2));
  EXPECT_FALSE(contains(enc(phi3, "a<|user|>b"), 32010));
  EXPECT_TRUE(contains(enc(phi3, "a<|user|>b", {.add_special = false, .parse_special = true}), 32010));
}

TEST(TokenizerSpecial, BosEosFollowMetadata) {
  MINNOW_REQUIRE_CONFORMANCE();
  const Tokenizer spm = load_gguf_vocab("llama-spm");
  EXPECT_EQ(enc(spm, "Hello world", {}), (std::vector<int32_t>{1, 15043, 3186}));
  EXPECT_EQ(enc(spm, "", {}), std::vector<int32_t>{1});
  EXPECT_EQ(enc(spm, ""), std::vector<int32_t>{});
  const Tokenizer bert = load_gguf_vocab("bert-bge");
  const auto ids = enc(bert, "Hello world", {});
  ASSERT_GE(ids.size(), 3u);
  EXPECT_EQ(ids.front(), 101);  // [CLS]
  EXPECT_EQ(ids.back(), 102);   // [SEP]
  const Tokenizer gpt2 = load_gguf_vocab("gpt-2");
  EXPECT_EQ(enc(gpt2, "Hello", {}), enc(gpt2, "Hello"));  // GPT-2 adds nothing
}

TEST(TokenizerDecode, SpmDropsOnlyTheDummyPrefix) {
  MINNOW_REQUIRE_CONFORMANCE();
  const Tokenizer spm = load_gguf_vocab("llama-spm");
  EXPECT_EQ(enc(spm, " Hello"), (std::vector<int32_t>{29871, 15043}));
  EXPECT_EQ(spm.decode(std::vector<int32_t>{1, 29871, 15043}), " Hello");
  EXPECT_EQ(spm.decode(std::vector<int32_t>{1, 15043}, /*skip_special=*/false), "<s>Hello");
}

// SentencePiece writes spaces as U+2581 before encoding and turns every
// U+2581 back into a space when decoding, so a literal one in the text is
// the space piece and comes back as a space (sentencepiece and llama.cpp
// do the same). The tokenizer fuzzer excludes such text from its
// round-trip check; it found this one.
TEST(TokenizerDecode, SpmReadsALiteralSpaceMarkerAsASpace) {
  MINNOW_REQUIRE_CONFORMANCE();
  const Tokenizer spm = load_gguf_vocab("llama-spm");
  EXPECT_EQ(enc(spm, "\xe2\x96\x81"), enc(spm, " "));
  EXPECT_EQ(spm.decode(enc(spm, "a\xe2\x96\x81" "b")), "a b");
  EXPECT_EQ(spm.decode(enc(spm, "a b")), "a b");
}

// Every encoder must survive arbitrary bytes; the byte-level ones keep them.
TEST(TokenizerRobustness, InvalidUtf8FallsBackToBytes) {
  const std::string bad = std::string("ok \xff\xfe ") + "\xc3" + " \xed\xa0\x80 \xf0\x9f\xa6" + "x\xc0\xaf";
  auto bpe = Tokenizer::create(tiny_bpe_vocab());
  auto spm = Tokenizer::create(tiny_spm_vocab());
  ASSERT_TRUE(bpe.ok() && spm.ok());
  EXPECT_EQ(bpe->decode(enc(*bpe, bad)), bad);
  EXPECT_EQ(spm->decode(enc(*spm, bad)), bad);
  // The conformance vocabularies get the same check in tokenizer_conformance_test.
}

// Long runs must not go quadratic: 100k symbols in one word, 10 MB of text.
// (The conformance vocabularies get 100k runs in tokenizer_conformance_test.)
TEST(TokenizerRobustness, LongRunsAndLargeInputs) {
  auto bpe = Tokenizer::create(tiny_bpe_vocab());
  auto spm = Tokenizer::create(tiny_spm_vocab());
  ASSERT_TRUE(bpe.ok() && spm.ok());
  for (const std::string& run : {std::string(100000, 'a'), std::string(100000, ' '), std::string(100000, '\n')}) {
    const auto b = enc(*bpe, run);
    EXPECT_EQ(bpe->decode(b), run);
    EXPECT_LE(b.size(), run.size());  // merges ("ĠĠ", "ĊĊ") or single bytes, never more
    EXPECT_EQ(spm->decode(enc(*spm, run)), run);
  }
  std::string big;
  // Mostly words the tiny vocabulary merges, so ids stay ~1 per 4 bytes.
  const std::string line = " the world the thing in the world; x = 42 \xe4\xbd\xa0\n";
  while (big.size() < 10'000'000) big += line;
  const auto ids = enc(*bpe, big);
  EXPECT_EQ(bpe->decode(ids), big);
  EXPECT_EQ(spm->decode(enc(*spm, big.substr(0, 1'000'000))), big.substr(0, 1'000'000));
}

TEST(TokenizerLoad, UnknownPreTokenizerIsAnErrorNamingIt) {
  Vocab v = tiny_bpe_vocab();
  v.pre = "my-new-model";
  auto t = Tokenizer::create(std::move(v));
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().to_string().find("my-new-model"), std::string::npos) << t.error().to_string();

  // The same through a GGUF file.
  GgufWriter w;
  w.set("tokenizer.ggml.model", GgufValue::string("gpt2"));
  w.set("tokenizer.ggml.pre", GgufValue::string("my-new-model"));
  w.set("tokenizer.ggml.tokens", GgufValue::string_array({"a", "b", "ab"}));
  w.set("tokenizer.ggml.merges", GgufValue::string_array({"a b"}));
  const auto bytes = w.serialize();
  auto f = GgufFile::parse(bytes, "vocab.gguf");
  ASSERT_TRUE(f.ok()) << f.error().to_string();
  auto g = load_tokenizer_from_gguf(*f);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.error().to_string().find("my-new-model"), std::string::npos);
  EXPECT_NE(g.error().to_string().find("vocab.gguf"), std::string::npos);
}

TEST(TokenizerLoad, GgufErrorsNameTheField) {
  GgufWriter w;
  w.set("tokenizer.ggml.model", GgufValue::string("llama"));
  w.set("tokenizer.ggml.tokens", GgufValue::string_array({"a", "b"}));
  w.set("tokenizer.ggml.scores", GgufValue::f32_array({0.0f}));
  const auto bytes = w.serialize();
  auto f = GgufFile::parse(bytes, "bad.gguf");
  ASSERT_TRUE(f.ok());
  auto t = load_tokenizer_from_gguf(*f);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().to_string().find("tokenizer.ggml.scores"), std::string::npos) << t.error().to_string();

  GgufWriter u;
  u.set("tokenizer.ggml.model", GgufValue::string("unigram-x"));
  const auto ub = u.serialize();
  auto uf = GgufFile::parse(ub, "u.gguf");
  ASSERT_TRUE(uf.ok());
  auto ut = load_tokenizer_from_gguf(*uf);
  ASSERT_FALSE(ut.ok());
  EXPECT_NE(ut.error().to_string().find("unigram-x"), std::string::npos);
}

TEST(TokenizerLoad, MalformedTokenizerJsonIsAnErrorNotAnException) {
  for (const char* text : {"", "{", "[]", R"({"model": 3})", R"({"model": {"type": "BPE", "vocab": {"a": "x"}}})",
                           R"({"model": {"type": "Unigram", "vocab": []}})",
                           R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "pre_tokenizer": {"type": "Whitespace"}})"}) {
    auto t = parse_tokenizer_json(text);
    EXPECT_FALSE(t.ok()) << text;
  }
  auto ok = parse_tokenizer_json(
      R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": [["a", "b"]]},
          "pre_tokenizer": {"type": "ByteLevel", "use_regex": true},
          "added_tokens": [{"id": 3, "content": "<eos>", "special": true}]})",
      R"({"eos_token": "<eos>", "add_eos_token": true})");
  ASSERT_TRUE(ok.ok()) << ok.error().to_string();
  EXPECT_EQ(enc(*ok, "ab", {}), (std::vector<int32_t>{2, 3}));
}

TEST(TokenizerSpm, MergesByScoreWithByteFallback) {
  auto t = Tokenizer::create(tiny_spm_vocab());
  ASSERT_TRUE(t.ok()) << t.error().to_string();
  const auto ids = enc(*t, "the thing\n");
  std::vector<std::string> pieces;
  for (int32_t id : ids) pieces.push_back(t->token_text(id));
  EXPECT_EQ(pieces, (std::vector<std::string>{"\xE2\x96\x81the", "\xE2\x96\x81t", "h", "ing", "<0x0A>"}));
  EXPECT_EQ(t->decode(ids), "the thing\n");
}

}  // namespace
}  // namespace minnow

namespace minnow {
namespace {

// A HF WordPiece tokenizer.json lands in the same representation as a GGUF
// BERT vocabulary: [CLS] ... [SEP] from the post-processor, "##" pieces.
TEST(TokenizerLoad, WordPieceTokenizerJson) {
  auto t = parse_tokenizer_json(R"({
    "added_tokens": [{"id": 0, "content": "[PAD]", "special": true}, {"id": 1, "content": "[UNK]", "special": true},
                     {"id": 2, "content": "[CLS]", "special": true}, {"id": 3, "content": "[SEP]", "special": true}],
    "normalizer": {"type": "BertNormalizer", "lowercase": true},
    "pre_tokenizer": {"type": "BertPreTokenizer"},
    "post_processor": {"type": "TemplateProcessing",
                       "single": [{"SpecialToken": {"id": "[CLS]"}}, {"Sequence": {"id": "A"}}, {"SpecialToken": {"id": "[SEP]"}}]},
    "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
              "vocab": {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "un": 4, "##aff": 5, "##able": 6, "!": 7, "fuhrer": 8}}})");
  ASSERT_TRUE(t.ok()) << t.error().to_string();
  EXPECT_EQ(t->model(), TokenizerModel::kWpm);
  EXPECT_EQ(enc(*t, "UnAffable! F\xC3\xBChrer xyz", {}), (std::vector<int32_t>{2, 4, 5, 6, 7, 8, 1, 3}));
  EXPECT_EQ(t->decode(enc(*t, "unaffable fuhrer", {})), "unaffable fuhrer");
}

}  // namespace
}  // namespace minnow

namespace minnow {
namespace {

// One Tokenizer serves many threads: the word cache and regex scratch are
// per thread, so results must not depend on who else is encoding.
TEST(TokenizerThreads, ConcurrentEncodesAgreeWithSerialOnes) {
  auto t = Tokenizer::create(tiny_bpe_vocab());
  ASSERT_TRUE(t.ok());
  std::vector<std::string> texts;
  for (int i = 0; i < 200; ++i) texts.push_back("the world " + std::to_string(i * 7919) + " thing\n\n  ing on");
  std::vector<std::vector<int32_t>> expected;
  for (const auto& s : texts) expected.push_back(enc(*t, s));
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int w = 0; w < 4; ++w)
    threads.emplace_back([&, w] {
      for (int round = 0; round < 20; ++round)
        for (size_t i = 0; i < texts.size(); ++i) {
          auto ids = t->encode(texts[(i + size_t(w)) % texts.size()], {.add_special = false});
          if (!ids.ok() || *ids != expected[(i + size_t(w)) % texts.size()]) ++mismatches[size_t(w)];
        }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches, std::vector<int>(4, 0));
}

}  // namespace
}  // namespace minnow
