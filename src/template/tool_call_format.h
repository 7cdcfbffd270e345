// Turns a model's generated text into OpenAI `tool_calls`, per chat-template
// family. Each family is trained to emit calls exactly the way its chat
// template renders assistant tool calls in the history, so these formats are
// taken from the templates in ../shared/conformance/templates:
//
//   kHermes      (Qwen2.5, Hermes 2/3)  <tool_call>\n{"name": N, "arguments": {...}}\n</tool_call>
//                                       repeated (joined by "\n") for parallel calls; text before,
//                                       between and after the blocks is content.
//   kLlama3      (Llama 3.1 / 3.2)      the whole reply is one {"name": N, "parameters": {...}}
//                                       ("arguments" accepted too), optionally after <|python_tag|>;
//                                       also Llama 3.1 builtin calls <|python_tag|>N.call(k="v", ...).
//   kMistral     (Mistral Nemo)         [TOOL_CALLS][{"name": N, "arguments": {...}, "id": "abc123def"}, ...]
//   kFunctionary (functionary v3.2)     N\n{...} — the generation prompt already ends in ">>>", so the
//                                       reply starts with the recipient; more segments follow as
//                                       >>>N\n{...}; the recipient "all" marks plain content.
//   kDeepSeekR1  (DeepSeek-R1 distills) <｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>N
//                                       \n```json\n{...}\n```<｜tool▁call▁end｜> (more calls joined by
//                                       "\n"), then <｜tool▁calls▁end｜> — which the template omits after
//                                       a single call, so it is optional here.
//
// Special-token markers ([TOOL_CALLS], <|python_tag|>, the DeepSeek markers)
// must reach the parser as text: detokenize the reply with special tokens
// rendered.
//
// Nothing here fails: text that looks like a call but is not one (bad JSON,
// no name, arguments that are not an object) stays content, byte for byte.
// Whitespace that only separates content from calls is dropped: "Let me
// check.\n<tool_call>...</tool_call>\n" has the content "Let me check.".
// Reasoning (<think>...</think>) is left in the content for others to split.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace minnow {

enum class ToolCallFormat { kNone, kHermes, kLlama3, kMistral, kFunctionary, kDeepSeekR1 };

// "none", "hermes", "llama3", "mistral", "functionary", "deepseek-r1".
const char* tool_call_format_name(ToolCallFormat format);
// The inverse, for configuration files and flags; kInvalidArgument otherwise.
Expected<ToolCallFormat> tool_call_format_from_name(std::string_view name);

// Recognizes the family from distinctive markers in the chat template source.
// kNone when the template cannot render tool calls (Gemma 2, Phi-3.5, plain
// Llama 3.0, ...), so the server knows tools are unsupported.
ToolCallFormat detect_tool_call_format(std::string_view chat_template_source);

struct ToolCall {
  std::string id;
  std::string name;
  std::string arguments;  // compact JSON text of the arguments object, keys in generated order
  bool operator==(const ToolCall&) const = default;
};

struct ParsedAssistantMessage {
  std::string content;  // text outside the calls, markers removed
  std::vector<ToolCall> tool_calls;
};

// Call ids, deterministic for a given seed so tests (and replays) are
// reproducible; a server passes a fresh random seed per request. ids are
// "call_" + 24 alphanumerics, except for kMistral: 9 alphanumerics, because
// the Mistral template rejects any other id when the call is sent back.
class ToolCallIdGenerator {
 public:
  ToolCallIdGenerator(ToolCallFormat format, uint64_t seed);
  std::string next();

 private:
  uint64_t state_;
  bool mistral_;
};

// Whole-text parse; the same result as feeding `text` to a
// ToolCallStreamParser in any split and calling finish(). Mistral calls keep
// the model's own id when it is 9 alphanumerics; other ids come from
// ToolCallIdGenerator(format, id_seed), in order.
ParsedAssistantMessage parse_tool_calls(ToolCallFormat format, std::string_view text, uint64_t id_seed = 0);

// Incremental parse of a reply as it is generated. feed() returns the content
// that is safe to show now — text that could still be the start of a marker,
// a call still being written, and whitespace that may turn out to separate
// content from a call are held back, like a stop-string matcher — and each
// call once it is complete. finish() flushes: an unterminated call that is
// valid counts as a call, anything else held back is returned as content.
// Llama 3 replies that start with "{" or <|python_tag|> are held until finish()
// because only the whole reply decides whether it is a call.
class ToolCallStreamParser {
 public:
  explicit ToolCallStreamParser(ToolCallFormat format, uint64_t id_seed = 0);

  struct Delta {
    std::string content;
    std::vector<ToolCall> calls;
  };
  Delta feed(std::string_view text);
  Delta finish();  // further feed()/finish() calls return nothing

 private:
  enum class Mode {
    kText,         // content; watching for an opening marker
    kHeader,       // functionary: reading the recipient line after ">>>"
    kCallToEnd,    // inside a call that ends with an end marker (Hermes, DeepSeek)
    kCallToJson,   // inside a call that ends with its JSON value (Mistral, functionary)
    kLlamaStart,   // Llama 3: deciding whether the reply is a call
    kLlamaWhole,   // Llama 3: holding the whole reply until finish()
    kPassthrough,  // everything is content, nothing held
    kDone,
  };

  // Scans a JSON value char by char to find where it ends, so the parser
  // knows when a call without an end marker is complete.
  class JsonEndScanner {
   public:
    enum class State { kBeforeValue, kInValue, kComplete, kFailed };
    void reset(std::string_view allowed_openers);
    State feed(char c);
    State state() const { return state_; }

   private:
    std::string_view openers_;
    State state_ = State::kBeforeValue;
    int depth_ = 0;
    bool in_string_ = false;
    bool escaped_ = false;
  };

  void run(Delta& out, bool at_end);
  bool step_text(Delta& out, bool at_end);
  bool step_header(Delta& out, bool at_end);
  bool step_call_to_end(Delta& out, bool at_end);
  bool step_call_to_json(Delta& out, bool at_end);
  bool step_llama_start(Delta& out, bool at_end);
  void finish_llama(Delta& out);
  // Turns a finished call body into calls, or its raw text into content.
  void complete_call(Delta& out, std::string_view body, const std::string& raw);
  void content(Delta& out, std::string_view text);
  void emit_call(Delta& out, ToolCall call);

  ToolCallFormat format_;
  ToolCallIdGenerator ids_;
  Mode mode_;
  std::string buf_;         // received, not yet consumed
  std::string raw_;         // consumed text of the current call or header, for the fallback
  std::string body_;        // kCallToJson: the value so far
  std::string call_name_;   // functionary: recipient of the current call
  size_t end_search_from_ = 0;  // kCallToEnd: buf_ before this holds no end marker
  bool first_header_ = false;  // functionary: the reply's first recipient (its ">>>" is in the prompt)
  JsonEndScanner scanner_;

  // Whitespace held back at the end of the content so far; emitted before the
  // next content unless a call came first and nothing was shown yet, dropped
  // at finish() when the reply ends with a call.
  std::string pending_ws_;
  bool shown_content_ = false;
  bool seen_call_ = false;
  bool last_was_call_ = false;
};

// How a family writes its calls, for building a grammar that forces a call
// (tool_choice "required" or a named function). The reply is
//   prefix + begin + CALL + end + (separator + begin + CALL + end)* + suffix
// or, when array_wrapped,
//   prefix + begin + "[" + CALL + (separator + CALL)* + "]" + end + suffix
// where CALL is {"<name_key>": NAME, "<args_key>": ARGS} when name_key is not
// empty, else NAME + name_end + ARGS. ARGS is a JSON object. `parallel` false:
// one call only.
struct ToolCallSyntax {
  std::string prefix;
  std::string begin;
  std::string end;
  std::string separator;
  std::string suffix;
  std::string name_key = "name";
  std::string args_key = "arguments";
  std::string name_end;
  bool array_wrapped = false;
  bool parallel = true;
};

// kNone gives an empty syntax with parallel false.
ToolCallSyntax tool_call_syntax(ToolCallFormat format);

// Writes calls the way the family's model emits them (per tool_call_syntax),
// e.g. to build few-shot examples; parse_tool_calls reads it back.
// kInvalidArgument for kNone, no calls, several calls where the family allows
// one, or arguments that are not a JSON object.
Expected<std::string> render_tool_calls(ToolCallFormat format, const std::vector<ToolCall>& calls);

}  // namespace minnow
