// The memory orders of the scheduler's lock-free protocols, named once.
//
// The code that runs each protocol and the relaxed-memory model that checks it
// (tests/relacy/, Relacy's C++11 memory model) use these same constants, so weakening one
// here fails that model: the simulator is sequentially consistent, and its store buffers
// cannot see every reordering (docs/simulator.md).
#pragma once

#include <atomic>

namespace lichen::sched::orders {

// Task state hand-off (block.cc). The sleeper stores kBlocking, a full barrier, then loads
// its condition; the waker stores the condition, a full barrier, then loads the sleeper's
// state. A store-buffering pair: each side's store must come before its load, or both read
// the old values and the sleeper blocks beside a true condition. Both barriers are needed:
// the condition is the caller's and is usually read with an acquire load, and a seq_cst store
// is ordered only before later seq_cst accesses, not before an acquire load (Linux's
// set_current_state is a store and smp_mb for the same reason). tests/relacy found that
// PrepareToBlock's seq_cst store alone allows the lost wakeup.
inline constexpr std::memory_order kAnnounceBlocking = std::memory_order_seq_cst;
inline constexpr std::memory_order kAnnounceBlockingBarrier = std::memory_order_seq_cst;
inline constexpr std::memory_order kWakeBarrier = std::memory_order_seq_cst;

// Idle publication (idle.cc) against enqueue (runqueue.cc, balance.cc). The idle CPU
// publishes idle, then reads the other CPUs' nr_running to find work to steal; a CPU that
// queues a task publishes its nr_running, then reads the idle flags to find a CPU to kick.
// Another store-buffering pair: either the idle CPU sees the queued task or the enqueuer
// sees the idle CPU.
inline constexpr std::memory_order kPublishIdle = std::memory_order_seq_cst;
inline constexpr std::memory_order kPublishNrRunning = std::memory_order_seq_cst;
inline constexpr std::memory_order kReadNrRunning = std::memory_order_seq_cst;
inline constexpr std::memory_order kReadIdle = std::memory_order_seq_cst;

}  // namespace lichen::sched::orders
