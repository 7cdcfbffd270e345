#include "base/cpu_topology.h"

#include <sched.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <utility>

namespace minnow {
namespace {

int read_topology_id(int cpu, const char* field) {
  std::ifstream in("/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/" + field);
  int v = -1;
  if (!(in >> v)) return -1;
  return v;
}

}  // namespace

CpuTopology cpu_topology() {
  CpuTopology t;
  std::vector<int> allowed;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &set)) allowed.push_back(c);
  }
  if (allowed.empty())
    for (unsigned c = 0; c < std::max(1u, std::thread::hardware_concurrency()); ++c) allowed.push_back(int(c));

  // (package, core) -> its allowed hardware threads, in CPU order.
  std::map<std::pair<int, int>, std::vector<int>> cores;
  for (int c : allowed) {
    const int pkg = read_topology_id(c, "physical_package_id"), core = read_topology_id(c, "core_id");
    // Without topology every CPU counts as its own core.
    cores[core < 0 ? std::make_pair(-1, c) : std::make_pair(pkg, core)].push_back(c);
  }
  for (size_t rank = 0; t.cpus.size() < allowed.size(); ++rank)
    for (const auto& [key, threads] : cores)
      if (rank < threads.size()) t.cpus.push_back(threads[rank]);
  t.physical_cores = unsigned(std::max<size_t>(1, cores.size()));
  return t;
}

bool pin_current_thread(int cpu) {
  if (cpu < 0 || cpu >= CPU_SETSIZE) return false;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return sched_setaffinity(0, sizeof(set), &set) == 0;
}

}  // namespace minnow
