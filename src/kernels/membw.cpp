#include "kernels/membw.h"

#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>

namespace minnow::kernels {
namespace {

// Sums of n words, kLines 64-byte lines per loop iteration, one 256-bit
// accumulator per load so that loads, not adds, are the limit; kAhead > 0
// also asks for the line that many bytes ahead, as the decode kernels do.
// The loop shape changes what the memory system delivers: on Machine C, for
// 512 MiB on huge pages, two lines per iteration read 30-31 GB/s, one line
// 34.5-36, one line with a prefetch 2 KB ahead 36-38. The probe times the
// shapes and keeps the best: a probe that reads low inflates every
// efficiency figure.
template <int kLines, size_t kAhead>
uint64_t sum_words(const uint64_t* p, size_t n) {
  constexpr size_t kWords = 8 * kLines;
  __m256i acc[2 * kLines];
  for (auto& a : acc) a = _mm256_setzero_si256();
  size_t i = 0;
  for (; i + kWords <= n; i += kWords) {
    if constexpr (kAhead > 0)
      for (int j = 0; j < kLines; ++j) _mm_prefetch(reinterpret_cast<const char*>(p + i + 8 * j) + kAhead, _MM_HINT_T0);
    for (int j = 0; j < 2 * kLines; ++j)
      acc[j] = _mm256_add_epi64(acc[j], _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i + 4 * j)));
  }
  for (int j = 1; j < 2 * kLines; ++j) acc[0] = _mm256_add_epi64(acc[0], acc[j]);
  alignas(32) uint64_t lanes[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), acc[0]);
  uint64_t total = lanes[0] + lanes[1] + lanes[2] + lanes[3];
  for (; i < n; ++i) total += p[i];
  return total;
}

using SumFn = uint64_t (*)(const uint64_t*, size_t);
// In the order of kProbeShapeNames (membw.h).
constexpr SumFn kLoopShapes[kProbeShapes] = {sum_words<1, 0>, sum_words<2, 0>, sum_words<1, 2048>};

}  // namespace

ReadBandwidthProbe::ReadBandwidthProbe(ThreadPool& pool, size_t bytes)
    : pool_(pool), n_words_(bytes / sizeof(uint64_t)),
      buffer_(allocate_huge_pages(n_words_ * sizeof(uint64_t))) {
  if (!buffer_) return;
  uint64_t* words = reinterpret_cast<uint64_t*>(buffer_.get());
  // Touch every page first (from every thread's share) so faults are not timed.
  pool_.parallel_for(n_words_, [&](size_t b, size_t e) { std::fill(words + b, words + e, uint64_t(b)); }, 4096);
}

double ReadBandwidthProbe::measure(int reps) { return measure_in_passes(reps, bytes()); }

double ReadBandwidthProbe::measure_in_passes(int reps, size_t pass_bytes) {
  const auto each = measure_each_shape(reps, pass_bytes);
  return *std::max_element(each.begin(), each.end());
}

std::array<double, kProbeShapes> ReadBandwidthProbe::measure_each_shape(int reps, size_t pass_bytes) {
  std::array<double, kProbeShapes> best{};
  const size_t pass_words = pass_bytes / sizeof(uint64_t);
  if (!buffer_ || pass_words == 0 || n_words_ < pass_words) return best;
  const uint64_t* words = reinterpret_cast<const uint64_t*>(buffer_.get());
  const size_t passes = n_words_ / pass_words, read = passes * pass_words * sizeof(uint64_t);
  volatile uint64_t sink = 0;
  for (int r = 0; r < reps; ++r) {
    for (size_t shape = 0; shape < kProbeShapes; ++shape) {
      const SumFn sum = kLoopShapes[shape];
      const auto t0 = std::chrono::steady_clock::now();
      for (size_t p = 0; p < passes; ++p) {
        const uint64_t* pass = words + p * pass_words;
        pool_.parallel_for(pass_words, [&](size_t b, size_t e) { sink = sink + sum(pass + b, e - b); }, 512);
      }
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      best[shape] = std::max(best[shape], double(read) / s);
    }
  }
  return best;
}

}  // namespace minnow::kernels
