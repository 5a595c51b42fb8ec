// PSCI (Arm Power State Coordination Interface, DEN0022) through the SMC Calling Convention:
// starting secondary CPUs and switching the machine off. The conduit (HVC or SMC) comes from
// the device tree's /psci node.
#pragma once

#include <cstdint>

#include "platform/aarch64/boot_info.h"
#include "platform/aarch64/status.h"

namespace lichen::aarch64::psci {

// Function ids (SMC32 for calls without 64-bit arguments, SMC64 for CPU_ON).
inline constexpr uint32_t kFnVersion = 0x84000000;
inline constexpr uint32_t kFnCpuOff = 0x84000002;
inline constexpr uint32_t kFnCpuOn64 = 0xc4000003;
inline constexpr uint32_t kFnSystemOff = 0x84000008;
inline constexpr uint32_t kFnSystemReset = 0x84000009;

// Selects the conduit for every later call (kNone makes every call fail with NOT_SUPPORTED).
void SetConduit(PsciConduit conduit);
PsciConduit Conduit();

// PSCI_VERSION: major in bits [31:16], minor in [15:0]; 0 when there is no conduit.
uint32_t Version();

// CPU_ON: starts the CPU with MPIDR affinity `mpidr` at physical address `entry` (with its
// MMU off, at EL2 or EL1) and `context` in x0.
BootStatus CpuOn(uint64_t mpidr, uintptr_t entry, uint64_t context);

// SYSTEM_OFF. Returns only if the call failed or there is no conduit.
void SystemOff();

// Name of a PSCI return code ("SUCCESS", "ALREADY_ON", ...).
const char* ResultName(int64_t result);

}  // namespace lichen::aarch64::psci
