// Progress on a terminal: one line on stderr, redrawn at most 5 times a
// second, with phase, percent, rate and ETA. Cron (stderr not a terminal),
// --no-progress and --quiet get a printer that prints only notes (or
// nothing with --quiet).
#include <unistd.h>

#include <atomic>
#include <mutex>

#include <fmt/format.h>

#include "atlas/env.h"
#include "cli/cli.h"

namespace atlas::cli {
namespace {

class TtyProgress final : public ProgressSink {
 public:
  void BeginPhase(std::string_view phase, std::uint64_t total) override {
    std::lock_guard<std::mutex> lock(mu_);
    phase_ = phase;
    total_ = total;
    done_ = 0;
    start_ns_ = Clock::Default()->MonotonicNanos();
    last_draw_ns_ = 0;
  }
  void Advance(std::uint64_t bytes) override {
    done_.fetch_add(bytes, std::memory_order_relaxed);
    std::int64_t now = Clock::Default()->MonotonicNanos();
    std::unique_lock<std::mutex> lock(mu_, std::try_to_lock);
    if (!lock.owns_lock() || now - last_draw_ns_ < 200'000'000) return;
    last_draw_ns_ = now;
    Draw(now);
  }
  void EndPhase() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (last_draw_ns_ != 0) fmt::print(stderr, "\r\033[K");
  }
  void Note(std::string_view line) override {
    std::lock_guard<std::mutex> lock(mu_);
    fmt::print(stderr, "\r\033[K{}\n", line);
  }

 private:
  void Draw(std::int64_t now) {  // REQUIRES: mu_ held
    double secs = static_cast<double>(now - start_ns_) / 1e9;
    std::uint64_t done = done_.load(std::memory_order_relaxed);
    double rate = secs > 0 ? static_cast<double>(done) / secs : 0;
    std::string line = fmt::format("{}: {}", phase_, HumanBytes(done));
    if (total_ > 0) {
      double pct = std::min(100.0, 100.0 * static_cast<double>(done) / static_cast<double>(total_));
      line += fmt::format(" of {} ({:.0f}%)", HumanBytes(total_), pct);
      if (rate > 0 && done < total_) {
        auto eta = static_cast<std::int64_t>(static_cast<double>(total_ - done) / rate);
        line += fmt::format(", ETA {}:{:02}", eta / 60, eta % 60);
      }
    }
    line += fmt::format(", {}/s", HumanBytes(static_cast<std::uint64_t>(rate)));
    fmt::print(stderr, "\r\033[K{}", line);
  }

  std::mutex mu_;
  std::string phase_;
  std::uint64_t total_ = 0;
  std::atomic<std::uint64_t> done_{0};
  std::int64_t start_ns_ = 0;
  std::int64_t last_draw_ns_ = 0;
};

class NotesOnly final : public ProgressSink {
 public:
  explicit NotesOnly(bool quiet) : quiet_(quiet) {}
  void BeginPhase(std::string_view, std::uint64_t) override {}
  void Advance(std::uint64_t) override {}
  void EndPhase() override {}
  void Note(std::string_view line) override {
    if (!quiet_) fmt::print(stderr, "{}\n", line);
  }

 private:
  bool quiet_;
};

}  // namespace

std::unique_ptr<ProgressSink> MakeProgress(const GlobalOptions& g) {
  if (!g.quiet && !g.no_progress && isatty(STDERR_FILENO) == 1) return std::make_unique<TtyProgress>();
  return std::make_unique<NotesOnly>(g.quiet || !g.verbose);
}

}  // namespace atlas::cli
