// Text from a model is untrusted: shown raw on a terminal, an escape sequence
// in it could clear the screen, retitle the window, switch character sets or
// open an OSC string that swallows what is printed after it.
#pragma once

#include <string>
#include <string_view>

namespace minnow::cli {

// `text` (valid UTF-8) with every control character but newline and tab made
// visible: C0 controls and DEL in caret notation ("^[", "^?"), C1 controls
// (U+0080..U+009F, which some terminals obey as escapes) as U+FFFD.
std::string terminal_safe(std::string_view text);

}  // namespace minnow::cli
