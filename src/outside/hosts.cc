// `outside` on Atlas: scanning the compute hosts of [[outside.hosts]].
//
// Approach: the connection goes from Atlas to the compute host, never the
// other way. Atlas runs each host's command (typically ssh to a read-only
// scan account whose authorized_keys entry forces `atlas-scrub outside
// --json --key ... --index - PATH`) with the array's current signed index on
// its standard input, and reads the JSON report it prints. The compute host
// needs no access to Atlas at all: not NFS for the index, no key of Atlas's.
//
// The index is built from the manifest for every run (BuildOutsideIndex, as
// sync exports it), not read from a copy directory: those are on disks users
// can write, and the manifest is what sync last committed. The manifest is
// opened read-only to build it and closed before the hosts run (a first scan
// may take hours, and sync must not wait for it); the results are stored in
// one batch at the end under ManifestLock.
//
// Trust: the host's report is untrusted input to a root process. Its size
// is capped (OutsideHostsOptions::max_output), it is parsed without
// exceptions, only three finding kinds are taken and their severity comes
// from SPEC, counts are recounted from the findings, at most
// kMaxStoredFindings are stored per host, and every path is prefixed with
// the host name and only ever displayed (DisplayPath), never opened.
//
// A host that fails keeps the result of its last successful scan: its
// findings stay open (and so do their alerts) while the new
// outside_unreachable says the picture is stale.
#include <algorithm>
#include <chrono>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "atlas/outside.h"

#include "io/process.h"

namespace atlas {
namespace {

// A report with more findings is stored cut to this many (the counts are
// of all of them): one manifest value stays a few MB at most.
constexpr std::size_t kMaxStoredFindings = 10000;
// How long the results wait for another run's manifest lock, at most.
constexpr std::int64_t kLockWaitMs = 30 * 60 * 1000;
// Message and path fields longer than this are cut.
constexpr std::size_t kMaxFieldBytes = 4096;

std::string Clip(std::string s) {
  if (s.size() > kMaxFieldBytes)
    s.resize(kMaxFieldBytes);
  return s;
}

// "2h", "90m", "45s": a timeout as the config spells durations.
std::string FormatDuration(std::int64_t s) {
  if (s % 3600 == 0)
    return fmt::format("{}h", s / 3600);
  if (s % 60 == 0)
    return fmt::format("{}m", s / 60);
  return fmt::format("{}s", s);
}

// "ssh -T scan@h atlas-scrub ..." for messages.
std::string CommandLine(const std::vector<std::string>& argv) {
  return fmt::format("{}", fmt::join(argv, " "));
}

std::string StderrNote(const std::string& tail) {
  std::string t = tail;
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) t.pop_back();
  const std::size_t nl = t.rfind('\n');
  if (nl != std::string::npos)
    t = t.substr(nl + 1);  // the last line says most
  return t.empty() ? "" : "; its last error output: " + DisplayPath(t);
}

// What one host printed, parsed; an error message when it is not the
// document of `outside --json`.
struct ParsedScan {
  std::string error;
  std::uint64_t scanned_files = 0;
  std::vector<Finding> findings;
  std::uint64_t only_copy = 0;
  std::uint64_t duplicates = 0;
};

ParsedScan ParseScan(const std::string& host, const std::string& out) {
  ParsedScan p;
  const nlohmann::json doc = nlohmann::json::parse(out, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    p.error = out.empty() ? "it printed nothing" : "it printed no JSON document";
    return p;
  }
  auto command = doc.find("command");
  auto findings = doc.find("findings");
  auto scanned = doc.find("scanned_files");
  if (command == doc.end() || *command != "outside" || findings == doc.end() || !findings->is_array() ||
      scanned == doc.end() || !scanned->is_number_unsigned()) {
    p.error = "it printed JSON that is not the report of `atlas-scrub outside --json`";
    return p;
  }
  if (auto ok = doc.find("ok"); ok != doc.end() && *ok == false) {
    p.error = "its scan did not complete";
    return p;
  }
  p.scanned_files = scanned->get<std::uint64_t>();
  for (const nlohmann::json& f : *findings) {
    if (!f.is_object())
      continue;
    auto kind = f.find("kind");
    auto path = f.find("path");
    if (kind == f.end() || !kind->is_string() || path == f.end() || !path->is_string())
      continue;
    std::optional<FindingKind> k = ParseKind(kind->get<std::string>());
    if (!k || (*k != FindingKind::kOnlyCopyOutside && *k != FindingKind::kDuplicateOutside &&
               *k != FindingKind::kWritableAtlasMount)) {
      continue;
    }
    if (*k == FindingKind::kOnlyCopyOutside)
      ++p.only_copy;
    if (*k == FindingKind::kDuplicateOutside)
      ++p.duplicates;
    if (p.findings.size() == kMaxStoredFindings)
      continue;
    auto message = f.find("message");
    auto from = f.find("from");
    Finding finding = MakeFinding(*k, "", host + ":" + Clip(path->get<std::string>()),
                                  message != f.end() && message->is_string() ? Clip(message->get<std::string>()) : "");
    if (from != f.end() && from->is_string())
      finding.from = Clip(from->get<std::string>());
    p.findings.push_back(std::move(finding));
  }
  return p;
}

// Why a host's run failed, or "" when its output is to be parsed.
std::string FailureOf(const OutsideHostConfig& host, const ProcessResult& r) {
  if (!r.started)
    return r.error;
  if (r.timed_out)
    return fmt::format("timed out after {}", FormatDuration(host.timeout_s));
  if (r.overflow)
    return "it printed more than the largest report atlas-scrub reads";
  if (r.signal != 0)
    return fmt::format("it was killed by signal {}{}", r.signal, StderrNote(r.err));
  // `outside`: 0 nothing found, 1 findings; 2 usage, 3 error; ssh: 255.
  if (r.exit_status != 0 && r.exit_status != 1)
    return fmt::format("it exited with status {}{}", r.exit_status, StderrNote(r.err));
  return "";
}

struct HostRun {
  ProcessResult command;
  ParsedScan scan;
  std::string error;  // empty: scanned
  std::int64_t ended_ns = 0;
};

HostRun RunHost(const RunContext& ctx, const OutsideHostsOptions& options, const OutsideHostConfig& host,
                std::string_view index) {
  HostRun run;
  ProcessOptions c;
  c.environment = options.environment;
  c.input = index;
  c.timeout = std::chrono::milliseconds(host.timeout_s * 1000);
  c.kill_grace = std::chrono::milliseconds(options.kill_grace_ms);
  c.max_output = options.max_output;
  c.stop = ctx.stop;
  run.command = RunProcess(host.command, c);
  run.ended_ns = ctx.clock->NowUnixNanos();
  run.error = FailureOf(host, run.command);
  if (run.error.empty()) {
    run.scan = ParseScan(host.name, run.command.out);
    if (!run.scan.error.empty())
      run.error = run.scan.error + StderrNote(run.command.err);
  }
  return run;
}

// The signed index of the array as it stands in the manifest.
Result<std::string> CurrentIndex(const RunContext& ctx) {
  ATLAS_ASSIGN_OR_RETURN(std::unique_ptr<Manifest> m, OpenManifestIfExists(*ctx.config));
  if (!m) {
    return Status::FailedPrecondition(
        "the array was never synced, so there is no index to scan the outside hosts against; run "
        "`atlas-scrub sync` first");
  }
  ATLAS_ASSIGN_OR_RETURN(std::optional<OutsideKeyPair> key, OutsideSigningKey(m.get(), /*create=*/false));
  if (!key) {
    return Status::FailedPrecondition(
        "the array has no outside index key yet; run `atlas-scrub sync`, which makes one");
  }
  ATLAS_ASSIGN_OR_RETURN(OutsideIndex index, BuildOutsideIndex(ctx.fs, m.get(), ctx.clock->NowUnixNanos()));
  return EncodeOutsideIndex(index, *key);
}

// Takes the manifest lock, waiting while another run holds it.
Result<std::unique_ptr<ManifestLock>> WaitForLock(const RunContext& ctx) {
  const auto start = std::chrono::steady_clock::now();
  for (;;) {
    Result<std::unique_ptr<ManifestLock>> lock = ManifestLock::Acquire(ctx.config->manifest);
    if (lock.ok() || lock.status().code() != Code::kBusy)
      return lock;
    if (ctx.stop.stop_requested())
      return Status::Cancelled("outside: stopped while waiting for the manifest lock");
    if (std::chrono::steady_clock::now() - start > std::chrono::milliseconds(kLockWaitMs))
      return lock.status().WithContext("outside: storing the hosts' results");
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

// The record of `host` after `run`, from the one stored before (if any).
OutsideHostRecord NextRecord(const std::string& host, const HostRun& run,
                             const std::optional<OutsideHostRecord>& before) {
  OutsideHostRecord r;
  if (!run.error.empty()) {
    if (before)
      r = *before;
    r.host = host;
    r.attempted_ns = run.ended_ns;
    r.error = run.error;
    return r;
  }
  r.host = host;
  r.checked_ns = run.ended_ns;
  r.attempted_ns = run.ended_ns;
  r.scanned_files = run.scan.scanned_files;
  r.only_copy = run.scan.only_copy;
  r.duplicates = run.scan.duplicates;
  r.findings = run.scan.findings;
  return r;
}

Finding UnreachableFinding(const OutsideHostConfig& host, const OutsideHostRecord& r) {
  return MakeFinding(FindingKind::kOutsideUnreachable, "", host.name,
                     fmt::format("outside host {} could not be scanned ({}): {}; {}", host.name,
                                 CommandLine(host.command), r.error,
                                 r.checked_ns == 0 ? "it was never scanned"
                                                   : "what it held at its last scan is shown"));
}

Status StoreRecords(const RunContext& ctx, const std::vector<OutsideHostRecord>& records, const RunRecord& run) {
  ATLAS_ASSIGN_OR_RETURN(std::unique_ptr<ManifestLock> lock, WaitForLock(ctx));
  ManifestOptions rw;
  rw.copy_dirs = ctx.config->manifest_copies;
  ATLAS_ASSIGN_OR_RETURN(std::unique_ptr<Manifest> m, OpenManifest(ctx.config->manifest, rw));
  std::unique_ptr<ManifestBatch> batch = m->NewBatch();
  for (const OutsideHostRecord& r : records) batch->PutOutsideHost(r);
  batch->PutRun(run);  // atlas_scrub_last_run_*{command="outside"}
  // Invariant: a host's record is replaced whole, in one durable batch with
  // every other host's, so status never shows half a run.
  return m->Commit(*batch, /*durable=*/true).WithContext("outside: storing the hosts' results");
}

// The stored record of each configured host, read without the lock (a
// snapshot; a concurrent `outside` run would be overwritten by the later one).
Result<std::vector<OutsideHostRecord>> StoredRecords(const Config& config) {
  ATLAS_ASSIGN_OR_RETURN(std::unique_ptr<Manifest> m, OpenManifestIfExists(config));
  if (!m)
    return std::vector<OutsideHostRecord>();
  return m->ListOutsideHosts();
}

}  // namespace

std::vector<Finding> OutsideHostFindings(const std::vector<OutsideHostRecord>& records, const Config& config) {
  std::vector<Finding> out;
  std::vector<Finding> unreachable;
  for (const OutsideHostConfig& host : config.outside.hosts) {
    auto r = std::find_if(records.begin(), records.end(),
                          [&](const OutsideHostRecord& x) { return x.host == host.name; });
    if (r == records.end())
      continue;
    out.insert(out.end(), r->findings.begin(), r->findings.end());
    if (!r->error.empty())
      unreachable.push_back(UnreachableFinding(host, *r));
  }
  out.insert(out.end(), unreachable.begin(), unreachable.end());
  return out;
}

Status RunOutsideHosts(const RunContext& ctx, const OutsideHostsOptions& options, OutsideHostsReport* report) {
  *report = OutsideHostsReport();
  const std::vector<OutsideHostConfig>& hosts = ctx.config->outside.hosts;
  if (hosts.empty()) {
    return Status::InvalidArgument(
        "outside needs at least one PATH to scan, or [[outside.hosts]] in the config to scan them");
  }
  const std::int64_t start_ns = ctx.clock->NowUnixNanos();
  ATLAS_ASSIGN_OR_RETURN(std::string index, CurrentIndex(ctx));
  ATLAS_ASSIGN_OR_RETURN(std::vector<OutsideHostRecord> before, StoredRecords(*ctx.config));

  std::vector<HostRun> runs(hosts.size());
  {
    std::vector<std::jthread> threads;
    for (std::size_t i = 0; i < hosts.size(); ++i) {
      threads.emplace_back([&, i] { runs[i] = RunHost(ctx, options, hosts[i], index); });
    }
  }
  if (ctx.stop.stop_requested())
    return Status::Cancelled("outside: stopped; the hosts' results were not stored");

  std::vector<OutsideHostRecord> records;
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    auto old = std::find_if(before.begin(), before.end(),
                            [&](const OutsideHostRecord& r) { return r.host == hosts[i].name; });
    std::optional<OutsideHostRecord> prior;
    if (old != before.end())
      prior = *old;
    OutsideHostResult result;
    result.host = hosts[i].name;
    result.reachable = runs[i].error.empty();
    result.record = NextRecord(hosts[i].name, runs[i], prior);
    records.push_back(result.record);
    report->hosts.push_back(std::move(result));
  }
  report->findings = OutsideHostFindings(records, *ctx.config);
  RunRecord run;
  run.command = "outside";
  run.start_ns = start_ns;
  run.end_ns = ctx.clock->NowUnixNanos();
  std::uint64_t unreachable = 0, only_copy = 0, duplicates = 0;
  for (const OutsideHostResult& h : report->hosts) {
    unreachable += h.reachable ? 0 : 1;
    only_copy += h.record.only_copy;
    duplicates += h.record.duplicates;
  }
  run.exit_code = std::any_of(report->findings.begin(), report->findings.end(),
                              [](const Finding& f) { return f.severity >= Severity::kWarning; })
                      ? 1
                      : 0;
  run.summary = fmt::format("{} hosts, {} unreachable, {} only-copy, {} duplicates", report->hosts.size(),
                            unreachable, only_copy, duplicates);
  return StoreRecords(ctx, records, run);
}

}  // namespace atlas
