// How blocks are read back (sync's parity pass, scrub, check, fix): by whole
// stripes on a pool of workers, or one reader per disk. The choice is the
// stripe reader's (engine/stripe_scanner.h) and sync's; it depends on the
// config and on what the disks are, as LoadArray found them.
#pragma once

#include <cstddef>

#include "atlas/config.h"
#include "engine/array.h"

namespace atlas {

// Whether block reads go by whole stripes (ReadLayout::kWholeStripes) rather
// than one reader per disk. `auto` picks whole stripes when no
// bandwidth_limit is set and every data disk and parity file is known not
// to be rotational (SSDs, RAM): there the reads cost CPU (the kernel's page
// copies), not waits, and a worker per core that reads, hashes and checks a
// whole stripe keeps every core busy and the stripe in cache. On hard disks
// a reader per disk keeps each disk streaming in order, all disks at once.
bool ReadsWholeStripes(const Config& config, const ArrayView& array);

// Worker threads for whole-stripe reads: io_threads, or one per core.
std::size_t WholeStripeWorkers(const Config& config);

}  // namespace atlas
