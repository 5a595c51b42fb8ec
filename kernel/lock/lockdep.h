// Lock-order checker for debug builds, in the spirit of Linux's lockdep.
//
// Every lock belongs to a LockClass (usually one per lock, declared beside it) with a rank
// (kernel/lock/rank.h). On each acquisition the checker records the edge "held class -> new
// class" in a global order graph and reports, before the CPU starts spinning or sleeping:
//   - a recursive acquisition (the CPU already holds that class: a certain self-deadlock, the
//     seed's sched_yield -> schedule -> schedule_preempt chain);
//   - a cycle in the order graph (two paths that take the same locks in opposite orders);
//   - a rank violation: the new class's rank is not above that of every held class (the code
//     nests locks in an order other than the one written in rank.h; a cycle is always also a
//     rank violation, and is reported as the cycle, with its path);
//   - a class taken both inside an interrupt handler and with IRQs enabled (the seed's heap
//     allocator deadlock: the interrupt arrives while the lock is held on the same CPU);
//   - a lock released on a CPU other than the one that took it (preempted while holding a
//     lock that does not mask IRQs).
// Spinlocks are held by a CPU: their held-lock stack is per CPU. Sleeping locks (Mutex) are
// held by a task across blocking and migration: their stack lives in the task (TaskLocks),
// and the scheduler tells the checker which task a CPU runs (SwitchTask). An acquisition is
// checked against both stacks, except in an interrupt handler, which does not run under the
// interrupted task's sleeping locks.
// Reports go to a handler (default: panic with the report's text); tests install their own.
// Everything here is fixed-size: no allocation, bounded stacks.
#pragma once

#include <cstdint>

#include "kernel/lock/rank.h"
#include "lib/atomic.h"

namespace lichen::lockdep {

inline constexpr uint32_t kMaxClasses = 128;
inline constexpr uint32_t kMaxHeld = 16;

// A class of locks that share an ordering role. Declare one per lock (or per family of locks
// with the same role) with static storage, with the rank that says where it nests; ids are
// assigned on first use.
class LockClass {
 public:
  constexpr LockClass(const char* name, LockRank rank) : name_(name), rank_(rank) {}
  LockClass(const LockClass&) = delete;
  LockClass& operator=(const LockClass&) = delete;
  const char* name() const { return name_; }
  LockRank rank() const { return rank_; }

 private:
  friend struct Access;
  const char* name_;
  LockRank rank_;
  Atomic<uint32_t> id_{0};  // 1-based index into the graph; 0 = not registered yet
};

enum class ReportKind : uint8_t {
  kRecursive,       // acquiring a class this CPU already holds
  kOrderCycle,      // the new order edge closes a cycle in the graph
  kIrqUnsafe,       // taken in IRQ context and also with IRQs enabled
  kForeignRelease,  // released on a CPU that does not hold it
  kTooManyClasses,  // kMaxClasses exhausted (checking is then off for new classes)
  kTooDeep,         // more than kMaxHeld locks held at once
  kRankOrder,       // taken while holding a class of equal or higher rank (rank.h)
};

struct Report {
  ReportKind kind;
  const LockClass* acquiring;  // the lock being taken (or released)
  const LockClass* other;      // the held lock it conflicts with, if any
  char text[512];              // human-readable report, including the cycle's path
};

// The sleeping locks one task holds, innermost last. Lives in the task (sched::Task) and is
// touched only by lockdep, on the CPU that runs the task.
struct TaskLocks {
  LockClass* locks[kMaxHeld] = {};
  uint32_t depth = 0;
};

using ReportHandler = void (*)(const Report& report);

// Installs the report handler; nullptr restores the default (panic).
void SetReportHandler(ReportHandler handler);

// Called by locks before spinning. `irqs_enabled`: IRQs were enabled when the caller asked
// for the lock (always false for the IRQ-saving SpinLock).
void OnAcquire(LockClass& cls, bool irqs_enabled);

// Called by locks on release.
void OnRelease(LockClass& cls);

// Called by sleeping locks (Mutex) before they may block, and on release (also when a timed
// acquisition gives up). Task context only.
void OnAcquireSleeping(LockClass& cls);
void OnReleaseSleeping(LockClass& cls);

// The scheduler, before this CPU switches to the task owning `next` (nullptr: none yet).
void SwitchTask(TaskLocks* next);

// Number of spinlocks this CPU holds (sleeping locks are not counted: they may be held
// across a context switch, spinlocks may not).
uint32_t HeldCount();

// Name of the innermost spinlock this CPU holds, or nullptr (the scheduler asserts there is
// none across a context switch).
const char* InnermostHeld();

// Forgets every class, edge, usage bit and held lock (tests, between simulations). Only
// while no CPU runs kernel code; a run abandoned mid-check is fine.
void Reset();

// Number of reports issued since the last Reset().
uint32_t ReportCount();

}  // namespace lichen::lockdep
