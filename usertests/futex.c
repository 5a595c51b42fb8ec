// Cases about the raw futex(2) system call: errors, timeouts, exact wake counts, bitsets,
// requeue, wake_op, the seed's garbage-timeout bug, the timeout/wake race, and ping-pong.
#define _GNU_SOURCE
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

#include "usertest.h"

#define FUTEX_PRIVATE(op) ((op) | FUTEX_PRIVATE_FLAG)

static struct timespec rel_ns(int64_t ns) {
  struct timespec ts = {ns / 1000000000, ns % 1000000000};
  return ts;
}

static struct timespec abs_ns(clockid_t id, int64_t from_now) {
  int64_t t = ut_clock_ns(id) + from_now;
  struct timespec ts = {t / 1000000000, t % 1000000000};
  return ts;
}

// --- futex_errors: the errno of every malformed call ---------------------------------------

int case_futex_errors(void) {
  static volatile uint32_t word __attribute__((aligned(8))) = 5;
  struct timespec ts = rel_ns(1000);
  // The value differs: EAGAIN at once, with or without PRIVATE, WAIT or WAIT_BITSET.
  UT_CHECK_ERR(ut_futex(&word, FUTEX_WAIT_PRIVATE, 4, NULL, NULL, 0), EAGAIN);
  UT_CHECK_ERR(ut_futex(&word, FUTEX_WAIT, 4, NULL, NULL, 0), EAGAIN);
  UT_CHECK_ERR(ut_futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 4, NULL, NULL, 1), EAGAIN);
  UT_CHECK_ERR(ut_futex(&word, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME, 4, NULL, NULL, 1),
               EAGAIN);
  // Misaligned address.
  volatile uint32_t* odd = (volatile uint32_t*)((uintptr_t)&word + 1);
  UT_CHECK_ERR(ut_futex(odd, FUTEX_WAIT_PRIVATE, 5, &ts, NULL, 0), EINVAL);
  UT_CHECK_ERR(ut_futex(odd, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0), EINVAL);
  // A bitset of zero matches nobody.
  UT_CHECK_ERR(ut_futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 5, &ts, NULL, 0), EINVAL);
  UT_CHECK_ERR(ut_futex(&word, FUTEX_WAKE_BITSET_PRIVATE, 1, NULL, NULL, 0), EINVAL);
  // Malformed timeouts, and a timeout pointer that points nowhere (WAIT reads it).
  struct timespec bad = {0, 1000000000};
  UT_CHECK_ERR(ut_futex(&word, FUTEX_WAIT_PRIVATE, 5, &bad, NULL, 0), EINVAL);
  bad.tv_nsec = -1;
  UT_CHECK_ERR(ut_futex(&word, FUTEX_WAIT_PRIVATE, 5, &bad, NULL, 0), EINVAL);
  bad = (struct timespec){-1, 0};
  UT_CHECK_ERR(ut_futex(&word, FUTEX_WAIT_PRIVATE, 5, &bad, NULL, 0), EINVAL);
  UT_CHECK_ERR(ut_futex(&word, FUTEX_WAIT_PRIVATE, 5, (void*)1, NULL, 0), EFAULT);
  // CLOCK_REALTIME only goes with the ops that take an absolute time.
  UT_CHECK_ERR(ut_futex(&word, FUTEX_WAKE_PRIVATE | FUTEX_CLOCK_REALTIME, 1, NULL, NULL, 0),
               ENOSYS);
  // Unknown op.
  UT_CHECK_ERR(ut_futex(&word, FUTEX_PRIVATE(15), 0, NULL, NULL, 0), ENOSYS);
  // Bad addresses: waits read the word, wake_op writes the second one.
  UT_CHECK_ERR(ut_futex((volatile uint32_t*)8, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0), EFAULT);
  uint32_t* ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  UT_CHECK(ro != MAP_FAILED);
  UT_CHECK_ERR(ut_futex(&word, FUTEX_WAKE_OP_PRIVATE, 1, (void*)1, ro, 0), EFAULT);
  UT_CHECK(ut_futex(ro, FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0) == -1 && errno == EAGAIN);
  UT_CHECK(munmap(ro, 4096) == 0);
  // Waking where nobody waits: 0, also on memory never touched.
  UT_CHECK(ut_futex(&word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0) == 0);
  UT_CHECK(ut_futex(&word, FUTEX_WAKE, 1, NULL, NULL, 0) == 0);
  return 0;
}

// --- futex_timeouts: every way to time out expires, and not early ---------------------------

int case_futex_timeouts(void) {
  static volatile uint32_t word = 0;
  const int64_t kWait = 5000000;
  // Relative (FUTEX_WAIT measures CLOCK_MONOTONIC), shared and private.
  static const int kWaitOps[] = {FUTEX_WAIT_PRIVATE, FUTEX_WAIT};
  for (int i = 0; i < 2; i++) {
    struct timespec ts = rel_ns(kWait);
    int64_t t0 = ut_now_ns();
    errno = 0;
    long r = ut_futex(&word, kWaitOps[i], 0, &ts, NULL, 0);
    int e = errno;
    int64_t waited = ut_now_ns() - t0;
    UT_CHECK(r == -1 && e == ETIMEDOUT, "op %d: %ld errno %d", kWaitOps[i], r, e);
    UT_CHECK(waited >= kWait, "op %d: waited %lld of %lld ns", kWaitOps[i], (long long)waited,
             (long long)kWait);
  }
  // Absolute WAIT_BITSET, on CLOCK_MONOTONIC and on CLOCK_REALTIME (glibc's pthread_join and
  // condition variables).
  static const clockid_t kClocks[] = {CLOCK_MONOTONIC, CLOCK_REALTIME};
  for (int i = 0; i < 2; i++) {
    int op = FUTEX_WAIT_BITSET_PRIVATE | (kClocks[i] == CLOCK_REALTIME ? FUTEX_CLOCK_REALTIME : 0);
    struct timespec deadline = abs_ns(kClocks[i], kWait);
    errno = 0;
    long r = ut_futex(&word, op, 0, &deadline, NULL, FUTEX_BITSET_MATCH_ANY);
    int e = errno;
    int64_t now = ut_clock_ns(kClocks[i]);
    UT_CHECK(r == -1 && e == ETIMEDOUT, "clock %d: %ld errno %d", (int)kClocks[i], r, e);
    UT_CHECK(now >= (int64_t)deadline.tv_sec * 1000000000 + deadline.tv_nsec,
             "clock %d: returned before the deadline", (int)kClocks[i]);
    // A deadline already past: ETIMEDOUT at once.
    struct timespec past = {0, 1};
    UT_CHECK_ERR(ut_futex(&word, op, 0, &past, NULL, FUTEX_BITSET_MATCH_ANY), ETIMEDOUT);
  }
  // A zero relative timeout is "already expired", not "forever".
  struct timespec zero = {0, 0};
  UT_CHECK_ERR(ut_futex(&word, FUTEX_WAIT_PRIVATE, 0, &zero, NULL, 0), ETIMEDOUT);
  return 0;
}

// --- futex_wake: exact counts ---------------------------------------------------------------

enum { kWakeWaiters = 8 };
static volatile uint32_t wake_word;
static atomic_int wake_returned;

static void* plain_waiter(void* p) {
  volatile uint32_t* word = (volatile uint32_t*)p;
  long r = ut_futex(word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
  UT_EXPECT(r == 0, "FUTEX_WAIT returned %ld errno %d", r, errno);
  atomic_fetch_add(&wake_returned, 1);
  return NULL;
}

int case_futex_wake(void) {
  wake_word = 0;
  atomic_store(&wake_returned, 0);
  pthread_t t[kWakeWaiters];
  for (int i = 0; i < kWakeWaiters; i++) {
    UT_CHECK(pthread_create(&t[i], NULL, plain_waiter, (void*)&wake_word) == 0);
  }
  UT_CHECK(ut_futex_settle(&wake_word, kWakeWaiters));
  // Exactly as many as asked, never more; the rest stay asleep.
  UT_CHECK(ut_futex(&wake_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0) == 1);
  UT_CHECK(ut_futex(&wake_word, FUTEX_WAKE_PRIVATE, 3, NULL, NULL, 0) == 3);
  UT_CHECK(ut_futex_settle(&wake_word, kWakeWaiters - 4));
  UT_CHECK(ut_futex(&wake_word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0) == kWakeWaiters - 4);
  UT_CHECK(ut_futex(&wake_word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0) == 0);
  for (int i = 0; i < kWakeWaiters; i++)
    UT_CHECK(pthread_join(t[i], NULL) == 0);
  UT_CHECK(atomic_load(&wake_returned) == kWakeWaiters);
  return 0;
}

// --- futex_bitset: WAKE_BITSET wakes only the matching waiters ------------------------------

static volatile uint32_t bitset_word;
static atomic_int bitset_woken_mask;

static void* bitset_waiter(void* p) {
  uint32_t bits = (uint32_t)(uintptr_t)p;
  long r = ut_futex(&bitset_word, FUTEX_WAIT_BITSET_PRIVATE, 0, NULL, NULL, bits);
  UT_EXPECT(r == 0, "WAIT_BITSET %#x returned %ld errno %d", bits, r, errno);
  atomic_fetch_or(&bitset_woken_mask, (int)bits);
  return NULL;
}

int case_futex_bitset(void) {
  bitset_word = 0;
  atomic_store(&bitset_woken_mask, 0);
  static const uint32_t kBits[] = {0x1, 0x2, 0x4, 0x8};
  pthread_t t[4];
  for (int i = 0; i < 4; i++) {
    UT_CHECK(pthread_create(&t[i], NULL, bitset_waiter, (void*)(uintptr_t)kBits[i]) == 0);
  }
  UT_CHECK(ut_futex_settle(&bitset_word, 4));
  UT_CHECK(ut_futex(&bitset_word, FUTEX_WAKE_BITSET_PRIVATE, INT_MAX, NULL, NULL, 0x10) == 0);
  UT_CHECK(ut_futex(&bitset_word, FUTEX_WAKE_BITSET_PRIVATE, INT_MAX, NULL, NULL, 0x6) == 2);
  UT_CHECK(pthread_join(t[1], NULL) == 0 && pthread_join(t[2], NULL) == 0);
  UT_CHECK(atomic_load(&bitset_woken_mask) == 0x6, "woken %#x", atomic_load(&bitset_woken_mask));
  // Plain WAKE is WAKE_BITSET with every bit.
  UT_CHECK(ut_futex_settle(&bitset_word, 2));
  UT_CHECK(ut_futex(&bitset_word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0) == 2);
  UT_CHECK(pthread_join(t[0], NULL) == 0 && pthread_join(t[3], NULL) == 0);
  UT_CHECK(atomic_load(&bitset_woken_mask) == 0xf);
  return 0;
}

// --- futex_requeue: REQUEUE and CMP_REQUEUE move sleepers between words ---------------------

enum { kRequeueWaiters = 6 };
static volatile uint32_t rq_a, rq_b;

int case_futex_requeue(void) {
  rq_a = 0;
  rq_b = 0;
  atomic_store(&wake_returned, 0);
  pthread_t t[kRequeueWaiters];
  for (int i = 0; i < kRequeueWaiters; i++) {
    UT_CHECK(pthread_create(&t[i], NULL, plain_waiter, (void*)&rq_a) == 0);
  }
  UT_CHECK(ut_futex_settle(&rq_a, kRequeueWaiters));
  // CMP_REQUEUE with a stale value: EAGAIN, nobody moves.
  UT_CHECK_ERR(ut_futex(&rq_a, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void*)(uintptr_t)INT_MAX, &rq_b, 1),
               EAGAIN);
  // Wake 1, move 2: the result counts both.
  UT_CHECK(ut_futex(&rq_a, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void*)2, &rq_b, 0) == 3);
  // REQUEUE (no compare): wake 0, move the other 3.
  UT_CHECK(ut_futex(&rq_a, FUTEX_REQUEUE_PRIVATE, 0, (void*)(uintptr_t)INT_MAX, &rq_b, 0) == 3);
  UT_CHECK(ut_futex(&rq_a, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0) == 0);
  // The five moved ones sleep on B now: a waker of B finds them all.
  UT_CHECK(ut_futex_settle(&rq_b, kRequeueWaiters - 1));
  UT_CHECK(ut_futex(&rq_b, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0) == kRequeueWaiters - 1);
  for (int i = 0; i < kRequeueWaiters; i++)
    UT_CHECK(pthread_join(t[i], NULL) == 0);
  UT_CHECK(atomic_load(&wake_returned) == kRequeueWaiters);
  // Negative counts are invalid.
  UT_CHECK_ERR(ut_futex(&rq_a, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void*)(intptr_t)-1, &rq_b, 0),
               EINVAL);
  return 0;
}

// --- futex_wake_op: the operation on the second word and the conditional second wake -------

#define OP(op, oparg, cmp, cmparg)                                                 \
  ((uint32_t)((((op)&0xf) << 28) | (((cmp)&0xf) << 24) | (((oparg)&0xfff) << 12) | \
              ((cmparg)&0xfff)))

static volatile uint32_t wo_a, wo_b;

int case_futex_wake_op(void) {
  // No waiters: the results are the values left in the second word.
  static const struct {
    uint32_t before, op, after;
  } kOps[] = {
      {7, OP(FUTEX_OP_SET, 42, FUTEX_OP_CMP_EQ, 0), 42},
      {7, OP(FUTEX_OP_ADD, 5, FUTEX_OP_CMP_EQ, 0), 12},
      {0x10, OP(FUTEX_OP_OR, 0x3, FUTEX_OP_CMP_EQ, 0), 0x13},
      {0xff, OP(FUTEX_OP_ANDN, 0xf, FUTEX_OP_CMP_EQ, 0), 0xf0},
      {0xff, OP(FUTEX_OP_XOR, 0x101, FUTEX_OP_CMP_EQ, 0), 0x1fe},
      {1, OP(FUTEX_OP_SET | FUTEX_OP_OPARG_SHIFT, 4, FUTEX_OP_CMP_EQ, 0), 16},
      {3, OP(FUTEX_OP_ADD, -1, FUTEX_OP_CMP_EQ, 0), 2},  // oparg is signed
  };
  for (size_t i = 0; i < sizeof(kOps) / sizeof(kOps[0]); i++) {
    wo_b = kOps[i].before;
    long r = ut_futex(&wo_a, FUTEX_WAKE_OP_PRIVATE, 1, (void*)1, &wo_b, kOps[i].op);
    UT_CHECK(r == 0, "op %zu returned %ld errno %d", i, r, errno);
    UT_CHECK(wo_b == kOps[i].after, "op %zu left %#x, expected %#x", i, wo_b, kOps[i].after);
  }
  // With one waiter on each word: the second is woken only when the comparison with the OLD
  // value of the second word holds.
  static const struct {
    uint32_t before;
    int cmp, cmparg;
    bool second;
  } kCmps[] = {
      {5, FUTEX_OP_CMP_EQ, 5, true}, {5, FUTEX_OP_CMP_EQ, 6, false}, {5, FUTEX_OP_CMP_NE, 6, true},
      {5, FUTEX_OP_CMP_LT, 6, true}, {5, FUTEX_OP_CMP_LT, 5, false}, {5, FUTEX_OP_CMP_LE, 5, true},
      {5, FUTEX_OP_CMP_GT, 4, true}, {5, FUTEX_OP_CMP_GE, 6, false},
  };
  for (size_t i = 0; i < sizeof(kCmps) / sizeof(kCmps[0]); i++) {
    wo_a = 0;
    wo_b = kCmps[i].before;
    uint32_t b_val = kCmps[i].before + 1;  // what the op stores: the waiter on B waits on it
    pthread_t ta, tb;
    atomic_store(&wake_returned, 0);
    UT_CHECK(pthread_create(&ta, NULL, plain_waiter, (void*)&wo_a) == 0);
    UT_CHECK(ut_futex_settle(&wo_a, 1));
    // The B waiter must wait on B's value before the op: start it with B at 0 then restore.
    uint32_t keep = wo_b;
    wo_b = 0;
    UT_CHECK(pthread_create(&tb, NULL, plain_waiter, (void*)&wo_b) == 0);
    UT_CHECK(ut_futex_settle(&wo_b, 1));
    wo_b = keep;
    long r = ut_futex(&wo_a, FUTEX_WAKE_OP_PRIVATE, 1, (void*)1, &wo_b,
                      OP(FUTEX_OP_SET, (int)b_val, kCmps[i].cmp, kCmps[i].cmparg));
    UT_CHECK(r == (kCmps[i].second ? 2 : 1), "case %zu returned %ld", i, r);
    UT_CHECK(wo_b == b_val);
    UT_CHECK(pthread_join(ta, NULL) == 0);
    if (!kCmps[i].second) {
      UT_CHECK(ut_futex(&wo_b, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0) == 1);
    }
    UT_CHECK(pthread_join(tb, NULL) == 0);
    UT_CHECK(atomic_load(&wake_returned) == 2);
  }
  return 0;
}

// --- futex_garbage_timeout: ops without a timeout never read the timeout argument ----------
// The seed's deadlock: its kernel read the timeout pointer for every op, so a wake whose
// fourth argument was garbage (for WAKE_OP and REQUEUE it is a count, val2) faulted and the
// wake was lost.

static volatile uint32_t gt_word, gt_other;

int case_futex_garbage_timeout(void) {
  static const uintptr_t kGarbage[] = {1, 0xdeadbeef, 0xffff000000000000ULL, 0x7ffffffff000ULL};
  for (size_t g = 0; g < sizeof(kGarbage) / sizeof(kGarbage[0]); g++) {
    const void* garbage = (const void*)kGarbage[g];
    pthread_t t;
    gt_word = 0;
    atomic_store(&wake_returned, 0);
    // WAKE and WAKE_BITSET ignore the argument entirely.
    UT_CHECK(pthread_create(&t, NULL, plain_waiter, (void*)&gt_word) == 0);
    UT_CHECK(ut_futex_settle(&gt_word, 1));
    UT_CHECK(ut_futex(&gt_word, FUTEX_WAKE_PRIVATE, 1, garbage, NULL, 0) == 1, "WAKE, garbage %#lx",
             (unsigned long)kGarbage[g]);
    UT_CHECK(pthread_join(t, NULL) == 0);
    UT_CHECK(pthread_create(&t, NULL, plain_waiter, (void*)&gt_word) == 0);
    UT_CHECK(ut_futex_settle(&gt_word, 1));
    UT_CHECK(ut_futex(&gt_word, FUTEX_WAKE_BITSET_PRIVATE, 1, garbage, NULL, ~0u) == 1);
    UT_CHECK(pthread_join(t, NULL) == 0);
    // WAKE_OP: the argument is val2 (how many to wake on the second word); any value works.
    UT_CHECK(pthread_create(&t, NULL, plain_waiter, (void*)&gt_word) == 0);
    UT_CHECK(ut_futex_settle(&gt_word, 1));
    long r = ut_futex(&gt_word, FUTEX_WAKE_OP_PRIVATE, 1, garbage, &gt_other,
                      OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_EQ, 0xfff));
    UT_CHECK(r == 1, "WAKE_OP returned %ld errno %d, garbage %#lx", r, errno,
             (unsigned long)kGarbage[g]);
    UT_CHECK(pthread_join(t, NULL) == 0);
    // REQUEUE: val2 is the requeue limit; with nr_wake 1 the sleeper is woken.
    UT_CHECK(pthread_create(&t, NULL, plain_waiter, (void*)&gt_word) == 0);
    UT_CHECK(ut_futex_settle(&gt_word, 1));
    r = ut_futex(&gt_word, FUTEX_REQUEUE_PRIVATE, 1, (const void*)(kGarbage[g] & 0x7fffffff),
                 &gt_other, 0);
    UT_CHECK(r == 1, "REQUEUE returned %ld errno %d", r, errno);
    UT_CHECK(pthread_join(t, NULL) == 0);
    UT_CHECK(atomic_load(&wake_returned) == 4);
  }
  return 0;
}

// --- futex_timeout_race: a timeout racing a wake never loses it and never doubles it -------
// A waiter with a short timeout and a waker firing at about the same moment. Whatever the
// interleaving, the waker's count (0 or 1) must equal the waiter's outcome (woken: 0,
// expired: ETIMEDOUT), round after round.

enum { kRaceRounds = 200 };
static volatile uint32_t race_word;
static ut_barrier race_barrier;
static long race_result[kRaceRounds];
static int race_errno[kRaceRounds];

static void* race_waiter(void* p) {
  (void)p;
  UT_TCHECK(ut_pin_self(ut_cpu(1)));
  for (int i = 0; i < kRaceRounds; i++) {
    ut_barrier_wait(&race_barrier);
    struct timespec ts = rel_ns(200000 + (i % 10) * 50000);
    errno = 0;
    race_result[i] = ut_futex(&race_word, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0);
    race_errno[i] = errno;
  }
  return NULL;
}

int case_futex_timeout_race(void) {
  race_word = 0;
  ut_barrier_init(&race_barrier, 2);
  UT_CHECK(ut_pin_self(ut_cpu(0)));
  pthread_t t;
  UT_CHECK(pthread_create(&t, NULL, race_waiter, NULL) == 0);
  long woken[kRaceRounds];
  uint64_t rng = 0x5eed;
  for (int i = 0; i < kRaceRounds; i++) {
    ut_barrier_wait(&race_barrier);
    // Somewhere around the timeout: sometimes well before, sometimes after.
    ut_sleep_ns((int64_t)(ut_rand(&rng) % 400000));
    woken[i] = ut_futex(&race_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
  }
  UT_CHECK(pthread_join(t, NULL) == 0);
  UT_CHECK(ut_unpin_self());
  int n_woken = 0;
  for (int i = 0; i < kRaceRounds; i++) {
    UT_CHECK(woken[i] == 0 || woken[i] == 1, "round %d: wake returned %ld", i, woken[i]);
    if (woken[i] == 1) {
      n_woken++;
      UT_CHECK(race_result[i] == 0, "round %d: the wake counted but the waiter got %ld errno %d", i,
               race_result[i], race_errno[i]);
    } else {
      UT_CHECK(race_result[i] == -1 && race_errno[i] == ETIMEDOUT,
               "round %d: nobody was woken but the waiter got %ld errno %d", i, race_result[i],
               race_errno[i]);
    }
  }
  ut_printf("# futex_timeout_race: %d of %d rounds woken, the rest timed out", n_woken,
            kRaceRounds);
  return 0;
}

// --- futex_pingpong: two threads on two CPUs hand a token back and forth -------------------

enum { kFutexRounds = 1000 };
static volatile uint32_t fpp_word;  // whose turn: 0 or 1

static void* futex_pp_thread(void* p) {
  int me = (int)(intptr_t)p;
  UT_TCHECK(ut_pin_self(ut_cpu(me)));
  for (int i = 0; i < kFutexRounds; i++) {
    uint32_t v;
    while ((v = __atomic_load_n(&fpp_word, __ATOMIC_ACQUIRE)) != (uint32_t)me) {
      long r = ut_futex(&fpp_word, FUTEX_WAIT_PRIVATE, v, NULL, NULL, 0);
      UT_TCHECK(r == 0 || errno == EAGAIN, "FUTEX_WAIT returned %ld errno %d", r, errno);
    }
    __atomic_store_n(&fpp_word, (uint32_t)(1 - me), __ATOMIC_RELEASE);
    long r = ut_futex(&fpp_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    UT_TCHECK(r == 0 || r == 1, "FUTEX_WAKE returned %ld", r);
  }
  return NULL;
}

int case_futex_pingpong(void) {
  fpp_word = 0;
  pthread_t t[2];
  for (int i = 0; i < 2; i++) {
    UT_CHECK(pthread_create(&t[i], NULL, futex_pp_thread, (void*)(intptr_t)i) == 0);
  }
  for (int i = 0; i < 2; i++)
    UT_CHECK(pthread_join(t[i], NULL) == 0);
  UT_CHECK(fpp_word == 0);
  return 0;
}
