#!/usr/bin/env bash
# Writes the "Tables" section of docs/benchmarks.md from the outputs of
# scripts/bench-full.sh (which calls it last): one heading per
# compare-bench command, in the order they ran, with its table.
#
#   scripts/bench-tables.sh OUT_DIR > tables.md
set -euo pipefail
OUT=${1:?usage: bench-tables.sh OUT_DIR}
[ -f "$OUT/order" ] || { echo "bench-tables.sh: $OUT/order is missing (run scripts/bench-full.sh)" >&2; exit 2; }
echo "## Tables"
while read -r name; do
  f="$OUT/$name.txt"
  [ -f "$f" ] || { echo "bench-tables.sh: $f is missing" >&2; exit 2; }
  # First line: "== compare-bench ARGS"; the rest is the tool's output, less
  # its preamble lines (the run's settings and the column legend).
  cmd=$(head -1 "$f" | sed 's/^== //')
  echo
  echo "### \`$cmd\`"
  echo
  echo '```text'
  tail -n +2 "$f" | grep -v -e '^compare-bench: docs=' -e '^SOMBRA/X = '
  echo '```'
done < "$OUT/order"
