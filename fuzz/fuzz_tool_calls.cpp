// libFuzzer entry for tool-call parsing: any model output, in any family,
// parses to content and calls without crashing, and the streamed parse
// (fed in two pieces) agrees with the whole-text parse.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "template/tool_call_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  using minnow::ToolCallFormat;
  static const ToolCallFormat kFormats[] = {ToolCallFormat::kNone, ToolCallFormat::kHermes, ToolCallFormat::kLlama3,
                                            ToolCallFormat::kMistral, ToolCallFormat::kFunctionary,
                                            ToolCallFormat::kDeepSeekR1};
  const ToolCallFormat format = kFormats[data[0] % 6];
  const std::string_view text(reinterpret_cast<const char*>(data) + 2, size - 2);
  const auto whole = minnow::parse_tool_calls(format, text, 1);
  const size_t cut = text.empty() ? 0 : data[1] % (text.size() + 1);
  minnow::ToolCallStreamParser stream(format, 1);
  auto a = stream.feed(text.substr(0, cut));
  auto b = stream.feed(text.substr(cut));
  auto c = stream.finish();
  std::string content = a.content + b.content + c.content;
  size_t calls = a.calls.size() + b.calls.size() + c.calls.size();
  if (content != whole.content || calls != whole.tool_calls.size()) __builtin_trap();
  return 0;
}
