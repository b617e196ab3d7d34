"""Batch builds on 1, 2 and 4 workers: local processes (``--executor local``) and a Dask LocalCluster
(``--executor dask-local``), for template reports and for SEGs.

    python bench/bench_batch.py                                  # 10,000 reports, 200 SEGs
    python bench/bench_batch.py --reports 1000 --segs 100 --workers 1,2,4

Each cell times one whole ``dcmspec build TEMPLATE --csv ROWS -o OUT --executor E --workers N -q`` process
(start-up, cluster start, building, writing) and checks that every configuration wrote the same bytes
(SHA-256 over the output folder, manifest included). Reports: ``specs_examples/report-template.yaml``
with ``bench_reports.write_rows``; SEGs: ``specs_examples/organs-binary.yaml`` made a template (a BINARY
Segmentation of 3 organs on the example phantom), one row per SEG. Inputs and outputs go under
``bench/_work/batch/``. The load average is printed before and after: on a shared machine it matters.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
WORK = BENCH_DIR / "_work" / "batch"
sys.path.insert(0, str(BENCH_DIR))

from bench_reports import TEMPLATE, write_rows  # noqa: E402


def seg_template() -> str:
    """``specs_examples/organs-binary.yaml`` (3 segments) as a template: series number and a label per row."""
    text = (REPO / "specs_examples" / "organs-binary.yaml").read_text()
    for old, new in (
        (
            "id: organs-binary\n",
            "id: organs\nparameters:\n  series_number: {type: integer, minimum: 1}\n  organ: {type: string}\n",
        ),
        ("label: Liver\n", 'label: "${organ}"\n'),
        ("series: {number: 300,", 'series: {number: "${series_number}",'),
    ):
        assert old in text, old
        text = text.replace(old, new)
    return text


def seg_inputs(rows: int) -> tuple[Path, Path]:
    folder = WORK / "seg"
    if not (folder / "phantom").exists():
        shutil.copytree(REPO / "specs_examples" / "phantom", folder / "phantom")
    (folder / "organs.yaml").write_text(seg_template())
    cases = folder / f"cases-{rows}.csv"
    cases.write_text("series_number,organ\n" + "".join(f"{1000 + i},Liver {i}\n" for i in range(rows)))
    return folder / "organs.yaml", cases


def report_inputs(rows: int) -> tuple[Path, Path]:
    cases = WORK / f"reports-{rows}.csv"
    write_rows(cases, rows)
    return TEMPLATE, cases


def digest(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:16]


def run(template: Path, cases: Path, executor: str, workers: int, rows: int) -> tuple[float, str]:
    out = WORK / "out"
    if out.exists():
        shutil.rmtree(out)
    cmd = [
        sys.executable,
        "-m",
        "dcmspec_compiler",
        "build",
        str(template),
        "--csv",
        str(cases),
        "-o",
        str(out),
        "--executor",
        executor,
        "--workers",
        str(workers),
        "-q",
    ]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=template.parent)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    written = len(list(out.glob("*.dcm")))
    if written != rows:
        raise SystemExit(f"expected {rows} files, found {written}")
    return elapsed, digest(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=10_000)
    parser.add_argument("--segs", type=int, default=200)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--executors", default="local,dask-local")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    workers = [int(w) for w in args.workers.split(",")]
    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}; {os.cpu_count()} CPUs", flush=True)
    print("| objects | executor | workers | wall | objects/s | vs 1 worker |")
    print("|---|---|---|---|---|---|")
    for what, rows, inputs in (
        ("template reports", args.reports, report_inputs),
        ("SEGs (phantom)", args.segs, seg_inputs),
    ):
        if rows <= 0:
            continue
        template, cases = inputs(rows)
        digests = set()
        for executor in args.executors.split(","):
            base = None
            for n in workers:
                elapsed, sha = run(template, cases, executor, n, rows)
                digests.add(sha)
                base = base or elapsed
                print(
                    f"| {rows} {what} | {executor} | {n} | {elapsed:.1f} s | {rows / elapsed:.1f} | "
                    f"{base / elapsed:.2f}x |",
                    flush=True,
                )
        if len(digests) != 1:
            raise SystemExit(f"{what}: the configurations wrote different bytes: {sorted(digests)}")
        print(f"| {what}: every configuration wrote the same bytes (sha256 {digests.pop()}) | | | | | |", flush=True)
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
