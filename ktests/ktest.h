// ktests: tests that run inside the kernel, on the real scheduler, under QEMU.
//
//   KTEST(timer_every_cpu) {
//     ...
//     KTEST_CHECK(late_ns < kLimit, "cpu {} woke {} ns late", cpu, late_ns);
//   }
//
// A KTEST places a descriptor in the `.ktests` linker section (linker.ld collects them between
// __ktests_start and __ktests_end), so a test registers itself just by being linked into
// lichen.elf; the runner (runner.cc) finds them there, in link order, and runs each one in
// its own task while the hardware watchdog (platform/aarch64/watchdog.h) guards its timeout.
//
// A test passes by returning. It fails by KTEST_CHECK (report and power-off with status 1),
// by LICHEN_ASSERT in the code it exercises (panic, status 2), or by not returning within
// its timeout (the hang report, status 1). Booting with `ktests` runs all of them and ends
// with the one line `KTESTS: ALL PASSED (<n> tests, <m> CPUs)`; `ktest=<prefix>` runs those
// whose name starts with the prefix.
#pragma once

#include <cstdint>

#include "kernel/sched/sched.h"
#include "lib/cpumask.h"
#include "lib/format.h"

namespace lichen::ktest {

// Default timeout of a test. TCG with several vCPUs per host core is slow and noisy: the
// timeouts are generous; a healthy test takes a small fraction.
inline constexpr uint32_t kDefaultTimeoutMs = 20'000;

// Hang detectors -- a test's timeout, WaitFor's limit -- are multiplied by this: 1 up to 8
// CPUs, then one more per 8 CPUs. QEMU runs each vCPU on a host thread, so on a fixed host
// every vCPU gets a smaller share of it as their number grows (32 vCPUs on 2 cores: a
// sixteenth of a core each), and everything a test waits for takes that much longer.
uint32_t HangScale();

// How long WaitFor waits for a state before the test fails as hung: 10 s times HangScale().
// A hang detector, never a time limit on the kernel: a state the kernel reaches at all, it
// reaches in milliseconds on a quiet host. Half the default test timeout, so the failure
// names the state that never came.
uint64_t WaitLimitNs();

// Stack of the task each test runs in (tests keep small tables on their stacks).
inline constexpr size_t kTestStackBytes = 32 * 1024;

// One registered test. 32 bytes and 32-byte aligned, so that the descriptors of different
// objects lie in the section back to back with no padding between them.
struct alignas(32) Test {
  const char* name;
  void (*body)();
  uint32_t timeout_ms;
  uint32_t line;
  const char* file;
};
static_assert(sizeof(Test) == 32, "the .ktests section is walked as an array of Test");

// The test running now (nullptr outside the runner). For messages.
const Test* CurrentTest();

// Reports a failed check of the current test with its location and message, prints every
// CPU's state, and powers off with status 1. Never returns.
[[noreturn]] void Fail(const char* file, int line, const char* message);

// Number of CPUs online (the core's view): what tests size themselves by.
uint32_t Cpus();

// Spawns a joinable task or fails the test. `affinity` defaults to every CPU.
Task* Spawn(const char* name, Task::Entry entry, void* arg,
            CpuMask affinity = CpuMask::FirstN(kMaxCpus), int nice = 0);

// The calling task's CPU right now (it may move as soon as this returns, unless pinned).
uint32_t ThisCpu();

// Sleeps in steps of `step_ns` until `done()` is true; fails the test with `what` (and the
// caller's file and line) if it is still false after `timeout_ns`.
template <typename F>
void WaitFor(F&& done, uint64_t timeout_ns, const char* what, uint64_t step_ns = 200'000,
             const char* file = __builtin_FILE(), int line = __builtin_LINE());

// Blocks the calling task until `*flag` is set (release) by someone who then calls
// sched::Wake on it; no lost wakeup (the kernel's blocking protocol, task.h).
void BlockUntilSet(const Atomic<bool>& flag);

namespace internal {
// WaitFor's failure: "timed out after <ms> ms waiting for <what>".
[[noreturn]] void FailWaitFor(const char* what, uint64_t timeout_ns, const char* file, int line);
// platform::Now(), without including kernel/base/platform.h here.
uint64_t Now();
}  // namespace internal

template <typename F>
void WaitFor(F&& done, uint64_t timeout_ns, const char* what, uint64_t step_ns, const char* file,
             int line) {
  const uint64_t deadline = internal::Now() + timeout_ns;
  while (!done()) {
    if (internal::Now() > deadline) internal::FailWaitFor(what, timeout_ns, file, line);
    sched::SleepFor(step_ns);
  }
}

namespace internal {
// Formats the message of a failed KTEST_CHECK and calls Fail.
template <typename... Args>
[[noreturn, gnu::cold, gnu::noinline]] void CheckFailed(const char* file, int line,
                                                        const char* condition, const char* fmt,
                                                        const Args&... args) {
  char buf[256];
  BufferSink sink(buf);
  Format(sink, "{}: ", condition);
  Format(sink, fmt, args...);
  Fail(file, line, buf);
}
// The same without a message.
[[noreturn, gnu::cold, gnu::noinline]] void CheckFailed(const char* file, int line,
                                                        const char* condition);
}  // namespace internal

}  // namespace lichen::ktest

// Registers a test named `name` (an identifier) with timeout `timeout_ms`; the braces that
// follow are its body.
#define KTEST_WITH_TIMEOUT(name, timeout_ms)                                                   \
  static void KtestBody_##name();                                                              \
  [[gnu::used, gnu::section(".ktests")]] static constexpr ::lichen::ktest::Test kKtest_##name{ \
      #name, &KtestBody_##name, (timeout_ms), __LINE__, __FILE__};                             \
  static void KtestBody_##name()

// Registers a test with the default timeout.
#define KTEST(name) KTEST_WITH_TIMEOUT(name, ::lichen::ktest::kDefaultTimeoutMs)

// Fails the current test unless `cond` holds; an optional format string and arguments
// (lib/format.h) say what went wrong.
#define KTEST_CHECK(cond, ...)                                                  \
  do {                                                                          \
    if (__builtin_expect(!(cond), 0)) {                                         \
      ::lichen::ktest::internal::CheckFailed(__FILE__, __LINE__,                \
                                             #cond __VA_OPT__(, ) __VA_ARGS__); \
    }                                                                           \
  } while (0)
