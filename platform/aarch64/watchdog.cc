#include "platform/aarch64/watchdog.h"

#include "kernel/base/irq_state.h"
#include "kernel/base/platform.h"
#include "kernel/sched/cpu.h"
#include "kernel/sched/sched.h"
#include "lib/assert.h"
#include "lib/atomic.h"
#include "platform/aarch64/gic.h"
#include "platform/aarch64/sysreg.h"
#include "platform/aarch64/timer.h"

namespace lichen::aarch64::watchdog {

namespace {

// CNTP_CTL_EL0 bits.
constexpr uint64_t kCtlEnable = 1u << 0;

// Set by Start() on the boot CPU before any secondary runs InitCpu(); read-only afterwards.
uint32_t g_intid = 0;
bool g_started = false;

// The armed deadline. Arm() clears the callback first, then writes deadline and argument,
// then publishes the callback (release); an interrupt loads the callback (acquire) before
// reading the other two. One that races with re-arming may see the old callback with the new
// (later) deadline: it then does not fire, which is the safe direction.
Atomic<Expired> g_expired{nullptr};
Atomic<uint64_t> g_deadline_ns{0};
Atomic<void*> g_arg{nullptr};
// Set by the one interrupt that runs the callback: every later one on any CPU stays quiet.
Atomic<bool> g_fired{false};

// Programs this CPU's physical timer to interrupt at `deadline_ns` (at once if it passed).
void ProgramHere(uint64_t deadline_ns) {
  const uint64_t now_ns = platform::Now();
  const uint64_t wait_ticks = deadline_ns > now_ns ? timer::NsToTicks(deadline_ns - now_ns) : 0;
  Isb();
  LICHEN_WRITE_SYSREG(cntp_cval_el0, LICHEN_READ_SYSREG(cntpct_el0) + wait_ticks);
  LICHEN_WRITE_SYSREG(cntp_ctl_el0, kCtlEnable);
  Isb();
}

// sched::CallOn's function: runs on the target CPU with IRQs masked.
void ProgramHereCall(void* deadline) {
  ProgramHere(*static_cast<const uint64_t*>(deadline));
}

// The physical timer's interrupt: one-shot, so switch it off (its level output drops), then
// check the deadline. Early by the counter's rounding: program the rest.
void OnInterrupt(void* /*arg*/, uint32_t /*intid*/) {
  LICHEN_WRITE_SYSREG(cntp_ctl_el0, 0);
  Isb();
  const Expired expired = g_expired.Load(std::memory_order_acquire);
  if (expired == nullptr) return;
  const uint64_t deadline = g_deadline_ns.Load(std::memory_order_relaxed);
  if (platform::Now() < deadline) {
    ProgramHere(deadline);
    return;
  }
  if (g_fired.Exchange(true, std::memory_order_acq_rel)) return;
  expired(g_arg.Load(std::memory_order_relaxed));
}

}  // namespace

BootStatus Start(uint32_t intid) {
  if (intid == 0) return BootStatus::Error("watchdog: the device tree names no physical timer PPI");
  LICHEN_TRY_BOOT(gic::RegisterHandler(intid, &OnInterrupt, nullptr));
  g_intid = intid;
  g_started = true;
  return BootStatus::Ok();
}

void InitCpu() {
  if (!g_started) return;
  LICHEN_WRITE_SYSREG(cntp_ctl_el0, 0);
  Isb();
  gic::EnablePrivate(g_intid);
}

bool Running() {
  return g_started;
}

void Arm(uint64_t deadline_ns, Expired expired, void* arg) {
  if (!g_started) return;
  g_expired.Store(nullptr, std::memory_order_relaxed);
  g_deadline_ns.Store(deadline_ns, std::memory_order_relaxed);
  g_arg.Store(arg, std::memory_order_relaxed);
  g_expired.Store(expired, std::memory_order_release);
  uint32_t self;
  {
    IrqGuard guard;
    self = platform::ThisCpu();
    ProgramHere(deadline_ns);
  }
  for (uint32_t cpu : OnlineCpus()) {
    if (cpu == self) continue;
    LICHEN_DEBUG_ASSERT(self == platform::ThisCpu(), "watchdog::Arm from a task that migrated");
    sched::CallOn(cpu, &ProgramHereCall, &deadline_ns);
  }
}

void Disarm() {
  g_expired.Store(nullptr, std::memory_order_release);
}

}  // namespace lichen::aarch64::watchdog
