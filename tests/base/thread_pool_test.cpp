// The pool covers every index exactly once, the topology lists only CPUs
// this process may use, and pinned workers really run on their one CPU.
#include <gtest/gtest.h>

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <limits>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/cpu_topology.h"
#include "base/float_mode.h"
#include "base/thread_pool.h"

namespace minnow {
namespace {

TEST(ThreadPool, EveryIndexRunsExactlyOnce) {
  ThreadPool pool(3);
  for (size_t n : {1, 2, 7, 64, 1000, 100003})
    for (size_t grain : {1, 8, 33}) {
      std::vector<std::atomic<int>> hits(n);
      pool.parallel_for(n, [&](size_t b, size_t e) {
        EXPECT_TRUE(b % grain == 0) << b;
        for (size_t i = b; i < e; ++i) hits[i].fetch_add(1);
      }, grain);
      for (size_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << "n=" << n << " grain=" << grain << " i=" << i;
    }
}

// Each thread's ranges, in the order it ran them.
struct RangesByThread {
  std::mutex mu;
  std::vector<std::pair<std::thread::id, std::pair<size_t, size_t>>> ranges;
  void add(size_t b, size_t e) {
    std::lock_guard<std::mutex> lock(mu);
    ranges.push_back({std::this_thread::get_id(), {b, e}});
  }
  // How often a thread's next range does not start where its last one ended.
  size_t jumps() const {
    std::vector<std::pair<std::thread::id, size_t>> last_end;
    size_t n = 0;
    for (const auto& [id, r] : ranges) {
      auto it = std::find_if(last_end.begin(), last_end.end(), [&](const auto& l) { return l.first == id; });
      if (it == last_end.end()) {
        last_end.push_back({id, r.second});
        continue;
      }
      n += r.first != it->second;
      it->second = r.second;
    }
    return n;
  }
};

// Shares and stealing: a thread walks its own slice front to back (so the
// prefetchers see one stream), and only a steal, which halves what is left
// of another share, makes it jump. No range exceeds half a share; every
// pass ends on short ranges.
TEST(ThreadPool, EachThreadWalksItsShareInOrderAndStealsHalves) {
  ThreadPool pool(2);
  for (size_t grain : {size_t(1), size_t(5)}) {
    const size_t grains = 1000, n = grains * grain - 2;  // a short last grain
    std::vector<size_t> jumps;
    for (int round = 0; round < 21; ++round) {
      RangesByThread log;
      pool.parallel_for(n, [&](size_t b, size_t e) {
        log.add(b, e);
        volatile size_t spin = 0;  // a little work per grain
        for (size_t i = 0; i < (e - b) * 200; ++i) spin = spin + i;
      }, grain);
      auto sorted = log.ranges;
      std::sort(sorted.begin(), sorted.end(), [](const auto& x, const auto& y) { return x.second < y.second; });
      ASSERT_GE(sorted.size(), 8u);
      EXPECT_EQ(sorted.front().second.first, 0u);
      EXPECT_EQ(sorted.back().second.second, n);
      for (size_t i = 1; i < sorted.size(); ++i)
        EXPECT_EQ(sorted[i].second.first, sorted[i - 1].second.second) << "gap or overlap at " << sorted[i].second.first;
      size_t smallest = SIZE_MAX;
      for (const auto& [id, r] : log.ranges) {
        const size_t g = (r.second - r.first + grain - 1) / grain;
        EXPECT_LE(g, grains / 4) << "more than half a share at " << r.first;
        smallest = std::min(smallest, g);
      }
      EXPECT_EQ(smallest, 1u);
      jumps.push_back(log.jumps());
    }
    // One shared counter (the pool before shares) interleaved the threads:
    // 14-19 of ~24 ranges were jumps. With shares only steals jump: none
    // when the threads keep pace, about log2(500) = 9 when one thread keeps
    // finishing first and halving what the other has left.
    std::nth_element(jumps.begin(), jumps.begin() + 10, jumps.end());
    EXPECT_LE(jumps[10], 10u) << "median jumps per pass";
  }
}

// A worker that stalls inside its first range (descheduled on a busy
// machine) holds only that range: the calling thread takes the rest of
// its share, half at a time from the back.
TEST(ThreadPool, AStalledWorkerKeepsOnlyItsFirstRange) {
  ThreadPool pool(2);
  const size_t n = 1000;
  const std::thread::id caller = std::this_thread::get_id();
  std::atomic<size_t> done_by_caller{0};
  std::atomic<size_t> stalled_range{0};
  RangesByThread log;
  pool.parallel_for(n, [&](size_t b, size_t e) {
    log.add(b, e);
    if (std::this_thread::get_id() == caller) {
      // The caller's first range lasts until the worker has claimed (and
      // stalls in) its own first range: a fixed sleep could end before a
      // descheduled worker woke up on a loaded machine (at most 10 s).
      if (b == 0) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (stalled_range.load() == 0 && std::chrono::steady_clock::now() < deadline)
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      done_by_caller.fetch_add(e - b);
      return;
    }
    // The worker waits (at most 10 s) for the caller to finish all but this range.
    stalled_range.fetch_add(e - b);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (done_by_caller.load() + stalled_range.load() < n && std::chrono::steady_clock::now() < deadline)
      std::this_thread::yield();
  });
  EXPECT_EQ(done_by_caller.load() + stalled_range.load(), n);
  // The worker's first claim is half of its share, from the front.
  EXPECT_GT(stalled_range.load(), 0u) << "the worker never claimed: nothing was tested";
  EXPECT_LE(stalled_range.load(), n / 4);
  // The caller walked its half [0, 500) in order before taking any of the worker's.
  size_t at = 0;
  for (const auto& [id, r] : log.ranges) {
    if (id != caller) {
      EXPECT_EQ(r.first, n / 2) << "the worker's first range";
      continue;
    }
    if (at == n / 2) break;
    EXPECT_EQ(r.first, at);
    at = r.second;
  }
  EXPECT_EQ(at, n / 2);
}

TEST(ThreadPool, ParallelRowsInsideAJobRunsInline) {
  ThreadPool pool(2);
  ScopedThreadPool use(&pool);
  std::vector<std::atomic<int>> hits(64 * 100);
  parallel_rows(64, [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) {
      ScopedThreadPool inner(&pool);  // as a forward pass inside a job would see it
      parallel_rows(100, [&](size_t b2, size_t e2) {
        for (size_t j = b2; j < e2; ++j) hits[i * 100 + j].fetch_add(1);
      });
    }
  });
  for (size_t i = 0; i < hits.size(); ++i) ASSERT_EQ(hits[i].load(), 1) << i;
}

// A denormal product, computed where the compiler cannot fold it.
float tiny_product() {
  volatile float a = 1e-20f, b = 1e-20f;
  return a * b;  // 1e-40: below FLT_MIN
}

TEST(FloatMode, ScopedFlushDenormalsFlushesAndRestores) {
  ASSERT_FALSE(denormals_flushed_on_this_thread());
  EXPECT_GT(tiny_product(), 0.0f);
  {
    ScopedFlushDenormals flush;
    EXPECT_TRUE(denormals_flushed_on_this_thread());
    EXPECT_EQ(tiny_product(), 0.0f);
    volatile float denormal = std::numeric_limits<float>::denorm_min();
    EXPECT_EQ(denormal * 1.0f, 0.0f);  // read as zero
  }
  EXPECT_FALSE(denormals_flushed_on_this_thread());
  EXPECT_GT(tiny_product(), 0.0f);
}

TEST(FloatMode, PoolWorkersFlushDenormals) {
  ThreadPool pool(3);
  std::mutex mu;
  std::set<std::thread::id> flushed, all;
  const auto caller = std::this_thread::get_id();
  // Enough small jobs that the workers take part.
  for (int round = 0; round < 200 && all.size() < 3; ++round)
    pool.parallel_for(64, [&](size_t, size_t) {
      std::this_thread::sleep_for(std::chrono::microseconds(50));
      std::lock_guard<std::mutex> lock(mu);
      all.insert(std::this_thread::get_id());
      if (denormals_flushed_on_this_thread()) flushed.insert(std::this_thread::get_id());
    });
  all.erase(caller);
  ASSERT_FALSE(all.empty());
  for (const auto& id : all) EXPECT_TRUE(flushed.count(id));
  EXPECT_FALSE(flushed.count(caller));  // the caller's mode is its own
}

TEST(CpuTopology, ListsAllowedCpusOncePhysicalCoresFirst) {
  const CpuTopology t = cpu_topology();
  ASSERT_FALSE(t.cpus.empty());
  EXPECT_GE(t.physical_cores, 1u);
  EXPECT_LE(t.physical_cores, t.cpus.size());
  cpu_set_t allowed;
  ASSERT_EQ(sched_getaffinity(0, sizeof(allowed), &allowed), 0);
  EXPECT_EQ(size_t(CPU_COUNT(&allowed)), t.cpus.size());
  std::set<int> seen;
  for (int c : t.cpus) {
    EXPECT_TRUE(CPU_ISSET(c, &allowed)) << c;
    EXPECT_TRUE(seen.insert(c).second) << "listed twice: " << c;
  }
  EXPECT_GE(t.usable_cores, 1u);
  EXPECT_LE(t.usable_cores, t.physical_cores);
  EXPECT_EQ(ThreadPool::default_thread_count(), t.usable_cores);
}

TEST(CpuTopology, CgroupQuotasRoundUpAndUnlimitedIsZero) {
  EXPECT_EQ(cgroup_cpu_limit_v2("max 100000\n"), 0u);
  EXPECT_EQ(cgroup_cpu_limit_v2("200000 100000\n"), 2u);
  EXPECT_EQ(cgroup_cpu_limit_v2("150000 100000"), 2u);  // 1.5 CPUs: two threads
  EXPECT_EQ(cgroup_cpu_limit_v2("50000 100000"), 1u);
  EXPECT_EQ(cgroup_cpu_limit_v2(""), 0u);
  EXPECT_EQ(cgroup_cpu_limit_v2("lots 100000"), 0u);
  EXPECT_EQ(cgroup_cpu_limit_v2("100000 0"), 0u);
  EXPECT_EQ(cgroup_cpu_limit_v1(-1, 100000), 0u);
  EXPECT_EQ(cgroup_cpu_limit_v1(400000, 100000), 4u);
  EXPECT_EQ(cgroup_cpu_limit_v1(1, 100000), 1u);
}

TEST(ThreadPool, PinnedWorkersRunOnTheirCpu) {
  const CpuTopology t = cpu_topology();
  if (t.cpus.size() < 2) GTEST_SKIP() << "one CPU: nothing to pin";
  if (const char* pin = std::getenv("MINNOW_PIN"); pin && std::string(pin) == "0") GTEST_SKIP() << "MINNOW_PIN=0";
  ThreadPool pool(2);
  ASSERT_EQ(pool.pinned_cpus().size(), 1u);
  EXPECT_EQ(pool.pinned_cpus()[0], t.cpus[1]);
  // Slow chunks so the worker surely takes some; each reports its mask.
  const std::thread::id caller = std::this_thread::get_id();
  std::mutex mu;
  std::vector<int> worker_mask_sizes, worker_cpus;
  pool.parallel_for(64, [&](size_t, size_t) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (std::this_thread::get_id() == caller) return;
    cpu_set_t mine;
    CPU_ZERO(&mine);
    ASSERT_EQ(sched_getaffinity(0, sizeof(mine), &mine), 0);
    std::lock_guard<std::mutex> lock(mu);
    worker_mask_sizes.push_back(CPU_COUNT(&mine));
    worker_cpus.push_back(sched_getcpu());
  });
  ASSERT_FALSE(worker_cpus.empty());
  for (size_t i = 0; i < worker_cpus.size(); ++i) {
    EXPECT_EQ(worker_mask_sizes[i], 1);
    EXPECT_EQ(worker_cpus[i], t.cpus[1]);
  }
}

TEST(ThreadPool, PoolsPinToDifferentCpusAndReleaseThem) {
  if (const char* pin = std::getenv("MINNOW_PIN"); pin && std::string(pin) == "0") GTEST_SKIP() << "MINNOW_PIN=0";
  const CpuTopology t = cpu_topology();
  if (t.cpus.size() < 2) GTEST_SKIP() << "one CPU: nothing to pin";
  std::set<int> held;
  {
    std::vector<std::unique_ptr<ThreadPool>> pools;
    // As many 2-thread pools as there are CPUs besides cpus[0]: each gets its own.
    for (size_t i = 1; i < t.cpus.size(); ++i) {
      pools.push_back(std::make_unique<ThreadPool>(2));
      ASSERT_EQ(pools.back()->pinned_cpus().size(), 1u) << "pool " << i;
      EXPECT_TRUE(held.insert(pools.back()->pinned_cpus()[0]).second) << "two pools on one CPU";
      EXPECT_NE(pools.back()->pinned_cpus()[0], t.cpus[0]);
    }
    ThreadPool extra(2);  // none left: not pinned, and still correct
    EXPECT_TRUE(extra.pinned_cpus().empty());
    std::atomic<int> n{0};
    extra.parallel_for(10, [&](size_t b, size_t e) { n += int(e - b); });
    EXPECT_EQ(n.load(), 10);
  }
  ThreadPool again(2);  // the pools above gave their CPUs back
  EXPECT_EQ(again.pinned_cpus().size(), 1u);
}

TEST(ThreadPool, MorePoolThreadsThanCpusAreNotPinned) {
  const CpuTopology t = cpu_topology();
  ThreadPool pool(unsigned(t.cpus.size()) + 1);
  EXPECT_TRUE(pool.pinned_cpus().empty());
  std::atomic<size_t> sum{0};
  pool.parallel_for(100, [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) sum += i;
  });
  EXPECT_EQ(sum.load(), 4950u);
}

}  // namespace
}  // namespace minnow
