"""The Segmentation builder layer (iods/seg: frame_index, segment, segmentation, prepare, read) against
independent oracles (tests/MUTATION.md, fourth pass): pydicom's reader (every attribute and per-frame item),
highdicom as a reader, and values worked out by hand from PS3.3 C.8.20 (Segmentation Image module), C.8.20.4
(Segment Description macro), C.7.6.16 (functional groups) and C.7.6.17 (Multi-frame Dimension module).

Small synthetic sources (headers of a few 8 x 16 CT slices, ``tiny_ct_series``) keep each test fast: these
are the focused tests of the mutation runs, fastest first.
"""

from __future__ import annotations

import io
from types import SimpleNamespace

import numpy as np
import pydicom
import pytest
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import Tag
from pydicom.uid import UID, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from dcmspec_compiler.errors import DicomConformanceError
from dcmspec_compiler.iods.seg import frame_index as fi
from test_seg_builder import build, describe, tiny_ct_series

# --- frame_index: pure helpers --------------------------------------------------------------------------


def test_runs_of_consecutive_frames():
    assert fi._runs(np.array([0, 1, 2, 5, 7, 8])) == [(0, 3), (5, 1), (7, 2)]
    assert fi._runs(np.array([4])) == [(4, 1)]
    assert fi._runs(np.array([], dtype=np.int64)) == []
    assert fi._runs(np.array([3, 4, 5, 6])) == [(3, 4)]


def _src_item(uid: str, frame_number: int | None = None) -> bytes:
    """Explicit VR Little Endian bytes of the elements the scan looks for (PS3.5 7.1.2), made by hand."""
    body = len(uid) + len(uid) % 2
    out = b"\x08\x00\x55\x11UI" + body.to_bytes(2, "little") + uid.encode() + b"\x00" * (len(uid) % 2)
    if frame_number is not None:
        out += b"\x08\x00\x60\x11IS\x02\x00" + str(frame_number).ljust(2).encode()
    return out


def _seg_item(number: int) -> bytes:
    return b"\x62\x00\x0b\x00US\x02\x00" + number.to_bytes(2, "little")


def test_scan_of_hand_made_bytes():
    raw = _seg_item(1) + _src_item("1.2.3") + _seg_item(258) + _src_item("1.2.34")
    found = fi._scan(raw, 2, False)
    assert found is not None
    assert found.segments.tolist() == [1, 258] and found.segments.dtype == np.int64
    assert found.sources == ["1.2.3", "1.2.34"]  # the odd UID's trailing NUL is stripped
    spaced = _seg_item(3) + b"\x08\x00\x55\x11UI\x06\x001.2.3 "  # a space-padded UID (as some writers do)
    assert fi._scan(spaced, 1, False).sources == ["1.2.3"]
    lab = fi._scan(_src_item("1.2.3") + _src_item("1.2.5"), 2, True)
    assert lab is not None and lab.segments is None and lab.sources == ["1.2.3", "1.2.5"]
    # declined: a referenced frame number, a count of UIDs or of segment numbers other than the frames'
    assert fi._scan(_seg_item(1) + _src_item("1.2.3", 1), 1, False) is None
    assert fi._scan(_seg_item(1) + _src_item("1.2.3", 1), 1, True) is None
    assert fi._scan(raw, 3, False) is None
    assert fi._scan(raw, 1, False) is None
    assert fi._scan(_seg_item(1) + _src_item("1.2.3") + _src_item("1.2.5"), 2, False) is None
    assert fi._scan(_src_item("1.2.3") + _src_item("1.2.5"), 1, True) is None


def test_raw_value_inline_deferred_and_missing(tmp_path):
    path = tmp_path / "bytes"
    path.write_bytes(b"0123456789abcdef")
    reader = SimpleNamespace(path=path)
    tag = Tag(0x52009230)
    assert fi._raw_value(reader, RawDataElement(tag, "SQ", 3, b"xyz", 0, False, True)) == b"xyz"
    deferred = RawDataElement(tag, "SQ", 4, None, 10, False, True)
    assert fi._raw_value(reader, deferred) == b"abcd"
    assert fi._raw_value(reader, RawDataElement(tag, "SQ", 0xFFFFFFFF, None, 10, False, True)) is None
    assert fi._raw_value(reader, RawDataElement(tag, "SQ", 4, None, None, False, True)) is None
    assert fi._raw_value(reader, None) is None
    parsed = pydicom.DataElement(tag, "SQ", [])
    assert fi._raw_value(reader, parsed) is None


# --- frame_index: files built by the builder, read by pydicom -------------------------------------------

UIDS = [f"1.2.826.0.1.3680043.10.9.1.{i + 1}" for i in range(4)]


def odd_uid_series(rows: int = 8, cols: int = 16) -> list[Dataset]:
    """Four slices whose SOP Instance UIDs alternate odd and even lengths (the odd ones are NUL padded)."""
    sources = tiny_ct_series(4, rows, cols)
    for i, ds in enumerate(sources):
        ds.SOPInstanceUID = "1.2.3.4.5" + ".1" * i + ("0" if i % 2 else "")
    return sources


def two_segments(rows: int = 8, cols: int = 16) -> np.ndarray:
    """Segment 1 on slices 0, 1, 3; segment 2 on slices 2, 3 (stored frames: 1/0, 1/1, 1/3, 2/2, 2/3)."""
    lab = np.zeros((4, rows, cols), np.uint8)
    lab[0, 2:5, 3:10] = 1
    lab[1, 1, 1] = 1
    lab[3, 7, 15 % cols] = 1
    lab[2, 4:6, 9:12] = 2
    lab[3, 0, 0] = 2
    return lab


def _write(seg, tmp_path, name="seg.dcm"):
    path = tmp_path / name
    seg.save_as(path, enforce_file_format=True)
    return path


def _pydicom_index(path):
    """The oracle: pydicom's parse of every per-frame item."""
    ds = pydicom.dcmread(path)
    segs, uids = [], []
    for item in ds.PerFrameFunctionalGroupsSequence:
        uids.append(item.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID)
        if "SegmentIdentificationSequence" in item:
            segs.append(item.SegmentIdentificationSequence[0].ReferencedSegmentNumber)
    return segs, uids


@pytest.mark.parametrize("seg_type", ["BINARY", "FRACTIONAL", "LABELMAP"])
def test_index_of_a_built_file_by_scan_and_by_parse(tmp_path, monkeypatch, seg_type):
    from dcmspec_compiler.io.frames import FrameReader

    sources = odd_uid_series()
    uids = [str(ds.SOPInstanceUID) for ds in sources]
    path = _write(build(sources, two_segments(), seg_type, n_segments=2), tmp_path)
    segs, pd_uids = _pydicom_index(path)
    if seg_type == "LABELMAP":
        expected_uids, expected_segs = [uids[0], uids[1], uids[2], uids[3]], None
        assert segs == []
    else:
        expected_uids, expected_segs = [uids[0], uids[1], uids[3], uids[2], uids[3]], [1, 1, 1, 2, 2]
        assert segs == expected_segs
    assert pd_uids == expected_uids

    calls = []
    monkeypatch.setattr(fi, "_parse", lambda *a: calls.append(a))  # the scan alone must answer
    with FrameReader(path) as reader:
        index = fi.index_segmentation(reader)
    assert calls == []
    assert index.sources == expected_uids
    assert (index.segments.tolist() if index.segments is not None else None) == expected_segs
    monkeypatch.undo()

    parsed = fi._parse(pydicom.dcmread(path), len(expected_uids), seg_type == "LABELMAP")
    assert parsed.sources == expected_uids
    assert (parsed.segments.tolist() if parsed.segments is not None else None) == expected_segs
    if expected_segs is not None:
        assert parsed.segments.dtype == np.int64

    # Implicit VR: the scan is not tried, the items are parsed
    ds = pydicom.dcmread(path)
    ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    implicit = tmp_path / "implicit.dcm"
    ds.save_as(implicit, implicit_vr=True, little_endian=True)
    scans = []
    real_scan = fi._scan
    monkeypatch.setattr(fi, "_scan", lambda *a: scans.append(a) or real_scan(*a))
    with FrameReader(implicit) as reader:
        index = fi.index_segmentation(reader)
    assert scans == []
    assert index.sources == expected_uids
    assert (index.segments.tolist() if index.segments is not None else None) == expected_segs


def _fake_reader(ds: Dataset, ts=ExplicitVRLittleEndian):
    return SimpleNamespace(header=ds, transfer_syntax_uid=UID(ts), path=None)


def _item(uid: str | None, number: int | None) -> Dataset:
    item = Dataset()
    if uid is not None:
        src = Dataset()
        src.ReferencedSOPInstanceUID = uid
        deriv = Dataset()
        deriv.SourceImageSequence = [src]
        item.DerivationImageSequence = [deriv]
    if number is not None:
        ident = Dataset()
        ident.ReferencedSegmentNumber = number
        item.SegmentIdentificationSequence = [ident]
    return item


def test_parse_reads_shared_groups_and_refuses_what_it_cannot_map():
    ds = Dataset()
    ds.NumberOfFrames = 2
    ds.SegmentationType = "BINARY"
    ds.PerFrameFunctionalGroupsSequence = [_item("1.2.3", None), _item("1.2.4", None)]
    shared = _item(None, 7)
    ds.SharedFunctionalGroupsSequence = [shared]
    index = fi.index_segmentation(_fake_reader(ds, ImplicitVRLittleEndian))
    assert index.segments.tolist() == [7, 7] and index.sources == ["1.2.3", "1.2.4"]
    # Number of Frames absent: one frame
    one = Dataset()
    one.SegmentationType = "LABELMAP"
    one.PerFrameFunctionalGroupsSequence = [_item("1.2.9", None)]
    index = fi.index_segmentation(_fake_reader(one, ImplicitVRLittleEndian))
    assert index.sources == ["1.2.9"] and index.segments is None
    one.NumberOfFrames = None  # empty: one frame too
    assert fi.index_segmentation(_fake_reader(one, ImplicitVRLittleEndian)).sources == ["1.2.9"]

    ds.SharedFunctionalGroupsSequence = []
    with pytest.raises(DicomConformanceError, match=r"^frame 1 has no Segment Identification Sequence$"):
        fi._parse(ds, 2, False)
    ds.PerFrameFunctionalGroupsSequence = [_item("1.2.3", 1), _item(None, 1)]
    with pytest.raises(
        DicomConformanceError, match=r"^frame 2 has no Source Image Sequence; cannot map it to a source$"
    ):
        fi._parse(ds, 2, False)
    with pytest.raises(
        DicomConformanceError, match=r"^Per-frame Functional Groups Sequence has 2 items for 3 frames$"
    ):
        fi._parse(ds, 3, False)
    ds.PerFrameFunctionalGroupsSequence[1].DerivationImageSequence = [Dataset()]
    with pytest.raises(DicomConformanceError, match=r"^frame 2 has no Source Image Sequence"):
        fi._parse(ds, 2, False)
    tiled = Dataset()
    tiled.DimensionOrganizationType = "TILED_FULL"
    tiled.NumberOfFrames = 4
    with pytest.raises(
        DicomConformanceError,
        match=r"^TILED_FULL Segmentations \(no per-frame functional groups\) are not supported$",
    ):
        fi.index_segmentation(_fake_reader(tiled))
    tiled.PerFrameFunctionalGroupsSequence = [_item("1.2.3", 1)] * 4  # TILED_FULL with items: parsed
    assert fi.index_segmentation(_fake_reader(tiled, ImplicitVRLittleEndian)).sources == ["1.2.3"] * 4


def _masks(path, numbers):
    return {n: (uids, masks, offset) for n, uids, masks, offset in fi.segment_masks(path, numbers)}


def test_segment_masks_binary_packed_are_cropped_to_the_segments_box(tmp_path):
    """16 columns: the packed path (two bytes a row); the box is cut at whole bytes (8 columns)."""
    lab = two_segments()
    sources = tiny_ct_series(4, 8, 16)
    path = _write(build(sources, lab, n_segments=2, omit_empty_frames=False), tmp_path)
    got = _masks(path, [2, 1])
    assert list(got) == [2, 1]
    uids1, m1, off1 = got[1]
    assert uids1 == UIDS  # every frame stored
    # segment 1: rows 1..7, columns 0..15 (pixels at column 1, 3..9 and 15)
    assert off1 == (1, 0) and m1.shape == (4, 7, 16) and m1.dtype == bool
    np.testing.assert_array_equal(m1, (lab == 1)[:, 1:8, :])
    uids2, m2, off2 = got[2]
    # segment 2: rows 0..5, pixels in columns 0 and 9..11: bytes 0 and 1
    assert off2 == (0, 0) and m2.shape == (4, 6, 16)
    np.testing.assert_array_equal(m2, (lab == 2)[:, 0:6, :])
    # a box in the second byte only: columns 8..15, row 4
    lab2 = np.zeros((4, 8, 16), np.uint8)
    lab2[2, 4, 9:12] = 1
    lab2[3, 5, 13] = 1
    path2 = _write(build(sources, lab2, n_segments=1), tmp_path, "b.dcm")
    ((n, uids, masks, offset),) = list(fi.segment_masks(path2, [1]))
    assert n == 1 and uids == UIDS[2:] and offset == (4, 8) and masks.shape == (2, 2, 8)
    np.testing.assert_array_equal(masks, lab2[2:, 4:6, 8:16] == 1)


def test_segment_masks_of_an_empty_segment(tmp_path):
    lab = np.zeros((4, 8, 16), np.uint8)
    lab[1, 1, 1] = 1
    path = _write(build(tiny_ct_series(4, 8, 16), lab, n_segments=2, omit_empty_frames=False), tmp_path)
    got = _masks(path, [2])
    uids, masks, offset = got[2]
    assert uids == UIDS and masks.shape == (4, 0, 0) and offset == (0, 0)


def test_segment_masks_unpacked_fractional_and_labelmap(tmp_path):
    lab = two_segments(8, 13)
    sources = tiny_ct_series(4, 8, 13)  # 13 columns: frames are not whole bytes, read frame by frame
    got = _masks(_write(build(sources, lab, n_segments=2), tmp_path), [1, 2])
    assert got[1][0] == [UIDS[0], UIDS[1], UIDS[3]] and got[1][2] == (0, 0)
    np.testing.assert_array_equal(got[1][1], (lab == 1)[[0, 1, 3]])
    assert got[2][0] == [UIDS[2], UIDS[3]]
    np.testing.assert_array_equal(got[2][1], (lab == 2)[[2, 3]])

    got = _masks(_write(build(sources, lab, "LABELMAP", n_segments=2), tmp_path, "l.dcm"), [2])
    assert got[2][0] == UIDS  # every frame holds some label
    np.testing.assert_array_equal(got[2][1], lab == 2)

    # FRACTIONAL, Maximum Fractional Value 200: a pixel is in from 100 stored (0.5) on
    values = np.zeros((4, 8, 13, 1), np.float32)
    values[0, 0, :5, 0] = [0.5, 0.495, 1.0, 0.505, 0.2]  # stored 100, 99, 200, 101, 40
    values[2, 3, 3, 0] = 0.4
    seg = build(sources, values, "FRACTIONAL", n_segments=1, max_fractional_value=200)
    path = _write(seg, tmp_path, "f.dcm")
    assert pydicom.dcmread(path).pixel_array[0, 0, :5].tolist() == [100, 99, 200, 101, 40]
    ((n, uids, masks, offset),) = list(fi.segment_masks(path, [1]))
    assert uids == [UIDS[0], UIDS[2]] and offset == (0, 0)
    expected = np.zeros((2, 8, 13), bool)
    expected[0, 0, [0, 2, 3]] = True
    np.testing.assert_array_equal(masks, expected)


def test_segment_masks_fractional_default_maximum_and_binary_nonzero(tmp_path):
    """Without Maximum Fractional Value the maximum is taken as 1 (in where the stored value >= 0.5)."""
    values = np.zeros((4, 8, 13, 1), np.float32)
    values[1, 2, 2, 0] = 1 / 255
    values[1, 2, 3, 0] = 2 / 255
    path = _write(build(tiny_ct_series(4, 8, 13), values, "FRACTIONAL", n_segments=1), tmp_path)
    ds = pydicom.dcmread(path)
    del ds.MaximumFractionalValue
    ds.save_as(path)
    ((_, uids, masks, _),) = list(fi.segment_masks(path, [1]))
    assert uids == [UIDS[1]]
    assert masks[0, 2, 2] and masks[0, 2, 3] and masks.sum() == 2


def test_segment_masks_join_frames_on_one_image_and_split_runs(tmp_path):
    """Frames of one segment on the same image are joined (OR); frames of a segment that are not
    consecutive in the file are read as separate runs (per-frame items rewritten with pydicom)."""
    lab = np.zeros((4, 8, 16), np.uint8)
    lab[0, 1, 1] = 1
    lab[1, 2, 9] = 1
    lab[2, 3, 3] = 1
    lab[0, 4, 4] = 2
    lab[1, 5, 5] = 2
    path = _write(build(tiny_ct_series(4, 8, 16), lab, n_segments=2), tmp_path)
    ds = pydicom.dcmread(path)
    pf = ds.PerFrameFunctionalGroupsSequence  # stored: 1/0, 1/1, 1/2, 2/0, 2/1
    assert [p.SegmentIdentificationSequence[0].ReferencedSegmentNumber for p in pf] == [1, 1, 1, 2, 2]
    # frame 4 (segment 2 on slice 0) now says segment 1 on slice 2; frame 2 (segment 1, slice 1) segment 2
    pf[3].SegmentIdentificationSequence[0].ReferencedSegmentNumber = 1
    pf[3].DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID = UIDS[2]
    pf[1].SegmentIdentificationSequence[0].ReferencedSegmentNumber = 2
    ds.save_as(path)
    got = _masks(path, [1, 2])
    uids, masks, offset = got[1]  # frames 0, 2, 3: slices 0, 2, 2
    assert uids == [UIDS[0], UIDS[2]] and offset == (1, 0)
    expected = np.zeros((2, 8, 16), bool)
    expected[0, 1, 1] = True
    expected[1, 3, 3] = expected[1, 4, 4] = True
    np.testing.assert_array_equal(masks, expected[:, 1:5, :8])
    uids, masks, offset = got[2]  # frames 1, 4: slices 1, 1
    assert uids == [UIDS[1]] and offset == (2, 0) and masks.shape == (1, 4, 16)
    expected = np.zeros((8, 16), bool)
    expected[2, 9] = expected[5, 5] = True
    np.testing.assert_array_equal(masks[0], expected[2:6])
