// The exit_group case: a secondary thread ends the process while its siblings spin, block and
// sleep on every CPU (the seed's thread-exit bug: siblings on other CPUs went on running).
//
// A process cannot watch its own end, and Lichen has no fork yet, so this case is the last
// one and the process's exit status IS its check: the exiting thread prints the case's line
// and the suite's final line, then calls exit_group(N) (N from --exit-status, default 0).
// Whoever runs usertest must check both the final line and the exit status (run-user and
// `./lichen linux` do). If exit_group failed to stop a sibling, that sibling ends the process
// itself with a status that names what went wrong (3: the main thread, 4: a spinner, 5: a
// sleeper, 6: a futex waiter) once it notices, or the run times out.
#define _GNU_SOURCE
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "usertest.h"

extern int ut_total_cases;

enum { kStatusMain = 3, kStatusSpinner = 4, kStatusSleeper = 5, kStatusWaiter = 6 };
static const int64_t kBackstopNs = 30LL * 1000000000;  // "promptly" is far shorter than this

static _Atomic int64_t exit_called_at;  // when exit_group was called, 0 before
static atomic_long spinners_running;
static volatile uint32_t never_word;    // nobody ever wakes it
static volatile uint32_t waiters_word;  // same

static void survived(const char* who, int status) {
  ut_printf("case exit_group: FAIL: a %s ran on after exit_group", who);
  syscall(SYS_exit_group, status);
}

static void* spinner(void* p) {
  int cpu = (int)(intptr_t)p;
  ut_pin_self(cpu);
  atomic_fetch_add(&spinners_running, 1);
  for (unsigned long i = 0;; i++) {
    if ((i & 0xffff) == 0) {
      int64_t at = atomic_load(&exit_called_at);
      if (at != 0 && ut_now_ns() - at > kBackstopNs) survived("spinning thread", kStatusSpinner);
    }
  }
  return NULL;
}

static void* sleeper(void* p) {
  ut_pin_self((int)(intptr_t)p);
  struct timespec ts = {kBackstopNs / 1000000000 * 2, 0};
  syscall(SYS_nanosleep, &ts, NULL);
  survived("sleeping thread", kStatusSleeper);
  return NULL;
}

static void* futex_waiter(void* p) {
  ut_pin_self((int)(intptr_t)p);
  for (;;) {
    // No timeout: only exit_group can end this thread.
    ut_futex(&waiters_word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
    if (atomic_load(&exit_called_at) != 0) survived("futex waiter", kStatusWaiter);
  }
  return NULL;
}

static void* joiner(void* p) {
  // Blocked in pthread_join on a spinner that never ends.
  pthread_join(*(pthread_t*)p, NULL);
  survived("joining thread", kStatusWaiter);
  return NULL;
}

static void* exiter(void* p) {
  ut_pin_self((int)(intptr_t)p);
  ut_printf("case exit_group: ok, exit_group(%d) from a secondary thread ends the process",
            ut_exit_status);
  ut_printf("usertest: all %d cases passed", ut_total_cases);
  atomic_store(&exit_called_at, ut_now_ns());
  syscall(SYS_exit_group, ut_exit_status);
  survived("thread that called exit_group", kStatusMain);
  return NULL;
}

int case_exit_group(void) {
  static pthread_t spinners[64];
  pthread_t t;
  int n = ut_ncpus < 64 ? ut_ncpus : 64;
  // On every CPU: one thread spinning, one asleep in nanosleep, one blocked on a futex.
  for (int i = 0; i < n; i++) {
    UT_CHECK(pthread_create(&spinners[i], NULL, spinner, (void*)(intptr_t)ut_cpus[i]) == 0);
    UT_CHECK(pthread_create(&t, NULL, sleeper, (void*)(intptr_t)ut_cpus[i]) == 0);
    UT_CHECK(pthread_create(&t, NULL, futex_waiter, (void*)(intptr_t)ut_cpus[i]) == 0);
  }
  UT_CHECK(pthread_create(&t, NULL, joiner, &spinners[0]) == 0);
  // Everyone in place: spinners counted in, futex waiters asleep in the kernel.
  while (atomic_load(&spinners_running) < n)
    sched_yield();
  UT_CHECK(ut_futex_settle(&waiters_word, n));
  ut_sleep_ns(5000000);  // the sleepers are asleep by now (nothing depends on it)
  UT_CHECK(pthread_create(&t, NULL, exiter, (void*)(intptr_t)ut_cpus[n - 1]) == 0);
  // The main thread blocks too; it must never wake up.
  struct timespec ts = {kBackstopNs / 1000000000 * 2, 0};
  ut_futex(&never_word, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0);
  survived("main thread", kStatusMain);
  return 1;
}
