#include "kernel/trace/trace.h"

#include "kernel/base/percpu.h"
#include "kernel/base/platform.h"
#include "lib/cpumask.h"
#include "lib/sim_reset.h"

namespace lichen::trace {

namespace {

struct Ring {
  Event events[kRingSize];
  uint64_t next = 0;  // total events ever recorded
};
// Not a PerCpu<T>: other CPUs read the rings (Snapshot, Kept: the watchdog, the panic path,
// the simulator), accepting a torn ring. Only its CPU writes a ring, with IRQs masked. On
// lines of their own, so one CPU's `next` does not share a line with the next CPU's events.
PerCpuArray<Ring> g_rings;

}  // namespace

const char* KindName(Kind kind) {
  switch (kind) {
    case Kind::kSwitch:
      return "switch";
    case Kind::kWakeup:
      return "wakeup";
    case Kind::kSpawn:
      return "spawn";
    case Kind::kSpawnName:
      return "spawn-name";
    case Kind::kExit:
      return "exit";
    case Kind::kMigrate:
      return "migrate";
    case Kind::kSteal:
      return "steal";
    case Kind::kBalancePush:
      return "balance-push";
    case Kind::kEnqueue:
      return "enqueue";
    case Kind::kStealRequest:
      return "steal-request";
    case Kind::kSliceExpired:
      return "slice-expired";
    case Kind::kIpiSent:
      return "ipi-sent";
    case Kind::kIpiReceived:
      return "ipi-received";
    case Kind::kIdleKick:
      return "idle-kick";
    case Kind::kTimerArmed:
      return "timer-armed";
    case Kind::kTimerFired:
      return "timer-fired";
    case Kind::kIdleEnter:
      return "idle-enter";
    case Kind::kIdleExit:
      return "idle-exit";
    case Kind::kCount:
      break;
  }
  return "?";
}

const char* PrevStateName(PrevState state) {
  switch (state) {
    case PrevState::kRunnable:
      return "runnable";
    case PrevState::kBlocking:
      return "blocking";
    case PrevState::kExited:
      return "exited";
    case PrevState::kMigrating:
      return "migrating";
    case PrevState::kIdle:
      return "idle";
  }
  return "?";
}

const char* IpiKindName(IpiKind kind) {
  switch (kind) {
    case IpiKind::kTask:
      return "task";
    case IpiKind::kCall:
      return "call";
    case IpiKind::kStealRequest:
      return "steal-request";
    case IpiKind::kStealNack:
      return "steal-nack";
    case IpiKind::kIdleKick:
      return "idle-kick";
  }
  return "?";
}

const char* TimerKindName(TimerKind kind) {
  switch (kind) {
    case TimerKind::kSlice:
      return "slice";
    case TimerKind::kSleep:
      return "sleep";
    case TimerKind::kBalance:
      return "balance";
  }
  return "?";
}

void RecordSlow(uint32_t cpu, Kind kind, uint64_t a, uint64_t b, uint8_t x) {
  Ring& ring = g_rings[cpu];
  ring.events[ring.next % kRingSize] = Event{
      platform::Now(), static_cast<uint32_t>(ring.next), kind, x, static_cast<uint16_t>(cpu), a, b};
  ++ring.next;
}

void RecordSpawn(uint32_t cpu, uint64_t task, const char* name, uint32_t target) {
  if constexpr (kEnabled) {
    // Little-endian packing of 8 name bytes per event; the name ends at its first NUL.
    uint8_t chunk = 0;
    bool ended = false;
    do {
      uint64_t bytes = 0;
      for (uint32_t i = 0; i < 8 && !ended; ++i) {
        const char c = name != nullptr ? name[chunk * 8 + i] : '\0';
        if (c == '\0') {
          ended = true;
        } else {
          bytes |= static_cast<uint64_t>(static_cast<uint8_t>(c)) << (8 * i);
        }
      }
      if (chunk == 0) {
        Record(cpu, Kind::kSpawn, task, bytes, static_cast<uint8_t>(target));
      } else {
        Record(cpu, Kind::kSpawnName, task, bytes, chunk);
      }
      ++chunk;
    } while (!ended && chunk < 4);  // at most 32 bytes (Task::name is 24)
  }
}

uint32_t Snapshot(uint32_t cpu, Event* out, uint32_t max) {
  const Ring& ring = g_rings[cpu];
  const uint64_t total = ring.next;
  uint64_t count = total < kRingSize ? total : kRingSize;
  if (count > max) count = max;
  for (uint64_t i = 0; i < count; ++i)
    out[i] = ring.events[(total - count + i) % kRingSize];
  return static_cast<uint32_t>(count);
}

Spans Kept(uint32_t cpu) {
  const Ring& ring = g_rings[cpu];
  const uint64_t total = ring.next;
  Spans spans;
  if (total <= kRingSize) {
    spans.first = ring.events;
    spans.first_count = static_cast<uint32_t>(total);
    return spans;
  }
  // Full: the oldest kept event is the one the next record overwrites.
  const uint32_t start = static_cast<uint32_t>(total % kRingSize);
  spans.first = ring.events + start;
  spans.first_count = kRingSize - start;
  spans.second = ring.events;
  spans.second_count = start;
  return spans;
}

uint64_t Recorded(uint32_t cpu) {
  return g_rings[cpu].next;
}

void Reset() {
  for (uint32_t cpu = 0; cpu < kMaxCpus; ++cpu)
    g_rings[cpu].next = 0;
}

#if defined(LICHEN_HOST)
namespace {
const ResetRegistrar g_reset_trace("trace", ResetStage::kAny, &Reset);
}  // namespace
#endif

}  // namespace lichen::trace
