#include "kernel/trace/export.h"

#include "lib/cpumask.h"

namespace lichen::trace {

namespace {

// ---- Tasks: names from the spawn events, pending flow arrows ---------------------------------

constexpr uint32_t kTaskSlots = 4096;  // a power of two; more tasks than this go unnamed
constexpr uint32_t kNameBytes = 32;    // kSpawn + 3 kSpawnName events

struct TaskSlot {
  bool used;
  uint64_t id;
  char name[kNameBytes + 1];
  uint64_t wake_flow;          // the flow id of a wakeup not yet followed by a switch-in (0: none)
  const char* wake_flow_name;  // "wakeup" or "spawn"
  uint64_t migrate_flow;       // likewise for a migration
};
TaskSlot g_tasks[kTaskSlots];

TaskSlot* FindTask(uint64_t id, bool insert) {
  const uint32_t home = static_cast<uint32_t>((id * 0x9e3779b97f4a7c15ull) >> 40);
  for (uint32_t probe = 0; probe < kTaskSlots; ++probe) {
    TaskSlot& slot = g_tasks[(home + probe) & (kTaskSlots - 1)];
    if (slot.used && slot.id == id) return &slot;
    if (!slot.used) {
      if (!insert) return nullptr;
      slot = TaskSlot{};
      slot.used = true;
      slot.id = id;
      return &slot;
    }
  }
  return nullptr;
}

// ---- Per-CPU state while exporting ------------------------------------------------------------

constexpr uint32_t kMaxPendingIpis = 8;

struct CpuState {
  uint32_t next;  // index of the next event to merge
  uint32_t expected_seq;
  bool started;
  bool known;   // `running` is known (from the CPU's first switch)
  bool open;    // a task slice is open
  bool in_wfi;  // a WFI slice is open inside it
  uint64_t running;
  uint64_t last_ns;
  uint64_t pending_ipis[kMaxPendingIpis];  // flow ids of IPIs sent here, not yet received
  uint32_t npending;
};
CpuState g_cpus[kMaxCpus];

void Prepare(const ExportInfo& info) {
  for (TaskSlot& slot : g_tasks)
    slot.used = false;
  for (uint32_t c = 0; c < info.ncpus && c < kMaxCpus; ++c) {
    g_cpus[c] = CpuState{};
    const Spans& spans = info.cpus[c];
    bool first_switch = true;
    bool idles = false;
    for (uint32_t i = 0; i < spans.Count(); ++i) {
      const Event& e = spans[i];
      idles |= e.kind == Kind::kIdleEnter;
      if (e.kind == Kind::kSwitch && first_switch) {
        // Whoever the first switch switches away from ran since the ring's start.
        g_cpus[c].known = true;
        g_cpus[c].running = e.a;
        first_switch = false;
      }
      if (e.kind != Kind::kSpawn && e.kind != Kind::kSpawnName) continue;
      const uint32_t chunk = e.kind == Kind::kSpawn ? 0 : e.x;  // kSpawn's x is its target
      if (chunk >= kNameBytes / 8) continue;
      TaskSlot* slot = FindTask(e.a, true);
      if (slot == nullptr) continue;
      for (uint32_t b = 0; b < 8; ++b)
        slot->name[chunk * 8 + b] = static_cast<char>((e.b >> (8 * b)) & 0xff);
    }
    if (first_switch && idles) {
      // No switch at all, but the idle loop waited for interrupts: it idled throughout.
      g_cpus[c].known = true;
      g_cpus[c].running = 0;
    }
  }
}

// The next event in (time, CPU) order; ring order within a CPU. Null when all are merged.
const Event* NextMerged(const ExportInfo& info, uint32_t& cpu) {
  const Event* best = nullptr;
  for (uint32_t c = 0; c < info.ncpus && c < kMaxCpus; ++c) {
    if (g_cpus[c].next >= info.cpus[c].Count()) continue;
    const Event& e = info.cpus[c][g_cpus[c].next];
    if (best == nullptr || e.time_ns < best->time_ns) {
      best = &e;
      cpu = c;
    }
  }
  if (best != nullptr) ++g_cpus[cpu].next;
  return best;
}

// Sequence bookkeeping shared by both formats: returns how many events are missing before `e`.
uint32_t CheckSeq(CpuState& cpu, const Event& e, ExportStats& stats, bool& gap) {
  ++stats.events;
  uint32_t missing = 0;
  gap = false;
  if (!cpu.started) {
    missing = e.seq;  // the ring overflowed: events 0 .. seq-1 were overwritten
  } else if (e.seq != cpu.expected_seq) {
    missing = e.seq - cpu.expected_seq;
    gap = true;
    ++stats.gaps;
  }
  stats.lost += missing;
  cpu.started = true;
  cpu.expected_seq = e.seq + 1;
  cpu.last_ns = e.time_ns;
  return missing;
}

// ---- Text helpers -----------------------------------------------------------------------------

void Put(Sink& out, const char* text) {
  size_t n = 0;
  while (text[n] != '\0')
    ++n;
  out.Write(text, n);
}

// A JSON string body (no quotes): escapes quotes, backslashes and control bytes.
void PutJsonEscaped(Sink& out, const char* text) {
  for (const char* p = text; *p != '\0'; ++p) {
    const unsigned char c = static_cast<unsigned char>(*p);
    if (c == '"' || c == '\\') {
      const char pair[2] = {'\\', static_cast<char>(c)};
      out.Write(pair, 2);
    } else if (c < 0x20 || c >= 0x7f) {
      Format(out, "\\u{:04x}", static_cast<uint32_t>(c));  // bytes, not UTF-8: stay ASCII
    } else {
      out.Write(p, 1);
    }
  }
}

// An ftrace comm: no spaces (they separate fields).
void PutComm(Sink& out, const char* text) {
  for (const char* p = text; *p != '\0'; ++p) {
    const char c = (*p == ' ' || *p == '\t' || *p == '\n') ? '_' : *p;
    out.Write(&c, 1);
  }
}

// The task's name; `buf` holds a made-up one for tasks whose spawn is not in the trace.
const char* NameOf(uint64_t id, char (&buf)[kNameBytes + 1], ExportStats* stats) {
  if (id == 0) return "idle";
  const TaskSlot* slot = FindTask(id, false);
  if (slot != nullptr && slot->name[0] != '\0') return slot->name;
  if (stats != nullptr) ++stats->unnamed;
  FormatTo(buf, sizeof(buf), "task {}", id);
  return buf;
}

// ---- Trace Event Format -----------------------------------------------------------------------

class JsonWriter {
 public:
  JsonWriter(Sink& out, const ExportInfo& info) : out_(out), info_(info) {}

  ExportStats Write() {
    Prepare(info_);
    Put(out_, "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n");
    Meta();
    uint32_t c = 0;
    while (const Event* e = NextMerged(info_, c))
      OnEvent(c, *e);
    // What each CPU was doing at its last event it kept doing until the trace ends (a CPU
    // asleep in WFI records nothing more).
    uint64_t end_ns = 0;
    for (uint32_t cpu = 0; cpu < info_.ncpus && cpu < kMaxCpus; ++cpu) {
      if (g_cpus[cpu].last_ns > end_ns) end_ns = g_cpus[cpu].last_ns;
    }
    for (uint32_t cpu = 0; cpu < info_.ncpus && cpu < kMaxCpus; ++cpu) {
      CloseWfi(cpu, end_ns);
      CloseSlice(cpu, end_ns);
    }
    Put(out_, "\n],\"otherData\":{\"title\":\"");
    PutJsonEscaped(out_, info_.title);
    Format(out_,
           "\",\"cpus\":{},\"events\":{},\"lost\":{},\"gaps\":{},\"flows\":{},\"unnamed\":{}}}}}\n",
           info_.ncpus, stats_.events, stats_.lost, stats_.gaps, stats_.flows, stats_.unnamed);
    return stats_;
  }

 private:
  // Starts an event object: `{"ph":"P","ts":T,"pid":0,"tid":C`; the caller adds the rest
  // and the closing brace.
  void Open(const char* ph, uint64_t ns, uint32_t cpu) {
    Put(out_, first_ ? "" : ",\n");
    first_ = false;
    Format(out_, "{{\"ph\":\"{}\",\"ts\":{}.{:03},\"pid\":0,\"tid\":{}", ph, ns / 1000, ns % 1000,
           cpu);
  }

  void Name(const char* name, const char* cat) {
    Put(out_, ",\"name\":\"");
    PutJsonEscaped(out_, name);
    Format(out_, "\",\"cat\":\"{}\"", cat);
  }

  void Meta() {
    Put(out_, first_ ? "" : ",\n");
    first_ = false;
    Put(out_, "{\"ph\":\"M\",\"pid\":0,\"name\":\"process_name\",\"args\":{\"name\":\"");
    PutJsonEscaped(out_, info_.title);
    Put(out_, "\"}}");
    for (uint32_t cpu = 0; cpu < info_.ncpus; ++cpu) {
      Format(out_,
             ",\n{{\"ph\":\"M\",\"pid\":0,\"tid\":{},\"name\":\"thread_name\","
             "\"args\":{{\"name\":\"CPU {}\"}}}},\n{{\"ph\":\"M\",\"pid\":0,\"tid\":{},"
             "\"name\":\"thread_sort_index\",\"args\":{{\"sort_index\":{}}}}}",
             cpu, cpu, cpu, cpu);
    }
  }

  // An instant event on `cpu`'s track; `args` is a JSON object body (may be empty).
  template <typename... Args>
  void Instant(uint32_t cpu, uint64_t ns, const char* name, const char* cat, const char* args_fmt,
               const Args&... args) {
    Open("i", ns, cpu);
    Put(out_, ",\"s\":\"t\"");
    Name(name, cat);
    Put(out_, ",\"args\":{");
    Format(out_, args_fmt, args...);
    Put(out_, "}}");
  }

  void Flow(const char* ph, uint32_t cpu, uint64_t ns, const char* name, uint64_t id) {
    Open(ph, ns, cpu);
    Name(name, name);
    Format(out_, ",\"id\":{}{}}}", id, ph[0] == 'f' ? ",\"bp\":\"e\"" : "");
  }

  void CloseWfi(uint32_t cpu, uint64_t ns) {
    if (!g_cpus[cpu].in_wfi) return;
    g_cpus[cpu].in_wfi = false;
    Open("E", ns, cpu);
    Put(out_, "}");
  }

  void CloseSlice(uint32_t cpu, uint64_t ns) {
    if (!g_cpus[cpu].open) return;
    g_cpus[cpu].open = false;
    Open("E", ns, cpu);
    Put(out_, "}");
  }

  void OpenSlice(uint32_t cpu, uint64_t ns, uint64_t task, const char* prev_state, uint64_t prev) {
    char buf[kNameBytes + 1];
    Open("B", ns, cpu);
    Name(NameOf(task, buf, &stats_), task == 0 ? "idle" : "task");
    Format(out_, ",\"args\":{{\"task\":{},\"prev\":{},\"prev_state\":\"{}\"}}}}", task, prev,
           prev_state);
    g_cpus[cpu].open = true;
    g_cpus[cpu].running = task;
  }

  void OnEvent(uint32_t c, const Event& e) {
    CpuState& cpu = g_cpus[c];
    const bool first = !cpu.started;
    bool gap = false;
    const uint32_t missing = CheckSeq(cpu, e, stats_, gap);
    if (first) {
      if (missing != 0) {
        Instant(c, e.time_ns, "ring overflowed", "trace", "\"lost\":{},\"first_seq\":{}", missing,
                e.seq);
      }
      // The task the CPU's first switch leaves ran from before the ring's start.
      if (cpu.known) OpenSlice(c, e.time_ns, cpu.running, "unknown", cpu.running);
    } else if (gap) {
      Instant(c, e.time_ns, "trace gap", "trace", "\"lost\":{},\"seq\":{}", missing, e.seq);
    }
    char buf[kNameBytes + 1];
    switch (e.kind) {
      case Kind::kSwitch: {
        CloseWfi(c, e.time_ns);
        CloseSlice(c, e.time_ns);
        OpenSlice(c, e.time_ns, e.b, PrevStateName(static_cast<PrevState>(e.x)), e.a);
        if (e.b == 0) break;
        if (TaskSlot* slot = FindTask(e.b, false)) {
          if (slot->wake_flow != 0) {
            Flow("f", c, e.time_ns, slot->wake_flow_name, slot->wake_flow);
            slot->wake_flow = 0;
            ++stats_.flows;
          }
          if (slot->migrate_flow != 0) {
            Flow("f", c, e.time_ns, "migrate", slot->migrate_flow);
            slot->migrate_flow = 0;
            ++stats_.flows;
          }
        }
        break;
      }
      case Kind::kWakeup: {
        Instant(c, e.time_ns, NameOf(e.a, buf, nullptr), "wakeup",
                "\"event\":\"wakeup\",\"task\":{},\"target_cpu\":{}", e.a, e.b);
        if (TaskSlot* slot = FindTask(e.a, true)) {
          slot->wake_flow = ++flow_ids_;
          slot->wake_flow_name = "wakeup";
          Flow("s", c, e.time_ns, "wakeup", slot->wake_flow);
        }
        break;
      }
      case Kind::kMigrate: {
        Instant(c, e.time_ns, NameOf(e.a, buf, nullptr), "migrate",
                "\"event\":\"migrate\",\"task\":{},\"target_cpu\":{},\"transit\":{}", e.a, e.b,
                e.x);
        if (TaskSlot* slot = FindTask(e.a, true)) {
          slot->migrate_flow = ++flow_ids_;
          Flow("s", c, e.time_ns, "migrate", slot->migrate_flow);
        }
        break;
      }
      case Kind::kSteal:
        Instant(c, e.time_ns, "steal", "steal", "\"task\":{},\"thief_cpu\":{},\"victim_cpu\":{}",
                e.a, e.b, c);
        break;
      case Kind::kBalancePush:
        Instant(c, e.time_ns, "balance push", "balance", "\"task\":{},\"target_cpu\":{}", e.a, e.b);
        break;
      case Kind::kSpawn:
        Instant(c, e.time_ns, NameOf(e.a, buf, nullptr), "spawn",
                "\"event\":\"spawn\",\"task\":{},\"target_cpu\":{}", e.a, e.x);
        if (TaskSlot* slot = FindTask(e.a, true)) {
          slot->wake_flow = ++flow_ids_;
          slot->wake_flow_name = "spawn";
          Flow("s", c, e.time_ns, "spawn", slot->wake_flow);
        }
        break;
      case Kind::kSpawnName:
        break;  // read by Prepare
      case Kind::kExit:
        Instant(c, e.time_ns, NameOf(e.a, buf, nullptr), "exit", "\"event\":\"exit\",\"task\":{}",
                e.a);
        break;
      case Kind::kIpiSent: {
        Instant(c, e.time_ns, "ipi sent", "ipi", "\"target_cpu\":{},\"kind\":\"{}\"", e.a,
                IpiKindName(static_cast<IpiKind>(e.x)));
        const uint64_t id = ++flow_ids_;
        Flow("s", c, e.time_ns, "ipi", id);
        if (e.a < kMaxCpus) {
          CpuState& target = g_cpus[e.a];
          if (target.npending == kMaxPendingIpis) {
            // Never received so far: drop the oldest arrow rather than the newest.
            for (uint32_t i = 1; i < kMaxPendingIpis; ++i)
              target.pending_ipis[i - 1] = target.pending_ipis[i];
            --target.npending;
          }
          target.pending_ipis[target.npending++] = id;
        }
        break;
      }
      case Kind::kIpiReceived:
        Instant(c, e.time_ns, "ipi received", "ipi", "");
        // One interrupt can stand for several IPIs sent before it (they coalesce).
        for (uint32_t i = 0; i < cpu.npending; ++i) {
          Flow("f", c, e.time_ns, "ipi", cpu.pending_ipis[i]);
          ++stats_.flows;
        }
        cpu.npending = 0;
        break;
      case Kind::kIdleEnter:
        if (!cpu.in_wfi) {
          Open("B", e.time_ns, c);
          Name("wfi", "wfi");
          Put(out_, "}");
          cpu.in_wfi = true;
        }
        break;
      case Kind::kIdleExit:
        CloseWfi(c, e.time_ns);
        break;
      case Kind::kTimerArmed:
      case Kind::kTimerFired:
        Instant(c, e.time_ns, KindName(e.kind), "timer",
                "\"timer\":\"{}\",\"deadline_ns\":{},\"task\":{}",
                TimerKindName(static_cast<TimerKind>(e.x)), e.a, e.b);
        break;
      case Kind::kEnqueue:
      case Kind::kStealRequest:
      case Kind::kSliceExpired:
      case Kind::kIdleKick:
      case Kind::kCount:
        Instant(c, e.time_ns, KindName(e.kind), "sched", "\"a\":{},\"b\":{}", e.a, e.b);
        break;
    }
  }

  Sink& out_;
  const ExportInfo& info_;
  ExportStats stats_;
  bool first_ = true;
  uint64_t flow_ids_ = 0;
};

// ---- ftrace text ------------------------------------------------------------------------------

class FtraceWriter {
 public:
  FtraceWriter(Sink& out, const ExportInfo& info) : out_(out), info_(info) {}

  ExportStats Write() {
    Prepare(info_);
    Format(out_,
           "# tracer: nop\n#\n# lichen scheduler trace: {}, {} CPUs (sched_switch and "
           "sched_waking)\n#\n#           TASK-PID     CPU#  ||||   TIMESTAMP  FUNCTION\n"
           "#              | |         |   ||||      |         |\n",
           info_.title, info_.ncpus);
    uint32_t c = 0;
    while (const Event* e = NextMerged(info_, c)) {
      bool gap = false;
      CheckSeq(g_cpus[c], *e, stats_, gap);
      if (e->kind == Kind::kSwitch) {
        Prefix(c, *e, "sched_switch");
        Put(out_, "prev_comm=");
        Comm(c, e->a);
        Format(out_, " prev_pid={} prev_prio=120 prev_state={} ==> next_comm=", e->a,
               StateLetter(static_cast<PrevState>(e->x)));
        Comm(c, e->b);
        Format(out_, " next_pid={} next_prio=120\n", e->b);
        g_cpus[c].known = true;
        g_cpus[c].running = e->b;
      } else if (e->kind == Kind::kWakeup) {
        Prefix(c, *e, "sched_waking");
        Put(out_, "comm=");
        Comm(c, e->a);
        Format(out_, " pid={} prio=120 target_cpu={:03}\n", e->a, e->b);
      }
    }
    return stats_;
  }

 private:
  static const char* StateLetter(PrevState state) {
    switch (state) {
      case PrevState::kBlocking:
        return "S";
      case PrevState::kExited:
        return "X";
      default:
        return "R";
    }
  }

  // Linux calls CPU n's idle task swapper/n, pid 0; Perfetto knows it by that.
  void Comm(uint32_t cpu, uint64_t task) {
    if (task == 0) {
      Format(out_, "swapper/{}", cpu);
      return;
    }
    char buf[kNameBytes + 1];
    PutComm(out_, NameOf(task, buf, &stats_));
  }

  void Prefix(uint32_t c, const Event& e, const char* event) {
    const uint64_t running = g_cpus[c].known ? g_cpus[c].running : 0;
    Put(out_, "  ");
    if (running == 0) {
      Put(out_, "<idle>");
    } else {
      Comm(c, running);
    }
    Format(out_, "-{} [{:03}] d..2 {}.{:06}: {}: ", running, c, e.time_ns / 1'000'000'000,
           (e.time_ns / 1000) % 1'000'000, event);
  }

  Sink& out_;
  const ExportInfo& info_;
  ExportStats stats_;
};

}  // namespace

ExportStats WriteTraceEventJson(Sink& out, const ExportInfo& info) {
  JsonWriter writer(out, info);
  return writer.Write();
}

ExportStats WriteFtraceText(Sink& out, const ExportInfo& info) {
  FtraceWriter writer(out, info);
  return writer.Write();
}

}  // namespace lichen::trace
