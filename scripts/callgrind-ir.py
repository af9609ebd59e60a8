#!/usr/bin/env python3
"""Instructions per call of the functions one micro-benchmark times.

    scripts/callgrind-ir.py BENCH_BINARY BENCHMARK REGEX...

Runs BENCHMARK (a full name, e.g. BM_LeafInsert/seq8x8_random) of
BENCH_BINARY under callgrind and prints, for each REGEX (matched against
demangled function names, e.g. 'btree::ChooseSplit\\('), the calls made to
matching functions from non-matching callers and their inclusive
instructions per call, then the sum over the regexes. Unlike time, these
counts do not depend on the machine's load or on code placement, so two
builds compare to a fraction of a percent (docs/micro-benchmarks.md).
"""
import os
import re
import subprocess
import sys
import tempfile


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    binary, bench, patterns = sys.argv[1], sys.argv[2], sys.argv[3:]
    rx = [re.compile(".*" + p + ".*") for p in patterns]
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "callgrind.out")
        subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out, binary,
                        "--benchmark_filter=^" + bench + "$", "--benchmark_min_time=0.3"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        calls = [0] * len(rx)
        cost = [0] * len(rx)
        names, caller, callee, want_cost = {}, "", None, None
        with open(out) as f:
            for line in f:
                if want_cost is not None:  # the inclusive cost line after calls=
                    cost[want_cost] += int(line.split()[1])
                    want_cost = None
                    continue
                m = re.match(r"(c?fn)=\((\d+)\)(?: (.*))?", line)
                if m:
                    kind, ident, name = m.groups()
                    if name:
                        names[ident] = name.strip()
                    if kind == "fn":
                        caller = names[ident]
                    else:
                        callee = names[ident]
                    continue
                if line.startswith("calls=") and callee is not None:
                    inside = any(r.fullmatch(caller) for r in rx)
                    for i, r in enumerate(rx):
                        if not inside and r.fullmatch(callee):
                            calls[i] += int(line[6:].split()[0])
                            want_cost = i
                            break
                    callee = None
    total = 0.0
    for p, n, c in zip(patterns, calls, cost):
        per = c / n if n else 0.0
        total += per
        print(f"{bench}\t{p}\tcalls={n}\tIr/call={per:.1f}")
    print(f"{bench}\tsum\tIr/call={total:.1f}")


if __name__ == "__main__":
    main()
