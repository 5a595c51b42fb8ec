// `usertest bench`: the figures of docs/perf.md's comparison with Linux, measured by the guest
// on its own CLOCK_MONOTONIC (with QEMU's -icount, that clock counts guest instructions).
// Each figure is the median of kReps repetitions; output lines are
//   bench NAME: VALUE UNIT
// and nothing in this mode is a pass/fail check except that the suite's cases still pass.
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "usertest.h"

enum { kReps = 5 };

static int cmp_i64(const void* a, const void* b) {
  int64_t x = *(const int64_t*)a, y = *(const int64_t*)b;
  return (x > y) - (x < y);
}

static int64_t median(int64_t* v, int n) {
  qsort(v, (size_t)n, sizeof(v[0]), cmp_i64);
  return v[n / 2];
}

static void report(const char* name, int64_t* ns_per_op, const char* unit, int64_t divisor) {
  int64_t m = median(ns_per_op, kReps);
  ut_printf("bench %s: %lld.%03lld %s", name, (long long)(m / divisor),
            (long long)((m % divisor) * 1000 / divisor), unit);
}

// --- null system call and sched_yield --------------------------------------------------------

static void bench_syscalls(void) {
  int64_t v[kReps];
  enum { kCalls = 20000 };
  for (int r = 0; r < kReps; r++) {
    int64_t t0 = ut_now_ns();
    for (int i = 0; i < kCalls; i++)
      syscall(SYS_getppid);
    v[r] = (ut_now_ns() - t0) * 1000 / kCalls;  // picoseconds, for three decimals of ns
  }
  report("null_syscall_getppid", v, "ns", 1000);
  for (int r = 0; r < kReps; r++) {
    int64_t t0 = ut_now_ns();
    for (int i = 0; i < kCalls; i++)
      sched_yield();
    v[r] = (ut_now_ns() - t0) * 1000 / kCalls;
  }
  report("sched_yield_alone", v, "ns", 1000);
}

// --- futex ping-pong -------------------------------------------------------------------------

enum { kRoundTrips = 1000 };
static volatile uint32_t pp_word;
static ut_barrier pp_barrier;

static void pp_loop(uint32_t me) {
  for (int i = 0; i < kRoundTrips; i++) {
    uint32_t v;
    while ((v = __atomic_load_n(&pp_word, __ATOMIC_ACQUIRE)) != me) {
      ut_futex(&pp_word, FUTEX_WAIT_PRIVATE, v, NULL, NULL, 0);
    }
    __atomic_store_n(&pp_word, 1 - me, __ATOMIC_RELEASE);
    ut_futex(&pp_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
  }
}

static void* pp_partner(void* p) {
  ut_pin_self((int)(intptr_t)p);
  for (int r = 0; r < kReps; r++) {
    ut_barrier_wait(&pp_barrier);
    pp_loop(1);
  }
  return NULL;
}

static void bench_pingpong(const char* name, int cpu_a, int cpu_b) {
  int64_t v[kReps];
  ut_pin_self(cpu_a);
  ut_barrier_init(&pp_barrier, 2);
  pthread_t t;
  pthread_create(&t, NULL, pp_partner, (void*)(intptr_t)cpu_b);
  for (int r = 0; r < kReps; r++) {
    pp_word = 0;
    ut_barrier_wait(&pp_barrier);
    int64_t t0 = ut_now_ns();
    pp_loop(0);
    v[r] = (ut_now_ns() - t0) / kRoundTrips;
    while (__atomic_load_n(&pp_word, __ATOMIC_ACQUIRE) != 0)
      sched_yield();
  }
  pthread_join(t, NULL);
  ut_unpin_self();
  report(name, v, "us/round-trip", 1000);
}

// --- condition variable ping-pong across CPUs --------------------------------------------------

static pthread_mutex_t cv_m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv_c = PTHREAD_COND_INITIALIZER;
static int cv_turn;

static void cv_loop(int me) {
  for (int i = 0; i < kRoundTrips; i++) {
    pthread_mutex_lock(&cv_m);
    while (cv_turn != me)
      pthread_cond_wait(&cv_c, &cv_m);
    cv_turn = 1 - me;
    pthread_cond_signal(&cv_c);
    pthread_mutex_unlock(&cv_m);
  }
}

static void* cv_partner(void* p) {
  ut_pin_self((int)(intptr_t)p);
  for (int r = 0; r < kReps; r++) {
    ut_barrier_wait(&pp_barrier);
    cv_loop(1);
  }
  return NULL;
}

static void bench_condvar(void) {
  int64_t v[kReps];
  ut_pin_self(ut_cpu(0));
  ut_barrier_init(&pp_barrier, 2);
  pthread_t t;
  pthread_create(&t, NULL, cv_partner, (void*)(intptr_t)ut_cpu(1));
  for (int r = 0; r < kReps; r++) {
    cv_turn = 0;
    ut_barrier_wait(&pp_barrier);
    int64_t t0 = ut_now_ns();
    cv_loop(0);
    v[r] = (ut_now_ns() - t0) / kRoundTrips;
    pthread_mutex_lock(&cv_m);
    while (cv_turn != 0)
      pthread_cond_wait(&cv_c, &cv_m);
    pthread_mutex_unlock(&cv_m);
  }
  pthread_join(t, NULL);
  ut_unpin_self();
  report("condvar_pingpong", v, "us/round-trip", 1000);  // CPUs 0 and 1, or 0 alone
}

// --- thread create + join, page faults --------------------------------------------------------

static void* nothing(void* p) {
  return p;
}

static void bench_threads(void) {
  int64_t v[kReps];
  enum { kThreads = 200 };
  for (int r = 0; r < kReps; r++) {
    int64_t t0 = ut_now_ns();
    for (int i = 0; i < kThreads; i++) {
      pthread_t t;
      pthread_create(&t, NULL, nothing, NULL);
      pthread_join(t, NULL);
    }
    v[r] = (ut_now_ns() - t0) / kThreads;
  }
  report("thread_create_join", v, "us", 1000);
}

static void bench_page_faults(void) {
  int64_t v[kReps];
  enum { kPages = 2048 };
  for (int r = 0; r < kReps; r++) {
    char* m = mmap(NULL, (size_t)kPages * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    int64_t t0 = ut_now_ns();
    for (int i = 0; i < kPages; i++)
      m[(size_t)i * 4096] = 1;
    v[r] = (ut_now_ns() - t0) * 1000 / kPages;
    munmap(m, (size_t)kPages * 4096);
  }
  report("page_fault_first_touch", v, "ns/page", 1000);
}

// --- the whole suite ------------------------------------------------------------------------

static int bench_suite(const ut_case* cases, int n) {
  int failed = 0;
  int64_t t0 = ut_now_ns();
  for (int i = 0; i < n; i++) {
    int64_t c0 = ut_now_ns();
    if (!ut_run_case(&cases[i])) {
      ut_printf("case %s: FAIL: %s", cases[i].name, ut_case_message());
      failed++;
    }
    ut_printf("# %s: %lld us", cases[i].name, (long long)((ut_now_ns() - c0) / 1000));
  }
  int64_t ms = (ut_now_ns() - t0) / 1000000;
  ut_printf("bench usertest_suite: %lld ms", (long long)ms);
  return failed;
}

int ut_bench_main(const ut_case* cases, int n) {
  ut_printf("# usertest bench: %d CPUs, medians of %d", ut_ncpus, kReps);
  bench_syscalls();
  bench_pingpong("futex_pingpong_same_cpu", ut_cpu(0), ut_cpu(0));
  if (ut_ncpus > 1) {
    bench_pingpong("futex_pingpong_cpu0_cpu1", ut_cpu(0), ut_cpu(1));
  } else {
    ut_printf("bench futex_pingpong_cpu0_cpu1: n/a (one CPU)");
  }
  bench_condvar();
  bench_threads();
  bench_page_faults();
  int failed = bench_suite(cases, n);
  if (failed > 0) {
    ut_printf("usertest: bench: %d cases failed", failed);
    return 1;
  }
  ut_printf("usertest: bench done");
  return 0;
}
