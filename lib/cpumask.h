// CpuMask: a set of CPU ids (0 .. kMaxCpus-1) in one machine word.
//
// Used for affinity, IPI targets and the simulator's bookkeeping. A plain value type; the
// atomic variant below lets CPUs publish a mask that others read or update lock-free.
#pragma once

#include <bit>
#include <cstdint>

#include "lib/atomic.h"

namespace lichen {

// The largest CPU count Lichen supports (the simulator goes to 64; QEMU virt to 8 here).
inline constexpr uint32_t kMaxCpus = 64;

class CpuMask {
 public:
  constexpr CpuMask() = default;
  constexpr explicit CpuMask(uint64_t bits) : bits_(bits) {}

  // The set {cpu}.
  static constexpr CpuMask Single(uint32_t cpu) { return CpuMask(uint64_t{1} << cpu); }
  // The set {0, 1, ..., count-1}.
  static constexpr CpuMask FirstN(uint32_t count) {
    return CpuMask(count >= kMaxCpus ? ~uint64_t{0} : (uint64_t{1} << count) - 1);
  }

  constexpr bool Test(uint32_t cpu) const { return cpu < kMaxCpus && ((bits_ >> cpu) & 1) != 0; }
  constexpr void Set(uint32_t cpu) { bits_ |= uint64_t{1} << cpu; }
  constexpr void Clear(uint32_t cpu) { bits_ &= ~(uint64_t{1} << cpu); }
  constexpr bool Empty() const { return bits_ == 0; }
  constexpr uint32_t Count() const { return static_cast<uint32_t>(std::popcount(bits_)); }
  constexpr uint64_t bits() const { return bits_; }

  // Lowest CPU in the set, or kMaxCpus when empty.
  constexpr uint32_t First() const { return static_cast<uint32_t>(std::countr_zero(bits_)); }
  // Lowest CPU in the set strictly greater than `cpu`, or kMaxCpus when none.
  constexpr uint32_t Next(uint32_t cpu) const {
    if (cpu + 1 >= kMaxCpus) return kMaxCpus;
    return CpuMask(bits_ & (~uint64_t{0} << (cpu + 1))).First();
  }

  constexpr CpuMask operator&(CpuMask o) const { return CpuMask(bits_ & o.bits_); }
  constexpr CpuMask operator|(CpuMask o) const { return CpuMask(bits_ | o.bits_); }
  constexpr CpuMask Without(CpuMask o) const { return CpuMask(bits_ & ~o.bits_); }
  constexpr bool operator==(const CpuMask&) const = default;

  // Range-for over the CPUs in the set, lowest first.
  class Iterator {
   public:
    constexpr explicit Iterator(uint64_t rest) : rest_(rest) {}
    constexpr uint32_t operator*() const { return static_cast<uint32_t>(std::countr_zero(rest_)); }
    constexpr Iterator& operator++() {
      rest_ &= rest_ - 1;
      return *this;
    }
    constexpr bool operator!=(const Iterator& o) const { return rest_ != o.rest_; }

   private:
    uint64_t rest_;
  };
  constexpr Iterator begin() const { return Iterator(bits_); }
  constexpr Iterator end() const { return Iterator(0); }

 private:
  uint64_t bits_ = 0;
};

// A CpuMask that several CPUs update concurrently (for example "CPUs with a pending request").
class AtomicCpuMask {
 public:
  CpuMask Load(std::memory_order order) const { return CpuMask(bits_.Load(order)); }
  // Adds `cpu`; returns the mask as it was before.
  CpuMask Add(uint32_t cpu, std::memory_order order) {
    return CpuMask(bits_.FetchOr(uint64_t{1} << cpu, order));
  }
  // Removes `cpu`; returns the mask as it was before.
  CpuMask Remove(uint32_t cpu, std::memory_order order) {
    return CpuMask(bits_.FetchAnd(~(uint64_t{1} << cpu), order));
  }
  // Empties the mask and returns what it held.
  CpuMask TakeAll(std::memory_order order) { return CpuMask(bits_.Exchange(0, order)); }

 private:
  Atomic<uint64_t> bits_{0};
};

}  // namespace lichen
