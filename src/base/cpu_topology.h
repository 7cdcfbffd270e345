// Which CPUs this process may run on, grouped by physical core (Linux sysfs
// topology inside the sched_getaffinity mask), so that thread counts default
// to physical cores and pool workers can be pinned one per core.
#pragma once

#include <string>
#include <vector>

namespace minnow {

struct CpuTopology {
  // Allowed CPU ids, the first hardware thread of every physical core
  // first (in core order), then the second threads, and so on.
  std::vector<int> cpus;
  unsigned physical_cores = 1;
  // What the threads may use at once: physical cores, lowered to a cgroup
  // CPU quota when there is one (a container limited to 2 CPUs on a
  // 64-core host must not start 32 spinning threads).
  unsigned usable_cores = 1;
};

// CPUs a cgroup quota allows, rounded up: cgroup v2's cpu.max text
// ("max 100000" or "QUOTA PERIOD") or v1's cfs_quota_us and cfs_period_us
// (quota -1: none). 0 when there is no limit or the text does not parse.
unsigned cgroup_cpu_limit_v2(const std::string& cpu_max);
unsigned cgroup_cpu_limit_v1(long long quota_us, long long period_us);

// Read once per call; falls back to hardware_concurrency CPUs, one per core,
// where sysfs or the affinity mask are unavailable.
CpuTopology cpu_topology();

}  // namespace minnow
