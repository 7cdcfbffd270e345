// Fills EOT/UNK from well-known token texts when metadata leaves them out, as
// chat loops need an end-of-turn id even for older conversions.
#pragma once

#include "tokenizer/vocab.h"

namespace minnow {

void guess_missing_special_tokens(Vocab& vocab);

}  // namespace minnow
