// Small vocabularies built in code, for tests and fuzzing when the
// conformance files are absent. They exercise the real encoders.
#pragma once

#include "tokenizer/vocab.h"

namespace minnow {

// Byte-level BPE: 256 byte tokens, a handful of English merges ("Ġthe",
// "ing"...), and control token "<|endoftext|>". Pre-tokenizer "gpt-2".
Vocab tiny_bpe_vocab();
// SPM: <unk>, <s>, </s>, 256 <0xNN> byte tokens, ASCII letters, "▁" and a
// few scored merges ("▁the", "▁a"...).
Vocab tiny_spm_vocab();

}  // namespace minnow
