// usertest: a suite of ordinary static Linux aarch64 programs' behaviours, run unchanged on
// Linux (the reference) and on Lichen. Everything here uses only what a stock glibc or musl
// program uses: pthreads, raw syscall(2) where the point is the kernel's answer.
//
// Output protocol (tools/linux-ref/compare and the CTest checks rely on it):
//   case NAME: ok                      one line per case, identical on every kernel and CPU count
//   case NAME: FAIL: where: what       a failed check (the first one of the case)
//   # ...                              anything that depends on time or the machine (ignored)
//   usertest: all N cases passed       the final line of a passing run
#ifndef LICHEN_USERTESTS_USERTEST_H_
#define LICHEN_USERTESTS_USERTEST_H_

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifdef __cplusplus
extern "C" {
#endif

// One line to fd 1 with a single write(2), so that lines of concurrent threads never mix.
void ut_printf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// Records the first failed check of the running case (any thread may call it) and returns
// `ok`, so that checks read `if (!UT_EXPECT(x == y, "x=%d", x)) return 1;`.
bool ut_expect(bool ok, const char* file, int line, const char* expr, const char* fmt, ...)
    __attribute__((format(printf, 5, 6)));
// Has any check of the running case failed (threads stop early when one has)?
bool ut_failed(void);

#define UT_EXPECT(cond, ...) ut_expect((cond), __FILE__, __LINE__, #cond, "" __VA_ARGS__)
// In a case function (returns int): fail the case and return.
#define UT_CHECK(cond, ...)              \
  do {                                   \
    if (!UT_EXPECT(cond, __VA_ARGS__)) { \
      return 1;                          \
    }                                    \
  } while (0)
// A raw system call that must fail with errno `err`.
#define UT_CHECK_ERR(call, err)                                                                \
  do {                                                                                         \
    errno = 0;                                                                                 \
    long ut_r_ = (long)(call);                                                                 \
    int ut_e_ = errno;                                                                         \
    UT_CHECK(ut_r_ == -1 && ut_e_ == (err), "returned %ld errno %d, expected errno %d", ut_r_, \
             ut_e_, (err));                                                                    \
  } while (0)
// In a thread function (returns void*): fail the case and end the thread's work.
#define UT_TCHECK(cond, ...)             \
  do {                                   \
    if (!UT_EXPECT(cond, __VA_ARGS__)) { \
      return NULL;                       \
    }                                    \
  } while (0)

// Machine facts read once at start-up.
extern int ut_ncpus;       // CPUs in the start-up affinity mask
extern int ut_cpus[1024];  // their numbers, ascending
// The i-th CPU of the start-up mask, wrapping: cases name "CPU 0" and "CPU 1" and get two
// distinct CPUs when there are two, the same one on a uniprocessor.
int ut_cpu(int i);

int64_t ut_now_ns(void);            // CLOCK_MONOTONIC through the C library (vDSO on Linux)
int64_t ut_clock_ns(clockid_t id);  // any clock, by the raw system call
void ut_sleep_ns(int64_t ns);       // nanosleep, restarted on EINTR
bool ut_pin_self(int cpu);          // sched_setaffinity(0, {cpu})
bool ut_unpin_self(void);           // back to the start-up mask
int ut_getcpu(void);                // the raw getcpu system call
long ut_gettid(void);

// Raw futex(2). Returns the system call's result (-1 and errno on error).
long ut_futex(volatile uint32_t* uaddr, int op, uint32_t val, const void* timeout_or_val2,
              volatile uint32_t* uaddr2, uint32_t val3);
// Returns once exactly `n` threads sleep in the kernel on `word` (private futex), by moving
// them to a scratch word and back with FUTEX_CMP_REQUEUE: its count is the kernel's own list
// of sleepers, so a test can then expect exact wake counts without guessing with sleeps.
bool ut_futex_settle(volatile uint32_t* word, int n);

// A barrier for `n` threads, reusable: the last one to arrive bumps the generation and wakes
// the others, who sleep on it with FUTEX_WAIT.
typedef struct {
  int n;
  int count;
  volatile uint32_t generation;
} ut_barrier;
void ut_barrier_init(ut_barrier* b, int n);
void ut_barrier_wait(ut_barrier* b);

// Deterministic pseudo-random numbers (xorshift64*), one state per thread.
uint64_t ut_rand(uint64_t* state);

// A case: its function returns 0 when every check passed.
typedef struct {
  const char* name;
  int (*run)(void);
} ut_case;

// Runs one case with a fresh failure record; false if any check failed (the first failure's
// text is then ut_case_message()).
bool ut_run_case(const ut_case* c);
const char* ut_case_message(void);

// Options of this run (main parses them).
extern int ut_exit_status;  // the status the exit_group case ends the process with
// --qemu-user: running under qemu-user, whose emulation of a few calls differs from Linux's
// (each place that relaxes a check for it says how); never on a real kernel.
extern bool ut_qemu_user;

#ifdef __cplusplus
}
#endif

#endif  // LICHEN_USERTESTS_USERTEST_H_
