#include "platform/aarch64/power.h"

#include "lib/atomic.h"
#include "platform/aarch64/asm_defs.h"
#include "platform/aarch64/console.h"
#include "platform/aarch64/psci.h"
#include "platform/aarch64/sysreg.h"

namespace lichen::aarch64 {

namespace {

// Set by the exception handler when semihosting turned out to be disabled.
Atomic<bool> g_semihosting_unavailable{false};

}  // namespace

bool SemihostingUnavailable() {
  return g_semihosting_unavailable.Load(std::memory_order_relaxed);
}

void MarkSemihostingUnavailable() {
  g_semihosting_unavailable.Store(true, std::memory_order_relaxed);
}

void PowerOff(ExitCode code) {
  MaskIrqs();
  console::Flush();
  if (!SemihostingUnavailable()) {
    // AArch64 SYS_EXIT takes a two-word block: the reason and the exit status.
    const uint64_t block[2] = {LICHEN_ADP_STOPPED_APPLICATION_EXIT, static_cast<uint64_t>(code)};
    (void)lichen_semihosting_call(LICHEN_SEMIHOSTING_SYS_EXIT, block);
  }
  // Still here: QEMU runs without semihosting, so the exit status cannot reach the host.
  console::Write("lichen: no semihosting: powering off through PSCI SYSTEM_OFF (QEMU exits 0)\n");
  console::Flush();
  psci::SystemOff();
  lichen_park();
}

}  // namespace lichen::aarch64
