// A fixed set of worker threads for data-parallel loops (matmul rows,
// attention heads). Each thread owns a contiguous slice of the range and
// claims it front to back, half of what is left at a time, so its memory
// reads form one stream; a thread whose slice is done steals the back half
// of the fullest other slice, so the pass ends with the threads close
// together, and a worker the OS has not scheduled (shared, oversubscribed
// machines) costs little: the others take what it has not claimed.
// parallel_for returns when all are done.
// Between jobs workers spin briefly (a decode step issues hundreds of small
// jobs a few microseconds apart) and then sleep on a futex so an idle pool
// costs no CPU.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

namespace minnow {

class ThreadPool {
 public:
  // n_threads counts the calling thread: a pool of 1 starts no workers.
  // 0 means default_thread_count().
  explicit ThreadPool(unsigned n_threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  unsigned size() const { return n_threads_; }
  // The CPU each worker was pinned to (empty when pinning was off, refused,
  // or other pools' workers left too few free CPUs).
  const std::vector<int>& pinned_cpus() const { return pinned_cpus_; }

  // Runs fn(begin, end) over disjoint ranges covering [0, n), each a
  // multiple of `grain` long except the last, on the calling thread and the
  // workers. Not reentrant: fn must not call parallel_for on the same pool.
  void parallel_for(size_t n, const std::function<void(size_t, size_t)>& fn, size_t grain = 1);

  // Nanoseconds for one message from one of the pool's threads to another
  // and back (a flag bounced up to `rounds` times; the fastest batch of 16
  // counts): ~50-100 where the two share a last-level cache, several
  // hundred where they sit on different dies (Zen's CCDs), which is what
  // every hand-off costs. 0 for a pool of one, or when no batch finished
  // within ~200 ms (an oversubscribed machine).
  double round_trip_ns(int rounds = 20000);

  // Physical cores this process may use, within a cgroup CPU quota (cpu_topology()), at least 1.
  static unsigned default_thread_count();

 private:
  // Thread 0 is the caller of parallel_for, 1.. the workers.
  void worker_loop(unsigned self);
  void claim_chunks(unsigned self);
  size_t claim_own(unsigned self);
  size_t steal(unsigned self);
  void run_grains(size_t begin, size_t end);

  unsigned n_threads_;
  std::vector<std::thread> workers_;
  std::vector<int> pinned_cpus_;
  // The current job. Written only while no grain is claimable or running, read
  // only by a thread that holds a claimed range, so the claim orders them.
  const std::function<void(size_t, size_t)>* job_ = nullptr;
  size_t job_n_ = 0, job_grain_ = 1;
  // Each thread's unclaimed grains, (end << 32) | begin, a cache line each.
  struct alignas(64) Share {
    std::atomic<uint64_t> range{0};
  };
  std::unique_ptr<Share[]> shares_;
  std::atomic<uint32_t> done_grains_{0};
  std::atomic<uint32_t> generation_{0};  // bumped once per job; idle workers wait on it
  std::atomic<bool> stop_{false};
};

// The pool matmul and attention use on this thread (nullptr: run serially).
// An inference context installs its pool for the duration of a forward pass.
ThreadPool* current_thread_pool();

// fn(begin, end) over [0, n): split over the current thread's pool when it
// has one and n reaches min_parallel, inline otherwise (per-token work that
// is too small to hand off one token at a time). Called from inside a pool
// job it runs inline: the pool is busy with that job.
void parallel_rows(size_t n, const std::function<void(size_t, size_t)>& fn, size_t min_parallel = 2);

class ScopedThreadPool {
 public:
  explicit ScopedThreadPool(ThreadPool* pool);
  ~ScopedThreadPool();
  ScopedThreadPool(const ScopedThreadPool&) = delete;
  ScopedThreadPool& operator=(const ScopedThreadPool&) = delete;

 private:
  ThreadPool* previous_;
};

}  // namespace minnow
