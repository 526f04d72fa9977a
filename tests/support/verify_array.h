// Independent verification of an array after a sync: every file's blocks
// match the manifest's checksums, and every parity byte equals a scalar
// GF(2^8) recomputation from the data files (parity/reference.h), not the
// ISA-L code path that wrote it.
#pragma once

#include <string>

#include "atlas/manifest.h"
#include "support/temp_array.h"

namespace atlas::testing {

struct ArrayCheck {
  std::uint64_t files = 0;
  std::uint64_t blocks = 0;
  std::uint64_t dirty_positions = 0;
  std::uint64_t bad_blocks = 0;        // hash differs from the file's data
  std::uint64_t bad_parity_bytes = 0;  // parity differs from the recomputation
  // Buckets where the manifest's coverage summary differs from a count of
  // the synced block records (1 if the summary is missing).
  std::uint64_t coverage_mismatches = 0;
  // Parity checksum records (`p` table): all of them; those whose data
  // digest and level count match the synced blocks at their position (scrub
  // trusts these instead of recomputing); and of those, the ones whose
  // checksums differ from the parity file's bytes, which would make scrub
  // miss a bad parity block. The last must always be 0.
  std::uint64_t parity_hash_records = 0;
  std::uint64_t current_parity_hashes = 0;
  std::uint64_t false_parity_hashes = 0;
  std::string first_problem;
};

// Reads the manifest read-only (the caller must not run atlas-scrub meanwhile).
ArrayCheck VerifyArray(const TempArray& array);

// Compares `m`'s coverage summary with a recount of every synced block
// record: "" when they agree, else the first difference.
std::string CheckCoverage(Manifest* m);
// The same on the array's manifest, opened read-only.
std::string CheckCoverage(const TempArray& array);

}  // namespace atlas::testing
