#!/usr/bin/env bash
# The full comparison behind docs/benchmarks.md: 10,000 and 1,000,000 docs,
# the 8/8 and 16/100 byte shapes, durability full and normal, every
# installed engine, plus the group-commit run (commit-every, 1 and 8
# threads). Run from the repository after `scripts/setup.sh build`.
#
#   scripts/bench-full.sh [OUT_DIR]     (default /tmp/sombra-bench-full)
# SOMBRA_BENCH=PATH picks another compare-bench binary. Last, it writes
# OUT_DIR/tables.md (scripts/bench-tables.sh): the "Tables" section of
# docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH=${SOMBRA_BENCH:-build/release/tools/compare_bench/compare-bench}
OUT=${1:-/tmp/sombra-bench-full}
mkdir -p "$OUT"
: >"$OUT/order"
run() {
  local name=$1
  shift
  echo "$name" >>"$OUT/order"
  echo "== compare-bench $*" | tee "$OUT/$name.txt"
  "$BENCH" "$@" --json "$OUT/$name.json" | tee -a "$OUT/$name.txt"
}
for dur in full normal; do
  for shape in "8 8" "16 100"; do
    set -- $shape
    run "all-10k-$1x$2-$dur" --mode all --docs 10000 --key-size "$1" --value-size "$2" \
      --durability "$dur" --commit-docs 1000 --repeat 3
    run "all-1m-$1x$2-$dur" --mode all --docs 1000000 --key-size "$1" --value-size "$2" \
      --durability "$dur" --commit-docs 1000 --repeat 1
  done
done
run "inserts-only-1m-one-commit" --mode inserts-only --docs 1000000 --commit-every 1000000 --repeat 3
run "inserts-only-10k-one-commit" --mode inserts-only --docs 10000 --commit-every 10000 --repeat 3
for t in 1 8; do
  run "commit-every-full-t$t" --mode commit-every --docs 2000 --threads "$t" --durability full --repeat 1
done
scripts/bench-tables.sh "$OUT" >"$OUT/tables.md"
echo "== wrote $OUT/tables.md (the Tables section of docs/benchmarks.md)"
