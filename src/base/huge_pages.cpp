#include "base/huge_pages.h"

#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <string>

namespace minnow {
namespace {

constexpr size_t kHugePage = size_t(2) << 20;
#ifndef MADV_COLLAPSE
constexpr int MADV_COLLAPSE = 25;  // Linux 6.1; older headers lack it
#endif

size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

}  // namespace

bool huge_pages_enabled() {
  static const bool enabled = [] {
    const char* env = std::getenv("MINNOW_HUGE_PAGES");
    return !(env && std::strcmp(env, "0") == 0);
  }();
  return enabled;
}

void HugePageRelease::operator()(uint8_t* p) const {
  if (p) ::munmap(p, bytes);
}

HugePageBuffer allocate_huge_pages(size_t bytes) {
  if (bytes == 0 || bytes > (SIZE_MAX >> 2)) return HugePageBuffer(nullptr, HugePageRelease{0});
  const size_t size = round_up(bytes, kHugePage);
  // Map one huge page more than needed, then trim both ends to a 2 MB boundary.
  void* raw = ::mmap(nullptr, size + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return HugePageBuffer(nullptr, HugePageRelease{0});
  const uintptr_t start = uintptr_t(raw), aligned = round_up(start, kHugePage);
  if (aligned > start) ::munmap(raw, aligned - start);
  const uintptr_t tail = aligned + size, end = start + size + kHugePage;
  if (end > tail) ::munmap(reinterpret_cast<void*>(tail), end - tail);
  uint8_t* p = reinterpret_cast<uint8_t*>(aligned);
  if (huge_pages_enabled()) (void)::madvise(p, size, MADV_HUGEPAGE);
  return HugePageBuffer(p, HugePageRelease{size});
}

uint64_t huge_page_bytes_in_smaps(std::istream& in) {
  uint64_t total_kb = 0, kb = 0;
  std::string key, unit;
  while (in >> key) {
    if ((key == "AnonHugePages:" || key == "FilePmdMapped:" || key == "ShmemPmdMapped:") && in >> kb >> unit)
      total_kb += kb;
    else
      in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return total_kb * 1024;
}

uint64_t resident_huge_page_bytes() {
  std::ifstream in("/proc/self/smaps_rollup");
  return in ? huge_page_bytes_in_smaps(in) : 0;
}

std::string huge_page_mode_in(const std::string& line) {
  const size_t open = line.find('['), close = line.find(']', open);
  return open == std::string::npos || close == std::string::npos ? "" : line.substr(open + 1, close - open - 1);
}

std::string transparent_huge_page_mode() {
  std::ifstream in("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string line;
  return std::getline(in, line) ? huge_page_mode_in(line) : "";
}

void collapse_to_huge_pages(const void* p, size_t bytes) {
  if (!huge_pages_enabled()) return;
  const uintptr_t begin = round_up(uintptr_t(p), kHugePage), end = (uintptr_t(p) + bytes) / kHugePage * kHugePage;
  if (end <= begin) return;
  void* region = reinterpret_cast<void*>(begin);
  (void)::madvise(region, end - begin, MADV_HUGEPAGE);
  (void)::madvise(region, end - begin, MADV_COLLAPSE);
}

}  // namespace minnow
