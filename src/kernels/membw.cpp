#include "kernels/membw.h"

#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>

namespace minnow::kernels {
namespace {

// Four independent 256-bit accumulators so loads, not the adds, are the limit.
uint64_t sum_words(const uint64_t* p, size_t n) {
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    a0 = _mm256_add_epi64(a0, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i)));
    a1 = _mm256_add_epi64(a1, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i + 4)));
    a2 = _mm256_add_epi64(a2, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i + 8)));
    a3 = _mm256_add_epi64(a3, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i + 12)));
  }
  const __m256i s = _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3));
  alignas(32) uint64_t lanes[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), s);
  uint64_t total = lanes[0] + lanes[1] + lanes[2] + lanes[3];
  for (; i < n; ++i) total += p[i];
  return total;
}

}  // namespace

ReadBandwidthProbe::ReadBandwidthProbe(ThreadPool& pool, size_t bytes)
    : pool_(pool), n_words_(bytes / sizeof(uint64_t)),
      buffer_(allocate_huge_pages(n_words_ * sizeof(uint64_t))) {
  if (!buffer_) return;
  uint64_t* words = reinterpret_cast<uint64_t*>(buffer_.get());
  // Touch every page first (from every thread's share) so faults are not timed.
  pool_.parallel_for(n_words_, [&](size_t b, size_t e) { std::fill(words + b, words + e, uint64_t(b)); }, 4096);
}

double ReadBandwidthProbe::measure(int reps) {
  if (!buffer_) return 0.0;
  const uint64_t* words = reinterpret_cast<const uint64_t*>(buffer_.get());
  double best = 0.0;
  volatile uint64_t sink = 0;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    pool_.parallel_for(n_words_, [&](size_t b, size_t e) { sink = sink + sum_words(words + b, e - b); }, 4096);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, double(n_words_ * sizeof(uint64_t)) / s);
  }
  return best;
}

double measure_read_bandwidth(ThreadPool& pool, size_t bytes, int reps) {
  return ReadBandwidthProbe(pool, bytes).measure(reps);
}

}  // namespace minnow::kernels
