#include "kernel/trace.h"

#include "kernel/platform.h"
#include "lib/cpumask.h"

namespace lichen::trace {

namespace {

struct Ring {
  Event events[kRingSize];
  uint64_t next = 0;  // total events ever recorded
};
Ring g_rings[kMaxCpus];

}  // namespace

const char* KindName(Kind kind) {
  switch (kind) {
    case Kind::kSwitch:
      return "switch";
    case Kind::kEnqueue:
      return "enqueue";
    case Kind::kMigrate:
      return "migrate";
    case Kind::kStealRequest:
      return "steal-request";
    case Kind::kSliceExpired:
      return "slice-expired";
    case Kind::kExit:
      return "exit";
    case Kind::kIpiSent:
      return "ipi-sent";
    case Kind::kIpiReceived:
      return "ipi-received";
    case Kind::kIdleKick:
      return "idle-kick";
  }
  return "?";
}

void RecordSlow(uint32_t cpu, Kind kind, uint64_t a, uint64_t b) {
  Ring& ring = g_rings[cpu];
  ring.events[ring.next % kRingSize] =
      Event{platform::Now(), a, b, kind, static_cast<uint16_t>(cpu)};
  ++ring.next;
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

void Reset() {
  for (Ring& ring : g_rings)
    ring.next = 0;
}

}  // namespace lichen::trace
