#include "platform/aarch64/cmdline.h"

#include <cstddef>

namespace lichen {

namespace {

// Word separators: any ASCII white space, as Linux's parse_args() has it. A loader's bootargs
// may use tabs or end in a newline (a file read into -append), and "ktests\n" must still be
// the word "ktests".
bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// The next word at or after `pos` (empty at the end); `pos` moves past it.
std::string_view NextWord(std::string_view text, size_t& pos) {
  while (pos < text.size() && IsSpace(text[pos]))
    ++pos;
  size_t end = pos;
  while (end < text.size() && !IsSpace(text[end]))
    ++end;
  const std::string_view word = text.substr(pos, end - pos);
  pos = end;
  return word;
}

constexpr std::string_view kEndOfOptions = "--";

}  // namespace

std::optional<std::string_view> CmdlineOption(std::string_view cmdline, std::string_view key) {
  std::optional<std::string_view> found;
  size_t pos = 0;
  while (pos < cmdline.size()) {
    const std::string_view word = NextWord(cmdline, pos);
    if (word == kEndOfOptions) break;  // init's arguments from here on
    const size_t eq = word.find('=');
    const std::string_view name = word.substr(0, eq);
    if (!word.empty() && name == key) {
      found = eq == std::string_view::npos ? std::string_view() : word.substr(eq + 1);
    }
  }
  return found;
}

size_t CmdlineInitArgs(std::string_view cmdline, std::string_view* words, size_t max) {
  size_t pos = 0;
  while (pos < cmdline.size() && NextWord(cmdline, pos) != kEndOfOptions) {
  }
  size_t count = 0;
  while (pos < cmdline.size()) {
    const std::string_view word = NextWord(cmdline, pos);
    if (word.empty()) break;  // trailing white space
    if (count < max) words[count] = word;
    ++count;
  }
  return count;
}

std::optional<uint64_t> ParseUint(std::string_view text) {
  uint64_t base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    base = 16;
    text.remove_prefix(2);
  }
  if (text.empty()) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    uint64_t digit;
    if (c >= '0' && c <= '9') {
      digit = static_cast<uint64_t>(c - '0');
    } else if (base == 16 && c >= 'a' && c <= 'f') {
      digit = static_cast<uint64_t>(c - 'a' + 10);
    } else if (base == 16 && c >= 'A' && c <= 'F') {
      digit = static_cast<uint64_t>(c - 'A' + 10);
    } else {
      return std::nullopt;
    }
    if (digit >= base) return std::nullopt;
    if (__builtin_mul_overflow(value, base, &value) ||
        __builtin_add_overflow(value, digit, &value)) {
      return std::nullopt;
    }
  }
  return value;
}

}  // namespace lichen
