#include "kernel/futex/futex.h"

#include <cstddef>
#include <utility>

#include "kernel/base/debug.h"
#include "kernel/base/irq_state.h"
#include "kernel/base/platform.h"
#include "kernel/lock/rank.h"
#include "kernel/lock/spinlock.h"
#include "kernel/sched/sched.h"
#include "kernel/sched/wait.h"
#include "lib/atomic.h"
#include "lib/list.h"
#include "lib/no_destroy.h"
#include "lib/sim_reset.h"
#include "lib/units.h"

namespace lichen::futex {

namespace {

// A power of two. Few, because each bucket has its own lock class (below); collisions only
// cost a longer walk of one bucket's list, and the key is compared on every waiter.
constexpr uint32_t kBucketBits = 5;
constexpr uint32_t kBuckets = 1u << kBucketBits;

// What identifies a futex. A private futex (FUTEX_PRIVATE_FLAG) is (address space, address).
// A shared one, in Linux, is the backing page's identity plus the offset, so that two
// processes mapping the same memory meet; there are no processes or shared mappings yet, so
// a shared key is the same pair with `is_private` false: it matches waiters of the same space
// only (docs/futex.md). Private and shared keys never match each other, as in Linux, where a
// private key and a shared key of the same address differ.
struct Key {
  Space space = nullptr;
  uintptr_t addr = 0;
  bool is_private = false;

  bool operator==(const Key&) const = default;
};

struct Bucket;

// One waiting task, on its own stack for the duration of the wait.
struct Waiter {
  ListNode node;
  Task* task = nullptr;
  // Both change on a requeue, which holds the old and the new bucket's locks.
  Key key;
  Atomic<Bucket*> bucket{nullptr};
  uint32_t bitset = 0;
  // Set, under the bucket's lock, by the waker that took the waiter off the list: the wait
  // then returns 0 whatever else happened (a deadline, an interruption).
  bool woken = false;
};

struct Bucket {
  explicit Bucket(LockClass& cls) : lock(cls) {}

  SpinLock lock;
  IntrusiveList<Waiter, &Waiter::node> waiters TA_GUARDED(lock);
};

// One lock class per bucket, each with its own rank (kernel/lock/rank.h): a requeue or a
// wake-op holds two buckets, and lockdep takes a second lock of a held class for a
// self-deadlock and a lock of a rank not above every held one for an order violation. Two
// buckets are always taken lower index first, which is rank order, and lockdep checks it.
struct BucketNames {
  char text[kBuckets][16];
  constexpr BucketNames() : text{} {
    constexpr char kPrefix[] = "futex.bucket.";
    for (uint32_t i = 0; i < kBuckets; ++i) {
      uint32_t n = 0;
      for (; kPrefix[n] != '\0'; ++n)
        text[i][n] = kPrefix[n];
      if (i >= 10) text[i][n++] = static_cast<char>('0' + i / 10);
      text[i][n] = static_cast<char>('0' + i % 10);
    }
  }
};
constexpr BucketNames kBucketNames{};

static_assert(static_cast<uint32_t>(LockRank::kFutexBucketLast) -
                      static_cast<uint32_t>(LockRank::kFutexBucket) + 1 ==
                  kBuckets,
              "rank.h reserves one rank per futex bucket");

constexpr LockRank BucketRank(size_t index) {
  return static_cast<LockRank>(static_cast<uint32_t>(LockRank::kFutexBucket) + index);
}

struct BucketClasses {
  template <size_t... I>
  constexpr explicit BucketClasses(std::index_sequence<I...>)
      : cls{LockClass(kBucketNames.text[I], BucketRank(I))...} {}
  LockClass cls[kBuckets];
};
BucketClasses g_classes{std::make_index_sequence<kBuckets>{}};

struct BucketTable {
  BucketTable() : BucketTable(std::make_index_sequence<kBuckets>{}) {}
  template <size_t... I>
  explicit BucketTable(std::index_sequence<I...>) : buckets{Bucket(g_classes.cls[I])...} {}
  Bucket buckets[kBuckets];
};
NoDestroy<BucketTable> g_table;

Atomic<int64_t> g_realtime_offset_ns{0};

#if defined(LICHEN_HOST)
// A simulation abandoned mid-wait leaves waiters (on stacks that are gone) in the lists.
void Reset() {
  g_table.Reset();
  g_realtime_offset_ns.Store(0, std::memory_order_relaxed);
}
const ResetRegistrar g_reset_futex("futex", ResetStage::kAny, &Reset);
#endif

uint32_t IndexOf(const Key& key) {
  uint64_t h = (static_cast<uint64_t>(key.addr) >> 2) ^
               (static_cast<uint64_t>(reinterpret_cast<uintptr_t>(key.space)) << 7) ^
               (key.is_private ? 0 : 0x5bd1e995u);
  h *= 0x9e3779b97f4a7c15ull;
  return static_cast<uint32_t>(h >> (64 - kBucketBits));
}

Bucket& BucketOf(const Key& key) {
  return g_table->buckets[IndexOf(key)];
}

// Takes both buckets' locks (one, if they are the same), lower index (and rank) first.
void LockPair(Bucket& a, Bucket& b, IrqsOff irqs_off) TA_REQ(g_irqs_off)
    TA_ACQ(a.lock, b.lock) TA_NO_THREAD_SAFETY_ANALYSIS {
  if (&a == &b) {
    a.lock.Lock(irqs_off);
  } else if (&a < &b) {
    a.lock.Lock(irqs_off);
    b.lock.Lock(irqs_off);
  } else {
    b.lock.Lock(irqs_off);
    a.lock.Lock(irqs_off);
  }
}

void UnlockPair(Bucket& a, Bucket& b) TA_REL(a.lock, b.lock) TA_NO_THREAD_SAFETY_ANALYSIS {
  // Innermost first.
  if (&a == &b) {
    a.lock.Unlock();
  } else if (&a < &b) {
    b.lock.Unlock();
    a.lock.Unlock();
  } else {
    a.lock.Unlock();
    b.lock.Unlock();
  }
}

// Locks the bucket `w` is queued on now. A requeue may move it until we hold that bucket's
// lock; after that it cannot (the requeue needs the same lock).
Bucket& LockWaiterBucket(Waiter& w, IrqsOff irqs_off) TA_NO_THREAD_SAFETY_ANALYSIS {
  for (;;) {
    Bucket* b = w.bucket.Load(std::memory_order_acquire);
    b->lock.Lock(irqs_off);
    if (w.bucket.Load(std::memory_order_relaxed) == b) return *b;
    b->lock.Unlock();
  }
}

// Takes `w` off `b` and wakes it. The lock stays held across Wake(): the waiter returns only
// after it has taken the same lock, so the wake cannot land in the task's next sleep.
void WakeLocked(Bucket& b, Waiter& w) TA_REQ(b.lock) {
  b.waiters.Remove(w);
  w.woken = true;
  sched::Wake(w.task);
}

// Wait's check: whether a waker took `w` off its queue. Under the bucket's lock, so once it
// says yes the waker's Wake() is over (WakeLocked).
bool Woken(Waiter& w) TA_NO_THREAD_SAFETY_ANALYSIS {
  IrqGuard irqs;
  Bucket& b = LockWaiterBucket(w, irqs.token());
  const bool woken = w.woken;
  b.lock.Unlock();
  return woken;
}

// Wait's give-up, at a deadline or an interruption: leaves the queue, unless a waker took `w`
// off it first; then the wake is ours (the waker counted it) and the wait returns 0.
bool Withdraw(Waiter& w) TA_NO_THREAD_SAFETY_ANALYSIS {
  IrqGuard irqs;
  Bucket& b = LockWaiterBucket(w, irqs.token());
  const bool woken = w.woken;
  if (!woken) b.waiters.Remove(w);
  b.lock.Unlock();
  return woken;
}

int64_t Err(Errno e) {
  return SyscallError(e);
}

bool Aligned(uintptr_t uaddr) {
  return uaddr % sizeof(uint32_t) == 0;
}

int64_t DoWait(Space space, const UserMemory& mem, uintptr_t uaddr, bool is_private,
               uint32_t expected, uint32_t bitset, uint64_t deadline_ns) {
  if (bitset == 0) return Err(Errno::kInval);
  if (!Aligned(uaddr)) return Err(Errno::kInval);
  Waiter w;
  w.task = sched::Current();
  w.key = {space, uaddr, is_private};
  w.bitset = bitset;
  Bucket& bucket = BucketOf(w.key);
  w.bucket.Store(&bucket, std::memory_order_relaxed);
  {
    // The word is read under the lock a waker takes after changing it: either we see the
    // change, or we are queued before the waker looks.
    LockGuard<SpinLock> guard(bucket.lock);
    Result<uint32_t> word = mem.load(mem.ctx, uaddr);
    if (!word.ok()) return Err(Errno::kFault);
    if (word.value() != expected) return Err(Errno::kAgain);
    bucket.waiters.PushBack(w);
  }
  const sched::WaitResult result =
      sched::Wait([&w] { return Woken(w); }, [&w] { return Withdraw(w); },
                  {.deadline_ns = deadline_ns, .interruptible = true});
  switch (result) {
    case sched::WaitResult::kCondition:
      return 0;
    case sched::WaitResult::kTimedOut:
      return Err(Errno::kTimedOut);
    case sched::WaitResult::kInterrupted:
      // The interruption stays pending: the signal layer will consume it (and restart or
      // not); the futex only reports it.
      return Err(Errno::kIntr);
  }
  return Err(Errno::kInval);
}

// Wakes up to `nr` waiters of `key` on `b` whose bitset shares a bit with `bitset`. Like
// Linux, it wakes at least one waiter when there is one, even for nr <= 0.
int64_t WakeKeyLocked(Bucket& b, const Key& key, int32_t nr, uint32_t bitset) TA_REQ(b.lock) {
  int64_t woken = 0;
  for (Waiter* w = b.waiters.Front(); w != nullptr;) {
    Waiter* next = b.waiters.Next(*w);
    if (w->key == key && (w->bitset & bitset) != 0) {
      WakeLocked(b, *w);
      if (++woken >= nr) break;
    }
    w = next;
  }
  return woken;
}

int64_t DoWake(Space space, uintptr_t uaddr, bool is_private, int32_t nr, uint32_t bitset) {
  if (bitset == 0) return Err(Errno::kInval);
  if (!Aligned(uaddr)) return Err(Errno::kInval);
  const Key key{space, uaddr, is_private};
  Bucket& bucket = BucketOf(key);
  int64_t woken = 0;
  {
    LockGuard<SpinLock> guard(bucket.lock);
    woken = WakeKeyLocked(bucket, key, nr, bitset);
  }
  sched::PreemptPoint();
  return woken;
}

// Wakes up to nr_wake waiters of key1 and moves up to nr_requeue more to key2; returns how
// many it woke and moved. Linux's loop and its bounds, exactly.
int64_t RequeueLocked(Bucket& b1, Bucket& b2, const Key& key1, const Key& key2, int32_t nr_wake,
                      int32_t nr_requeue) TA_REQ(b1.lock, b2.lock) {
  int64_t count = 0;
  // Moved ones go to a list of their own first, so a requeue onto the same bucket (or key)
  // does not meet them again in this walk.
  IntrusiveList<Waiter, &Waiter::node> moving;
  for (Waiter* w = b1.waiters.Front(); w != nullptr;) {
    Waiter* next = b1.waiters.Next(*w);
    if (count - nr_wake >= nr_requeue) break;
    if (w->key == key1) {
      if (++count <= nr_wake) {
        WakeLocked(b1, *w);
      } else {
        b1.waiters.Remove(*w);
        moving.PushBack(*w);
      }
    }
    w = next;
  }
  while (Waiter* w = moving.PopFront()) {
    w->key = key2;
    w->bucket.Store(&b2, std::memory_order_release);
    b2.waiters.PushBack(*w);
  }
  return count;
}

int64_t DoRequeue(Space space, const UserMemory& mem, const Args& args, bool is_private,
                  const uint32_t* cmpval) {
  const int32_t nr_wake = static_cast<int32_t>(args.val);
  const int32_t nr_requeue = static_cast<int32_t>(static_cast<uint32_t>(args.timeout));
  if (nr_wake < 0 || nr_requeue < 0) return Err(Errno::kInval);
  if (!Aligned(args.uaddr) || !Aligned(args.uaddr2)) return Err(Errno::kInval);
  const Key key1{space, args.uaddr, is_private};
  const Key key2{space, args.uaddr2, is_private};
  Bucket& b1 = BucketOf(key1);
  Bucket& b2 = BucketOf(key2);
  int64_t ret = 0;
  {
    IrqGuard irqs;
    LockPair(b1, b2, irqs.token());
    if (cmpval != nullptr) {
      // Under both locks: a waiter of key1 that read the same value is queued by now.
      Result<uint32_t> word = mem.load(mem.ctx, args.uaddr);
      if (!word.ok()) {
        ret = Err(Errno::kFault);
      } else if (word.value() != *cmpval) {
        ret = Err(Errno::kAgain);
      }
    }
    if (ret == 0) ret = RequeueLocked(b1, b2, key1, key2, nr_wake, nr_requeue);
    UnlockPair(b1, b2);
  }
  sched::PreemptPoint();
  return ret;
}

int32_t SignExtend12(uint32_t bits) {
  return static_cast<int32_t>(bits << 20) >> 20;
}

int64_t DoWakeOp(Space space, const UserMemory& mem, const Args& args, bool is_private) {
  const int32_t nr_wake = static_cast<int32_t>(args.val);
  const int32_t nr_wake2 = static_cast<int32_t>(static_cast<uint32_t>(args.timeout));
  if (!Aligned(args.uaddr) || !Aligned(args.uaddr2)) return Err(Errno::kInval);
  // Decode val3 (Linux's futex_atomic_op_inuser).
  const uint32_t encoded = args.val3;
  const uint32_t op = (encoded >> 28) & 7;
  const uint32_t cmp = (encoded >> 24) & 15;
  int32_t oparg = SignExtend12(encoded >> 12);
  const int32_t cmparg = SignExtend12(encoded);
  uint32_t operand = static_cast<uint32_t>(oparg);
  if ((encoded >> 28) & kOpArgShift) {
    // Linux warns about a shift out of 0..31 and masks it.
    if (oparg < 0 || oparg > 31) oparg &= 31;
    operand = 1u << oparg;
  }
  if (op > static_cast<uint32_t>(WordOp::kXor)) return Err(Errno::kNoSys);

  const Key key1{space, args.uaddr, is_private};
  const Key key2{space, args.uaddr2, is_private};
  Bucket& b1 = BucketOf(key1);
  Bucket& b2 = BucketOf(key2);
  int64_t ret = 0;
  {
    IrqGuard irqs;
    LockPair(b1, b2, irqs.token());
    Result<uint32_t> old_word =
        mem.fetch_op(mem.ctx, args.uaddr2, static_cast<WordOp>(op), operand);
    bool wake2 = false;
    if (!old_word.ok()) {
      ret = Err(Errno::kFault);
    } else {
      const int32_t old = static_cast<int32_t>(old_word.value());
      // As in Linux, an unknown comparison fails the call after the word was changed.
      switch (static_cast<WordCmp>(cmp)) {
        case WordCmp::kEq:
          wake2 = old == cmparg;
          break;
        case WordCmp::kNe:
          wake2 = old != cmparg;
          break;
        case WordCmp::kLt:
          wake2 = old < cmparg;
          break;
        case WordCmp::kLe:
          wake2 = old <= cmparg;
          break;
        case WordCmp::kGt:
          wake2 = old > cmparg;
          break;
        case WordCmp::kGe:
          wake2 = old >= cmparg;
          break;
        default:
          ret = Err(Errno::kNoSys);
          break;
      }
    }
    if (ret == 0) {
      // Linux ignores the bitsets here: every waiter of the key is a candidate.
      ret = WakeKeyLocked(b1, key1, nr_wake, kBitsetMatchAny);
      if (wake2) ret += WakeKeyLocked(b2, key2, nr_wake2, kBitsetMatchAny);
    }
    UnlockPair(b1, b2);
  }
  sched::PreemptPoint();
  return ret;
}

// futex_cmd_has_timeout(): the ops whose fourth argument is a timeout pointer.
bool TakesTimeout(uint32_t cmd) {
  return cmd == kWait || cmd == kWaitBitset || cmd == kLockPi || cmd == kLockPi2 ||
         cmd == kWaitRequeuePi;
}

// The deadline on the monotonic clock for a timeout read from user memory, or an errno.
int64_t Deadline(uint32_t cmd, bool realtime, const Timespec& ts, uint64_t& deadline_ns) {
  if (ts.sec < 0 || ts.nsec < 0 || ts.nsec >= static_cast<int64_t>(kSec)) {
    return Err(Errno::kInval);
  }
  constexpr uint64_t kMaxSec = time::kNever / kSec - 1;
  uint64_t ns = static_cast<uint64_t>(ts.sec) >= kMaxSec
                    ? time::kNever
                    : static_cast<uint64_t>(ts.sec) * kSec + static_cast<uint64_t>(ts.nsec);
  if (cmd == kWait) {
    // Relative, from now, on the monotonic clock.
    const uint64_t now = platform::Now();
    deadline_ns = ns >= time::kNever - now ? time::kNever : now + ns;
  } else if (realtime) {
    // Absolute on CLOCK_REALTIME: monotonic = realtime - offset (a time before boot is past).
    const int64_t offset = RealtimeOffset();
    if (ns == time::kNever) {
      deadline_ns = ns;
    } else if (offset >= 0) {
      deadline_ns = ns > static_cast<uint64_t>(offset) ? ns - static_cast<uint64_t>(offset) : 0;
    } else {
      const uint64_t add = static_cast<uint64_t>(-offset);
      deadline_ns = ns >= time::kNever - add ? time::kNever : ns + add;
    }
  } else {
    deadline_ns = ns;  // absolute on CLOCK_MONOTONIC, which is platform::Now()
  }
  return 0;
}

}  // namespace

int64_t Futex(Space space, const UserMemory& mem, const Args& args) {
  const uint32_t cmd = args.op & kCmdMask;
  const bool is_private = (args.op & kPrivateFlag) != 0;
  const bool realtime = (args.op & kClockRealtime) != 0;

  // The timeout is read first (as Linux does), and only for the ops that take one: for the
  // others the argument is a number (val2) or garbage.
  uint64_t deadline_ns = time::kNever;
  if (args.timeout != 0 && (TakesTimeout(cmd) || LICHEN_FAULT(futex_reads_timeout_for_wake))) {
    Result<Timespec> ts = mem.load_timespec(mem.ctx, args.timeout);
    if (!ts.ok()) return Err(Errno::kFault);
    if (const int64_t err = Deadline(cmd, realtime, ts.value(), deadline_ns); err != 0) {
      return err;
    }
  }
  // Linux 4.5 to 5.12 also took CLOCK_REALTIME for plain FUTEX_WAIT; later kernels (the 6.1
  // Lichen compares with) refuse it again: only the absolute-deadline ops take it.
  if (realtime && cmd != kWaitBitset && cmd != kWaitRequeuePi && cmd != kLockPi2) {
    return Err(Errno::kNoSys);
  }

  switch (cmd) {
    case kWait:
      return DoWait(space, mem, args.uaddr, is_private, args.val, kBitsetMatchAny, deadline_ns);
    case kWaitBitset:
      return DoWait(space, mem, args.uaddr, is_private, args.val, args.val3, deadline_ns);
    case kWake:
      return DoWake(space, args.uaddr, is_private, static_cast<int32_t>(args.val), kBitsetMatchAny);
    case kWakeBitset:
      return DoWake(space, args.uaddr, is_private, static_cast<int32_t>(args.val), args.val3);
    case kRequeue:
      return DoRequeue(space, mem, args, is_private, nullptr);
    case kCmpRequeue:
      return DoRequeue(space, mem, args, is_private, &args.val3);
    case kWakeOp:
      return DoWakeOp(space, mem, args, is_private);
    default:
      // FUTEX_FD (removed from Linux), the PI ops and anything unknown.
      return Err(Errno::kNoSys);
  }
}

int64_t RealtimeOffset() {
  return g_realtime_offset_ns.Load(std::memory_order_relaxed);
}

void SetRealtimeOffset(int64_t offset_ns) {
  g_realtime_offset_ns.Store(offset_ns, std::memory_order_relaxed);
}

uint32_t QueuedWaiters(Space space, uintptr_t uaddr, bool is_private) {
  const Key key{space, uaddr, is_private};
  Bucket& bucket = BucketOf(key);
  LockGuard<SpinLock> guard(bucket.lock);
  uint32_t count = 0;
  for (Waiter* w = bucket.waiters.Front(); w != nullptr; w = bucket.waiters.Next(*w)) {
    if (w->key == key) ++count;
  }
  return count;
}

}  // namespace lichen::futex
