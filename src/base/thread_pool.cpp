#include "base/thread_pool.h"

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>

#include "base/cpu_topology.h"
#include "base/float_mode.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace minnow {
namespace {

thread_local ThreadPool* t_current_pool = nullptr;
// Set while this thread runs a chunk of some pool's job: a nested
// parallel_rows then runs inline instead of re-entering a busy pool.
thread_local bool t_in_job = false;

// CPUs some live pool has pinned a worker to.
std::mutex g_pinned_mu;
std::set<int> g_pinned;

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

void parallel_rows(size_t n, const std::function<void(size_t, size_t)>& fn, size_t min_parallel) {
  if (ThreadPool* pool = t_current_pool; pool && n >= min_parallel && !t_in_job)
    pool->parallel_for(n, fn);
  else if (n > 0)
    fn(0, n);
}

ScopedThreadPool::ScopedThreadPool(ThreadPool* pool) : previous_(t_current_pool) { t_current_pool = pool; }
ScopedThreadPool::~ScopedThreadPool() { t_current_pool = previous_; }

unsigned ThreadPool::default_thread_count() { return cpu_topology().usable_cores; }

ThreadPool::ThreadPool(unsigned n_threads) : n_threads_(n_threads ? n_threads : default_thread_count()) {
  workers_.reserve(n_threads_ - 1);
  shares_ = std::make_unique<Share[]>(n_threads_);
  for (unsigned i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
  // Workers on CPUs of their own, one per physical core first: the
  // scheduler then never moves a worker's cache away or stacks two on one
  // core while another idles. Pools share the machine (a server holds one
  // per loaded model), so a process-wide tally hands each pool CPUs no other
  // pool's worker holds; cpus[0] stays free for the calling threads. When
  // there are not enough free CPUs the pool is not pinned and the OS
  // balances it. MINNOW_PIN=0 opts out.
  const char* pin = std::getenv("MINNOW_PIN");
  if (pin && std::strcmp(pin, "0") == 0) return;
  const CpuTopology topo = cpu_topology();
  std::lock_guard<std::mutex> lock(g_pinned_mu);
  std::vector<int> free_cpus;
  for (size_t i = 1; i < topo.cpus.size() && free_cpus.size() + 1 < n_threads_; ++i)
    if (!g_pinned.count(topo.cpus[i])) free_cpus.push_back(topo.cpus[i]);
  if (free_cpus.size() + 1 < n_threads_) return;
  for (unsigned i = 1; i < n_threads_; ++i) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(free_cpus[i - 1], &set);
    if (pthread_setaffinity_np(workers_[i - 1].native_handle(), sizeof(set), &set) == 0) {
      pinned_cpus_.push_back(free_cpus[i - 1]);
      g_pinned.insert(free_cpus[i - 1]);
    }
  }
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(g_pinned_mu);
    for (int cpu : pinned_cpus_) g_pinned.erase(cpu);
  }
  stop_.store(true, std::memory_order_release);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  generation_.notify_all();
  for (auto& t : workers_) t.join();
}

namespace {
// A share's unclaimed grains [begin, end) in one word, so that the owner
// (taking from the front) and thieves (from the back) can claim with one CAS.
uint64_t pack_range(uint32_t begin, uint32_t end) { return uint64_t(end) << 32 | begin; }
uint32_t range_begin(uint64_t v) { return uint32_t(v); }
uint32_t range_end(uint64_t v) { return uint32_t(v >> 32); }
uint32_t range_left(uint64_t v) { return range_end(v) > range_begin(v) ? range_end(v) - range_begin(v) : 0; }
}  // namespace

void ThreadPool::run_grains(size_t begin, size_t end) {
  // A claimed, unfinished range keeps parallel_for waiting, so job_ is stable.
  const bool outer = t_in_job;
  t_in_job = true;
  (*job_)(begin * job_grain_, std::min(job_n_, end * job_grain_));
  t_in_job = outer;
}

// The owner walks its share front to back, half of what is left at a time:
// consecutive claims are contiguous, so the stream the prefetchers follow
// (and the kernels' prefetch past a chunk's end) carries on. Claims are
// few on purpose: each is a locked compare-and-swap, which on x86 waits
// for the thread's loads in flight, i.e. drains its weight stream. Against
// a plain split with a spin barrier, a pure read in 3 MB passes reached
// 91-93% taking quarters and 95-96% taking halves (Machine C).
size_t ThreadPool::claim_own(unsigned self) {
  std::atomic<uint64_t>& share = shares_[self].range;
  uint64_t v = share.load(std::memory_order_acquire);
  while (const uint32_t left = range_left(v)) {
    const uint32_t begin = range_begin(v), take = (left + 1) / 2;
    if (share.compare_exchange_weak(v, pack_range(begin + take, range_end(v)), std::memory_order_acq_rel)) {
      run_grains(begin, begin + take);
      return take;
    }
  }
  return 0;
}

// A thread whose share is done takes the back half of the fullest other
// share. The pieces halve as the pass ends, so threads finish close
// together, and a worker the OS has not scheduled loses its share to the
// others instead of holding the pass up.
size_t ThreadPool::steal(unsigned self) {
  for (;;) {
    unsigned victim = self;
    uint64_t v = 0;
    for (unsigned i = 0; i < n_threads_; ++i) {
      const uint64_t u = shares_[i].range.load(std::memory_order_acquire);
      if (i != self && range_left(u) > range_left(v)) victim = i, v = u;
    }
    if (victim == self) return 0;
    const uint32_t take = (range_left(v) + 1) / 2, end = range_end(v);
    if (shares_[victim].range.compare_exchange_weak(v, pack_range(range_begin(v), end - take),
                                                    std::memory_order_acq_rel)) {
      run_grains(end - take, end);
      return take;
    }
  }
}

// The grains a thread ran are counted once, when it finds nothing left: one
// locked add to the shared counter per thread and pass instead of one per
// claim. The pass cannot end while a thread is still in here, since its
// grains are not counted yet.
void ThreadPool::claim_chunks(unsigned self) {
  size_t ran = 0;
  for (size_t n; (n = claim_own(self)) || (n = steal(self));) ran += n;
  if (ran) done_grains_.fetch_add(uint32_t(ran), std::memory_order_acq_rel);
}

void ThreadPool::worker_loop(unsigned self) {
  // Not generation_.load(): a job published before this thread got here must
  // still count as new. No job exists before the constructor returns, so 0.
  uint32_t seen = 0;
  flush_denormals_on_this_thread();  // the callers' forward passes do the same (float_mode.h)
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
    claim_chunks(self);
  }
}

double ThreadPool::round_trip_ns(int rounds) {
  if (n_threads_ < 2 || rounds <= 0) return 0;
  // Grain 0 pings, grain 1 answers: a thread holding one blocks until
  // another runs the other, so they always run on two threads (the caller
  // claims its own share first, a worker its own before stealing). Timed
  // in batches, the fastest kept: a batch during which the OS ran
  // something else on either CPU (a busy or oversubscribed machine) does
  // not count. Either side gives up at the deadline; the other then stops.
  // On a machine busy throughout, every batch waited on the scheduler and
  // the figure (microseconds) says so.
  constexpr int64_t kBatch = 16;
  struct alignas(64) Flag {
    std::atomic<int64_t> value{0};
  };
  Flag flag;
  std::atomic<bool> stop{false};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
  auto wait_for = [&](int64_t want) {
    for (uint32_t spin = 0; flag.value.load(std::memory_order_acquire) != want; ++spin) {
      if (stop.load(std::memory_order_relaxed)) return false;
      if (spin % 1024 == 1023 && std::chrono::steady_clock::now() > deadline) {
        stop.store(true, std::memory_order_relaxed);
        return false;
      }
      // Long waits yield: where the OS put both threads on one CPU the
      // other side then gets to run (those batches are slow, not stuck).
      if (spin < 4096)
        cpu_relax();
      else
        std::this_thread::yield();
    }
    return true;
  };
  double best = 0;
  const int64_t total = (int64_t(rounds) + kBatch - 1) / kBatch * kBatch;
  parallel_for(2, [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) {
      if (i == 1) {  // the answer
        for (int64_t r = 0; r < total; ++r) {
          if (!wait_for(2 * r + 1)) return;
          flag.value.store(2 * r + 2, std::memory_order_release);
        }
        continue;
      }
      for (int64_t r0 = 0; r0 < total; r0 += kBatch) {
        const auto t0 = std::chrono::steady_clock::now();
        for (int64_t r = r0; r < r0 + kBatch; ++r) {
          flag.value.store(2 * r + 1, std::memory_order_release);
          if (!wait_for(2 * r + 2)) return;
        }
        const double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
        best = best > 0 ? std::min(best, ns / kBatch) : ns / kBatch;
      }
      stop.store(true, std::memory_order_relaxed);  // done: the answer need not wait for more
    }
  });
  return best;
}

void ThreadPool::parallel_for(size_t n, const std::function<void(size_t, size_t)>& fn, size_t grain) {
  if (n == 0) return;
  grain = std::max<size_t>(grain, 1);
  if (n_threads_ == 1 || n <= grain) {
    fn(0, n);
    return;
  }
  const size_t grains = (n + grain - 1) / grain;
  if (grains > UINT32_MAX) {  // the claim counter holds 32-bit grain indices
    const size_t half = grains / 2 * grain;
    parallel_for(half, fn, grain);
    parallel_for(n - half, [&](size_t b, size_t e) { fn(half + b, half + e); }, grain);
    return;
  }
  const uint32_t total = uint32_t(grains);
  job_ = &fn;
  job_n_ = n;
  job_grain_ = grain;
  done_grains_.store(0, std::memory_order_relaxed);
  // Thread i's share: the i-th contiguous slice. Stored after the job: a
  // claim (acquire) then sees the job it belongs to.
  for (unsigned i = 0; i < n_threads_; ++i)
    shares_[i].range.store(pack_range(uint32_t(uint64_t(total) * i / n_threads_),
                                      uint32_t(uint64_t(total) * (i + 1) / n_threads_)),
                           std::memory_order_release);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  generation_.notify_all();
  claim_chunks(0);
  for (int spin = 0; done_grains_.load(std::memory_order_acquire) != total; ++spin) {
    if (spin < kSpinIterations)
      cpu_relax();
    else
      std::this_thread::yield();
  }
}

}  // namespace minnow
