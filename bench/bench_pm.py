"""Parametric Map of a float32 512x512xN map: dcmspec vs dcmqi's itkimage2paramap vs highdicom.

    python bench/bench_pm.py [SLICES] [RUNS]       (default 300 slices, 3 runs; inputs by bench/inputs.py)

Each tool runs as a whole process, as a user runs it (start-up, reading the series and the map, building,
writing): `dcmspec build pmap.yaml` (map from masks/float_map.npy), dcmqi's C++ `itkimage2paramap` (map from
masks/float_map.nrrd) and a stand-alone highdicom script (`highdicom.pm.ParametricMap`, map from the .npy).
Wall time: median of RUNS (order rotating); CPU time (user + system) and peak memory (maximum RSS) of the
child from GNU time: on a shared, loaded machine compare CPU medians. Every
output is checked: Float Pixel Data decoded by numpy, frames placed by Image Position (Patient) on the
series grid, equal to the input map. The output size is the file's size. dcmspec is byte-compiled
first, as `pip install` does.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pydicom

sys.path.insert(0, str(Path(__file__).resolve().parent))
from exes import precompile  # byte-compiles dcmspec as pip install does
from inputs import dcmqi_exe, prepare

SPEC = """dcmspec: 1
kind: ParametricMap
id: pmap
sources: {images: ct/}
map:
  file: masks/float_map.npy
  anatomic_region: SCT:818981001 "Abdomen"
mappings:
  - {label: T1, units: ms, quantity: DCM:113063 "T1"}
series: {number: 400, description: Bench map}
equipment: {manufacturer: Bench, model: BenchMap, software_versions: "1.0", serial_number: "1"}
"""

DCMQI_JSON = {
    "SeriesDescription": "Bench map",
    "SeriesNumber": "400",
    "InstanceNumber": "1",
    "QuantityValueCode": {"CodeValue": "113063", "CodingSchemeDesignator": "DCM", "CodeMeaning": "T1"},
    "MeasurementUnitsCode": {"CodeValue": "ms", "CodingSchemeDesignator": "UCUM", "CodeMeaning": "ms"},
    "MeasurementMethodCode": {
        "CodeValue": "113250",
        "CodingSchemeDesignator": "DCM",
        "CodeMeaning": "Mono-exponential diffusion model",
    },
    "AnatomicRegionSequence": {"CodeValue": "818981001", "CodingSchemeDesignator": "SCT", "CodeMeaning": "Abdomen"},
    "DerivationCode": {"CodeValue": "110001", "CodingSchemeDesignator": "DCM", "CodeMeaning": "Image Processing"},
    "FrameLaterality": "U",
    "RealWorldValueSlope": "1",
}

HD_SCRIPT = """import sys
from pathlib import Path
import numpy as np, pydicom, highdicom as hd
from pydicom.sr.coding import Code
files = sorted(Path("ct").iterdir())
sources = sorted((pydicom.dcmread(f) for f in files), key=lambda d: float(d.ImagePositionPatient[2]))
values = np.load("masks/float_map.npy")
mapping = hd.pm.RealWorldValueMapping(lut_label="T1", lut_explanation="T1", unit=Code("ms", "UCUM", "ms"),
    value_range=(float(values.min()), float(values.max())), slope=1, intercept=0,
    quantity_definition=Code("113063", "DCM", "T1"))
pm = hd.pm.ParametricMap(sources, values, hd.UID(), 400, hd.UID(), 1, "Bench", "BenchMap", "1.0", "1",
    False, [mapping], window_center=float(values.mean()), window_width=float(np.ptp(values)) or 1.0)
pm.save_as(sys.argv[1])
"""


def timed(cmd: list[str], cwd: Path) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system) and peak RSS (MB) of one process."""
    start = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-f", "%M %U %S", *cmd], cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    rss, user, system = proc.stderr.strip().splitlines()[-1].split()
    return wall, float(user) + float(system), int(rss) / 1024


def check(path: Path, values: np.ndarray, z0: float, dz: float) -> str:
    """'ok' when the file's frames, placed by their z position, equal the map."""
    ds = pydicom.dcmread(path)
    n, rows, cols = int(ds.NumberOfFrames), int(ds.Rows), int(ds.Columns)
    frames = np.frombuffer(ds.FloatPixelData, "<f4").reshape(n, rows, cols)
    for f, item in enumerate(ds.PerFrameFunctionalGroupsSequence):
        z = float(item.PlanePositionSequence[0].ImagePositionPatient[2])
        k = round((z - z0) / dz)
        if abs(z0 + k * dz - z) > 0.01 or not np.array_equal(frames[f], values[k]):
            return f"WRONG (frame {f})"
    return "ok" if n == len(values) else f"WRONG ({n} frames for {len(values)})"


def write_inputs(work: Path) -> None:
    """The spec, dcmqi's metadata and the highdicom script of the map in ``work`` (made by inputs.prepare)."""
    (work / "pmap.yaml").write_text(SPEC)
    (work / "dcmqi").mkdir(exist_ok=True)
    (work / "dcmqi" / "pmap.json").write_text(json.dumps(DCMQI_JSON, indent=1))
    (work / "hd_pmap.py").write_text(HD_SCRIPT)


def commands(out: Path, dcmspec: str, dcmqi: str) -> dict[str, tuple[list[str], Path]]:
    """tool -> (command line run in the work folder, the file it writes under ``out``)."""
    return {
        "dcmspec": (
            [dcmspec, "build", "-q", "pmap.yaml", "-o", str(out / "dcmspec"), "--force"],
            out / "dcmspec" / "pmap.dcm",
        ),
        "highdicom": ([sys.executable, "hd_pmap.py", str(out / "highdicom.dcm")], out / "highdicom.dcm"),
        "dcmqi": (
            [
                dcmqi,
                "--inputMetadata",
                "dcmqi/pmap.json",
                "--inputImage",
                "masks/float_map.nrrd",
                "--inputDICOMDirectory",
                "ct",
                "--outputDICOM",
                str(out / "dcmqi.dcm"),
            ],
            out / "dcmqi.dcm",
        ),
    }


def main() -> int:
    slices = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    work = prepare(slices)
    precompile()
    write_inputs(work)
    out = work / "out-pm"
    out.mkdir(exist_ok=True)
    dcmspec = shutil.which("dcmspec", path=str(Path(sys.executable).parent)) or "dcmspec"
    commands_ = commands(out, dcmspec, dcmqi_exe("itkimage2paramap"))
    tools = {name: cmd for name, (cmd, _) in commands_.items() if shutil.which(cmd[0])}
    files = {name: path for name, (_, path) in commands_.items()}
    results: dict[str, list[tuple[float, float, float]]] = {name: [] for name in tools}
    names = list(tools)
    for run in range(runs):
        for name in names[run % len(names) :] + names[: run % len(names)]:
            results[name].append(timed(tools[name], work))
    grid = json.loads((work / "grid.json").read_text())
    values = np.load(work / "masks" / "float_map.npy", mmap_mode="r")
    load = os.getloadavg()[0]
    print(
        f"Parametric Map, float32 {grid['shape'][1]}x{grid['shape'][2]}x{slices}, median of {runs} runs"
        f" (load average {load:.1f} on {os.cpu_count()} cores)"
    )
    print("| tool | wall s (min-max) | CPU s (min-max) | peak RSS MB | output MB | peak / output | check |")
    print("|---|---|---|---|---|---|---|")
    for name in tools:
        walls = [w for w, _, _ in results[name]]
        cpus = [c for _, c, _ in results[name]]
        peak = max(p for _, _, p in results[name])
        size = files[name].stat().st_size / 2**20
        verdict = check(files[name], values, grid["origin"][2], grid["spacing"][0])
        print(
            f"| {name} | {statistics.median(walls):.2f} ({min(walls):.2f}-{max(walls):.2f}) |"
            f" {statistics.median(cpus):.2f} ({min(cpus):.2f}-{max(cpus):.2f}) | {peak:.0f} |"
            f" {size:.0f} | {peak / size:.2f} | {verdict} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
