#include "platform/aarch64/timer.h"

#include "kernel/base/platform.h"
#include "kernel/irq.h"
#include "lib/units.h"
#include "platform/aarch64/cpu_local.h"
#include "platform/aarch64/gic.h"
#include "platform/aarch64/sysreg.h"

namespace lichen::aarch64::timer {

namespace {

// CNTV_CTL_EL0 bits.
constexpr uint64_t kCtlEnable = 1u << 0;
constexpr uint64_t kCtlIstatus = 1u << 2;  // read-only: the timer condition is met

// Written once by the boot CPU before any other CPU starts; read-only afterwards.
uint64_t g_hz = 0;          // CNTFRQ_EL0
uint64_t g_boot_ticks = 0;  // CNTVCT_EL0 when timer::Init ran: Now() == 0 there
uint32_t g_intid = 0;       // the virtual timer's INTID

uint64_t ReadCounter() {
  // The ISB keeps the counter read from being speculated ahead of earlier instructions.
  Isb();
  return LICHEN_READ_SYSREG(cntvct_el0);
}

uint64_t SaturatingMulAdd(uint64_t a, uint64_t b, uint64_t c) {
  uint64_t product;
  uint64_t sum;
  if (__builtin_mul_overflow(a, b, &product) || __builtin_add_overflow(product, c, &sum)) {
    return ~uint64_t{0};
  }
  return sum;
}

// The timer PPI: stop the timer (its level-triggered output drops), then tell the core.
void OnTimerInterrupt(void* /*arg*/, uint32_t /*intid*/) {
  const uint64_t ctl = LICHEN_READ_SYSREG(cntv_ctl_el0);
  if ((ctl & kCtlEnable) == 0 || (ctl & kCtlIstatus) == 0) {
    ++ThisArchCpu().stale_timer_count;
    return;
  }
  LICHEN_WRITE_SYSREG(cntv_ctl_el0, 0);
  Isb();
  irq::OnTimer();
}

}  // namespace

// Exact conversions by splitting into whole seconds and a remainder: every intermediate stays
// below 2^63 (remainder * 10^9 < 2^32 * 10^9), and the only divisions are 64-bit ones (UDIV).
uint64_t TicksToNs(uint64_t ticks) {
  if (g_hz == 0) return 0;
  return SaturatingMulAdd(ticks / g_hz, kSec, (ticks % g_hz) * kSec / g_hz);
}

uint64_t NsToTicks(uint64_t ns) {
  const uint64_t rest = (ns % kSec) * g_hz;
  return SaturatingMulAdd(ns / kSec, g_hz, (rest + kSec - 1) / kSec);
}

BootStatus Init(uint32_t intid) {
  g_hz = LICHEN_READ_SYSREG(cntfrq_el0) & 0xffffffff;
  if (g_hz == 0) return BootStatus::Error("timer: CNTFRQ_EL0 is 0 (firmware did not set it)");
  g_intid = intid;
  g_boot_ticks = ReadCounter();
  return gic::RegisterHandler(intid, OnTimerInterrupt, nullptr);
}

// CNTKCTL_EL1.EL0VCTEN (bit 1): EL0 reads of CNTVCT_EL0 and CNTFRQ_EL0 do not trap.
constexpr uint64_t kCntkctlEl0Vcten = uint64_t{1} << 1;

void InitCpu() {
  LICHEN_WRITE_SYSREG(cntv_ctl_el0, 0);
  // EL0 may read the virtual counter and CNTFRQ_EL0 (EL0VCTEN), as on Linux, where programs
  // read them directly (the vDSO, benchmarks); nothing else of the timers (the physical
  // counter, both timers' registers) is EL0's.
  LICHEN_WRITE_SYSREG(cntkctl_el1, kCntkctlEl0Vcten);
  Isb();
  gic::EnablePrivate(g_intid);
}

uint64_t FrequencyHz() {
  return g_hz;
}

uint64_t StaleInterrupts() {
  return ThisArchCpu().stale_timer_count;
}

}  // namespace lichen::aarch64::timer

namespace lichen::platform {

using aarch64::timer::NsToTicks;
using aarch64::timer::TicksToNs;

uint64_t Now() {
  return TicksToNs(aarch64::timer::ReadCounter() - aarch64::timer::g_boot_ticks);
}

void ArmTimer(uint64_t deadline_ns) {
  uint64_t compare = NsToTicks(deadline_ns);
  const uint64_t base = aarch64::timer::g_boot_ticks;
  compare = compare > ~uint64_t{0} - base ? ~uint64_t{0} : compare + base;
  LICHEN_WRITE_SYSREG(cntv_cval_el0, compare);
  LICHEN_WRITE_SYSREG(cntv_ctl_el0, aarch64::timer::kCtlEnable);  // enabled, not masked
  aarch64::Isb();
}

void DisarmTimer() {
  LICHEN_WRITE_SYSREG(cntv_ctl_el0, 0);
  aarch64::Isb();
}

}  // namespace lichen::platform
