// Ending the machine: QEMU exits with a status the test harness can read.
//
// PowerOff() first asks the host through Arm semihosting (SYS_EXIT with an exit status, QEMU
// flag `-semihosting-config enable=on,target=native`), which makes QEMU exit with exactly that
// status. Without semihosting it falls back to PSCI SYSTEM_OFF (QEMU then exits with 0 whatever
// the outcome, so tools/qemu/run-kernel also requires a success line in the log), and as a
// last resort parks the CPU.
#pragma once

#include <cstdint>

namespace lichen::aarch64 {

// Exit statuses QEMU reports.
enum class ExitCode : uint32_t {
  kSuccess = 0,    // the kernel finished normally
  kFailure = 1,    // a test or self-check failed
  kFatal = 2,      // fatal exception or panic
  kBootError = 3,  // the platform could not boot (bad device tree, missing hardware)
};

// Flushes the console and stops the machine with `code`. Safe from any CPU, any state.
[[noreturn]] void PowerOff(ExitCode code);

// True once a semihosting call trapped as undefined (QEMU runs without semihosting).
bool SemihostingUnavailable();

// Called by the exception handler when the semihosting HLT trapped.
void MarkSemihostingUnavailable();

}  // namespace lichen::aarch64

extern "C" {
// boot.S: one semihosting call (w0 = operation, x1 = parameter block); -1 if unavailable.
int64_t lichen_semihosting_call(uint64_t operation, const void* parameters);
// The address of its HLT instruction (for the exception handler's fix-up).
extern char lichen_semihosting_hlt[];
// boot.S: stops this CPU forever.
[[noreturn]] void lichen_park();
}
