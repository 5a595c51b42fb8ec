// Exception handling in C++: IRQ dispatch and the fatal-exception report.
#include <string_view>

#include "kernel/irq.h"
#include "lib/atomic.h"
#include "platform/aarch64/console.h"
#include "platform/aarch64/cpu_local.h"
#include "platform/aarch64/direct_map.h"
#include "platform/aarch64/entry_points.h"
#include "platform/aarch64/exception_frame.h"
#include "platform/aarch64/fatal.h"
#include "platform/aarch64/gic.h"
#include "platform/aarch64/image.h"
#include "platform/aarch64/kstack.h"
#include "platform/aarch64/mmu.h"
#include "platform/aarch64/psci.h"
#include "platform/aarch64/sysreg.h"

namespace lichen::aarch64 {

namespace {

// Interrupts acknowledged per IRQ entry at most, before irq::Exit() gets its chance.
constexpr int kMaxAcksPerEntry = 8;
// Frame records a backtrace follows at most.
constexpr int kMaxBacktraceDepth = 24;

// ESR_EL1 fields.
constexpr uint64_t EsrClass(uint64_t esr) {
  return (esr >> 26) & 0x3f;
}
constexpr uint64_t EsrIss(uint64_t esr) {
  return esr & 0x1ffffff;
}
constexpr uint64_t kEcUnknown = 0x00;
constexpr uint64_t kEcInstructionAbortLower = 0x20;
constexpr uint64_t kEcInstructionAbortSame = 0x21;
constexpr uint64_t kEcDataAbortLower = 0x24;
constexpr uint64_t kEcDataAbortSame = 0x25;

// The exception class in words (Arm ARM, ESR_ELx.EC).
const char* ExceptionClassName(uint64_t ec) {
  switch (ec) {
    case 0x00:
      return "unknown reason (undefined instruction)";
    case 0x01:
      return "trapped WFI/WFE";
    case 0x07:
      return "trapped SVE/SIMD/FP access";
    case 0x0d:
      return "branch target exception (BTI)";
    case 0x0e:
      return "illegal execution state";
    case 0x11:
      return "SVC from AArch32";
    case 0x15:
      return "SVC from AArch64";
    case 0x16:
      return "HVC from AArch64";
    case 0x17:
      return "SMC from AArch64";
    case 0x18:
      return "trapped MSR/MRS/system instruction";
    case 0x19:
      return "trapped SVE access";
    case 0x1c:
      return "pointer authentication failure";
    case 0x20:
      return "instruction abort from a lower EL";
    case 0x21:
      return "instruction abort at the same EL";
    case 0x22:
      return "PC alignment fault";
    case 0x24:
      return "data abort from a lower EL";
    case 0x25:
      return "data abort at the same EL";
    case 0x26:
      return "SP alignment fault";
    case 0x2c:
      return "floating-point exception";
    case 0x2f:
      return "SError interrupt";
    case 0x30:
      return "breakpoint from a lower EL";
    case 0x31:
      return "breakpoint at the same EL";
    case 0x32:
      return "software step from a lower EL";
    case 0x33:
      return "software step at the same EL";
    case 0x34:
      return "watchpoint from a lower EL";
    case 0x35:
      return "watchpoint at the same EL";
    case 0x3c:
      return "BRK instruction";
    default:
      return "reserved/unhandled exception class";
  }
}

// The fault status code of an instruction/data abort (ISS[5:0]) in words.
const char* FaultStatusName(uint64_t fsc) {
  switch (fsc & 0x3c) {
    case 0x00:
      return "address size fault";
    case 0x04:
      return "translation fault";
    case 0x08:
      return "access flag fault";
    case 0x0c:
      return "permission fault";
    default:
      break;
  }
  switch (fsc) {
    case 0x10:
      return "synchronous external abort";
    case 0x21:
      return "alignment fault";
    case 0x30:
      return "TLB conflict abort";
    default:
      return "other fault";
  }
}

const char* KindName(ExceptionKind kind) {
  switch (kind) {
    case ExceptionKind::kSync:
      return "synchronous exception";
    case ExceptionKind::kSError:
      return "SError";
    case ExceptionKind::kFiq:
      return "unexpected FIQ";
    case ExceptionKind::kSp0:
      return "exception taken with SP_EL0 selected";
    case ExceptionKind::kLowerA64:
      return "exception from EL0 (AArch64)";
    case ExceptionKind::kLowerA32:
      return "exception from EL0 (AArch32)";
  }
  return "exception";
}

const char* TaskName() {
  const char* name = CurrentTaskName();
  return name != nullptr ? name : "?";
}

bool Mapped(uint64_t va) {
  return (TranslateKernelRead(va) & kParFault) == 0;
}

// Which guard page (if any) holds `addr`: writes a description into `line`.
bool DescribeGuard(uint64_t addr, console::LineBuffer& line) {
  // A task stack's guard: unmapped, in the stack region, with the stack's lowest page just
  // above it. The overflowing task is the one this CPU runs.
  if (InTaskStackRegion(addr) && !Mapped(addr) && InTaskStackRegion(addr + LICHEN_PAGE_SIZE) &&
      Mapped(addr + LICHEN_PAGE_SIZE)) {
    Format(line,
           "    {:#x} is in the guard page below the kernel stack of task \"{}\": stack overflow",
           addr, TaskName());
    return true;
  }
  for (uint32_t cpu = 0; cpu < LICHEN_AARCH64_MAX_CPUS; ++cpu) {
    if (addr - BootStackGuard(cpu) < LICHEN_PAGE_SIZE) {
      Format(line, "    FAR is in the guard page below cpu{}'s boot stack: stack overflow", cpu);
      return true;
    }
    if (addr - ExceptionStackGuard(cpu) < LICHEN_PAGE_SIZE) {
      Format(line, "    FAR is in the guard page below cpu{}'s exception stack: overflow", cpu);
      return true;
    }
  }
  return false;
}

// True if [addr, addr + 16) is mapped kernel memory that is not a device (safe to read in a
// report): the image, the direct map of RAM, a task stack. Asks the MMU itself (AT S1E1R),
// so unmapped guard pages and anything the tables lack are refused without a fault.
bool SafeToRead(uint64_t addr) {
  if (addr % 16 != 0 || addr < kDirectMapBase) return false;
  const uint64_t par = TranslateKernelRead(addr);
  if ((par & kParFault) != 0) return false;
  return (par >> kParAttrShift) != LICHEN_MAIR_DEVICE_ATTR;
}

// The kernel's extra report section (SetFatalReportHook); read by the failing CPU.
Atomic<FatalReportHook> g_fatal_report_hook{nullptr};

void RunFatalReportHook() {
  if (FatalReportHook hook = g_fatal_report_hook.Load(std::memory_order_acquire)) hook();
}

// The full report of a fatal exception (first fault on this CPU).
[[noreturn]] void ReportFatal(const ExceptionFrame& f, ExceptionKind kind) {
  console::InitIfNeeded(PhysToVirt(kQemuVirtUartBase));
  console::EnterPanicMode();
  const ArchCpu& local = ThisArchCpu();
  const uint64_t ec = EsrClass(f.esr);
  const uint64_t iss = EsrIss(f.esr);
  console::Print("*** FATAL: {} on cpu{} (mpidr {:#x}), task \"{}\"", KindName(kind), local.cpu,
                 local.mpidr, TaskName());
  console::Print("    ESR {:#010x}: class {:#04x} {}, ISS {:#09x}", f.esr, ec,
                 ExceptionClassName(ec), iss);
  if (ec == kEcDataAbortSame || ec == kEcDataAbortLower || ec == kEcInstructionAbortSame ||
      ec == kEcInstructionAbortLower) {
    const bool data = ec == kEcDataAbortSame || ec == kEcDataAbortLower;
    const uint64_t fsc = iss & 0x3f;
    const bool level_fault = (fsc & 0x30) == 0;
    console::LineBuffer line;
    Format(line, "    {} {}",
           data ? (((iss >> 6) & 1) ? "write:" : "read:") : "fetch:", FaultStatusName(fsc));
    if (level_fault) Format(line, ", level {}", fsc & 3);
    if (((iss >> 10) & 1) != 0) Format(line, " (FAR not valid)");
    line.EndLine();
    console::Write(line.view());
  }
  console::Print("    FAR  {:#018x}  ELR {:#018x}  SPSR {:#010x}", f.far, f.elr, f.spsr);
  {
    console::LineBuffer line;
    if (DescribeGuard(f.far, line) || DescribeGuard(f.sp, line)) {
      line.EndLine();
      console::Write(line.view());
    }
  }
  for (int i = 0; i < 31; i += 4) {
    console::LineBuffer line;
    Format(line, "   ");
    for (int r = i; r < i + 4 && r < 31; ++r)
      Format(line, " x{:<2} {:#018x}", r, f.x[r]);
    if (i == 28) Format(line, " sp  {:#018x}", f.sp);
    line.EndLine();
    console::Write(line.view());
  }
  console::Print("    backtrace: {:#x} (ELR)", f.elr);
  PrintBacktrace(f.x[29]);
  RunFatalReportHook();
  console::Print("*** system halted: powering off with exit status {}",
                 static_cast<uint32_t>(ExitCode::kFatal));
  PowerOff(ExitCode::kFatal);
}

// A fault inside the fault report (or the panic handler): one line, no lock wait, power off.
[[noreturn]] void ReportNested(const ExceptionFrame& f) {
  console::EnterPanicMode();
  console::Print("*** FATAL: fault while reporting a fault on cpu{}: ESR {:#x} ELR {:#x} FAR {:#x}",
                 ThisArchCpu().cpu, f.esr, f.elr, f.far);
  PowerOff(ExitCode::kFatal);
}

// Last resort when even the nested report faulted: no console, straight to the exits.
[[noreturn]] void EmergencyExit() {
  if (!SemihostingUnavailable()) {
    const uint64_t block[2] = {LICHEN_ADP_STOPPED_APPLICATION_EXIT,
                               static_cast<uint64_t>(ExitCode::kFatal)};
    (void)lichen_semihosting_call(LICHEN_SEMIHOSTING_SYS_EXIT, block);
  }
  psci::SystemOff();
  lichen_park();
}

}  // namespace

void PrintBacktrace(uint64_t fp) {
  // AAPCS64 frame records: [fp] = caller's fp, [fp + 8] = return address. Runs of the same
  // return address (deep recursion) are printed once with a repeat count.
  console::LineBuffer line;
  Format(line, "   ");
  int on_line = 0;
  int printed = 0;
  uint64_t last = 0;
  uint32_t repeats = 0;
  auto flush_repeats = [&] {
    if (repeats > 0) Format(line, " (x{} more)", repeats);
    repeats = 0;
  };
  auto put = [&](uint64_t lr) {
    if (on_line == 6) {
      line.EndLine();
      console::Write(line.view());
      line = console::LineBuffer();
      Format(line, "   ");
      on_line = 0;
    }
    Format(line, " {:#x}", lr);
    ++on_line;
    ++printed;
  };
  for (int depth = 0; depth < kMaxBacktraceDepth * 64 && fp != 0 && SafeToRead(fp); ++depth) {
    const uint64_t* record = reinterpret_cast<const uint64_t*>(fp);
    const uint64_t lr = record[1];
    if (lr == 0) break;
    if (lr == last) {
      ++repeats;
    } else {
      flush_repeats();
      if (printed == kMaxBacktraceDepth) break;
      put(lr);
      last = lr;
    }
    if (record[0] <= fp) break;  // frames grow towards higher addresses; anything else loops
    fp = record[0];
  }
  flush_repeats();
  if (printed == 0) Format(line, " (no frame records)");
  line.EndLine();
  console::Write(line.view());
  console::Print("    (symbolize: llvm-symbolizer --obj=<image>.elf <address>...)");
}

void FatalStatus(const char* what, const BootStatus& status, ExitCode code) {
  console::EnterPanicMode();
  if (status.detail() != 0) {
    console::Print("*** {}: {} ({:#x})", what, status.message(), status.detail());
  } else {
    console::Print("*** {}: {}", what, status.message());
  }
  console::Print("*** system halted: powering off with exit status {}",
                 static_cast<uint32_t>(code));
  PowerOff(code);
}

void PanicHandler(const char* file, int line, const char* message) {
  MaskIrqs();
  ArchCpu& local = ThisArchCpu();
  if (++local.fatal_depth > 1) {
    console::EnterPanicMode();
    console::Print("*** PANIC while handling a fatal error on cpu{}: {}", local.cpu, message);
    PowerOff(ExitCode::kFatal);
  }
  console::InitIfNeeded(PhysToVirt(kQemuVirtUartBase));
  console::EnterPanicMode();
  console::Print("*** PANIC on cpu{}, task \"{}\": {}", local.cpu, TaskName(), message);
  console::Print("    at {}:{}", file, line);
  console::Print("    backtrace:");
  PrintBacktrace(reinterpret_cast<uint64_t>(__builtin_frame_address(0)));
  RunFatalReportHook();
  console::Print("*** system halted: powering off with exit status {}",
                 static_cast<uint32_t>(ExitCode::kFatal));
  PowerOff(ExitCode::kFatal);
}

void SetFatalReportHook(FatalReportHook hook) {
  g_fatal_report_hook.Store(hook, std::memory_order_release);
}

}  // namespace lichen::aarch64

using lichen::aarch64::ExceptionFrame;
using lichen::aarch64::ExceptionKind;

extern "C" void LichenHandleIrq(ExceptionFrame* /*frame*/) {
  namespace gic = lichen::aarch64::gic;
  lichen::irq::Enter();
  lichen::aarch64::ArchCpu& local = lichen::aarch64::ThisArchCpu();
  for (int i = 0; i < lichen::aarch64::kMaxAcksPerEntry; ++i) {
    const uint32_t intid = gic::Acknowledge();
    if (intid >= gic::kFirstSpecialIntid) {
      if (i == 0) ++local.spurious_irq_count;
      break;
    }
    ++local.irq_count;
    // Every enabled interrupt has a handler; one without is a platform bug, not noise.
    if (!gic::Dispatch(intid)) {
      gic::EndOfInterrupt(intid);
      lichen::aarch64::FatalStatus(
          "interrupt manager",
          lichen::aarch64::BootStatus::Error("interrupt with no handler (INTID)", intid),
          lichen::aarch64::ExitCode::kFatal);
    }
    // EOI before irq::Exit(): a context switch there must not leave this CPU's running
    // priority raised, or no further interrupt would be taken.
    gic::EndOfInterrupt(intid);
  }
  lichen::irq::Exit();
}

extern "C" void LichenHandleException(ExceptionFrame* frame, uint64_t kind_value) {
  using namespace lichen::aarch64;
  const auto kind = static_cast<ExceptionKind>(kind_value);
  // Recoverable: the semihosting HLT trapped because QEMU runs without semihosting. Make the
  // call return -1 and remember not to try again (PowerOff then uses PSCI).
  if (kind == ExceptionKind::kSync && EsrClass(frame->esr) == kEcUnknown &&
      frame->elr == reinterpret_cast<uint64_t>(lichen_semihosting_hlt)) {
    MarkSemihostingUnavailable();
    frame->x[0] = ~uint64_t{0};
    frame->elr += 4;
    return;
  }
  ArchCpu& local = ThisArchCpu();
  const uint32_t depth = ++local.fatal_depth;
  if (depth == 1) ReportFatal(*frame, kind);
  if (depth == 2) ReportNested(*frame);
  EmergencyExit();
}

extern "C" [[noreturn]] void LichenContextReturned() {
  lichen::aarch64::PanicHandler(__FILE__, __LINE__,
                                "the entry function of a context returned (InitContext)");
}
