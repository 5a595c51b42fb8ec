// Cases about single system calls: identity, unknown numbers, bad pointers, clocks, sleeps.
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <sys/utsname.h>

#include "usertest.h"

// --- identity: pid, tid, uname, getrandom, prlimit ------------------------------------------

static void* identity_thread(void* arg) {
  long* out = (long*)arg;
  out[0] = getpid();
  out[1] = ut_gettid();
  return NULL;
}

int case_identity(void) {
  long pid = getpid();
  UT_CHECK(pid > 0);
  // The main thread's tid is the process's pid; another thread's is not, same pid.
  UT_CHECK(ut_gettid() == pid, "tid %ld pid %ld", ut_gettid(), pid);
  long ids[2] = {0, 0};
  pthread_t t;
  UT_CHECK(pthread_create(&t, NULL, identity_thread, ids) == 0);
  UT_CHECK(pthread_join(t, NULL) == 0);
  UT_CHECK(ids[0] == pid, "thread pid %ld", ids[0]);
  UT_CHECK(ids[1] > 0 && ids[1] != pid, "thread tid %ld", ids[1]);
  UT_CHECK(getppid() >= 0);
  UT_CHECK(syscall(SYS_getuid) >= 0 && syscall(SYS_geteuid) >= 0);
  UT_CHECK(syscall(SYS_getgid) >= 0 && syscall(SYS_getegid) >= 0);

  struct utsname u;
  memset(&u, 0xff, sizeof(u));
  UT_CHECK(uname(&u) == 0);
  UT_CHECK(memchr(u.sysname, 0, sizeof(u.sysname)) != NULL && u.sysname[0] != '\0');
  UT_CHECK(memchr(u.release, 0, sizeof(u.release)) != NULL);
  UT_CHECK(strcmp(u.machine, "aarch64") == 0, "machine '%s'", u.machine);
  ut_printf("# identity: uname %s %s %s", u.sysname, u.release, u.machine);

  // getrandom: full length, and two draws of 32 bytes differ (2^-256 to be wrong).
  unsigned char a[32], b[32];
  UT_CHECK(getrandom(a, sizeof(a), 0) == (ssize_t)sizeof(a));
  UT_CHECK(getrandom(b, sizeof(b), 0) == (ssize_t)sizeof(b));
  UT_CHECK(memcmp(a, b, sizeof(a)) != 0);

  struct rlimit lim;
  UT_CHECK(prlimit(0, RLIMIT_STACK, NULL, &lim) == 0);
  UT_CHECK(lim.rlim_cur > 0 && lim.rlim_cur <= lim.rlim_max);
  return 0;
}

// --- enosys: numbers no kernel implements ---------------------------------------------------

int case_enosys(void) {
  UT_CHECK_ERR(syscall(999), ENOSYS);
  UT_CHECK_ERR(syscall(1000, 1, 2, 3, 4, 5, 6), ENOSYS);
  UT_CHECK_ERR(syscall(4095), ENOSYS);
  // The process goes on as if nothing happened.
  UT_CHECK(getpid() > 0);
  return 0;
}

// --- efault: bad pointers are errors, never crashes -----------------------------------------

int case_efault(void) {
  void* const low = (void*)1;                           // page 0: never mapped
  void* const high = (void*)0xffff000000001000ULL;      // the kernel's half
  void* const hole = (void*)0x0000700000000000ULL;      // user range, unmapped here
  UT_CHECK_ERR(syscall(SYS_write, 1, low, 5), EFAULT);  // write(1, (void*)1, 5)
  UT_CHECK_ERR(syscall(SYS_write, 1, high, 5), EFAULT);
  UT_CHECK_ERR(syscall(SYS_write, 1, hole, 5), EFAULT);
  struct iovec iov[2] = {{low, 4}, {(void*)"abc\n", 4}};
  UT_CHECK_ERR(writev(1, iov, 2), EFAULT);
  UT_CHECK_ERR(syscall(SYS_writev, 1, low, 1), EFAULT);
  UT_CHECK_ERR(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, low), EFAULT);
  UT_CHECK_ERR(syscall(SYS_clock_gettime, CLOCK_REALTIME, high), EFAULT);
  // qemu-user 7.2 ignores the failed read of the request and sleeps on stack garbage.
  if (!ut_qemu_user) UT_CHECK_ERR(syscall(SYS_nanosleep, low, NULL), EFAULT);
  UT_CHECK_ERR(syscall(SYS_uname, low), EFAULT);
  UT_CHECK_ERR(syscall(SYS_getrandom, low, 16, 0), EFAULT);
  // Futex words must be aligned (EINVAL first): bad but aligned addresses. The word wake_op
  // operates on is the second one.
  static uint32_t word;
  UT_CHECK_ERR(syscall(SYS_futex, 16, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0), EFAULT);
  UT_CHECK_ERR(syscall(SYS_futex, &word, FUTEX_WAKE_OP_PRIVATE, 1, 1, 16, 0), EFAULT);
  if (!ut_qemu_user) {
    // qemu-user hands any address to the host's futex after adding its guest base: one in
    // the kernel's half can land in qemu's own memory.
    UT_CHECK_ERR(syscall(SYS_futex, high, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0), EFAULT);
    UT_CHECK_ERR(syscall(SYS_futex, &word, FUTEX_WAKE_OP_PRIVATE, 1, 1, high, 0), EFAULT);
  }
  cpu_set_t* bad_set = (cpu_set_t*)low;
  UT_CHECK_ERR(syscall(SYS_sched_getaffinity, 0, sizeof(cpu_set_t), bad_set), EFAULT);
  UT_CHECK_ERR(syscall(SYS_sched_setaffinity, 0, sizeof(cpu_set_t), bad_set), EFAULT);

  // A buffer that starts mapped and runs into an unmapped page.
  char* two = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  UT_CHECK(two != MAP_FAILED);
  UT_CHECK(munmap(two + 4096, 4096) == 0);
  UT_CHECK_ERR(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, two + 4096 - 8), EFAULT);
  UT_CHECK_ERR(syscall(SYS_futex, two + 4096, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0), EFAULT);
  UT_CHECK_ERR(syscall(SYS_futex, two, FUTEX_WAKE_OP_PRIVATE, 1, 1, two + 4096, 0), EFAULT);
  // Read-only memory is not writable by the kernel on our behalf either.
  UT_CHECK(mprotect(two, 4096, PROT_READ) == 0);
  UT_CHECK_ERR(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, two), EFAULT);
  UT_CHECK(mprotect(two, 4096, PROT_READ | PROT_WRITE) == 0);
  UT_CHECK(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, two) == 0);
  UT_CHECK(munmap(two, 4096) == 0);
  return 0;
}

// --- clocks: ids, resolution, REALTIME against gettimeofday ----------------------------------

int case_clocks(void) {
  struct timespec res;
  UT_CHECK(syscall(SYS_clock_getres, CLOCK_MONOTONIC, &res) == 0);
  UT_CHECK(res.tv_sec == 0 && res.tv_nsec > 0 && res.tv_nsec <= 10000000, "res %ld.%09ld",
           (long)res.tv_sec, res.tv_nsec);
  ut_printf("# clocks: MONOTONIC resolution %ld ns", res.tv_nsec);
  UT_CHECK(syscall(SYS_clock_getres, CLOCK_REALTIME, &res) == 0);
  UT_CHECK_ERR(syscall(SYS_clock_gettime, 1000, &res), EINVAL);
  UT_CHECK_ERR(syscall(SYS_clock_getres, 1000, &res), EINVAL);
  // The C library's MONOTONIC (Linux's vDSO) and the system call are one clock.
  int64_t a = ut_now_ns();
  int64_t b = ut_clock_ns(CLOCK_MONOTONIC);
  int64_t c = ut_now_ns();
  UT_CHECK(a <= b && b <= c, "%lld %lld %lld", (long long)a, (long long)b, (long long)c);
  // gettimeofday is REALTIME in microseconds.
  int64_t r0 = ut_clock_ns(CLOCK_REALTIME);
  struct timeval tv;
  UT_CHECK(syscall(SYS_gettimeofday, &tv, NULL) == 0);
  int64_t r1 = ut_clock_ns(CLOCK_REALTIME);
  int64_t us = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
  UT_CHECK(r0 / 1000 <= us && us <= r1 / 1000, "%lld <= %lld <= %lld", (long long)(r0 / 1000),
           (long long)us, (long long)(r1 / 1000));
  return 0;
}

// --- monotonic: never goes back, within a thread or across CPUs ----------------------------

enum { kMonoReads = 3000 };
static _Atomic int64_t mono_latest;

static void* monotonic_thread(void* arg) {
  int cpu = (int)(intptr_t)arg;
  UT_TCHECK(ut_pin_self(cpu));
  int64_t mine = 0;
  for (int i = 0; i < kMonoReads && !ut_failed(); i++) {
    // What another thread published happened before this read: the clock must not be
    // behind it. Alternate the C library's clock and the raw system call.
    int64_t seen = atomic_load_explicit(&mono_latest, memory_order_acquire);
    int64_t now = (i & 1) ? ut_now_ns() : ut_clock_ns(CLOCK_MONOTONIC);
    UT_TCHECK(now >= seen, "CPU %d read %lld after another CPU published %lld", cpu, (long long)now,
              (long long)seen);
    UT_TCHECK(now >= mine, "CPU %d went back from %lld to %lld", cpu, (long long)mine,
              (long long)now);
    mine = now;
    int64_t cur = atomic_load_explicit(&mono_latest, memory_order_relaxed);
    while (cur < now && !atomic_compare_exchange_weak_explicit(
                            &mono_latest, &cur, now, memory_order_release, memory_order_relaxed)) {
    }
    if (i % 500 == 0) sched_yield();
  }
  return NULL;
}

int case_monotonic(void) {
  atomic_store(&mono_latest, 0);
  int n = ut_ncpus < 8 ? ut_ncpus : 8;
  if (n < 2) n = 2;
  pthread_t t[8];
  for (int i = 0; i < n; i++) {
    UT_CHECK(pthread_create(&t[i], NULL, monotonic_thread, (void*)(intptr_t)ut_cpu(i)) == 0);
  }
  for (int i = 0; i < n; i++)
    UT_CHECK(pthread_join(t[i], NULL) == 0);
  return 0;
}

// --- nanosleep: never shorter than asked; oversleep is reported, not judged ----------------

static void* sleeper_thread(void* arg) {
  int64_t ns = (int64_t)(intptr_t)arg;
  for (int i = 0; i < 3 && !ut_failed(); i++) {
    int64_t t0 = ut_now_ns();
    ut_sleep_ns(ns);
    int64_t slept = ut_now_ns() - t0;
    UT_TCHECK(slept >= ns, "slept %lld ns of %lld", (long long)slept, (long long)ns);
  }
  return NULL;
}

int case_nanosleep(void) {
  static const int64_t kAsked[] = {1000, 100000, 1000000, 5000000, 20000000};
  for (size_t i = 0; i < sizeof(kAsked) / sizeof(kAsked[0]); i++) {
    int64_t worst = 0;
    for (int rep = 0; rep < 3; rep++) {
      struct timespec ts = {0, (long)kAsked[i]};
      int64_t t0 = ut_now_ns();
      UT_CHECK(syscall(SYS_nanosleep, &ts, NULL) == 0);
      int64_t slept = ut_now_ns() - t0;
      UT_CHECK(slept >= kAsked[i], "asked %lld ns, slept %lld", (long long)kAsked[i],
               (long long)slept);
      if (slept - kAsked[i] > worst) worst = slept - kAsked[i];
    }
    ut_printf("# nanosleep: asked %lld us, overslept at most %lld us", (long long)kAsked[i] / 1000,
              (long long)worst / 1000);
  }
  // clock_nanosleep: relative and absolute, MONOTONIC and REALTIME.
  static const clockid_t kClocks[] = {CLOCK_MONOTONIC, CLOCK_REALTIME};
  for (int i = 0; i < 2; i++) {
    clockid_t id = kClocks[i];
    struct timespec rel = {0, 3000000};
    int64_t t0 = ut_clock_ns(id);
    UT_CHECK(syscall(SYS_clock_nanosleep, id, 0, &rel, NULL) == 0);
    UT_CHECK(ut_clock_ns(id) - t0 >= 3000000, "clock %d relative", (int)id);
    int64_t target = ut_clock_ns(id) + 3000000;
    struct timespec abs = {target / 1000000000, target % 1000000000};
    UT_CHECK(syscall(SYS_clock_nanosleep, id, TIMER_ABSTIME, &abs, NULL) == 0);
    int64_t woke = ut_clock_ns(id);
    UT_CHECK(woke >= target, "clock %d woke at %lld before %lld", (int)id, (long long)woke,
             (long long)target);
    // A deadline in the past returns at once, successfully.
    struct timespec past = {0, 1};
    UT_CHECK(syscall(SYS_clock_nanosleep, id, TIMER_ABSTIME, &past, NULL) == 0);
  }
  struct timespec bad = {0, 1000000000};
  UT_CHECK_ERR(syscall(SYS_nanosleep, &bad, NULL), EINVAL);
  bad.tv_nsec = -1;
  UT_CHECK_ERR(syscall(SYS_nanosleep, &bad, NULL), EINVAL);
  bad.tv_sec = -1;
  bad.tv_nsec = 0;
  UT_CHECK_ERR(syscall(SYS_nanosleep, &bad, NULL), EINVAL);
  struct timespec ok = {0, 1000};
  UT_CHECK_ERR(syscall(SYS_clock_nanosleep, 1000, 0, &ok, NULL), EINVAL);

  // Many sleepers at once, spread over the CPUs.
  pthread_t t[8];
  for (int i = 0; i < 8; i++) {
    UT_CHECK(pthread_create(&t[i], NULL, sleeper_thread, (void*)(intptr_t)(2000000 + i * 500000)) ==
             0);
  }
  for (int i = 0; i < 8; i++)
    UT_CHECK(pthread_join(t[i], NULL) == 0);
  return 0;
}
