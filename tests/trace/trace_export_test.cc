// The trace export (kernel/trace/export.h), tested like any parser's input: what it writes must
// be well-formed JSON that follows the Trace Event Format, with balanced slices, time-ordered
// tracks, matched flow arrows and sequence numbers without unexplained gaps; the simulator's
// trace of a seed must be the same bytes every run; and a trace of a seed bug must show it.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "kernel/base/debug.h"
#include "kernel/sched/sched.h"
#include "kernel/sync/semaphore.h"
#include "kernel/trace/export.h"
#include "kernel/trace/trace.h"
#include "lib/units.h"
#include "platform/sim/sim.h"
#include "platform/sim/trace_file.h"
#include "tests/sim/sim_test_util.h"
#include "tests/trace/json.h"
#include "workloads/sim_workloads.h"

namespace lichen {
namespace {

using test::json::Value;

static_assert(trace::kLevel >= 2,
              "the trace tests read IPI and idle events: build with LICHEN_TRACE_LEVEL=2");

// ---- The Trace Event Format checker ---------------------------------------------------------

int64_t Int(const Value& v) {
  return static_cast<int64_t>(v.number);
}

// What a checked file holds, for the tests' own assertions.
struct Checked {
  Value root;
  std::vector<const Value*> events;  // traceEvents, file order, metadata excluded
  std::map<int64_t, uint32_t> slices_per_tid;
  uint32_t flows = 0;  // matched s/f pairs
};

// Checks `text` against the JSON grammar and the parts of the Trace Event Format the viewers
// rely on; returns "" or the first problem.
std::string CheckTraceEventFile(const std::string& text, Checked& out) {
  test::json::Parser parser(text);
  if (!parser.Parse(out.root)) return "not JSON: " + parser.error();
  const Value& root = out.root;
  if (root.type != Value::Type::kObject) return "the top level is not an object";
  if (std::set<std::string>(root.keys.begin(), root.keys.end()).size() != root.keys.size())
    return "duplicate keys at the top level";
  if (!root.Has("traceEvents") || root.At("traceEvents").type != Value::Type::kArray)
    return "no traceEvents array";
  static const std::set<std::string> kPhases = {"B", "E", "i", "s", "f", "M", "X"};
  static const std::set<std::string> kMeta = {"process_name", "thread_name", "thread_sort_index",
                                              "process_sort_index"};
  std::map<int64_t, double> last_ts;
  std::map<int64_t, std::vector<std::string>> open;  // per tid, names of open B slices
  std::map<int64_t, std::string> flow_starts;        // id -> cat
  std::set<int64_t> flow_ends;
  size_t index = 0;
  for (const Value& e : root.At("traceEvents").array) {
    const std::string where = "event " + std::to_string(index++) + ": ";
    if (e.type != Value::Type::kObject) return where + "not an object";
    if (std::set<std::string>(e.keys.begin(), e.keys.end()).size() != e.keys.size())
      return where + "duplicate keys";
    if (!e.Has("ph") || e.At("ph").type != Value::Type::kString) return where + "no ph";
    const std::string ph = e.At("ph").string;
    if (kPhases.count(ph) == 0) return where + "unknown ph " + ph;
    if (!e.Has("pid") || !e.At("pid").IsInteger()) return where + "no integer pid";
    if (e.Has("args") && e.At("args").type != Value::Type::kObject) return where + "args";
    if (e.Has("cat") && e.At("cat").type != Value::Type::kString) return where + "cat";
    const bool named = e.Has("name") && e.At("name").type == Value::Type::kString;
    if (ph == "M") {
      if (!named || kMeta.count(e.At("name").string) == 0) return where + "bad metadata name";
      if (!e.Has("args")) return where + "metadata without args";
      continue;
    }
    if (!e.Has("tid") || !e.At("tid").IsInteger()) return where + "no integer tid";
    if (!e.Has("ts") || e.At("ts").type != Value::Type::kNumber || e.At("ts").number < 0)
      return where + "no ts";
    if (ph != "E" && !named) return where + "no name";
    const int64_t tid = Int(e.At("tid"));
    const double ts = e.At("ts").number;
    if (last_ts.count(tid) != 0 && ts < last_ts[tid]) return where + "time goes back on its track";
    last_ts[tid] = ts;
    if (ph == "B") {
      open[tid].push_back(e.At("name").string);
      ++out.slices_per_tid[tid];
    } else if (ph == "E") {
      if (open[tid].empty()) return where + "E without a B on tid " + std::to_string(tid);
      open[tid].pop_back();
    } else if (ph == "i") {
      if (!e.Has("s") || e.At("s").type != Value::Type::kString) return where + "instant scope";
      const std::string s = e.At("s").string;
      if (s != "t" && s != "p" && s != "g") return where + "instant scope " + s;
    } else if (ph == "s" || ph == "f") {
      if (!e.Has("id") || !e.At("id").IsInteger()) return where + "flow without an id";
      if (!e.Has("cat")) return where + "flow without a cat";
      const int64_t id = Int(e.At("id"));
      if (ph == "s") {
        if (flow_starts.count(id) != 0) return where + "flow id reused";
        flow_starts[id] = e.At("cat").string;
      } else {
        if (flow_starts.count(id) == 0) return where + "flow end before its start";
        if (flow_starts[id] != e.At("cat").string) return where + "flow end of another cat";
        if (!e.Has("bp") || e.At("bp").string != "e") return where + "flow end not bound";
        if (!flow_ends.insert(id).second) return where + "flow ended twice";
        ++out.flows;
      }
    }
    out.events.push_back(&e);
  }
  for (const auto& [tid, names] : open) {
    if (!names.empty()) return "tid " + std::to_string(tid) + " ends with an open slice";
  }
  return "";
}

// ---- The checker itself rejects what it must ---------------------------------------------------

TEST(TraceChecker, RejectsMalformedFiles) {
  Checked c;
  EXPECT_EQ(CheckTraceEventFile(R"({"traceEvents":[]})", c), "");
  const char* bad[] = {
      R"({"traceEvents":[],})",                                             // trailing comma
      R"({"traceEvents":[{"ph":"B","ts":1,"pid":0,"tid":0,"name":"a"}]})",  // unclosed slice
      R"({"traceEvents":[{"ph":"E","ts":1,"pid":0,"tid":0}]})",             // E without B
      (R"({"traceEvents":[{"ph":"i","s":"t","ts":2,"pid":0,"tid":0,"name":"a"},)"
       R"({"ph":"i","s":"t","ts":1,"pid":0,"tid":0,"name":"a"}]})"),  // time goes back
      R"({"traceEvents":[{"ph":"f","bp":"e","id":1,"cat":"x","ts":1,"pid":0,"tid":0,"name":"a"}]})",
      R"({"traceEvents":[{"ph":"B","ts":01,"pid":0,"tid":0,"name":"a"}]})",   // leading zero
      R"({"traceEvents":[{"ph":"i","ts":1,"pid":0,"tid":0,"name":"a\q"}]})",  // bad escape
      R"({"traceEvents":[]} x)",
  };
  for (const char* text : bad) {
    Checked checked;
    EXPECT_NE(CheckTraceEventFile(text, checked), "") << text;
  }
}

// ---- Synthetic rings: overflow, gaps, names ---------------------------------------------------

trace::Event Ev(uint64_t ns, uint32_t seq, trace::Kind kind, uint64_t a, uint64_t b, uint8_t x,
                uint16_t cpu) {
  return trace::Event{ns, seq, kind, x, cpu, a, b};
}

uint64_t Pack(const char* s) {
  uint64_t v = 0;
  for (int i = 0; i < 8 && s[i] != '\0'; ++i)
    v |= static_cast<uint64_t>(static_cast<uint8_t>(s[i])) << (8 * i);
  return v;
}

std::string ExportSpans(const std::vector<std::vector<trace::Event>>& rings,
                        trace::ExportStats& stats, bool ftrace = false) {
  std::vector<trace::Spans> spans(rings.size());
  for (size_t i = 0; i < rings.size(); ++i) {
    spans[i].first = rings[i].data();
    spans[i].first_count = static_cast<uint32_t>(rings[i].size());
  }
  trace::ExportInfo info;
  info.title = "synthetic \"rings\"";
  info.ncpus = static_cast<uint32_t>(rings.size());
  info.cpus = spans.data();
  std::string text;
  struct StringSink final : Sink {
    std::string* s;
    void Write(const char* d, size_t n) override { s->append(d, n); }
  } sink;
  sink.s = &text;
  stats = ftrace ? trace::WriteFtraceText(sink, info) : trace::WriteTraceEventJson(sink, info);
  return text;
}

TEST(TraceExport, ReportsOverflowAndGapsAndDecodesNames) {
  using K = trace::Kind;
  const uint8_t blocking = static_cast<uint8_t>(trace::PrevState::kBlocking);
  // CPU 0 lost its first 5 events (overflow) and event 8 (a gap); CPU 1 is complete.
  std::vector<std::vector<trace::Event>> rings = {
      {Ev(100, 5, K::kSpawn, 7, Pack("a \"long\""), 0, 0),
       Ev(100, 6, K::kSpawnName, 7, Pack(" name"), 1, 0), Ev(200, 7, K::kSwitch, 0, 7, 4, 0),
       Ev(300, 9, K::kWakeup, 9, 1, 0, 0), Ev(400, 10, K::kSwitch, 7, 0, blocking, 0)},
      {Ev(150, 0, K::kSwitch, 0, 9, 4, 1), Ev(250, 1, K::kSwitch, 9, 0, blocking, 1),
       Ev(350, 2, K::kSwitch, 0, 9, 4, 1)},
  };
  trace::ExportStats stats;
  const std::string text = ExportSpans(rings, stats);
  Checked c;
  ASSERT_EQ(CheckTraceEventFile(text, c), "") << text;
  EXPECT_EQ(stats.events, 8u);
  EXPECT_EQ(stats.lost, 6u);  // 5 overwritten + 1 skipped
  EXPECT_EQ(stats.gaps, 1u);
  EXPECT_EQ(Int(c.root.At("otherData").At("lost")), 6);
  EXPECT_EQ(Int(c.root.At("otherData").At("gaps")), 1);
  std::set<std::string> names;
  uint32_t overflow = 0, gap = 0;
  for (const Value* e : c.events) {
    if (e->Has("name")) names.insert(e->At("name").string);
    if (e->Has("name") && e->At("name").string == "ring overflowed") {
      ++overflow;
      EXPECT_EQ(Int(e->At("args").At("lost")), 5);
    }
    if (e->Has("name") && e->At("name").string == "trace gap") {
      ++gap;
      EXPECT_EQ(Int(e->At("args").At("lost")), 1);
    }
  }
  EXPECT_EQ(overflow, 1u);
  EXPECT_EQ(gap, 1u);
  EXPECT_TRUE(names.count("a \"long\" name")) << text;  // two chunks, escaped and decoded
  EXPECT_TRUE(names.count("task 9")) << text;           // spawn not in the trace
  EXPECT_EQ(c.flows, 2u) << text;  // spawn of 7 and wakeup of 9 -> their switch-ins
  // One slice per switch, plus the task each CPU ran before its first switch.
  EXPECT_EQ(c.slices_per_tid[0], 3u);
  EXPECT_EQ(c.slices_per_tid[1], 4u);

  const std::string ftrace = ExportSpans(rings, stats, true);
  EXPECT_NE(ftrace.find("prev_comm=swapper/0 prev_pid=0 prev_prio=120 prev_state=R ==> "
                        "next_comm=a_\"long\"_name next_pid=7"),
            std::string::npos)
      << ftrace;
  EXPECT_NE(ftrace.find("sched_waking: comm=task_9 pid=9 prio=120 target_cpu=001"),
            std::string::npos)
      << ftrace;
}

TEST(TraceExport, CpuThatOnlySleptIsIdleUntilTheTraceEnds) {
  using K = trace::Kind;
  // CPU 1 went to sleep in WFI before its ring's first switch and never woke: its track must
  // still show it idle (and asleep) for the whole trace, not a zero-length blip.
  std::vector<std::vector<trace::Event>> rings = {
      {Ev(100, 0, K::kSwitch, 0, 5, 4, 0), Ev(900, 1, K::kSwitch, 5, 0, 2, 0)},
      {Ev(120, 0, K::kIdleEnter, 0, 0, 0, 1)},
  };
  trace::ExportStats stats;
  const std::string text = ExportSpans(rings, stats);
  Checked c;
  ASSERT_EQ(CheckTraceEventFile(text, c), "") << text;
  std::vector<std::pair<std::string, double>> cpu1;  // (ph, ts) of CPU 1's slices
  for (const Value* e : c.events) {
    const std::string ph = e->At("ph").string;
    if (Int(e->At("tid")) == 1 && (ph == "B" || ph == "E"))
      cpu1.push_back({ph, e->At("ts").number});
  }
  const std::vector<std::pair<std::string, double>> expected = {
      {"B", 0.120}, {"B", 0.120}, {"E", 0.900}, {"E", 0.900}};  // idle, wfi, then both end
  EXPECT_EQ(cpu1, expected) << text;
}

// ---- Simulator runs
// ------------------------------------------------------------------------------

std::vector<std::vector<trace::Event>> Rings(uint32_t ncpus) {
  std::vector<std::vector<trace::Event>> rings(ncpus);
  for (uint32_t cpu = 0; cpu < ncpus; ++cpu) {
    const trace::Spans spans = trace::Kept(cpu);
    for (uint32_t i = 0; i < spans.Count(); ++i)
      rings[cpu].push_back(spans[i]);
  }
  return rings;
}

// Checks the raw rings of a finished run: consecutive sequence numbers, time order, switches
// that chain (each switch leaves the task the previous one entered), and every task switched
// out alive is switched in again later.
void CheckRings(const std::vector<std::vector<trace::Event>>& rings, const std::string& what) {
  std::map<uint64_t, uint64_t> pending_out;  // task -> time it was switched out alive
  std::vector<std::pair<uint64_t, const trace::Event*>> switches;
  // Only from when every CPU's ring has its events: before that, a switch-in may be lost.
  uint64_t complete_from = 0;
  for (const auto& ring : rings) {
    if (!ring.empty() && ring.front().seq != 0)
      complete_from = std::max(complete_from, ring.front().time_ns);
  }
  for (uint32_t cpu = 0; cpu < rings.size(); ++cpu) {
    const auto& ring = rings[cpu];
    ASSERT_FALSE(ring.empty()) << what << ": CPU " << cpu << " recorded nothing";
    const trace::Event* last_switch = nullptr;
    for (size_t i = 0; i < ring.size(); ++i) {
      const trace::Event& e = ring[i];
      ASSERT_EQ(e.cpu, cpu) << what;
      if (i > 0) {
        ASSERT_EQ(e.seq, ring[i - 1].seq + 1) << what << ": CPU " << cpu << " gap at " << i;
        ASSERT_GE(e.time_ns, ring[i - 1].time_ns) << what << ": CPU " << cpu << " at " << i;
      }
      if (e.kind != trace::Kind::kSwitch) continue;
      if (last_switch != nullptr) {
        ASSERT_EQ(e.a, last_switch->b)
            << what << ": CPU " << cpu << " switched out a task it had not switched in";
      }
      last_switch = &e;
      switches.push_back({e.time_ns, &e});
    }
  }
  std::stable_sort(switches.begin(), switches.end(),
                   [](const auto& l, const auto& r) { return l.first < r.first; });
  for (const auto& [ns, e] : switches) {
    if (e->b != 0) pending_out.erase(e->b);
    if (e->a != 0 && e->x != static_cast<uint8_t>(trace::PrevState::kExited) &&
        ns >= complete_from) {
      pending_out[e->a] = ns;
    }
  }
  for (const auto& [task, ns] : pending_out) {
    ADD_FAILURE() << what << ": task " << task << " switched out alive at " << ns
                  << " ns and never switched in again";
  }
}

std::string Title(const char* workload, uint32_t ncpus, uint64_t seed) {
  return std::string(workload) + " cpus=" + std::to_string(ncpus) + " seed=" + std::to_string(seed);
}

TEST(TraceExport, SimulatorRunsExportValidConsistentTraces) {
  struct Case {
    const char* workload;
    uint32_t ncpus;
  };
  const Case cases[] = {{"pingpong", 2}, {"storm", 4}, {"sleepers", 4}, {"mixed-work", 4}};
  for (const Case& k : cases) {
    for (uint64_t seed = 1; seed <= 3; ++seed) {
      const std::string what = Title(k.workload, k.ncpus, seed);
      SCOPED_TRACE(what);
      const sim::Outcome result =
          test::RunWorkload(test::WorkloadOptions(k.workload, k.ncpus, seed));
      ASSERT_TRUE(result.ok) << test::Explain(result);
      const auto rings = Rings(k.ncpus);
      CheckRings(rings, what);
      trace::ExportStats stats;
      const std::string text = sim::ExportTrace(sim::TraceFormat::kJson, k.ncpus, what, &stats);
      Checked c;
      ASSERT_EQ(CheckTraceEventFile(text, c), "") << "replay: " << result.replay;
      EXPECT_EQ(stats.gaps, 0u);
      uint64_t overwritten = 0;
      for (const auto& ring : rings)
        overwritten += ring.front().seq;
      EXPECT_EQ(stats.lost, overwritten);  // only what the rings overwrote, and reported
      EXPECT_GT(c.flows, 0u);
      for (uint32_t cpu = 0; cpu < k.ncpus; ++cpu)
        EXPECT_GT(c.slices_per_tid[cpu], 0u) << "CPU " << cpu << " has no task slices";
    }
  }
}

TEST(TraceExport, SimulatorTraceIsTheSameForTheSameSeed) {
  std::string json[2], ftrace[2];
  for (int run = 0; run < 2; ++run) {
    const sim::Outcome result = test::RunWorkload(test::WorkloadOptions("mixed-work", 4, 42));
    ASSERT_TRUE(result.ok) << test::Explain(result);
    json[run] = sim::ExportTrace(sim::TraceFormat::kJson, 4, "seed 42");
    ftrace[run] = sim::ExportTrace(sim::TraceFormat::kFtrace, 4, "seed 42");
  }
  EXPECT_EQ(json[0], json[1]);
  EXPECT_EQ(ftrace[0], ftrace[1]);
  // And the trace follows the seed: another one schedules differently.
  const sim::Outcome other = test::RunWorkload(test::WorkloadOptions("mixed-work", 4, 43));
  ASSERT_TRUE(other.ok) << test::Explain(other);
  EXPECT_NE(sim::ExportTrace(sim::TraceFormat::kJson, 4, "seed 42"), json[0]);
}

TEST(TraceExport, FtraceLinesFollowTheSwitches) {
  const sim::Outcome result = test::RunWorkload(test::WorkloadOptions("storm", 4, 5));
  ASSERT_TRUE(result.ok) << test::Explain(result);
  const auto rings = Rings(4);
  size_t switches = 0, wakeups = 0;
  for (const auto& ring : rings) {
    for (const trace::Event& e : ring) {
      switches += e.kind == trace::Kind::kSwitch;
      wakeups += e.kind == trace::Kind::kWakeup;
    }
  }
  const std::string text = sim::ExportTrace(sim::TraceFormat::kFtrace, 4, "storm");
  const std::regex line(
      R"(^ +(\S+)-(\d+) \[(\d{3})\] d\.\.2 (\d+)\.(\d{6}): (sched_switch|sched_waking): (.*)$)");
  const std::regex switch_args(
      R"(prev_comm=\S+ prev_pid=(\d+) prev_prio=120 prev_state=[RSX] ==> next_comm=\S+ )"
      R"(next_pid=(\d+) next_prio=120)");
  std::istringstream in(text);
  std::string l;
  size_t seen_switches = 0, seen_wakeups = 0;
  std::map<int, std::string> running;  // per CPU, the pid the last switch entered
  while (std::getline(in, l)) {
    if (l.empty() || l[0] == '#') continue;
    std::smatch m;
    ASSERT_TRUE(std::regex_match(l, m, line)) << l;
    const int cpu = std::stoi(m[3]);
    if (m[6] == "sched_switch") {
      ++seen_switches;
      std::smatch s;
      const std::string args = m[7];
      ASSERT_TRUE(std::regex_match(args, s, switch_args)) << l;
      if (running.count(cpu) != 0) {
        EXPECT_EQ(s[1].str(), running[cpu]) << l;  // switches out what it switched in
        EXPECT_EQ(m[2].str(), running[cpu]) << l;  // and the line is the running task's
      }
      running[cpu] = s[2];
    } else {
      ++seen_wakeups;
    }
  }
  EXPECT_EQ(seen_switches, switches);
  EXPECT_EQ(seen_wakeups, wakeups);
}

// ---- A seed bug, seen in the trace -------------------------------------------------------------
// Seed bug 1 (tests/sim/seed_bugs_test.cc): CPU 0 sends a task to CPU 1, which idles in WFI.
// Without the IPI (Faults::no_wake_ipi) the trace shows the task aimed at CPU 1 (its spawn, or
// its wakeup if the spawn got through) and then nothing: no IPI sent, no IPI received, and the
// task never runs there; as shipped it shows the IPI and its arrow, then the task's slice on
// CPU 1.

Semaphore* g_go = nullptr;

Task* SpawnPinned(const char* name, Task::Entry entry, uint32_t cpu) {
  sched::SpawnOptions options;
  options.name = name;
  options.entry = entry;
  options.affinity = CpuMask::Single(cpu);
  return sched::Spawn(options).value();
}

void RemoteWakeRoot(void*) {
  alignas(Semaphore) static unsigned char storage[sizeof(Semaphore)];
  g_go = new (storage) Semaphore(0);
  Task* sleeper = SpawnPinned(
      "sleeper", [](void*) { g_go->Down(); }, 1);
  Task* waker = SpawnPinned(
      "waker",
      [](void*) {
        sim::Compute(2 * kMs);  // CPU 1 is idle by now
        g_go->Up();
      },
      0);
  sched::Join(waker);
  sched::Join(sleeper);
}

struct RemoteWakeSeen {
  bool sent_to_cpu1 = false;  // spawned or woken onto CPU 1 from CPU 0
  bool ipi_sent_after = false;
  bool ipi_received_after = false;
  bool sleeper_ran_after = false;
  uint32_t ipi_flows = 0;
};

RemoteWakeSeen TraceRemoteWake(bool without_ipi, uint64_t seed) {
  if (without_ipi) g_faults.no_wake_ipi = true;
  sim::Options options;
  options.ncpus = 2;
  options.seed = seed;
  const sim::Outcome result = sim::Run(options, &RemoteWakeRoot, nullptr);
  g_faults.no_wake_ipi = false;
  EXPECT_EQ(result.ok, !without_ipi) << test::Explain(result);
  const std::string text = sim::ExportTrace(sim::TraceFormat::kJson, 2, "remote wake");
  Checked c;
  RemoteWakeSeen seen;
  const std::string problem = CheckTraceEventFile(text, c);
  EXPECT_EQ(problem, "");
  if (!problem.empty()) return seen;
  double wake_ts = -1;
  for (const Value* e : c.events) {
    const std::string ph = e->At("ph").string;
    const std::string name = e->Has("name") ? e->At("name").string : "";
    const int64_t tid = Int(e->At("tid"));
    const double ts = e->At("ts").number;
    const std::string cat = e->Has("cat") ? e->At("cat").string : "";
    if (wake_ts < 0 && ph == "i" && name == "sleeper" && (cat == "wakeup" || cat == "spawn") &&
        tid == 0 && Int(e->At("args").At("target_cpu")) == 1) {
      seen.sent_to_cpu1 = true;
      wake_ts = ts;
      continue;
    }
    if (wake_ts < 0 || ts < wake_ts) continue;
    if (ph == "i" && name == "ipi sent" && tid == 0 && Int(e->At("args").At("target_cpu")) == 1)
      seen.ipi_sent_after = true;
    if (ph == "i" && name == "ipi received" && tid == 1) seen.ipi_received_after = true;
    if (ph == "B" && name == "sleeper" && tid == 1) seen.sleeper_ran_after = true;
    if (ph == "f" && e->At("cat").string == "ipi" && tid == 1) ++seen.ipi_flows;
  }
  return seen;
}

TEST(TraceExport, TraceShowsTheRemoteWakeWithoutIpi) {
  const RemoteWakeSeen bug = TraceRemoteWake(/*without_ipi=*/true, 1);
  EXPECT_TRUE(bug.sent_to_cpu1);
  EXPECT_FALSE(bug.ipi_sent_after);
  EXPECT_FALSE(bug.ipi_received_after);
  EXPECT_FALSE(bug.sleeper_ran_after);
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const RemoteWakeSeen fixed = TraceRemoteWake(/*without_ipi=*/false, seed);
    EXPECT_TRUE(fixed.sent_to_cpu1);
    EXPECT_TRUE(fixed.ipi_sent_after);
    EXPECT_TRUE(fixed.ipi_received_after);
    EXPECT_TRUE(fixed.sleeper_ran_after);
    EXPECT_GE(fixed.ipi_flows, 1u);
  }
}

}  // namespace
}  // namespace lichen
