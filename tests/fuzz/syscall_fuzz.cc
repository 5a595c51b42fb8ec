// libFuzzer target of the system-call layer: random numbers and argument values from a process
// in the simulator. Whatever they are, the kernel never crashes, panics (a debug check) or
// hangs, and the process ends: by exit_group at the end of the input, by a signal it sent
// itself or a fault, or by the watchdog's SIGKILL if the calls left it blocked.
//
// Input: records of 50 bytes: a call selector, a pointer mask (bit i: argument i is an
// address inside the process's own 64 KiB scratch mapping, offset by the value, instead of
// the raw value, so that calls get past EFAULT), and six 64-bit arguments.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "kernel/proc/process.h"
#include "kernel/sched/sched.h"
#include "kernel/syscall/syscall.h"
#include "kernel/vm/address_space.h"
#include "platform/sim/sim.h"
#include "platform/sim/user.h"

namespace lichen {
namespace {

constexpr size_t kRecord = 50;
constexpr uint64_t kScratch = 64 * 1024;

const uint8_t* g_data = nullptr;
size_t g_size = 0;

// The numbers calls are drawn from: every slot of the table and a few beyond it. clone is
// left out: its child would run this same program from the start (there is no "after the
// svc" for a host function), which is not what a clone does.
uint64_t Number(uint8_t selector, uint64_t raw) {
  if (selector == 0xff) return raw;                             // any 64-bit number
  if (selector >= 0xf0) return syscall::kTableSize + selector;  // just past the table
  uint64_t nr = (static_cast<uint64_t>(selector) * 2 + (raw & 1)) % 300;
  if (nr == syscall::kClone) nr = syscall::kGetpid;
  return nr;
}

void FuzzProgram(UserRegs& regs) {
  const int64_t scratch =
      sim::UserSyscall(regs, syscall::kMmap, 0, kScratch, vm::kProtRead | vm::kProtWrite,
                       vm::kMapPrivate | vm::kMapAnonymous, ~uint64_t{0}, 0);
  if (scratch < 0) sim::Fail("fuzz: scratch mmap failed");
  for (size_t off = 0; off + kRecord <= g_size; off += kRecord) {
    const uint8_t* r = g_data + off;
    uint64_t args[6];
    std::memcpy(args, r + 2, sizeof(args));
    for (int i = 0; i < 6; ++i) {
      if ((r[1] >> i) & 1) args[i] = static_cast<uint64_t>(scratch) + args[i] % kScratch;
    }
    sim::UserSyscall(regs, Number(r[0], args[5]), args[0], args[1], args[2], args[3], args[4],
                     args[5]);
    sim::UserRun(regs, 200);  // a little user time between calls
  }
  sim::UserSyscall(regs, syscall::kExitGroup, 0);
  sim::Fail("fuzz: exit_group returned");
}

}  // namespace
}  // namespace lichen

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lichen;
  if (size > 64 * kRecord) return 0;  // long inputs add little and slow the session
  g_data = data;
  g_size = size;
  sim::Options options;
  options.ncpus = 2;
  options.seed = size;
  options.memory_bytes = 64u << 20;
  options.check_idle_balance = false;
  options.max_time_ns = 1000 * kSec;
  const sim::Outcome result = sim::Run(options, [] {
    proc::Init();
    vm::AddressSpace* as = vm::AddressSpace::Create().value();
    proc::Process* p = proc::CreateProcess(as, nullptr, "/fuzz").value();
    proc::ThreadStart start;
    start.regs.pc = sim::RegisterUserProgram(&FuzzProgram);
    if (!proc::SpawnThread(p, start).ok()) sim::Fail("fuzz: spawn failed");
    // The watchdog: a process the calls left blocked (a futex wait, a sleep, sigsuspend) is
    // killed after 100 s of virtual time.
    proc::GetProcess(p);
    auto watchdog = [p] {
      sched::SleepFor(100 * kSec);
      proc::KillProcess(p, proc::SignaledStatus(proc::kSigKill));
      proc::PutProcess(p);
    };
    sched::SpawnOptions so;
    so.name = "watchdog";
    so.entry = [](void* arg) { (*static_cast<decltype(watchdog)*>(arg))(); };
    so.arg = &watchdog;
    Task* dog = sched::Spawn(so).value();
    (void)proc::WaitExit(p);
    sched::Join(dog);
  });
  if (!result.ok) {
    std::fprintf(stderr, "syscall fuzz: %s\n", result.failure.c_str());
    std::abort();
  }
  return 0;
}
