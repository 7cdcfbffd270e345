#include "tokenizer/streaming_detokenizer.h"

#include <gtest/gtest.h>

#include "tokenizer/tiny_vocab.h"
#include "tokenizer/utf8.h"

namespace minnow {
namespace {

TEST(StreamingDetokenizer, NeverEmitsHalfACharacter) {
  auto t = Tokenizer::create(tiny_bpe_vocab());
  ASSERT_TRUE(t.ok());
  const std::string text = "the \xf0\x9f\xa6\x99 and \xe4\xbd\xa0\xe5\xa5\xbd!";
  auto ids = t->encode(text, {.add_special = false});
  ASSERT_TRUE(ids.ok());
  StreamingDetokenizer stream(*t);
  std::string joined;
  int empty_pushes = 0;
  for (int32_t id : *ids) {
    const std::string chunk = stream.push(id);
    EXPECT_TRUE(utf8::is_valid(chunk)) << "chunk for id " << id;
    if (chunk.empty()) ++empty_pushes;
    joined += chunk;
  }
  joined += stream.finish();
  EXPECT_EQ(joined, text);
  EXPECT_GE(empty_pushes, 3 + 2);  // bytes of the emoji and the CJK chars were held
}

TEST(StreamingDetokenizer, SpmDropsTheDummyPrefixOnceAndFlushesBrokenTails) {
  auto t = Tokenizer::create(tiny_spm_vocab());
  ASSERT_TRUE(t.ok());
  auto ids = t->encode("the a", {});
  ASSERT_TRUE(ids.ok());
  StreamingDetokenizer stream(*t);
  std::string joined;
  for (int32_t id : *ids) joined += stream.push(id);
  EXPECT_EQ(joined, "the a");
  // A lone lead byte can never complete: finish() replaces it.
  StreamingDetokenizer broken(*t);
  const int32_t lead = *t->find_token("<0xE4>");
  EXPECT_EQ(broken.push(lead), "");
  EXPECT_EQ(broken.finish(), "\xEF\xBF\xBD");
}

}  // namespace
}  // namespace minnow
