"""Secondary Capture renders of a 10-segment SEG: time and peak memory of the build, and of the PNG codec.

    python bench/bench_secondary_capture.py [SLICES]     (default 40; inputs are made by bench/inputs.py)

Builds ``binary-10`` (the SEG) once, then times ``dcmspec build`` of a SecondaryCapture spec rendering every
slice a segment touches (512x512 CT, outlines of 10 segments burnt in; one RGB SC per slice) as whole
processes (median of 3), and the PNG codec alone on one of those pictures: encoding, decoding our own PNG
(Up filter) and decoding the same picture as Pillow saves it (Paeth rows: the slowest case), if Pillow is
installed.
"""

from __future__ import annotations

import io
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from inputs import prepare

from dcmspec_compiler.iods.sc import decode_png, encode_png, scread

SPEC = """dcmspec: 1
kind: SecondaryCapture
id: qc
sources: {images: ct/}
render:
  segmentation: {file: out-seg/binary-10.dcm}
  window: ct-abdomen
"""


def main() -> int:
    slices = int(sys.argv[1]) if len(sys.argv) > 1 else 40
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
    spec = work / "sc-render.yaml"
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
                str(work / "out-sc"),
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
    pictures = sorted((work / "out-sc").glob("qc-*.dcm"))
    rgb = scread(pictures[len(pictures) // 2]).pixels()
    start = time.perf_counter()
    png = encode_png(rgb)
    encode = time.perf_counter() - start
    start = time.perf_counter()
    decode_png(png)
    decode = time.perf_counter() - start
    line = (
        f"{slices} slices of 512x512, 10 segments: SecondaryCapture render of {len(pictures)} slices"
        f" {statistics.median(times):.2f} s (runs {', '.join(f'{t:.2f}' for t in times)}),"
        f" peak {max(peaks):.0f} MB;"
        f" PNG of one picture: encode {encode * 1000:.0f} ms, decode {decode * 1000:.0f} ms"
    )
    try:
        from PIL import Image
    except ImportError:
        print(line)
        return 0
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "PNG")
    start = time.perf_counter()
    decode_png(buf.getvalue())
    print(f"{line}, decode of Pillow's PNG (Paeth) {(time.perf_counter() - start) * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
