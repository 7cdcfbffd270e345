// Readers for the tokenizer conformance files (../shared/conformance/tokenizer
// and tokenizer-json); see FORMAT.md there.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace minnow::test {

struct TokenizerCase {
  std::string text;
  std::vector<int32_t> ids;
  bool has_special_text = false;              // special_tokens_in_text present
  std::vector<int32_t> ids_add_special;       // empty unless given
  bool has_ids_add_special = false;
};

std::string read_file_bytes(const std::filesystem::path& path);
// llama.cpp's .inp/.out pair.
std::vector<TokenizerCase> read_inp_out(const std::filesystem::path& inp, const std::filesystem::path& out);
// {"text": ..., "ids": [...]} per line.
std::vector<TokenizerCase> read_cases_jsonl(const std::filesystem::path& path);

}  // namespace minnow::test
