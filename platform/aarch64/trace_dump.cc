// The kernel's trace files: `./lichen trace` boots with `workload=<name> trace=<file>`; init
// runs that workload, then writes every CPU's trace ring to a file on the host through Arm
// semihosting (SYS_OPEN / SYS_WRITE / SYS_CLOSE; QEMU opens the path relative to its working
// directory), in the formats of kernel/trace/export.h. Semihosting hands the bytes straight to
// the host, so nothing is lost on the way; what the rings themselves overwrote is counted by
// their sequence numbers and reported in the file and on the console.
#include <cstring>

#include "kernel/base/irq_state.h"
#include "kernel/base/platform.h"
#include "kernel/sched/cpu.h"
#include "kernel/sched/sched.h"
#include "kernel/trace/export.h"
#include "kernel/trace/trace.h"
#include "platform/aarch64/console.h"
#include "platform/aarch64/kernel_main.h"
#include "platform/aarch64/power.h"
#include "workloads/workloads.h"

namespace lichen::aarch64 {

namespace {

using console::Print;

// Arm semihosting operations and the open mode "w" (ISO C fopen modes, in the spec's order).
constexpr uint64_t kSysOpen = 0x01;
constexpr uint64_t kSysClose = 0x02;
constexpr uint64_t kSysWrite = 0x05;
constexpr uint64_t kModeWrite = 4;

constexpr size_t kMaxPath = 128;

// Buffers the export's small writes into semihosting calls of a few KiB (each call is a trap
// to QEMU).
class SemihostingFile final : public Sink {
 public:
  bool Open(std::string_view path) {
    if (SemihostingUnavailable() || path.empty() || path.size() >= kMaxPath) return false;
    memcpy(path_, path.data(), path.size());
    path_[path.size()] = '\0';
    const uint64_t block[3] = {reinterpret_cast<uint64_t>(path_), kModeWrite, path.size()};
    handle_ = lichen_semihosting_call(kSysOpen, block);
    return handle_ >= 0;
  }

  void Write(const char* data, size_t len) override {
    while (len > 0) {
      if (used_ == sizeof(buffer_)) Flush();
      const size_t n = len < sizeof(buffer_) - used_ ? len : sizeof(buffer_) - used_;
      memcpy(buffer_ + used_, data, n);
      used_ += n;
      data += n;
      len -= n;
    }
  }

  // Flushes and closes; false if any write fell short.
  bool Close() {
    Flush();
    const uint64_t block[1] = {static_cast<uint64_t>(handle_)};
    const bool closed = lichen_semihosting_call(kSysClose, block) == 0;
    return closed && ok_;
  }

 private:
  void Flush() {
    if (used_ == 0) return;
    const uint64_t block[3] = {static_cast<uint64_t>(handle_), reinterpret_cast<uint64_t>(buffer_),
                               used_};
    // SYS_WRITE returns how many bytes were NOT written.
    if (lichen_semihosting_call(kSysWrite, block) != 0) ok_ = false;
    used_ = 0;
  }

  char path_[kMaxPath] = {};
  char buffer_[4096] = {};
  size_t used_ = 0;
  int64_t handle_ = -1;
  bool ok_ = true;
};

enum class Format { kJson, kFtrace };

bool DumpOne(std::string_view path, Format format) {
  SemihostingFile file;
  if (!file.Open(path)) {
    Print("trace: cannot open {} on the host (semihosting off?)", path);
    return false;
  }
  const uint32_t ncpus = platform::CpuCount();
  trace::Spans cpus[kMaxCpus];
  trace::ExportStats stats;
  {
    // This CPU records nothing while its ring is read; the others are idle (the workload has
    // ended) and record at most an idle exit/enter per interrupt, into rings sized so that a
    // dump never waits on them (a torn event would show as a gap in the sequence numbers).
    IrqGuard guard;
    for (uint32_t cpu = 0; cpu < ncpus; ++cpu)
      cpus[cpu] = trace::Kept(cpu);
    trace::ExportInfo info;
    info.title = "lichen kernel (QEMU virt)";
    info.ncpus = ncpus;
    info.cpus = cpus;
    stats = format == Format::kJson ? trace::WriteTraceEventJson(file, info)
                                    : trace::WriteFtraceText(file, info);
  }
  const bool ok = file.Close();
  Print("trace: {} events of {} CPUs written to {}: {} lost to ring overflow or gaps ({} gaps){}",
        stats.events, ncpus, path, stats.lost, stats.gaps, ok ? "" : ": WRITE FAILED");
  return ok;
}

}  // namespace

bool RunOneWorkload(const KernelOptions& options) {
  char name[32] = {};
  if (options.workload.size() >= sizeof(name)) {
    Print("trace: no workload called {}", options.workload);
    return false;
  }
  memcpy(name, options.workload.data(), options.workload.size());
  const workload::Workload* w = workload::Find(name);
  if (w == nullptr) {
    Print("trace: no workload called {}", options.workload);
    return false;
  }
  workload::Params params;
  params.scale = options.scale;
  params.seed = options.seed;
  Print("trace: running workload {} ({}) on {} CPUs", w->name, w->description,
        OnlineCpus().Count());
  const uint64_t start = platform::Now();
  w->run(params);
  Print("trace: workload {} done in {} us", w->name, (platform::Now() - start) / 1000);
  return true;
}

bool DumpTraces(const KernelOptions& options) {
  if (options.trace_file.empty() && options.ftrace_file.empty()) return true;
  if constexpr (!trace::kEnabled) {
    Print("trace: this image records no trace (LICHEN_TRACE_LEVEL=0)");
    return false;
  }
  bool ok = true;
  if (!options.trace_file.empty()) ok = DumpOne(options.trace_file, Format::kJson) && ok;
  if (!options.ftrace_file.empty()) ok = DumpOne(options.ftrace_file, Format::kFtrace) && ok;
  return ok;
}

}  // namespace lichen::aarch64
