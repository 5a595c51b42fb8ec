// The simulator's trace files: the per-CPU rings of the run that just ended, exported by
// kernel/trace/export.h (the same code the kernel's dump uses) to a string or a file.
#pragma once

#include <cstdint>
#include <string>

#include "kernel/trace/export.h"

namespace lichen::sim {

enum class TraceFormat {
  kText,    // the simulator's plain listing (one event per line, merged by time)
  kJson,    // Trace Event Format: Perfetto UI, chrome://tracing, tools/trace/render.py
  kFtrace,  // ftrace text (sched_switch, sched_waking): Perfetto's CPU scheduling view
};

// By the path's extension: .json, .ftrace / .systrace, anything else text.
TraceFormat TraceFormatFor(const std::string& path);

// The rings of CPUs 0..ncpus-1 in `format` (kJson or kFtrace); `stats` gets the export's
// counts when non-null.
std::string ExportTrace(TraceFormat format, uint32_t ncpus, const std::string& title,
                        trace::ExportStats* stats = nullptr);

// Writes ExportTrace(...) to `path`; false if the file cannot be written.
bool WriteTraceFile(const std::string& path, TraceFormat format, uint32_t ncpus,
                    const std::string& title);

}  // namespace lichen::sim
