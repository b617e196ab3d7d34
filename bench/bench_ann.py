"""100,000 cell polygons from a QuPath-style GeoJSON: dcmspec build vs highdicom's ANN constructor.

    python bench/bench_ann.py [CELLS] [RUNS]      (default 100000 cells, 3 runs; highdicom: pip install highdicom)

Writes into ``bench/_work/ann/``: a 4096x4096 slide phantom (``dcmspec_compiler.testing.slide``), a GeoJSON
FeatureCollection of CELLS 12-vertex polygons in two QuPath classes with two measurements each (one missing
for every tenth cell), a MicroscopyAnnotations spec, and a stand-alone highdicom script doing the same job
(json.load, one array per polygon, ``hd.ann.AnnotationGroup`` per class, ``MicroscopyBulkSimpleAnnotations``,
save). Each tool runs as a whole process (median wall time, CPU time and peak RSS by GNU time over RUNS runs); the
highdicom script also prints the time of its constructor calls alone. Both outputs are read back with
highdicom and compared with the GeoJSON.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from dcmspec_compiler.testing.slide import Slide, write_slide_image

WORK = Path(__file__).resolve().parent / "_work" / "ann"
SIZE = 4096
CLASSES = ("Tumor", "Stroma")
SPEC = """dcmspec: 1
kind: MicroscopyAnnotations
id: cells
sources: {images: slide.dcm}
groups:
"""
GROUP = """  - label: {name} nuclei
    category: SCT:91723000 "Anatomical Structure"
    type: SCT:84640000 "Nucleus"
    algorithm: {{type: AUTOMATIC, name: StarDist, version: "0.8.5"}}
    geojson: {{file: cells.geojson, classification: {name}}}
    measurements:
      - {{key: "Nucleus: Area µm^2", name: SCT:42798000 "Area", unit: um2}}
      - {{key: "Nucleus: Circularity", name: SCT:272140002 "Circularity", unit: "1"}}
"""
HIGHDICOM = r"""
import json, sys, time
import numpy as np, pydicom, highdicom as hd
from pydicom.sr.coding import Code
start = time.perf_counter()
slide = pydicom.dcmread("slide.dcm", stop_before_pixels=True)
features = json.load(open("cells.geojson", encoding="utf-8"))["features"]
groups = []
constructing = 0.0
for number, name in enumerate(("Tumor", "Stroma"), start=1):
    chosen = [f for f in features if f["properties"]["classification"]["name"] == name]
    polygons = [np.array(f["geometry"]["coordinates"][0][:-1], dtype=np.float64) for f in chosen]
    def values(key):
        return np.array([np.nan if f["properties"]["measurements"].get(key) is None
                         else f["properties"]["measurements"][key] for f in chosen], dtype=np.float64)
    t = time.perf_counter()
    groups.append(hd.ann.AnnotationGroup(
        number=number, uid=hd.UID(), label=f"{name} nuclei",
        annotated_property_category=Code("91723000", "SCT", "Anatomical Structure"),
        annotated_property_type=Code("84640000", "SCT", "Nucleus"),
        graphic_type=hd.ann.GraphicTypeValues.POLYGON, graphic_data=polygons,
        algorithm_type=hd.ann.AnnotationGroupGenerationTypeValues.AUTOMATIC,
        algorithm_identification=hd.AlgorithmIdentificationSequence(
            name="StarDist", version="0.8.5", family=Code("123110", "DCM", "Artificial Intelligence")),
        measurements=[hd.ann.Measurements(name=Code("42798000", "SCT", "Area"), values=values("Nucleus: Area µm^2"),
                                          unit=Code("um2", "UCUM", "square micrometer")),
                      hd.ann.Measurements(name=Code("272140002", "SCT", "Circularity"),
                                          values=values("Nucleus: Circularity"), unit=Code("1", "UCUM", "no units"))]))
    constructing += time.perf_counter() - t
t = time.perf_counter()
ann = hd.ann.MicroscopyBulkSimpleAnnotations(
    source_images=[slide], annotation_coordinate_type=hd.ann.AnnotationCoordinateTypeValues.SCOORD,
    annotation_groups=groups, series_instance_uid=hd.UID(), series_number=1300, sop_instance_uid=hd.UID(),
    instance_number=1, manufacturer="Lab", manufacturer_model_name="Net", software_versions="1",
    device_serial_number="1")
constructing += time.perf_counter() - t
ann.save_as(sys.argv[1])
print(f"constructors {constructing:.2f} s, whole script {time.perf_counter() - start:.2f} s", file=sys.stderr)
"""


def make_inputs(cells: int) -> None:
    WORK.mkdir(parents=True, exist_ok=True)
    if not (WORK / "slide.dcm").exists():
        write_slide_image(WORK / "slide.dcm", Slide(size=(SIZE, SIZE), tile=512))
    marker = WORK / f"cells-{cells}.done"
    if not marker.exists():
        rng = np.random.default_rng(1)
        centres = rng.uniform(10, SIZE - 10, (cells, 2))
        radii = rng.uniform(3, 8, cells)
        angles = np.linspace(0, 2 * np.pi, 13)[:-1]
        with open(WORK / "cells.geojson", "w", encoding="utf-8") as fh:
            fh.write('{"type": "FeatureCollection", "features": [\n')
            for i in range(cells):
                ring = np.round(
                    np.column_stack(
                        [centres[i, 0] + radii[i] * np.cos(angles), centres[i, 1] + radii[i] * np.sin(angles)]
                    ),
                    2,
                ).tolist()
                ring.append(ring[0])
                area = None if i % 10 == 0 else round(float(np.pi * radii[i] ** 2 * 0.25), 3)
                feature = {
                    "type": "Feature",
                    "id": f"cell-{i}",
                    "geometry": {"type": "Polygon", "coordinates": [ring]},
                    "properties": {
                        "objectType": "detection",
                        "classification": {"name": CLASSES[i % 2], "color": [200, 0, 0]},
                        "measurements": {
                            "Nucleus: Area µm^2": area,
                            "Nucleus: Circularity": round(float(rng.uniform(0.7, 1)), 3),
                        },
                    },
                }
                fh.write(("" if i == 0 else ",\n") + json.dumps(feature, ensure_ascii=False))
            fh.write("\n]}\n")
        marker.write_text("")
    (WORK / "cells.yaml").write_text(SPEC + "".join(GROUP.format(name=n) for n in CLASSES), encoding="utf-8")
    (WORK / "hd_cells.py").write_text(HIGHDICOM, encoding="utf-8")


def run(cmd: list[str]) -> tuple[float, float, float, str]:
    """(wall s, peak RSS MB, CPU s = user + system, the tool's own stderr) of one whole process."""
    start = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-f", "%M %U %S"] + cmd, cwd=WORK, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr}")
    lines = proc.stderr.strip().splitlines()
    peak, user, system = lines[-1].split()
    return wall, int(peak) / 1024, float(user) + float(system), "\n".join(lines[:-1])


def check(path: Path, cells: int) -> None:
    """highdicom reads the output: every polygon and measurement equals the GeoJSON's."""
    import highdicom as hd
    import pydicom

    features = json.loads((WORK / "cells.geojson").read_text(encoding="utf-8"))["features"]
    groups = hd.ann.MicroscopyBulkSimpleAnnotations.from_dataset(pydicom.dcmread(path)).get_annotation_groups()
    assert sum(g.number_of_annotations for g in groups) == cells
    for group, name in zip(groups, CLASSES):
        chosen = [f for f in features if f["properties"]["classification"]["name"] == name]
        data = group.get_graphic_data(hd.ann.AnnotationCoordinateTypeValues.SCOORD)
        for f, polygon in zip(chosen, data):
            assert np.array_equal(polygon, np.array(f["geometry"]["coordinates"][0][:-1])), name
        _, values, _ = group.get_measurements()
        want = np.array(
            [
                np.nan
                if f["properties"]["measurements"]["Nucleus: Area µm^2"] is None
                else f["properties"]["measurements"]["Nucleus: Area µm^2"]
                for f in chosen
            ],
            np.float32,
        )
        np.testing.assert_array_equal(values[:, 0], want)


def main() -> int:
    cells = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    make_inputs(cells)
    size = (WORK / "cells.geojson").stat().st_size / 1e6
    tools = {
        "dcmspec": [sys.executable, "-m", "dcmspec_compiler", "build", "-q", "cells.yaml", "-o", "out", "--force"],
        "highdicom": [sys.executable, "hd_cells.py", "hd_cells.dcm"],
    }
    print(f"{cells} polygons (12 vertices), GeoJSON {size:.0f} MB, {runs} runs, median:")
    for name, cmd in tools.items():
        results = [run(cmd) for _ in range(runs)]
        wall = statistics.median(r[0] for r in results)
        peak = statistics.median(r[1] for r in results)
        cpu = statistics.median(r[2] for r in results)
        note = results[-1][3].strip().splitlines()[-1] if name == "highdicom" else ""
        out = WORK / ("out/cells.dcm" if name == "dcmspec" else "hd_cells.dcm")
        check(out, cells)
        print(
            f"  {name:10s} {wall:6.2f} s wall  {cpu:6.2f} s CPU  {peak:5.0f} MB peak"
            f"  output {out.stat().st_size / 1e6:.1f} MB  {note}  (read back by highdicom: equal)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
