// lichen.elf's entry points: the portable core hosted on QEMU virt (see kernel_main.h).
//
// Boot CPU (KernelMain, IRQs masked, every CPU online but held in the platform):
//   1. parse the command line (scheduler policy, what init runs);
//   2. kernel::EarlyInit: CPU count, scheduler config, the free RAM for the page allocator;
//   3. kernel::InitThisCpu(0): this boot context becomes CPU 0's idle task;
//   4. in ktests mode start the watchdog; calibrate workload::Burn while the other CPUs still
//      sleep (burn.cc);
//   5. release the secondaries, which InitThisCpu(cpu) and enter their idle loops;
//   6. wait until the core sees every CPU online, spawn "init", then RunIdle().
// From then on the CPUs run only the core: interrupts come in through the platform's vectors
// (LichenHandleIrq -> irq::Enter, the GIC handlers irq::OnTimer / irq::OnIpi, irq::Exit, which
// may switch tasks), and the core drives the hardware through kernel/base/platform.h.
#include "kernel/base/platform.h"
#include "kernel/base/version.h"
#include "kernel/kernel.h"
#include "kernel/mm/kmem.h"
#include "kernel/proc/loader.h"
#include "kernel/proc/process.h"
#include "kernel/sched/cpu.h"
#include "kernel/sched/sched.h"
#include "lib/assert.h"
#include "lib/units.h"
#include "platform/aarch64/burn.h"
#include "platform/aarch64/cmdline.h"
#include "platform/aarch64/console.h"
#include "platform/aarch64/direct_map.h"
#include "platform/aarch64/el0.h"
#include "platform/aarch64/entry_points.h"
#include "platform/aarch64/fatal.h"
#include "platform/aarch64/kernel_main.h"
#include "platform/aarch64/power.h"
#include "platform/aarch64/report.h"
#include "platform/aarch64/watchdog.h"

namespace lichen::aarch64 {

namespace {

// How long the boot CPU waits for the released secondaries to register with the core: a hang
// detector, generous because tens of vCPUs on a 2-core host wait seconds for a host core.
constexpr uint64_t kSecondaryInitTimeoutNs = 20 * kSec;
// Trace events per CPU in a panic report.
constexpr uint32_t kPanicTraceEvents = 12;

// Written by KernelMain before any other CPU or task runs; read-only afterwards.
KernelOptions g_options;

// Parses a 0/1 switch.
BootStatus ParseBool(std::string_view value, bool& out, const char* error) {
  if (value == "0") {
    out = false;
  } else if (value == "1") {
    out = true;
  } else {
    return BootStatus::Error(error);
  }
  return BootStatus::Ok();
}

// Recurses `depth` levels, each keeping a frame (the array and the addition after the call
// stop the compiler from turning it into a loop).
[[gnu::noinline]] uint64_t Recurse(volatile uint64_t* outer, uint64_t depth) {
  volatile uint64_t frame[32];
  frame[0] = outer != nullptr ? outer[0] + 1 : 0;
  if (depth == 0) return frame[0];
  return Recurse(frame, depth - 1) + frame[0];
}

void OverflowTask(void* /*arg*/) {
  console::Print("lichen: task \"overflower\" recursing off its kernel stack");
  // Far deeper than any stack: 2^64 levels of 256+ bytes.
  (void)Recurse(nullptr, ~uint64_t{0});
}

// A task overflows its stack: ends in the fatal report (exit status 2), never returns.
bool RunStackOverflow() {
  sched::SpawnOptions options;
  options.name = "overflower";
  options.entry = &OverflowTask;
  const Result<Task*> task = sched::Spawn(options);
  if (!task.ok()) return false;
  sched::Join(task.value());
  console::Print("lichen: the overflowing task returned");
  return false;
}

// Most arguments init gets after "--", and the bytes of their strings (with NULs).
constexpr size_t kMaxInitArgs = 32;

// init=PATH: process 1 from the initramfs, with argv {PATH, the words after "--"} and Linux's
// environment for init. proc powers the machine off with its status when the last process has
// exited; a program that cannot be started is a boot error.
void StartUserInit(const KernelOptions& options) {
  const BootInfo& info = TheBootInfo();
  if (info.initrd.size == 0) {
    FatalStatus("init", BootStatus::Error("init= needs an initramfs (QEMU -initrd): none found"),
                ExitCode::kBootError);
  }
  std::string_view words[kMaxInitArgs];
  const size_t count = CmdlineInitArgs(info.cmdline, words, kMaxInitArgs);
  if (count > kMaxInitArgs) {
    FatalStatus("init", BootStatus::Error("too many arguments after --", count),
                ExitCode::kBootError);
  }
  // Every string of the command line fits in its own length plus a NUL each.
  static char strings[BootInfo::kCmdlineMax + kMaxInitArgs + 2];
  static const char* argv[kMaxInitArgs + 2];
  size_t used = 0;
  auto copy = [&](std::string_view word) {
    char* s = &strings[used];
    for (char c : word)
      strings[used++] = c;
    strings[used++] = '\0';
    return s;
  };
  argv[0] = copy(options.init_path);
  for (size_t i = 0; i < count; ++i)
    argv[i + 1] = copy(words[i]);
  argv[count + 1] = nullptr;
  static const char* const envp[] = {"HOME=/", "TERM=linux", nullptr};
  console::Print("lichen: init {} with {} argument{}, initramfs {:#x}-{:#x} ({} KiB)", argv[0],
                 count, count == 1 ? "" : "s", info.initrd.base, info.initrd.end(),
                 info.initrd.size >> 10);
  const Result<void> started =
      proc::StartInit(reinterpret_cast<const void*>(PhysToVirt(info.initrd.base)), info.initrd.size,
                      argv[0], argv, envp);
  if (!started.ok()) {
    console::Print("lichen: cannot start init {}: {}", argv[0], started.error());
    FatalStatus("init", BootStatus::Error("process 1 could not be started"), ExitCode::kBootError);
  }
}

// The init task: runs the program the command line chose, then ends the machine.
void InitTask(void* /*arg*/) {
  const KernelOptions& options = g_options;
  if (options.mode == InitMode::kUserInit) {
    StartUserInit(options);
    return;  // the task ends; process 1 lives on, and its exit powers the machine off
  }
  bool ok = false;
  switch (options.mode) {
    case InitMode::kKtests:
      ok = RunKtests(options);
      break;
    case InitMode::kBenchParallel:
      ok = RunParallelBench(options);
      break;
    case InitMode::kDemonstration:
      ok = RunDemonstration(options);
      break;
    case InitMode::kWorkload:
      ok = RunOneWorkload(options);
      break;
    case InitMode::kStackOverflow:
      ok = RunStackOverflow();
      break;
    case InitMode::kUserInit:
      break;  // handled above
  }
  ok = DumpTraces(options) && ok;
  console::Print("lichen: init finished ({}): powering off", ok ? "success" : "FAILURE");
  PowerOff(ok ? ExitCode::kSuccess : ExitCode::kFailure);
}

}  // namespace

BootStatus ParseKernelOptions(std::string_view cmdline, KernelOptions& options) {
  if (auto v = CmdlineOption(cmdline, "placement")) {
    if (*v == "round-robin") {
      options.sched.placement = sched::Placement::kRoundRobin;
    } else if (*v == "local-first") {
      options.sched.placement = sched::Placement::kLocalFirst;
    } else if (*v == "least-loaded") {
      options.sched.placement = sched::Placement::kLeastLoaded;
    } else {
      return BootStatus::Error("placement= must be round-robin, local-first or least-loaded");
    }
  }
  if (auto v = CmdlineOption(cmdline, "steal")) {
    LICHEN_TRY_BOOT(ParseBool(*v, options.sched.steal, "steal= must be 0 or 1"));
  }
  if (auto v = CmdlineOption(cmdline, "balance")) {
    LICHEN_TRY_BOOT(ParseBool(*v, options.sched.periodic_balance, "balance= must be 0 or 1"));
  }
  if (auto v = CmdlineOption(cmdline, "tick")) {
    // Milliseconds between timer interrupts on a CPU running one task; 0 (the default) is
    // tick-free. For QEMU -icount runs (sched::Config::busy_tick_ns says why).
    const auto n = ParseUint(*v);
    if (!n || *n > 1000) return BootStatus::Error("tick= must be 0..1000 (ms)", n.value_or(0));
    options.sched.busy_tick_ns = *n * kMs;
  }
  if (CmdlineOption(cmdline, "ktests")) options.mode = InitMode::kKtests;
  if (auto v = CmdlineOption(cmdline, "ktest")) {
    options.mode = InitMode::kKtests;
    options.ktest_filter = *v;
  }
  // For soaking the other tests while one is known to hang (a bug being fixed elsewhere); the
  // runner names what it skipped on its summary lines, so a skip is never silent.
  if (auto v = CmdlineOption(cmdline, "ktest-skip")) {
    if (v->empty()) return BootStatus::Error("ktest-skip= needs a test name prefix");
    options.mode = InitMode::kKtests;
    options.ktest_skip = *v;
  }
  if (auto v = CmdlineOption(cmdline, "bench")) {
    if (*v != "parallel") return BootStatus::Error("bench= must be parallel");
    if (options.mode == InitMode::kKtests)
      return BootStatus::Error("bench= and ktests exclude each other");
    options.mode = InitMode::kBenchParallel;
  }
  if (auto v = CmdlineOption(cmdline, "workload")) {
    if (options.mode != InitMode::kDemonstration)
      return BootStatus::Error("workload= excludes ktests and bench=");
    options.mode = InitMode::kWorkload;
    options.workload = *v;
  }
  if (CmdlineOption(cmdline, "overflow-task")) options.mode = InitMode::kStackOverflow;
  if (auto v = CmdlineOption(cmdline, "init")) {
    if (v->empty() || (*v)[0] != '/') return BootStatus::Error("init= needs an absolute path");
    if (options.mode != InitMode::kDemonstration)
      return BootStatus::Error("init= excludes ktests, bench=, workload= and overflow-task");
    options.mode = InitMode::kUserInit;
    options.init_path = *v;
  }
  if (auto v = CmdlineOption(cmdline, "trace")) options.trace_file = *v;
  if (auto v = CmdlineOption(cmdline, "ftrace")) options.ftrace_file = *v;
  if (auto v = CmdlineOption(cmdline, "seed")) {
    const auto n = ParseUint(*v);
    if (!n) return BootStatus::Error("seed= must be a number");
    options.seed = *n;
  }
  if (auto v = CmdlineOption(cmdline, "scale")) {
    const auto n = ParseUint(*v);
    if (!n || *n < 1 || *n > 16) return BootStatus::Error("scale= must be 1..16", n.value_or(0));
    options.scale = static_cast<uint32_t>(*n);
  }
  return BootStatus::Ok();
}

const KernelOptions& TheKernelOptions() {
  return g_options;
}

}  // namespace lichen::aarch64

namespace lichen {

using aarch64::console::Print;

void KernelMain(const BootInfo& info) {
  using namespace aarch64;
  Print("lichen: Lichen {} on {} CPU{}", kVersion, info.cpu_count, info.cpu_count == 1 ? "" : "s");
  const BootStatus parsed = ParseKernelOptions(info.cmdline, g_options);
  if (!parsed.ok()) FatalStatus("kernel command line", parsed, ExitCode::kBootError);
  const KernelOptions& options = g_options;

  kernel::BootConfig boot;
  boot.sched = options.sched;
  boot.memory_base = aarch64::PhysToVirt(info.free_range.base);  // the direct map
  boot.memory_bytes = info.free_range.size;
  kernel::EarlyInit(boot);
  uint64_t high_kib = 0;
  if (info.free_range_high.size != 0) {
    // The RAM above the initrd and the DTB: a second region of the page allocator.
    const Result<size_t> added =
        mm::Pages().AddRegion(PhysToVirt(info.free_range_high.base), info.free_range_high.size);
    if (added.ok()) {
      high_kib = info.free_range_high.size >> 10;
    } else {
      Print("lichen: warning: the RAM above the initrd is not used: {}", added.error());
    }
  }
  kernel::InitThisCpu(0);
  if (options.mode == InitMode::kUserInit) {
    // User space: the scheduler's switch hook moves address spaces and FP state, and the EL0
    // vectors call the core's entry points.
    proc::Init();
    InstallCoreEl0Handlers();
  }
  // From now on a panic also shows what every CPU was doing (lock-free: the panicking CPU may
  // hold any lock).
  SetFatalReportHook([] {
    console::Print("    what the core published about each CPU:");
    report::PrintCpuStatesLockFree(kPanicTraceEvents);
  });
  if (options.mode == InitMode::kKtests) {
    // The ktests' hang detector (watchdog.h) takes every CPU's physical timer; the other modes
    // leave it alone.
    const BootStatus started = watchdog::Start(info.timer_intid_phys);
    if (!started.ok()) {
      Print("lichen: warning: no hardware watchdog ({}): a hung ktest ends at the host's timeout",
            started.message());
    }
  }
  watchdog::InitCpu();

  const uint64_t rate = CalibrateBurn();
  Print(
      "lichen: core up: {} CPU{}, {} KiB for the page allocator, placement {}, steal {}, "
      "balance {}; Burn: {} loop iterations per ms",
      info.cpu_count, info.cpu_count == 1 ? "" : "s", (info.free_range.size >> 10) + high_kib,
      sched::PlacementName(options.sched.placement), options.sched.steal ? "on" : "off",
      options.sched.periodic_balance ? "on" : "off", rate);

  ReleaseSecondaryCpus();
  const uint64_t deadline = platform::Now() + kSecondaryInitTimeoutNs;
  while (OnlineCpus().Count() != info.cpu_count) {
    if (platform::Now() > deadline) {
      FatalStatus("boot",
                  BootStatus::Error("secondary CPUs did not join the scheduler (online mask)",
                                    OnlineCpus().bits()),
                  ExitCode::kBootError);
    }
    platform::CpuRelax();
  }

  sched::SpawnOptions init;
  init.name = "init";
  init.entry = &InitTask;
  init.detached = true;
  // The runner and the reports keep tables on their stacks: two report::Sample of kMaxCpus
  // CPUs' counters are 13 KiB.
  init.stack_size = 64 * 1024;
  const Result<Task*> task = sched::Spawn(init);
  if (!task.ok()) LICHEN_PANIC("cannot spawn init: {}", task.error());
  kernel::RunIdle();
}

void SecondaryMain(uint32_t cpu) {
  kernel::InitThisCpu(cpu);
  aarch64::watchdog::InitCpu();
  kernel::RunIdle();
}

const char* CurrentTaskName() {
  // For fatal reports: this CPU's current task, read without a lock. The report runs with
  // IRQs masked on this CPU, so its current task cannot change under us; before the core is
  // up (or with IRQs unexpectedly on) there is no answer.
  if (!platform::IrqsMasked()) return nullptr;
  Task* current = sched::Current();
  return current != nullptr ? current->name : nullptr;
}

}  // namespace lichen
