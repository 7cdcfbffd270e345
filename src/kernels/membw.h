// Read bandwidth of this machine as the kernels see it: the denominator of
// `minnow bench`'s efficiency column.
#pragma once

#include <array>
#include <cstddef>
#include <memory>

#include "base/huge_pages.h"
#include "base/thread_pool.h"

namespace minnow::kernels {

// The loop shapes the probe times (membw.cpp says why several).
inline constexpr size_t kProbeShapes = 3;
inline constexpr const char* kProbeShapeNames[kProbeShapes] = {"one line per iteration", "two lines per iteration",
                                                               "one line, prefetch 2 KB ahead"};

// A buffer of `bytes` (far larger than the caches), allocated and touched
// once, to time repeatedly: bench probes bandwidth around every repetition.
// It sits on huge pages where the weights do (base/huge_pages.h), so that
// efficiency compares like with like.
class ReadBandwidthProbe {
 public:
  ReadBandwidthProbe(ThreadPool& pool, size_t bytes);
  // Best of `reps` timed sums over the buffer with each of three loop shapes,
  // split across the pool's threads. Bytes per second; 0 when the buffer
  // could not be allocated.
  double measure(int reps);
  // The same, the buffer read in consecutive passes of pass_bytes, each a
  // parallel_for of its own, as decode reads one weight matrix per pass:
  // small passes show what each hand-off and stream restart costs. 0 when
  // the buffer is smaller than one pass or a pass is under 8 bytes.
  double measure_in_passes(int reps, size_t pass_bytes);
  // Each shape's best, in kProbeShapeNames' order (zeros where 0 above).
  std::array<double, kProbeShapes> measure_each_shape(int reps, size_t pass_bytes);
  size_t bytes() const { return n_words_ * sizeof(uint64_t); }

 private:
  ThreadPool& pool_;
  size_t n_words_;
  HugePageBuffer buffer_;
};

}  // namespace minnow::kernels
