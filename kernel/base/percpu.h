// PerCpu<T>: state that only its own CPU may touch.
//
// The only way in is Borrow(IrqsOff), which returns this CPU's T -- never another CPU's: no
// API takes a CPU id. The IrqsOff token (and the TA_REQ(g_irqs_off) annotation) proves that
// interrupts are masked, so no interrupt handler on this CPU can observe a half-done update
// and the task cannot migrate while it holds the borrow.
//
// In debug builds a borrow also records itself on its CPU, in its slot and in one count per
// CPU shared by every PerCpu<T> (AnyPerCpuBorrowedHere). An interrupt that arrives while any
// per-CPU state of its CPU is borrowed is a bug (the seed's "timer interrupt while the
// scheduler state is borrowed"), and so is a context switch with a borrow live: irq::Enter()
// and the switch check AnyPerCpuBorrowedHere() and panic. A borrow used on another CPU than
// the one that made it (a task that migrated while holding a reference) panics too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>

#include "kernel/base/debug.h"
#include "kernel/base/irq_state.h"
#include "kernel/base/platform.h"
#include "lib/assert.h"
#include "lib/cpumask.h"

namespace lichen {

// What keeps two CPUs' data apart: no cache line holds data of two CPUs.
inline constexpr size_t kCacheLineBytes = 64;

// One T per CPU, each on cache lines of its own, reached by CPU id: per-CPU data that
// PerCpu<T> cannot hold, because other CPUs read it (trace rings, statistics, a CPU's
// interrupt depth asked from anywhere) or because its CPU touches it with IRQs enabled under
// some other guard (lockdep's held-lock stacks, under lockdep's own lock). What makes each
// access safe is the user's to say, in a comment where it declares one; this type only gives
// the layout, so that the owner's writes never false-share with another CPU's, and one name
// to the idea, instead of an array of alignas(64) structs in each place.
template <typename T>
class PerCpuArray {
 public:
  constexpr PerCpuArray() = default;
  PerCpuArray(const PerCpuArray&) = delete;
  PerCpuArray& operator=(const PerCpuArray&) = delete;

  T& operator[](uint32_t cpu) { return slots_[cpu].value; }
  const T& operator[](uint32_t cpu) const { return slots_[cpu].value; }
  static constexpr uint32_t Size() { return kMaxCpus; }

 private:
  struct alignas(kCacheLineBytes) Slot {
    T value;
  };
  Slot slots_[kMaxCpus];
};

namespace percpu_internal {
// Live borrows of any PerCpu<T> per CPU (debug builds). Only its CPU writes it, inside a
// borrow (IRQs masked); irq::Enter reads it on the same CPU.
extern PerCpuArray<uint32_t> g_live_borrows;
}  // namespace percpu_internal

// True if code on this CPU holds a borrow of any PerCpu<T> (always false without debug checks).
inline bool AnyPerCpuBorrowedHere() {
  return kDebugChecks && percpu_internal::g_live_borrows[platform::ThisCpu()] != 0;
}

template <typename T>
class PerCpu {
  struct Slot;

 public:
  // A borrowed reference to this CPU's T. Move-only; the borrow ends with the handle.
  class Ref {
   public:
    Ref(Ref&& other) : slot_(other.slot_), cpu_(other.cpu_) { other.slot_ = nullptr; }
    Ref(const Ref&) = delete;
    Ref& operator=(const Ref&) = delete;
    ~Ref() {
      if (slot_ != nullptr && kDebugChecks) --percpu_internal::g_live_borrows[cpu_];
    }
    T* operator->() const { return &Get(); }
    T& operator*() const { return Get(); }
    // The underlying reference, for passing down to helpers that take T&.
    T& Get() const {
      if constexpr (kDebugChecks) {
        LICHEN_ASSERT(platform::ThisCpu() == cpu_,
                      "CPU {}'s per-CPU state used on CPU {} (the task migrated while holding "
                      "a borrow)",
                      cpu_, platform::ThisCpu());
      }
      return slot_->value;
    }

   private:
    friend class PerCpu;
    Ref(Slot* slot, uint32_t cpu) : slot_(slot), cpu_(cpu) {
      if constexpr (kDebugChecks) ++percpu_internal::g_live_borrows[cpu_];
    }
    Slot* slot_;
    uint32_t cpu_;
  };

  constexpr PerCpu() = default;
  PerCpu(const PerCpu&) = delete;
  PerCpu& operator=(const PerCpu&) = delete;

  // Borrows this CPU's T.
  Ref Borrow(IrqsOff) TA_REQ(g_irqs_off) {
    const uint32_t cpu = platform::ThisCpu();
    if (!LICHEN_FAULT(irq_guard_does_not_mask)) {
      LICHEN_DEBUG_ASSERT(platform::IrqsMasked(), "per-CPU state borrowed with IRQs enabled");
    }
    return Ref(&slots_[cpu], cpu);
  }

  // True if this CPU's state is borrowed right now (debug builds; always false otherwise).

 private:
  // One cache line (at least) per CPU, so owners never false-share.
  struct alignas(kCacheLineBytes) Slot {
    T value;
  };
  Slot slots_[kMaxCpus];
};

}  // namespace lichen
