#include "kernels/isa.h"

#include <cstdlib>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace minnow::kernels {
namespace {

#if defined(__x86_64__)
// clang's __builtin_cpu_supports does not know "f16c": ask CPUID leaf 1 (ECX bit 29).
bool has_f16c() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  return __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & (1u << 29)) != 0;
}
#endif

}  // namespace

std::string_view isa_name(Isa isa) {
  switch (isa) {
    case Isa::kScalar: return "scalar";
    case Isa::kAvx2: return "avx2";
    case Isa::kAvx512: return "avx512";
  }
  return "unknown";
}

std::optional<Isa> isa_from_name(std::string_view name) {
  for (int i = 0; i < kIsaCount; ++i)
    if (isa_name(Isa(i)) == name) return Isa(i);
  return std::nullopt;
}

bool isa_supported(Isa isa) {
#if defined(__x86_64__)
  __builtin_cpu_init();
  switch (isa) {
    case Isa::kScalar: return true;
    case Isa::kAvx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && has_f16c();
    case Isa::kAvx512:
      return isa_supported(Isa::kAvx2) && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
  }
  return false;
#else
  return isa == Isa::kScalar;
#endif
}

Isa best_supported_isa() {
  for (int i = kIsaCount - 1; i > 0; --i)
    if (isa_supported(Isa(i))) return Isa(i);
  return Isa::kScalar;
}

Isa choose_isa() {
  if (const char* forced = std::getenv("MINNOW_ISA")) {
    if (auto isa = isa_from_name(forced); isa && isa_supported(*isa)) return *isa;
  }
  return best_supported_isa();
}

}  // namespace minnow::kernels
