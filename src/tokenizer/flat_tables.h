// Open-addressing hash tables for the encoders' hot loops. std::unordered_map
// chases a node pointer per probe and divides by a prime; these keep keys in
// one array (linear probing, power-of-two capacity), which made merge
// look-ups several times faster on 32k-150k-entry vocabularies.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace minnow {

// A fast 64-bit hash for short byte strings (token texts are mostly < 16 bytes).
inline uint64_t hash_bytes(std::string_view s) {
  constexpr uint64_t kMul = 0x9E3779B97F4A7C15ull;
  uint64_t h = s.size() * kMul;
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = (h ^ w) * kMul;
    h ^= h >> 29;
  }
  if (i < s.size()) {
    uint64_t w = 0;
    std::memcpy(&w, s.data() + i, s.size() - i);
    h = (h ^ w) * kMul;
    h ^= h >> 29;
  }
  return h ^ (h >> 32);
}

inline uint64_t mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xFF51AFD7ED558CCDull;
  x ^= x >> 33;
  x *= 0xC4CEB9FE1A85EC53ull;
  return x ^ (x >> 33);
}

// text -> id. The first insertion of a text wins.
class TokenTable {
 public:
  void reserve(size_t n) {
    size_t cap = 16;
    while (cap < n * 2) cap <<= 1;
    slots_.assign(cap, Slot{});
    mask_ = cap - 1;
  }
  void clear() {
    slots_.clear();
    pool_.clear();
    mask_ = 0;
    count_ = 0;
  }
  size_t size() const { return count_; }
  void insert(std::string_view text, int32_t id) {
    if ((count_ + 1) * 2 > slots_.size()) grow();
    const uint64_t h = hash_bytes(text);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.id < 0) {
        s = {h, uint32_t(pool_.size()), uint32_t(text.size()), id};
        pool_.append(text);
        ++count_;
        return;
      }
      if (s.hash == h && view(s) == text) return;
    }
  }
  int32_t find(std::string_view text) const {
    if (slots_.empty()) return -1;
    const uint64_t h = hash_bytes(text);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.id < 0) return -1;
      if (s.hash == h && s.len == text.size() && std::memcmp(pool_.data() + s.offset, text.data(), text.size()) == 0)
        return s.id;
    }
  }

 private:
  struct Slot {
    uint64_t hash = 0;
    uint32_t offset = 0;
    uint32_t len = 0;
    int32_t id = -1;
  };
  std::string_view view(const Slot& s) const { return std::string_view(pool_).substr(s.offset, s.len); }
  void grow() {
    std::vector<Slot> old = std::move(slots_);
    reserve(old.empty() ? 8 : old.size());
    for (const Slot& s : old)
      if (s.id >= 0)
        for (size_t i = s.hash & mask_;; i = (i + 1) & mask_)
          if (slots_[i].id < 0) {
            slots_[i] = s;
            break;
          }
  }
  std::vector<Slot> slots_;
  std::string pool_;
  size_t mask_ = 0;
  size_t count_ = 0;
};

// (left id, right id) -> (rank, merged id). The first insertion of a pair wins.
class MergeTable {
 public:
  struct Merge {
    int32_t rank;
    int32_t result;
  };
  void build(size_t n) {
    size_t cap = 16;
    while (cap < n * 2) cap <<= 1;
    slots_.assign(cap, Slot{});
    mask_ = cap - 1;
  }
  // Call build() with the final count first.
  void insert(int32_t left, int32_t right, Merge m) {
    const uint64_t key = pack(left, right);
    for (size_t i = mix64(key) & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.key == kEmpty) {
        s = {key, m};
        return;
      }
      if (s.key == key) return;
    }
  }
  const Merge* find(int32_t left, int32_t right) const {
    const uint64_t key = pack(left, right);
    for (size_t i = mix64(key) & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.key == key) return &s.merge;
      if (s.key == kEmpty) return nullptr;
    }
  }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t(0);
  static uint64_t pack(int32_t l, int32_t r) { return (uint64_t(uint32_t(l)) << 32) | uint32_t(r); }
  struct Slot {
    uint64_t key = kEmpty;
    Merge merge{};
  };
  std::vector<Slot> slots_{Slot{}};
  size_t mask_ = 0;
};

}  // namespace minnow
