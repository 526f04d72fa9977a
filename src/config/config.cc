// The configuration parser: TOML text in, a validated Config out.
//
// Approach. toml++ parses the text into a tree in which every key and value
// remembers its line. One pass then walks that tree against kKeys, the list
// of every key atlas-scrub knows, and fills a Config with typed readers
// (ReadString, ReadInt, ReadDuration, ...). Each reader names the key, the
// expected type and the valid range in its message, so a message never has
// to be written twice. Cross-checks that need more than one key (unique disk
// names, nested data paths, smart.ignore naming a configured disk) run as the
// disks are read, remembering where each name and path was first seen so the
// message can point back at it.
//
// Errors. The walk does not stop at the first problem. It records every one
// as (line, message) and returns the one earliest in the file, the way a
// compiler reports. Stopping early would report an arbitrary one: toml++
// keeps tables sorted by key, so the walk does not follow file order. Errors
// with no line (no [[data]] at all) rank after those with one.
//
// Unknown keys are errors, in every table: a typo such as `max_delete` would
// otherwise leave a guard at its default without anyone noticing. The
// message lists the keys the table accepts and, when one is within edit
// distance 2, suggests it.
//
// Rejected: a generic schema of per-key std::function readers (more code
// than the dozen typed readers here, and harder to read), and toml++'s
// at_path() lookups (they cannot tell which keys were left unread).
//
// toml::parse throws toml::parse_error; ParseConfig catches it right there
// and turns it into kInvalidArgument. Nothing else in this file throws.
#include "atlas/config.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "config/text.h"

namespace atlas {
namespace {

namespace fs = std::filesystem;

// Every key the parser accepts, dotted; tables are implied by their keys.
// This list drives KnownConfigKeys(), the unknown-key check and suggestions.
constexpr std::string_view kKeys[] = {
    "manifest",
    "manifest_copies",
    "block_size",
    "exclude",
    "io_threads",
    "read_layout",
    "bandwidth_limit",
    "data.name",
    "data.path",
    "parity.name",
    "parity.path",
    "guards.max_deletes",
    "guards.max_deletes_pct",
    "guards.max_modified",
    "guards.max_modified_pct",
    "guards.exempt",
    "guards.unsynced_warn_after",
    "guards.scrub_overdue_after",
    "scrub.percent",
    "scrub.older_than",
    "smart.devices",
    "smart.skip_standby",
    "smart.ignore",
    "smart.stale_after",
    "smart.temp_limit",
    "smart.temp_check_every",
    "smart.temp_wait_max",
    "smart.scrub_failing",
    "disks.spindown_after_run",
    "outside.media_extensions",
    "outside.trusted_key",
    "outside.atlas_mounts",
    "outside.hosts.name",
    "outside.hosts.command",
    "outside.hosts.timeout",
    "alerts.min_severity",
    "alerts.repeat_after",
    "alerts.healthcheck_url",
    "alerts.timeout",
    "alerts.attempts",
    "alerts.retry_delay",
    "alerts.webhook.url",
    "alerts.webhook.format",
    "alerts.webhook.token_file",
    "alerts.email.smtp_url",
    "alerts.email.from",
    "alerts.email.to",
    "alerts.email.username",
    "alerts.email.password_file",
    "alerts.email.sendmail",
};

// Tables written as arrays of tables ([[data]]) rather than [guards].
constexpr std::string_view kTableArrays[] = {"data", "parity", "alerts.webhook", "alerts.email",
                                             "outside.hosts"};

// SPEC: 1 to 6 parity levels (ISA-L Reed-Solomon, Cauchy rows).
constexpr std::size_t kMaxParity = 6;
// Block size bounds. The lower one is the page size, so O_DIRECT reads and
// parity offsets stay page aligned; the upper one bounds the stripe buffers
// (data disks x parity levels x block size) that sync and fix hold per
// reader. Measured ISA-L encode speed does not depend on it (4 KiB to 1 MiB
// within 2%), so nothing is gained beyond.
constexpr std::uint64_t kMinBlockSize = 4 * 1024;
constexpr std::uint64_t kMaxBlockSize = 16 * 1024 * 1024;
// Far above any useful reader count; it catches a stray extra digit.
constexpr std::int64_t kMaxIoThreads = 1024;
constexpr std::int64_t kMaxInt = std::numeric_limits<std::int64_t>::max();
constexpr std::string_view kWebhookFormats[] = {"json", "ntfy", "gotify", "discord", "slack"};

bool IsTableArray(std::string_view table) {
  return std::find(std::begin(kTableArrays), std::end(kTableArrays), table) !=
         std::end(kTableArrays);
}

// How a table is written in a file: "[guards]", "[[data]]", or the top level.
std::string TableHeader(std::string_view table) {
  if (table.empty())
    return "the top level (before any [table])";
  return IsTableArray(table) ? fmt::format("[[{}]]", table) : fmt::format("[{}]", table);
}

std::string Join(std::string_view prefix, std::string_view name) {
  return prefix.empty() ? std::string(name) : fmt::format("{}.{}", prefix, name);
}

std::string_view LastComponent(std::string_view dotted) {
  std::size_t dot = dotted.rfind('.');
  return dot == std::string_view::npos ? dotted : dotted.substr(dot + 1);
}

std::string_view ParentOf(std::string_view dotted) {
  std::size_t dot = dotted.rfind('.');
  return dot == std::string_view::npos ? std::string_view() : dotted.substr(0, dot);
}

// The names table `table` ("" for the top level) may hold, in kKeys order:
// for "alerts", min_severity, repeat_after, healthcheck_url, webhook, email.
std::vector<std::string_view> ChildrenOf(std::string_view table) {
  std::vector<std::string_view> out;
  for (std::string_view key : kKeys) {
    if (!table.empty()) {
      if (key.size() <= table.size() || key.substr(0, table.size()) != table ||
          key[table.size()] != '.') {
        continue;
      }
      key.remove_prefix(table.size() + 1);
    }
    std::string_view child = key.substr(0, key.find('.'));
    if (std::find(out.begin(), out.end(), child) == out.end())
      out.push_back(child);
  }
  return out;
}

// The closest of `candidates` to `name` within edit distance 2, or "". Very
// short names need a closer match, or "to" would suggest anything.
std::string_view ClosestMatch(std::string_view name,
                              const std::vector<std::string_view>& candidates) {
  std::string_view best;
  std::size_t best_distance = std::min<std::size_t>(2, name.size() > 1 ? name.size() - 1 : 0);
  for (std::string_view c : candidates) {
    std::size_t d = EditDistance(name, c);
    if (d <= best_distance && (best.empty() || d < best_distance)) {
      best = c;
      best_distance = d;
    }
  }
  return best;
}

// What a node holds, for "got ...": strings quoted, numbers and booleans as
// written, anything else by its type.
std::string Got(const toml::node& node) {
  if (const auto* s = node.as_string())
    return QuoteString(s->get());
  if (const auto* i = node.as_integer())
    return std::to_string(i->get());
  if (const auto* f = node.as_floating_point())
    return fmt::format("{}", f->get());
  if (const auto* b = node.as_boolean())
    return b->get() ? "true" : "false";
  if (node.is_array())
    return "an array";
  if (node.is_table())
    return "a table";
  if (node.is_date_time())
    return "a date-time";
  if (node.is_date())
    return "a date";
  if (node.is_time())
    return "a time";
  return "an unknown value";
}

std::uint32_t LineOf(const toml::node& node) {
  return node.source().begin.line;
}

// Disk names appear in findings ("d1:Movies/x.mkv"), in smart.ignore
// entries ("d2:188"), in metric labels and on command lines, so they are
// kept to characters that need no quoting in any of these.
bool IsValidName(std::string_view name) {
  if (name.empty() || name.size() > 32)
    return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
}

// The lexically normal form without a trailing '/': "/mnt//disk1/" is
// "/mnt/disk1". No file system access: symlinks are not resolved.
fs::path NormalPath(std::string_view text) {
  fs::path p = fs::path(std::string(text)).lexically_normal();
  if (!p.has_filename() && p.has_relative_path())
    p = p.parent_path();
  return p;
}

// True when `inner` is `outer` or below it, compared by whole components, so
// "/mnt/disk10" is not within "/mnt/disk1".
bool IsWithin(const fs::path& inner, const fs::path& outer) {
  return std::mismatch(outer.begin(), outer.end(), inner.begin(), inner.end()).first == outer.end();
}

bool HasControlChar(std::string_view text) {
  return std::any_of(text.begin(), text.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

// "scheme://authority/..." split at the first "://"; the authority is empty
// when the text has no "://".
struct UrlParts {
  std::string_view scheme;
  std::string_view authority;  // [userinfo@]host[:port]
  std::string_view query;      // after '?', before '#'
};

UrlParts SplitUrl(std::string_view url) {
  UrlParts parts;
  std::size_t sep = url.find("://");
  if (sep == std::string_view::npos)
    return parts;
  parts.scheme = url.substr(0, sep);
  std::string_view rest = url.substr(sep + 3);
  std::size_t end = rest.find_first_of("/?#");
  parts.authority = rest.substr(0, end);
  std::size_t q = url.find('?');
  if (q != std::string_view::npos) {
    std::string_view query = url.substr(q + 1);
    parts.query = query.substr(0, query.find('#'));
  }
  return parts;
}

// A URL with one of `schemes`, a host, and no whitespace or control
// characters. Deliberately shallow: the alert module reports what curl says.
bool IsUrlWithScheme(std::string_view url, std::initializer_list<std::string_view> schemes) {
  if (HasControlChar(url) || url.find(' ') != std::string_view::npos)
    return false;
  UrlParts parts = SplitUrl(url);
  std::string_view host = parts.authority.substr(parts.authority.rfind('@') + 1);
  if (host.empty() || host.front() == ':')
    return false;
  return std::find(schemes.begin(), schemes.end(), parts.scheme) != schemes.end();
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// How a path key may be set.
enum class PathRule : std::uint8_t {
  kAbsolute,         // must be absolute
  kAbsoluteOrEmpty,  // "" leaves it unset
  kAbsoluteFile,     // absolute and not ending in '/'
};

class ConfigParser {
 public:
  explicit ConfigParser(std::string source) : source_(std::move(source)) {}

  Result<Config> Parse(const toml::table& root);

 private:
  struct Error {
    std::uint32_t line;  // 0 when no line applies
    std::string message;
  };
  // A disk accepted so far, for the uniqueness and nesting checks of the
  // disks after it and for messages that point back at it.
  struct Disk {
    std::string name;
    fs::path path;                // lexically normal
    std::uint32_t name_line = 0;  // where the name was set (its table's line for a default)
    std::uint32_t path_line = 0;
  };

  // Records "<file>:<line>: <key>: <what>" (no line when it is 0).
  void Fail(std::uint32_t line, std::string_view key, std::string_view what);
  void Fail(const toml::node& at, std::string_view key, std::string_view what) {
    Fail(LineOf(at), key, what);
  }

  // Reports every key of `table` that kKeys does not list under `prefix`.
  void CheckKeys(const toml::table& table, std::string_view prefix);
  // The table at dotted `key` below `parent`; nullptr when absent or not a
  // table (reported).
  const toml::table* Table(const toml::table& parent, std::string_view key);
  // The tables of the array of tables at dotted `key`; empty when absent or
  // not an array of tables (reported).
  std::vector<const toml::table*> TableArray(const toml::table& parent, std::string_view key);

  // Typed readers. Each looks up the last component of dotted `key` in
  // `table`, leaves *out as it was when the key is absent, and reports a
  // wrong type or value. Each returns the node it stored from, else nullptr.
  const toml::node* ReadString(const toml::table& table, std::string_view key, std::string* out);
  const toml::node* ReadStrings(const toml::table& table, std::string_view key,
                                std::vector<std::string>* out,
                                std::vector<const toml::node*>* nodes = nullptr);
  const toml::node* ReadBool(const toml::table& table, std::string_view key, bool* out);
  const toml::node* ReadInt(const toml::table& table, std::string_view key, std::int64_t min,
                            std::int64_t max, std::int64_t* out);
  // A number (integer or float) in [min, max], or (min, max] with `above_min`.
  const toml::node* ReadNumber(const toml::table& table, std::string_view key, double min,
                               double max, bool above_min, double* out);
  // A duration string or integer seconds; zero only with `allow_zero`.
  const toml::node* ReadDuration(const toml::table& table, std::string_view key, bool allow_zero,
                                 std::int64_t* out);
  const toml::node* ReadPath(const toml::table& table, std::string_view key, PathRule rule,
                             fs::path* out);
  // Checks one path string; reports and returns false when it breaks `rule`.
  bool CheckPath(const toml::node& at, std::string_view key, std::string_view text, PathRule rule);
  // Reports a required key that `table` lacks; true when it is present.
  bool Require(const toml::table& table, std::string_view key, std::string_view expected);

  void ParseTopLevel(const toml::table& root, Config* config);
  // REQUIRES: the data disks are parsed.
  void CheckManifestPlacement(const Config& config);
  void CheckCopyPlacement(const Config& config);
  void ParseDataDisks(const toml::table& root, Config* config);
  void ParseParity(const toml::table& root, Config* config);
  void ParseGuards(const toml::table& root, Config* config);
  void ParseScrub(const toml::table& root, Config* config);
  void ParseSmartRunKeys(const toml::table& t, SmartConfig* smart);
  void ParseDisks(const toml::table& root, Config* config);
  void ParseSmart(const toml::table& root, Config* config);
  void ParseOutside(const toml::table& root, Config* config);
  void ParseOutsideHost(const toml::table& table, Config* config);
  void ParseAlerts(const toml::table& root, Config* config);
  void ParseWebhook(const toml::table& table, Config* config);
  void ParseEmail(const toml::table& table, Config* config);

  // Reads, checks and claims the `name` of a [[data]] (`is_data`, where it
  // is required) or [[parity]] table (where disk->name holds the positional
  // default). Returns false when something was reported.
  bool ReadDiskName(const toml::table& table, bool is_data, Disk* disk);
  // Claims `name` for a disk; reports it if another disk already has it.
  bool ClaimName(std::string_view name, std::uint32_t line, std::string_view key,
                 std::string_view shown);
  // "d1, d2, parity1": the configured disk names, for messages.
  std::string DiskNames() const;
  std::vector<std::string_view> DiskNameViews() const;

  std::string source_;
  std::vector<Error> errors_;
  std::map<std::string, std::uint32_t> names_;  // disk name -> line it was set on
  std::vector<Disk> data_disks_;
  std::vector<Disk> parity_disks_;
  std::uint32_t manifest_line_ = 0;  // 0 while the manifest is the default
  std::vector<std::uint32_t> copy_lines_;  // line of each accepted manifest_copies entry
};

void ConfigParser::Fail(std::uint32_t line, std::string_view key, std::string_view what) {
  std::string where = line > 0 ? fmt::format("{}:{}", source_, line) : source_;
  errors_.push_back({line, fmt::format("{}: {}: {}", where, key, what)});
}

void ConfigParser::CheckKeys(const toml::table& table, std::string_view prefix) {
  const std::vector<std::string_view> allowed = ChildrenOf(prefix);
  for (auto&& [k, v] : table) {
    std::string_view name = k.str();
    if (std::find(allowed.begin(), allowed.end(), name) != allowed.end())
      continue;
    std::string hint;
    if (std::string_view close = ClosestMatch(name, allowed); !close.empty()) {
      hint = fmt::format(" (did you mean {}?)", QuoteString(close));
    } else {
      // A right key in the wrong table: say where it belongs.
      for (std::string_view known : kKeys) {
        if (LastComponent(known) == name && ParentOf(known) != prefix) {
          hint =
              fmt::format(" ({} belongs in {})", QuoteString(name), TableHeader(ParentOf(known)));
          break;
        }
      }
    }
    std::uint32_t line = k.source().begin.line > 0 ? k.source().begin.line : LineOf(v);
    Fail(line, Join(prefix, QuoteKey(name)),
         fmt::format("unknown key, expected one of {}{}", fmt::join(allowed, ", "), hint));
  }
}

const toml::table* ConfigParser::Table(const toml::table& parent, std::string_view key) {
  const toml::node* node = parent.get(LastComponent(key));
  if (node == nullptr)
    return nullptr;
  if (const toml::table* t = node->as_table())
    return t;
  Fail(*node, key, fmt::format("expected a table {}, got {}", TableHeader(key), Got(*node)));
  return nullptr;
}

std::vector<const toml::table*> ConfigParser::TableArray(const toml::table& parent,
                                                         std::string_view key) {
  std::vector<const toml::table*> out;
  const toml::node* node = parent.get(LastComponent(key));
  if (node == nullptr)
    return out;
  // `[data]` instead of `[[data]]` is the classic slip. It is refused rather
  // than taken as a list of one, so that adding a second disk later does not
  // turn into a confusing "cannot redefine table" from the TOML parser.
  const std::string expected =
      fmt::format("expected {} tables (double brackets)", TableHeader(key));
  const toml::array* array = node->as_array();
  if (array == nullptr) {
    Fail(*node, key, fmt::format("{}, got {}", expected, Got(*node)));
    return out;
  }
  for (const toml::node& element : *array) {
    if (const toml::table* t = element.as_table()) {
      out.push_back(t);
    } else {
      Fail(element, key, fmt::format("{}, got {}", expected, Got(element)));
    }
  }
  return out;
}

const toml::node* ConfigParser::ReadString(const toml::table& table, std::string_view key,
                                           std::string* out) {
  const toml::node* node = table.get(LastComponent(key));
  if (node == nullptr)
    return nullptr;
  if (const auto* s = node->as_string()) {
    *out = s->get();
    return node;
  }
  Fail(*node, key, fmt::format("expected a string, got {}", Got(*node)));
  return nullptr;
}

const toml::node* ConfigParser::ReadStrings(const toml::table& table, std::string_view key,
                                            std::vector<std::string>* out,
                                            std::vector<const toml::node*>* nodes) {
  const toml::node* node = table.get(LastComponent(key));
  if (node == nullptr)
    return nullptr;
  const toml::array* array = node->as_array();
  if (array == nullptr) {
    Fail(*node, key,
         fmt::format(R"(expected an array of strings such as ["a", "b"], got {})", Got(*node)));
    return nullptr;
  }
  // All or nothing: a list with one bad element is reported and the default
  // kept, rather than used with the element dropped.
  std::vector<std::string> values;
  std::vector<const toml::node*> where;
  bool ok = true;
  for (const toml::node& element : *array) {
    if (const auto* s = element.as_string()) {
      values.push_back(s->get());
      where.push_back(&element);
    } else {
      Fail(element, key, fmt::format("expected an array of strings, got {} in it", Got(element)));
      ok = false;
    }
  }
  if (!ok)
    return nullptr;
  *out = std::move(values);
  if (nodes != nullptr)
    *nodes = std::move(where);
  return node;
}

const toml::node* ConfigParser::ReadBool(const toml::table& table, std::string_view key,
                                         bool* out) {
  const toml::node* node = table.get(LastComponent(key));
  if (node == nullptr)
    return nullptr;
  if (const auto* b = node->as_boolean()) {
    *out = b->get();
    return node;
  }
  Fail(*node, key, fmt::format("expected true or false, got {}", Got(*node)));
  return nullptr;
}

const toml::node* ConfigParser::ReadInt(const toml::table& table, std::string_view key,
                                        std::int64_t min, std::int64_t max, std::int64_t* out) {
  const toml::node* node = table.get(LastComponent(key));
  if (node == nullptr)
    return nullptr;
  const auto* i = node->as_integer();
  if (i != nullptr && i->get() >= min && i->get() <= max) {
    *out = i->get();
    return node;
  }
  std::string expected = max == kMaxInt
                             ? fmt::format("expected a whole number of {} or more", min)
                             : fmt::format("expected a whole number from {} to {}", min, max);
  Fail(*node, key, fmt::format("{}, got {}", expected, Got(*node)));
  return nullptr;
}

const toml::node* ConfigParser::ReadNumber(const toml::table& table, std::string_view key,
                                           double min, double max, bool above_min, double* out) {
  const toml::node* node = table.get(LastComponent(key));
  if (node == nullptr)
    return nullptr;
  std::optional<double> value;
  if (const auto* i = node->as_integer())
    value = static_cast<double>(i->get());
  if (const auto* f = node->as_floating_point())
    value = f->get();
  // Written so that NaN fails both comparisons.
  if (value && (above_min ? *value > min : *value >= min) && *value <= max) {
    *out = *value;
    return node;
  }
  std::string expected = above_min
                             ? fmt::format("expected a number above {} and at most {}", min, max)
                             : fmt::format("expected a number from {} to {}", min, max);
  Fail(*node, key, fmt::format("{}, got {}", expected, Got(*node)));
  return nullptr;
}

const toml::node* ConfigParser::ReadDuration(const toml::table& table, std::string_view key,
                                             bool allow_zero, std::int64_t* out) {
  const toml::node* node = table.get(LastComponent(key));
  if (node == nullptr)
    return nullptr;
  // ParseDuration's own message is the most precise for a bad string; wrong
  // types, negative integers and a forbidden zero share the one below.
  std::string_view zero_note = allow_zero ? "" : " above zero";
  std::int64_t seconds = -1;
  if (const auto* s = node->as_string()) {
    Result<std::int64_t> parsed = ParseDuration(s->get());
    if (!parsed.ok()) {
      Fail(*node, key, parsed.status().message());
      return nullptr;
    }
    seconds = *parsed;
  } else if (const auto* i = node->as_integer()) {
    seconds = i->get();
  }
  if (seconds > 0 || (seconds == 0 && allow_zero)) {
    *out = seconds;
    return node;
  }
  Fail(*node, key,
       fmt::format(R"(expected a duration{} such as "3d", "24h", "90m" or a number of seconds, )"
                   "got {}",
                   zero_note, Got(*node)));
  return nullptr;
}

bool ConfigParser::CheckPath(const toml::node& at, std::string_view key, std::string_view text,
                             PathRule rule) {
  if (text.empty() && rule == PathRule::kAbsoluteOrEmpty)
    return true;
  if (text.empty() || text.front() != '/' || text.find('\0') != std::string_view::npos) {
    Fail(
        at, key,
        fmt::format(R"(expected an absolute path (starting with "/"), got {})", QuoteString(text)));
    return false;
  }
  if (rule == PathRule::kAbsoluteFile && text.back() == '/') {
    Fail(at, key,
         fmt::format("expected the path of a file, not a directory (it ends in \"/\"), got {}",
                     QuoteString(text)));
    return false;
  }
  return true;
}

const toml::node* ConfigParser::ReadPath(const toml::table& table, std::string_view key,
                                         PathRule rule, fs::path* out) {
  std::string text;
  const toml::node* node = ReadString(table, key, &text);
  if (node == nullptr || !CheckPath(*node, key, text, rule))
    return nullptr;
  *out = text.empty() ? fs::path() : NormalPath(text);
  return node;
}

bool ConfigParser::Require(const toml::table& table, std::string_view key,
                           std::string_view expected) {
  if (table.get(LastComponent(key)) != nullptr)
    return true;
  Fail(table, key, fmt::format("missing, expected {}", expected));
  return false;
}

bool ConfigParser::ClaimName(std::string_view name, std::uint32_t line, std::string_view key,
                             std::string_view shown) {
  auto [it, inserted] = names_.emplace(std::string(name), line);
  if (inserted)
    return true;
  Fail(line, key,
       fmt::format("{} is already used on line {}, expected a name unique across [[data]] "
                   "and [[parity]]",
                   shown, it->second));
  return false;
}

bool ConfigParser::ReadDiskName(const toml::table& table, bool is_data, Disk* disk) {
  const std::string_view key = is_data ? "data.name" : "parity.name";
  const toml::node* node = table.get("name");
  if (node == nullptr) {
    if (is_data) {
      // No positional default for data disks: findings, the manifest and
      // smart.ignore refer to them by name, and reordering the tables must
      // not rename a disk.
      return Require(table, key, R"(a disk name such as "d1")");
    }
    // The default must be free too: a data disk may be called "parity1".
    return ClaimName(disk->name, disk->name_line, key,
                     fmt::format("{} (the default name of this [[parity]]; set another with "
                                 "name = \"...\")",
                                 QuoteString(disk->name)));
  }
  if (ReadString(table, key, &disk->name) == nullptr)
    return false;
  if (!IsValidName(disk->name)) {
    Fail(*node, key,
         fmt::format("expected 1 to 32 of A-Z a-z 0-9 _ . - such as {}, got {}",
                     is_data ? R"("d1")" : R"("parity1")", QuoteString(disk->name)));
    return false;
  }
  disk->name_line = LineOf(*node);
  return ClaimName(disk->name, disk->name_line, key, QuoteString(disk->name));
}

std::vector<std::string_view> ConfigParser::DiskNameViews() const {
  std::vector<std::string_view> out;
  for (const Disk& d : data_disks_) out.push_back(d.name);
  for (const Disk& d : parity_disks_) out.push_back(d.name);
  return out;
}

std::string ConfigParser::DiskNames() const {
  return fmt::format("{}", fmt::join(DiskNameViews(), ", "));
}

// Paths must be absolute everywhere: atlas-scrub runs from cron and systemd
// with an unpredictable working directory, and a relative data path would
// silently name a different directory there.
void ConfigParser::ParseTopLevel(const toml::table& root, Config* config) {
  if (const toml::node* node = ReadPath(root, "manifest", PathRule::kAbsolute, &config->manifest))
    manifest_line_ = LineOf(*node);

  // A copy that is the manifest itself, or one listed twice, would look like
  // redundancy and give none.
  std::vector<std::string> copies;
  std::vector<const toml::node*> copy_nodes;
  if (ReadStrings(root, "manifest_copies", &copies, &copy_nodes) != nullptr) {
    config->manifest_copies.clear();
    for (std::size_t i = 0; i < copies.size(); ++i) {
      const toml::node& at = *copy_nodes[i];
      if (!CheckPath(at, "manifest_copies", copies[i], PathRule::kAbsolute))
        continue;
      fs::path p = NormalPath(copies[i]);
      if (p == config->manifest) {
        Fail(at, "manifest_copies",
             fmt::format("{} is the manifest itself, expected a directory on another disk",
                         QuoteString(copies[i])));
      } else if (std::find(config->manifest_copies.begin(), config->manifest_copies.end(), p) !=
                 config->manifest_copies.end()) {
        Fail(at, "manifest_copies",
             fmt::format("{} is listed twice, expected distinct directories",
                         QuoteString(copies[i])));
      } else {
        config->manifest_copies.push_back(p);
        copy_lines_.push_back(LineOf(at));
      }
    }
  }

  // A string ("256KiB") or an integer number of bytes; either way one
  // message, since "300KiB" and 300000 fail for the same reason.
  if (const toml::node* node = root.get("block_size")) {
    std::optional<std::uint64_t> bytes;
    if (const auto* s = node->as_string()) {
      if (Result<std::uint64_t> parsed = ParseSize(s->get()); parsed.ok())
        bytes = *parsed;
    } else if (const auto* i = node->as_integer(); i != nullptr && i->get() >= 0) {
      bytes = static_cast<std::uint64_t>(i->get());
    }
    if (bytes && *bytes >= kMinBlockSize && *bytes <= kMaxBlockSize &&
        (*bytes & (*bytes - 1)) == 0) {
      config->block_size = static_cast<std::uint32_t>(*bytes);
    } else {
      Fail(*node, "block_size",
           fmt::format(R"(expected a power of two from 4KiB to 16MiB such as "256KiB", got {})",
                       Got(*node)));
    }
  }

  std::vector<std::string> exclude;
  std::vector<const toml::node*> exclude_nodes;
  if (ReadStrings(root, "exclude", &exclude, &exclude_nodes) != nullptr) {
    // Patterns are matched by the scanner; here only what can never match
    // anything on purpose (empty, control characters) is refused.
    bool ok = true;
    for (std::size_t i = 0; i < exclude.size(); ++i) {
      if (exclude[i].empty() || HasControlChar(exclude[i])) {
        Fail(*exclude_nodes[i], "exclude",
             fmt::format(R"(expected a pattern such as "*.tmp" or "/lost+found/", got {})",
                         QuoteString(exclude[i])));
        ok = false;
      }
    }
    if (ok)
      config->exclude = std::move(exclude);
  }

  std::int64_t threads = 0;
  if (ReadInt(root, "io_threads", 0, kMaxIoThreads, &threads) != nullptr) {
    config->io_threads = static_cast<int>(threads);
  }

  std::string layout;
  if (const toml::node* node = ReadString(root, "read_layout", &layout)) {
    bool known = false;
    for (ReadLayout l : {ReadLayout::kAuto, ReadLayout::kPerDisk, ReadLayout::kWholeStripes}) {
      if (layout == ReadLayoutName(l)) {
        config->read_layout = l;
        known = true;
      }
    }
    if (!known) {
      Fail(*node, "read_layout",
           fmt::format(R"(expected "auto", "per-disk" or "whole-stripes", got {})", QuoteString(layout)));
    }
  }

  // A rate string, or an integer number of bytes per second.
  if (const toml::node* node = root.get("bandwidth_limit")) {
    if (const auto* s = node->as_string()) {
      Result<std::uint64_t> rate = ParseRate(s->get());
      if (rate.ok()) {
        config->bandwidth_limit = *rate;
      } else {
        Fail(*node, "bandwidth_limit", rate.status().message());
      }
    } else if (const auto* i = node->as_integer(); i != nullptr && i->get() >= 0) {
      config->bandwidth_limit = static_cast<std::uint64_t>(i->get());  // bytes per second
    } else {
      Fail(*node, "bandwidth_limit",
           fmt::format(R"(expected a rate such as "150MB/s", or "" for no limit, got {})",
                       Got(*node)));
    }
  }
}

// The live manifest may not sit on a data disk: it changes on every run, so
// the scanner would see it as drift, and parity would protect a database
// that is being rewritten under it. Its copies (manifest_copies) are meant
// for the data disks and are excluded from scans.
void ConfigParser::CheckManifestPlacement(const Config& config) {
  for (const Disk& disk : data_disks_) {
    if (!IsWithin(config.manifest, disk.path))
      continue;
    Fail(manifest_line_, "manifest",
         fmt::format("{} is inside data disk {} ({}, line {}), expected a path off the data "
                     "disks (copies go in manifest_copies)",
                     QuoteString(config.manifest.string()), disk.name,
                     QuoteString(disk.path.string()), disk.path_line));
    return;
  }
}

// A copy directory is written by root and pruned by RocksDB's backup engine,
// which deletes what it takes for its own old files; at a data disk's root
// (or above one) its "manifest" subdirectory is a name users may already
// use, and the array's own files would sit in it. It needs a directory of
// its own on the disk.
void ConfigParser::CheckCopyPlacement(const Config& config) {
  for (std::size_t i = 0; i < config.manifest_copies.size(); ++i) {
    const fs::path& copy = config.manifest_copies[i];
    for (const Disk& disk : data_disks_) {
      if (!IsWithin(disk.path, copy))
        continue;
      Fail(i < copy_lines_.size() ? copy_lines_[i] : 0, "manifest_copies",
           fmt::format("{} is {} data disk {} ({}, line {}); manifest_copies must be a directory "
                       "of its own such as {}, not the data disk root",
                       QuoteString(copy.string()), copy == disk.path ? "the root of" : "above",
                       disk.name, QuoteString(disk.path.string()), disk.path_line,
                       QuoteString((disk.path / ".atlas-scrub").string())));
      break;
    }
  }
}

void ConfigParser::ParseDataDisks(const toml::table& root, Config* config) {
  for (const toml::table* t : TableArray(root, "data")) {
    CheckKeys(*t, "data");
    Disk disk{"", {}, LineOf(*t), LineOf(*t)};
    bool ok = ReadDiskName(*t, /*is_data=*/true, &disk);
    // Overlapping data disks would put one file in two disks: scanned twice,
    // counted twice in parity, and restored by `fix --disk` onto the wrong
    // one. Disks on one filesystem but in separate directories are fine
    // (the scanner reports them as shared_filesystem).
    if (Require(*t, "data.path", R"(the disk's mount path such as "/mnt/disk1")")) {
      const toml::node* node = ReadPath(*t, "data.path", PathRule::kAbsolute, &disk.path);
      if (node == nullptr) {
        ok = false;
      } else {
        disk.path_line = LineOf(*node);
        for (const Disk& other : data_disks_) {
          std::string what;
          if (disk.path == other.path) {
            what = "is also the path of";
          } else if (IsWithin(disk.path, other.path)) {
            what = "is inside";
          } else if (IsWithin(other.path, disk.path)) {
            what = "contains";
          } else {
            continue;
          }
          Fail(*node, "data.path",
               fmt::format("{} {} data disk {} ({}, line {}), expected data disks that do not "
                           "overlap",
                           QuoteString(disk.path.string()), what, other.name,
                           QuoteString(other.path.string()), other.path_line));
          ok = false;
          break;
        }
      }
    } else {
      ok = false;
    }
    // A disk with a bad name or path is left out; its error is reported.
    if (ok) {
      config->data.push_back({disk.name, disk.path});
      data_disks_.push_back(std::move(disk));
    }
  }
  if (root.get("data") == nullptr) {
    Fail(0, "data",
         R"(no [[data]] table, expected at least one with name = "d1" and path = "/mnt/disk1")");
  }
}

void ConfigParser::ParseParity(const toml::table& root, Config* config) {
  std::vector<const toml::table*> tables = TableArray(root, "parity");
  if (root.get("parity") == nullptr) {
    Fail(0, "parity",
         "no [[parity]] table, expected 1 to 6 with path = \"/mnt/parity1/atlas.parity\"");
  }
  for (std::size_t index = 0; index < tables.size(); ++index) {
    const toml::table& t = *tables[index];
    if (index == kMaxParity) {
      Fail(t, "parity",
           fmt::format("{} [[parity]] tables, expected 1 to {} parity levels", tables.size(),
                       kMaxParity));
      break;
    }
    CheckKeys(t, "parity");
    // SPEC makes the name optional; the default follows the table's position.
    Disk disk{fmt::format("parity{}", index + 1), {}, LineOf(t), LineOf(t)};
    bool ok = ReadDiskName(t, /*is_data=*/false, &disk);
    // The path is a file, never a directory: one parity file per level. It
    // may sit on a data disk (the scanner skips it), but may not be a data
    // disk's mount point, and two levels sharing a file would overwrite each
    // other's parity.
    if (Require(t, "parity.path",
                R"(the parity file's path such as "/mnt/parity1/atlas.parity")")) {
      const toml::node* node = ReadPath(t, "parity.path", PathRule::kAbsoluteFile, &disk.path);
      if (node == nullptr) {
        ok = false;
      } else {
        disk.path_line = LineOf(*node);
        for (const Disk& d : data_disks_) {
          if (d.path == disk.path) {
            Fail(*node, "parity.path",
                 fmt::format("{} is the path of data disk {} (line {}), expected the path of a "
                             "parity file",
                             QuoteString(disk.path.string()), d.name, d.path_line));
            ok = false;
          }
        }
        for (const Disk& p : parity_disks_) {
          if (p.path == disk.path) {
            Fail(*node, "parity.path",
                 fmt::format("{} is also the file of {} (line {}), expected one file per parity "
                             "level",
                             QuoteString(disk.path.string()), p.name, p.path_line));
            ok = false;
          }
        }
      }
    } else {
      ok = false;
    }
    if (ok) {
      config->parity.push_back({disk.name, disk.path});
      parity_disks_.push_back(std::move(disk));
    }
  }
}

// Guard ages must be above zero: 0 would raise `unsynced` or `scrub_overdue`
// on every run, which is noise rather than a setting. To quiet a warning, a
// long age ("1000d") says so explicitly. max_deletes = 0 is meaningful
// (refuse any deletion without --force-delete) and allowed.
void ConfigParser::ParseGuards(const toml::table& root, Config* config) {
  const toml::table* t = Table(root, "guards");
  if (t == nullptr)
    return;
  CheckKeys(*t, "guards");
  GuardsConfig& g = config->guards;
  std::int64_t max_deletes = 0;
  if (ReadInt(*t, "guards.max_deletes", 0, kMaxInt, &max_deletes) != nullptr) {
    g.max_deletes = static_cast<std::uint64_t>(max_deletes);
  }
  ReadNumber(*t, "guards.max_deletes_pct", 0, 100, /*above_min=*/false, &g.max_deletes_pct);
  std::int64_t max_modified = 0;
  if (ReadInt(*t, "guards.max_modified", 0, kMaxInt, &max_modified) != nullptr) {
    g.max_modified = static_cast<std::uint64_t>(max_modified);
  }
  ReadNumber(*t, "guards.max_modified_pct", 0, 100, /*above_min=*/false, &g.max_modified_pct);
  std::vector<std::string> exempt;
  std::vector<const toml::node*> exempt_nodes;
  if (ReadStrings(*t, "guards.exempt", &exempt, &exempt_nodes) != nullptr) {
    // The same pattern rules as `exclude`; a pattern that would exempt the
    // whole array ("*", "/") turns every guard off and is refused.
    bool ok = true;
    for (std::size_t i = 0; i < exempt.size(); ++i) {
      const std::string& e = exempt[i];
      if (e.empty() || HasControlChar(e) || e == "/" || e == "*" || e == "/*" || e == "*/" || e == "/*/") {
        Fail(*exempt_nodes[i], "guards.exempt",
             fmt::format(R"(expected a pattern such as "/Downloads/" or "*.part", got {})", QuoteString(e)));
        ok = false;
      }
    }
    if (ok)
      g.exempt = std::move(exempt);
  }
  ReadDuration(*t, "guards.unsynced_warn_after", /*allow_zero=*/false, &g.unsynced_warn_after_s);
  ReadDuration(*t, "guards.scrub_overdue_after", /*allow_zero=*/false, &g.scrub_overdue_after_s);
}

// percent = 0 would make every scrub a no-op that still reports success,
// so the range is (0, 100]. older_than = 0 means "any block", a real choice.
void ConfigParser::ParseScrub(const toml::table& root, Config* config) {
  const toml::table* t = Table(root, "scrub");
  if (t == nullptr)
    return;
  CheckKeys(*t, "scrub");
  ReadNumber(*t, "scrub.percent", 0, 100, /*above_min=*/true, &config->scrub.percent);
  ReadDuration(*t, "scrub.older_than", /*allow_zero=*/true, &config->scrub.older_than_s);
}

// REQUIRES: the disks are parsed, so device names and ignore entries can be
// checked against them. A name that matches no disk is an error rather than
// ignored: a typo there would leave a disk unmonitored without a word.
void ConfigParser::ParseSmart(const toml::table& root, Config* config) {
  const toml::table* t = Table(root, "smart");
  if (t == nullptr)
    return;
  CheckKeys(*t, "smart");
  SmartConfig& smart = config->smart;

  if (const toml::node* node = t->get("devices")) {
    const toml::table* devices = node->as_table();
    const auto* text = node->as_string();
    if (text != nullptr && text->get() == "auto") {
      smart.devices_auto = true;
    } else if (devices == nullptr) {
      Fail(*node, "smart.devices",
           fmt::format(R"(expected "auto" or a table of disk name = device node such as )"
                       R"({{ d1 = "/dev/sdb" }}, got {})",
                       Got(*node)));
    } else {
      smart.devices_auto = false;
      for (auto&& [k, v] : *devices) {
        std::string name(k.str());
        std::string key = fmt::format("smart.devices.{}", QuoteKey(name));
        std::uint32_t line = k.source().begin.line > 0 ? k.source().begin.line : LineOf(v);
        std::vector<std::string_view> disks = DiskNameViews();
        if (std::find(disks.begin(), disks.end(), name) == disks.end()) {
          std::string_view close = ClosestMatch(name, disks);
          Fail(line, key,
               fmt::format("{} is not a configured disk, expected one of {}{}", QuoteString(name),
                           DiskNames(),
                           close.empty() ? std::string()
                                         : fmt::format(" (did you mean {}?)", QuoteString(close))));
          continue;
        }
        const auto* device = v.as_string();
        if (device == nullptr || device->get().empty() || device->get().front() != '/') {
          Fail(v, key,
               fmt::format(R"(expected a device node such as "/dev/sdb" or "/dev/disk/by-id/...", )"
                           "got {}",
                           Got(v)));
          continue;
        }
        // Two disks on one device node is a copy-paste slip that would
        // report one drive's health under two names and none for the other.
        auto same = std::find_if(smart.devices.begin(), smart.devices.end(),
                                 [&](const auto& entry) { return entry.second == device->get(); });
        if (same != smart.devices.end()) {
          Fail(v, key,
               fmt::format("{} is also the device of {}, expected one device per disk",
                           QuoteString(device->get()), same->first));
          continue;
        }
        smart.devices[name] = device->get();
      }
    }
  }

  ReadBool(*t, "smart.skip_standby", &smart.skip_standby);

  std::vector<std::string> ignore;
  std::vector<const toml::node*> ignore_nodes;
  if (ReadStrings(*t, "smart.ignore", &ignore, &ignore_nodes) != nullptr) {
    std::vector<std::string_view> disks = DiskNameViews();
    bool ok = true;
    for (std::size_t i = 0; i < ignore.size(); ++i) {
      std::string_view entry = ignore[i];
      std::size_t colon = entry.rfind(':');
      std::string_view disk = colon == std::string_view::npos ? entry : entry.substr(0, colon);
      std::string_view id = colon == std::string_view::npos ? "" : entry.substr(colon + 1);
      // ATA attribute IDs are one byte, and 0 marks an unused slot.
      int id_value = 0;
      bool id_ok = !id.empty() && id.size() <= 3 &&
                   std::all_of(id.begin(), id.end(), [](char c) { return c >= '0' && c <= '9'; });
      if (id_ok) {
        for (char c : id) id_value = id_value * 10 + (c - '0');
        id_ok = id_value >= 1 && id_value <= 255;
      }
      // NVMe and SCSI values have names instead of numbers (atlas/smart.h).
      for (std::string_view named : {"critical_warning", "available_spare", "percentage_used",
                                     "media_errors", "grown_defects", "uncorrected_errors"}) {
        id_ok = id_ok || id == named;
      }
      bool disk_ok = std::find(disks.begin(), disks.end(), disk) != disks.end();
      if (!id_ok || !disk_ok) {
        std::string_view problem = !id_ok ? "is not DISK:ID" : "names no configured disk";
        Fail(*ignore_nodes[i], "smart.ignore",
             fmt::format(R"({} {}, expected "DISK:ID" such as "d2:188" with DISK one of {} )"
                         "and ID an attribute number from 1 to 255 or an NVMe/SCSI value name such as media_errors",
                         QuoteString(entry), problem, DiskNames()));
        ok = false;
      }
    }
    if (ok)
      smart.ignore = std::move(ignore);
  }
  ParseSmartRunKeys(*t, &smart);
}

// What every run does with SMART: how old a reading may be, the
// temperature limit, and what scrub does with a failing disk.
void ConfigParser::ParseSmartRunKeys(const toml::table& t, SmartConfig* smart) {
  ReadDuration(t, "smart.stale_after", /*allow_zero=*/false, &smart->stale_after_s);
  // 0 is off; a limit below 30 C would hold a disk at room temperature, and
  // drives are specified to 60-70 C at most.
  std::int64_t limit = smart->temp_limit_c;
  if (const toml::node* node = ReadInt(t, "smart.temp_limit", 0, 90, &limit)) {
    if (limit != 0 && limit < 30) {
      Fail(*node, "smart.temp_limit",
           fmt::format("expected 0 (no limit) or degrees Celsius from 30 to 90, got {}", limit));
    } else {
      smart->temp_limit_c = limit;
    }
  }
  ReadDuration(t, "smart.temp_check_every", /*allow_zero=*/true, &smart->temp_check_every_s);
  ReadDuration(t, "smart.temp_wait_max", /*allow_zero=*/true, &smart->temp_wait_max_s);
  std::string failing;
  if (const toml::node* node = ReadString(t, "smart.scrub_failing", &failing)) {
    if (failing == "skip" || failing == "read") {
      smart->scrub_reads_failing = failing == "read";
    } else {
      Fail(*node, "smart.scrub_failing", fmt::format(R"(expected "skip" or "read", got {})", QuoteString(failing)));
    }
  }
}

void ConfigParser::ParseDisks(const toml::table& root, Config* config) {
  const toml::table* t = Table(root, "disks");
  if (t == nullptr)
    return;
  CheckKeys(*t, "disks");
  ReadBool(*t, "disks.spindown_after_run", &config->disks.spindown_after_run);
}

void ConfigParser::ParseOutside(const toml::table& root, Config* config) {
  const toml::table* t = Table(root, "outside");
  if (t == nullptr)
    return;
  CheckKeys(*t, "outside");
  // The form only (prefix, length, alphabet); outside decodes it. Empty:
  // no key.
  std::string key;
  if (const toml::node* node = ReadString(*t, "outside.trusted_key", &key)) {
    const std::string_view b64 = std::string_view(key).substr(std::min<std::size_t>(key.size(), 8));
    const bool valid = key.starts_with("ed25519:") && b64.size() == 44 && b64.ends_with("=") &&
                       std::all_of(b64.begin(), b64.end() - 1, [](char c) {
                         return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/';
                       });
    if (valid || key.empty()) {
      config->outside.trusted_key = key;
    } else {
      Fail(*node, "outside.trusted_key",
           fmt::format(R"(expected "ed25519:" and 44 base64 characters, as `atlas-scrub outside )"
                       R"(--print-key` prints it on Atlas, got {})",
                       QuoteString(key)));
    }
  }
  std::vector<std::string> mounts;
  std::vector<const toml::node*> mount_nodes;
  if (ReadStrings(*t, "outside.atlas_mounts", &mounts, &mount_nodes) != nullptr) {
    for (std::size_t i = 0; i < mounts.size(); ++i) {
      if (CheckPath(*mount_nodes[i], "outside.atlas_mounts", mounts[i], PathRule::kAbsolute))
        config->outside.atlas_mounts.push_back(NormalPath(mounts[i]));
    }
  }
  for (const toml::table* host : TableArray(*t, "outside.hosts")) ParseOutsideHost(*host, config);
  std::vector<std::string> raw;
  std::vector<const toml::node*> nodes;
  if (ReadStrings(*t, "outside.media_extensions", &raw, &nodes) == nullptr)
    return;
  std::vector<std::string> extensions;
  bool ok = true;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    // ".MKV" and "mkv" mean the same: matching is on the lower-case suffix.
    std::string_view ext = raw[i];
    while (!ext.empty() && ext.front() == '.') ext.remove_prefix(1);
    bool valid = !ext.empty() && std::all_of(ext.begin(), ext.end(), [](char c) {
      return c != '.' && c != '/' && c != ' ' && static_cast<unsigned char>(c) >= 0x20 && c != 0x7f;
    });
    if (!valid) {
      Fail(*nodes[i], "outside.media_extensions",
           fmt::format(R"(expected a file extension without dots such as "mkv", got {})",
                       QuoteString(raw[i])));
      ok = false;
      continue;
    }
    // Duplicates are dropped quietly: ["mkv", "MKV"] is not a mistake worth
    // refusing a config over.
    std::string lower = Lower(ext);
    if (std::find(extensions.begin(), extensions.end(), lower) == extensions.end()) {
      extensions.push_back(std::move(lower));
    }
  }
  if (ok)
    config->outside.media_extensions = std::move(extensions);
}

// A host with a bad part is left out whole (its error is reported), like a
// webhook. The name goes into the manifest, status, metrics labels and
// findings, hence the short, plain alphabet.
void ConfigParser::ParseOutsideHost(const toml::table& t, Config* config) {
  CheckKeys(t, "outside.hosts");
  OutsideHostConfig host;
  bool ok = Require(t, "outside.hosts.name", R"(a short name for the host such as "prometheus")");
  ok = Require(t, "outside.hosts.command",
               R"(the command to run as an array such as ["ssh", "-T", "scan@host", "atlas-scrub", )"
               R"("outside", "--json", "--index", "-", "/srv/media"])") &&
       ok;
  if (const toml::node* node = ReadString(t, "outside.hosts.name", &host.name)) {
    const bool plain = !host.name.empty() && host.name.size() <= 32 &&
                       std::all_of(host.name.begin(), host.name.end(), [](char c) {
                         return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' ||
                                c == '-';
                       });
    if (!plain) {
      Fail(*node, "outside.hosts.name",
           fmt::format("expected 1 to 32 of the characters A-Z a-z 0-9 _ . -, got {}",
                       QuoteString(host.name)));
      ok = false;
    }
    for (const OutsideHostConfig& other : config->outside.hosts) {
      if (ok && other.name == host.name) {
        Fail(*node, "outside.hosts.name",
             fmt::format("another [[outside.hosts]] is already named {}; each needs its own name",
                         QuoteString(host.name)));
        ok = false;
      }
    }
  } else {
    ok = false;
  }
  if (const toml::node* node = ReadStrings(t, "outside.hosts.command", &host.command, nullptr)) {
    const bool has_nul = std::any_of(host.command.begin(), host.command.end(), [](const std::string& a) {
      return a.find('\0') != std::string::npos;
    });
    if (host.command.empty() || host.command.front().empty() || has_nul) {
      Fail(*node, "outside.hosts.command",
           "expected a non-empty array of strings, the program first (it is run without a shell), "
           R"(such as ["ssh", "-T", "scan@host", "atlas-scrub", "outside", "--json", "--index", "-", )"
           R"("/srv/media"])");
      ok = false;
    }
  } else {
    ok = false;
  }
  if (t.get("timeout") != nullptr) {
    const toml::node* node = ReadDuration(t, "outside.hosts.timeout", /*allow_zero=*/false, &host.timeout_s);
    if (node == nullptr) {
      ok = false;
    } else if (host.timeout_s > kOutsideHostMaxTimeoutS) {
      Fail(*node, "outside.hosts.timeout",
           fmt::format(R"(expected a duration from 1 second to 7 days such as "2h", got {} seconds)",
                       host.timeout_s));
      ok = false;
    }
  }
  if (ok)
    config->outside.hosts.push_back(std::move(host));
}

// A webhook with a bad part is left out whole (its error is reported), so a
// half-configured channel is never used.
void ConfigParser::ParseWebhook(const toml::table& t, Config* config) {
  CheckKeys(t, "alerts.webhook");
  WebhookConfig hook;
  bool ok =
      Require(t, "alerts.webhook.url", R"(the URL to post to such as "https://ntfy.sh/atlas")");
  if (const toml::node* node = ReadString(t, "alerts.webhook.url", &hook.url)) {
    if (!IsUrlWithScheme(hook.url, {"http", "https"})) {
      Fail(*node, "alerts.webhook.url",
           fmt::format("expected an http:// or https:// URL, got {}", QuoteString(hook.url)));
      ok = false;
    }
  } else {
    ok = false;
  }
  if (const toml::node* node = ReadString(t, "alerts.webhook.format", &hook.format)) {
    if (std::find(std::begin(kWebhookFormats), std::end(kWebhookFormats), hook.format) ==
        std::end(kWebhookFormats)) {
      Fail(*node, "alerts.webhook.format",
           fmt::format("expected one of {}, got {}", fmt::join(kWebhookFormats, ", "),
                       QuoteString(hook.format)));
      ok = false;
    }
  } else if (t.get("format") != nullptr) {
    ok = false;
  }
  if (t.get("token_file") != nullptr &&
      ReadPath(t, "alerts.webhook.token_file", PathRule::kAbsoluteOrEmpty, &hook.token_file) ==
          nullptr) {
    ok = false;
  }
  if (ok)
    config->alerts.webhooks.push_back(std::move(hook));
}

// Exactly one transport per [[alerts.email]]: with both smtp_url and
// sendmail set it is unclear which one the user tested, and a route that
// silently prefers one hides a broken other. Addresses may be local ("root"
// through sendmail), so only emptiness and control characters are refused.
void ConfigParser::ParseEmail(const toml::table& t, Config* config) {
  CheckKeys(t, "alerts.email");
  EmailConfig email;
  bool ok = true;
  const toml::node* smtp = ReadString(t, "alerts.email.smtp_url", &email.smtp_url);
  if (smtp != nullptr && !email.smtp_url.empty() &&
      !IsUrlWithScheme(email.smtp_url, {"smtp", "smtps"})) {
    Fail(*smtp, "alerts.email.smtp_url",
         fmt::format(R"(expected an smtp:// (STARTTLS when offered) or smtps:// (implicit TLS) )"
                     "URL such as \"smtp://mail.example:587\", got {}",
                     QuoteString(email.smtp_url)));
    ok = false;
  }
  const toml::node* sendmail =
      ReadPath(t, "alerts.email.sendmail", PathRule::kAbsoluteOrEmpty, &email.sendmail);
  if (t.get("smtp_url") != nullptr && smtp == nullptr)
    ok = false;
  if (t.get("sendmail") != nullptr && sendmail == nullptr)
    ok = false;
  if (ok && !email.smtp_url.empty() && !email.sendmail.empty()) {
    Fail(*sendmail, "alerts.email.sendmail",
         fmt::format("set together with smtp_url (line {}), expected only one of them",
                     LineOf(*smtp)));
    ok = false;
  } else if (ok && email.smtp_url.empty() && email.sendmail.empty()) {
    Fail(t, "alerts.email",
         R"(neither smtp_url nor sendmail is set, expected smtp_url = "smtp://mail.example:587" )"
         R"(or sendmail = "/usr/sbin/sendmail")");
    ok = false;
  }

  if (Require(t, "alerts.email.from", R"(the sender address such as "atlas@example")")) {
    const toml::node* node = ReadString(t, "alerts.email.from", &email.from);
    if (node == nullptr) {
      ok = false;
    } else if (email.from.empty() || HasControlChar(email.from)) {
      Fail(*node, "alerts.email.from",
           fmt::format(R"(expected a sender address such as "atlas@example", got {})",
                       QuoteString(email.from)));
      ok = false;
    }
  } else {
    ok = false;
  }

  std::vector<const toml::node*> to_nodes;
  if (Require(t, "alerts.email.to", R"(the recipients such as ["me@example"])")) {
    const toml::node* node = ReadStrings(t, "alerts.email.to", &email.to, &to_nodes);
    if (node == nullptr) {
      ok = false;
    } else if (email.to.empty()) {
      Fail(*node, "alerts.email.to",
           R"(expected at least one recipient such as ["me@example"], got an empty array)");
      ok = false;
    }
    for (std::size_t i = 0; i < to_nodes.size(); ++i) {
      // A newline in an address would let the file inject mail headers.
      if (email.to[i].empty() || HasControlChar(email.to[i])) {
        Fail(*to_nodes[i], "alerts.email.to",
             fmt::format(R"(expected a recipient address such as "me@example", got {})",
                         QuoteString(email.to[i])));
        ok = false;
      }
    }
  } else {
    ok = false;
  }

  if (t.get("username") != nullptr &&
      ReadString(t, "alerts.email.username", &email.username) == nullptr) {
    ok = false;
  }
  if (t.get("password_file") != nullptr &&
      ReadPath(t, "alerts.email.password_file", PathRule::kAbsoluteOrEmpty, &email.password_file) ==
          nullptr) {
    ok = false;
  }
  if (ok)
    config->alerts.emails.push_back(std::move(email));
}

// REQUIRES: nothing else; alert channels do not refer to disks.
void ConfigParser::ParseAlerts(const toml::table& root, Config* config) {
  const toml::table* t = Table(root, "alerts");
  if (t == nullptr)
    return;
  CheckKeys(*t, "alerts");
  AlertsConfig& alerts = config->alerts;

  std::string severity;
  if (const toml::node* node = ReadString(*t, "alerts.min_severity", &severity)) {
    if (severity == "info") {
      alerts.min_severity = Severity::kInfo;
    } else if (severity == "warning") {
      alerts.min_severity = Severity::kWarning;
    } else if (severity == "critical") {
      alerts.min_severity = Severity::kCritical;
    } else {
      Fail(*node, "alerts.min_severity",
           fmt::format("expected one of info, warning, critical, got {}", QuoteString(severity)));
    }
  }
  ReadDuration(*t, "alerts.repeat_after", /*allow_zero=*/true, &alerts.repeat_after_s);

  std::string url;
  if (const toml::node* node = ReadString(*t, "alerts.healthcheck_url", &url)) {
    if (url.empty() || IsUrlWithScheme(url, {"http", "https"})) {
      // Stored without a trailing '/', so "/start" and "/0" can be appended.
      while (!url.empty() && url.back() == '/') url.pop_back();
      alerts.healthcheck_url = url;
    } else {
      Fail(*node, "alerts.healthcheck_url",
           fmt::format(
               R"(expected an http:// or https:// URL such as "https://hc-ping.com/<uuid>", )"
               R"(or "" for none, got {})",
               QuoteString(url)));
    }
  }

  // Delivery: a timeout of at most 10 minutes keeps a dead receiver from
  // holding a cron run for long; attempts are bounded for the same reason.
  std::int64_t timeout_s = alerts.timeout_s;
  if (const toml::node* node = ReadDuration(*t, "alerts.timeout", /*allow_zero=*/false, &timeout_s)) {
    if (timeout_s > 600) {
      Fail(*node, "alerts.timeout",
           fmt::format(R"(expected a duration from "1s" to "10m", got {})", Got(*node)));
    } else {
      alerts.timeout_s = timeout_s;
    }
  }
  std::int64_t attempts = alerts.attempts;
  if (ReadInt(*t, "alerts.attempts", 1, 10, &attempts) != nullptr) alerts.attempts = static_cast<int>(attempts);
  std::int64_t delay_s = alerts.retry_delay_s;
  if (const toml::node* node = ReadDuration(*t, "alerts.retry_delay", /*allow_zero=*/true, &delay_s)) {
    if (delay_s > 600) {
      Fail(*node, "alerts.retry_delay",
           fmt::format(R"(expected a duration from "0s" to "10m", got {})", Got(*node)));
    } else {
      alerts.retry_delay_s = delay_s;
    }
  }

  for (const toml::table* hook : TableArray(*t, "alerts.webhook")) ParseWebhook(*hook, config);
  for (const toml::table* email : TableArray(*t, "alerts.email")) ParseEmail(*email, config);
}

// Order matters only where later tables refer to earlier ones: [smart]
// names disks, so the disks come first. Every part runs even after an
// error, so the earliest error in the file can be picked.
Result<Config> ConfigParser::Parse(const toml::table& root) {
  Config config;
  CheckKeys(root, "");
  ParseTopLevel(root, &config);
  ParseDataDisks(root, &config);
  CheckManifestPlacement(config);
  CheckCopyPlacement(config);
  ParseParity(root, &config);
  ParseGuards(root, &config);
  ParseScrub(root, &config);
  ParseSmart(root, &config);
  ParseDisks(root, &config);
  ParseOutside(root, &config);
  ParseAlerts(root, &config);
  if (errors_.empty())
    return config;
  // The earliest line wins; errors with no line rank last.
  auto rank = [](const Error& e) {
    return e.line > 0 ? e.line : std::numeric_limits<std::uint32_t>::max();
  };
  auto first = std::min_element(errors_.begin(), errors_.end(),
                                [&](const Error& a, const Error& b) { return rank(a) < rank(b); });
  return Status::InvalidArgument(first->message);
}

// True when a URL carries a password or a token-like query parameter. This
// is a heuristic for a warning, not a guarantee: it errs towards warning
// for names that usually carry credentials, and cannot see a secret
// hidden in a path segment (which is why discord and slack hooks, whose
// token is in the path, are counted by format in KeysHoldingSecrets).
bool UrlHoldsSecret(std::string_view url) {
  UrlParts parts = SplitUrl(url);
  std::size_t at = parts.authority.rfind('@');
  if (at != std::string_view::npos &&
      parts.authority.substr(0, at).find(':') != std::string_view::npos) {
    return true;
  }
  constexpr std::string_view kSecretParams[] = {"token", "access_token", "apikey",   "api_key",
                                                "key",   "auth",         "password", "secret"};
  std::string_view query = parts.query;
  while (!query.empty()) {
    std::string_view param = query.substr(0, query.find('&'));
    query.remove_prefix(std::min(query.size(), param.size() + 1));
    std::string name = Lower(param.substr(0, param.find('=')));
    if (std::find(std::begin(kSecretParams), std::end(kSecretParams), name) !=
        std::end(kSecretParams)) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::string_view ReadLayoutName(ReadLayout layout) {
  switch (layout) {
    case ReadLayout::kAuto:
      return "auto";
    case ReadLayout::kPerDisk:
      return "per-disk";
    case ReadLayout::kWholeStripes:
      return "whole-stripes";
  }
  return "auto";
}

const std::vector<std::string>& KnownConfigKeys() {
  static const std::vector<std::string> kList(std::begin(kKeys), std::end(kKeys));
  return kList;
}

Result<Config> ParseConfig(std::string_view text, const std::filesystem::path& source) {
  const std::string name = source.string();
  toml::table root;
  try {
    root = toml::parse(text, std::string_view(name));
  } catch (const toml::parse_error& e) {
    const toml::source_position& at = e.source().begin;
    return Status::InvalidArgument(
        fmt::format("{}:{}:{}: TOML syntax error: {}", name, at.line, at.column, e.description()));
  }
  ConfigParser parser(name);
  Result<Config> config = parser.Parse(root);
  if (config.ok())
    config->source = source;
  return config;
}

// ATLAS_SCRUB_CONFIG and -c are resolved by the CLI (the library never
// reads the environment); this only reads the path it is given.
Result<Config> LoadConfig(FileSystem* fs, const std::filesystem::path& path) {
  Result<std::string> text = fs->ReadFile(path);
  if (!text.ok()) {
    if (text.status().code() == Code::kNotFound) {
      return Status::NotFound(
          fmt::format("config file {} not found; create one with `atlas-scrub init --data PATH... "
                      "--parity PATH...` or pass -c PATH",
                      path.string()));
    }
    return Status::IOError(
        fmt::format("cannot read config file {}: {}", path.string(), text.status().message()),
        text.status().sys_errno());
  }
  return ParseConfig(*text, path);
}

std::vector<std::string> KeysHoldingSecrets(const Config& config) {
  std::vector<std::string> keys;
  auto add = [&keys](std::string key) {
    if (std::find(keys.begin(), keys.end(), key) == keys.end())
      keys.push_back(std::move(key));
  };
  if (UrlHoldsSecret(config.alerts.healthcheck_url))
    add("alerts.healthcheck_url");
  for (const WebhookConfig& hook : config.alerts.webhooks) {
    // Discord and Slack webhook URLs are themselves the credential.
    if (hook.format == "discord" || hook.format == "slack" || UrlHoldsSecret(hook.url)) {
      add("alerts.webhook.url");
    }
  }
  for (const EmailConfig& email : config.alerts.emails) {
    if (UrlHoldsSecret(email.smtp_url))
      add("alerts.email.smtp_url");
  }
  return keys;
}

}  // namespace atlas
