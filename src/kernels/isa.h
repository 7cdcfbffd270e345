// Which instruction-set path the kernels take. Chosen once per process from
// CPUID; MINNOW_ISA=scalar|avx2|avx512 forces one (a forced path the CPU lacks
// falls back to the best one it has, so a forced run never crashes).
#pragma once

#include <optional>
#include <string_view>

namespace minnow::kernels {

enum class Isa : int { kScalar = 0, kAvx2 = 1, kAvx512 = 2 };
inline constexpr int kIsaCount = 3;

std::string_view isa_name(Isa isa);
std::optional<Isa> isa_from_name(std::string_view name);

// Whether this CPU can run the path: AVX2 needs AVX2+FMA+F16C; AVX-512 needs
// F, BW, VL and VNNI.
bool isa_supported(Isa isa);
Isa best_supported_isa();

// best_supported_isa(), or MINNOW_ISA when set and supported.
Isa choose_isa();

}  // namespace minnow::kernels
