// What every library entry point that works on the array is given: the
// config, the I/O seam, the clock, where progress goes, and a stop token.
//
// It sits below the engine so that modules beside or under it (outside,
// report) take a RunContext without depending on the engine (docs/DESIGN.md
// "Module map").
//
// Ownership: every pointer is borrowed and must outlive the call it is
// passed to. Thread-safety: a RunContext is read-only during a call; the
// entry points that start threads share it between them.
#pragma once

#include <stop_token>

#include "atlas/config.h"
#include "atlas/env.h"
#include "atlas/progress.h"

namespace atlas {

class DiskMonitor;  // atlas/disk_monitor.h

struct RunContext {
  const Config* config = nullptr;
  FileSystem* fs = nullptr;         // FileSystem::Default() in production
  Clock* clock = nullptr;           // Clock::Default() in production
  ProgressSink* progress = nullptr;  // NullProgress() when quiet
  std::stop_token stop;             // a stop request ends the run after the batch in hand
  // Told which disks the run uses, and holds a disk too hot to read; null:
  // nothing is watched (every library caller but the CLI's runs).
  DiskMonitor* monitor = nullptr;
};

}  // namespace atlas
