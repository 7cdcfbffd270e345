// Encoding speed (MB/s, single thread) on English prose, C++ code and CJK:
// byte-level BPE (GPT-2 vocabulary) and SPM (Llama 2 vocabulary) from
// ../shared/conformance, plus SPM side by side with sentencepiece on one
// vocabulary that sentencepiece trains here in-process (the Llama 2 .model
// file is not available, and a GGUF cannot be loaded into sentencepiece).
#include <benchmark/benchmark.h>
#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "gguf/gguf_file.h"
#include "tokenizer/tiny_vocab.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab.h"

namespace {

namespace fs = std::filesystem;
constexpr size_t kCorpusBytes = 1 << 20;

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string repeat_to(const std::string& unit, size_t n) {
  std::string out;
  while (out.size() < n) out += unit;
  return out;
}

// Deterministic English-like prose from a fixed word list (an LCG picks words).
std::string english() {
  static const char* const kWords[] = {
      "the", "of", "and", "to", "in", "a", "is", "that", "for", "it", "as", "was", "with", "be", "by", "on",
      "not", "he", "this", "are", "or", "his", "from", "at", "which", "but", "have", "an", "had", "they", "you",
      "were", "their", "one", "all", "we", "can", "her", "has", "there", "been", "if", "more", "when", "will",
      "would", "who", "so", "no", "model", "language", "small", "runtime", "memory", "quickly", "tokenizer",
      "between", "government", "however", "information", "development", "understanding", "experience",
      "children", "important", "different", "following", "without", "program", "problem", "question"};
  std::string out;
  uint32_t state = 12345;
  int in_sentence = 0;
  while (out.size() < kCorpusBytes) {
    state = state * 1664525u + 1013904223u;
    std::string w = kWords[(state >> 8) % (sizeof kWords / sizeof kWords[0])];
    if (in_sentence == 0) w[0] = char(std::toupper(w[0]));
    out += w;
    ++in_sentence;
    if (in_sentence > 8 && (state >> 20) % 5 == 0) {
      out += (state >> 24) % 7 == 0 ? ".\n" : ". ";
      in_sentence = 0;
    } else {
      out += (state >> 25) % 11 == 0 ? ", " : " ";
    }
  }
  return out;
}

// minnow's own sources: real C++ with indentation, braces and comments.
std::string code() {
  std::string all;
  for (const char* dir : {"src/tokenizer", "src/gguf", "src/base"})
    for (const auto& e : fs::directory_iterator(fs::path(MINNOW_SOURCE_DIR) / dir))
      if (e.path().extension() == ".cpp" || e.path().extension() == ".h") all += read_all(e.path());
  return repeat_to(all.empty() ? "int main() { return 0; }\n" : all, kCorpusBytes);
}

std::string cjk() {
  return repeat_to(
      "\xe4\xba\xba\xe5\xb7\xa5\xe6\x99\xba\xe8\x83\xbd\xe6\x98\xaf\xe8\xae\xa1\xe7\xae\x97\xe6\x9c\xba\xe7\xa7\x91"
      "\xe5\xad\xa6\xe7\x9a\x84\xe4\xb8\x80\xe4\xb8\xaa\xe5\x88\x86\xe6\x94\xaf\xe3\x80\x82\xe5\xae\x83\xe4\xbc\x81"
      "\xe5\x9b\xbe\xe4\xba\x86\xe8\xa7\xa3\xe6\x99\xba\xe8\x83\xbd\xe7\x9a\x84\xe5\xae\x9e\xe8\xb4\xa8\xef\xbc\x8c"
      "\xe5\xb9\xb6\xe7\x94\x9f\xe4\xba\xa7\xe5\x87\xba\xe4\xb8\x80\xe7\xa7\x8d\xe6\x96\xb0\xe7\x9a\x84\xe8\x83\xbd"
      "\xe4\xbb\xa5\xe4\xba\xba\xe7\xb1\xbb\xe6\x99\xba\xe8\x83\xbd\xe7\x9b\xb8\xe4\xbc\xbc\xe7\x9a\x84\xe6\x96\xb9"
      "\xe5\xbc\x8f\xe5\x81\x9a\xe5\x87\xba\xe5\x8f\x8d\xe5\xba\x94\xe7\x9a\x84\xe6\x99\xba\xe8\x83\xbd\xe6\x9c\xba"
      "\xe5\x99\xa8\xe3\x80\x82\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe6\x96\x87\xe7\xab\xa0\xe3\x82\x82"
      "\xe3\x81\x82\xe3\x82\x8a\xe3\x81\xbe\xe3\x81\x99\xe3\x80\x82\xed\x95\x9c\xea\xb5\xad\xec\x96\xb4\x20\xeb\xac"
      "\xb8\xec\x9e\xa5\xeb\x8f\x84\x20\xec\x9e\x88\xec\x8a\xb5\xeb\x8b\x88\xeb\x8b\xa4\x2e\n",
      kCorpusBytes);
}

const std::string& corpus(int which) {
  static const std::string texts[3] = {english(), code(), cjk()};
  return texts[which];
}
const char* const kCorpusNames[3] = {"english", "code", "cjk"};

// Lines, so both tokenizers see prompt-sized inputs rather than one 1 MB string.
std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line + "\n");
  return lines;
}

std::unique_ptr<minnow::Tokenizer> gguf_tokenizer(const char* name) {
  const fs::path p = fs::path(MINNOW_SOURCE_DIR) / ".." / "shared/conformance/tokenizer" / (std::string("ggml-vocab-") + name + ".gguf");
  auto f = minnow::GgufFile::open(p.string());
  if (!f.ok()) return nullptr;
  auto t = minnow::load_tokenizer_from_gguf(*f);
  return t.ok() ? std::make_unique<minnow::Tokenizer>(std::move(t).value()) : nullptr;
}

void encode_lines(benchmark::State& state, const minnow::Tokenizer& t, int which) {
  const auto lines = lines_of(corpus(which));
  size_t n_tokens = 0;
  for (auto _ : state) {
    n_tokens = 0;
    for (const auto& line : lines) {
      auto ids = t.encode(line, {.add_special = false});
      n_tokens += ids.ok() ? ids->size() : 0;
    }
    benchmark::DoNotOptimize(n_tokens);
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(corpus(which).size()));
  state.counters["bytes_per_token"] = double(corpus(which).size()) / double(std::max<size_t>(n_tokens, 1));
  state.SetLabel(kCorpusNames[which]);
}

void BM_BpeGpt2(benchmark::State& state) {
  static const auto t = gguf_tokenizer("gpt-2");
  if (!t) return state.SkipWithError("ggml-vocab-gpt-2.gguf not found in ../shared/conformance");
  encode_lines(state, *t, int(state.range(0)));
}
BENCHMARK(BM_BpeGpt2)->DenseRange(0, 2)->Unit(benchmark::kMillisecond);

void BM_SpmLlama(benchmark::State& state) {
  static const auto t = gguf_tokenizer("llama-spm");
  if (!t) return state.SkipWithError("ggml-vocab-llama-spm.gguf not found in ../shared/conformance");
  encode_lines(state, *t, int(state.range(0)));
}
BENCHMARK(BM_SpmLlama)->DenseRange(0, 2)->Unit(benchmark::kMillisecond);

// --- minnow vs sentencepiece on one trained SPM-BPE vocabulary ---

class LinesIterator : public sentencepiece::SentenceIterator {
 public:
  explicit LinesIterator(std::vector<std::string> lines) : lines_(std::move(lines)) {}
  bool done() const override { return i_ >= lines_.size(); }
  void Next() override { ++i_; }
  const std::string& value() const override { return lines_[i_]; }
  sentencepiece::util::Status status() const override { return {}; }

 private:
  std::vector<std::string> lines_;
  size_t i_ = 0;
};

struct SharedSpm {
  sentencepiece::SentencePieceProcessor sp;
  std::unique_ptr<minnow::Tokenizer> ours;
  std::string error;
};

// Trains once: BPE, byte fallback, identity normalization (llama.cpp and
// minnow do not normalize), so both sides have the same job.
const SharedSpm& shared_spm() {
  static const SharedSpm* s = [] {
    auto* out = new SharedSpm;
    std::vector<std::string> training;
    for (int which = 0; which < 3; ++which) {
      auto lines = lines_of(corpus(which).substr(0, 200000));
      for (auto& l : lines) l.pop_back();  // training sentences without the newline
      training.insert(training.end(), lines.begin(), lines.end());
    }
    LinesIterator it(std::move(training));
    std::string model;
    const auto st = sentencepiece::SentencePieceTrainer::Train(
        "--model_type=bpe --vocab_size=4000 --byte_fallback=true --character_coverage=1.0 "
        "--normalization_rule_name=identity --remove_extra_whitespaces=false --split_digits=false "
        "--hard_vocab_limit=false --minloglevel=2 --max_sentence_length=100000",
        &it, &model);
    if (!st.ok() || !out->sp.LoadFromSerializedProto(model).ok()) {
      out->error = "sentencepiece training failed: " + st.ToString();
      return out;
    }
    minnow::Vocab v;
    v.name = "<sentencepiece-trained>";
    v.model = minnow::TokenizerModel::kSpm;
    for (int id = 0; id < out->sp.GetPieceSize(); ++id) {
      v.tokens.push_back(out->sp.IdToPiece(id));
      v.scores.push_back(out->sp.GetScore(id));
      using minnow::TokenType;
      v.types.push_back(out->sp.IsUnknown(id) ? TokenType::kUnknown
                        : out->sp.IsControl(id) ? TokenType::kControl
                        : out->sp.IsByte(id)    ? TokenType::kByte
                        : out->sp.IsUnused(id)  ? TokenType::kUnused
                                                : TokenType::kNormal);
    }
    v.unk = out->sp.unk_id();
    auto t = minnow::Tokenizer::create(std::move(v));
    if (!t.ok()) out->error = t.error().to_string();
    else out->ours = std::make_unique<minnow::Tokenizer>(std::move(t).value());
    return out;
  }();
  return *s;
}

void BM_SpmTrained_minnow(benchmark::State& state) {
  const SharedSpm& s = shared_spm();
  if (!s.ours) return state.SkipWithError(s.error.c_str());
  encode_lines(state, *s.ours, int(state.range(0)));
  // How often the two disagree on this corpus (0 means identical ids).
  size_t differ = 0;
  const auto lines = lines_of(corpus(int(state.range(0))));
  for (size_t i = 0; i < lines.size() && i < 500; ++i) {
    const std::string& line = lines[i];
    std::vector<int> theirs;
    (void)s.sp.Encode(line, &theirs);
    auto ours = s.ours->encode(line, {.add_special = false});
    if (!ours.ok() || std::vector<int>(ours->begin(), ours->end()) != theirs) ++differ;
  }
  state.counters["lines_differing_from_sp"] = double(differ);
}
BENCHMARK(BM_SpmTrained_minnow)->DenseRange(0, 2)->Unit(benchmark::kMillisecond);

void BM_SpmTrained_sentencepiece(benchmark::State& state) {
  const SharedSpm& s = shared_spm();
  if (!s.ours) return state.SkipWithError(s.error.c_str());
  const int which = int(state.range(0));
  const auto lines = lines_of(corpus(which));
  std::vector<int> ids;
  size_t n_tokens = 0;
  for (auto _ : state) {
    n_tokens = 0;
    for (const auto& line : lines) {
      (void)s.sp.Encode(line, &ids);
      n_tokens += ids.size();
    }
    benchmark::DoNotOptimize(n_tokens);
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(corpus(which).size()));
  state.counters["bytes_per_token"] = double(corpus(which).size()) / double(std::max<size_t>(n_tokens, 1));
  state.SetLabel(kCorpusNames[which]);
}
BENCHMARK(BM_SpmTrained_sentencepiece)->DenseRange(0, 2)->Unit(benchmark::kMillisecond);

}  // namespace
