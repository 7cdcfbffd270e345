#include "base/cpu_topology.h"

#include <sched.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
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

long long read_number(const char* path) {
  std::ifstream in(path);
  long long v = 0;
  if (!(in >> v)) return 0;
  return v;
}

unsigned cgroup_cpu_limit() {
  std::ifstream v2("/sys/fs/cgroup/cpu.max");
  if (v2) {
    std::string text((std::istreambuf_iterator<char>(v2)), std::istreambuf_iterator<char>());
    return cgroup_cpu_limit_v2(text);
  }
  for (const char* dir : {"/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/cpu"}) {
    const std::string d(dir);
    const long long quota = read_number((d + "/cpu.cfs_quota_us").c_str());
    const long long period = read_number((d + "/cpu.cfs_period_us").c_str());
    if (period > 0) return cgroup_cpu_limit_v1(quota, period);
  }
  return 0;
}

}  // namespace

unsigned cgroup_cpu_limit_v1(long long quota_us, long long period_us) {
  if (quota_us <= 0 || period_us <= 0) return 0;
  return unsigned(std::min<long long>((quota_us + period_us - 1) / period_us, 1 << 20));
}

unsigned cgroup_cpu_limit_v2(const std::string& cpu_max) {
  std::istringstream in(cpu_max);
  std::string quota;
  long long period = 0;
  if (!(in >> quota >> period) || quota == "max") return 0;
  char* end = nullptr;
  const long long q = std::strtoll(quota.c_str(), &end, 10);
  if (end == quota.c_str() || *end != '\0') return 0;
  return cgroup_cpu_limit_v1(q, period);
}

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
  const unsigned limit = cgroup_cpu_limit();
  t.usable_cores = limit ? std::min(t.physical_cores, limit) : t.physical_cores;
  return t;
}

}  // namespace minnow
