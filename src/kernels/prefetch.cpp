#include "kernels/prefetch.h"

#include <charconv>
#include <cstdlib>
#include <cstring>
#include <string_view>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace minnow::kernels {
namespace {

constexpr size_t kDefaultAhead = 2048;
constexpr size_t kMaxAhead = 64 * 1024;

const char* env_value() { return std::getenv("MINNOW_PREFETCH"); }

size_t initial_prefetch() { return decode_prefetch_from_env(env_value(), default_decode_prefetch(cpu_model())); }

}  // namespace

CpuModel cpu_model() {
  CpuModel cpu;
#if defined(__x86_64__)
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(0, &eax, &ebx, &ecx, &edx)) return cpu;
  char vendor[13] = {};
  std::memcpy(vendor, &ebx, 4);
  std::memcpy(vendor + 4, &edx, 4);
  std::memcpy(vendor + 8, &ecx, 4);
  if (std::string_view(vendor) == "AuthenticAMD") cpu.vendor = CpuModel::Vendor::kAmd;
  if (std::string_view(vendor) == "GenuineIntel") cpu.vendor = CpuModel::Vendor::kIntel;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return cpu;
  const unsigned base_family = (eax >> 8) & 0xF, base_model = (eax >> 4) & 0xF;
  cpu.family = base_family == 0xF ? base_family + ((eax >> 20) & 0xFF) : base_family;
  cpu.model = base_family == 0xF || base_family == 0x6 ? (((eax >> 16) & 0xF) << 4) + base_model : base_model;
#endif
  return cpu;
}

bool is_zen4(const CpuModel& cpu) {
  if (cpu.vendor != CpuModel::Vendor::kAmd || cpu.family != 0x19) return false;
  const unsigned m = cpu.model;
  return (m >= 0x10 && m <= 0x1F) || (m >= 0x60 && m <= 0x7F) || (m >= 0xA0 && m <= 0xAF);
}

size_t default_decode_prefetch(const CpuModel& cpu) { return is_zen4(cpu) ? 0 : kDefaultAhead; }

size_t decode_prefetch_from_env(const char* value, size_t fallback) {
  if (!value) return fallback;
  const std::string_view v(value);
  if (v == "off") return 0;
  size_t bytes = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), bytes);
  if (ec != std::errc() || end != v.data() + v.size() || bytes % 64 != 0 || bytes > kMaxAhead) return fallback;
  return bytes;
}

size_t g_decode_prefetch_bytes = initial_prefetch();

void set_decode_prefetch_bytes(size_t bytes) { g_decode_prefetch_bytes = bytes; }

std::string decode_prefetch_description() {
  const size_t bytes = decode_prefetch_bytes();
  std::string s = bytes ? std::to_string(bytes) + " bytes ahead" : std::string("off");
  const char* env = env_value();
  if (env && decode_prefetch_from_env(env, kMaxAhead + 1) == bytes) return s + " (MINNOW_PREFETCH)";
  if (bytes == 0 && is_zen4(cpu_model())) return s + " (AMD Zen 4)";
  return s;
}

bool decode_pairs_in_512_bits(const CpuModel& cpu, const char* env) {
  if (env && std::string_view(env) == "256") return false;
  if (env && std::string_view(env) == "512") return true;
  return cpu.vendor == CpuModel::Vendor::kAmd;
}

}  // namespace minnow::kernels
