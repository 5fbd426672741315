"""Run every benchmark, then print a summary against the targets (spec/coordinator.md §14).

    uv run python bench/run_all.py            # full: the numbers in docs/performance.md (< 10 min)
    uv run python bench/run_all.py --quick    # smoke run, < 60 s, results in bench/results/quick/
    uv run python bench/run_all.py --tiny --out DIR   # what the test runs: the smallest parameters
    uv run python bench/run_all.py --markdown         # print the results as a Markdown table, run nothing

Each benchmark is its own script run as its own process (``bench/<name>.py``); one that fails is
reported and the others still run. Exit status 1 if any failed (a missed target is not a failure).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from report import RESULTS_DIR, flatten

BENCH = Path(__file__).resolve().parent

# name -> (script, full args, quick args, tiny args)
PLAN: dict[str, tuple[str, list[str], list[str], list[str]]] = {
    "throughput": ("throughput.py", [],
                   ["--seconds", "2", "--warmup", "0.5", "--aggregates", "200"],
                   ["--seconds", "1", "--warmup", "0.5", "--aggregates", "50", "--clients", "4"]),
    "throughput_postgres": ("throughput_postgres.py", [],
                            ["--seconds", "2", "--warmup", "0.5", "--aggregates", "200", "--skip-peer"],
                            ["--seconds", "1", "--warmup", "0.5", "--aggregates", "50", "--clients", "4",
                             "--skip-peer"]),
    "grpc_floor": ("grpc_floor.py", [],
                   ["--seconds", "1", "--warmup", "0.3"],
                   ["--seconds", "0.5", "--warmup", "0.2", "--aggregates", "50", "--clients", "4"]),
    "large_aggregate": ("large_aggregate.py", [],
                        ["--events", "5000", "--commands", "10", "--plain-commands", "1"],
                        ["--events", "500", "--commands", "3", "--plain-commands", "1"]),
    "projection_lag": ("projection_lag.py", [],
                       ["--seconds", "1.5", "--warmup", "0.3"],
                       ["--seconds", "1", "--warmup", "0.2", "--rate", "50"]),
    # Below the tailer's delivery rate on this machine: what the lag is when delivery keeps up.
    "projection_lag_200": ("projection_lag.py", ["--rate", "200", "--name", "projection_lag_200"],
                           ["--rate", "200", "--seconds", "1", "--warmup", "0.3", "--name", "projection_lag_200"],
                           ["--rate", "20", "--seconds", "0.5", "--warmup", "0.1", "--name", "projection_lag_200"]),
    "poker_hand": ("poker_hand.py", [],
                   ["--hands", "1", "--cascade-hands", "1"],
                   ["--hands", "1", "--cascade-hands", "1"]),
}

# (result, metric, target, "max" = at most / "min" = at least)
TARGETS = [
    ("throughput", "commands_per_second", 1000, "min"),
    ("throughput", "p99_ms", 25, "max"),
    ("large_aggregate", "snapshot_p50_ms", 10, "max"),
    ("projection_lag", "p99_ms", 100, "max"),
]


def summary(out: Path) -> list[str]:
    """Lines comparing the results in ``out`` with the targets."""
    lines = []
    for name, metric, target, kind in TARGETS:
        path = out / f"{name}.json"
        if not path.exists():
            lines.append(f"  {name}.{metric}: no result")
            continue
        value = json.loads(path.read_text())["metrics"].get(metric)
        met = value is not None and (value >= target if kind == "min" else value <= target)
        bound = "≥" if kind == "min" else "≤"
        lines.append(f"  {name}.{metric} = {value} (target {bound} {target}): {'met' if met else 'MISSED'}")
    return lines


def markdown(out: Path) -> str:
    """The headline metrics of the results in ``out`` as a Markdown table."""
    rows = ["| result | metric | value |", "|---|---|---|"]
    for path in sorted(out.glob("*.json")):
        doc = json.loads(path.read_text())
        for key, value in flatten(doc["metrics"]):
            if not isinstance(value, list):
                rows.append(f"| {doc['name']} | {key} | {value} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="smoke run, < 60 s")
    size.add_argument("--tiny", action="store_true", help="smallest parameters (for the test)")
    parser.add_argument("--only", nargs="*", choices=sorted(PLAN), help="run only these")
    parser.add_argument("--markdown", action="store_true", help="print the results as Markdown; run nothing")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    out = args.out or (RESULTS_DIR / "quick" if args.quick or args.tiny else RESULTS_DIR)
    if args.markdown:
        print(markdown(out))
        return 0
    failed = []
    started = time.monotonic()
    for name, (script, full, quick, tiny) in PLAN.items():
        if args.only and name not in args.only:
            continue
        extra = tiny if args.tiny else quick if args.quick else full
        t0 = time.monotonic()
        code = subprocess.call([sys.executable, str(BENCH / script), *extra, "--out", str(out)])
        print(f"-- {name}: exit {code} in {time.monotonic() - t0:.0f} s", flush=True)
        if code != 0:
            failed.append(name)
    print(f"\n== summary ({time.monotonic() - started:.0f} s, results in {out}) ==")
    for line in summary(out):
        print(line)
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
