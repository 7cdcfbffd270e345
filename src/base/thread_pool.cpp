#include "base/thread_pool.h"

#include <algorithm>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace minnow {
namespace {

thread_local ThreadPool* t_current_pool = nullptr;

// ~10-50 us of polling: longer than the gap between the matmuls of one decode
// step, far shorter than the gap between requests.
constexpr int kSpinIterations = 20000;

inline void cpu_relax() {
#if defined(__x86_64__)
  _mm_pause();
#endif
}

}  // namespace

ThreadPool* current_thread_pool() { return t_current_pool; }

ScopedThreadPool::ScopedThreadPool(ThreadPool* pool) : previous_(t_current_pool) { t_current_pool = pool; }
ScopedThreadPool::~ScopedThreadPool() { t_current_pool = previous_; }

unsigned ThreadPool::default_thread_count() { return std::max(1u, std::thread::hardware_concurrency()); }

ThreadPool::ThreadPool(unsigned n_threads) : n_threads_(n_threads ? n_threads : default_thread_count()) {
  workers_.reserve(n_threads_ - 1);
  for (unsigned i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true, std::memory_order_release);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  generation_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::run_share(unsigned index) {
  // Ranges are whole grains so that, e.g., a row tile is never split.
  const size_t grains = (job_n_ + job_grain_ - 1) / job_grain_;
  const size_t begin = std::min(job_n_, grains * index / n_threads_ * job_grain_);
  const size_t end = std::min(job_n_, grains * (index + 1) / n_threads_ * job_grain_);
  if (begin < end) (*job_)(begin, end);
}

void ThreadPool::worker_loop(unsigned index) {
  // Not generation_.load(): a job published before this thread got here must
  // still count as new. No job exists before the constructor returns, so 0.
  uint32_t seen = 0;
  for (;;) {
    uint32_t now = generation_.load(std::memory_order_acquire);
    for (int spin = 0; now == seen && spin < kSpinIterations; ++spin) {
      cpu_relax();
      now = generation_.load(std::memory_order_acquire);
    }
    if (now == seen) {
      generation_.wait(seen, std::memory_order_acquire);
      continue;
    }
    seen = now;
    if (stop_.load(std::memory_order_acquire)) return;
    run_share(index);
    pending_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

void ThreadPool::parallel_for(size_t n, const std::function<void(size_t, size_t)>& fn, size_t grain) {
  if (n == 0) return;
  grain = std::max<size_t>(grain, 1);
  if (n_threads_ == 1 || n <= grain) {
    fn(0, n);
    return;
  }
  job_ = &fn;
  job_n_ = n;
  job_grain_ = grain;
  pending_.store(n_threads_ - 1, std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  generation_.notify_all();
  run_share(0);
  for (int spin = 0; pending_.load(std::memory_order_acquire) != 0; ++spin) {
    if (spin < kSpinIterations)
      cpu_relax();
    else
      std::this_thread::yield();
  }
}

}  // namespace minnow
