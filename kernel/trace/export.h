// Turns the per-CPU trace rings (kernel/trace/trace.h) into files that existing tools open.
//
//   WriteTraceEventJson  the Trace Event Format (JSON) of chrome://tracing and Perfetto's UI:
//                        one track per CPU (thread `tid` = CPU number) with a slice per task
//                        stay (idle greyed as its own slice, WFI nested inside it), instant
//                        events for wakeups, steals, spawns, exits, timers and IPIs, and flow
//                        arrows wakeup -> switch-in, migration -> switch-in, IPI sent -> IPI
//                        received across CPUs.
//   WriteFtraceText      the ftrace text form of sched_switch / sched_waking, which Perfetto
//                        imports into its native CPU scheduling view.
//
// Portable and freestanding (the kernel writes the same bytes through semihosting that the
// simulator writes to a file): no allocation; the task table is a fixed static array, so one
// export runs at a time. Events are merged across CPUs in (time, CPU, ring order), which is
// deterministic for deterministic rings. A ring that overflowed (its oldest kept event is not
// number 0) or skipped sequence numbers is reported in the file, never hidden.
#pragma once

#include <cstdint>

#include "kernel/trace/trace.h"
#include "lib/format.h"

namespace lichen::trace {

struct ExportInfo {
  const char* title = "lichen";  // shown as the process name
  uint32_t ncpus = 0;
  const Spans* cpus = nullptr;  // ncpus entries: each CPU's events, oldest first
};

// Counts an export found (also written into the file's metadata).
struct ExportStats {
  uint64_t events = 0;   // ring events read
  uint64_t lost = 0;     // events missing by their sequence numbers (overflow and gaps)
  uint32_t gaps = 0;     // places where a CPU's sequence jumped (not counting the start)
  uint32_t flows = 0;    // flow arrows written (both ends present)
  uint32_t unnamed = 0;  // slices of tasks whose spawn is not in the trace ("task <id>")
};

ExportStats WriteTraceEventJson(Sink& out, const ExportInfo& info);
ExportStats WriteFtraceText(Sink& out, const ExportInfo& info);

}  // namespace lichen::trace
