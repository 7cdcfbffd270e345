#include "cli/terminal_text.h"

#include <gtest/gtest.h>

namespace minnow::cli {
namespace {

TEST(TerminalSafe, KeepsPrintableTextNewlinesAndTabs) {
  const std::string text = "plain text\twith tab\nand \xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80 and U+00A0 \xC2\xA0";
  EXPECT_EQ(terminal_safe(text), text);
}

TEST(TerminalSafe, ShowsC0ControlsAndDeleteInCaretNotation) {
  EXPECT_EQ(terminal_safe("a\x1b]0;title\x07z"), "a^[]0;title^Gz");
  EXPECT_EQ(terminal_safe("\x1b" "c\r\b\x7F"), "^[c^M^H^?");
  EXPECT_EQ(terminal_safe(std::string("x\0y", 3)), "x^@y");
}

TEST(TerminalSafe, ReplacesC1ControlsButNotTheCharactersAfterThem) {
  // U+009B is a one-character CSI on terminals that honour C1 controls.
  EXPECT_EQ(terminal_safe("\xC2\x9B" "2J\xC2\x80\xC2\x9F\xC2\xA0"), "\xEF\xBF\xBD" "2J\xEF\xBF\xBD\xEF\xBF\xBD\xC2\xA0");
  EXPECT_EQ(terminal_safe("\xC2"), "\xC2");  // a lone lead byte at the end is left as it is
}

TEST(TerminalSafe, NoEscapeByteSurvivesAnyInput) {
  std::string all;
  for (int c = 0; c < 256; ++c) all += char(c);
  for (char c : terminal_safe(all)) {
    const unsigned char u = static_cast<unsigned char>(c);
    EXPECT_TRUE(u >= 0x20 || u == '\n' || u == '\t') << int(u);
    EXPECT_NE(u, 0x7F);
  }
}

}  // namespace
}  // namespace minnow::cli
