#!/usr/bin/env bash
# Sombra's one set-up script; both README commands call it.
#
#   scripts/setup.sh demo   install what is missing, build (Release), run the demonstration
#   scripts/setup.sh test   install what is missing, build, run the whole test suite
#   scripts/setup.sh build  install what is missing and build, nothing else
#
# Environment: SOMBRA_JOBS (parallel jobs, default: number of cores),
# SOMBRA_SKIP_SANITIZERS=1 (test: skip the ASan+UBSan and TSan passes),
# SOMBRA_SKIP_FUZZ=1 (test: skip the fuzzers), SOMBRA_FUZZ_SECONDS (per
# fuzz target, default 20).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
JOBS=${SOMBRA_JOBS:-$(nproc 2>/dev/null || echo 2)}
MODE=${1:-}
# ccache (the presets' compiler launcher when installed): paths relative to
# the checkout, so a fresh clone elsewhere reuses earlier builds' objects.
export CCACHE_BASEDIR="$ROOT" CCACHE_NOHASHDIR=1

say() { printf '== %s\n' "$*"; }
die() { printf 'setup: %s\n' "$*" >&2; exit 2; }

case "$MODE" in
  demo|test|build) ;;
  *) die "usage: scripts/setup.sh demo|test|build" ;;
esac

# --- 1. Debian packages -----------------------------------------------------
PACKAGES=(build-essential cmake ninja-build pkg-config ccache clang-14 libclang-rt-14-dev libboost-dev liblz4-dev libxxhash-dev
          libgtest-dev libgmock-dev libbenchmark-dev
          libsqlite3-dev liblmdb-dev librocksdb-dev libleveldb-dev
          pybind11-dev python3-dev python3-pytest python3-hypothesis python3-lmdb python3-plyvel)
missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    die "missing Debian packages: ${missing[*]}
  run as root:  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}
  (or re-run this script with sudo), then run it again."
  fi
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- 2. configure and build -------------------------------------------------
build_preset() {  # build_preset NAME
  local preset=$1
  if [ ! -f "build/$preset/build.ninja" ]; then
    say "configuring ($preset)"
    cmake --preset "$preset" >/dev/null
  fi
  say "building ($preset)"
  cmake --build --preset "$preset" -j "$JOBS"
}

build_preset release

# --- 3. what was asked ------------------------------------------------------
case "$MODE" in
  build)
    ;;
  demo)
    # The default comparison (about two minutes on 2 cores), then the tree
    # of the Sombra database it built.
    DIR=${SOMBRA_DEMO_DIR:-/tmp/sombra-demo}
    rm -rf "$DIR"
    say "compare-bench: Sombra against every installed peer (databases in $DIR)"
    build/release/tools/compare_bench/compare-bench --mode all --docs 300000 --commit-docs 300 \
      --repeat 1 --dir "$DIR" --keep
    DB=$DIR/sombra-inserts-random/db.sombra
    say "sombra-inspect $DB tree (the B+tree after 300,000 random inserts)"
    build/release/tools/inspect/sombra-inspect "$DB" tree
    ;;
  test)
    say "test suite (release)"
    ctest --preset release -j "$JOBS"
    if [ "${SOMBRA_SKIP_SANITIZERS:-0}" != "1" ]; then
      build_preset asan-ubsan
      say "test suite (asan-ubsan)"
      ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
        ctest --preset asan-ubsan -j "$JOBS" -LE slow
      # The concurrency, snapshot, schedule, group-commit and
      # read-only-beside-writer tests under ThreadSanitizer, asserts on.
      build_preset tsan
      say "concurrency tests (tsan)"
      TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
        ctest --preset tsan -j "$JOBS"
    fi
    if [ "${SOMBRA_SKIP_FUZZ:-0}" != "1" ]; then
      # Each libFuzzer target for a bounded time on its seed corpus
      # (docs/fuzzing.md); any finding fails the run.
      say "fuzzing (libFuzzer, ${SOMBRA_FUZZ_SECONDS:-20} s per target)"
      scripts/fuzz.sh "${SOMBRA_FUZZ_SECONDS:-20}"
    fi
    if command -v clang-format >/dev/null; then
      say "clang-format check"
      git ls-files '*.cc' '*.h' | xargs clang-format --dry-run -Werror
    fi
    say "all tests passed"
    ;;
esac
