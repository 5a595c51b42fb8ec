// User space in the simulator (user.h): kernel/base/platform_user.h for host "user code".
#include "platform/sim/user.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unordered_map>
#include <vector>

#include "kernel/base/irq_state.h"
#include "kernel/base/platform.h"
#include "kernel/base/platform_mmu.h"
#include "kernel/base/platform_user.h"
#include "kernel/proc/process.h"
#include "kernel/sched/cpu.h"
#include "kernel/sched/sched.h"
#include "kernel/user/entry.h"
#include "kernel/vm/address_space.h"
#include "lib/assert.h"
#include "lib/sim_reset.h"
#include "platform/sim/sim.h"

namespace lichen::sim {

namespace {

// Fake pcs: a recognizable range no real program uses.
constexpr uint64_t kProgramPcBase = 0x5111'0000'0000;
constexpr uint64_t kExtMagic = 0x55ee'7777'55ee'7777;
// One "instruction batch": how much user time passes between two looks for an interrupt.
constexpr uint64_t kUserBatchNs = 500;

std::vector<UserProgram>& Programs() {
  static std::vector<UserProgram> programs;
  return programs;
}

struct SimExt {
  uint64_t tls;
  uint64_t magic;
};
static_assert(sizeof(SimExt) <= platform::kUserExtStateSize);

// Each virtual CPU's live user state (the registers of a real CPU).
struct LiveState {
  uint64_t tls = 0;
  bool loaded = false;
};
LiveState g_live[kMaxCpus];

std::string g_console;
int g_power_off_status = -1;

// What shows that the thread entered the kernel since the last reading: the interrupts its CPU
// has taken (timer and IPI), the times it was switched in (a switch-out starts in the
// kernel, whatever made it), and the CPU.
struct Entries {
  uint64_t count = 0;
  uint32_t cpu = 0;
  bool operator==(const Entries&) const = default;
};

Entries KernelEntries() {
  IrqGuard guard;
  Entries e;
  e.cpu = platform::ThisCpu();
  const CpuCounterSnapshot snap = SnapshotCounters(e.cpu);
  e.count = snap.timer_interrupts + snap.ipis_received +
            sched::Current()->published_switches.Load(std::memory_order_relaxed);
  return e;
}

// Each user thread's reading at its last return to user space. Per thread, not per UserRun
// call: an interrupt taken just after a reading (as IRQs come back on) must show at the
// thread's next look, even if that look is in a later call.
std::unordered_map<const Task*, Entries>& Baselines() {
  static std::unordered_map<const Task*, Entries> baselines;
  return baselines;
}

// The eret: BeforeReturnToUser returns with IRQs masked; the reading is taken before they
// come back on, so an interrupt pending now is taken "in user space" and shows next time.
void ReturnToUser() {
  Baselines()[sched::Current()] = KernelEntries();
  platform::RestoreIrqs(platform::IrqState{false});
}

void ResetUserForSimulation() {
  for (LiveState& s : g_live)
    s = LiveState{};
  Baselines().clear();
  g_console.clear();
  g_power_off_status = -1;
}
const ResetRegistrar g_reset_user("sim.user", ResetStage::kAny, &ResetUserForSimulation);

// The MMU's walk for an access at `addr`: the kernel address of the byte, after faulting the
// page in through the kernel as the hardware exception would. Does not return when the
// kernel kills the thread instead.
uint8_t* Translate(UserRegs& regs, uintptr_t addr, bool write) {
  proc::Process* p = proc::CurrentProcess();
  LICHEN_ASSERT(p != nullptr, "user access from a kernel task");
  for (int attempt = 0;; ++attempt) {
    uintptr_t page_pa = 0;
    platform::PageProt prot{};
    if (p->as->Translate(addr, &page_pa, &prot) && prot.read && (!write || prot.write)) {
      return reinterpret_cast<uint8_t*>(platform::PhysToKernel(page_pa)) + (addr & 4095);
    }
    LICHEN_ASSERT(attempt < 8, "user access at {:#x} faults forever", addr);
    user::OnPageFault(regs, addr, write, false);
    // A fault the kernel could not resolve has killed the process: the thread leaves on its
    // way back to user space.
    user::BeforeReturnToUser(regs);
    ReturnToUser();
  }
}

}  // namespace

uint64_t RegisterUserProgram(UserProgram program) {
  std::vector<UserProgram>& programs = Programs();
  for (size_t i = 0; i < programs.size(); ++i) {
    if (programs[i] == program) return kProgramPcBase + 4 * i;
  }
  programs.push_back(program);
  return kProgramPcBase + 4 * (programs.size() - 1);
}

void UserRun(UserRegs& regs, uint64_t ns) {
  while (ns > 0) {
    const uint64_t batch = ns < kUserBatchNs ? ns : kUserBatchNs;
    Compute(batch);
    ns -= batch;
    // An interrupt came since the last return to user space, or the thread was switched out
    // and in, or moved: its return to EL0 goes through the kernel's last step.
    if (!(KernelEntries() == Baselines()[sched::Current()])) {
      user::BeforeReturnToUser(regs);
      ReturnToUser();
    }
  }
}

int64_t UserSyscall(UserRegs& regs, uint64_t number, uint64_t a0, uint64_t a1, uint64_t a2,
                    uint64_t a3, uint64_t a4, uint64_t a5) {
  regs.x[kSyscallNumberReg] = number;
  regs.x[0] = a0;
  regs.x[1] = a1;
  regs.x[2] = a2;
  regs.x[3] = a3;
  regs.x[4] = a4;
  regs.x[5] = a5;
  user::OnSyscall(regs);
  user::BeforeReturnToUser(regs);
  ReturnToUser();
  return static_cast<int64_t>(regs.x[0]);
}

uint64_t UserLoad64(UserRegs& regs, uintptr_t addr) {
  LICHEN_ASSERT(addr % 8 == 0, "unaligned user load at {:#x}", addr);
  uint64_t value = 0;
  std::memcpy(&value, Translate(regs, addr, false), sizeof(value));
  return value;
}

void UserStore64(UserRegs& regs, uintptr_t addr, uint64_t value) {
  LICHEN_ASSERT(addr % 8 == 0, "unaligned user store at {:#x}", addr);
  std::memcpy(Translate(regs, addr, true), &value, sizeof(value));
}

Atomic<uint32_t>& UserWord(UserRegs& regs, uintptr_t addr) {
  static_assert(sizeof(Atomic<uint32_t>) == sizeof(uint32_t));
  LICHEN_ASSERT(addr % 4 == 0, "unaligned user word at {:#x}", addr);
  return *reinterpret_cast<Atomic<uint32_t>*>(Translate(regs, addr, true));
}

uint64_t UserTls() {
  IrqGuard guard;
  const LiveState& live = g_live[platform::ThisCpu()];
  LICHEN_ASSERT(live.loaded, "no user state live on CPU {}", platform::ThisCpu());
  return live.tls;
}

const std::string& ConsoleOutput() {
  return g_console;
}

int PowerOffStatus() {
  return g_power_off_status;
}

}  // namespace lichen::sim

namespace lichen::platform {

void EnterUser(const UserRegs& regs) {
  const std::vector<sim::UserProgram>& programs = sim::Programs();
  const uint64_t index = (regs.pc - sim::kProgramPcBase) / 4;
  if (regs.pc < sim::kProgramPcBase || index >= programs.size()) {
    sim::Fail("EnterUser: no simulated program at this pc");
  }
  UserRegs frame = regs;         // on the thread's kernel stack, as the vectors' frame
  RestoreIrqs(IrqState{false});  // the eret into EL0
  programs[index](frame);
  sim::Fail("a simulated user program returned (it must exit)");
}

void InitUserExtState(void* ext, uint64_t tls) {
  auto* state = static_cast<sim::SimExt*>(ext);
  state->tls = tls;
  state->magic = sim::kExtMagic;
}

void CloneUserExtState(void* child_ext, bool set_tls, uint64_t tls) {
  IrqGuard guard;
  const sim::LiveState& live = sim::g_live[ThisCpu()];
  LICHEN_ASSERT(live.loaded, "clone with no user state live on CPU {}", ThisCpu());
  auto* child = static_cast<sim::SimExt*>(child_ext);
  child->tls = set_tls ? tls : live.tls;
  child->magic = sim::kExtMagic;
}

void SwitchUserExtState(void* prev_ext, void* next_ext) {
  LICHEN_ASSERT(IrqsMasked(), "SwitchUserExtState with IRQs on");
  sim::LiveState& live = sim::g_live[ThisCpu()];
  if (prev_ext != nullptr) {
    auto* prev = static_cast<sim::SimExt*>(prev_ext);
    LICHEN_ASSERT(prev->magic == sim::kExtMagic, "switching out a corrupt user state");
    LICHEN_ASSERT(live.loaded, "switching out user state that was never loaded");
    prev->tls = live.tls;
  }
  if (next_ext != nullptr) {
    auto* next = static_cast<sim::SimExt*>(next_ext);
    LICHEN_ASSERT(next->magic == sim::kExtMagic, "switching in a corrupt user state");
    live.tls = next->tls;
    live.loaded = true;
  } else {
    // Nothing of the previous thread stays where EL0 could read it.
    live.tls = 0;
    live.loaded = false;
  }
}

void ConsoleWrite(const char* data, size_t len) {
  sim::g_console.append(data, len);
  if (std::getenv("LICHEN_SIM_CONSOLE") != nullptr) {
    std::fwrite(data, 1, len, stderr);
  }
}

void PowerOff(int status) {
  sim::g_power_off_status = status;
}

}  // namespace lichen::platform
