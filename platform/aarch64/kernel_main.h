// The kernel proper on aarch64: how lichen.elf hosts the portable core (kmain.cc), and what
// its init task can run (command line in KernelOptions).
//
//   KernelMain (boot CPU)    EarlyInit, InitThisCpu(0), calibrate Burn, release the
//                            secondaries, wait until every CPU is online, spawn "init",
//                            RunIdle()
//   SecondaryMain (others)   InitThisCpu(cpu), RunIdle()
//   init (a task)            the ktests, the benchmark or the demonstration, then PowerOff
//
// The bring-up image (lichen-bringup.elf) does not link this file: it has demo.cc's entry
// points instead, and lichen.elf does not link demo.cc.
#pragma once

#include <cstdint>
#include <string_view>

#include "kernel/sched/config.h"
#include "platform/aarch64/boot_info.h"
#include "platform/aarch64/status.h"

namespace lichen::aarch64 {

// What the init task runs.
enum class InitMode : uint8_t {
  kDemonstration,  // default: a mixed workload and nice-weighted burners, then the tables
  kKtests,         // `ktests`: the in-kernel tests, ending in the KTESTS line
  kBenchParallel,  // `bench=parallel`: the speedup benchmark's fixed parallel work
  kWorkload,       // `workload=<name>`: one workload of workloads/workloads.h (./lichen trace)
  kStackOverflow,  // `overflow-task`: a task overflows its kernel stack (the guard's report)
  kUserInit,       // `init=PATH [-- args]`: process 1 from the initramfs; its exit ends the run
};

// The kernel command line (/chosen/bootargs), parsed. Words that are not listed here are
// ignored (the platform reads its own, e.g. maxcpus=).
//   placement=round-robin|local-first|least-loaded   sched::Config::placement
//   steal=0|1  balance=0|1                            stealing, periodic balance
//   ktests  ktest=<name prefix>                       run the ktests (only matching ones)
//   ktest-skip=<name prefix>                          ...except these (named in the summary)
//   bench=parallel                                    the parallel benchmark
//   seed=<n>  scale=<n>                               workload seed and size (default 1, 1)
//   workload=<name>                                   run that one workload (trace_dump.cc)
//   overflow-task                                     a task recurses off its kernel stack:
//                                                     the fatal report must name it
//   init=PATH [-- ARGS...]                            run PATH from the initramfs (QEMU's
//                                                     -initrd) as process 1 with argv
//                                                     {PATH, ARGS...}; the machine powers
//                                                     off with its exit status
//   trace=<file>  ftrace=<file>                       at the end, write the trace rings to
//                                                     the host file (semihosting): Trace
//                                                     Event JSON, ftrace text
struct KernelOptions {
  sched::Config sched;
  InitMode mode = InitMode::kDemonstration;
  std::string_view ktest_filter;  // empty: every test
  std::string_view ktest_skip;    // empty: skip none
  uint64_t seed = 1;
  uint32_t scale = 1;
  std::string_view workload;     // kWorkload: its name
  std::string_view init_path;    // kUserInit: the program (its arguments follow "--")
  std::string_view trace_file;   // empty: no JSON trace dump
  std::string_view ftrace_file;  // empty: no ftrace text dump
};

// Parses `cmdline` into `options`; an error names the offending word's key.
BootStatus ParseKernelOptions(std::string_view cmdline, KernelOptions& options);

// The options of this boot (valid once KernelMain has parsed them).
const KernelOptions& TheKernelOptions();

// The init task's programs. Each returns true on success; init then powers off with status 0
// (success) or 1 (failure). A panic or LICHEN_ASSERT failure powers off with status 2 first.
bool RunKtests(const KernelOptions& options);         // ktests/runner.cc
bool RunDemonstration(const KernelOptions& options);  // demonstration.cc
bool RunParallelBench(const KernelOptions& options);  // bench.cc
bool RunOneWorkload(const KernelOptions& options);    // trace_dump.cc
// Writes the trace rings to options.trace_file / ftrace_file (if set) through semihosting;
// false if a file could not be written.
bool DumpTraces(const KernelOptions& options);  // trace_dump.cc

}  // namespace lichen::aarch64
