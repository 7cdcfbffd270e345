// Overflow-safe arithmetic for sizes read from untrusted files.
#pragma once

#include <cstdint>
#include <optional>

namespace minnow {

inline std::optional<uint64_t> checked_add(uint64_t a, uint64_t b) {
  uint64_t r;
  if (__builtin_add_overflow(a, b, &r)) return std::nullopt;
  return r;
}

inline std::optional<uint64_t> checked_mul(uint64_t a, uint64_t b) {
  uint64_t r;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}

// Rounds up to a power-of-two alignment; nullopt on overflow.
inline std::optional<uint64_t> checked_align_up(uint64_t v, uint64_t alignment) {
  auto r = checked_add(v, alignment - 1);
  if (!r) return std::nullopt;
  return *r & ~(alignment - 1);
}

inline bool is_power_of_two(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

}  // namespace minnow
