#include "platform/aarch64/psci.h"

namespace lichen::aarch64::psci {

namespace {

constexpr int64_t kNotSupported = -1;

// Set once by the boot CPU before any secondary starts; read-only afterwards.
PsciConduit g_conduit = PsciConduit::kNone;

// One SMCCC call: function id in x0, arguments in x1-x3, result in x0. x4-x17 may be
// clobbered by SMCCC v1.0 firmware, so they are declared clobbered.
int64_t Call(uint64_t fn, uint64_t a1, uint64_t a2, uint64_t a3) {
  register uint64_t x0 asm("x0") = fn;
  register uint64_t x1 asm("x1") = a1;
  register uint64_t x2 asm("x2") = a2;
  register uint64_t x3 asm("x3") = a3;
  switch (g_conduit) {
    case PsciConduit::kHvc:
      asm volatile("hvc #0"
                   : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3)
                   :
                   : "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13", "x14", "x15",
                     "x16", "x17", "memory");
      break;
    case PsciConduit::kSmc:
      asm volatile("smc #0"
                   : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3)
                   :
                   : "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13", "x14", "x15",
                     "x16", "x17", "memory");
      break;
    case PsciConduit::kNone:
      return kNotSupported;
  }
  return static_cast<int64_t>(x0);
}

}  // namespace

void SetConduit(PsciConduit conduit) {
  g_conduit = conduit;
}

PsciConduit Conduit() {
  return g_conduit;
}

uint32_t Version() {
  const int64_t v = Call(kFnVersion, 0, 0, 0);
  return v < 0 ? 0 : static_cast<uint32_t>(v);
}

BootStatus CpuOn(uint64_t mpidr, uintptr_t entry, uint64_t context) {
  const int64_t r = Call(kFnCpuOn64, mpidr, entry, context);
  if (r == 0) return BootStatus::Ok();
  return BootStatus::Error(ResultName(r), mpidr);
}

void SystemOff() {
  (void)Call(kFnSystemOff, 0, 0, 0);
}

const char* ResultName(int64_t result) {
  switch (result) {
    case 0:
      return "PSCI: SUCCESS";
    case -1:
      return "PSCI: NOT_SUPPORTED";
    case -2:
      return "PSCI: INVALID_PARAMETERS";
    case -3:
      return "PSCI: DENIED";
    case -4:
      return "PSCI: ALREADY_ON";
    case -5:
      return "PSCI: ON_PENDING";
    case -6:
      return "PSCI: INTERNAL_FAILURE";
    case -7:
      return "PSCI: NOT_PRESENT";
    case -8:
      return "PSCI: DISABLED";
    case -9:
      return "PSCI: INVALID_ADDRESS";
    default:
      return "PSCI: unknown error";
  }
}

}  // namespace lichen::aarch64::psci
