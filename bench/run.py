"""dcmspec vs highdicom vs dcmqi: wall time, peak memory, output size and correctness of SEG creation (and
of a Parametric Map, with bench_pm.py's inputs and check).

    python bench/run.py                                   # 100 and 300 slices, 3 runs, all scenarios
    python bench/run.py --slices 100 --runs 5 --scenarios 'binary-*'

Every tool runs as a whole process (start-up, reading the series and the mask, building, writing), as a
user would run it. See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_pm
from exes import dcmspec_exe as _dcmspec_exe
from inputs import BENCH_DIR, MAX_FRACTIONAL, SCENARIOS, WORK_DIR, Scenario, dcmqi_exe, prepare
from verify import check_seg

REPO = BENCH_DIR.parent
TOOLS = ("highdicom", "dcmqi", "dcmspec")


# ---------------------------------------------------------------------------------------------- tools


def _dcmqi_exe() -> str:
    return dcmqi_exe("itkimage2segimage")


def na_reason(sc: Scenario, tool: str) -> str | None:
    return sc.na.get(tool)


def command(tool: str, sc: Scenario, work: Path, out_dir: Path) -> tuple[list[str], Path]:
    """The command line of ``tool`` for ``sc`` and the file it writes."""
    if sc.seg_type == "PMAP":  # the Parametric Map of bench_pm.py
        bench_pm.write_inputs(work)
        return bench_pm.commands(out_dir, _dcmspec_exe(), dcmqi_exe("itkimage2paramap"))[tool]
    if tool == "dcmspec":
        return (
            [_dcmspec_exe(), "build", f"{sc.name}.yaml", "-o", str(out_dir), "--force", "-q"],
            out_dir / f"{sc.name}.dcm",
        )
    if tool == "highdicom":
        out = out_dir / f"{sc.name}.dcm"
        return [sys.executable, f"hd_{sc.name}.py", str(out)], out
    if tool == "dcmqi":
        out = out_dir / f"{sc.name}.dcm"
        cmd = [
            _dcmqi_exe(),
            "--inputMetadata",
            f"dcmqi/{sc.name}.json",
            "--inputImageList",
            f"masks/{sc.mask}.nrrd",
            "--inputDICOMDirectory",
            "ct",
            "--outputDICOM",
            str(out),
        ]
        if sc.seg_type == "LABELMAP":
            cmd += ["--segmentationType", "labelmap"]
        return cmd, out
    raise ValueError(tool)


GNU_TIME = "/usr/bin/time" if Path("/usr/bin/time").exists() else None


def run_process(cmd: list[str], cwd: Path, log: Path, timeout: float) -> tuple[float, int, int]:
    """Run ``cmd``; returns (wall seconds, peak RSS bytes of the child, exit status).

    The peak RSS is taken by GNU time (``/usr/bin/time -f %M``) rather than by ``os.wait4`` here: on
    Linux a child's ru_maxrss also counts the memory of the forked copy of its parent before exec, so
    this (numpy-loaded, mask-checking) process would inflate every figure. GNU time is a 2 MB C program.
    Without it, ``os.wait4``'s ru_maxrss is used. Wall time is measured here around the whole process.
    """
    rss_file = log.with_suffix(".rss")
    wrapped = [GNU_TIME, "-f", "%M", "-o", str(rss_file), "--", *cmd] if GNU_TIME else cmd
    with open(log, "wb") as fh:
        start = time.perf_counter()
        proc = subprocess.Popen(wrapped, cwd=cwd, stdout=fh, stderr=subprocess.STDOUT)
        try:
            _, status, usage = os.wait4(proc.pid, 0) if timeout <= 0 else _wait(proc, start + timeout)
        finally:
            wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    rss = usage.ru_maxrss * 1024
    if GNU_TIME:
        with contextlib.suppress(OSError, ValueError, IndexError):
            rss = int(rss_file.read_text().strip().splitlines()[-1]) * 1024
    return wall, rss, proc.returncode


def _kill_children(pid: int) -> None:
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return
    for child in children:
        with contextlib.suppress(OSError):
            os.kill(int(child), 9)


def _wait(proc: subprocess.Popen, deadline: float):
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            return pid, status, usage
        if time.perf_counter() > deadline:
            _kill_children(proc.pid)  # the tool under GNU time (killing time alone leaves it running)
            proc.kill()
            return os.wait4(proc.pid, 0)
        time.sleep(0.001)


def bench_scenario(
    sc: Scenario, slices: int, tools: list[str], runs: int, warmup: int, verify: bool, timeout: float, log=print
) -> dict:
    work = prepare(slices, log=log)
    grid = json.loads((work / "grid.json").read_text())
    res: dict = {"scenario": sc.name, "slices": slices, "tools": {}}
    active = []
    for tool in tools:
        reason = na_reason(sc, tool)
        if reason:
            res["tools"][tool] = {"na": reason}
        else:
            active.append(tool)
            res["tools"][tool] = {"times": [], "rss": [], "problems": [], "size": None}
    if not active:
        return res
    mask = None
    for r in range(warmup + runs):
        order = active[r % len(active) :] + active[: r % len(active)]  # rotate per run
        for tool in order:
            entry = res["tools"][tool]
            if entry.get("error"):
                continue
            out_dir = work / "out" / tool / sc.name
            out_dir.mkdir(parents=True, exist_ok=True)
            cmd, out_file = command(tool, sc, work, out_dir)
            logf = out_dir / "log.txt"
            wall, rss, code = run_process(cmd, work, logf, timeout)
            if code != 0:
                tail = logf.read_text(errors="replace")[-600:]
                entry["error"] = f"exit {code}: {tail.strip().splitlines()[-1] if tail.strip() else ''}"
                log(f"  {tool}: FAILED exit {code} (log {logf})")
                continue
            if r >= warmup:
                entry["times"].append(wall)
                entry["rss"].append(rss)
            entry["size"] = out_file.stat().st_size
            if r == 0 and verify:
                if mask is None:
                    mask = np.load(work / "masks" / f"{sc.mask}.npy", mmap_mode="r")
                t0 = time.perf_counter()
                entry["problems"] = _check(sc, out_file, mask, grid)
                entry["verified"] = True
                state = "ok" if not entry["problems"] else "WRONG: " + "; ".join(entry["problems"][:3])
                log(
                    f"  {tool}: {wall:.2f} s, {rss / 2**20:.0f} MB, {entry['size'] / 1e6:.1f} MB out; "
                    f"check {state} ({time.perf_counter() - t0:.1f} s)"
                )
            else:
                log(
                    f"  {tool}: {'run' if r >= warmup else 'warm-up'} {r - warmup + 1}: {wall:.2f} s, "
                    f"{rss / 2**20:.0f} MB"
                )
    return res


def _check(sc: Scenario, out_file: Path, mask: np.ndarray, grid: dict) -> list[str]:
    """Problems of an output: a SEG decoded against its mask, a Parametric Map against its float map."""
    if sc.seg_type == "PMAP":
        verdict = bench_pm.check(out_file, mask, grid["origin"][2], grid["spacing"][0])
        return [] if verdict == "ok" else [verdict]
    return check_seg(out_file, mask, grid, sc.seg_type, MAX_FRACTIONAL)


def startup(n: int) -> dict:
    example = REPO / "specs_examples" / "organs-binary.yaml"
    cases = {
        "python -c pass (baseline)": [sys.executable, "-c", "pass"],
        "python -c 'import highdicom'": [sys.executable, "-c", "import highdicom"],
        "dcmspec --help": [_dcmspec_exe(), "--help"],
        "dcmspec validate specs_examples/organs-binary.yaml": [_dcmspec_exe(), "validate", str(example)],
    }
    out = {}
    logf = WORK_DIR / "startup.log"
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    for name, cmd in cases.items():
        times, rss = [], []
        for _ in range(n):
            wall, peak, code = run_process(cmd, REPO, logf, 120)
            if code != 0:
                times = None
                break
            times.append(wall)
            rss.append(peak)
        out[name] = None if times is None else {"median_s": statistics.median(times), "rss": max(rss)}
    return out


# ---------------------------------------------------------------------------------------------- report


def _cell(entry: dict) -> str:
    if "na" in entry:
        return "n/a"
    if entry.get("error"):
        return "ERROR"
    if not entry["times"]:
        return "-"
    times = entry["times"]
    t = statistics.median(times)
    mark = " WRONG" if entry.get("problems") else ""
    spread = f" ({min(times):.2f}–{max(times):.2f})" if len(times) > 1 else ""  # noqa: RUF001  an en dash, in a Markdown table
    return f"{t:.2f} s{spread} / {max(entry['rss']) / 2**20:.0f} MB{mark}"


def _median(entry: dict) -> float | None:
    if "na" in entry or entry.get("error") or not entry.get("times"):
        return None
    return statistics.median(entry["times"])


def table(results: list[dict]) -> str:
    head = (
        "| scenario | slices | highdicom | dcmqi | dcmspec | dcmspec/hd | dcmspec/dcmqi | sizes MB "
        "(hd / dcmqi / dcmspec) | check |"
    )
    lines = [head, "|" + "---|" * 9]
    for res in results:
        tools = res["tools"]
        if all("na" in e for e in tools.values()):
            reasons = {e["na"] for e in tools.values()}
            lines.append(f"| {res['scenario']} | {res['slices']} | n/a ({'; '.join(sorted(reasons))}) | | | | | | |")
            continue
        cells = [_cell(tools.get(t, {"na": "not run"})) for t in TOOLS]
        ds = _median(tools.get("dcmspec", {"na": ""}))
        ratios = []
        for other in ("highdicom", "dcmqi"):
            o = _median(tools.get(other, {"na": ""}))
            ratios.append(f"{ds / o:.2f}" if ds and o else "–")  # noqa: RUF001  an en dash, in a Markdown table
        sizes = []
        for t in TOOLS:
            e = tools.get(t, {"na": ""})
            sizes.append(f"{e['size'] / 1e6:.1f}" if e.get("size") else "–")  # noqa: RUF001  an en dash, in a Markdown table
        failed = [
            t
            for t, e in tools.items()
            if e.get("error") or e.get("problems") or ("na" not in e and not e.get("verified"))
        ]
        wrong = [t for t, e in tools.items() if e.get("error") or e.get("problems")]
        check = f"FAILED ({', '.join(wrong)})" if wrong else "ok" if not failed else f"unchecked ({', '.join(failed)})"
        lines.append(
            f"| {res['scenario']} | {res['slices']} | {' | '.join(cells)} | {' | '.join(ratios)} "
            f"| {' / '.join(sizes)} | {check} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--slices", default="100,300", help="series lengths, comma separated (default 100,300)")
    ap.add_argument("--runs", type=int, default=3, help="timed runs per tool (default 3)")
    ap.add_argument(
        "--warmup",
        type=int,
        default=1,
        help="untimed runs per tool before the timed ones; the first run is the one checked (default 1)",
    )
    ap.add_argument(
        "--scenarios",
        default="*",
        help="comma-separated names or glob patterns (default all): " + ", ".join(s.name for s in SCENARIOS),
    )
    ap.add_argument("--tools", default=",".join(TOOLS), help="comma separated subset of " + ",".join(TOOLS))
    ap.add_argument("--no-verify", action="store_true", help="skip decoding and comparing the outputs")
    ap.add_argument("--startup-runs", type=int, default=10, help="runs of the start-up timings (0: skip)")
    ap.add_argument("--timeout", type=float, default=3600, help="seconds before a process is killed")
    ap.add_argument(
        "--keep-outputs",
        action="store_true",
        help="keep bench/_work/n*/out/ (default: delete each scenario's outputs after it)",
    )
    ap.add_argument("--report", metavar="RESULTS_JSON", help="only print the tables of an earlier run")
    args = ap.parse_args(argv)
    if args.report:
        data = json.loads(Path(args.report).read_text())
        print(report(data["results"], data.get("startup", {}), data.get("startup_runs", 10)))
        return 0

    slices = [int(s) for s in args.slices.split(",") if s]
    patterns = [p.strip() for p in args.scenarios.split(",") if p.strip()]
    chosen = [s for s in SCENARIOS if any(fnmatch.fnmatchcase(s.name, p) for p in patterns)]
    tools = [t for t in args.tools.split(",") if t]
    for t in tools:
        if t not in TOOLS:
            ap.error(f"unknown tool {t}")
    if not chosen:
        ap.error("no scenario matches --scenarios")

    env_note = {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OMP_NUM_THREADS") if k in os.environ}
    print(
        f"# dcmspec bench: slices {slices}, {args.runs} timed run(s) + {args.warmup} warm-up, "
        f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}, python {sys.version.split()[0]}, "
        f"env {env_note or '{}'}"
    )
    import dcmspec_compiler

    origin = Path(dcmspec_compiler.__file__).resolve().parent
    print(
        f"# dcmspec {dcmspec_compiler.__version__} from {origin}"
        + ("" if origin == REPO / "compiler" else "  WARNING: not this checkout (pip install -e .?)")
    )
    print(f"# dcmspec: {_dcmspec_exe()}\n# dcmqi:   {_dcmqi_exe()}\n# highdicom: {sys.executable} hd_*.py")

    results = []
    for n in slices:
        prepare(n)
        for sc in chosen:
            print(f"[{n} slices] {sc.name}", flush=True)
            res = bench_scenario(
                sc,
                n,
                tools,
                args.runs,
                args.warmup,
                not args.no_verify,
                args.timeout,
                log=lambda m: print(m, flush=True),
            )
            results.append(res)
            if not args.keep_outputs:
                shutil.rmtree(WORK_DIR / f"n{n}" / "out", ignore_errors=True)

    print(f"# load average at the end: {os.getloadavg()[0]:.2f}")
    start = startup(args.startup_runs) if args.startup_runs > 0 else {}
    text = report(results, start, args.startup_runs)
    print("\n" + text)
    (WORK_DIR / "results.md").write_text(text)
    (WORK_DIR / "results.json").write_text(
        json.dumps({"results": results, "startup": start, "startup_runs": args.startup_runs}, indent=1)
    )
    print(f"(also written to {WORK_DIR / 'results.md'} and results.json)")
    failed = any(e.get("error") or e.get("problems") for r in results for e in r["tools"].values())
    return 1 if failed else 0


def report(results: list[dict], start: dict, startup_runs: int) -> str:
    md = [
        "## SEG and Parametric Map creation: median (min–max) wall time / peak RSS of the whole process",  # noqa: RUF001  an en dash, in a Markdown heading
        "",
        table(results),
        "",
    ]
    if start:
        md += [f"## Start-up (median of {startup_runs})", "", "| command | median | peak RSS |", "|---|---|---|"]
        for name, r in start.items():
            md.append(
                f"| `{name}` | "
                + ("failed | |" if r is None else f"{r['median_s'] * 1000:.0f} ms | {r['rss'] / 2**20:.0f} MB |")
            )
        md.append("")
    return "\n".join(md)


if __name__ == "__main__":
    sys.exit(main())
