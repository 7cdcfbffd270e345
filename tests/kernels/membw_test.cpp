// The bandwidth probe: a rate for buffers it could allocate, in whole
// passes or in small ones, and 0 (not a crash or a division by zero) for
// what it cannot measure.
#include <gtest/gtest.h>

#include "base/thread_pool.h"
#include "kernels/membw.h"

namespace minnow::kernels {
namespace {

TEST(ReadBandwidthProbe, MeasuresARateWholeAndInPasses) {
  ThreadPool pool(2);
  ReadBandwidthProbe probe(pool, size_t(8) << 20);
  const double whole = probe.measure(1), passes = probe.measure_in_passes(1, size_t(1) << 20);
  // Any machine reads 8 MB at more than 10 MB/s and less than 10 TB/s.
  EXPECT_GT(whole, 1e7);
  EXPECT_LT(whole, 1e13);
  EXPECT_GT(passes, 1e7);
  EXPECT_LT(passes, 1e13);
  EXPECT_EQ(probe.bytes(), size_t(8) << 20);
  for (double shape : probe.measure_each_shape(1, probe.bytes())) {
    EXPECT_GT(shape, 1e7);
    EXPECT_LT(shape, 1e13);
  }
}

TEST(ReadBandwidthProbe, WhatItCannotMeasureIsZero) {
  ThreadPool pool(2);
  ReadBandwidthProbe probe(pool, size_t(1) << 20);
  EXPECT_EQ(probe.measure_in_passes(1, size_t(2) << 20), 0.0);  // a pass larger than the buffer
  EXPECT_EQ(probe.measure_in_passes(1, 4), 0.0);                // under one word
  ReadBandwidthProbe absurd(pool, size_t(1) << 62);             // no such memory
  EXPECT_EQ(absurd.measure(1), 0.0);
  EXPECT_EQ(absurd.measure_in_passes(1, size_t(1) << 20), 0.0);
  for (double shape : absurd.measure_each_shape(1, size_t(1) << 20)) EXPECT_EQ(shape, 0.0);
}

}  // namespace
}  // namespace minnow::kernels
