// Helpers for the process-layer tests: processes whose threads are host functions in the
// simulator (platform/sim/user.h).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <functional>

#include "kernel/proc/clone.h"
#include "kernel/proc/process.h"
#include "kernel/syscall/syscall.h"
#include "kernel/vm/address_space.h"
#include "lib/assert.h"
#include "lib/errno.h"
#include "platform/sim/sim.h"
#include "platform/sim/user.h"
#include "tests/sim/sim_test_util.h"

namespace lichen::test {

namespace sys = syscall;

constexpr int64_t E(Errno e) {
  return SyscallError(e);
}

// The flags glibc's pthread_create passes to clone.
constexpr uint64_t kThreadCloneFlags =
    proc::kCloneVm | proc::kCloneFs | proc::kCloneFiles | proc::kCloneSighand | proc::kCloneThread |
    proc::kCloneSysvsem | proc::kCloneSettls | proc::kCloneParentSettid | proc::kCloneChildCleartid;

// Programs find their argument in x19 (callee-saved, so a clone child finds it where its
// parent put it, as glibc's clone stub keeps the function and its argument in registers).
inline uint64_t Arg(const UserRegs& regs) {
  return regs.x[19];
}

// Starts a process whose first thread runs `program` (x19 = arg) and returns it; the caller
// reaps it with proc::WaitExit.
inline proc::Process* StartProcess(sim::UserProgram program, uint64_t arg = 0,
                                   CpuMask affinity = CpuMask::FirstN(kMaxCpus)) {
  proc::Init();
  vm::AddressSpace* as = vm::AddressSpace::Create().value();
  proc::Process* p = proc::CreateProcess(as, nullptr, "/test").value();
  proc::ThreadStart start;
  start.regs.pc = sim::RegisterUserProgram(program);
  start.regs.x[19] = arg;
  start.affinity = affinity;
  LICHEN_ASSERT(proc::SpawnThread(p, start).ok(), "first thread");
  return p;
}

// mmap of anonymous read-write memory from user code.
inline uint64_t MapAnon(UserRegs& regs, uint64_t len) {
  const int64_t addr = sim::UserSyscall(regs, sys::kMmap, 0, len, vm::kProtRead | vm::kProtWrite,
                                        vm::kMapPrivate | vm::kMapAnonymous, ~uint64_t{0}, 0);
  LICHEN_ASSERT(addr > 0, "mmap failed: {}", addr);
  return static_cast<uint64_t>(addr);
}

// A clone of a thread that runs `program` with x19 = arg on `stack`: returns the child's tid
// or -errno. (The child's clone returns 0 into `program`'s regs.)
inline int64_t CloneThread(UserRegs& regs, sim::UserProgram program, uint64_t arg, uint64_t stack,
                           uint64_t tls, uint64_t tid_addr, uint64_t flags = kThreadCloneFlags) {
  UserRegs saved = regs;
  regs.pc = sim::RegisterUserProgram(program);
  regs.x[19] = arg;
  const int64_t result = sim::UserSyscall(regs, sys::kClone, flags, stack, tid_addr, tls, tid_addr);
  regs = saved;
  return result;
}

// Pins the calling thread to `cpu` (sched_setaffinity of itself).
inline void PinSelf(UserRegs& regs, uint64_t scratch, uint32_t cpu) {
  sim::UserStore64(regs, scratch, uint64_t{1} << cpu);
  const int64_t r = sim::UserSyscall(regs, sys::kSchedSetaffinity, 0, 8, scratch);
  LICHEN_ASSERT(r == 0, "sched_setaffinity: {}", r);
}

inline sim::Outcome RunProc(uint32_t ncpus, uint64_t seed, const std::function<void()>& root) {
  sim::Options options;
  options.ncpus = ncpus;
  options.seed = seed;
  options.memory_bytes = 64u << 20;
  // User threads pinned to CPUs leave others idle beside them on purpose.
  options.check_idle_balance = false;
  // LICHEN_PROC_TRACE=<file>: the run's scheduler trace (for a failing seed's replay).
  if (const char* trace = std::getenv("LICHEN_PROC_TRACE")) options.trace_path = trace;
  return sim::Run(options, root);
}

// Runs `root` for `seeds` seeds on each CPU count; a failure prints its replay line.
inline void RunProcSeeds(const char* name, uint64_t seeds, std::initializer_list<uint32_t> cpus,
                         const std::function<void(uint64_t seed, uint32_t ncpus)>& root) {
  ForEachSeed(name, seeds, [&](uint64_t seed) {
    for (uint32_t ncpus : cpus) {
      const sim::Outcome result = RunProc(ncpus, seed, [&] { root(seed, ncpus); });
      ASSERT_TRUE(result.ok) << ncpus << " CPUs: " << Explain(result);
    }
  });
}

}  // namespace lichen::test
