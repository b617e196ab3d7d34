"""Start-up figures: `dcmspec validate` of a small spec, and a 1-segment BINARY SEG of 300 slices against
dcmqi's itkimage2segimage, as whole processes, interleaved, medians of many runs.

    python bench/startup.py                 # 15 rounds; inputs from bench/inputs.py (made once)
    python bench/startup.py --runs 31 --no-precompile
    python bench/startup.py --runtime-install   # as a user installs it: `pip install .` in a venv of its own

Each round runs every command once, in an order that rotates from round to round, so that the load of a
shared machine falls on all of them alike. Reported per command: median wall time (min-max) and the
median CPU time (user + system, from ``os.wait4``; less sensitive to other processes than wall time).
The load average before and after is printed with the table. See bench/README.md ("Start-up").
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from exes import dcmspec_exe, precompile
from inputs import WORK_DIR, dcmqi_exe, prepare, work_dir

REPO = Path(__file__).resolve().parent.parent
SMALL_SPEC = REPO / "specs_examples" / "organs-binary.yaml"
SLICES = 300
#: A process that only reads the 1-segment mask and writes its non-empty frames packed 8 pixels a byte:
#: the floor of the SEG build (no DICOM at all).
FLOOR = """
import sys, numpy as np
mask = np.load("masks/sphere.npy", mmap_mode="r")
with open(sys.argv[1], "wb") as out:
    for frame in mask:
        if frame.any():
            out.write(np.packbits(frame != 0, bitorder="little").tobytes())
"""


def commands(work: Path, out: Path) -> dict[str, tuple[list[str], Path]]:
    """name -> (command line, working folder)."""
    dcmspec = dcmspec_exe()
    return {
        "python -c pass": ([sys.executable, "-c", "pass"], REPO),
        "dcmspec --help": ([dcmspec, "--help"], REPO),
        "dcmspec validate specs_examples/organs-binary.yaml": ([dcmspec, "validate", str(SMALL_SPEC)], REPO),
        "dcmspec validate --fast specs_examples/organs-binary.yaml": (
            [dcmspec, "validate", "--fast", str(SMALL_SPEC)],
            REPO,
        ),
        f"dcmspec build binary-1 ({SLICES} slices)": (
            [dcmspec, "build", "binary-1.yaml", "-o", str(out / "dcmspec"), "--force", "-q"],
            work,
        ),
        f"dcmqi itkimage2segimage binary-1 ({SLICES} slices)": (
            [
                dcmqi_exe("itkimage2segimage"),
                "--inputMetadata",
                "dcmqi/binary-1.json",
                "--inputImageList",
                "masks/sphere.nrrd",
                "--inputDICOMDirectory",
                "ct",
                "--outputDICOM",
                str(out / "dcmqi.dcm"),
            ],
            work,
        ),
        "floor: read the mask, write packed frames (python + numpy)": (
            [sys.executable, "-c", FLOOR, str(out / "floor.bin")],
            work,
        ),
    }


def run_once(cmd: list[str], cwd: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run; raises when the command fails."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {proc.stderr.read().decode(errors='replace')[-2000:]}")
    proc.stderr.close()
    return wall, usage.ru_utime + usage.ru_stime


def runtime_venv() -> Path:
    """The Python of a venv holding dcmspec (this checkout, not editable) and its runtime dependencies only;
    made, or brought up to date, on each call (pip reinstalls the checkout)."""
    venv = WORK_DIR / "venv-runtime"
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            "--force-reinstall",
            "--no-deps",
            str(REPO),
        ],
        check=True,
    )
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(REPO)], check=True)
    return python


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=15, help="rounds (default 15)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed rounds first (default 1)")
    ap.add_argument(
        "--no-precompile",
        action="store_true",
        help="do not byte-compile dcmspec first (measures source compilation too)",
    )
    ap.add_argument("--only", default="", help="comma separated substrings: run only matching commands")
    ap.add_argument(
        "--runtime-install",
        action="store_true",
        help="measure dcmspec as a user installs it: `pip install .` (runtime dependencies only, no test "
        "extras, whose Pillow and CharLS pydicom would load) in a venv of its own, bench/_work/venv-runtime",
    )
    args = ap.parse_args(argv)
    if args.runtime_install:
        rest = [a for a in (argv or sys.argv[1:]) if a != "--runtime-install"]
        dcmqi_bin = str(Path(dcmqi_exe("itkimage2segimage")).parent)  # the binary this interpreter found
        return subprocess.call([str(runtime_venv()), __file__, *rest], env={**os.environ, "DCMQI_BIN": dcmqi_bin})

    out = WORK_DIR / "startup-out"
    out.mkdir(parents=True, exist_ok=True)
    if not args.no_precompile:
        precompile()
    cases = commands(work_dir(SLICES), out)
    if args.only:
        cases = {k: v for k, v in cases.items() if any(s in k for s in args.only.split(","))}
    if any(cwd != REPO for _, cwd in cases.values()):  # the 300-slice inputs (made once)
        prepare(SLICES)
    names = list(cases)
    walls: dict[str, list[float]] = {n: [] for n in names}
    cpus: dict[str, list[float]] = {n: [] for n in names}
    load_before = os.getloadavg()
    for r in range(args.warmup + args.runs):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            wall, cpu = run_once(*cases[name])
            if r >= args.warmup:
                walls[name].append(wall)
                cpus[name].append(cpu)
    load_after = os.getloadavg()
    shutil.rmtree(out, ignore_errors=True)

    results = {
        n: {
            "median_s": statistics.median(walls[n]),
            "min_s": min(walls[n]),
            "max_s": max(walls[n]),
            "cpu_median_s": statistics.median(cpus[n]),
            "runs": len(walls[n]),
        }
        for n in names
    }
    lines = [
        f"Start-up, {args.runs} interleaved rounds (+{args.warmup} warm-up), "
        f"{'byte-compiled' if not args.no_precompile else 'not byte-compiled'}; "
        f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after, {os.cpu_count()} CPUs",
        "",
        "| command | wall median (min-max) | CPU median |",
        "|---|---|---|",
    ]
    for n in names:
        e = results[n]
        lines.append(f"| {n} | {e['median_s']:.3f} s ({e['min_s']:.3f}-{e['max_s']:.3f}) | {e['cpu_median_s']:.3f} s |")
    build = next((results[n] for n in names if n.startswith("dcmspec build")), None)
    dcmqi = next((results[n] for n in names if n.startswith("dcmqi")), None)
    lines.append("")
    for n in names:
        if n.startswith("dcmspec validate"):
            lines.append(
                f"{n.split(' specs_examples')[0]}: {results[n]['cpu_median_s']:.3f} s CPU (aim: at most 0.3 s)"
            )
    if build and dcmqi:
        lines.append(f"binary-1 build / dcmqi: {build['median_s'] / dcmqi['median_s']:.2f} (aim: at most 0.5)")
    text = "\n".join(lines)
    print(text)
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    (WORK_DIR / "startup.md").write_text(text + "\n")
    (WORK_DIR / "startup.json").write_text(
        json.dumps({"load": [load_before, load_after], "results": results}, indent=2)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
