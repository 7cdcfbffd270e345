#include "tokenizer/conformance_cases.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace minnow::test {

std::string read_file_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<TokenizerCase> read_inp_out(const std::filesystem::path& inp, const std::filesystem::path& out) {
  const std::string text = read_file_bytes(inp);
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<TokenizerCase> cases;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t next = text.find(sep, pos);
    if (next == std::string::npos) break;
    cases.push_back({text.substr(pos, next - pos), {}});
    pos = next + sep.size();
  }
  std::istringstream lines(read_file_bytes(out));
  std::string line;
  for (auto& c : cases) {
    if (!std::getline(lines, line)) break;
    std::istringstream ids(line);
    int32_t id;
    while (ids >> id) c.ids.push_back(id);
  }
  return cases;
}

std::vector<TokenizerCase> read_cases_jsonl(const std::filesystem::path& path) {
  std::istringstream lines(read_file_bytes(path));
  std::vector<TokenizerCase> cases;
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    const auto j = nlohmann::json::parse(line);
    TokenizerCase c;
    c.text = j.at("text").get<std::string>();
    c.ids = j.at("ids").get<std::vector<int32_t>>();
    c.has_special_text = j.contains("special_tokens_in_text");
    if (j.contains("ids_add_special")) {
      c.has_ids_add_special = true;
      c.ids_add_special = j["ids_add_special"].get<std::vector<int32_t>>();
    }
    cases.push_back(std::move(c));
  }
  return cases;
}

}  // namespace minnow::test
