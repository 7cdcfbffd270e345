// Read bandwidth of this machine as the kernels see it: the denominator of
// `minnow bench`'s efficiency column.
#pragma once

#include <cstddef>

#include "base/thread_pool.h"

namespace minnow::kernels {

// Best of `reps` timed sums over a buffer of `bytes` (far larger than the
// caches), split across the pool's threads. Bytes per second.
double measure_read_bandwidth(ThreadPool& pool, size_t bytes = size_t(1) << 30, int reps = 5);

}  // namespace minnow::kernels
