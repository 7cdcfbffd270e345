// Where a decode step's time goes, pass by pass: while profiling is on,
// every matmul pass (one parallel_for over one or more matrices that share
// their input) is timed and added to a total per set of matrices, and so is
// every fused attention call (its bytes are the KV cache rows it covers).
// `minnow bench --passes` turns it on for its tg tests' timed steps (one
// token, or one per sequence of a batch) and sets the totals against the
// measured read bandwidth. Off by default: a pass
// then pays one relaxed atomic load.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace minnow::kernels {

// What a pass's bytes are: weights (each matrix once a token) or KV cache rows.
enum class PassReads { kWeights, kKvCache };

struct PassTotal {
  std::string matrices;  // "4864x896 Q5_0 + 4864x896 Q5_0": rows x columns and type of each; or "attention, F16 cache"
  PassReads reads = PassReads::kWeights;
  uint64_t passes = 0;
  double seconds = 0, bytes = 0;  // wall time of the passes, weight bytes they read
  // The caller's time between the pass before and each of these passes
  // (norms, activation conversion, reading the outputs the threads wrote).
  double seconds_before = 0;
};

// Turning profiling on clears the totals.
void set_pass_profiling(bool on);
// Work outside the timed steps follows (a bandwidth probe, a reset): the
// next pass's `seconds_before` starts from its own start, not the last pass.
void break_pass_gaps();
bool pass_profiling();
void record_pass(const std::string& matrices, double seconds, double bytes, PassReads reads = PassReads::kWeights);
// The totals, longest first.
std::vector<PassTotal> pass_totals();

}  // namespace minnow::kernels
