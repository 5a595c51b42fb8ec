// The ktest runner: finds the KTEST descriptors in the `.ktests` section and runs them in
// link order, each in its own task, under the hardware watchdog.
//
// For each test: arm the watchdog for the test's deadline on every CPU, spawn the test's task
// (any CPU), Join it, disarm, print `ktest: <name> ok (<ms> ms)`. The runner itself (pinned to
// CPU 0) only sleeps in Join, so it perturbs the system under test as little as possible. A
// test that does not return by its deadline is reported by the first CPU whose watchdog
// interrupt notices, from interrupt context (so even a scheduler wedged on some CPUs gets
// reported): the test's name, then for every CPU the task it runs, its queue length, idle
// flag, counters and last trace events, then every task of the registry; then power-off with
// status 1.
#include "ktests/ktest.h"

#include <string_view>

#include "kernel/base/platform.h"
#include "kernel/mm/kmem.h"
#include "kernel/sched/config.h"
#include "kernel/sched/cpu.h"
#include "lib/assert.h"
#include "lib/atomic.h"
#include "lib/units.h"
#include "platform/aarch64/console.h"
#include "platform/aarch64/kernel_main.h"
#include "platform/aarch64/power.h"
#include "platform/aarch64/report.h"
#include "platform/aarch64/watchdog.h"

extern "C" {
// linker.ld: the KTEST descriptors, back to back.
extern const lichen::ktest::Test __ktests_start[];
extern const lichen::ktest::Test __ktests_end[];
}

namespace lichen::ktest {

namespace {

using aarch64::console::Print;

// Trace events and tasks the hang and failure reports print per CPU / in all.
constexpr uint32_t kReportTraceEvents = 8;
constexpr uint32_t kReportMaxTasks = 48;

// The test running now; written by the runner (task context) before the test's task starts.
Atomic<const Test*> g_current{nullptr};
// What the runner is doing for the current test (for the hang report).
enum class Phase : uint32_t { kArming, kRunning };
Atomic<Phase> g_phase{Phase::kArming};
// The first failure report wins; a second CPU failing at the same time stays quiet.
Atomic<bool> g_reporting{false};

// The test's task: runs the body, then exits (the runner joins it).
void TestTask(void* arg) {
  static_cast<const Test*>(arg)->body();
}

// Prints the state of every CPU and the task list (shared by hangs and failures).
void PrintSystemState() {
  Print("ktest: state of the {} CPU{}:", Cpus(), Cpus() == 1 ? "" : "s");
  aarch64::report::PrintCpuStates(kReportTraceEvents, kReportMaxTasks);
}

// The watchdog's callback: interrupt context, IRQs masked, on the first CPU that noticed.
void OnHang(void* arg) {
  const Test* test = static_cast<const Test*>(arg);
  if (g_reporting.Exchange(true, std::memory_order_acq_rel)) return;
  Print("ktest: {} HUNG: no result after its {} ms timeout (noticed on cpu{}; test at {}:{})",
        test->name, uint64_t{test->timeout_ms} * HangScale(), platform::ThisCpu(), test->file,
        test->line);
  if (g_phase.Load(std::memory_order_acquire) == Phase::kArming) {
    Print(
        "ktest: the test never started: the runner was still arming the watchdog on the other "
        "CPUs (cross-CPU calls do not complete: are IPIs delivered?)");
  }
  if (mm::MemoryInitialized()) {
    // Two readings of the memory locks: tickets that move are a convoy, tickets that stay with
    // a holder are a deadlock (how the -smp 8 heap hang was diagnosed, docs/memory.md).
    for (int reading = 0; reading < 2; ++reading) {
      if (reading > 0) {
        const uint64_t until = platform::Now() + 500 * kMs;
        while (platform::Now() < until)
          platform::CpuRelax();
      }
      const mm::MemoryLockStates locks = mm::LockStatesForReports();
      Print(
          "ktest: memory locks (next/serving/holder): heap {}/{}/{:#x} depot {}/{}/{:#x} pages "
          "{}/{}/{:#x}",
          locks.heap.next_ticket, locks.heap.now_serving, locks.heap.holder_cpu,
          locks.depot.next_ticket, locks.depot.now_serving, locks.depot.holder_cpu,
          locks.pages.next_ticket, locks.pages.now_serving, locks.pages.holder_cpu);
    }
  }
  PrintSystemState();
  Print("KTESTS: FAILED ({} hung)", test->name);
  aarch64::PowerOff(aarch64::ExitCode::kFailure);
}

bool Matches(const Test& test, std::string_view prefix) {
  return std::string_view(test.name).substr(0, prefix.size()) == prefix;
}

// Selected by the boot's ktest= and not excluded by its ktest-skip=.
bool Selected(const Test& test, const aarch64::KernelOptions& options) {
  return Matches(test, options.ktest_filter) &&
         (options.ktest_skip.empty() || !Matches(test, options.ktest_skip));
}

// Runs one test; returns its duration in ns. A failure never comes back here.
uint64_t RunOne(const Test& test) {
  g_current.Store(&test, std::memory_order_release);
  g_phase.Store(Phase::kArming, std::memory_order_release);
  const uint64_t start = platform::Now();
  aarch64::watchdog::Arm(start + uint64_t{test.timeout_ms} * HangScale() * kMs, &OnHang,
                         const_cast<Test*>(&test));
  g_phase.Store(Phase::kRunning, std::memory_order_release);
  sched::SpawnOptions options;
  options.name = test.name;
  options.entry = &TestTask;
  options.arg = const_cast<Test*>(&test);
  options.stack_size = kTestStackBytes;
  const Result<Task*> task = sched::Spawn(options);
  if (!task.ok()) {
    Fail(test.file, static_cast<int>(test.line), "cannot spawn the test's task");
  }
  sched::Join(task.value());
  aarch64::watchdog::Disarm();
  const uint64_t elapsed = platform::Now() - start;
  g_current.Store(nullptr, std::memory_order_release);
  return elapsed;
}

}  // namespace

const Test* CurrentTest() {
  return g_current.Load(std::memory_order_acquire);
}

void Fail(const char* file, int line, const char* message) {
  if (g_reporting.Exchange(true, std::memory_order_acq_rel)) {
    // Another failure is being reported: wait for it to power the machine off.
    for (;;)
      sched::SleepFor(kMs);
  }
  const Test* test = CurrentTest();
  Print("ktest: {} FAILED at {}:{}: {}", test != nullptr ? test->name : "(runner)", file, line,
        message);
  PrintSystemState();
  Print("KTESTS: FAILED ({})", test != nullptr ? test->name : "runner");
  aarch64::PowerOff(aarch64::ExitCode::kFailure);
}

uint32_t Cpus() {
  return OnlineCpus().Count();
}

Task* Spawn(const char* name, Task::Entry entry, void* arg, CpuMask affinity, int nice) {
  const Result<Task*> task =
      sched::Spawn({.name = name, .entry = entry, .arg = arg, .nice = nice, .affinity = affinity});
  if (!task.ok()) {
    char buf[96];
    FormatTo(buf, sizeof(buf), "spawn of '{}' failed: {}", name, task.error());
    Fail(__FILE__, __LINE__, buf);
  }
  return task.value();
}

uint32_t ThisCpu() {
  IrqGuard guard;
  return platform::ThisCpu();
}

uint32_t HangScale() {
  return (Cpus() + 7) / 8;
}

uint64_t WaitLimitNs() {
  return uint64_t{10'000} * kMs * HangScale();
}

void BlockUntilSet(const Atomic<bool>& flag) {
  for (;;) {
    sched::PrepareToBlock();
    if (flag.Load(std::memory_order_acquire)) {
      sched::CancelBlock();
      return;
    }
    sched::Block();
  }
}

namespace internal {

void FailWaitFor(const char* what, uint64_t timeout_ns, const char* file, int line) {
  char buf[160];
  FormatTo(buf, sizeof(buf), "timed out after {} ms waiting for {}", timeout_ns / kMs, what);
  Fail(file, line, buf);
}

uint64_t Now() {
  return platform::Now();
}

void CheckFailed(const char* file, int line, const char* condition) {
  Fail(file, line, condition);
}

}  // namespace internal

}  // namespace lichen::ktest

namespace lichen::aarch64 {

bool RunKtests(const KernelOptions& options) {
  using ktest::Test;
  const std::string_view filter = options.ktest_filter;
  const std::string_view skip = options.ktest_skip;
  uint32_t registered = 0;
  uint32_t selected = 0;
  for (const Test* t = __ktests_start; t != __ktests_end; ++t) {
    ++registered;
    if (ktest::Selected(*t, options)) ++selected;
  }
  const uint32_t ncpus = ktest::Cpus();
  console::Print(
      "KTESTS: running {} of {} tests{}{}{}{}{}{} on {} CPU{} (placement {}, steal {}, balance "
      "{}, seed {}); watchdog {}, hang limits x{}",
      selected, registered, filter.empty() ? "" : " matching '", filter, filter.empty() ? "" : "'",
      skip.empty() ? "" : ", SKIPPING '", skip, skip.empty() ? "" : "'", ncpus,
      ncpus == 1 ? "" : "s", sched::PlacementName(sched::config().placement),
      sched::config().steal ? "on" : "off", sched::config().periodic_balance ? "on" : "off",
      options.seed, watchdog::Running() ? "on" : "OFF (hangs end at the host's timeout)",
      ktest::HangScale());
  if (selected == 0) {
    console::Print("KTESTS: FAILED (no test matches '{}')", filter);
    return false;
  }
  // The runner stays on CPU 0 (watchdog::Arm reprograms the other CPUs by cross-CPU calls).
  // It only sleeps in Join while a test runs, so the pinning costs the tests nothing.
  const Result<void> pinned = sched::SetAffinity(sched::Current(), CpuMask::Single(0));
  LICHEN_ASSERT(pinned.ok(), "cannot pin the ktest runner to cpu 0");
  uint64_t total_ns = 0;
  for (const Test* t = __ktests_start; t != __ktests_end; ++t) {
    if (!ktest::Selected(*t, options)) continue;
    const uint64_t ns = ktest::RunOne(*t);
    total_ns += ns;
    console::Print("ktest: {} ok ({} ms)", t->name, ns / kMs);
  }
  console::Print("ktest: {} ms in tests", total_ns / kMs);
  if (skip.empty()) {
    console::Print("KTESTS: ALL PASSED ({} tests, {} CPUs)", selected, ncpus);
  } else {
    console::Print("KTESTS: ALL PASSED ({} tests, {} CPUs; tests matching '{}' SKIPPED)", selected,
                   ncpus, skip);
  }
  return true;
}

}  // namespace lichen::aarch64
