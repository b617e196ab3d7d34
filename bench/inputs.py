"""Generate (and cache) the benchmark inputs under ``bench/_work/n<SLICES>/``.

For one series length this writes:

* ``ct/``            a synthetic axial CT series, 512x512 int16, one file per slice (dcmspec_compiler.testing.phantom)
* ``masks/*.npy``    the masks as dcmspec reads them ([slice, row, column] in source order)
* ``masks/*.nrrd``   the same masks as raw NRRD in LPS space lying on the series (for dcmqi)
* ``*.yaml``        one dcmspec spec per scenario (paths in a spec are relative to its folder)
* ``dcmqi/*.json``   one dcmqi segmentation metadata file per scenario
* ``hd_*.py``        one stand-alone highdicom script per scenario

Everything is skipped when it exists already (delete the folder to regenerate). A ``.done`` marker is
written last, so an interrupted generation is redone.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dcmspec_compiler.testing.phantom import Grid, ct_pixels, ellipsoid, organ_label_map, soft_sphere, write_ct_series

BENCH_DIR = Path(__file__).resolve().parent
WORK_DIR = BENCH_DIR / "_work"

ROWS = COLS = 512
PIXEL_SPACING = 0.75  # mm, exact in binary floating point
SLICE_SPACING = 1.5  # mm
MAX_FRACTIONAL = 255

# Codes used by all three tools (same meaning everywhere).
ANATOMY = ("91723000", "SCT", "Anatomical Structure")
ORGAN = ("113343008", "SCT", "Body organ structure (body structure)")  # pydicom's meaning
ABNORMAL = ("49755003", "SCT", "Morphologically Abnormal Structure")
MASS = ("4147007", "SCT", "Mass")
ALGO_NAME, ALGO_VERSION = "BenchNet", "1.0"


def dcmqi_exe(name: str) -> str:
    """dcmqi's C++ binary ``name`` itself, not the Python wrapper the dcmqi wheel puts on PATH (nor a pyenv
    shim: each adds an interpreter's start). ``DCMQI_BIN`` names its folder, for an interpreter without the
    dcmqi wheel (``startup.py --runtime-install`` passes the one it found)."""
    if os.environ.get("DCMQI_BIN") and (Path(os.environ["DCMQI_BIN"]) / name).exists():
        return str(Path(os.environ["DCMQI_BIN"]) / name)
    try:
        import dcmqi

        exe = Path(dcmqi.__file__).parent / "bin" / name
        if exe.exists():
            return str(exe)
    except ImportError:
        pass
    return shutil.which(name) or name


def grid_for(slices: int) -> Grid:
    extent = (ROWS * PIXEL_SPACING, slices * SLICE_SPACING)
    return Grid(
        shape=(slices, ROWS, COLS),
        spacing=(SLICE_SPACING, PIXEL_SPACING, PIXEL_SPACING),
        origin=(-extent[0] / 2, -extent[0] / 2, -extent[1] / 2),
    )


@dataclass(frozen=True)
class Scenario:
    """One benchmark row."""

    name: str
    seg_type: str  # BINARY, FRACTIONAL, LABELMAP or PMAP (a Parametric Map, bench_pm.py)
    mask: str  # base name of the mask under masks/
    n_segments: int
    rle: bool = False
    tools: tuple[str, ...] = ("highdicom", "dcmqi", "dcmspec")
    na: dict = field(default_factory=dict, hash=False, compare=False)  # tool -> reason it is n/a

    @property
    def family(self) -> str:
        return self.name.removesuffix("-rle")


_NO_HD_BINARY_RLE = "highdicom refuses BINARY with RLE"
_NO_DCMQI_RLE = "dcmqi cannot write RLE (only --compress none or deflate)"
_NO_DCMQI_FRAC = "dcmqi cannot write FRACTIONAL"
_NO_DCMSPEC_BINARY_RLE = "dcmspec refuses BINARY with RLE"

SCENARIOS: list[Scenario] = [
    Scenario("binary-1", "BINARY", "sphere", 1),
    Scenario(
        "binary-1-rle",
        "BINARY",
        "sphere",
        1,
        rle=True,
        na={"highdicom": _NO_HD_BINARY_RLE, "dcmqi": _NO_DCMQI_RLE, "dcmspec": _NO_DCMSPEC_BINARY_RLE},
    ),
    Scenario("binary-10", "BINARY", "organs10", 10),
    Scenario(
        "binary-10-rle",
        "BINARY",
        "organs10",
        10,
        rle=True,
        na={"highdicom": _NO_HD_BINARY_RLE, "dcmqi": _NO_DCMQI_RLE, "dcmspec": _NO_DCMSPEC_BINARY_RLE},
    ),
    Scenario("binary-100", "BINARY", "organs100", 100),
    Scenario(
        "binary-100-rle",
        "BINARY",
        "organs100",
        100,
        rle=True,
        na={"highdicom": _NO_HD_BINARY_RLE, "dcmqi": _NO_DCMQI_RLE, "dcmspec": _NO_DCMSPEC_BINARY_RLE},
    ),
    Scenario("fractional-1", "FRACTIONAL", "soft_sphere", 1, na={"dcmqi": _NO_DCMQI_FRAC}),
    Scenario("fractional-1-rle", "FRACTIONAL", "soft_sphere", 1, rle=True, na={"dcmqi": _NO_DCMQI_FRAC}),
    Scenario("labelmap-10", "LABELMAP", "organs10", 10),
    Scenario("labelmap-10-rle", "LABELMAP", "organs10", 10, rle=True, na={"dcmqi": _NO_DCMQI_RLE}),
    Scenario("pmap-float32", "PMAP", "float_map", 1),
]
SCENARIOS_BY_NAME = {s.name: s for s in SCENARIOS}


def segment_label(scenario: Scenario, value: int) -> str:
    return "Lesion" if scenario.mask in ("sphere", "soft_sphere") else f"Organ {value}"


def segment_codes(scenario: Scenario) -> tuple[tuple, tuple]:
    return (ABNORMAL, MASS) if scenario.mask in ("sphere", "soft_sphere") else (ANATOMY, ORGAN)


def color(value: int) -> list[int]:
    return [(37 * value) % 256, (91 * value + 80) % 256, (53 * value + 160) % 256]


# ---------------------------------------------------------------------------------------------- masks


def make_masks(grid: Grid) -> dict[str, np.ndarray]:
    extent = np.array(grid.shape[::-1]) * np.array(grid.spacing[::-1])
    centre = np.array(grid.origin) + extent / 2
    sphere = ellipsoid(grid, centre + [20, 10, 0], (40, 40, 40)).astype(np.uint8)
    soft = soft_sphere(grid, centre + [-20, 10, 0], 35.0, edge_mm=6.0)
    x, y, z = grid.index_grid()
    float_map = (
        np.exp(-((x - centre[0]) ** 2 + (y - centre[1]) ** 2) / (2 * 80.0**2)) * (1 + 0.001 * (z - centre[2]))
    ).astype(np.float32) * 1500.0
    return {
        "sphere": sphere,
        "organs10": organ_label_map(grid, 10),
        "organs100": organ_label_map(grid, 100),
        "soft_sphere": soft,
        "float_map": float_map,
    }


def write_nrrd(path: Path, array: np.ndarray, grid: Grid) -> None:
    """Raw NRRD in LPS: NRRD axis 0 = columns (+x), 1 = rows (+y), 2 = slices (+z)."""
    import nrrd

    header = {
        "space": "left-posterior-superior",
        "space directions": np.diag([grid.spacing[2], grid.spacing[1], grid.spacing[0]]).astype(float),
        "space origin": np.array(grid.origin, dtype=float),
        "kinds": ["domain", "domain", "domain"],
        "encoding": "raw",
    }
    nrrd.write(str(path), np.ascontiguousarray(array), header, index_order="C")


# ---------------------------------------------------------------------------------------------- specs


def _code(c: tuple) -> str:
    return f'{c[1]}:{c[0]} "{c[2]}"'


def dcmspec_spec(scenario: Scenario) -> str:
    cat, typ = segment_codes(scenario)
    lines = [
        "dcmspec: 1",
        "kind: Segmentation",
        f"id: {scenario.name}",
        "sources:",
        "  images: ct/",
        "segmentation:",
        f"  type: {scenario.seg_type}",
        f"  mask: masks/{scenario.mask}.npy",
    ]
    if scenario.seg_type == "FRACTIONAL":
        lines += ["  fractional_type: PROBABILITY", f"  max_fractional_value: {MAX_FRACTIONAL}"]
    lines.append("segments:")
    for v in range(1, scenario.n_segments + 1):
        lines.append(
            f"  - {{number: {v}, label: {segment_label(scenario, v)}, category: '{_code(cat)}', "
            f"type: '{_code(typ)}', algorithm: {{type: AUTOMATIC, name: {ALGO_NAME}, version: '{ALGO_VERSION}'}}, "
            f"color: {color(v)}}}"
        )
    lines += [
        "series: {number: 300, description: Bench segmentation}",
        "equipment: {manufacturer: bench, model: BenchNet, software_versions: '1.0', serial_number: '1'}",
        f"output: {{file: {scenario.name}.dcm, transfer_syntax: "
        f"{'RLELossless' if scenario.rle else 'ExplicitVRLittleEndian'}}}",
    ]
    return "\n".join(lines) + "\n"


def dcmqi_metadata(scenario: Scenario) -> dict:
    cat, typ = segment_codes(scenario)
    segs = []
    for v in range(1, scenario.n_segments + 1):
        segs.append(
            {
                "labelID": v,
                "SegmentLabel": segment_label(scenario, v),
                "SegmentDescription": segment_label(scenario, v),
                "SegmentAlgorithmType": "AUTOMATIC",
                "SegmentAlgorithmName": ALGO_NAME,
                "SegmentedPropertyCategoryCodeSequence": {
                    "CodeValue": cat[0],
                    "CodingSchemeDesignator": cat[1],
                    "CodeMeaning": cat[2],
                },
                "SegmentedPropertyTypeCodeSequence": {
                    "CodeValue": typ[0],
                    "CodingSchemeDesignator": typ[1],
                    "CodeMeaning": typ[2],
                },
                "recommendedDisplayRGBValue": color(v),
            }
        )
    return {
        "ContentCreatorName": "Bench^Reader",
        "ClinicalTrialSeriesID": "Session1",
        "ClinicalTrialTimePointID": "1",
        "SeriesDescription": "Bench segmentation",
        "SeriesNumber": "300",
        "InstanceNumber": "1",
        "ContentLabel": "SEGMENTATION",
        "ContentDescription": "Bench segmentation",
        "BodyPartExamined": "",
        "segmentAttributes": [segs],
    }


HD_TEMPLATE = '''\
"""highdicom reference for bench scenario {name} (generated by bench/inputs.py)."""
import sys
from pathlib import Path

import numpy as np
import pydicom
import highdicom as hd
from pydicom.uid import ExplicitVRLittleEndian, RLELossless

HERE = Path(__file__).resolve().parent / "{work}"
out = Path(sys.argv[1])

sources = [pydicom.dcmread(p) for p in sorted((HERE / "ct").glob("*.dcm"))]
sources.sort(key=lambda ds: float(ds.ImagePositionPatient[2]))
mask = np.load(HERE / "masks" / "{mask}.npy")

algorithm = hd.AlgorithmIdentificationSequence(
    name="{algo_name}", version="{algo_version}",
    family=hd.sr.CodedConcept("123110", "DCM", "Artificial Intelligence"))
category = hd.sr.CodedConcept(*{cat!r})
prop_type = hd.sr.CodedConcept(*{typ!r})
labels = {labels!r}
colors = {colors!r}
descriptions = [
    hd.seg.SegmentDescription(
        segment_number=i + 1, segment_label=labels[i], segmented_property_category=category,
        segmented_property_type=prop_type, algorithm_type="AUTOMATIC", algorithm_identification=algorithm,
        display_color=hd.color.CIELabColor.from_rgb(*colors[i]))
    for i in range({n})
]
seg = hd.seg.Segmentation(
    source_images=sources,
    pixel_array=mask,
    segmentation_type="{seg_type}",
    segment_descriptions=descriptions,
    series_instance_uid=hd.UID(),
    series_number=300,
    sop_instance_uid=hd.UID(),
    instance_number=1,
    manufacturer="bench",
    manufacturer_model_name="BenchNet",
    software_versions="1.0",
    device_serial_number="1",{fractional}
    transfer_syntax_uid={ts},
)
seg.save_as(out)
'''


def highdicom_script(scenario: Scenario, work_rel: str) -> str:
    cat, typ = segment_codes(scenario)
    fractional = ""
    if scenario.seg_type == "FRACTIONAL":
        fractional = f'\n    fractional_type="PROBABILITY",\n    max_fractional_value={MAX_FRACTIONAL},'
    return HD_TEMPLATE.format(
        name=scenario.name,
        work=work_rel,
        mask=scenario.mask,
        algo_name=ALGO_NAME,
        algo_version=ALGO_VERSION,
        cat=cat,
        typ=typ,
        n=scenario.n_segments,
        labels=[segment_label(scenario, v) for v in range(1, scenario.n_segments + 1)],
        colors=[color(v) for v in range(1, scenario.n_segments + 1)],
        seg_type=scenario.seg_type,
        fractional=fractional,
        ts="RLELossless" if scenario.rle else "ExplicitVRLittleEndian",
    )


# ---------------------------------------------------------------------------------------------- driver


def work_dir(slices: int) -> Path:
    return WORK_DIR / f"n{slices}"


def prepare(slices: int, log=print) -> Path:
    """Make every input for ``slices`` slices; returns the folder.

    The heavy part (series and masks) is cached behind a ``.done`` marker; the small text files (specs,
    dcmqi metadata, highdicom scripts) are rewritten every time so that they follow this file.
    """
    root = work_dir(slices)
    done = root / ".done"
    grid = grid_for(slices)
    if not done.exists():
        root.mkdir(parents=True, exist_ok=True)
        masks_dir = root / "masks"
        masks_dir.mkdir(exist_ok=True)
        log(f"[inputs] generating masks for {slices} slices ...")
        masks = make_masks(grid)
        for name, array in masks.items():
            np.save(masks_dir / f"{name}.npy", array)
            write_nrrd(masks_dir / f"{name}.nrrd", array, grid)
        log(f"[inputs] writing CT series ({slices} x {ROWS}x{COLS}) ...")
        write_ct_series(root / "ct", grid, pixels=ct_pixels(grid, masks["organs10"]), seed=f"dcmspec-bench-{slices}")
        (root / "grid.json").write_text(
            json.dumps({"shape": grid.shape, "spacing": grid.spacing, "origin": grid.origin})
        )
        done.write_text("ok\n")
    (root / "dcmqi").mkdir(exist_ok=True)
    for sc in SCENARIOS:
        if sc.seg_type == "PMAP":
            continue
        (root / f"{sc.name}.yaml").write_text(dcmspec_spec(sc))
        (root / "dcmqi" / f"{sc.name}.json").write_text(json.dumps(dcmqi_metadata(sc), indent=1))
        (root / f"hd_{sc.name}.py").write_text(highdicom_script(sc, "."))
    return root


if __name__ == "__main__":  # pragma: no cover
    import sys

    for n in (int(a) for a in (sys.argv[1:] or ["100", "300"])):
        print(prepare(n))
