// Cases about scheduling from user space: sched_yield, affinity and getcpu, nice.
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/resource.h>

#include "usertest.h"

// --- sched_yield: a storm of yields, and hand-offs that only yields make progress ----------

enum { kYielders = 8, kYields = 1000, kHandoffs = 300, kRemoteHandoffs = 50 };
static atomic_long yields_done;
static volatile int handoff_turn;

static void* yield_thread(void* p) {
  (void)p;
  for (int i = 0; i < kYields; i++) {
    UT_TCHECK(sched_yield() == 0);
    atomic_fetch_add(&yields_done, 1);
  }
  return NULL;
}

// Two threads on one CPU pass a turn back and forth, each waiting for it by yielding.
static void* handoff_thread(void* p) {
  int me = (int)(intptr_t)p;
  UT_TCHECK(ut_pin_self(ut_cpu(0)));
  for (int i = 0; i < kHandoffs; i++) {
    while (__atomic_load_n(&handoff_turn, __ATOMIC_ACQUIRE) != me)
      sched_yield();
    __atomic_store_n(&handoff_turn, 1 - me, __ATOMIC_RELEASE);
  }
  return NULL;
}

// A turn passed to a thread on another CPU that sleeps in FUTEX_WAIT for it; the passer waits
// for it to come back by yielding, alone on its CPU (how bench.c's futex ping-pong ends). The
// yields switch to nothing, so only the other CPU's wakeup ends the wait. Under QEMU -icount
// (aarch64-usertest-icount-sched-yield) a yield that left no trace in the machine kept QEMU
// on the yielding vCPU, and the woken one never ran.
static volatile uint32_t remote_turn;

static void* remote_handoff_thread(void* p) {
  UT_TCHECK(ut_pin_self((int)(intptr_t)p));
  for (int i = 0; i < kRemoteHandoffs; i++) {
    uint32_t v;
    while ((v = __atomic_load_n(&remote_turn, __ATOMIC_ACQUIRE)) != 1)
      ut_futex(&remote_turn, FUTEX_WAIT_PRIVATE, v, NULL, NULL, 0);
    __atomic_store_n(&remote_turn, 0, __ATOMIC_RELEASE);
  }
  return NULL;
}

static int remote_handoffs(void) {
  UT_CHECK(ut_pin_self(ut_cpu(0)));
  remote_turn = 0;
  pthread_t t;
  UT_CHECK(pthread_create(&t, NULL, remote_handoff_thread, (void*)(intptr_t)ut_cpu(1)) == 0);
  for (int i = 0; i < kRemoteHandoffs; i++) {
    __atomic_store_n(&remote_turn, 1, __ATOMIC_RELEASE);
    ut_futex(&remote_turn, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    while (__atomic_load_n(&remote_turn, __ATOMIC_ACQUIRE) != 0)
      UT_CHECK(sched_yield() == 0);
  }
  UT_CHECK(pthread_join(t, NULL) == 0);
  UT_CHECK(ut_unpin_self());
  return 0;
}

int case_sched_yield(void) {
  atomic_store(&yields_done, 0);
  pthread_t t[kYielders];
  for (int i = 0; i < kYielders; i++) {
    UT_CHECK(pthread_create(&t[i], NULL, yield_thread, NULL) == 0);
  }
  for (int i = 0; i < kYielders; i++)
    UT_CHECK(pthread_join(t[i], NULL) == 0);
  UT_CHECK(atomic_load(&yields_done) == (long)kYielders * kYields);
  handoff_turn = 0;
  pthread_t h[2];
  for (int i = 0; i < 2; i++) {
    UT_CHECK(pthread_create(&h[i], NULL, handoff_thread, (void*)(intptr_t)i) == 0);
  }
  for (int i = 0; i < 2; i++)
    UT_CHECK(pthread_join(h[i], NULL) == 0);
  UT_CHECK(handoff_turn == 0);
  if (ut_ncpus > 1 && remote_handoffs() != 0) return 1;
  return 0;
}

// --- affinity: the mask reads back, a pinned thread never runs elsewhere, errors -----------

static volatile int affinity_stop;

static void* affinity_spinner(void* p) {
  (void)p;
  // Unpinned load that gives the scheduler reasons to move the pinned threads.
  while (!__atomic_load_n(&affinity_stop, __ATOMIC_ACQUIRE)) {
    for (volatile int i = 0; i < 10000; i++) {
    }
    sched_yield();
  }
  return NULL;
}

static void* affinity_pinned(void* p) {
  int cpu = (int)(intptr_t)p;
  UT_TCHECK(ut_pin_self(cpu));
  cpu_set_t set;
  CPU_ZERO(&set);
  UT_TCHECK(sched_getaffinity(0, sizeof(set), &set) == 0);
  UT_TCHECK(CPU_COUNT(&set) == 1 && CPU_ISSET(cpu, &set), "mask has %d CPUs", CPU_COUNT(&set));
  for (int i = 0; i < 600 && !ut_failed(); i++) {
    int now = ut_getcpu();
    UT_TCHECK(now == cpu, "pinned to CPU %d, ran on %d (iteration %d)", cpu, now, i);
    if (i % 100 == 50) ut_sleep_ns(100000);  // leave the CPU and come back
    if (i % 10 == 0) sched_yield();
  }
  return NULL;
}

// Moves itself over every CPU: getcpu follows as soon as sched_setaffinity returns.
static void* affinity_mover(void* p) {
  (void)p;
  for (int round = 0; round < 3; round++) {
    for (int i = 0; i < ut_ncpus; i++) {
      UT_TCHECK(ut_pin_self(ut_cpus[i]));
      int now = ut_getcpu();
      UT_TCHECK(now == ut_cpus[i], "moved to CPU %d, running on %d", ut_cpus[i], now);
    }
  }
  UT_TCHECK(ut_unpin_self());
  return NULL;
}

int case_affinity(void) {
  cpu_set_t set;
  CPU_ZERO(&set);
  UT_CHECK(sched_getaffinity(0, sizeof(set), &set) == 0);
  UT_CHECK(CPU_COUNT(&set) == ut_ncpus);
  // The raw call returns the size of the kernel's mask in bytes.
  long bytes = syscall(SYS_sched_getaffinity, 0, sizeof(set), &set);
  UT_CHECK(bytes > 0 && bytes <= (long)sizeof(set) && bytes % 8 == 0, "returned %ld", bytes);
  UT_CHECK(ut_getcpu() >= 0);
  unsigned node = ~0u;
  UT_CHECK(syscall(SYS_getcpu, NULL, &node, NULL) == 0 && node == 0, "node %u", node);

  // Errors: an empty mask, a mask of CPUs that do not exist, another process's thread.
  CPU_ZERO(&set);
  UT_CHECK_ERR(sched_setaffinity(0, sizeof(set), &set), EINVAL);
  CPU_SET(CPU_SETSIZE - 1, &set);
  UT_CHECK_ERR(sched_setaffinity(0, sizeof(set), &set), EINVAL);
  UT_CHECK_ERR(syscall(SYS_sched_getaffinity, 0, 1, &set), EINVAL);  // shorter than the mask
  UT_CHECK_ERR(syscall(SYS_sched_getaffinity, 0x3fffffff, sizeof(set), &set), ESRCH);

  affinity_stop = 0;
  enum { kSpinners = 4 };
  pthread_t spin[kSpinners], pinned[64], mover;
  for (int i = 0; i < kSpinners; i++) {
    UT_CHECK(pthread_create(&spin[i], NULL, affinity_spinner, NULL) == 0);
  }
  int n = ut_ncpus < 64 ? ut_ncpus : 64;
  for (int i = 0; i < n; i++) {
    UT_CHECK(pthread_create(&pinned[i], NULL, affinity_pinned, (void*)(intptr_t)ut_cpus[i]) == 0);
  }
  UT_CHECK(pthread_create(&mover, NULL, affinity_mover, NULL) == 0);
  for (int i = 0; i < n; i++)
    UT_CHECK(pthread_join(pinned[i], NULL) == 0);
  UT_CHECK(pthread_join(mover, NULL) == 0);
  __atomic_store_n(&affinity_stop, 1, __ATOMIC_RELEASE);
  for (int i = 0; i < kSpinners; i++)
    UT_CHECK(pthread_join(spin[i], NULL) == 0);
  return 0;
}

// --- nice: priorities read back; CPU shares between nice levels on one CPU -----------------
// Shares are reported, and only properties that hold on any fair scheduler are checked:
// every thread runs, and a thread at nice 0 gets no less than one at nice 10 beside it.

enum { kNiceThreads = 3 };
static const int kNice[kNiceThreads] = {0, 0, 10};
static volatile int nice_stop;
static ut_barrier nice_barrier;
static long nice_count[kNiceThreads];

static void* nice_thread(void* p) {
  int i = (int)(intptr_t)p;
  UT_TCHECK(ut_pin_self(ut_cpu(0)));
  UT_TCHECK(setpriority(PRIO_PROCESS, (id_t)ut_gettid(), kNice[i]) == 0, "errno %d", errno);
  errno = 0;
  int got = getpriority(PRIO_PROCESS, (id_t)ut_gettid());
  UT_TCHECK(got == kNice[i] && errno == 0, "nice %d read back as %d", kNice[i], got);
  // The raw system call answers 20 - nice, so that no success is negative.
  UT_TCHECK(syscall(SYS_getpriority, PRIO_PROCESS, ut_gettid()) == 20 - kNice[i]);
  ut_barrier_wait(&nice_barrier);
  long count = 0;
  while (!__atomic_load_n(&nice_stop, __ATOMIC_ACQUIRE)) {
    for (volatile int k = 0; k < 1000; k++) {
    }
    count++;
  }
  nice_count[i] = count;
  return NULL;
}

int case_nice(void) {
  UT_CHECK_ERR(setpriority(PRIO_PROCESS, 0x3fffffff, 0), ESRCH);
  UT_CHECK_ERR(setpriority(42, 0, 0), EINVAL);
  nice_stop = 0;
  ut_barrier_init(&nice_barrier, kNiceThreads + 1);
  pthread_t t[kNiceThreads];
  for (int i = 0; i < kNiceThreads; i++) {
    UT_CHECK(pthread_create(&t[i], NULL, nice_thread, (void*)(intptr_t)i) == 0);
  }
  ut_barrier_wait(&nice_barrier);
  ut_sleep_ns(300000000);
  __atomic_store_n(&nice_stop, 1, __ATOMIC_RELEASE);
  for (int i = 0; i < kNiceThreads; i++)
    UT_CHECK(pthread_join(t[i], NULL) == 0);
  long total = 0;
  for (int i = 0; i < kNiceThreads; i++)
    total += nice_count[i];
  UT_CHECK(total > 0);
  ut_printf(
      "# nice: shares on one CPU: nice 0 %.1f%%, nice 0 %.1f%%, nice 10 %.1f%% "
      "(weights alone: 47.3%%, 47.3%%, 5.3%%)",
      100.0 * nice_count[0] / total, 100.0 * nice_count[1] / total, 100.0 * nice_count[2] / total);
  for (int i = 0; i < kNiceThreads; i++)
    UT_CHECK(nice_count[i] > 0, "thread %d never ran", i);
  UT_CHECK(nice_count[0] >= nice_count[2] && nice_count[1] >= nice_count[2],
           "nice 10 got more than nice 0: %ld, %ld, %ld", nice_count[0], nice_count[1],
           nice_count[2]);
  return 0;
}
