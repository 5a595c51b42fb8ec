// Per-CPU trace rings of scheduler events (DESIGN row 12: debug code stays).
//
// Each CPU appends to its own ring (owner only, IRQs masked, no locks, no allocation); the
// newest kRingSize events are kept. Every event carries its CPU's sequence number, so a reader
// sees where a ring overflowed (the oldest kept event is not number 0) or lost an event (a gap).
// Readers -- the simulator after a run, the kernel's trace dump, the panic path, the watchdog --
// copy events out and accept that a ring being written may be torn: the rings are a debugging
// aid, never an input to scheduling.
//
// How much is recorded is a compile-time setting of its own, LICHEN_TRACE_LEVEL (CMake cache
// variable of the same name), independent of LICHEN_DEBUG_CHECKS:
//   0  nothing: every Record() compiles away
//   1  what the scheduler decided: switches, wakeups, spawns, exits, migrations, steals,
//      balance pushes
//   2  also why and when: IPIs, timers armed and fired, idle enter/exit, enqueues, steal
//      requests, slice expiries, idle kicks
// kernel/trace_json.h turns the rings into files people can open (Perfetto, chrome://tracing).
#pragma once

#include <cstddef>
#include <cstdint>

namespace lichen::trace {

#if !defined(LICHEN_TRACE_LEVEL)
#define LICHEN_TRACE_LEVEL 0
#endif
#if !defined(LICHEN_TRACE_RING_EVENTS)
#define LICHEN_TRACE_RING_EVENTS 1024
#endif

inline constexpr int kLevel = LICHEN_TRACE_LEVEL;
inline constexpr bool kEnabled = kLevel > 0;

enum class Kind : uint8_t {
  // Level 1.
  kSwitch,       // a = from task, b = to task, x = the from task's PrevState
  kWakeup,       // a = task, b = target CPU (the event's CPU is the waker's)
  kSpawn,        // a = task, b = its name's first 8 bytes (then kSpawnName for the rest),
                 // x = the CPU it is sent to
  kSpawnName,    // a = task, b = 8 more bytes of its name, x = which 8 (1, 2, ...)
  kExit,         // a = task
  kMigrate,      // a = task, b = target CPU, x = the sched::Transit (migrated, stolen, ...)
  kSteal,        // a = task, b = thief CPU (recorded by the victim, which gives the task)
  kBalancePush,  // a = task, b = target CPU
  // Level 2.
  kEnqueue,       // a = task, b = transit
  kStealRequest,  // a = victim CPU, b = its published nr_running
  kSliceExpired,  // a = current task
  kIpiSent,       // a = target CPU, x = IpiKind (why the mailbox was kicked)
  kIpiReceived,   // a = 0
  kIdleKick,      // a = idle CPU woken to steal
  kTimerArmed,    // a = deadline (ns), b = task (sleep), x = TimerKind
  kTimerFired,    // a = deadline (ns), b = task (sleep), x = TimerKind
  kIdleEnter,     // the CPU waits for an interrupt (WFI)
  kIdleExit,      // ... and woke up
  kCount,
};

// The state a switched-out task leaves in (kSwitch's x).
enum class PrevState : uint8_t {
  kRunnable,  // preempted or yielded: still queued here
  kBlocking,  // went to sleep
  kExited,
  kMigrating,  // its affinity no longer allows this CPU
  kIdle,       // the idle task
};

// Why a mailbox was kicked (kIpiSent's x).
enum class IpiKind : uint8_t {
  kTask,          // a task to enqueue (spawn, wakeup, migration, steal reply)
  kCall,          // a function call
  kStealRequest,  // an idle CPU asks for work
  kStealNack,     // ... and is told there is none
  kIdleKick,      // wake an idle CPU so that it steals
};

enum class TimerKind : uint8_t { kSlice, kSleep, kBalance };

const char* KindName(Kind kind);
const char* PrevStateName(PrevState state);
const char* IpiKindName(IpiKind kind);
const char* TimerKindName(TimerKind kind);

// Which level records `kind`.
constexpr int LevelOf(Kind kind) {
  return kind < Kind::kEnqueue ? 1 : 2;
}

struct Event {
  uint64_t time_ns;
  uint32_t seq;  // this CPU's event number (wraps at 2^32)
  Kind kind;
  uint8_t x;  // a small argument (see Kind)
  uint16_t cpu;
  uint64_t a;
  uint64_t b;
};
static_assert(sizeof(Event) == 32, "trace rings hold 32-byte events");

inline constexpr uint32_t kRingSize = LICHEN_TRACE_RING_EVENTS;

// Appends an event to `cpu`'s ring; `cpu` must be the calling CPU, with IRQs masked.
void RecordSlow(uint32_t cpu, Kind kind, uint64_t a, uint64_t b, uint8_t x);
// `kind` is a constant at every call site: inlined, the level test folds away.
inline void Record(uint32_t cpu, Kind kind, uint64_t a, uint64_t b, uint8_t x = 0) {
  if constexpr (kEnabled) {
    if (LevelOf(kind) <= kLevel) RecordSlow(cpu, kind, a, b, x);
  }
}

// A spawn sent to `target`: kSpawn with the name's first 8 bytes, then one kSpawnName per
// further 8 bytes.
void RecordSpawn(uint32_t cpu, uint64_t task, const char* name, uint32_t target);

// Copies up to `max` of `cpu`'s newest events, oldest first, into `out`; returns how many.
uint32_t Snapshot(uint32_t cpu, Event* out, uint32_t max);

// `cpu`'s kept events, oldest first, as (at most) two runs of the ring, without copying: for
// a reader that knows nothing records (the kernel's dump once its CPUs are quiet, the
// simulator after a run).
struct Spans {
  const Event* first = nullptr;
  uint32_t first_count = 0;
  const Event* second = nullptr;
  uint32_t second_count = 0;
  uint32_t Count() const { return first_count + second_count; }
  const Event& operator[](uint32_t i) const {
    return i < first_count ? first[i] : second[i - first_count];
  }
};
Spans Kept(uint32_t cpu);

// Events `cpu` has recorded since the last Reset (kept or overwritten).
uint64_t Recorded(uint32_t cpu);

// Empties every ring (the simulator, between runs).
void Reset();

}  // namespace lichen::trace
