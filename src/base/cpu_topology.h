// Which CPUs this process may run on, grouped by physical core (Linux sysfs
// topology inside the sched_getaffinity mask), so that thread counts default
// to physical cores and pool workers can be pinned one per core.
#pragma once

#include <vector>

namespace minnow {

struct CpuTopology {
  // Allowed CPU ids, the first hardware thread of every physical core
  // first (in core order), then the second threads, and so on.
  std::vector<int> cpus;
  unsigned physical_cores = 1;
};

// Read once per call; falls back to hardware_concurrency CPUs, one per core,
// where sysfs or the affinity mask are unavailable.
CpuTopology cpu_topology();

// Pins the calling thread to one CPU; false when the OS refused.
bool pin_current_thread(int cpu);

}  // namespace minnow
