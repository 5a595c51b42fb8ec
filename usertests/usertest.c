// usertest's driver: the case table, the runner, the shared helpers and the PID 1 wrapper
// that lets Linux run the suite as /init. See usertest.h for the output protocol and
// docs/usertest.md for what each case checks.
//
//   usertest [--poweroff] [--exit-status N] [--qemu-user] [--list | bench | CASE...]
//
//   (no case)        every case in order; the last one, exit_group, ends the process from a
//                    secondary thread with status N (default 0): the exit status is its check
//   CASE...          only these cases, in the table's order (exit_group only if named)
//   bench            the timing mode (bench.c): one `bench NAME VALUE UNIT` line per figure
//   --list           the case names
//   --qemu-user      under qemu-user: relax the few checks its emulation fails (usertest.h)
//   --poweroff       when PID 1 (Linux's /init): run in a forked child, report its exit
//                    status, then power the machine off with reboot(RB_POWER_OFF); PID 1 must
//                    never exit on Linux, and the exit_group case ends its own process
#define _GNU_SOURCE
#include "usertest.h"

#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/wait.h>

// The cases, defined in the other files of this directory.
int case_identity(void);
int case_enosys(void);
int case_efault(void);
int case_clocks(void);
int case_monotonic(void);
int case_nanosleep(void);
int case_threads_storm(void);
int case_thread_exit(void);
int case_tls_fpsimd(void);
int case_mutex_pingpong(void);
int case_mutex_contention(void);
int case_condvar(void);
int case_futex_errors(void);
int case_futex_timeouts(void);
int case_futex_wake(void);
int case_futex_bitset(void);
int case_futex_requeue(void);
int case_futex_wake_op(void);
int case_futex_garbage_timeout(void);
int case_futex_timeout_race(void);
int case_futex_pingpong(void);
int case_sched_yield(void);
int case_affinity(void);
int case_nice(void);
int case_first_touch(void);
int case_mmap_semantics(void);
int case_mmap_churn(void);
int case_munmap_race(void);
#ifdef USERTEST_CXX
int case_cxx_threads(void);
#endif
int case_exit_group(void);

// Order matters only for exit_group, which must be last: it ends the process.
static const ut_case kCases[] = {
    {"identity", case_identity},
    {"enosys", case_enosys},
    {"efault", case_efault},
    {"clocks", case_clocks},
    {"monotonic", case_monotonic},
    {"nanosleep", case_nanosleep},
    {"threads_storm", case_threads_storm},
    {"thread_exit", case_thread_exit},
    {"tls_fpsimd", case_tls_fpsimd},
    {"mutex_pingpong", case_mutex_pingpong},
    {"mutex_contention", case_mutex_contention},
    {"condvar", case_condvar},
    {"futex_errors", case_futex_errors},
    {"futex_timeouts", case_futex_timeouts},
    {"futex_wake", case_futex_wake},
    {"futex_bitset", case_futex_bitset},
    {"futex_requeue", case_futex_requeue},
    {"futex_wake_op", case_futex_wake_op},
    {"futex_garbage_timeout", case_futex_garbage_timeout},
    {"futex_timeout_race", case_futex_timeout_race},
    {"futex_pingpong", case_futex_pingpong},
    {"sched_yield", case_sched_yield},
    {"affinity", case_affinity},
    {"nice", case_nice},
    {"first_touch", case_first_touch},
    {"mmap_semantics", case_mmap_semantics},
    {"mmap_churn", case_mmap_churn},
    {"munmap_race", case_munmap_race},
#ifdef USERTEST_CXX
    {"cxx_threads", case_cxx_threads},
#endif
    {"exit_group", case_exit_group},
};
enum { kNumCases = sizeof(kCases) / sizeof(kCases[0]) };

// Run only when named: the runner's own check (CTest's usertest.reports-failure), that a
// failed check becomes a FAIL line, a changed final line and exit status 1.
static int case_selftest_fail(void) {
  int two = (int)(getpid() > 0) + 1;
  UT_CHECK(two == 3, "fails on purpose: 1 + 1 is %d", two);
  return 0;
}
static const ut_case kSelftest = {"selftest_fail", case_selftest_fail};

int ut_ncpus;
int ut_cpus[1024];
int ut_exit_status = 0;
bool ut_qemu_user = false;
int ut_total_cases;  // cases selected in this run (exit_group.c prints the final line)
static cpu_set_t start_mask;

// --- output and checks -------------------------------------------------------------------

static void write_all(int fd, const char* buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    buf += n;
    len -= (size_t)n;
  }
}

void ut_printf(const char* fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n > sizeof(buf) - 2) n = sizeof(buf) - 2;
  buf[n++] = '\n';
  write_all(1, buf, (size_t)n);
}

static atomic_int case_failed;
static char case_message[400];

bool ut_expect(bool ok, const char* file, int line, const char* expr, const char* fmt, ...) {
  if (ok) return true;
  int expected = 0;
  // The first failure of a case is its message; later ones (other threads) only count.
  if (atomic_compare_exchange_strong(&case_failed, &expected, 1)) {
    const char* base = strrchr(file, '/');
    int n = snprintf(case_message, sizeof(case_message), "%s:%d: %s", base ? base + 1 : file, line,
                     expr);
    if (fmt[0] != '\0' && n > 0 && (size_t)n < sizeof(case_message) - 3) {
      va_list ap;
      va_start(ap, fmt);
      strcpy(case_message + n, " (");
      n += 2;
      int m = vsnprintf(case_message + n, sizeof(case_message) - (size_t)n - 1, fmt, ap);
      va_end(ap);
      if (m > 0) {
        n += m;
        if ((size_t)n > sizeof(case_message) - 2) n = sizeof(case_message) - 2;
        case_message[n] = ')';
        case_message[n + 1] = '\0';
      }
    }
  }
  return false;
}

bool ut_failed(void) {
  return atomic_load(&case_failed) != 0;
}

// --- machine helpers -----------------------------------------------------------------------

int ut_cpu(int i) {
  return ut_cpus[i % ut_ncpus];
}

int64_t ut_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t ut_clock_ns(clockid_t id) {
  struct timespec ts;
  if (syscall(SYS_clock_gettime, id, &ts) != 0) return -1;
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void ut_sleep_ns(int64_t ns) {
  struct timespec ts = {.tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

bool ut_pin_self(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return sched_setaffinity(0, sizeof(set), &set) == 0;
}

bool ut_unpin_self(void) {
  return sched_setaffinity(0, sizeof(start_mask), &start_mask) == 0;
}

int ut_getcpu(void) {
  unsigned cpu = ~0u;
  unsigned node = ~0u;
  if (syscall(SYS_getcpu, &cpu, &node, NULL) != 0) return -1;
  return (int)cpu;
}

long ut_gettid(void) {
  return syscall(SYS_gettid);
}

long ut_futex(volatile uint32_t* uaddr, int op, uint32_t val, const void* timeout_or_val2,
              volatile uint32_t* uaddr2, uint32_t val3) {
  return syscall(SYS_futex, uaddr, op, val, timeout_or_val2, uaddr2, val3);
}

bool ut_futex_settle(volatile uint32_t* word, int n) {
  volatile uint32_t scratch = 0;
  int moved = 0;
  for (long tries = 0; moved < n; tries++) {
    uint32_t v = *word;
    long r =
        ut_futex(word, FUTEX_CMP_REQUEUE_PRIVATE, 0, (const void*)(uintptr_t)INT_MAX, &scratch, v);
    if (r < 0) {
      if (errno == EAGAIN) continue;  // the word changed under us: read it again
      return UT_EXPECT(false, "FUTEX_CMP_REQUEUE failed: errno %d", errno);
    }
    moved += (int)r;
    // Let the threads that are not asleep yet get there; sleep rather than spin after a
    // while, so that a uniprocessor gives them the CPU.
    if (moved < n) {
      if (tries < 100) {
        sched_yield();
      } else {
        ut_sleep_ns(200 * 1000);
      }
    }
  }
  long back =
      ut_futex(&scratch, FUTEX_CMP_REQUEUE_PRIVATE, 0, (const void*)(uintptr_t)INT_MAX, word, 0);
  return UT_EXPECT(moved == n && back == n, "moved %d and back %ld, expected %d", moved, back, n);
}

void ut_barrier_init(ut_barrier* b, int n) {
  b->n = n;
  b->count = 0;
  b->generation = 0;
}

void ut_barrier_wait(ut_barrier* b) {
  uint32_t gen = __atomic_load_n(&b->generation, __ATOMIC_ACQUIRE);
  if (__atomic_add_fetch(&b->count, 1, __ATOMIC_ACQ_REL) == b->n) {
    __atomic_store_n(&b->count, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&b->generation, gen + 1, __ATOMIC_RELEASE);
    ut_futex(&b->generation, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
    return;
  }
  // Sleeping, not spinning: hundreds of threads yielding in a loop on one CPU would starve
  // the thread that creates the rest of them.
  while (__atomic_load_n(&b->generation, __ATOMIC_ACQUIRE) == gen) {
    ut_futex(&b->generation, FUTEX_WAIT_PRIVATE, gen, NULL, NULL, 0);
  }
}

uint64_t ut_rand(uint64_t* state) {
  uint64_t x = *state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *state = x;
  return x * 0x2545F4914F6CDD1DULL;
}

// --- the runner ----------------------------------------------------------------------------

int ut_bench_main(const ut_case* cases, int n);  // bench.c

bool ut_run_case(const ut_case* c) {
  atomic_store(&case_failed, 0);
  case_message[0] = '\0';
  int rc = c->run();
  if (rc != 0 && !ut_failed()) {
    snprintf(case_message, sizeof(case_message), "returned %d", rc);
    return false;
  }
  return !ut_failed();
}

const char* ut_case_message(void) {
  return case_message;
}

static int run_cases(const ut_case** selected, int n) {
  ut_total_cases = n;
  ut_printf("usertest: %d cases", n);
  ut_printf("# usertest: %d CPUs, pid %d", ut_ncpus, (int)getpid());
  int failed = 0;
  char failed_names[512] = "";
  int64_t suite_start = ut_now_ns();
  for (int i = 0; i < n; i++) {
    const ut_case* c = selected[i];
    if (c->run == case_exit_group) {
      // It never returns: it prints its own line and the final one, then ends the process.
      if (failed > 0) {
        ut_printf("case exit_group: FAIL: not run, %d earlier cases failed", failed);
        failed++;
        strncat(failed_names, " exit_group", sizeof(failed_names) - strlen(failed_names) - 1);
        break;
      }
      ut_printf("# usertest: %d cases took %lld ms before exit_group", n - 1,
                (long long)((ut_now_ns() - suite_start) / 1000000));
      // Back here only if its set-up failed (its siblings then end with the process).
      bool ok = ut_run_case(c);
      ut_printf("case exit_group: FAIL: %s", ok ? "returned" : case_message);
      ut_printf("usertest: %d of %d cases failed: exit_group", 1, n);
      return 1;
    }
    int64_t t0 = ut_now_ns();
    bool ok = ut_run_case(c);
    int64_t t1 = ut_now_ns();
    if (!ok) {
      ut_printf("case %s: FAIL: %s", c->name, case_message);
      failed++;
      strncat(failed_names, " ", sizeof(failed_names) - strlen(failed_names) - 1);
      strncat(failed_names, c->name, sizeof(failed_names) - strlen(failed_names) - 1);
    } else {
      ut_printf("case %s: ok", c->name);
    }
    ut_printf("# %s: %lld us", c->name, (long long)((t1 - t0) / 1000));
  }
  ut_printf("# usertest: suite took %lld ms", (long long)((ut_now_ns() - suite_start) / 1000000));
  if (failed > 0) {
    ut_printf("usertest: %d of %d cases failed:%s", failed, n, failed_names);
    return 1;
  }
  ut_printf("usertest: all %d cases passed", n);
  return 0;
}

// Linux's /init: the suite runs in a child (exit_group ends that child's process), PID 1
// reports how it ended and powers the machine off; PID 1 itself never exits.
static void run_as_init(int (*body)(void*), void* arg) {
  pid_t child = fork();
  if (child == 0) _exit(body(arg));
  int status = 0;
  if (child < 0) {
    ut_printf("usertest: FAIL: fork: errno %d", errno);
  } else {
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == ut_exit_status) {
      ut_printf("# usertest: exit status %d", WEXITSTATUS(status));
    } else if (WIFEXITED(status)) {
      ut_printf("usertest: FAIL: exit status %d, expected %d", WEXITSTATUS(status), ut_exit_status);
    } else {
      ut_printf("usertest: FAIL: killed by signal %d", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    }
  }
  sync();
  reboot(RB_POWER_OFF);
  ut_printf("usertest: FAIL: reboot(RB_POWER_OFF): errno %d", errno);
  for (;;)
    pause();
}

typedef struct {
  const ut_case** selected;
  int n;
  bool bench;
} run_args;

static int body(void* p) {
  run_args* a = (run_args*)p;
  if (a->bench) return ut_bench_main(kCases, kNumCases - 1);  // every case but exit_group
  return run_cases(a->selected, a->n);
}

static void usage(void) {
  ut_printf(
      "usage: usertest [--poweroff] [--exit-status N] [--qemu-user] [--list | bench | CASE...]");
  exit(2);
}

int main(int argc, char** argv) {
  bool poweroff = false;
  bool bench = false;
  static const ut_case* selected[kNumCases + 1];
  bool wanted[kNumCases] = {false};
  bool selftest = false;
  int n = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--poweroff") == 0) {
      poweroff = true;
    } else if (strcmp(argv[i], "--exit-status") == 0 && i + 1 < argc) {
      ut_exit_status = atoi(argv[++i]);
    } else if (strcmp(argv[i], "--qemu-user") == 0) {
      ut_qemu_user = true;
    } else if (strcmp(argv[i], "--list") == 0) {
      for (int c = 0; c < kNumCases; c++)
        ut_printf("%s", kCases[c].name);
      return 0;
    } else if (strcmp(argv[i], "bench") == 0) {
      bench = true;
    } else if (strcmp(argv[i], kSelftest.name) == 0) {
      selftest = true;
    } else {
      int c = 0;
      while (c < kNumCases && strcmp(argv[i], kCases[c].name) != 0)
        c++;
      if (c == kNumCases) {
        ut_printf("usertest: no case named '%s' (--list names them)", argv[i]);
        usage();
      }
      wanted[c] = true;
      n++;
    }
  }
  bool all = n == 0 && !selftest;
  n = 0;
  if (selftest) selected[n++] = &kSelftest;
  for (int c = 0; c < kNumCases; c++) {
    if (all || wanted[c]) selected[n++] = &kCases[c];
  }

  // The CPUs this process may use: the cases pin threads to them.
  if (sched_getaffinity(0, sizeof(start_mask), &start_mask) != 0) {
    ut_printf("usertest: FAIL: sched_getaffinity: errno %d", errno);
    return 1;
  }
  for (int cpu = 0; cpu < CPU_SETSIZE && ut_ncpus < 1024; cpu++) {
    if (CPU_ISSET(cpu, &start_mask)) ut_cpus[ut_ncpus++] = cpu;
  }
  if (ut_ncpus == 0) {
    ut_printf("usertest: FAIL: empty affinity mask");
    return 1;
  }

  run_args args = {selected, n, bench};
  if (poweroff && getpid() == 1) run_as_init(body, &args);
  if (poweroff) ut_printf("# usertest: --poweroff ignored: not PID 1");
  return body(&args);
}
