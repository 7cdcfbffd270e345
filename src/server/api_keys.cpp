#include <cstdlib>
#include <fstream>
#include <sstream>

#include "server/server_options.h"

namespace minnow {
namespace {

std::string trim(const std::string& s) {
  const size_t a = s.find_first_not_of(" \t\r\n");
  if (a == std::string::npos) return "";
  return s.substr(a, s.find_last_not_of(" \t\r\n") - a + 1);
}

}  // namespace

Status load_api_keys(const std::string& file, std::vector<std::string>& keys) {
  if (!file.empty()) {
    std::ifstream in(file);
    if (!in) return io_error("cannot read the API key file").with_file(file);
    std::string line;
    while (std::getline(in, line)) {
      line = trim(line);
      if (!line.empty() && line[0] != '#') keys.push_back(line);
    }
  }
  if (const char* env = std::getenv("MINNOW_API_KEYS")) {
    std::stringstream ss(env);
    std::string key;
    while (std::getline(ss, key, ','))
      if (!(key = trim(key)).empty()) keys.push_back(key);
  }
  return Status::success();
}

}  // namespace minnow
