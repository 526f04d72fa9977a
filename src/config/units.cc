// Durations, sizes and rates as people write them in a config file.
//
// Each parser accepts a number followed by a unit and rejects everything else
// with a message of the form "expected <what is valid>, got <input>", which
// the config parser prefixes with file, line and key. The rules:
//
//   duration  "45s" "90m" "24h" "3d" "2w", parts may be chained ("1d12h"),
//             or a bare number of seconds ("3600").
//   size      a number with an optional fraction and a unit: K M G T and
//             KiB MiB GiB TiB are binary (1K = 1024), KB MB GB TB decimal,
//             B or no unit is bytes. "1.5KiB" is fine, "1.3B" is not: a size
//             must come out as a whole number of bytes.
//   rate      a size per second ("150MB/s", "80MiB/s"; "/s" may be left
//             out), rounded down to whole bytes; "" and "0" mean no limit.
//
// Units are case-sensitive on purpose: "Mb" would read as megabits to some
// and megabytes to others, so it is refused rather than guessed. Arithmetic
// is checked for overflow; 128-bit intermediates keep "1.5TiB" exact.
#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "atlas/config.h"

#include "config/text.h"

namespace atlas {
namespace {

__extension__ using Uint128 = unsigned __int128;  // GCC/Clang; -Wpedantic needs __extension__

struct Unit {
  std::string_view name;
  std::uint64_t bytes;
};

constexpr std::uint64_t kKi = 1024;
constexpr std::array<Unit, 14> kSizeUnits = {{
    {"", 1},
    {"B", 1},
    {"K", kKi},
    {"KiB", kKi},
    {"KB", 1000},
    {"M", kKi* kKi},
    {"MiB", kKi* kKi},
    {"MB", 1000 * 1000},
    {"G", kKi* kKi* kKi},
    {"GiB", kKi* kKi* kKi},
    {"GB", 1000ULL * 1000 * 1000},
    {"T", kKi* kKi* kKi* kKi},
    {"TiB", kKi* kKi* kKi* kKi},
    {"TB", 1000ULL * 1000 * 1000 * 1000},
}};

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

// A decimal number "123" or "1.25" split into its integer part and fraction
// (fraction = 25, fraction_scale = 100), plus whatever follows it.
struct Number {
  std::uint64_t whole = 0;
  std::uint64_t fraction = 0;
  std::uint64_t fraction_scale = 1;
  std::string_view rest;
};

// Reads a number from the front of `text`; nullopt when `text` does not start
// with a digit, the integer part overflows, or the fraction has more than 9
// digits or none after the '.'.
std::optional<Number> ReadNumber(std::string_view text) {
  Number n;
  std::size_t i = 0;
  if (text.empty() || !IsDigit(text[0]))
    return std::nullopt;
  for (; i < text.size() && IsDigit(text[i]); ++i) {
    if (__builtin_mul_overflow(n.whole, 10, &n.whole) ||
        __builtin_add_overflow(n.whole, static_cast<std::uint64_t>(text[i] - '0'), &n.whole)) {
      return std::nullopt;
    }
  }
  if (i < text.size() && text[i] == '.') {
    ++i;
    std::size_t digits = 0;
    for (; i < text.size() && IsDigit(text[i]); ++i, ++digits) {
      if (digits == 9)
        return std::nullopt;
      n.fraction = n.fraction * 10 + static_cast<std::uint64_t>(text[i] - '0');
      n.fraction_scale *= 10;
    }
    if (digits == 0)
      return std::nullopt;
  }
  n.rest = text.substr(i);
  // One space between number and unit reads naturally ("256 KiB").
  if (!n.rest.empty() && n.rest.front() == ' ')
    n.rest.remove_prefix(1);
  return n;
}

std::optional<std::uint64_t> SizeUnit(std::string_view name) {
  for (const Unit& u : kSizeUnits) {
    if (u.name == name)
      return u.bytes;
  }
  return std::nullopt;
}

// number * unit as bytes. With `exact`, a fraction that does not come out as
// whole bytes is an error (nullopt); otherwise it is rounded down.
std::optional<std::uint64_t> Scale(const Number& n, std::uint64_t unit, bool exact) {
  Uint128 total = static_cast<Uint128>(n.whole) * unit;
  Uint128 frac = static_cast<Uint128>(n.fraction) * unit;
  if (exact && frac % n.fraction_scale != 0)
    return std::nullopt;
  total += frac / n.fraction_scale;
  if (total > std::numeric_limits<std::uint64_t>::max())
    return std::nullopt;
  return static_cast<std::uint64_t>(total);
}

constexpr std::string_view kDurationHelp =
    R"(expected a duration such as "45s", "90m", "24h", "3d", "2w" or a number of seconds)";
constexpr std::string_view kSizeHelp =
    R"(expected a size such as "256KiB", "1MiB", "1G" or a number of bytes)";
constexpr std::string_view kRateHelp =
    R"(expected a rate such as "150MB/s", "1.5GB/s", "80MiB/s", or "" for no limit)";

Status Invalid(std::string_view help, std::string_view text) {
  return Status::InvalidArgument(fmt::format("{}, got {}", help, QuoteString(text)));
}

}  // namespace

Result<std::int64_t> ParseDuration(std::string_view text) {
  if (text.empty())
    return Invalid(kDurationHelp, text);
  std::uint64_t total = 0;
  std::string_view rest = text;
  bool bare_number = true;
  while (!rest.empty()) {
    std::optional<Number> n = ReadNumber(rest);
    if (!n || n->fraction_scale != 1)
      return Invalid(kDurationHelp, text);
    std::uint64_t unit_s = 0;
    std::string_view after;
    if (n->rest.empty()) {
      // Only a number alone is seconds; "1h30" is a typo, not 1h + 30s.
      if (!bare_number)
        return Invalid(kDurationHelp, text);
      unit_s = 1;
    } else {
      switch (n->rest.front()) {
        case 's':
          unit_s = 1;
          break;
        case 'm':
          unit_s = 60;
          break;
        case 'h':
          unit_s = 3600;
          break;
        case 'd':
          unit_s = 86400;
          break;
        case 'w':
          unit_s = 7 * 86400;
          break;
        default:
          return Invalid(kDurationHelp, text);
      }
      after = n->rest.substr(1);
    }
    bare_number = false;
    std::uint64_t part = 0;
    if (__builtin_mul_overflow(n->whole, unit_s, &part) ||
        __builtin_add_overflow(total, part, &total) ||
        total > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return Status::InvalidArgument(
          fmt::format("expected a duration of at most 2^63 seconds, got {}", QuoteString(text)));
    }
    rest = after;
  }
  return static_cast<std::int64_t>(total);
}

Result<std::uint64_t> ParseSize(std::string_view text) {
  std::optional<Number> n = ReadNumber(text);
  if (!n)
    return Invalid(kSizeHelp, text);
  std::optional<std::uint64_t> unit = SizeUnit(n->rest);
  if (!unit)
    return Invalid(kSizeHelp, text);
  std::optional<std::uint64_t> bytes = Scale(*n, *unit, /*exact=*/true);
  if (!bytes) {
    return Status::InvalidArgument(
        fmt::format("expected a whole number of bytes below 16EiB, got {}", QuoteString(text)));
  }
  return *bytes;
}

Result<std::uint64_t> ParseRate(std::string_view text) {
  if (text.empty())
    return std::uint64_t{0};
  std::string_view body = text;
  if (body.size() >= 2 && body.substr(body.size() - 2) == "/s")
    body.remove_suffix(2);
  std::optional<Number> n = ReadNumber(body);
  if (!n)
    return Invalid(kRateHelp, text);
  std::optional<std::uint64_t> unit = SizeUnit(n->rest);
  if (!unit)
    return Invalid(kRateHelp, text);
  std::optional<std::uint64_t> rate = Scale(*n, *unit, /*exact=*/false);
  if (!rate) {
    return Status::InvalidArgument(
        fmt::format("expected a rate below 16EiB/s, got {}", QuoteString(text)));
  }
  return *rate;
}

}  // namespace atlas
