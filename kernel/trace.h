// Per-CPU trace rings of scheduler events (DESIGN row 12: debug code stays).
//
// Each CPU appends to its own ring (owner only, IRQs masked, no locks, no allocation); the
// newest kRingSize events are kept. Readers -- the simulator after a run, the panic path,
// the watchdog -- copy events out and accept that a ring being written may be torn: the
// rings are a debugging aid, never an input to scheduling. Recording compiles out unless
// LICHEN_TRACE is enabled (on in debug builds).
#pragma once

#include <cstdint>

#include "kernel/debug.h"

namespace lichen::trace {

enum class Kind : uint16_t {
  kSwitch,        // a = from task, b = to task
  kEnqueue,       // a = task, b = transit
  kMigrate,       // a = task, b = target CPU
  kStealRequest,  // a = victim CPU, b = its published nr_running
  kSliceExpired,  // a = current task
  kExit,          // a = task
  kIpiSent,       // a = target CPU
  kIpiReceived,   // a = 0
  kIdleKick,      // a = idle CPU woken to steal
};

const char* KindName(Kind kind);

struct Event {
  uint64_t time_ns;
  uint64_t a;
  uint64_t b;
  Kind kind;
  uint16_t cpu;
};

inline constexpr uint32_t kRingSize = 1024;

#if defined(LICHEN_DEBUG_CHECKS)
inline constexpr bool kEnabled = true;
#else
inline constexpr bool kEnabled = false;
#endif

// Appends an event to `cpu`'s ring; `cpu` must be the calling CPU.
void RecordSlow(uint32_t cpu, Kind kind, uint64_t a, uint64_t b);
inline void Record(uint32_t cpu, Kind kind, uint64_t a, uint64_t b) {
  if constexpr (kEnabled) RecordSlow(cpu, kind, a, b);
}

// Copies up to `max` of `cpu`'s newest events, oldest first, into `out`; returns how many.
uint32_t Snapshot(uint32_t cpu, Event* out, uint32_t max);

// Empties every ring (the simulator, between runs).
void Reset();

}  // namespace lichen::trace
