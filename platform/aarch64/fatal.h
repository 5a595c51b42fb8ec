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
[[noreturn]] void FatalStatus(const char* what, const BootStatus& status, ExitCode code);

// lib/assert.h's panic handler: message, location, CPU, task, backtrace, then power-off with
// ExitCode::kFatal. Installed at boot.
[[noreturn]] void PanicHandler(const char* file, int line, const char* message);

// An extra section for panic and fatal-exception reports, installed by the kernel once the
// core is up (kmain.cc: what the core publishes about every CPU, and its trace rings). It runs
// after the backtrace, with the console in panic mode, on the failing CPU: it must take no
// lock that CPU may hold. nullptr (the default, and the bring-up image) prints nothing.
using FatalReportHook = void (*)();
void SetFatalReportHook(FatalReportHook hook);

// Prints a frame-pointer backtrace starting at frame record `fp` (only records that lie in
// mapped RAM outside the stack guard pages are followed).
void PrintBacktrace(uint64_t fp);

}  // namespace lichen::aarch64
