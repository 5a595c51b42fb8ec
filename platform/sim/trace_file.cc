#include "platform/sim/trace_file.h"

#include <cstdio>
#include <vector>

namespace lichen::sim {

namespace {

class StringSink final : public Sink {
 public:
  explicit StringSink(std::string& text) : text_(text) {}
  void Write(const char* data, size_t len) override { text_.append(data, len); }

 private:
  std::string& text_;
};

bool EndsWith(const std::string& text, const char* suffix) {
  const std::string s(suffix);
  return text.size() >= s.size() && text.compare(text.size() - s.size(), s.size(), s) == 0;
}

}  // namespace

TraceFormat TraceFormatFor(const std::string& path) {
  if (EndsWith(path, ".json")) return TraceFormat::kJson;
  if (EndsWith(path, ".ftrace") || EndsWith(path, ".systrace")) return TraceFormat::kFtrace;
  return TraceFormat::kText;
}

std::string ExportTrace(TraceFormat format, uint32_t ncpus, const std::string& title,
                        trace::ExportStats* stats) {
  std::vector<trace::Spans> cpus(ncpus);
  for (uint32_t cpu = 0; cpu < ncpus; ++cpu)
    cpus[cpu] = trace::Kept(cpu);
  trace::ExportInfo info;
  info.title = title.c_str();
  info.ncpus = ncpus;
  info.cpus = cpus.data();
  std::string text;
  StringSink sink(text);
  const trace::ExportStats counted = format == TraceFormat::kFtrace
                                         ? trace::WriteFtraceText(sink, info)
                                         : trace::WriteTraceEventJson(sink, info);
  if (stats != nullptr) *stats = counted;
  return text;
}

bool WriteTraceFile(const std::string& path, TraceFormat format, uint32_t ncpus,
                    const std::string& title) {
  const std::string text = ExportTrace(format, ncpus, title);
  FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return false;
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  return std::fclose(f) == 0 && ok;
}

}  // namespace lichen::sim
