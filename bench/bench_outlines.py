"""Outlines of a 10-segment SEG drawn as a GSPS: time and peak memory of the PresentationState build.

    python bench/bench_outlines.py [SLICES]     (default 300; inputs are made by bench/inputs.py)

Builds ``binary-10`` (the SEG) once, then times ``dcmspec build`` of a PresentationState spec whose only
annotation is ``from_segmentation`` of that SEG, as whole processes (median of 3), and separately the
outline tracing alone (``frame_outlines`` on the 10 segment masks) in this process.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from inputs import prepare

from dcmspec_compiler.spatial.contours import frame_outlines

SPEC = """dcmspec: 1
kind: PresentationState
id: outlines
sources: {images: ct/}
window: ct-abdomen
annotations:
  - from_segmentation: {file: out-seg/binary-10.dcm}
"""


def main() -> int:
    slices = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    work = prepare(slices)
    seg_out = work / "out-seg"
    if not (seg_out / "binary-10.dcm").exists():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "dcmspec_compiler",
                "build",
                "-q",
                str(work / "binary-10.yaml"),
                "-o",
                str(seg_out),
                "--force",
            ],
            check=True,
        )
    spec = work / "outlines.yaml"
    spec.write_text(SPEC)
    times, peaks = [], []
    for _ in range(3):
        start = time.perf_counter()
        proc = subprocess.run(
            [
                "/usr/bin/time",
                "-f",
                "%M",
                sys.executable,
                "-m",
                "dcmspec_compiler",
                "build",
                "-q",
                str(spec),
                "-o",
                str(work / "out-pr"),
                "--force",
            ],
            capture_output=True,
            text=True,
        )
        times.append(time.perf_counter() - start)
        if proc.returncode != 0:
            print(proc.stderr)
            return 1
        peaks.append(int(proc.stderr.strip().splitlines()[-1]) / 1024)
    masks = np.load(work / "masks" / "organs10.npy", mmap_mode="r")
    start = time.perf_counter()
    n = 0
    for value in range(1, 11):
        n += sum(len(f) for f in frame_outlines(masks == value))
    tracing = time.perf_counter() - start
    print(
        f"{slices} slices, 10 segments: PresentationState build {statistics.median(times):.2f} s"
        f" (runs {', '.join(f'{t:.2f}' for t in times)}), peak {max(peaks):.0f} MB;"
        f" outline tracing alone {tracing:.2f} s for {n} outlines"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
