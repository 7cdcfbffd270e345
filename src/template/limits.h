// Sandbox limits for rendering an untrusted chat template (it arrives inside a
// downloaded GGUF). Each is checked as the template runs; hitting one stops
// rendering with a kResourceLimit error naming the limit and the position.
#pragma once

#include <cstddef>
#include <cstdint>

namespace minnow {

struct TemplateLimits {
  // Rendered text, and any single string value built on the way.
  size_t max_output_bytes = size_t(8) << 20;
  // Iterations of all {% for %} loops together, and the length of range().
  uint64_t max_loop_iterations = 1'000'000;
  // Macro calls in progress at once (recursion).
  int max_call_depth = 64;
  // Nesting of blocks and parenthesized/sub-expressions in the source.
  int max_nesting = 64;
  // Evaluated expressions and statements; string work is charged at one
  // step per 64 bytes. The conformance templates need a few thousand; 2M
  // take a few tenths of a second.
  uint64_t max_steps = 2'000'000;
};

}  // namespace minnow
