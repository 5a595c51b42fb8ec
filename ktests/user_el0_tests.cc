// EL0 on aarch64 before the core's processes exist: a hand-built user address space (one
// TTBR0 table tree), a few instructions of user code, and this file's own handlers behind
// the platform's hook (platform/aarch64/el0.h). Proves the vectors' round trip: syscall entry
// and return with the result in x0, the user registers exactly as given (nothing of the kernel
// in x0-x30 or TPIDRRO_EL0, TPIDR_EL0 as set), a page fault and an undefined instruction
// reported to the handler (not a kernel panic), FP/SIMD state kept apart between two user
// tasks on one CPU, and IRQs taken from EL0 (the return path's hook runs after them).
#include "kernel/base/platform.h"
#include "kernel/mm/kmem.h"
#include "kernel/sched/sched.h"
#include "ktests/ktest.h"
#include "lib/atomic.h"
#include "lib/units.h"
#include "platform/aarch64/direct_map.h"
#include "platform/aarch64/el0.h"
#include "platform/aarch64/user_pte.h"

namespace lichen {
namespace {

using aarch64::El0FaultKind;
using aarch64::El0Regs;
using aarch64::UserExtState;

// The user address space: code at kCodeVa (read + exec), one data page above it (read +
// write) used as the stack, nothing else (0x10 faults).
constexpr uint64_t kCodeVa = 0x400000;
constexpr uint64_t kStackVa = 0x401000;
constexpr uint32_t kAsid = 255;  // no allocator runs during ktests; fits 8-bit ASIDs

// The user program (A64 encodings), entered at one of three places:
constexpr uint32_t kCode[] = {
    // 0x00: the main path. x0 = this task's value.
    0x9e670000,  // fmov d0, x0
    0xd53bd065,  // mrs x5, tpidrro_el0       (must read 0)
    0xd53bd046,  // mrs x6, tpidr_el0         (the TLS value of the ext state)
    0xd2800028,  // mov x8, #1
    0xd4000001,  // svc #0                    (1: check registers, let the other task run)
    0x9e660001,  // fmov x1, d0               (still this task's value?)
    0xd2800048,  // mov x8, #2
    0xd4000001,  // svc #0                    (2: report x1; returns x1 + 1 in x0)
    0xd2800068,  // mov x8, #3
    0xd4000001,  // svc #0                    (3: report x0)
    0xd2800202,  // mov x2, #0x10
    0xf9400043,  // ldr x3, [x2]              (page fault: read of 0x10)
    0xd4200000,  // brk #0                    (never reached)
    0xd4200000,  // brk #0
    0xd4200000,  // brk #0
    0xd4200000,  // brk #0
    // 0x40: an undefined instruction.
    0x00000000,  // udf #0
    0xd4200000, 0xd4200000, 0xd4200000,
    // 0x50: a store into the (read-only) code page.
    0x10000002,  // adr x2, .
    0xf9000040,  // str x0, [x2]              (permission fault: write of kCodeVa + 0x50)
    0xd4200000, 0xd4200000,
    // 0x60: spin until the kernel stops it (IRQs from EL0 are its only way out).
    0x14000000,  // b .
};
constexpr uint64_t kMainEntry = kCodeVa + 0x00;
constexpr uint64_t kUndefEntry = kCodeVa + 0x40;
constexpr uint64_t kStoreEntry = kCodeVa + 0x50;
constexpr uint64_t kSpinEntry = kCodeVa + 0x60;

// One user task of a test.
struct UserTask {
  uint64_t entry = 0;
  uint64_t value = 0;           // x0 at entry
  uint64_t tls = 0;             // TPIDR_EL0
  Atomic<Task*> task{nullptr};  // set by the task itself, before it enters EL0
  Task* joinable = nullptr;     // what Spawn returned
  alignas(16) UserExtState ext;
  // Results, written by the handlers on the task's own stack.
  Atomic<uint32_t> syscalls{0};
  uint64_t reported_x1 = 0;
  uint64_t reported_x0 = 0;
  bool registers_clean = false;
  uint64_t fault_addr = 0;
  bool fault_write = false;
  bool fault_exec = false;
  int page_faults = 0;
  int user_faults = 0;
  El0FaultKind fault_kind = El0FaultKind::kBusError;
  uint64_t fault_pc = 0;
  Atomic<uint32_t> returns{0};  // before_return calls
  Atomic<bool> ended{false};
};

struct Space {
  uintptr_t tables[4] = {};  // kernel VAs of levels 0..3
  uintptr_t code = 0;
  uintptr_t stack = 0;
  uint64_t root_pa = 0;
};

// Everything the handlers see (one EL0 test at a time).
struct State {
  Space space;
  UserTask* tasks[2] = {};
  Atomic<uint32_t> at_yield{0};
  Atomic<bool> stop_spinning{false};
} g;

UserTask& Mine() {
  Task* self = sched::Current();
  for (UserTask* t : g.tasks) {
    if (t != nullptr && t->task.Load(std::memory_order_relaxed) == self) return *t;
  }
  KTEST_CHECK(false, "an exception from EL0 on a task that is not a user task of this test");
  __builtin_unreachable();
}

uintptr_t ZeroedPage() {
  const Result<uintptr_t> page = mm::Pages().AllocPages(0);
  KTEST_CHECK(page.ok(), "no page for the user address space");
  auto* words = reinterpret_cast<uint64_t*>(page.value());
  for (int i = 0; i < 512; ++i)
    words[i] = 0;
  return page.value();
}

void BuildSpace() {
  Space& s = g.space;
  for (uintptr_t& t : s.tables)
    t = ZeroedPage();
  s.code = ZeroedPage();
  s.stack = ZeroedPage();
  auto* code = reinterpret_cast<uint32_t*>(s.code);
  for (size_t i = 0; i < sizeof(kCode) / sizeof(kCode[0]); ++i)
    code[i] = kCode[i];
  // The code was written through the data cache; EL0 fetches it through the instruction
  // cache: clean to the point of unification, invalidate the I-cache, wait.
  for (uintptr_t a = s.code; a < s.code + 4096; a += 64)
    asm volatile("dc cvau, %0" ::"r"(a) : "memory");
  asm volatile("dsb ish\n\tic ialluis\n\tdsb ish\n\tisb" ::: "memory");
  for (int level = 0; level < 3; ++level) {
    auto* table = reinterpret_cast<uint64_t*>(s.tables[level]);
    table[(kCodeVa >> (39 - 9 * level)) & 511] =
        aarch64::pte::Table(aarch64::VirtToPhys(s.tables[level + 1]));
  }
  auto* leaf = reinterpret_cast<uint64_t*>(s.tables[3]);
  leaf[(kCodeVa >> 12) & 511] =
      aarch64::pte::UserPage(aarch64::VirtToPhys(s.code), true, false, true);
  leaf[(kStackVa >> 12) & 511] =
      aarch64::pte::UserPage(aarch64::VirtToPhys(s.stack), true, true, false);
  s.root_pa = aarch64::VirtToPhys(s.tables[0]);
}

void FreeSpace() {
  aarch64::pte::FlushAsid(kAsid);  // no CPU may keep a translation into freed pages
  Space& s = g.space;
  for (uintptr_t t : s.tables)
    mm::Pages().FreePages(t, 0);
  mm::Pages().FreePages(s.code, 0);
  mm::Pages().FreePages(s.stack, 0);
  s = Space{};
}

// Leaves the user task for good: this CPU back to the empty TTBR0, then the task exits.
[[noreturn]] void EndUserTask() {
  Mine().ended.Store(true, std::memory_order_release);
  const platform::IrqState irq = platform::SaveAndMaskIrqs();
  aarch64::pte::SetTtbr0(0, 0);
  platform::RestoreIrqs(irq);
  sched::Exit();
}

// --- The handlers -----------------------------------------------------------------------------

void OnSyscall(El0Regs& regs) {
  UserTask& me = Mine();
  me.syscalls.FetchAdd(1, std::memory_order_relaxed);
  switch (regs.x[8]) {
    case 1: {
      // Exactly the registers EnterEl0 was given, plus what the code itself set.
      bool clean = regs.x[0] == me.value && regs.x[5] == 0 && regs.x[6] == me.tls &&
                   regs.sp == kStackVa + 4096 && regs.pc == kMainEntry + 0x14;
      for (int i = 1; i < 31; ++i) {
        if (i != 5 && i != 6 && i != 8) clean = clean && regs.x[i] == 0;
      }
      me.registers_clean = clean;
      // Let the other task run its own fmov d0 while this one's FP state is put away (what
      // the scheduler's switch hook will do for processes). Only one of the two is ever in EL0
      // at a time: the first waits here until the second has arrived (having loaded d0), the
      // second until the first has ended. Without a switch hook, a preemption between two
      // tasks in EL0 would mix their registers, which is not what this test is about.
      {
        const platform::IrqState irq = platform::SaveAndMaskIrqs();
        aarch64::SwitchExtState(&me.ext, nullptr);
        platform::RestoreIrqs(irq);
      }
      if (g.at_yield.FetchAdd(1, std::memory_order_acq_rel) == 0) {
        while (g.at_yield.Load(std::memory_order_acquire) < 2)
          sched::SleepFor(100 * kUs);
      } else {
        while (!g.tasks[0]->ended.Load(std::memory_order_acquire))
          sched::SleepFor(100 * kUs);
      }
      {
        const platform::IrqState irq = platform::SaveAndMaskIrqs();
        aarch64::SwitchExtState(nullptr, &me.ext);
        platform::RestoreIrqs(irq);
      }
      regs.x[0] = 0;
      break;
    }
    case 2:
      me.reported_x1 = regs.x[1];
      regs.x[0] = regs.x[1] + 1;
      break;
    case 3:
      me.reported_x0 = regs.x[0];
      regs.x[0] = 0;
      break;
    default:
      regs.x[0] = static_cast<uint64_t>(-38);  // ENOSYS
      break;
  }
}

void OnPageFault(El0Regs& regs, uintptr_t addr, bool write, bool exec) {
  UserTask& me = Mine();
  ++me.page_faults;
  me.fault_addr = addr;
  me.fault_write = write;
  me.fault_exec = exec;
  me.fault_pc = regs.pc;
  EndUserTask();  // what SIGSEGV does to a process with no handler
}

void OnUserFault(El0Regs& regs, El0FaultKind kind, uintptr_t addr) {
  UserTask& me = Mine();
  ++me.user_faults;
  me.fault_kind = kind;
  me.fault_addr = addr;
  me.fault_pc = regs.pc;
  EndUserTask();
}

void BeforeReturn(El0Regs& regs) {
  UserTask& me = Mine();
  me.returns.FetchAdd(1, std::memory_order_relaxed);
  if (regs.pc == kSpinEntry && g.stop_spinning.Load(std::memory_order_acquire)) EndUserTask();
  // This task's translation, whatever ran on the CPU meanwhile (another user task that ended
  // put the empty table back): what the scheduler's switch hook will do for processes. IRQs
  // stay masked from here to the return to EL0, so nothing can switch in between.
  (void)platform::SaveAndMaskIrqs();
  aarch64::pte::SetTtbr0(g.space.root_pa, kAsid);
}

constexpr aarch64::El0Handlers kHandlers{&OnSyscall, &OnPageFault, &OnUserFault, &BeforeReturn};

// The body of a user task: its address space, its FP state (and TLS), then EL0.
void UserTaskEntry(void* arg) {
  auto* me = static_cast<UserTask*>(arg);
  El0Regs regs{};
  regs.x[0] = me->value;
  regs.sp = kStackVa + 4096;
  regs.pc = me->entry;
  regs.pstate = 0;
  aarch64::InitExtState(me->ext, me->tls);
  Task* self = sched::Current();
  me->task.Store(self, std::memory_order_relaxed);
  const uintptr_t top = reinterpret_cast<uintptr_t>(self->stack) + self->stack_size;
  platform::IrqState irq = platform::SaveAndMaskIrqs();
  (void)irq;  // EnterEl0 never returns: EL0 runs with IRQs on, whatever was saved here
  aarch64::pte::SetTtbr0(g.space.root_pa, kAsid);
  aarch64::SwitchExtState(nullptr, &me->ext);
  // A kernel value in the vectors' scratch register: EL0 must still read 0 there.
  asm volatile("msr tpidrro_el0, %0" ::"r"(uint64_t{0xdeadbeefcafe}) : "memory");
  aarch64::EnterEl0(regs, top);
}

// Starts `tasks` (1 or 2) as user tasks pinned to CPU `cpu` (JoinAll waits for them).
void Run(UserTask* const* tasks, int count, uint32_t cpu) {
  for (int i = 0; i < count; ++i)
    g.tasks[i] = tasks[i];
  for (int i = 0; i < count; ++i) {
    tasks[i]->joinable = ktest::Spawn("user-el0", &UserTaskEntry, tasks[i], CpuMask::Single(cpu));
  }
}

void JoinAll(UserTask* const* tasks, int count) {
  for (int i = 0; i < count; ++i)
    sched::Join(tasks[i]->joinable);
  g.tasks[0] = g.tasks[1] = nullptr;
}

struct HandlersScope {
  const aarch64::El0Handlers* previous;
  HandlersScope() : previous(aarch64::SetEl0Handlers(&kHandlers)) { BuildSpace(); }
  ~HandlersScope() {
    FreeSpace();
    (void)aarch64::SetEl0Handlers(previous);
  }
};

}  // namespace

// Syscalls in and out, clean registers, FP/SIMD state per task, and a page fault that ends
// the task instead of the kernel.
KTEST(user_el0_syscall_fp_and_fault) {
  HandlersScope scope;
  g.at_yield.Store(0, std::memory_order_relaxed);
  UserTask a, b;
  a.entry = b.entry = kMainEntry;
  a.value = 0x1111222233334444;
  a.tls = 0x7000;
  b.value = 0x5555666677778888;
  b.tls = 0x9000;
  UserTask* tasks[] = {&a, &b};
  const uint32_t cpu = ktest::Cpus() - 1;  // both on one CPU: the registers are one set
  g.tasks[1] = &b;
  Run(tasks, 1, cpu);  // a first: b starts once a waits in its first syscall
  ktest::WaitFor([] { return g.at_yield.Load(std::memory_order_acquire) == 1; },
                 ktest::WaitLimitNs(), "the first user task's first syscall");
  b.joinable = ktest::Spawn("user-el0", &UserTaskEntry, &b, CpuMask::Single(cpu));
  JoinAll(tasks, 2);
  for (UserTask* t : tasks) {
    KTEST_CHECK(t->syscalls.Load(std::memory_order_relaxed) == 3, "{} syscalls, expected 3",
                t->syscalls.Load(std::memory_order_relaxed));
    KTEST_CHECK(t->registers_clean, "EL0 saw registers other than those it was given");
    KTEST_CHECK(t->reported_x1 == t->value, "d0 came back as {:#x}, expected {:#x}", t->reported_x1,
                t->value);
    KTEST_CHECK(t->reported_x0 == t->value + 1, "the syscall result was {:#x}, expected {:#x}",
                t->reported_x0, t->value + 1);
    KTEST_CHECK(t->page_faults == 1 && t->user_faults == 0, "{} page faults, {} other faults",
                t->page_faults, t->user_faults);
    KTEST_CHECK(t->fault_addr == 0x10 && !t->fault_write && !t->fault_exec,
                "page fault at {:#x} write {} exec {}", t->fault_addr, t->fault_write,
                t->fault_exec);
    KTEST_CHECK(t->fault_pc == kMainEntry + 0x2c, "fault at pc {:#x}", t->fault_pc);
    KTEST_CHECK(t->returns.Load(std::memory_order_relaxed) >= 3,
                "before_return ran {} times for 3 syscalls",
                t->returns.Load(std::memory_order_relaxed));
  }
}

// An undefined instruction and a write to a read-only page: the handlers hear of each with
// the right kind and address.
KTEST(user_el0_faults) {
  HandlersScope scope;
  UserTask undef;
  undef.entry = kUndefEntry;
  UserTask* one[] = {&undef};
  Run(one, 1, 0);
  JoinAll(one, 1);
  KTEST_CHECK(undef.user_faults == 1 && undef.page_faults == 0, "{} user faults, {} page faults",
              undef.user_faults, undef.page_faults);
  KTEST_CHECK(undef.fault_kind == El0FaultKind::kUndefined, "fault kind {}",
              aarch64::El0FaultKindName(undef.fault_kind));
  KTEST_CHECK(undef.fault_pc == kUndefEntry && undef.fault_addr == kUndefEntry,
              "undefined instruction at {:#x} (pc {:#x})", undef.fault_addr, undef.fault_pc);

  UserTask store;
  store.entry = kStoreEntry;
  store.value = 42;
  UserTask* two[] = {&store};
  Run(two, 1, ktest::Cpus() - 1);
  JoinAll(two, 1);
  KTEST_CHECK(store.page_faults == 1 && store.user_faults == 0, "{} page faults, {} others",
              store.page_faults, store.user_faults);
  KTEST_CHECK(store.fault_addr == kStoreEntry && store.fault_write && !store.fault_exec,
              "permission fault at {:#x} write {} exec {}", store.fault_addr, store.fault_write,
              store.fault_exec);
  KTEST_CHECK(reinterpret_cast<const uint32_t*>(g.space.code)[0x50 / 4] == kCode[0x50 / 4],
              "the read-only code page was written");
}

// A user task that never enters the kernel by itself: only IRQs taken from EL0 bring it in,
// and their return path runs the before-return hook, which ends it once asked to.
KTEST(user_el0_irq_return_path) {
  HandlersScope scope;
  g.stop_spinning.Store(false, std::memory_order_relaxed);
  UserTask spin;
  spin.entry = kSpinEntry;
  UserTask* one[] = {&spin};
  Run(one, 1, 0);
  // Let it be interrupted a few times: each poke is an IPI (or a local preemption) on CPU 0.
  ktest::WaitFor(
      [&] {
        sched::Join(ktest::Spawn(
            "poke", [](void*) {}, nullptr, CpuMask::Single(0)));
        return spin.returns.Load(std::memory_order_relaxed) >= 3;
      },
      ktest::WaitLimitNs(), "IRQs taken from EL0 reaching the return hook", kMs);
  g.stop_spinning.Store(true, std::memory_order_release);
  // A CPU with one task and nothing to time takes no interrupt at all (tickless): poke CPU 0
  // with a short task of its own until the spinner has seen the flag on its way back to EL0.
  ktest::WaitFor(
      [&] {
        sched::Join(ktest::Spawn(
            "poke", [](void*) {}, nullptr, CpuMask::Single(0)));
        return spin.ended.Load(std::memory_order_acquire);
      },
      ktest::WaitLimitNs(), "the spinner to end in the return path's hook", kMs);
  JoinAll(one, 1);
  KTEST_CHECK(spin.syscalls.Load(std::memory_order_relaxed) == 0, "the spinner made syscalls");
  KTEST_CHECK(spin.page_faults == 0 && spin.user_faults == 0, "the spinner faulted");
}

}  // namespace lichen
