// util/crash_point.h: named points where a kill test can stop the process.
//
// A test child sets SOMBRA_CRASH_POINT=<name> (and optionally
// SOMBRA_CRASH_AFTER=<n>, default 1) in its environment; the n-th time the
// process reaches the point of that name it dies on the spot with SIGKILL,
// exactly as if killed from outside at that instruction. Unset, a crash
// point costs one relaxed atomic load.
#pragma once

namespace sombra {

// Dies with SIGKILL when `name` is the armed point and its count is reached.
void CrashPoint(const char* name);

// Arms `name` to fire the `after`-th time it is reached from now, replacing
// what the environment armed; for a test child made by fork() without
// exec(), whose environment was read before it existed. Call it before the
// child starts threads that may reach a crash point.
void ArmCrashPoint(const char* name, long after);

// The points the library defines (docs/testing.md, "Kill tests").
constexpr const char* kCrashWalWrite = "wal-write";           // batch written, not synced
constexpr const char* kCrashAfterWalSync = "after-wal-sync";  // durable, not published
// A checkpoint's double-write batch is synced (docs/format/dwb.md); no
// page is written in place yet.
constexpr const char* kCrashAfterDoubleWrite = "checkpoint-after-dwb";
constexpr const char* kCrashBeforeMeta = "checkpoint-before-meta";
constexpr const char* kCrashAfterMeta = "checkpoint-after-meta";  // before the log restarts
// A checkpoint put off by readers elsewhere: the compacted log is synced
// beside the log, not renamed over it yet.
constexpr const char* kCrashBeforeCarry = "checkpoint-before-carry";
// DB::Compact: a step has committed, the next one has not begun.
constexpr const char* kCrashCompactStep = "compact-step";

}  // namespace sombra
