"""dcmtk (Debian 3.6.7): `dsrdump` reads every SR and KOS without an error; `dcmdrle` decodes every RLE SEG to the
input's stored values (a decoder that is not ours), frame by frame on the frame's source slice.

`dcmpschk` checks every presentation state (GSPS semantics; it prints "Test passed" or "W:" findings).
`dcmdump` decodes every Parametric Map's pixel data (Float, Double Float or 16-bit Pixel Data) to the input map.
"""

from __future__ import annotations

import subprocess

import numpy as np
import pydicom
import pytest

from .compare import source_affine
from .conftest import dcmtk
from .matrix import ACCEPTED, EXPECTED, NOT_APPLICABLE, VOXEL_EQUAL, Limit, expected

SRS = [n for n in EXPECTED if n.startswith("sr-") or n == "kos"]
RLE_SEGS = [n for n in EXPECTED if n.startswith("seg-") and EXPECTED[n]["dcmtk"] is not NOT_APPLICABLE]


@pytest.mark.parametrize("name", SRS)
def test_dsrdump_reads_the_sr(name, matrix_objects):
    obj = matrix_objects[name]
    proc = subprocess.run([dcmtk("dsrdump"), str(obj.path)], capture_output=True, text=True)
    errors = [line for line in (proc.stdout + proc.stderr).splitlines() if line.startswith("E:")]
    outcome = expected(name, "dcmtk")
    if isinstance(outcome, Limit):
        assert errors and outcome.signature in proc.stderr, "dsrdump no longer shows its known limit"
        return
    assert outcome == ACCEPTED
    assert proc.returncode == 0 and errors == [], proc.stderr


@pytest.mark.parametrize("name", RLE_SEGS)
def test_dcmdrle_decodes_the_input_values(name, matrix_objects, tmp_path):
    assert expected(name, "dcmtk") == VOXEL_EQUAL
    obj = matrix_objects[name]
    assert obj.rle
    native = tmp_path / "native.dcm"
    proc = subprocess.run([dcmtk("dcmdrle"), str(obj.path), str(native)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    ds = pydicom.dcmread(native)
    assert ds.file_meta.TransferSyntaxUID == pydicom.uid.ExplicitVRLittleEndian
    dtype = np.uint8 if ds.BitsAllocated == 8 else np.dtype("<u2")
    frames = np.frombuffer(ds.PixelData, dtype=dtype)[: int(ds.NumberOfFrames) * ds.Rows * ds.Columns]
    frames = frames.reshape(int(ds.NumberOfFrames), ds.Rows, ds.Columns)
    to_index = np.linalg.inv(source_affine(obj.source_files()))
    seen = set()
    for frame, item in zip(frames, ds.PerFrameFunctionalGroupsSequence):
        position = np.array([*item.PlanePositionSequence[0].ImagePositionPatient, 1.0], dtype=float)
        k = int(np.rint((to_index @ position)[0]))
        if obj.seg_type == "LABELMAP":
            expected_frame = obj.label_map()[k]
        else:
            number = int(item.SegmentIdentificationSequence[0].ReferencedSegmentNumber)
            expected_frame = obj.segments[number][k]
            k = (number, k)
        seen.add(k)
        assert np.array_equal(frame, expected_frame), f"frame on source slice {k} differs"
    # every non-empty slice of the input is in the file
    if obj.seg_type == "LABELMAP":
        assert seen >= {k for k in range(obj.label_map().shape[0]) if obj.label_map()[k].any()}
    else:
        assert seen >= {(n, k) for n, m in obj.segments.items() for k in range(m.shape[0]) if m[k].any()}


PRESENTATION_STATES = [n for n in EXPECTED if n == "gsps" or n.startswith("pr-")]


@pytest.mark.parametrize("name", PRESENTATION_STATES)
def test_dcmpschk_passes_the_presentation_state(name, matrix_objects):
    assert expected(name, "dcmtk") == ACCEPTED
    obj = matrix_objects[name]
    proc = subprocess.run([dcmtk("dcmpschk"), str(obj.path)], capture_output=True, text=True)
    output = proc.stdout + proc.stderr
    findings = [
        line
        for line in output.splitlines()
        if line.startswith(("W:", "E:")) and not line.startswith(("W: Testing:", "W: Test passed"))
    ]
    assert proc.returncode == 0 and "Test passed" in output and findings == [], output


PMS = [n for n in EXPECTED if n.startswith("pm-")]
PIXEL_ELEMENTS = {"(7fe0,0008)": np.float32, "(7fe0,0009)": np.float64}  # Float / Double Float Pixel Data


def _dcmdump_pixels(path, folder, integer_dtype: str) -> np.ndarray:
    """The stored values as dcmdump 3.6.7 decodes them: floats printed in full (`+L`, 9 and 17 significant
    digits, enough to give back the exact value), integer Pixel Data written raw (`+W`)."""
    proc = subprocess.run(
        [dcmtk("dcmdump"), "+L", "+W", str(folder), str(path)], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0 and "E:" not in proc.stderr, proc.stderr
    for line in proc.stdout.splitlines():
        tag = line[:11]
        if tag in PIXEL_ELEMENTS:
            values = line[15 : line.rindex("#")].strip()
            return np.array(values.split("\\"), dtype=np.float64).astype(PIXEL_ELEMENTS[tag])
        if tag == "(7fe0,0010)":
            raw = sorted(folder.glob("*.raw"))
            assert len(raw) == 1, line
            return np.frombuffer(raw[0].read_bytes(), dtype=integer_dtype)
    raise AssertionError("dcmdump shows no pixel data element")


@pytest.mark.parametrize("name", PMS)
def test_dcmdump_decodes_the_input_map(name, matrix_objects, tmp_path):
    """Every frame's stored values, decoded by dcmdump, equal the input map's on the frame's source slice."""
    assert expected(name, "dcmtk") == VOXEL_EQUAL
    obj = matrix_objects[name]
    ds = pydicom.dcmread(obj.path, stop_before_pixels=True)
    integer_dtype = "<i2" if ds.get("PixelRepresentation") == 1 else "<u2"
    frames = _dcmdump_pixels(obj.path, tmp_path, integer_dtype).reshape(int(ds.NumberOfFrames), ds.Rows, ds.Columns)
    to_index = np.linalg.inv(source_affine(obj.source_files()))
    seen = []
    for frame, item in zip(frames, ds.PerFrameFunctionalGroupsSequence):
        position = np.array([*item.PlanePositionSequence[0].ImagePositionPatient, 1.0], dtype=float)
        k = int(np.rint((to_index @ position)[0]))
        seen.append(k)
        assert frame.dtype == obj.stored.dtype and np.array_equal(frame, obj.stored[k]), f"source slice {k}"
    assert sorted(seen) == list(range(obj.stored.shape[0]))
