// Runs the minnow binary as a user would and captures what it printed.
#pragma once

#include <string>
#include <vector>

namespace minnow::test {

struct CommandResult {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;
  std::string out;
  std::string err;
};

// argv excludes the program; stdin is /dev/null.
CommandResult run_minnow(const std::vector<std::string>& args);

}  // namespace minnow::test
