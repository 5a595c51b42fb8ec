// Futexes: Linux's futex(2) core, before processes exist (issue #10).
//
// A futex is a 32-bit word in user memory plus a kernel wait queue found by its address:
// user space does the fast path with atomics on the word and calls the kernel only to sleep
// until the word changes (WAIT) or to wake sleepers (WAKE). The kernel keeps no state per
// futex: waiters sit in a fixed hash table of buckets, keyed by (address space, address),
// each on its own task's stack (no allocation).
//
// The rule that makes it correct: a waiter reads the word and queues itself under its
// bucket's lock, and a waker changes the word before it takes that lock to wake. So either
// the waiter sees the new value (EAGAIN) or it is queued when the waker looks.
//
// The word and the timeout are read through UserMemory, which the caller supplies (the
// syscall layer: a user copy that fails instead of faulting; the simulator: plain memory),
// so a bad pointer is an EFAULT value, never a fault in the kernel. docs/futex.md has the
// key, the errno choices and what is out of scope.
#pragma once

#include <cstdint>

#include "lib/errno.h"
#include "lib/result.h"

namespace lichen::futex {

// Operations (the low bits of futex(2)'s `op`), as in <linux/futex.h>.
inline constexpr uint32_t kWait = 0;
inline constexpr uint32_t kWake = 1;
inline constexpr uint32_t kRequeue = 3;
inline constexpr uint32_t kCmpRequeue = 4;
inline constexpr uint32_t kWakeOp = 5;
inline constexpr uint32_t kLockPi = 6;
inline constexpr uint32_t kWaitBitset = 9;
inline constexpr uint32_t kWakeBitset = 10;
inline constexpr uint32_t kWaitRequeuePi = 11;
inline constexpr uint32_t kLockPi2 = 13;
// Flags or'ed into `op`.
inline constexpr uint32_t kPrivateFlag = 128;
inline constexpr uint32_t kClockRealtime = 256;
inline constexpr uint32_t kCmdMask = ~(kPrivateFlag | kClockRealtime);
// The bitset WAIT and WAKE use: every bit.
inline constexpr uint32_t kBitsetMatchAny = 0xffffffff;

// FUTEX_WAKE_OP's operations on the second word and its comparisons of the old value.
enum class WordOp : uint32_t { kSet = 0, kAdd = 1, kOr = 2, kAndn = 3, kXor = 4 };
enum class WordCmp : uint32_t { kEq = 0, kNe = 1, kLt = 2, kLe = 3, kGt = 4, kGe = 5 };
// FUTEX_OP_OPARG_SHIFT: the operand is 1 << oparg.
inline constexpr uint32_t kOpArgShift = 8;

// Builds FUTEX_WAKE_OP's val3, like <linux/futex.h>'s FUTEX_OP(): op (with kOpArgShift or'ed
// in to shift), a 12-bit signed operand, a comparison and a 12-bit signed comparand.
constexpr uint32_t EncodeWakeOp(uint32_t op, uint32_t oparg, WordCmp cmp, uint32_t cmparg) {
  return ((op & 0xf) << 28) | ((static_cast<uint32_t>(cmp) & 0xf) << 24) | ((oparg & 0xfff) << 12) |
         (cmparg & 0xfff);
}

// The new value of a FUTEX_WAKE_OP word: what a UserMemory::fetch_op stores (in one atomic
// step with reading `old`).
constexpr uint32_t ApplyWordOp(WordOp op, uint32_t old, uint32_t operand) {
  switch (op) {
    case WordOp::kSet:
      return operand;
    case WordOp::kAdd:
      return old + operand;
    case WordOp::kOr:
      return old | operand;
    case WordOp::kAndn:
      return old & ~operand;
    case WordOp::kXor:
      return old ^ operand;
  }
  return old;
}

// struct timespec on arm64 (and every 64-bit Linux): two 64-bit fields.
struct Timespec {
  int64_t sec = 0;
  int64_t nsec = 0;
};

// The caller's access to user memory. Any Error from a function means "not accessible":
// the futex call returns EFAULT.
struct UserMemory {
  void* ctx = nullptr;
  // Reads the 32-bit word at `uaddr` (4-byte aligned). Called with a bucket lock held: it
  // must not sleep (a real user copy must fail rather than fault the page in; retrying after
  // faulting it in is the syscall layer's, docs/futex.md).
  Result<uint32_t> (*load)(void* ctx, uintptr_t uaddr) = nullptr;
  // Atomically replaces the word at `uaddr` by `op(old, oparg)` and returns the old value.
  // Same constraints as load. Only FUTEX_WAKE_OP calls it.
  Result<uint32_t> (*fetch_op)(void* ctx, uintptr_t uaddr, WordOp op, uint32_t oparg) = nullptr;
  // Reads a struct timespec at `uaddr`. Called with no lock held. Only the ops that take a
  // timeout call it (the seed's lost wake: a wake op that read a garbage timeout pointer).
  Result<Timespec> (*load_timespec)(void* ctx, uintptr_t uaddr) = nullptr;
};

// The address space a futex lives in: an opaque identity the process layer will supply (its
// address-space object). Waiters match only within the same space; see Key.
using Space = const void*;

// The arguments of futex(2), as the arm64 syscall passes them: uaddr, op, val, timeout (also
// val2 for the requeue and wake-op ops, which reuse that argument as a number), uaddr2, val3.
struct Args {
  uintptr_t uaddr = 0;
  uint32_t op = 0;
  uint32_t val = 0;
  uintptr_t timeout = 0;  // a pointer, or val2
  uintptr_t uaddr2 = 0;
  uint32_t val3 = 0;
};

// futex(2). Returns what the syscall returns: >= 0 (0 for a wait woken; for the wake ops
// the number woken; for REQUEUE and CMP_REQUEUE woken + requeued), or -errno
// (lib/errno.h). Waits are interruptible by sched::Interrupt() (EINTR).
int64_t Futex(Space space, const UserMemory& mem, const Args& args);

// Nanoseconds to add to the monotonic clock (platform::Now()) to get CLOCK_REALTIME. There
// is no wall clock yet: 0 until the RTC or settimeofday sets it. An absolute CLOCK_REALTIME
// deadline is converted once, when the wait starts (a clock change during the wait does not
// move it, unlike Linux's realtime timers).
int64_t RealtimeOffset();
void SetRealtimeOffset(int64_t offset_ns);

// Number of waiters queued on (space, uaddr, private) now, for tests and diagnostics.
uint32_t QueuedWaiters(Space space, uintptr_t uaddr, bool is_private);

}  // namespace lichen::futex
