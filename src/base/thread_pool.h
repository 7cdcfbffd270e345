// A fixed set of worker threads for data-parallel loops (matmul rows,
// attention heads). parallel_for hands each thread one contiguous range and
// returns when all are done. Between jobs workers spin briefly (a decode step
// issues hundreds of small jobs a few microseconds apart) and then sleep on a
// futex so an idle pool costs no CPU.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
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

  // Splits [0, n) into size() ranges (multiples of `grain` except the last)
  // and runs fn(begin, end) for each, one on the calling thread. Not
  // reentrant: fn must not call parallel_for on the same pool.
  void parallel_for(size_t n, const std::function<void(size_t, size_t)>& fn, size_t grain = 1);

  // std::thread::hardware_concurrency(), at least 1.
  static unsigned default_thread_count();

 private:
  void worker_loop(unsigned index);
  void run_share(unsigned index);

  unsigned n_threads_;
  std::vector<std::thread> workers_;
  const std::function<void(size_t, size_t)>* job_ = nullptr;
  size_t job_n_ = 0, job_grain_ = 1;
  std::atomic<uint32_t> generation_{0};  // bumped once per job; workers wait on it
  std::atomic<uint32_t> pending_{0};     // workers still running the current job
  std::atomic<bool> stop_{false};
};

// The pool matmul and attention use on this thread (nullptr: run serially).
// An inference context installs its pool for the duration of a forward pass.
ThreadPool* current_thread_pool();

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
