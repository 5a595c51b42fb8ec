// The lock order, written once: every lock class has a rank, and a CPU (or, for sleeping
// locks, a task) may take a lock only if its rank is greater than the rank of every lock it
// already holds. Lockdep checks it on every acquisition in debug builds (a lower-or-equal rank
// taken while holding a higher one is a report: the order the code follows is not the order
// written here), in addition to finding cycles in the order it actually observed.
//
// This is the only statement of the order. Read it top to bottom: a lock may be taken while
// holding any lock above it. Two classes that never nest still get distinct ranks, so that
// the day they do, the order they nest in is decided here and not by whichever path ran first.
// Adding a lock class means adding its rank here, where it nests.
//
// The idea is SerenityOS's LockRank; unlike it, the ranks are a total order rather than
// bit flags, because lockdep already knows which classes a CPU holds.
#pragma once

#include <cstdint>

namespace lichen {

enum class LockRank : uint8_t {
  // Test-only classes (tests/), outermost so that a test may take one around any kernel lock.
  kTestA,
  kTestB,
  kTestC,

  // Sleeping locks: held across blocking and context switches, so never taken under a
  // spinlock. They come before every spinlock.
  kMutex,         // a Mutex without a class of its own (kernel/sync/mutex.h)
  kAddressSpace,  // an address space's lock (kernel/vm); allocates pages, takes its table lock

  // Spinlocks, outermost first. Each line says what the lock's holder goes on to take.
  kMutexState,  // a Mutex's own state; wakes the next owner (sched::Wake) under it
  kWaitQueue,   // a WaitQueue's waiters; wakes them under it
  // Processes (kernel/proc): the table of all processes, then one process's threads, files
  // and signal state. Wake and interrupt tasks under them, take nothing else.
  kProcessTable,
  kProcess,
  kRandom,  // the kernel's random generator (kernel/proc/random.cc); takes nothing
  // The futex buckets (kernel/futex), one rank each, so that requeue and wake-op may hold
  // two: always in bucket order. Wake their waiters under them.
  kFutexBucket,
  kFutexBucketLast = kFutexBucket + 31,
  kVmTables,           // a space's table lock (kernel/vm); futex word reads take it
  kTaskJoin,           // a task's join handshake; the exiting CPU wakes the joiner under it
  kRegistry,           // the task registry; visitors run under it
  kNaiveSchedLock,     // fault injection: the seed's global scheduler lock (kernel/sched/faults.cc)
  kNaiveGlobalEvents,  // fault injection: the seed's shared slice-event table
  kAsid,               // the ASID allocator (kernel/vm/asid.h); nothing is taken under it
  kHeapDepot,          // the per-CPU heap caches' depot; nothing is taken under it
  kHeap,               // the slab heap; takes the page allocator to grow and trim
  kPageAllocator,      // the page allocator: innermost
};

// The first spinlock rank: ranks below it are sleeping locks.
inline constexpr LockRank kFirstSpinRank = LockRank::kMutexState;

// The enumerator's name without its `k`, for reports.
constexpr const char* RankName(LockRank rank) {
  if (rank > LockRank::kFutexBucket && rank < LockRank::kFutexBucketLast) return "FutexBucket";
  switch (rank) {
    case LockRank::kTestA:
      return "TestA";
    case LockRank::kTestB:
      return "TestB";
    case LockRank::kTestC:
      return "TestC";
    case LockRank::kMutex:
      return "Mutex";
    case LockRank::kAddressSpace:
      return "AddressSpace";
    case LockRank::kVmTables:
      return "VmTables";
    case LockRank::kAsid:
      return "Asid";
    case LockRank::kMutexState:
      return "MutexState";
    case LockRank::kWaitQueue:
      return "WaitQueue";
    case LockRank::kProcessTable:
      return "ProcessTable";
    case LockRank::kProcess:
      return "Process";
    case LockRank::kRandom:
      return "Random";
    case LockRank::kFutexBucket:
    case LockRank::kFutexBucketLast:
      return "FutexBucket";
    case LockRank::kTaskJoin:
      return "TaskJoin";
    case LockRank::kRegistry:
      return "Registry";
    case LockRank::kNaiveSchedLock:
      return "NaiveSchedLock";
    case LockRank::kNaiveGlobalEvents:
      return "NaiveGlobalEvents";
    case LockRank::kHeapDepot:
      return "HeapDepot";
    case LockRank::kHeap:
      return "Heap";
    case LockRank::kPageAllocator:
      return "PageAllocator";
  }
  return "?";
}

}  // namespace lichen
