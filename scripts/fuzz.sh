#!/usr/bin/env bash
# Builds the libFuzzer targets (clang 14, ASan + UBSan) in build/fuzz and
# runs each for a bounded time on a copy of its seed corpus
# (docs/fuzzing.md). Exits non-zero on any finding.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]   default 20 s, every target
#   scripts/fuzz.sh --seeds                  rewrite tests/fuzz/corpus
#
# Environment: SOMBRA_JOBS (parallel build jobs), SOMBRA_FUZZ_KEEP=DIR (keep
# each target's grown corpus in DIR/TARGET).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
JOBS=${SOMBRA_JOBS:-$(nproc 2>/dev/null || echo 2)}
TARGETS_ALL=(fuzz_leaf_page fuzz_internal_page fuzz_wal_recovery fuzz_db_open fuzz_inspect)

command -v clang++-14 >/dev/null || {
  echo "fuzz.sh: clang++-14 is missing (apt-get install clang-14 libclang-rt-14-dev)" >&2
  exit 2
}
SAN="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined"
if [ ! -f build/fuzz/build.ninja ]; then
  echo "== configuring (fuzz)"
  CC=clang-14 CXX=clang++-14 cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DSOMBRA_BUILD_FUZZ=ON -DSOMBRA_BUILD_TESTS=OFF -DSOMBRA_BUILD_BENCH=OFF \
    -DSOMBRA_BUILD_EXAMPLES=OFF -DSOMBRA_INSTALL=OFF \
    "-DCMAKE_C_FLAGS=$SAN" "-DCMAKE_CXX_FLAGS=$SAN" \
    "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=address,undefined" >/dev/null
fi
echo "== building (fuzz)"
cmake --build build/fuzz -j "$JOBS" --target "${TARGETS_ALL[@]}" fuzz_seeds

if [ "${1:-}" = "--seeds" ]; then
  build/fuzz/tests/fuzz/fuzz_seeds "$ROOT/tests/fuzz/corpus"
  exit 0
fi
SECONDS_EACH=${1:-20}
if [ $# -gt 0 ]; then shift; fi
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=("${TARGETS_ALL[@]}")

WORK=$(mktemp -d)
# The targets' scratch files (fuzz_util.h): in memory when /dev/shm exists.
SCRATCH=$(mktemp -d -p "$( [ -w /dev/shm ] && echo /dev/shm || echo /tmp )")
export SOMBRA_FUZZ_SCRATCH=$SCRATCH
trap 'rm -rf "$WORK" "$SCRATCH"' EXIT
failed=0
for t in "${TARGETS[@]}"; do
  name=${t#fuzz_}
  corpus="$WORK/$name"
  mkdir -p "$corpus"
  cp tests/fuzz/corpus/"$name"/* "$corpus"/
  log="$WORK/$t.log"
  echo "== $t: ${SECONDS_EACH} s"
  if ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
     build/fuzz/tests/fuzz/"$t" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
       -artifact_prefix="$WORK/$t-" -print_final_stats=1 "$corpus" >"$log" 2>&1; then
    execs=$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')
    # The coverage figures of libFuzzer's last status line (display only).
    cov=$(awk '/^#[0-9]+/ { last = $0 }
               END { if (match(last, /cov: [0-9]+ ft: [0-9]+ corp: [0-9\/a-zA-Z]+/))
                       print substr(last, RSTART, RLENGTH) }' "$log")
    echo "   ok: ${execs:-?} executions, $cov"
  else
    failed=1
    echo "   FINDING in $t (log tail below; the input is in tests/fuzz/regressions when saved)"
    tail -40 "$log"
    mkdir -p tests/fuzz/regressions
    for a in "$WORK/$t-"*; do [ -e "$a" ] && cp "$a" tests/fuzz/regressions/ && echo "   saved $(basename "$a")"; done
  fi
  if [ -n "${SOMBRA_FUZZ_KEEP:-}" ]; then
    mkdir -p "$SOMBRA_FUZZ_KEEP/$name" && cp "$corpus"/* "$SOMBRA_FUZZ_KEEP/$name"/
  fi
done
[ "$failed" = 0 ] && echo "== fuzz: no findings" || { echo "== fuzz: FINDINGS (see above)"; exit 1; }
