// Fatal errors: reports that end the machine with a failing exit status.
#pragma once

#include <cstdint>

#include "platform/aarch64/boot_info.h"
#include "platform/aarch64/power.h"
#include "platform/aarch64/status.h"

namespace lichen::aarch64 {

// The BootInfo of this boot (filled by start.cc; read-only once KernelMain runs).
const BootInfo& TheBootInfo();

// Prints "*** <what>: <status message> (<detail>)" and powers off with `code`.
[[noreturn]] void FatalStatus(const char* what, const Status& status, ExitCode code);

// lib/assert.h's panic handler: message, location, CPU, task, backtrace, then power-off with
// ExitCode::kFatal. Installed at boot.
[[noreturn]] void PanicHandler(const char* file, int line, const char* message);

// Prints a frame-pointer backtrace starting at frame record `fp` (only records that lie in
// mapped RAM outside the stack guard pages are followed).
void PrintBacktrace(uint64_t fp);

}  // namespace lichen::aarch64
