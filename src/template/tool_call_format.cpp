#include "template/tool_call_format.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>

namespace minnow {
namespace {

using Json = nlohmann::ordered_json;  // ordered: arguments keep the order the model wrote

constexpr std::string_view kHermesBegin = "<tool_call>";
constexpr std::string_view kHermesEnd = "</tool_call>";
constexpr std::string_view kPythonTag = "<|python_tag|>";
constexpr std::string_view kMistralBegin = "[TOOL_CALLS]";
constexpr std::string_view kFunctionarySep = ">>>";
constexpr std::string_view kFunctionaryContent = "all";  // the recipient that means "the user"
constexpr std::string_view kDsCallsBegin = "<｜tool▁calls▁begin｜>";
constexpr std::string_view kDsCallsEnd = "<｜tool▁calls▁end｜>";
constexpr std::string_view kDsCallBegin = "<｜tool▁call▁begin｜>";
constexpr std::string_view kDsCallEnd = "<｜tool▁call▁end｜>";
constexpr std::string_view kDsSep = "<｜tool▁sep｜>";
constexpr std::string_view kWhitespace = " \t\n\r";

// nlohmann's dump() and destructor recurse once per nesting level, so a reply
// of a million "[" must be refused before it is parsed.
constexpr int kMaxJsonDepth = 128;
// A functionary recipient line longer than this is content, not a name.
constexpr size_t kMaxRecipientLength = 128;

bool is_ws(char c) { return kWhitespace.find(c) != std::string_view::npos; }

std::string_view trim(std::string_view s) {
  const size_t first = s.find_first_not_of(kWhitespace);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(kWhitespace) - first + 1);
}

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

bool is_recipient_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '.';
}

bool is_recipient(std::string_view s) {
  return !s.empty() && s.size() <= kMaxRecipientLength && std::all_of(s.begin(), s.end(), is_recipient_char);
}

// A function name from JSON: anything printable without spaces. Stricter
// checks (does the tool exist?) belong to the caller, which knows the tools.
bool is_function_name(std::string_view s) {
  return !s.empty() && std::none_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) <= ' '; });
}

bool is_alnum(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  });
}

bool json_depth_ok(std::string_view text) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxJsonDepth) return false;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return true;
}

// Whether `text` ends inside a string of the JSON object it contains (from
// its first "{"), i.e. an end marker right here would be part of a value.
bool inside_json_string(std::string_view text) {
  const size_t start = text.find('{');
  if (start == std::string_view::npos) return false;
  bool in_string = false, escaped = false;
  for (const char c : text.substr(start)) {
    if (escaped) escaped = false;
    else if (in_string && c == '\\') escaped = true;
    else if (c == '"') in_string = !in_string;
  }
  return in_string;
}

// nullopt for anything that is not exactly one JSON value (invalid UTF-8
// included); never throws.
std::optional<Json> parse_json(std::string_view text) {
  if (!json_depth_ok(text)) return std::nullopt;
  try {
    Json j = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return std::nullopt;
    return j;
  } catch (...) {  // allow_exceptions=false should make this unreachable; stay safe anyway
    return std::nullopt;
  }
}

std::string dump_compact(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

// Arguments are an object, or a string holding one (models trained on
// OpenAI-style histories sometimes double-encode); anything else is no call.
std::optional<std::string> normalize_arguments(const Json& args) {
  if (args.is_object()) return dump_compact(args);
  if (args.is_string()) {
    auto inner = parse_json(args.get_ref<const std::string&>());
    if (inner && inner->is_object()) return dump_compact(*inner);
  }
  return std::nullopt;
}

// {"name": N, "arguments" or "parameters": ARGS}. Hermes allows the arguments
// to be absent (its template writes none when a call has none); a bare Llama 3
// reply needs them, or a JSON answer such as {"name": "Ada"} would be a call.
std::optional<ToolCall> call_from_object(const Json& j, bool require_args) {
  if (!j.is_object()) return std::nullopt;
  const auto name = j.find("name");
  if (name == j.end() || !name->is_string() || !is_function_name(name->get_ref<const std::string&>()))
    return std::nullopt;
  auto args = j.find("arguments");
  if (args == j.end()) args = j.find("parameters");
  ToolCall call;
  call.name = name->get<std::string>();
  if (args == j.end()) {
    if (require_args) return std::nullopt;
    call.arguments = "{}";
    return call;
  }
  auto normalized = normalize_arguments(*args);
  if (!normalized) return std::nullopt;
  call.arguments = std::move(*normalized);
  return call;
}

std::optional<ToolCall> call_from_json_text(std::string_view text, bool require_args) {
  auto j = parse_json(trim(text));
  if (!j) return std::nullopt;
  return call_from_object(*j, require_args);
}

// One Python literal of a Llama 3.1 builtin call: a quoted string (the
// template writes values as "...") or a bare number / boolean.
std::optional<Json> parse_python_literal(std::string_view s, size_t& i) {
  if (i < s.size() && (s[i] == '"' || s[i] == '\'')) {
    const char quote = s[i++];
    std::string value;
    while (i < s.size() && s[i] != quote) {
      if (s[i] == '\\' && i + 1 < s.size()) {
        const char e = s[++i];
        value += e == 'n' ? '\n' : e == 't' ? '\t' : e;
      } else {
        value += s[i];
      }
      ++i;
    }
    if (i == s.size()) return std::nullopt;  // unterminated
    ++i;
    return Json(value);
  }
  const size_t start = i;
  while (i < s.size() && s[i] != ',') ++i;
  const std::string_view token = trim(s.substr(start, i - start));
  if (token == "True") return Json(true);
  if (token == "False") return Json(false);
  if (token == "None") return Json(nullptr);
  auto j = parse_json(token);
  if (!j || !j->is_primitive()) return std::nullopt;
  return j;
}

// NAME.call(key="value", ...), what Llama 3.1 writes after <|python_tag|> for
// its builtin tools (brave_search, wolfram_alpha).
std::optional<ToolCall> parse_python_call(std::string_view s) {
  s = trim(s);
  const size_t dot = s.find(".call(");
  if (dot == std::string_view::npos || s.back() != ')') return std::nullopt;
  ToolCall call;
  call.name = std::string(s.substr(0, dot));
  if (!is_recipient(call.name)) return std::nullopt;
  const std::string_view list = s.substr(dot + 6, s.size() - dot - 7);
  Json args = Json::object();
  size_t i = 0;
  while (true) {
    while (i < list.size() && is_ws(list[i])) ++i;
    if (i == list.size()) break;
    const size_t key_start = i;
    while (i < list.size() && is_recipient_char(list[i])) ++i;
    const std::string key(list.substr(key_start, i - key_start));
    while (i < list.size() && is_ws(list[i])) ++i;
    if (key.empty() || i == list.size() || list[i] != '=') return std::nullopt;
    ++i;
    while (i < list.size() && is_ws(list[i])) ++i;
    auto value = parse_python_literal(list, i);
    if (!value) return std::nullopt;
    args[key] = std::move(*value);
    while (i < list.size() && is_ws(list[i])) ++i;
    if (i == list.size()) break;
    if (list[i] != ',') return std::nullopt;
    ++i;
  }
  call.arguments = dump_compact(args);
  return call;
}

// The inside of <｜tool▁call▁begin｜>...<｜tool▁call▁end｜>:
// TYPE<｜tool▁sep｜>NAME\n```json\nARGS\n``` (TYPE is always "function").
std::optional<ToolCall> parse_deepseek_call(std::string_view body) {
  const size_t sep = body.find(kDsSep);
  if (sep == std::string_view::npos) return std::nullopt;
  const std::string_view rest = body.substr(sep + kDsSep.size());
  const size_t newline = rest.find('\n');
  if (newline == std::string_view::npos) return std::nullopt;
  ToolCall call;
  call.name = std::string(trim(rest.substr(0, newline)));
  if (!is_function_name(call.name)) return std::nullopt;
  std::string_view args = trim(rest.substr(newline + 1));
  if (args.starts_with("```")) {  // the fence is what the template writes; tolerate its absence
    const size_t line_end = args.find('\n');
    if (line_end == std::string_view::npos) return std::nullopt;
    args = args.substr(line_end + 1);
    if (args.ends_with("```")) args.remove_suffix(3);
  }
  auto j = parse_json(trim(args));
  if (!j) return std::nullopt;
  auto normalized = normalize_arguments(*j);
  if (!normalized) return std::nullopt;
  call.arguments = std::move(*normalized);
  return call;
}

// [TOOL_CALLS] is followed by an array of calls (or, leniently, one object).
// All or nothing: one bad element makes the whole block content.
std::vector<ToolCall> parse_mistral_calls(std::string_view body) {
  auto j = parse_json(trim(body));
  if (!j) return {};
  std::vector<Json> items;
  if (j->is_array()) items.assign(j->begin(), j->end());
  else if (j->is_object()) items.push_back(*j);
  std::vector<ToolCall> calls;
  for (const auto& item : items) {
    auto call = call_from_object(item, false);
    if (!call) return {};
    // Keep the model's own id when the template would accept it back.
    const auto id = item.find("id");
    if (id != item.end() && id->is_string()) {
      const auto& s = id->get_ref<const std::string&>();
      if (s.size() == 9 && is_alnum(s)) call->id = s;
    }
    calls.push_back(std::move(*call));
  }
  return calls;
}

// Text-mode markers: `opens` start a call (or a functionary recipient line);
// `drops` are wrappers that carry no content and are removed.
struct Markers {
  std::vector<std::string_view> opens;
  std::vector<std::string_view> drops;
};

const Markers& markers_for(ToolCallFormat format) {
  static const Markers kNoMarkers;
  static const Markers kHermes{{kHermesBegin}, {}};
  static const Markers kMistral{{kMistralBegin}, {}};
  static const Markers kFunctionary{{kFunctionarySep}, {}};
  static const Markers kDeepSeek{{kDsCallBegin}, {kDsCallsBegin, kDsCallsEnd}};
  switch (format) {
    case ToolCallFormat::kHermes: return kHermes;
    case ToolCallFormat::kMistral: return kMistral;
    case ToolCallFormat::kFunctionary: return kFunctionary;
    case ToolCallFormat::kDeepSeekR1: return kDeepSeek;
    default: return kNoMarkers;
  }
}

// Length of the longest proper suffix of `text` that a marker starts with:
// those bytes might become a marker with the next delta, so they wait.
size_t held_back_length(std::string_view text, const Markers& m) {
  size_t longest = 0;
  auto consider = [&](std::string_view marker) {
    for (size_t k = std::min(text.size(), marker.size() - 1); k > longest; --k)
      if (marker.starts_with(text.substr(text.size() - k))) {
        longest = k;
        break;
      }
  };
  for (auto marker : m.opens) consider(marker);
  for (auto marker : m.drops) consider(marker);
  return longest;
}

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace

const char* tool_call_format_name(ToolCallFormat format) {
  switch (format) {
    case ToolCallFormat::kNone: return "none";
    case ToolCallFormat::kHermes: return "hermes";
    case ToolCallFormat::kLlama3: return "llama3";
    case ToolCallFormat::kMistral: return "mistral";
    case ToolCallFormat::kFunctionary: return "functionary";
    case ToolCallFormat::kDeepSeekR1: return "deepseek-r1";
  }
  return "unknown";
}

Expected<ToolCallFormat> tool_call_format_from_name(std::string_view name) {
  for (const auto format : {ToolCallFormat::kNone, ToolCallFormat::kHermes, ToolCallFormat::kLlama3,
                            ToolCallFormat::kMistral, ToolCallFormat::kFunctionary, ToolCallFormat::kDeepSeekR1})
    if (name == tool_call_format_name(format)) return format;
  return invalid_argument("unknown tool-call format '" + std::string(name) +
                          "' (expected none, hermes, llama3, mistral, functionary or deepseek-r1)");
}

ToolCallFormat detect_tool_call_format(std::string_view source) {
  // Most specific first: functionary uses Llama 3 headers, and every family
  // but Llama 3 has a marker of its own.
  if (contains(source, kDsCallBegin) || contains(source, kDsCallsBegin)) return ToolCallFormat::kDeepSeekR1;
  if (contains(source, kMistralBegin)) return ToolCallFormat::kMistral;
  const bool renders_calls = contains(source, "tool_calls");
  if (renders_calls && contains(source, kFunctionarySep)) return ToolCallFormat::kFunctionary;
  if (contains(source, kHermesBegin)) return ToolCallFormat::kHermes;
  // Llama 3.2 has no <|python_tag|>; it writes '"parameters": ' for calls.
  if (renders_calls && (contains(source, kPythonTag) ||
                        (contains(source, "<|start_header_id|>") && contains(source, "\"parameters\""))))
    return ToolCallFormat::kLlama3;
  return ToolCallFormat::kNone;
}

ToolCallIdGenerator::ToolCallIdGenerator(ToolCallFormat format, uint64_t seed)
    : state_(seed), mistral_(format == ToolCallFormat::kMistral) {}

std::string ToolCallIdGenerator::next() {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string id = mistral_ ? "" : "call_";
  const int length = mistral_ ? 9 : 24;
  for (int i = 0; i < length; ++i) id += kAlphabet[splitmix64(state_) % 62];
  return id;
}

// ---------------------------------------------------------------------------
// Streaming parser

void ToolCallStreamParser::JsonEndScanner::reset(std::string_view allowed_openers) {
  openers_ = allowed_openers;
  state_ = State::kBeforeValue;
  depth_ = 0;
  in_string_ = false;
  escaped_ = false;
}

ToolCallStreamParser::JsonEndScanner::State ToolCallStreamParser::JsonEndScanner::feed(char c) {
  if (state_ == State::kBeforeValue) {
    if (is_ws(c)) return state_;
    if (openers_.find(c) == std::string_view::npos) return state_ = State::kFailed;
    depth_ = 1;
    return state_ = State::kInValue;
  }
  if (state_ != State::kInValue) return state_;
  if (in_string_) {
    if (escaped_) escaped_ = false;
    else if (c == '\\') escaped_ = true;
    else if (c == '"') in_string_ = false;
  } else if (c == '"') {
    in_string_ = true;
  } else if (c == '{' || c == '[') {
    ++depth_;
  } else if ((c == '}' || c == ']') && --depth_ == 0) {
    state_ = State::kComplete;
  }
  return state_;
}

ToolCallStreamParser::ToolCallStreamParser(ToolCallFormat format, uint64_t id_seed)
    : format_(format), ids_(format, id_seed) {
  switch (format) {
    case ToolCallFormat::kNone: mode_ = Mode::kPassthrough; break;
    case ToolCallFormat::kLlama3: mode_ = Mode::kLlamaStart; break;
    case ToolCallFormat::kFunctionary:
      // The generation prompt ends in ">>>", so the reply opens with a recipient.
      mode_ = Mode::kHeader;
      first_header_ = true;
      break;
    default: mode_ = Mode::kText; break;
  }
}

ToolCallStreamParser::Delta ToolCallStreamParser::feed(std::string_view text) {
  Delta out;
  if (mode_ == Mode::kDone) return out;
  buf_.append(text);
  run(out, false);
  return out;
}

ToolCallStreamParser::Delta ToolCallStreamParser::finish() {
  Delta out;
  if (mode_ == Mode::kDone) return out;
  run(out, true);
  // Whitespace after the last call only separated it from the end.
  if (!last_was_call_) out.content += pending_ws_;
  pending_ws_.clear();
  mode_ = Mode::kDone;
  return out;
}

void ToolCallStreamParser::run(Delta& out, bool at_end) {
  bool progress = true;
  while (progress) {
    switch (mode_) {
      case Mode::kText: progress = step_text(out, at_end); break;
      case Mode::kHeader: progress = step_header(out, at_end); break;
      case Mode::kCallToEnd: progress = step_call_to_end(out, at_end); break;
      case Mode::kCallToJson: progress = step_call_to_json(out, at_end); break;
      case Mode::kLlamaStart: progress = step_llama_start(out, at_end); break;
      case Mode::kLlamaWhole:
        if (at_end) finish_llama(out);
        progress = false;
        break;
      case Mode::kPassthrough:
        // No call can follow, so nothing needs holding back.
        out.content += pending_ws_;
        pending_ws_.clear();
        out.content += buf_;
        buf_.clear();
        progress = false;
        break;
      case Mode::kDone: progress = false; break;
    }
  }
}

bool ToolCallStreamParser::step_text(Delta& out, bool at_end) {
  const Markers& m = markers_for(format_);
  size_t best = std::string::npos;
  std::string_view hit;
  bool opens = false;
  auto consider = [&](std::string_view marker, bool is_open) {
    const size_t pos = buf_.find(marker);
    if (pos < best) {
      best = pos;
      hit = marker;
      opens = is_open;
    }
  };
  for (auto marker : m.opens) consider(marker, true);
  for (auto marker : m.drops) consider(marker, false);

  if (best == std::string::npos) {
    const size_t safe = buf_.size() - (at_end ? 0 : held_back_length(buf_, m));
    content(out, std::string_view(buf_).substr(0, safe));
    buf_.erase(0, safe);
    return false;
  }
  content(out, std::string_view(buf_).substr(0, best));
  buf_.erase(0, best + hit.size());
  if (!opens) return true;
  raw_ = std::string(hit);
  switch (format_) {
    case ToolCallFormat::kMistral:
      mode_ = Mode::kCallToJson;
      body_.clear();
      scanner_.reset("[{");
      break;
    case ToolCallFormat::kFunctionary:
      mode_ = Mode::kHeader;
      call_name_.clear();
      break;
    default: mode_ = Mode::kCallToEnd; break;
  }
  return true;
}

bool ToolCallStreamParser::step_header(Delta& out, bool at_end) {
  if (first_header_) {
    // A prompt built without the trailing ">>>" makes the model write it.
    if (buf_.starts_with(kFunctionarySep)) {
      raw_ = std::string(kFunctionarySep);
      buf_.erase(0, kFunctionarySep.size());
    } else if (!at_end && kFunctionarySep.starts_with(buf_)) {
      return false;
    }
    first_header_ = false;
  }
  for (size_t i = 0; i < buf_.size(); ++i) {
    const char c = buf_[i];
    if (c == '\n' && !call_name_.empty()) {
      raw_ += c;
      buf_.erase(0, i + 1);
      if (call_name_ == kFunctionaryContent) {
        raw_.clear();
        mode_ = Mode::kText;
      } else {
        mode_ = Mode::kCallToJson;
        body_.clear();
        scanner_.reset("{");
      }
      return true;
    }
    if (!is_recipient_char(c) || call_name_.size() >= kMaxRecipientLength) {
      // Not a recipient line (e.g. ">>> print(1)" in prose): plain text.
      content(out, raw_);
      buf_.erase(0, i);
      mode_ = Mode::kText;
      return true;
    }
    call_name_ += c;
    raw_ += c;
  }
  buf_.clear();
  if (!at_end) return false;
  content(out, raw_);
  mode_ = Mode::kText;
  return true;
}

bool ToolCallStreamParser::step_call_to_end(Delta& out, bool at_end) {
  const std::string_view end = format_ == ToolCallFormat::kHermes ? kHermesEnd : kDsCallEnd;
  if (format_ == ToolCallFormat::kHermes) {
    // "<tool_call>" not followed by JSON is prose about the tag: show it now
    // rather than holding the rest of the reply.
    const size_t first = buf_.find_first_not_of(kWhitespace);
    if (first != std::string::npos && buf_[first] != '{') {
      content(out, raw_);
      raw_.clear();
      mode_ = Mode::kText;
      return true;
    }
  }
  size_t pos = buf_.find(end, end_search_from_);
  // An end marker inside a JSON string ("</tool_call>" as an argument value)
  // does not end the call.
  while (pos != std::string::npos && inside_json_string(std::string_view(buf_).substr(0, pos)))
    pos = buf_.find(end, pos + 1);
  if (pos == std::string::npos && !at_end) {
    // Only the tail can still hold the start of a marker; do not rescan the rest.
    end_search_from_ = buf_.size() >= end.size() ? buf_.size() - end.size() + 1 : 0;
    return false;
  }
  size_t body_length = pos;
  if (pos == std::string::npos) {
    // Cut off mid-marker (max_tokens): the call may still be whole.
    body_length = buf_.size() - held_back_length(buf_, Markers{{end}, {}});
  }
  const size_t consumed = pos == std::string::npos ? buf_.size() : pos + end.size();
  const std::string body = buf_.substr(0, body_length);
  raw_ += buf_.substr(0, consumed);
  buf_.erase(0, consumed);
  end_search_from_ = 0;
  complete_call(out, body, raw_);
  mode_ = Mode::kText;
  return true;
}

bool ToolCallStreamParser::step_call_to_json(Delta& out, bool at_end) {
  for (size_t i = 0; i < buf_.size(); ++i) {
    const auto state = scanner_.feed(buf_[i]);
    if (state == JsonEndScanner::State::kFailed) {
      // No JSON after the marker: the marker was just text.
      content(out, raw_ + body_);
      buf_.erase(0, i);
      mode_ = Mode::kText;
      return true;
    }
    body_ += buf_[i];
    if (state == JsonEndScanner::State::kComplete) {
      buf_.erase(0, i + 1);
      complete_call(out, body_, raw_ + body_);
      mode_ = Mode::kText;
      return true;
    }
  }
  buf_.clear();
  if (!at_end) return false;
  complete_call(out, body_, raw_ + body_);
  mode_ = Mode::kText;
  return true;
}

bool ToolCallStreamParser::step_llama_start(Delta& out, bool at_end) {
  (void)out;
  const size_t first = buf_.find_first_not_of(kWhitespace);
  if (first == std::string::npos) {
    if (!at_end) return false;
    mode_ = Mode::kPassthrough;
    return true;
  }
  const std::string_view rest = std::string_view(buf_).substr(first);
  if (rest.front() == '{' || rest.starts_with(kPythonTag)) {
    mode_ = Mode::kLlamaWhole;
    return true;
  }
  if (!at_end && kPythonTag.starts_with(rest)) return false;
  mode_ = Mode::kPassthrough;
  return true;
}

void ToolCallStreamParser::finish_llama(Delta& out) {
  std::string_view text = trim(buf_);
  const bool tagged = text.starts_with(kPythonTag);
  if (tagged) text = trim(text.substr(kPythonTag.size()));
  std::optional<ToolCall> call;
  if (!text.empty() && text.front() == '{') call = call_from_json_text(text, /*require_args=*/true);
  else if (tagged) call = parse_python_call(text);
  if (call) emit_call(out, std::move(*call));
  else content(out, buf_);
  buf_.clear();
}

void ToolCallStreamParser::complete_call(Delta& out, std::string_view body, const std::string& raw) {
  std::vector<ToolCall> calls;
  std::optional<ToolCall> one;
  switch (format_) {
    case ToolCallFormat::kHermes: one = call_from_json_text(body, /*require_args=*/false); break;
    case ToolCallFormat::kDeepSeekR1: one = parse_deepseek_call(body); break;
    case ToolCallFormat::kMistral: calls = parse_mistral_calls(body); break;
    case ToolCallFormat::kFunctionary: {
      auto args = parse_json(trim(body));
      if (args && args->is_object()) one = ToolCall{"", call_name_, dump_compact(*args)};
      break;
    }
    default: break;
  }
  if (one) calls.push_back(std::move(*one));
  if (calls.empty()) {
    content(out, raw);  // never lose text: a broken call is shown as written
  } else {
    for (auto& call : calls) emit_call(out, std::move(call));
  }
  raw_.clear();
}

void ToolCallStreamParser::content(Delta& out, std::string_view text) {
  const size_t last = text.find_last_not_of(kWhitespace);
  if (last == std::string_view::npos) {
    pending_ws_.append(text);
    return;
  }
  const size_t first = text.find_first_not_of(kWhitespace);
  pending_ws_.append(text.substr(0, first));
  // Whitespace between a leading call and the first content only separated them.
  if (shown_content_ || !seen_call_) out.content += pending_ws_;
  out.content.append(text.substr(first, last + 1 - first));
  pending_ws_.assign(text.substr(last + 1));
  shown_content_ = true;
  last_was_call_ = false;
}

void ToolCallStreamParser::emit_call(Delta& out, ToolCall call) {
  if (call.id.empty()) call.id = ids_.next();
  out.calls.push_back(std::move(call));
  seen_call_ = true;
  last_was_call_ = true;
}

ParsedAssistantMessage parse_tool_calls(ToolCallFormat format, std::string_view text, uint64_t id_seed) {
  ToolCallStreamParser parser(format, id_seed);
  ParsedAssistantMessage message;
  for (auto delta : {parser.feed(text), parser.finish()}) {
    message.content += delta.content;
    for (auto& call : delta.calls) message.tool_calls.push_back(std::move(call));
  }
  return message;
}

// ---------------------------------------------------------------------------
// Syntax for grammars, and rendering calls with it

ToolCallSyntax tool_call_syntax(ToolCallFormat format) {
  ToolCallSyntax s;
  switch (format) {
    case ToolCallFormat::kNone: s.parallel = false; break;
    case ToolCallFormat::kHermes:
      s.begin = "<tool_call>\n";
      s.end = "\n</tool_call>";
      s.separator = "\n";
      break;
    case ToolCallFormat::kLlama3:
      s.args_key = "parameters";
      s.parallel = false;
      break;
    case ToolCallFormat::kMistral:
      s.begin = std::string(kMistralBegin);
      s.separator = ", ";
      s.array_wrapped = true;
      break;
    case ToolCallFormat::kFunctionary:
      // The first ">>>" is the end of the generation prompt.
      s.name_key.clear();
      s.args_key.clear();
      s.name_end = "\n";
      s.separator = std::string(kFunctionarySep);
      break;
    case ToolCallFormat::kDeepSeekR1:
      s.prefix = std::string(kDsCallsBegin);
      s.begin = std::string(kDsCallBegin) + "function" + std::string(kDsSep);
      s.name_key.clear();
      s.args_key.clear();
      s.name_end = "\n```json\n";
      s.end = "\n```" + std::string(kDsCallEnd);
      s.separator = "\n";
      s.suffix = std::string(kDsCallsEnd);
      break;
  }
  return s;
}

Expected<std::string> render_tool_calls(ToolCallFormat format, const std::vector<ToolCall>& calls) {
  if (format == ToolCallFormat::kNone) return invalid_argument("tool-call format 'none' cannot write tool calls");
  if (calls.empty()) return invalid_argument("no tool calls to write");
  const ToolCallSyntax s = tool_call_syntax(format);
  if (!s.parallel && calls.size() > 1)
    return invalid_argument(std::string(tool_call_format_name(format)) + " writes one tool call per reply, got " +
                            std::to_string(calls.size()));
  std::string out = s.prefix;
  if (s.array_wrapped) out += s.begin + "[";
  for (size_t i = 0; i < calls.size(); ++i) {
    const ToolCall& call = calls[i];
    auto args = parse_json(call.arguments);
    if (!args || !args->is_object())
      return invalid_argument("tool call '" + call.name + "': arguments are not a JSON object");
    const bool name_ok = s.name_key.empty() ? is_recipient(call.name) : is_function_name(call.name);
    if (!name_ok) return invalid_argument("tool call name '" + call.name + "' cannot be written in this format");
    if (i > 0) out += s.separator;
    if (!s.array_wrapped) out += s.begin;
    if (s.name_key.empty()) {
      out += call.name + s.name_end + dump_compact(*args);
    } else {
      out += "{" + dump_compact(Json(s.name_key)) + ": " + dump_compact(Json(call.name)) + ", " +
             dump_compact(Json(s.args_key)) + ": " + dump_compact(*args) + "}";
    }
    if (!s.array_wrapped) out += s.end;
  }
  if (s.array_wrapped) out += "]" + s.end;
  out += s.suffix;
  return out;
}

}  // namespace minnow
