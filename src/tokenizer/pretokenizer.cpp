#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer/pretokenizer.h"

#include <pcre2.h>

#include "tokenizer/utf8.h"

namespace minnow {

// Owns one compiled pattern. Immutable after construction, so shared freely
// between threads (match data is per call).
class CompiledRegex {
 public:
  CompiledRegex(pcre2_code* code, bool jit) : code_(code), jit_(jit) {}
  ~CompiledRegex() { pcre2_code_free(code_); }
  CompiledRegex(const CompiledRegex&) = delete;
  CompiledRegex& operator=(const CompiledRegex&) = delete;
  const pcre2_code* code() const { return code_; }
  // pcre2_jit_match skips pcre2_match's per-call option checks; it is only
  // valid for a pattern that JIT-compiled.
  int match(std::string_view subject, size_t start, pcre2_match_data* data, pcre2_match_context* ctx) const {
    const auto* s = reinterpret_cast<PCRE2_SPTR>(subject.data());
    return jit_ ? pcre2_jit_match(code_, s, subject.size(), start, 0, data, ctx)
                : pcre2_match(code_, s, subject.size(), start, 0, data, ctx);
  }

 private:
  pcre2_code* code_;
  bool jit_;
};

namespace {

// Per-thread match state: the JIT stack is sized for long whitespace runs,
// and the match limit turns a pathological backtrack into an error instead
// of a hang.
struct MatchScratch {
  pcre2_match_context* context = nullptr;
  pcre2_jit_stack* stack = nullptr;
  pcre2_match_data* data = nullptr;
  MatchScratch() {
    context = pcre2_match_context_create(nullptr);
    stack = pcre2_jit_stack_create(32 * 1024, 4 * 1024 * 1024, nullptr);
    if (context && stack) pcre2_jit_stack_assign(context, nullptr, stack);
    if (context) pcre2_set_match_limit(context, 50'000'000);
    data = pcre2_match_data_create(1, nullptr);
  }
  ~MatchScratch() {
    pcre2_match_data_free(data);
    pcre2_jit_stack_free(stack);
    pcre2_match_context_free(context);
  }
};

MatchScratch& scratch() {
  thread_local MatchScratch s;
  return s;
}

std::string pcre2_message(int code) {
  PCRE2_UCHAR buf[256];
  pcre2_get_error_message(code, buf, sizeof buf);
  return reinterpret_cast<const char*>(buf);
}

}  // namespace

Expected<Pretokenizer> Pretokenizer::from_name(std::string_view pre) {
  bool known = false;
  std::vector<std::string> patterns = pretokenizer_patterns(pre, &known);
  if (!known)
    return unsupported("unknown pre-tokenizer '" + std::string(pre) +
                       "' (known: default, gpt-2, phi-2, llama3, llama-bpe, qwen2, starcoder, deepseek-llm, "
                       "deepseek-coder, falcon and their aliases)")
        .with_field("tokenizer.ggml.pre");
  return from_regexes(patterns);
}

Expected<Pretokenizer> Pretokenizer::from_regexes(const std::vector<std::string>& patterns) {
  Pretokenizer p;
  for (const std::string& pattern : patterns) {
    int err = 0;
    PCRE2_SIZE err_offset = 0;
    // MATCH_INVALID_UTF: invalid bytes never match and end up in gap pieces,
    // which byte-level BPE then encodes byte by byte.
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                     PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF | PCRE2_DOLLAR_ENDONLY,
                                     &err, &err_offset, nullptr);
    if (!code)
      return invalid_argument("pre-tokenizer regex does not compile: " + pcre2_message(err) + " in '" + pattern + "'")
          .with_offset(err_offset);
    // JIT is an optimisation: the interpreter gives identical results.
    const bool jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
    auto compiled = std::make_shared<const CompiledRegex>(code, jit);
    p.regexes_.push_back(std::move(compiled));
  }
  return p;
}

// Each regex splits the pieces of the one before; pieces go straight down to
// the next stage (depth = number of regexes, at most 6).
Status Pretokenizer::split_stage(size_t stage, std::string_view piece, const PieceFn& emit) const {
  if (stage == regexes_.size()) {
    emit(piece);
    return Status::success();
  }
  MatchScratch& s = scratch();
  if (!s.data || !s.context) return resource_limit("cannot allocate regex match state");
  const CompiledRegex& re = *regexes_[stage];
  size_t pos = 0;
  size_t gap_start = 0;
  while (pos <= piece.size()) {
    const int rc = re.match(piece, pos, s.data, s.context);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) return resource_limit("pre-tokenizer regex failed: " + pcre2_message(rc));
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(s.data);
    const size_t begin = ov[0], end = ov[1];
    if (end <= begin) {  // empty match: step one character and retry
      if (begin >= piece.size()) break;
      const size_t len = utf8::sequence_length(piece.substr(begin));
      pos = begin + (len ? len : 1);
      continue;
    }
    // The next stage reuses the match data, so read the offsets first.
    if (begin > gap_start) MINNOW_TRY(split_stage(stage + 1, piece.substr(gap_start, begin - gap_start), emit));
    MINNOW_TRY(split_stage(stage + 1, piece.substr(begin, end - begin), emit));
    pos = gap_start = end;
  }
  if (gap_start < piece.size()) MINNOW_TRY(split_stage(stage + 1, piece.substr(gap_start), emit));
  return Status::success();
}

Status Pretokenizer::for_each_piece(std::string_view text, const PieceFn& emit) const {
  if (text.empty()) return Status::success();
  return split_stage(0, text, emit);
}

Status Pretokenizer::split(std::string_view text, std::vector<std::string_view>& out) const {
  out.clear();
  return for_each_piece(text, [&out](std::string_view piece) { out.push_back(piece); });
}

}  // namespace minnow
