// Memory for data that is streamed end to end again and again (weights in
// decode, the bandwidth probe), on 2 MB pages where the kernel allows.
//
// With 4 KB pages a stream crosses a page every 4 KB: each crossing is a TLB
// miss, and the hardware prefetchers stop at the boundary. On a 2-core
// AVX-512 Xeon guest the read probe went from 23 to 30 GB/s on 2 MB pages,
// and decode of qwen2.5-0.5b Q4_K_M from 49 to 56 tok/s (docs/PERFORMANCE.md).
// Linux's default THP mode ("madvise") grants them only to regions that ask.
// MINNOW_HUGE_PAGES=0 keeps 4 KB pages (to compare).
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>

namespace minnow {

struct HugePageRelease {
  size_t bytes = 0;
  void operator()(uint8_t* p) const;
};
using HugePageBuffer = std::unique_ptr<uint8_t[], HugePageRelease>;

// `bytes` of zeroed, 2 MB-aligned anonymous memory that asked for huge pages
// (faulted in as it is first written, as malloc's would be); nullptr when
// the system has no memory for it.
HugePageBuffer allocate_huge_pages(size_t bytes);

// Asks that the whole 2 MB pages inside [p, p + bytes), already written,
// be backed by huge pages now (MADV_COLLAPSE, Linux 6.1+); quietly does
// nothing where the kernel cannot. For memory another allocator handed out.
void collapse_to_huge_pages(const void* p, size_t bytes);

// Whether MINNOW_HUGE_PAGES allows asking.
bool huge_pages_enabled();

// Bytes of this process's memory that sit on 2 MB pages now (anonymous and
// file-backed, from /proc/self/smaps_rollup); 0 where that cannot be read.
uint64_t resident_huge_page_bytes();
// The same from smaps_rollup's text.
uint64_t huge_page_bytes_in_smaps(std::istream& smaps_rollup);

// The kernel's transparent-huge-page mode ("always", "madvise", "never"),
// or "" where /sys does not say.
std::string transparent_huge_page_mode();
// The bracketed word of /sys/kernel/mm/transparent_hugepage/enabled's line.
std::string huge_page_mode_in(const std::string& enabled_line);

}  // namespace minnow
