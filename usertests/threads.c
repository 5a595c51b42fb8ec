// Cases about threads: creation storms, exit, per-thread state, mutexes and condition variables.
#define _GNU_SOURCE
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "usertest.h"

// Small stacks: hundreds of threads alive at once stay cheap on any kernel.
static pthread_attr_t small_stack(void) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 64 * 1024);
  return attr;
}

// --- threads_storm: hundreds alive at once, waves of create+join, detached threads ---------

enum { kAlive = 256, kWaves = 8, kWave = 32, kDetached = 64 };

typedef struct {
  ut_barrier* start;
  atomic_int* count;
  long tid;
} storm_arg;

static void* alive_thread(void* p) {
  storm_arg* a = (storm_arg*)p;
  a->tid = ut_gettid();
  ut_barrier_wait(a->start);  // every one of them exists at this point
  atomic_fetch_add(a->count, 1);
  return p;
}

static void* wave_thread(void* p) {
  return (void*)((intptr_t)p * 3 + 1);
}

static atomic_int detached_left;
static volatile uint32_t detached_done;

static void* detached_thread(void* p) {
  (void)p;
  if (atomic_fetch_sub(&detached_left, 1) == 1) {
    __atomic_store_n(&detached_done, 1, __ATOMIC_RELEASE);
    ut_futex(&detached_done, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
  }
  return NULL;
}

static int cmp_long(const void* a, const void* b) {
  long x = *(const long*)a, y = *(const long*)b;
  return (x > y) - (x < y);
}

int case_threads_storm(void) {
  pthread_attr_t attr = small_stack();
  static pthread_t t[kAlive];
  static storm_arg args[kAlive];
  static long tids[kAlive];
  ut_barrier start;
  ut_barrier_init(&start, kAlive);
  atomic_int count = 0;
  for (int i = 0; i < kAlive; i++) {
    args[i] = (storm_arg){&start, &count, 0};
    UT_CHECK(pthread_create(&t[i], &attr, alive_thread, &args[i]) == 0, "thread %d", i);
  }
  for (int i = 0; i < kAlive; i++) {
    void* ret = NULL;
    UT_CHECK(pthread_join(t[i], &ret) == 0);
    UT_CHECK(ret == &args[i]);
    tids[i] = args[i].tid;
  }
  UT_CHECK(atomic_load(&count) == kAlive, "count %d", atomic_load(&count));
  // Thread ids are distinct while the threads live together.
  qsort(tids, kAlive, sizeof(long), cmp_long);
  for (int i = 1; i < kAlive; i++)
    UT_CHECK(tids[i] != tids[i - 1] && tids[i - 1] > 0);

  for (int w = 0; w < kWaves; w++) {
    for (int i = 0; i < kWave; i++) {
      UT_CHECK(pthread_create(&t[i], &attr, wave_thread, (void*)(intptr_t)(w * kWave + i)) == 0);
    }
    for (int i = 0; i < kWave; i++) {
      void* ret = NULL;
      UT_CHECK(pthread_join(t[i], &ret) == 0);
      UT_CHECK((intptr_t)ret == (intptr_t)(w * kWave + i) * 3 + 1);
    }
  }

  atomic_store(&detached_left, kDetached);
  detached_done = 0;
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  for (int i = 0; i < kDetached; i++) {
    pthread_t d;
    UT_CHECK(pthread_create(&d, &attr, detached_thread, NULL) == 0);
  }
  while (__atomic_load_n(&detached_done, __ATOMIC_ACQUIRE) == 0) {
    ut_futex(&detached_done, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
  }
  pthread_attr_destroy(&attr);
  return 0;
}

// --- thread_exit: exit(2) ends one thread; pthread_exit's value; CLEARTID wakes joiners ----

#ifdef __GLIBC__
static void* raw_exit_thread(void* p) {
  (void)p;
  // The raw exit system call, not glibc's exit(3): it must end this thread only (the seed's
  // kernel ended the process), and the kernel's CHILD_CLEARTID write and wake is what lets
  // pthread_join return.
  syscall(SYS_exit, 7);
  return (void*)1;  // not reached
}
#endif

static void* pthread_exit_thread(void* p) {
  pthread_exit((void*)((intptr_t)p + 100));
  return NULL;
}

static void* exit_while_main_waits(void* p) {
  ut_sleep_ns(2000000);  // the main thread is asleep in pthread_join by now (or soon)
#ifdef __GLIBC__
  syscall(SYS_exit, 0);
#endif
  return p;
}

int case_thread_exit(void) {
#ifdef __GLIBC__
  // glibc's pthread_join waits for the kernel to clear the thread's tid (CHILD_CLEARTID), so a
  // raw exit is joinable there. musl points CHILD_CLEARTID at its thread-list lock and marks
  // the thread exited itself in pthread_exit: a raw exit is not a thread exit for musl.
  for (int i = 0; i < 16; i++) {
    pthread_t t;
    UT_CHECK(pthread_create(&t, NULL, raw_exit_thread, NULL) == 0);
    UT_CHECK(pthread_join(t, NULL) == 0);
  }
#endif
  for (int i = 0; i < 16; i++) {
    pthread_t t;
    void* ret = NULL;
    UT_CHECK(pthread_create(&t, NULL, pthread_exit_thread, (void*)(intptr_t)i) == 0);
    UT_CHECK(pthread_join(t, &ret) == 0);
    UT_CHECK((intptr_t)ret == i + 100);
  }
  pthread_t t;
  UT_CHECK(pthread_create(&t, NULL, exit_while_main_waits, NULL) == 0);
  UT_CHECK(pthread_join(t, NULL) == 0);
  return 0;
}

// --- tls_fpsimd: TLS (TPIDR_EL0) and FP/SIMD registers are per thread ----------------------

static __thread uint64_t tls_value;

// Loads all 32 SIMD registers and FPCR with a thread's pattern, yields to the kernel inside
// the same asm block (so the compiler cannot save anything for us), and stores them back.
static bool fpsimd_roundtrip(uint64_t seed) {
  uint64_t in[64] __attribute__((aligned(16)));
  uint64_t out[64] __attribute__((aligned(16)));
  for (int i = 0; i < 64; i++)
    in[i] = seed * 0x9E3779B97F4A7C15ULL + (uint64_t)i * 0x1234567;
  memset(out, 0, sizeof(out));
  // Rounding mode (bits 23:22) and flush-to-zero (bit 24): state only FPCR holds.
  uint64_t fpcr_in = ((seed & 3) << 22) | (((seed >> 2) & 1) << 24);
  uint64_t fpcr_out = 0;
  register long x8 __asm__("x8") = SYS_sched_yield;
  register long x0 __asm__("x0") = 0;
  __asm__ volatile(
      "msr fpcr, %[fpcr_in]\n"
      "ldp q0, q1, [%[in], #0]\n"
      "ldp q2, q3, [%[in], #32]\n"
      "ldp q4, q5, [%[in], #64]\n"
      "ldp q6, q7, [%[in], #96]\n"
      "ldp q8, q9, [%[in], #128]\n"
      "ldp q10, q11, [%[in], #160]\n"
      "ldp q12, q13, [%[in], #192]\n"
      "ldp q14, q15, [%[in], #224]\n"
      "ldp q16, q17, [%[in], #256]\n"
      "ldp q18, q19, [%[in], #288]\n"
      "ldp q20, q21, [%[in], #320]\n"
      "ldp q22, q23, [%[in], #352]\n"
      "ldp q24, q25, [%[in], #384]\n"
      "ldp q26, q27, [%[in], #416]\n"
      "ldp q28, q29, [%[in], #448]\n"
      "ldp q30, q31, [%[in], #480]\n"
      "svc #0\n"
      "stp q0, q1, [%[out], #0]\n"
      "stp q2, q3, [%[out], #32]\n"
      "stp q4, q5, [%[out], #64]\n"
      "stp q6, q7, [%[out], #96]\n"
      "stp q8, q9, [%[out], #128]\n"
      "stp q10, q11, [%[out], #160]\n"
      "stp q12, q13, [%[out], #192]\n"
      "stp q14, q15, [%[out], #224]\n"
      "stp q16, q17, [%[out], #256]\n"
      "stp q18, q19, [%[out], #288]\n"
      "stp q20, q21, [%[out], #320]\n"
      "stp q22, q23, [%[out], #352]\n"
      "stp q24, q25, [%[out], #384]\n"
      "stp q26, q27, [%[out], #416]\n"
      "stp q28, q29, [%[out], #448]\n"
      "stp q30, q31, [%[out], #480]\n"
      "mrs %[fpcr_out], fpcr\n"
      "msr fpcr, xzr\n"
      : "+r"(x0), [fpcr_out] "=&r"(fpcr_out)
      : [in] "r"(in), [out] "r"(out), [fpcr_in] "r"(fpcr_in), "r"(x8)
      : "memory", "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11", "v12",
        "v13", "v14", "v15", "v16", "v17", "v18", "v19", "v20", "v21", "v22", "v23", "v24", "v25",
        "v26", "v27", "v28", "v29", "v30", "v31");
  if (!UT_EXPECT(x0 == 0, "sched_yield returned %ld", x0)) return false;
  if (!UT_EXPECT(fpcr_out == fpcr_in, "FPCR %#llx became %#llx", (unsigned long long)fpcr_in,
                 (unsigned long long)fpcr_out)) {
    return false;
  }
  for (int i = 0; i < 64; i++) {
    if (!UT_EXPECT(out[i] == in[i], "v%d lane %d: %#llx became %#llx", i / 2, i % 2,
                   (unsigned long long)in[i], (unsigned long long)out[i])) {
      return false;
    }
  }
  return true;
}

static void* tls_fpsimd_thread(void* p) {
  uint64_t seed = (uint64_t)(uintptr_t)p;
  // Two threads per CPU, so that the kernel switches between them inside the yields.
  UT_TCHECK(ut_pin_self(ut_cpu((int)seed / 2)));
  UT_TCHECK(tls_value == 0, "a new thread's TLS is not zero");
  tls_value = seed;
  for (int i = 0; i < 300 && !ut_failed(); i++) {
    if (!fpsimd_roundtrip(seed + (uint64_t)i * 16)) return NULL;
    UT_TCHECK(tls_value == seed, "TLS %llu became %llu", (unsigned long long)seed,
              (unsigned long long)tls_value);
    // Floating point through the compiler too: the same sum in every thread.
    volatile double x = 0;
    for (int k = 1; k <= 20; k++)
      x += 1.0 / k;
    UT_TCHECK(x > 3.597739657 && x < 3.597739658, "harmonic sum %.12f", (double)x);
  }
  return NULL;
}

int case_tls_fpsimd(void) {
  enum { kThreads = 8 };
  pthread_t t[kThreads];
  tls_value = 12345;
  for (int i = 0; i < kThreads; i++) {
    UT_CHECK(pthread_create(&t[i], NULL, tls_fpsimd_thread, (void*)(uintptr_t)i) == 0);
  }
  for (int i = 0; i < kThreads; i++)
    UT_CHECK(pthread_join(t[i], NULL) == 0);
  UT_CHECK(tls_value == 12345, "the main thread's TLS changed");
  return 0;
}

// --- mutex_pingpong: strict alternation with a mutex and a condition variable ---------------

enum { kPingPongRounds = 1000 };

static pthread_mutex_t pp_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pp_cond = PTHREAD_COND_INITIALIZER;
static int pp_turn;  // whose move: 0 or 1
static int pp_moves;

static void* pingpong_thread(void* p) {
  int me = (int)(intptr_t)p;
  UT_TCHECK(ut_pin_self(ut_cpu(me)));
  for (int i = 0; i < kPingPongRounds; i++) {
    pthread_mutex_lock(&pp_mutex);
    while (pp_turn != me)
      pthread_cond_wait(&pp_cond, &pp_mutex);
    bool ok =
        UT_EXPECT(pp_moves == 2 * i + me, "move %d in round %d of thread %d", pp_moves, i, me);
    pp_moves++;
    pp_turn = 1 - me;
    pthread_cond_signal(&pp_cond);
    pthread_mutex_unlock(&pp_mutex);
    if (!ok) return NULL;
  }
  return NULL;
}

int case_mutex_pingpong(void) {
  pp_turn = 0;
  pp_moves = 0;
  pthread_t t[2];
  for (int i = 0; i < 2; i++) {
    UT_CHECK(pthread_create(&t[i], NULL, pingpong_thread, (void*)(intptr_t)i) == 0);
  }
  for (int i = 0; i < 2; i++)
    UT_CHECK(pthread_join(t[i], NULL) == 0);
  UT_CHECK(pp_moves == 2 * kPingPongRounds, "moves %d", pp_moves);
  return 0;
}

// --- mutex_contention: many threads, one mutex, no lost update ------------------------------

enum { kContenders = 16, kIncrements = 1000 };
static pthread_mutex_t contention_mutex = PTHREAD_MUTEX_INITIALIZER;
static long contention_counter;  // plain: only the mutex protects it

static void* contention_thread(void* p) {
  (void)p;
  for (int i = 0; i < kIncrements; i++) {
    pthread_mutex_lock(&contention_mutex);
    long v = contention_counter;
    if ((i & 63) == 0) sched_yield();  // hold the lock across a system call now and then
    contention_counter = v + 1;
    pthread_mutex_unlock(&contention_mutex);
  }
  return NULL;
}

int case_mutex_contention(void) {
  contention_counter = 0;
  pthread_t t[kContenders];
  for (int i = 0; i < kContenders; i++) {
    UT_CHECK(pthread_create(&t[i], NULL, contention_thread, NULL) == 0);
  }
  for (int i = 0; i < kContenders; i++)
    UT_CHECK(pthread_join(t[i], NULL) == 0);
  UT_CHECK(contention_counter == (long)kContenders * kIncrements, "counter %ld",
           contention_counter);
  return 0;
}

// --- condvar: broadcast reaches every waiter; timed waits time out on both clocks -----------

enum { kCvWaiters = 16, kCvGenerations = 20 };
static pthread_mutex_t cv_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv_cond = PTHREAD_COND_INITIALIZER;
static pthread_cond_t cv_done_cond = PTHREAD_COND_INITIALIZER;
static int cv_generation;
static int cv_seen;

static void* cv_waiter(void* p) {
  (void)p;
  for (int g = 1; g <= kCvGenerations; g++) {
    pthread_mutex_lock(&cv_mutex);
    while (cv_generation < g)
      pthread_cond_wait(&cv_cond, &cv_mutex);
    cv_seen++;
    pthread_cond_signal(&cv_done_cond);
    pthread_mutex_unlock(&cv_mutex);
  }
  return NULL;
}

int case_condvar(void) {
  cv_generation = 0;
  cv_seen = 0;
  pthread_t t[kCvWaiters];
  for (int i = 0; i < kCvWaiters; i++) {
    UT_CHECK(pthread_create(&t[i], NULL, cv_waiter, NULL) == 0);
  }
  for (int g = 1; g <= kCvGenerations; g++) {
    pthread_mutex_lock(&cv_mutex);
    cv_generation = g;
    pthread_cond_broadcast(&cv_cond);
    while (cv_seen < g * kCvWaiters)
      pthread_cond_wait(&cv_done_cond, &cv_mutex);
    pthread_mutex_unlock(&cv_mutex);
  }
  for (int i = 0; i < kCvWaiters; i++)
    UT_CHECK(pthread_join(t[i], NULL) == 0);
  UT_CHECK(cv_seen == kCvWaiters * kCvGenerations, "seen %d", cv_seen);

  // Timed waits that expire: glibc waits with FUTEX_WAIT_BITSET, with FUTEX_CLOCK_REALTIME
  // for the default clock (the op the seed's kernel refused).
  static const clockid_t kClocks[] = {CLOCK_REALTIME, CLOCK_MONOTONIC};
  for (int i = 0; i < 2; i++) {
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, kClocks[i]);
    pthread_cond_t c;
    pthread_cond_init(&c, &ca);
    struct timespec deadline;
    clock_gettime(kClocks[i], &deadline);
    deadline.tv_nsec += 5000000;
    if (deadline.tv_nsec >= 1000000000) {
      deadline.tv_sec++;
      deadline.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&cv_mutex);
    int rc = pthread_cond_timedwait(&c, &cv_mutex, &deadline);
    struct timespec now;
    clock_gettime(kClocks[i], &now);
    pthread_mutex_unlock(&cv_mutex);
    UT_CHECK(rc == ETIMEDOUT, "clock %d: rc %d", (int)kClocks[i], rc);
    UT_CHECK(now.tv_sec > deadline.tv_sec ||
                 (now.tv_sec == deadline.tv_sec && now.tv_nsec >= deadline.tv_nsec),
             "clock %d: woke before the deadline", (int)kClocks[i]);
    pthread_cond_destroy(&c);
    pthread_condattr_destroy(&ca);
  }
  return 0;
}
