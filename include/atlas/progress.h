// Progress reporting for long runs (sync, scrub, check, fix, outside), as an
// interface (ninja's StatusPrinter): the CLI installs a terminal printer with
// rate and ETA, or a silent one for cron and --no-progress.
//
// Thread-safety: Advance() may be called from any thread; the others from the
// thread that drives the run.
#pragma once

#include <cstdint>
#include <string_view>

namespace atlas {

class ProgressSink {
 public:
  virtual ~ProgressSink() = default;
  // A new phase starts ("scan", "hash+parity", ...). total_bytes may be 0
  // when unknown.
  virtual void BeginPhase(std::string_view phase, std::uint64_t total_bytes) = 0;
  // `bytes` more were processed in the current phase.
  virtual void Advance(std::uint64_t bytes) = 0;
  // The current phase ended.
  virtual void EndPhase() = 0;
  // A log line for the user (stderr in the CLI); not for machine output.
  virtual void Note(std::string_view line) = 0;
};

// Does nothing. Never null; lives for the whole process.
ProgressSink* NullProgress();

}  // namespace atlas
