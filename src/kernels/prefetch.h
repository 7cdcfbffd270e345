// How far ahead the decode kernels ask for the weight rows they stream
// (software prefetch), chosen once per process for this CPU.
//
// The right answer depends on the core, not on the ISA: asking 2 KB ahead
// lets the loads of later blocks overlap this block's arithmetic on Zen 3
// (tg128 Q4_0 47 -> 58 tokens/s) and on Intel's Sapphire Rapids, while on
// Zen 4 the hardware prefetchers already keep the stream going and the
// extra requests cost bandwidth (one core, qwen2.5-0.5b Q8_0: 56 -> 61
// tokens/s with none; docs/PERFORMANCE.md, tenth session).
// MINNOW_PREFETCH=<bytes> (0 or "off": none) overrides the choice, to
// measure it on a new machine.
//
// The other per-CPU choice of the decode kernels lives here too: the
// register width of one token's panel pairs (decode_pairs_in_512_bits).
#pragma once

#include <cstddef>
#include <string>

namespace minnow::kernels {

struct CpuModel {
  enum class Vendor { kOther, kIntel, kAmd } vendor = Vendor::kOther;
  unsigned family = 0, model = 0;  // CPUID's display family and model
};

// This CPU, from CPUID (kOther with zeros off x86).
CpuModel cpu_model();

// Whether the CPU is an AMD Zen 4 core (family 19h, models 10h-1Fh, 60h-7Fh,
// A0h-AFh: Genoa, Raphael, Phoenix, Bergamo).
bool is_zen4(const CpuModel& cpu);

// The distance this CPU gets without MINNOW_PREFETCH: 0 where it was
// measured to hurt (Zen 4), else 2048. CPUs not measured keep 2048, the
// distance every kernel was tuned with first.
size_t default_decode_prefetch(const CpuModel& cpu);

// MINNOW_PREFETCH's value: "off" or a byte count that is a multiple of 64
// up to 64 KiB; anything else is ignored (`fallback`).
size_t decode_prefetch_from_env(const char* value, size_t fallback);

// The distance in force (read in the kernels' loops), and a setter for
// tests and benchmarks that compare distances in one process.
extern size_t g_decode_prefetch_bytes;
inline size_t decode_prefetch_bytes() { return g_decode_prefetch_bytes; }
void set_decode_prefetch_bytes(size_t bytes);

// "2048 bytes ahead" or "off", and why ("AMD Zen 4", "MINNOW_PREFETCH"):
// what `minnow bench` prints beside its figures.
std::string decode_prefetch_description();

// Whether the AVX-512 table runs one token's panel pairs in 512-bit
// registers (both panels' blocks in one register: ~60% of the 256-bit
// form's instructions). Yes on AMD: on Zen 4 qwen2.5-0.5b Q4_0 and Q8_0
// decode gained 4-6% with the vCPUs on two CCDs (each core at its own
// memory limit, where the instructions per byte show) and 0-2% on one
// (32-token blocks alternated in one process; docs/PERFORMANCE.md,
// fifteenth session). No on Intel, where 512-bit
// decode kernels cost clock (Machine C). `env` (MINNOW_DECODE_WIDTH):
// "256" or "512" overrides; anything else is ignored.
bool decode_pairs_in_512_bits(const CpuModel& cpu, const char* env);

}  // namespace minnow::kernels
