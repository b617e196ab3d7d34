"""dcmqi reads every SEG back voxel for voxel, in the source geometry, and every TID 1500 SR's measurements.

`segimage2itkimage` writes one NRRD per group of non-overlapping segments and a meta.json naming each
file's segments by label and labelID; each NRRD must equal the input masks and sit on the source grid
(origin, spacing, direction within 1e-3 mm). `tid1500reader` writes JSON whose Measurements must hold each
group's tracking identifier, values, units and referenced segment as the spec states them.
`paramap2itkimage` writes a Parametric Map as one NRRD, which must equal the input map on the source grid.
"""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
from pydicom import dcmread

from .compare import compare_with_mask, source_affine
from .conftest import dcmqi_tool
from .matrix import ACCEPTED, EXPECTED, NOT_APPLICABLE, VOXEL_EQUAL, Limit, expected

nrrd = pytest.importorskip("nrrd")

SEGS = [n for n, row in EXPECTED.items() if n.startswith("seg-")]
SRS = [n for n, row in EXPECTED.items() if n.startswith("sr-") and row["dcmqi"] is not NOT_APPLICABLE]


@pytest.mark.parametrize("name", SEGS)
def test_segimage2itkimage_gives_the_input_masks(name, matrix_objects, tmp_path):
    assert expected(name, "dcmqi") == VOXEL_EQUAL
    obj = matrix_objects[name]
    proc = subprocess.run(
        [
            dcmqi_tool("segimage2itkimage"),
            "--inputDICOM",
            str(obj.path),
            "--outputDirectory",
            str(tmp_path),
            "--outputType",
            "nrrd",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    meta = json.loads((tmp_path / "meta.json").read_text())
    numbers = {}
    for item in dcmread(obj.path, stop_before_pixels=True).SegmentSequence:
        numbers[item.SegmentLabel] = int(item.SegmentNumber)
    src_affine = source_affine(obj.source_files())
    seen, problems = set(), []
    for index, group in enumerate(meta["segmentAttributes"], start=1):
        data, header = nrrd.read(str(tmp_path / f"{index}.nrrd"))
        assert header["space"] == "left-posterior-superior"
        directions = np.asarray(header["space directions"], dtype=float)
        affine = np.eye(4)
        affine[:3, 0], affine[:3, 1], affine[:3, 2] = directions[2], directions[1], directions[0]
        affine[:3, 3] = np.asarray(header["space origin"], dtype=float)
        volume = np.transpose(data, (2, 1, 0))  # NRRD [x, y, z] -> (slice, row, column)
        for attributes in group:
            number = numbers[attributes["SegmentLabel"]]
            seen.add(number)
            label_id = attributes["labelID"]
            values = volume == label_id if obj.seg_type != "FRACTIONAL" else volume
            mask = obj.segments[number] if obj.seg_type == "FRACTIONAL" else obj.segments[number] > 0
            if obj.seg_type != "FRACTIONAL" and len(group) == 1:
                # nothing but this segment's label (and 0) in its file
                assert set(np.unique(volume)) <= {0, label_id}
            problems += compare_with_mask(
                values.astype(np.int32), affine, mask.astype(np.int32), src_affine, f"{index}.nrrd segment {number}"
            )
    assert seen == set(obj.segments)
    assert problems == [], "\n".join(problems)


def _measurement(item: dict) -> tuple:
    value = item.get("value", "")
    unit = item.get("units", {})
    return (
        f"{item['quantity']['CodingSchemeDesignator']}:{item['quantity']['CodeValue']}",
        float(value) if value != "" else None,
        f"{unit['CodingSchemeDesignator']}:{unit['CodeValue']}" if unit.get("CodeValue") else None,
    )


@pytest.mark.parametrize("name", SRS)
def test_tid1500reader_gives_the_measurements(name, matrix_objects, tmp_path):
    assert expected(name, "dcmqi") == ACCEPTED
    obj = matrix_objects[name]
    out = tmp_path / "sr.json"
    proc = subprocess.run(
        [dcmqi_tool("tid1500reader"), "--inputDICOM", str(obj.path), "--outputMetadata", str(out)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    read = json.loads(out.read_text()).get("Measurements", [])
    got = [
        (
            m.get("TrackingIdentifier"),
            m.get("ReferencedSegment"),
            tuple(_measurement(i) for i in m.get("measurementItems", [])),
        )
        for m in read
    ]
    want = [(g.tracking_id, g.segment, tuple((m.name, m.value, m.unit) for m in g.measurements)) for g in obj.groups]
    assert got == want


PMS = [n for n in EXPECTED if n.startswith("pm-")]


@pytest.mark.parametrize("name", PMS)
def test_paramap2itkimage_gives_the_input_map(name, matrix_objects, tmp_path):
    """`paramap2itkimage` writes pmap.nrrd: it must equal the input map (stored float32 values) on the source grid."""
    obj = matrix_objects[name]
    outcome = expected(name, "dcmqi")
    proc = subprocess.run(
        [
            dcmqi_tool("paramap2itkimage"),
            "--inputDICOM",
            str(obj.path),
            "--outputDirectory",
            str(tmp_path),
            "--outputType",
            "nrrd",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if isinstance(outcome, Limit):
        assert outcome.signature == f"exit status {proc.returncode}", (
            f"paramap2itkimage no longer shows its known limit ({outcome.reason}): update matrix.py"
        )
        assert not (tmp_path / "pmap.nrrd").exists()
        return
    assert outcome == VOXEL_EQUAL
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data, header = nrrd.read(str(tmp_path / "pmap.nrrd"))
    assert header["space"] == "left-posterior-superior"
    directions = np.asarray(header["space directions"], dtype=float)
    affine = np.eye(4)
    affine[:3, 0], affine[:3, 1], affine[:3, 2] = directions[2], directions[1], directions[0]
    affine[:3, 3] = np.asarray(header["space origin"], dtype=float)
    problems = compare_with_mask(
        np.transpose(data, (2, 1, 0)), affine, obj.stored, source_affine(obj.source_files()), name
    )
    assert problems == [], "\n".join(problems)
