// What to do next about a finding: the exact commands an admin should run,
// for `status` and for alert messages (SPEC: "alerts should include the exact
// `atlas-scrub fix --dry-run ...` command to run").
//
// One table in src/core/advice.cc holds a row for every finding kind; every
// text that tells the user which command answers a finding or drift comes
// from it: status (text and --json next_steps), alert bodies, the last line
// of scrub and check, the drift lines of status and diff.
//
// Thread-safety: every function here is pure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "atlas/finding.h"

namespace atlas {

// `s` quoted for a shell: as is when it is made only of characters no shell
// treats specially ([A-Za-z0-9_@%+=:,./-]); else in single quotes with each
// embedded ' written as '\'' when it is printable UTF-8; else (a control
// byte, invalid UTF-8) as $'...' with \xNN escapes (bash, zsh, ksh, POSIX
// 2024 sh), so the result is always printable and pastes back to the same
// bytes.
std::string ShellQuote(std::string_view s);

// `path` as an fnmatch(3) pattern that matches exactly that path: *, ?, [
// and \ are escaped with a backslash (for `--filter`).
std::string GlobEscape(std::string_view path);

// The next steps for `f`, most useful first: shell command lines starting
// with `program` (e.g. "atlas-scrub" or "atlas-scrub -c /etc/x.toml"), or a
// plain sentence where no command helps (restore from a backup). Empty for
// info findings.
//   silent_corruption, read_error  fix --dry-run --filter 'PATH' (or --disk
//                                  NAME without a path), then the same fix
//   parity_mismatch                fix --dry-run, then fix
//   missing_disk                   check the mount, then sync (or fix --disk
//                                  NAME for a replaced disk)
//   unsynced                       sync
//   scrub_overdue                  scrub
//   mass_delete                    diff, then sync --force-delete
//   smart_failing, smart_warning   smart
//   smart_stale                    smart
//   only_copy_outside              copy the file to Atlas
//   duplicate_outside              remove the extra copy if it is not needed
//   unrecoverable                  restore from a backup
//   unsafe_copy_dir                correct the directory, then sync
//   zero_size                      fix --dry-run --filter, then fix, or
//                                  sync --force-zero
//   mass_modify                    diff, then sync --force-modified
//   move_mismatch                  fix the original, or sync --force-move
//   outside_unreachable            check the host, then outside
//   writable_atlas_mount           remount it read-only
std::vector<std::string> NextSteps(const Finding& f, std::string_view program);

// Whether the table has a row for `kind` (every kind must: a unit test
// checks).
bool HasAdvice(FindingKind kind);

// One sentence for a message about several findings, naming the command
// that answers the most urgent of them: errors a fix can repair, then a
// missing disk, then SMART; otherwise `status`. E.g. "`atlas-scrub fix
// --dry-run --errors-only` shows what fix would repair" (no final period).
std::string NextStepSummary(const std::vector<Finding>& findings, std::string_view program);

// The command that takes drift (files changed since the last sync) into the
// parity: what `unsynced` advises, "atlas-scrub sync".
std::string DriftNextStep(std::string_view program);

}  // namespace atlas
