#include "kernel/lock/lockdep.h"

#include "kernel/base/debug.h"
#include "kernel/base/irq_state.h"
#include "kernel/base/percpu.h"
#include "kernel/base/platform.h"
#include "lib/assert.h"
#include "lib/format.h"
#include "lib/sim_reset.h"

namespace lichen::lockdep {

// Grants this file access to LockClass's private id.
struct Access {
  static Atomic<uint32_t>& Id(LockClass& c) { return c.id_; }
  static uint32_t IdOf(const LockClass& c) {
    return const_cast<LockClass&>(c).id_.Load(std::memory_order_acquire);
  }
};

namespace {

// A set of class ids as a bitmap (ids are 1-based; bit i-1).
struct ClassSet {
  uint64_t words[kMaxClasses / 64] = {};
  bool Test(uint32_t id) const { return (words[(id - 1) / 64] >> ((id - 1) % 64)) & 1; }
  void Set(uint32_t id) { words[(id - 1) / 64] |= uint64_t{1} << ((id - 1) % 64); }
};

// Usage bits per class.
constexpr uint32_t kUsedInIrq = 1;
constexpr uint32_t kUsedIrqsEnabled = 2;

struct HeldStack {
  LockClass* locks[kMaxHeld];
  uint32_t depth = 0;
};

// The graph and its guard. The guard is a plain test-and-set flag taken with IRQs masked;
// it is never held while calling out, so it cannot take part in a deadlock itself.
Atomic<bool> g_graph_busy{false};
LockClass* g_classes[kMaxClasses];  // id-1 -> class
uint32_t g_class_count = 0;
ClassSet g_after[kMaxClasses];  // g_after[a-1] holds b when "a held while taking b" was seen
uint32_t g_usage[kMaxClasses];
bool g_overflow_reported = false;

// What lockdep knows per CPU, touched under the graph guard. A CPU's entry is only touched by
// that CPU, except that a foreign release drops the lock from whichever CPU's stack holds it.
// Not a PerCpu<T>: lockdep is called with IRQs enabled (Mutex, a TicketLock taken with IRQs
// on) and has no IrqsOff token to show; its guard masks IRQs itself. One line per CPU all
// the same: every lock operation writes its CPU's entry.
struct CpuLocks {
  HeldStack spin;                 // the spinlocks this CPU holds
  TaskLocks* task = nullptr;      // the sleeping locks of the task it runs (SwitchTask)
  TaskLocks before_first_switch;  // ... until the scheduler first names one
  TaskLocks& Sleeping() { return task != nullptr ? *task : before_first_switch; }
};
PerCpuArray<CpuLocks> g_cpus;

Atomic<uint32_t> g_report_count{0};
Atomic<ReportHandler> g_handler{nullptr};

class GraphGuard {
 public:
  GraphGuard() : irq_(platform::SaveAndMaskIrqs()) {
    for (;;) {
      bool expected = false;
      if (g_graph_busy.CompareExchange(expected, true, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
        return;
      }
      platform::CpuRelax();
    }
  }
  ~GraphGuard() {
    g_graph_busy.Store(false, std::memory_order_release);
    platform::RestoreIrqs(irq_);
  }

 private:
  platform::IrqState irq_;
};

void Emit(ReportKind kind, const LockClass* acquiring, const LockClass* other, const char* text) {
  Report report{kind, acquiring, other, {}};
  FormatTo(report.text, sizeof(report.text), "{}", text);
  g_report_count.FetchAdd(1, std::memory_order_relaxed);
  ReportHandler handler = g_handler.Load(std::memory_order_acquire);
  if (handler != nullptr) {
    handler(report);
    return;
  }
  LICHEN_PANIC("{}", report.text);
}

// Registers `cls` if needed; returns its id, or 0 when the table is full. Graph guard held.
uint32_t RegisterLocked(LockClass& cls) {
  uint32_t id = Access::Id(cls).Load(std::memory_order_relaxed);
  if (id != 0) return id;
  if (g_class_count == kMaxClasses) return 0;
  g_classes[g_class_count] = &cls;
  id = ++g_class_count;
  Access::Id(cls).Store(id, std::memory_order_release);
  return id;
}

// Depth-first search for a path from `from` to `to` in the order graph; on success writes the
// path (ids, from first) into `path` and returns its length. Graph guard held.
uint32_t FindPath(uint32_t from, uint32_t to, uint32_t* path, uint32_t path_cap) {
  ClassSet visited;
  uint32_t stack[kMaxClasses];
  uint32_t next_candidate[kMaxClasses];
  uint32_t depth = 0;
  stack[depth] = from;
  next_candidate[depth] = 1;
  visited.Set(from);
  while (true) {
    uint32_t node = stack[depth];
    if (node == to) {
      uint32_t n = depth + 1 < path_cap ? depth + 1 : path_cap;
      for (uint32_t i = 0; i < n; ++i)
        path[i] = stack[i];
      return n;
    }
    uint32_t cand = next_candidate[depth];
    while (cand <= g_class_count && (!g_after[node - 1].Test(cand) || visited.Test(cand)))
      ++cand;
    if (cand > g_class_count) {
      if (depth == 0) return 0;
      --depth;
      continue;
    }
    next_candidate[depth] = cand + 1;
    visited.Set(cand);
    ++depth;
    stack[depth] = cand;
    next_candidate[depth] = 1;
  }
}

void AppendPath(BufferSink& out, const uint32_t* path, uint32_t len) {
  for (uint32_t i = 0; i < len; ++i) {
    Format(out, "{}'{}'", i == 0 ? "" : " -> ", g_classes[path[i] - 1]->name());
  }
}

}  // namespace

void SetReportHandler(ReportHandler handler) {
  g_handler.Store(handler, std::memory_order_release);
}

namespace {

// The locks an acquisition is checked against: this CPU's spinlocks and, outside interrupt
// handlers, the sleeping locks of the task it runs.
struct HeldView {
  const HeldStack& spin;
  const TaskLocks* sleeping;  // nullptr in an interrupt handler
  uint32_t Size() const { return spin.depth + (sleeping != nullptr ? sleeping->depth : 0); }
  // Sleeping locks first: they were all taken before any spinlock the task holds now.
  LockClass* At(uint32_t i) const {
    const uint32_t n = sleeping != nullptr ? sleeping->depth : 0;
    return i < n ? sleeping->locks[i] : spin.locks[i - n];
  }
};

// Runs every check for `cls` about to be taken, records the order edges and pushes it on
// `push_to`. Returns true (and fills `kind`, `other`, `out`) if there is something to report.
// Graph guard held.
bool CheckAcquire(LockClass& cls, uint32_t cpu, bool in_irq, bool irqs_enabled,
                  const HeldView& held, LockClass** push_to, uint32_t& push_depth, ReportKind& kind,
                  const LockClass*& other, BufferSink& out) {
  bool report = false;
  const uint32_t id = RegisterLocked(cls);
  if (id == 0) {
    if (!g_overflow_reported) {
      g_overflow_reported = true;
      kind = ReportKind::kTooManyClasses;
      Format(out, "lockdep: more than {} lock classes; '{}' is not checked", kMaxClasses,
             cls.name());
      return true;
    }
    return false;
  }
  const uint32_t n = held.Size();
  // 1. Recursion: this CPU (or task) already holds the class.
  for (uint32_t i = 0; i < n && !report; ++i) {
    if (held.At(i) == &cls) {
      kind = ReportKind::kRecursive;
      other = &cls;
      Format(out,
             "lockdep: recursive acquisition of '{}' on CPU {}{}: this CPU already holds "
             "it, so it would wait for itself forever (held:",
             cls.name(), cpu, in_irq ? " in an interrupt handler" : "");
      for (uint32_t j = 0; j < n; ++j)
        Format(out, " '{}'", held.At(j)->name());
      Format(out, ")");
      report = true;
    }
  }
  // 2. Order: add held -> cls edges; a path cls ->* held closes a cycle.
  for (uint32_t i = 0; i < n && !report; ++i) {
    const LockClass* h_class = held.At(i);
    const uint32_t h = Access::IdOf(*h_class);
    if (h == 0 || g_after[h - 1].Test(id)) continue;
    uint32_t path[kMaxClasses];
    const uint32_t len = FindPath(id, h, path, kMaxClasses);
    if (len != 0) {
      kind = ReportKind::kOrderCycle;
      other = h_class;
      Format(out, "lockdep: lock order cycle: CPU {} takes '{}' while holding '{}', but ", cpu,
             cls.name(), h_class->name());
      AppendPath(out, path, len);
      Format(out, " was seen before; together: '{}' -> ", h_class->name());
      AppendPath(out, path, len);
      report = true;
    } else {
      g_after[h - 1].Set(id);
    }
  }
  // 3. Rank: every held class must rank below the new one (kernel/lock/rank.h).
  for (uint32_t i = 0; i < n && !report; ++i) {
    const LockClass* h_class = held.At(i);
    if (h_class->rank() < cls.rank()) continue;
    kind = ReportKind::kRankOrder;
    other = h_class;
    Format(out,
           "lockdep: lock rank violation: CPU {} takes '{}' (rank {}) while holding '{}' "
           "(rank {}); kernel/lock/rank.h says the other way round{}",
           cpu, cls.name(), RankName(cls.rank()), h_class->name(), RankName(h_class->rank()),
           cls.rank() < kFirstSpinRank && h_class->rank() >= kFirstSpinRank
               ? " (a sleeping lock under a spinlock)"
               : "");
    report = true;
  }
  // 4. IRQ safety: in-IRQ use and IRQs-enabled use of the same class.
  if (!report) {
    uint32_t& usage = g_usage[id - 1];
    usage |= in_irq ? kUsedInIrq : 0;
    usage |= irqs_enabled ? kUsedIrqsEnabled : 0;
    if ((usage & (kUsedInIrq | kUsedIrqsEnabled)) == (kUsedInIrq | kUsedIrqsEnabled)) {
      usage = kUsedInIrq;  // report once per class
      kind = ReportKind::kIrqUnsafe;
      other = &cls;
      Format(out,
             "lockdep: '{}' is taken inside an interrupt handler and also with IRQs "
             "enabled: an interrupt that arrives while it is held deadlocks that CPU "
             "(use an IRQ-saving SpinLock)",
             cls.name());
      report = true;
    }
  }
  if (push_depth < kMaxHeld) {
    push_to[push_depth++] = &cls;
  } else if (!report) {
    kind = ReportKind::kTooDeep;
    Format(out, "lockdep: CPU {} holds more than {} locks", cpu, kMaxHeld);
    report = true;
  }
  return report;
}

// Removes `cls` (the innermost entry of it) from `locks`; false if it is not there.
bool Remove(LockClass** locks, uint32_t& depth, const LockClass& cls) {
  uint32_t i = depth;
  while (i > 0 && locks[i - 1] != &cls)
    --i;
  if (i == 0) return false;
  for (uint32_t k = i; k < depth; ++k)
    locks[k - 1] = locks[k];
  --depth;
  return true;
}

}  // namespace

namespace {
// The acquisition of `cls` on this CPU, checked against what is held and recorded on the
// spinlock stack (`sleeping` false) or on the running task's stack of sleeping locks.
void Acquire(LockClass& cls, bool sleeping, bool irqs_enabled) {
  const uint32_t early_cpu = platform::ThisCpu();  // only under the fault below
  char text[512];
  BufferSink out(text, sizeof(text));
  ReportKind kind{};
  const LockClass* other = nullptr;
  bool report = false;
  {
    GraphGuard guard;
    // Which CPU, and so which task's stack of sleeping locks, only once IRQs are masked: a
    // task taking a mutex runs with IRQs on, and read before, it may have moved to another
    // CPU by the time it looks, and would check and record against that CPU's task.
    const uint32_t cpu = LICHEN_FAULT(lockdep_cpu_before_mask) ? early_cpu : platform::ThisCpu();
    // A sleeping lock is never taken in an interrupt handler or with IRQs masked by its
    // caller, so it takes no part in the IRQ-safety check: "not in IRQ, IRQs on".
    const bool in_irq = !sleeping && irq::InHandler();
    CpuLocks& mine = g_cpus[cpu];
    const HeldView held{mine.spin, in_irq ? nullptr : &mine.Sleeping()};
    if (sleeping) {
      TaskLocks& task = mine.Sleeping();
      report = CheckAcquire(cls, cpu, false, false, held, task.locks, task.depth, kind, other, out);
    } else {
      report = CheckAcquire(cls, cpu, in_irq, irqs_enabled, held, mine.spin.locks, mine.spin.depth,
                            kind, other, out);
    }
  }
  if (report) Emit(kind, &cls, other, text);
}
}  // namespace

void OnAcquire(LockClass& cls, bool irqs_enabled) {
  if constexpr (!kDebugChecks) return;
  Acquire(cls, false, irqs_enabled);
}

void OnAcquireSleeping(LockClass& cls) {
  if constexpr (!kDebugChecks) return;
  Acquire(cls, true, false);
}

void OnReleaseSleeping(LockClass& cls) {
  if constexpr (!kDebugChecks) return;
  const uint32_t early_cpu = platform::ThisCpu();  // only under the fault below
  char text[256];
  bool report = false;
  {
    GraphGuard guard;
    // With IRQs masked: see Acquire.
    const uint32_t cpu = LICHEN_FAULT(lockdep_cpu_before_mask) ? early_cpu : platform::ThisCpu();
    if (Access::IdOf(cls) == 0) return;  // not tracked (table full)
    TaskLocks& task = g_cpus[cpu].Sleeping();
    if (!Remove(task.locks, task.depth, cls)) {
      FormatTo(text, sizeof(text),
               "lockdep: the task on CPU {} releases '{}' which it does not hold", cpu, cls.name());
      report = true;
    }
  }
  if (report) Emit(ReportKind::kForeignRelease, &cls, nullptr, text);
}

void SwitchTask(TaskLocks* next) {
  if constexpr (!kDebugChecks) return;
  GraphGuard guard;
  g_cpus[platform::ThisCpu()].task = next;
}

void OnRelease(LockClass& cls) {
  if constexpr (!kDebugChecks) return;
  const uint32_t cpu = platform::ThisCpu();
  char text[256];
  bool report = false;
  {
    GraphGuard guard;
    if (Access::IdOf(cls) == 0) return;  // not tracked (table full)
    HeldStack& held = g_cpus[cpu].spin;
    if (!Remove(held.locks, held.depth, cls)) {
      FormatTo(text, sizeof(text),
               "lockdep: CPU {} releases '{}' which it does not hold (taken on another CPU "
               "and carried across a preemption?)",
               cpu, cls.name());
      report = true;
      // Drop it from whichever CPU's stack holds it, so checking can go on.
      for (uint32_t c = 0; c < kMaxCpus; ++c) {
        if (Remove(g_cpus[c].spin.locks, g_cpus[c].spin.depth, cls)) break;
      }
    }
  }
  if (report) Emit(ReportKind::kForeignRelease, &cls, nullptr, text);
}

uint32_t HeldCount() {
  if constexpr (!kDebugChecks) return 0;
  GraphGuard guard;
  return g_cpus[platform::ThisCpu()].spin.depth;
}

const char* InnermostHeld() {
  if constexpr (!kDebugChecks) return nullptr;
  GraphGuard guard;
  const HeldStack& held = g_cpus[platform::ThisCpu()].spin;
  return held.depth == 0 ? nullptr : held.locks[held.depth - 1]->name();
}

void Reset() {
  // Called with no CPU running kernel code (between simulations), possibly after a run was
  // abandoned while some CPU held the graph guard: take it over instead of waiting for it.
  g_graph_busy.Store(false, std::memory_order_release);
  for (uint32_t i = 0; i < g_class_count; ++i) {
    Access::Id(*g_classes[i]).Store(0, std::memory_order_relaxed);
    g_classes[i] = nullptr;
    g_after[i] = ClassSet();
    g_usage[i] = 0;
  }
  g_class_count = 0;
  g_overflow_reported = false;
  for (uint32_t c = 0; c < kMaxCpus; ++c)
    g_cpus[c] = CpuLocks();
  g_report_count.Store(0, std::memory_order_relaxed);
}

uint32_t ReportCount() {
  return g_report_count.Load(std::memory_order_relaxed);
}

#if defined(LICHEN_HOST)
namespace {
const ResetRegistrar g_reset_lockdep("lockdep", ResetStage::kAny, &Reset);
}  // namespace
#endif

}  // namespace lichen::lockdep
