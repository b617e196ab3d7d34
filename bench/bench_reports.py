"""Template reports at scale: ``dcmspec build report-template.yaml --csv rows.csv`` with many rows.

    python bench/bench_reports.py                  # 1000 rows, 3 runs
    python bench/bench_reports.py --rows 5000 --runs 1 --profile

Writes a CSV of ``--rows`` cases for ``specs_examples/report-template.yaml`` under
``bench/_work/reports/`` and times the whole ``dcmspec build`` process (start-up, loading, checking,
building and writing every report), as a user would run it. ``--profile`` runs the build once more
under cProfile and prints the top functions by cumulative and by own time.
"""

from __future__ import annotations

import argparse
import csv
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
TEMPLATE = REPO / "specs_examples" / "report-template.yaml"
WORK = BENCH_DIR / "_work" / "reports"
SITES = ["Liver", "Spleen", "Kidney", "Pancreas", "Lung"]
READERS = ["Doe^Jane", "Roe^Richard", "Smith^Anna"]


def write_rows(path: Path, rows: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["lesion_id", "volume_ml", "diameter_mm", "finding_site", "reader", "slice"])
        for i in range(rows):
            writer.writerow(
                [
                    f"L{i:05d}",
                    f"{rng.uniform(0.1, 50):.3f}",
                    f"{rng.uniform(2, 40):.1f}",
                    rng.choice(SITES),
                    rng.choice(READERS),
                    rng.randint(1, 16),
                ]
            )


def command(rows_csv: Path, out: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "dcmspec_compiler",
        "build",
        str(TEMPLATE),
        "--csv",
        str(rows_csv),
        "-o",
        str(out),
        "-q",
    ]


def run_once(rows_csv: Path, out: Path) -> float:
    if out.exists():
        shutil.rmtree(out)
    start = time.perf_counter()
    proc = subprocess.run(command(rows_csv, out), capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"dcmspec build failed ({proc.returncode}):\n{proc.stderr}")
    return elapsed


def profile(rows_csv: Path, out: Path, top: int) -> None:
    import cProfile
    import pstats

    if out.exists():
        shutil.rmtree(out)
    stats_file = WORK / "build.prof"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "cProfile",
            "-o",
            str(stats_file),
            "-m",
            "dcmspec_compiler",
            "build",
            str(TEMPLATE),
            "--csv",
            str(rows_csv),
            "-o",
            str(out),
            "-q",
        ],
        check=False,
    )
    stats = pstats.Stats(str(stats_file))
    for key in ("cumulative", "tottime"):
        print(f"\n--- top {top} by {key} ---")
        stats.sort_stats(key).print_stats(top)
    del cProfile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="also profile one build")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    rows_csv = WORK / f"rows-{args.rows}.csv"
    write_rows(rows_csv, args.rows)
    out = WORK / "out"
    times = [run_once(rows_csv, out) for _ in range(args.runs)]
    written = len(list(out.glob("*.dcm")))
    if written != args.rows:
        raise SystemExit(f"expected {args.rows} reports, found {written}")
    median = statistics.median(times)
    print(
        f"{args.rows} reports from {TEMPLATE.name} + {rows_csv.name}: median {median:.2f} s over {args.runs} run(s)"
        f" ({', '.join(f'{t:.2f}' for t in times)}); {1000 * median / args.rows:.2f} ms per report"
    )
    if args.profile:
        profile(rows_csv, out, args.top)


if __name__ == "__main__":
    main()
