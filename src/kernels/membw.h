// Read bandwidth of this machine as the kernels see it: the denominator of
// `minnow bench`'s efficiency column.
#pragma once

#include <cstddef>
#include <memory>

#include "base/huge_pages.h"
#include "base/thread_pool.h"

namespace minnow::kernels {

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

 private:
  ThreadPool& pool_;
  size_t n_words_;
  HugePageBuffer buffer_;
};

// One probe, measured once.
double measure_read_bandwidth(ThreadPool& pool, size_t bytes = size_t(1) << 30, int reps = 5);

}  // namespace minnow::kernels
