// Lock-order checker for debug builds, in the spirit of Linux's lockdep.
//
// Every spinlock belongs to a LockClass (usually one per lock, declared beside it). On each
// acquisition the checker records the edge "held class -> new class" in a global order graph
// and reports, before the CPU starts spinning:
//   - a recursive acquisition (the CPU already holds that class: a certain self-deadlock, the
//     seed's sched_yield -> schedule -> schedule_preempt chain);
//   - a cycle in the order graph (two paths that take the same locks in opposite orders);
//   - a class taken both inside an interrupt handler and with IRQs enabled (the seed's heap
//     allocator deadlock: the interrupt arrives while the lock is held on the same CPU);
//   - a lock released on a CPU other than the one that took it (preempted while holding a
//     lock that does not mask IRQs).
// Reports go to a handler (default: panic with the report's text); tests install their own.
// Everything here is fixed-size: no allocation, bounded stacks.
#pragma once

#include <cstdint>

#include "lib/atomic.h"

namespace lichen::lockdep {

inline constexpr uint32_t kMaxClasses = 128;
inline constexpr uint32_t kMaxHeld = 16;

// A class of locks that share an ordering role. Declare one per lock (or per family of locks
// with the same role) with static storage; ids are assigned on first use.
class LockClass {
 public:
  constexpr explicit LockClass(const char* name) : name_(name) {}
  LockClass(const LockClass&) = delete;
  LockClass& operator=(const LockClass&) = delete;
  const char* name() const { return name_; }

 private:
  friend struct Access;
  const char* name_;
  Atomic<uint32_t> id_{0};  // 1-based index into the graph; 0 = not registered yet
};

enum class ReportKind : uint8_t {
  kRecursive,       // acquiring a class this CPU already holds
  kOrderCycle,      // the new order edge closes a cycle in the graph
  kIrqUnsafe,       // taken in IRQ context and also with IRQs enabled
  kForeignRelease,  // released on a CPU that does not hold it
  kTooManyClasses,  // kMaxClasses exhausted (checking is then off for new classes)
  kTooDeep,         // more than kMaxHeld locks held at once
};

struct Report {
  ReportKind kind;
  const LockClass* acquiring;  // the lock being taken (or released)
  const LockClass* other;      // the held lock it conflicts with, if any
  char text[512];              // human-readable report, including the cycle's path
};

using ReportHandler = void (*)(const Report& report);

// Installs the report handler; nullptr restores the default (panic).
void SetReportHandler(ReportHandler handler);

// Called by locks before spinning. `irqs_enabled`: IRQs were enabled when the caller asked
// for the lock (always false for the IRQ-saving SpinLock).
void OnAcquire(LockClass& cls, bool irqs_enabled);

// Called by locks on release.
void OnRelease(LockClass& cls);

// Number of locks this CPU holds (the scheduler asserts it is 0 across a context switch).
uint32_t HeldCount();

// Name of the innermost lock this CPU holds, or nullptr.
const char* InnermostHeld();

// Forgets every class, edge, usage bit and held lock (tests, between simulations). Only
// while no CPU runs kernel code; a run abandoned mid-check is fine.
void Reset();

// Number of reports issued since the last Reset().
uint32_t ReportCount();

}  // namespace lichen::lockdep
