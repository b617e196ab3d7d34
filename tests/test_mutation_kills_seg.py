"""The Segmentation builder layer (iods/seg: frame_index, segment, segmentation, prepare, read) against
independent oracles (tests/MUTATION.md, fourth pass): pydicom's reader (every attribute and per-frame item),
highdicom as a reader, and values worked out by hand from PS3.3 C.8.20 (Segmentation Image module), C.8.20.4
(Segment Description macro), C.7.6.16 (functional groups) and C.7.6.17 (Multi-frame Dimension module).

Small synthetic sources (headers of a few 8 x 16 CT slices, ``tiny_ct_series``) keep each test fast: these
are the focused tests of the mutation runs, fastest first.
"""

from __future__ import annotations

import datetime
import re
from types import SimpleNamespace

import numpy as np
import pydicom
import pytest
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.sr.coding import Code
from pydicom.tag import Tag
from pydicom.uid import UID, ExplicitVRLittleEndian, ImplicitVRLittleEndian, RLELossless
from test_seg_builder import build, tiny_ct_series

from dcmspec_compiler.errors import DicomConformanceError
from dcmspec_compiler.iods.common.modules import Equipment
from dcmspec_compiler.iods.common.uid import derive_uid
from dcmspec_compiler.iods.seg import AlgorithmIdentification, Segmentation, SegmentDescription, segread
from dcmspec_compiler.iods.seg import frame_index as fi
from dcmspec_compiler.iods.seg import prepare as prep
from dcmspec_compiler.iods.seg.segmentation import check_encoding

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
    with pytest.raises(DicomConformanceError, match=r"^Per-frame Functional Groups Sequence has 2 items for 3 frames$"):
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
    assert uids2 == UIDS and off2 == (0, 0) and m2.shape == (4, 6, 16)
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
    assert n == 1 and uids == [UIDS[0], UIDS[2]] and offset == (0, 0)
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
    # frame 3 (segment 1, slice 2) now says slice 0; frame 4 (segment 2, slice 0) says segment 1, slice 2;
    # frame 2 (segment 1, slice 1) says segment 2
    pf[2].DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID = UIDS[0]
    pf[3].SegmentIdentificationSequence[0].ReferencedSegmentNumber = 1
    pf[3].DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID = UIDS[2]
    pf[1].SegmentIdentificationSequence[0].ReferencedSegmentNumber = 2
    ds.save_as(path)
    got = _masks(path, [1, 2])
    uids, masks, offset = got[1]  # frames 0, 2, 3 (two runs): slices 0, 0, 2; a new slice after a join
    assert uids == [UIDS[0], UIDS[2]] and offset == (1, 0)
    expected = np.zeros((2, 8, 16), bool)
    expected[0, 1, 1] = expected[0, 3, 3] = True
    expected[1, 4, 4] = True
    np.testing.assert_array_equal(masks, expected[:, 1:5, :8])
    uids, masks, offset = got[2]  # frames 1, 4: slices 1, 1
    assert uids == [UIDS[1]] and offset == (2, 0) and masks.shape == (1, 4, 16)
    expected = np.zeros((8, 16), bool)
    expected[2, 9] = expected[5, 5] = True
    np.testing.assert_array_equal(masks[0], expected[2:6])


# --- segment: the Segment Description macro (PS3.3 C.8.20.4, C.8.20.2) -----------------------------------

CATEGORY = Code("91723000", "SCT", "Anatomical Structure")
LIVER = Code("10200004", "SCT", "Liver")
LEFT = Code("7771000", "SCT", "Left")
RIGHT = Code("24028007", "SCT", "Right")
ABDOMEN = Code("818981001", "SCT", "Abdomen")
FAMILY = Code("123109", "DCM", "Manual Processing")


def _segment(**kw) -> SegmentDescription:
    args = {
        "segment_number": 1,
        "segment_label": "liver",
        "segmented_property_category": CATEGORY,
        "segmented_property_type": LIVER,
        "algorithm_type": "MANUAL",
    }
    args.update(kw)
    return SegmentDescription(**args)


def _refused(message: str, **kw) -> None:
    with pytest.raises(DicomConformanceError, match="^" + re.escape(message) + "$"):
        _segment(**kw)


def _code_of(item: Dataset) -> tuple[str, str, str]:
    return (item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning)


def test_segment_description_minimal_manual_elements():
    d = _segment()
    assert sorted(e.keyword for e in d) == [
        "SegmentAlgorithmType",
        "SegmentLabel",
        "SegmentNumber",
        "SegmentedPropertyCategoryCodeSequence",
        "SegmentedPropertyTypeCodeSequence",
    ]
    assert d.SegmentNumber == 1 and d.SegmentLabel == "liver" and d.SegmentAlgorithmType == "MANUAL"
    assert _code_of(d.SegmentedPropertyCategoryCodeSequence[0]) == ("91723000", "SCT", "Anatomical Structure")
    assert _code_of(d.SegmentedPropertyTypeCodeSequence[0]) == ("10200004", "SCT", "Liver")
    assert "SegmentedPropertyTypeModifierCodeSequence" not in d.SegmentedPropertyTypeCodeSequence[0]
    # read back: absent attributes read as None or []
    assert d.segment_number == 1 and d.segment_label == "liver" and d.algorithm_type == "MANUAL"
    assert d.segmented_property_category == CATEGORY and d.segmented_property_type == LIVER
    assert d.description is None and d.algorithm is None and d.anatomic_region is None
    assert d.anatomic_region_modifiers == [] and d.property_type_modifiers == []
    assert d.tracking_id is None and d.tracking_uid is None and d.display_color is None
    assert _segment(description="").description is None and "SegmentDescription" not in _segment(description="")


def test_segment_description_every_attribute_by_hand():
    algorithm = AlgorithmIdentification(name="thresh", version="2", family=FAMILY)
    d = _segment(
        segment_number=65535,
        segment_label="L" * 64,
        algorithm_type="semiautomatic",
        algorithm=algorithm,
        property_type_modifiers=[LEFT, RIGHT],
        anatomic_region=ABDOMEN,
        anatomic_region_modifiers=[RIGHT, LEFT],
        tracking_id="T" * 64,
        tracking_uid="1.2.3.4",
        display_color=(255, 0, 0),
        description="d" * 1024,
    )
    assert d.SegmentNumber == 65535 and d.SegmentLabel == "L" * 64
    assert d.SegmentAlgorithmType == "SEMIAUTOMATIC" and d.SegmentAlgorithmName == "thresh"
    (alg,) = d.SegmentationAlgorithmIdentificationSequence
    assert alg.AlgorithmName == "thresh" and alg.AlgorithmVersion == "2"
    assert _code_of(alg.AlgorithmFamilyCodeSequence[0]) == ("123109", "DCM", "Manual Processing")
    type_item = d.SegmentedPropertyTypeCodeSequence[0]
    assert [_code_of(m) for m in type_item.SegmentedPropertyTypeModifierCodeSequence] == [
        ("7771000", "SCT", "Left"),
        ("24028007", "SCT", "Right"),
    ]
    (region,) = d.AnatomicRegionSequence
    assert _code_of(region) == ("818981001", "SCT", "Abdomen")
    assert [_code_of(m) for m in region.AnatomicRegionModifierSequence] == [
        ("24028007", "SCT", "Right"),
        ("7771000", "SCT", "Left"),
    ]
    assert d.TrackingID == "T" * 64 and d.TrackingUID == "1.2.3.4"
    # sRGB red in CIELab D65 (L 53.24, a 80.09, b 67.20), scaled as PS3.3 C.10.7.1.1: 34891 53480 50167
    assert list(d.RecommendedDisplayCIELabValue) == [34891, 53480, 50167]
    assert d.SegmentDescription == "d" * 1024
    # read back
    assert d.segment_number == 65535 and d.algorithm_type == "SEMIAUTOMATIC"
    assert d.algorithm.name == "thresh" and isinstance(d.algorithm, AlgorithmIdentification)
    assert d.property_type_modifiers == [LEFT, RIGHT]
    assert d.anatomic_region == ABDOMEN and d.anatomic_region_modifiers == [RIGHT, LEFT]
    assert d.tracking_id == "T" * 64 and d.tracking_uid == "1.2.3.4"
    assert d.display_color == (255, 0, 0) and d.description == "d" * 1024
    # an anatomic region without modifiers
    plain = _segment(anatomic_region=ABDOMEN)
    assert "AnatomicRegionModifierSequence" not in plain.AnatomicRegionSequence[0]
    assert plain.anatomic_region_modifiers == []
    # an automatic segment with an algorithm
    auto = _segment(algorithm_type="AUTOMATIC", algorithm=algorithm, segment_label="x y_z-1 !")
    assert auto.SegmentAlgorithmType == "AUTOMATIC" and auto.segment_label == "x y_z-1 !"


def test_segment_description_from_dataset_reads_a_plain_item():
    item = Dataset()
    item.SegmentNumber = 4
    item.SegmentAlgorithmType = "MANUAL"
    item.SegmentedPropertyCategoryCodeSequence = [Dataset()]
    item.SegmentedPropertyCategoryCodeSequence[0].update(
        {"CodeValue": "91723000", "CodingSchemeDesignator": "SCT", "CodeMeaning": "Anatomical Structure"}
    )
    item.SegmentedPropertyTypeCodeSequence = [Dataset()]
    item.SegmentedPropertyTypeCodeSequence[0].update(
        {"CodeValue": "10200004", "CodingSchemeDesignator": "SCT", "CodeMeaning": "Liver"}
    )
    item.SegmentDescription = ""
    item.TrackingID = ""
    item.AnatomicRegionSequence = []
    d = SegmentDescription.from_dataset(item)
    assert isinstance(d, SegmentDescription) and d.segment_number == 4
    assert d.segment_label == "" and d.description is None and d.tracking_id is None
    assert d.anatomic_region is None and d.anatomic_region_modifiers == []
    assert d.segmented_property_type == LIVER and d.segmented_property_category == CATEGORY


def test_segment_description_refusals_word_for_word():
    for bad in (0, 65536, -1, True, 1.0, "1"):
        _refused(f"Segment Number (0062,0004) must be an integer 1-65535 (US), got {bad!r}", segment_number=bad)
    _refused("Segment Label (0062,0005) is Type 1 and must not be empty", segment_label="")
    lo = " is not a valid LO value: at most 64 characters, no backslash or control characters (PS3.5 6.2)"
    for bad in ("L" * 65, "a\\b", "a\x1fb", "a\nb", "\x00"):
        _refused(f"Segment Label (0062,0005) {bad!r}" + lo, segment_label=bad)
    assert _segment(segment_label="a b").segment_label == "a b"  # space (32) is no control character
    _refused(
        "Segmented Property Category Code Sequence (0062,0003) needs a coded concept (pydicom Code), got 'x'",
        segmented_property_category="x",
    )
    _refused(
        "Segmented Property Type Code Sequence (0062,000F) needs a coded concept (pydicom Code), got None",
        segmented_property_type=None,
    )
    _refused(
        "Segment Algorithm Type (0062,0008) must be one of AUTOMATIC, SEMIAUTOMATIC, MANUAL, got 'GUESSED'",
        algorithm_type="guessed",
    )
    _refused(
        "segment 1: Segment Algorithm Name (0062,0009) and Segmentation Algorithm Identification Sequence"
        " (0062,0007) are required when Segment Algorithm Type is AUTOMATIC (PS3.3 C.8.20.2); give the algorithm",
        algorithm_type="automatic",
    )
    algorithm = AlgorithmIdentification(name="a", version="1", family=FAMILY)
    _refused(
        "segment 1: Segment Algorithm Name (0062,0009) is not allowed when Segment Algorithm Type is MANUAL"
        " (PS3.3 C.8.20.2); give no algorithm, or use SEMIAUTOMATIC",
        algorithm=algorithm,
    )
    _refused("algorithm must be an AlgorithmIdentification", algorithm_type="AUTOMATIC", algorithm="thresh")
    both = (
        "segment 1: Tracking ID (0062,0020) and Tracking UID (0062,0021) are each required when the other is"
        " present (PS3.3 C.8.20.4); give both or neither"
    )
    _refused(both, tracking_id="t")
    _refused(both, tracking_uid="1.2.3")
    _refused("Tracking ID (0062,0020) is Type 1 and must not be empty", tracking_id="", tracking_uid="1.2.3")
    _refused("Tracking ID (0062,0020) " + repr("T" * 65) + lo, tracking_id="T" * 65, tracking_uid="1.2.3")
    _refused("Tracking UID (0062,0021) '1.02' is not a valid UID", tracking_id="t", tracking_uid="1.02")
    _refused("Segment Description (0062,0006) is an ST of at most 1024 characters", description="d" * 1025)
    _refused("Anatomic Region Modifier Sequence (0008,2220) needs an anatomic region", anatomic_region_modifiers=[LEFT])
    _refused(
        "Anatomic Region Sequence (0008,2218) needs a coded concept (pydicom Code), got 'abdomen'",
        anatomic_region="abdomen",
    )
    _refused(
        "Anatomic Region Modifier Sequence (0008,2220) needs a coded concept (pydicom Code), got 'left'",
        anatomic_region=ABDOMEN,
        anatomic_region_modifiers=["left"],
    )
    _refused(
        "Segmented Property Type Modifier Code Sequence (0062,0011) needs a coded concept (pydicom Code), got 3",
        property_type_modifiers=[3],
    )
    with pytest.raises(DicomConformanceError, match="display colour"):
        _segment(display_color=(0, 0, 256))


def test_segment_descriptions_read_by_highdicom(tmp_path):
    hd = pytest.importorskip("highdicom")
    algorithm = AlgorithmIdentification(name="thresh", version="2", family=FAMILY)
    descriptions = [
        _segment(
            segment_label="one",
            tracking_id="lesion 1",
            tracking_uid="1.2.826.0.1.3680043.10.9.55",
            anatomic_region=ABDOMEN,
            property_type_modifiers=[LEFT],
            display_color=(12, 200, 99),
        ),
        _segment(segment_number=2, segment_label="two", algorithm_type="AUTOMATIC", algorithm=algorithm),
    ]
    lab = two_segments()
    path = _write(build(tiny_ct_series(4, 8, 16), lab, descriptions=descriptions), tmp_path)
    h = hd.seg.Segmentation.from_dataset(pydicom.dcmread(path))
    assert list(h.segment_numbers) == [1, 2]
    one, two = h.get_segment_description(1), h.get_segment_description(2)
    assert one.segment_label == "one" and two.segment_label == "two"
    assert one.algorithm_type == hd.seg.SegmentAlgorithmTypeValues.MANUAL
    assert two.algorithm_type == hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC
    assert two.algorithm_identification[0].AlgorithmName == "thresh"
    assert one.tracking_id == "lesion 1" and one.tracking_uid == "1.2.826.0.1.3680043.10.9.55"
    assert one.segmented_property_type == LIVER and one.segmented_property_category == CATEGORY
    assert list(one.anatomic_regions) == [ABDOMEN]
    assert list(h.get_segment_numbers(tracking_uid="1.2.826.0.1.3680043.10.9.55")) == [1]
    assert list(h.get_segment_numbers(segmented_property_type=LIVER)) == [1, 2]


# --- segmentation: the encoding checks and the constructor's refusals (PS3.3 C.8.20.2, PS3.5 G.2) -------


SEG_UID, LABELMAP_UID = "1.2.840.10008.5.1.4.1.1.66.4", "1.2.840.10008.5.1.4.1.1.66.7"


def _encoding_refused(message: str, *args, **kw) -> None:
    with pytest.raises(DicomConformanceError, match="^" + re.escape(message) + "$"):
        check_encoding(*args, **kw)


def test_check_encoding_word_for_word():
    assert check_encoding("binary") == ("BINARY", None)
    assert check_encoding("labelmap", RLELossless) == ("LABELMAP", None)
    assert check_encoding("Fractional", RLELossless, "occupancy", 1) == ("FRACTIONAL", "OCCUPANCY")
    assert check_encoding("FRACTIONAL", fractional_type="probability", max_fractional_value=255)[1] == "PROBABILITY"
    _encoding_refused(
        "Segmentation Type (0062,0001) must be one of BINARY, FRACTIONAL, LABELMAP, got 'heightmap'", "heightmap"
    )
    _encoding_refused(
        "transfer syntax 1.2.840.10008.1.2 is not supported: use Explicit VR Little Endian (1.2.840.10008.1.2.1)"
        " or RLE Lossless (1.2.840.10008.1.2.5)",
        "LABELMAP",
        ImplicitVRLittleEndian,
    )
    _encoding_refused(
        "RLE Lossless is not offered for BINARY segmentations (1-bit pixels): readers disagree on how PS3.5"
        " Annex G applies to them and pydicom cannot decode them; use LABELMAP for compressed non-overlapping"
        " segments, or Explicit VR Little Endian",
        "binary",
        RLELossless,
    )
    for kind in (None, "", "SOMETIMES"):
        shown = "None" if not kind else repr(kind)
        _encoding_refused(
            "Segmentation Fractional Type (0062,0010) is required for a FRACTIONAL Segmentation and must be"
            f" PROBABILITY or OCCUPANCY, got {shown}",
            "FRACTIONAL",
            fractional_type=kind,
        )
    for bad in (0, 256, True, 1.5, "255", -1):
        _encoding_refused(
            f"Maximum Fractional Value (0062,000E) must be an integer 1-255 for 8-bit FRACTIONAL pixels, got {bad!r}",
            "FRACTIONAL",
            fractional_type="OCCUPANCY",
            max_fractional_value=bad,
        )
    for kind in ("BINARY", "LABELMAP"):
        _encoding_refused(
            f"Segmentation Fractional Type (0062,0010) applies only to FRACTIONAL, not {kind}",
            kind.lower(),
            fractional_type="PROBABILITY",
        )
    assert check_encoding("BINARY", max_fractional_value=0) == ("BINARY", None)  # ignored unless FRACTIONAL
    # Maximum Fractional Value defaults to 255, the largest 8-bit value
    assert check_encoding("FRACTIONAL", fractional_type="PROBABILITY") == ("FRACTIONAL", "PROBABILITY")


def _seg(sources=None, pixels=None, seg_type="BINARY", **kw) -> Segmentation:
    sources = tiny_ct_series(4, 8, 16) if sources is None else sources
    pixels = two_segments() if pixels is None else pixels
    kw.setdefault("n_segments", 2)
    return build(sources, pixels, seg_type, **kw)


def _seg_refused(message: str, **kw) -> None:
    with pytest.raises(DicomConformanceError, match="^" + re.escape(message) + "$"):
        _seg(**kw)


def test_segmentation_refusals_word_for_word():
    d = [_segment(segment_number=n, segment_label=f"s{n}") for n in (1, 2, 3)]
    _seg_refused("Segment Sequence (0062,0002) needs at least one segment", descriptions=[])
    _seg_refused("segment_descriptions must be SegmentDescription objects", descriptions=[d[0], Dataset()])
    _seg_refused(
        "Segment Number (0062,0004) values must be unique within the Segmentation; [1, 2] repeat",
        descriptions=[d[1], d[0], d[1], d[0], d[2]],
    )
    _seg_refused(
        "Segment Numbers of a BINARY Segmentation shall start at 1 and increase by 1 in the order of the Segment"
        " Sequence (PS3.3 C.8.20.2); got [2, 1]",
        descriptions=[d[1], d[0]],
    )
    _seg_refused(
        "Segment Numbers of a FRACTIONAL Segmentation shall start at 1 and increase by 1 in the order of the"
        " Segment Sequence (PS3.3 C.8.20.2); got [2, 3]",
        descriptions=[d[1], d[2]],
        seg_type="FRACTIONAL",
        pixels=np.ones((4, 8, 16, 2)) * 0.5,
    )
    _seg_refused(
        "segment descriptions must be given in ascending Segment Number order; got [2, 1]",
        descriptions=[d[1], d[0]],
        seg_type="LABELMAP",
    )
    # LABELMAP numbers may have gaps and need not start at 1
    lab = two_segments() * 2  # values 2 and 4
    d4 = _segment(segment_number=4, segment_label="s4")
    assert _seg(pixels=lab, seg_type="LABELMAP", descriptions=[d[1], d4]).segment_numbers == [2, 4]
    for shape in ((3, 8, 16), (4, 8, 15), (4, 7, 16), (4, 8), (4, 8, 16, 1, 1)):
        _seg_refused(
            f"pixel array of shape {shape} does not match the source images: expected (4, 8, 16[, segments])"
            " (one frame per source frame, Rows x Columns of the source)",
            pixels=np.ones(shape, np.uint8),
        )
    with pytest.raises(DicomConformanceError, match=r"^content_datetime must be a datetime \(Content Date and Time\)$"):
        Segmentation(**_seg_arguments(content_datetime=datetime.date(2024, 1, 2)))
    with pytest.raises(DicomConformanceError, match=r"^equipment must be a common.modules.Equipment$"):
        Segmentation(**_seg_arguments(equipment=("ACME", "x", "1", "2")))
    # Enhanced General Equipment (PS3.3 C.7.5.2) makes the model name, serial number and versions Type 1
    with pytest.raises(
        DicomConformanceError, match=r"^Enhanced General Equipment \(PS3.3 C.7.5.2\) requires ManufacturerModelName$"
    ):
        Segmentation(**_seg_arguments(equipment=Equipment("ACME", "", "0.1", "SN1")))
    # the encoding is checked first, before anything else is looked at
    with pytest.raises(DicomConformanceError, match=r"^Segmentation Type"):
        Segmentation(**_seg_arguments(segmentation_type="OTHER", segment_descriptions=[]))


WHEN = datetime.datetime(2024, 5, 6, 7, 8, 9)


def _seg_arguments(**kw):
    args = {
        "source_images": tiny_ct_series(4, 8, 16),
        "pixel_array": two_segments(),
        "segmentation_type": "BINARY",
        "segment_descriptions": [_segment(segment_number=n, segment_label=f"s{n}") for n in (1, 2)],
        "series_instance_uid": "1.2.826.0.1.3680043.10.9.10",
        "series_number": 99,
        "sop_instance_uid": "1.2.826.0.1.3680043.10.9.11",
        "instance_number": 3,
        "equipment": Equipment("ACME", "dcmspec", "0.1", "SN1"),
        "content_datetime": WHEN,
    }
    args.update(kw)
    return args


def _common_attributes(ds: Dataset, sop_class: str) -> None:
    """What every Segmentation built from tiny_ct_series(4, 8, 16) holds (PS3.3 A.51, C.8.20)."""
    assert ds.SOPClassUID == sop_class and ds.file_meta.MediaStorageSOPClassUID == sop_class
    assert ds.SOPInstanceUID == "1.2.826.0.1.3680043.10.9.11"
    assert ds.Modality == "SEG" and ds.SeriesNumber == 99 and ds.SeriesInstanceUID == "1.2.826.0.1.3680043.10.9.10"
    assert ds.InstanceNumber == 3 and ds.ContentLabel == "SEGMENTATION"
    assert ds.ContentDate == "20240506" and ds.ContentTime == "070809"
    assert list(ds.ImageType) == ["DERIVED", "PRIMARY"]
    assert ds.SamplesPerPixel == 1 and ds.PhotometricInterpretation == "MONOCHROME2"
    assert (ds.Rows, ds.Columns, ds.PixelRepresentation) == (8, 16, 0)
    assert ds.FrameOfReferenceUID == "1.2.826.0.1.3680043.10.9.4"
    assert ds.PatientName == "Test^Patient" and ds.StudyInstanceUID == "1.2.826.0.1.3680043.10.9.2"
    assert (ds.Manufacturer, ds.ManufacturerModelName, ds.DeviceSerialNumber, ds.SoftwareVersions) == (
        "ACME",
        "dcmspec",
        "SN1",
        "0.1",
    )
    assert ds.LossyImageCompression == "00" and "PatientOrientation" not in ds
    uid = derive_uid("dcmspec-dimension-organization", "1.2.826.0.1.3680043.10.9.11")
    assert ds.DimensionOrganizationSequence[0].DimensionOrganizationUID == uid
    assert {d.DimensionOrganizationUID for d in ds.DimensionIndexSequence} == {uid}
    (series,) = ds.ReferencedSeriesSequence
    assert series.SeriesInstanceUID == "1.2.826.0.1.3680043.10.9.3"
    assert [i.ReferencedSOPInstanceUID for i in series.ReferencedInstanceSequence] == UIDS
    shared = ds.SharedFunctionalGroupsSequence[0]
    assert [float(v) for v in shared.PixelMeasuresSequence[0].PixelSpacing] == [0.5, 0.5]
    assert float(shared.PixelMeasuresSequence[0].SpacingBetweenSlices) == 2.0


def _frame_sources(ds: Dataset) -> list[str]:
    return [
        p.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID
        for p in ds.PerFrameFunctionalGroupsSequence
    ]


def test_binary_segmentation_attributes_pixels_and_readers(tmp_path):
    from conftest import dciodvfy_findings

    hd = pytest.importorskip("highdicom")
    lab = two_segments()
    seg = Segmentation(**_seg_arguments(pixel_array=lab))
    assert seg.slice_spacing is not None and seg.slice_spacing.value == 2.0
    path = _write(seg, tmp_path)
    ds = pydicom.dcmread(path)
    _common_attributes(ds, SEG_UID)
    assert ds.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    assert (ds.BitsAllocated, ds.BitsStored, ds.HighBit) == (1, 1, 0)
    assert ds.SegmentationType == "BINARY" and ds.SegmentsOverlap == "NO" and ds.NumberOfFrames == 5
    for absent in ("SegmentationFractionalType", "MaximumFractionalValue", "PixelPaddingValue"):
        assert absent not in ds
    assert ds["PixelData"].VR == "OB" and len(ds.PixelData) == 5 * 8 * 16 // 8
    assert [int(s.SegmentNumber) for s in ds.SegmentSequence] == [1, 2]
    # stored frames: segment 1 on slices 0, 1, 3, then segment 2 on slices 2, 3 (PS3.3 C.8.20.2.2)
    assert _frame_sources(ds) == [UIDS[0], UIDS[1], UIDS[3], UIDS[2], UIDS[3]]
    expected = np.stack([lab[0] == 1, lab[1] == 1, lab[3] == 1, lab[2] == 2, lab[3] == 2])
    np.testing.assert_array_equal(ds.pixel_array, expected)
    assert [list(p.FrameContentSequence[0].DimensionIndexValues) for p in ds.PerFrameFunctionalGroupsSequence] == [
        [1, 1],
        [1, 2],
        [1, 4],
        [2, 3],
        [2, 4],
    ]
    errors, _ = dciodvfy_findings(path)
    assert errors == []
    h = hd.seg.Segmentation.from_dataset(ds)
    for i, uid in enumerate(UIDS):
        got = h.get_pixels_by_source_instance([uid], segment_numbers=[1, 2])[0]
        np.testing.assert_array_equal(got, np.stack([lab[i] == 1, lab[i] == 2], axis=-1))
    # the built object's own read-back equals the file's
    np.testing.assert_array_equal(seg.get_pixels(), np.stack([lab == 1, lab == 2], axis=-1))
    back = segread(path)
    assert back.slice_spacing is None
    np.testing.assert_array_equal(back.get_pixels(combine="labelmap"), lab)


def test_fractional_segmentation_attributes_and_values(tmp_path):
    hd = pytest.importorskip("highdicom")
    values = np.zeros((4, 8, 16, 1), np.float32)
    values[1, 2, 3:6, 0] = [0.25, 0.5, 1.0]  # stored round(v * 200): 50, 100, 200
    values[3, 7, 15, 0] = 0.004  # stored 1
    seg = Segmentation(
        **_seg_arguments(
            pixel_array=values,
            segmentation_type="fractional",
            fractional_type="occupancy",
            max_fractional_value=200,
            segment_descriptions=[_segment()],
            content_label="FRAC",
        )
    )
    path = _write(seg, tmp_path)
    ds = pydicom.dcmread(path)
    assert ds.SegmentationType == "FRACTIONAL" and ds.SegmentationFractionalType == "OCCUPANCY"
    assert ds.MaximumFractionalValue == 200 and ds.ContentLabel == "FRAC"
    assert (ds.BitsAllocated, ds.BitsStored, ds.HighBit) == (8, 8, 7) and "PixelPaddingValue" not in ds
    assert ds.NumberOfFrames == 2 and _frame_sources(ds) == [UIDS[1], UIDS[3]]
    assert ds.pixel_array[0, 2, 3:6].tolist() == [50, 100, 200] and ds.pixel_array[1, 7, 15] == 1
    assert int(ds.pixel_array.sum()) == 351
    h = hd.seg.Segmentation.from_dataset(ds)
    got = h.get_pixels_by_source_instance([UIDS[1]], segment_numbers=[1], rescale_fractional=True)[0, 2, 3:6, 0]
    np.testing.assert_allclose(got, [0.25, 0.5, 1.0])
    np.testing.assert_allclose(seg.get_pixels()[1, 2, 3:6, 0], [0.25, 0.5, 1.0])


@pytest.mark.parametrize("ts", [ExplicitVRLittleEndian, RLELossless])
@pytest.mark.parametrize("top", [2, 300])
def test_labelmap_segmentation_attributes_and_values(tmp_path, ts, top):
    from conftest import dciodvfy_findings

    hd = pytest.importorskip("highdicom")
    lab = two_segments().astype(np.uint16)
    lab[lab == 2] = top
    descriptions = [_segment(), _segment(segment_number=top, segment_label="top")]
    seg = Segmentation(
        **_seg_arguments(
            pixel_array=lab, segmentation_type="LABELMAP", segment_descriptions=descriptions, transfer_syntax_uid=ts
        )
    )
    if ts == RLELossless:  # encapsulated: undefined length (PS3.5 A.4), in the built object as in the file
        assert seg["PixelData"].VR == "OB" and seg["PixelData"].is_undefined_length is True
    path = _write(seg, tmp_path)
    ds = pydicom.dcmread(path)
    _common_attributes(ds, LABELMAP_UID)
    bits = 16 if top > 255 else 8
    assert ds.file_meta.TransferSyntaxUID == ts
    assert (ds.BitsAllocated, ds.BitsStored, ds.HighBit) == (bits, bits, bits - 1)
    assert ds.PixelPaddingValue == 0 and ds["PixelPaddingValue"].VR == "US"
    assert ds.SegmentationType == "LABELMAP" and ds.SegmentsOverlap == "NO" and ds.NumberOfFrames == 4
    assert "SegmentIdentificationSequence" not in ds.PerFrameFunctionalGroupsSequence[0]
    assert _frame_sources(ds) == UIDS
    if ts == RLELossless:
        assert ds["PixelData"].VR == "OB" and ds["PixelData"].is_undefined_length
        # the Basic Offset Table holds the four frames' offsets (the first is 0)
        raw = ds.PixelData
        assert raw[:4] == b"\xfe\xff\x00\xe0" and int.from_bytes(raw[4:8], "little") == 16
        offsets = np.frombuffer(raw[8:24], "<u4")
        assert offsets[0] == 0 and (np.diff(offsets) > 0).all()
    else:
        assert ("OW" if bits == 16 else "OB") == ds["PixelData"].VR
        assert len(ds.PixelData) == 4 * 8 * 16 * bits // 8
    np.testing.assert_array_equal(ds.pixel_array, lab)
    errors, _ = dciodvfy_findings(path)
    assert errors == []
    h = hd.seg.Segmentation.from_dataset(ds)
    # highdicom 0.28's per-segment stack loses label values above 255 (uint8); its combined label map does not
    for i in range(4):
        got = h.get_pixels_by_source_instance([UIDS[i]], segment_numbers=[1, top], combine_segments=True)[0]
        np.testing.assert_array_equal(got, lab[i])
    np.testing.assert_array_equal(segread(path).get_pixels(combine="labelmap"), lab)


def test_label_presence_given_to_the_builder_is_trusted():
    """A label map's presence given by the caller is used as it is (it says which frames are stored)."""
    lab = two_segments()
    presence = prep.label_presence(lab)
    presence[3] = False  # claims slice 3 holds no label: its frames are left out
    for seg_type, frames in (("BINARY", [UIDS[0], UIDS[1], UIDS[2]]), ("LABELMAP", UIDS[:3])):
        seg = Segmentation(**_seg_arguments(pixel_array=lab, segmentation_type=seg_type, label_presence=presence))
        assert _frame_sources(seg) == frames
    masks = np.stack([lab == 1, lab == 2], axis=-1)  # channels: a presence is not used
    seg = Segmentation(**_seg_arguments(pixel_array=masks, label_presence=presence))
    assert _frame_sources(seg) == [UIDS[0], UIDS[1], UIDS[3], UIDS[2], UIDS[3]]


def test_sources_without_geometry_keep_their_patient_orientation(tmp_path):
    sources = tiny_ct_series(1, 8, 16)
    for ds in sources:
        ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.1"  # CR: no Image Plane module
        for kw in ("ImagePositionPatient", "ImageOrientationPatient", "FrameOfReferenceUID", "SliceThickness"):
            del ds[kw]
        ds.PatientOrientation = ["A", "F"]
    lab = two_segments()[3:4]
    seg = Segmentation(**_seg_arguments(source_images=sources, pixel_array=lab))
    assert list(seg.PatientOrientation) == ["A", "F"] and "FrameOfReferenceUID" not in seg
    del sources[0].PatientOrientation
    seg = Segmentation(**_seg_arguments(source_images=sources, pixel_array=lab))
    assert "PatientOrientation" in seg and seg.PatientOrientation in (None, "")
    path = _write(seg, tmp_path)
    np.testing.assert_array_equal(segread(path).get_pixels(combine="labelmap")[0], lab[0])


def test_segread_with_the_source_images_places_omitted_frames(tmp_path):
    lab = np.zeros((4, 8, 16), np.uint8)
    lab[2, 1, 1] = 1
    path = _write(Segmentation(**_seg_arguments(pixel_array=lab, segment_descriptions=[_segment()])), tmp_path)
    ds = pydicom.dcmread(path)
    del ds.ReferencedSeriesSequence  # only the frames' references are left
    ds.save_as(path)
    alone = segread(path)
    assert alone.get_pixels().shape == (1, 8, 16, 1) and alone.source_instance_uids() == [UIDS[2]]
    full = segread(path, source_images=tiny_ct_series(4, 8, 16))
    assert isinstance(full, Segmentation) and full.source_instance_uids() == UIDS
    got = full.get_pixels()
    assert got.shape == (4, 8, 16, 1) and got[2, 1, 1, 0] and got.sum() == 1


# --- prepare: checking the pixel array and planning the stored frames (PS3.3 C.8.20.2) ------------------


def _frames(prepared) -> np.ndarray:
    """Every stored frame, copied out of the (possibly reused) chunk buffers."""
    chunks = [np.array(c, copy=True) for c in prepared.chunks()]
    return np.concatenate(chunks) if chunks else np.zeros((0,))


def _prepare_refused(message: str, pixels, **kw) -> None:
    kw.setdefault("segmentation_type", "BINARY")
    kw.setdefault("numbers", [1])
    kw.setdefault("omit_empty_frames", True)
    with pytest.raises(DicomConformanceError, match="^" + re.escape(message) + "$"):
        prep.prepare_pixels(pixels, **kw)


def test_prepare_runs_and_chunk_sizes():
    assert list(prep._runs(np.array([0, 1, 2, 3, 4, 7, 9, 10]), 2)) == [(0, 2), (2, 4), (4, 5), (7, 8), (9, 11)]
    assert list(prep._runs(np.array([5, 6, 7]), 3)) == [(5, 8)]
    assert list(prep._runs(np.array([5, 6, 7]), 1)) == [(5, 6), (6, 7), (7, 8)]
    assert list(prep._runs(np.array([], dtype=np.int64), 4)) == []
    assert prep.CHUNK_BYTES == 8 << 20
    assert prep._frames_per_chunk(1 << 20) == 8 and prep._frames_per_chunk(3 << 20) == 2
    assert prep._frames_per_chunk(9 << 20) == 1 and prep._frames_per_chunk(0) == 8 << 20
    assert prep._frames_per_chunk(1) == 8 << 20


def test_label_presence_by_hand():
    lab = np.zeros((3, 2, 2), np.uint8)
    lab[0, 0, 0] = 3
    lab[0, 1, 1] = 1
    lab[2, 0, 1] = 2
    presence = prep.label_presence(lab)
    assert presence.dtype == bool
    assert presence.tolist() == [[False, True, False, True], [False] * 4, [False, False, True, False]]
    binary = np.zeros((3, 2, 2), bool)
    binary[1, 1, 0] = True
    assert prep.label_presence(binary).tolist() == [[False, False], [False, True], [False, False]]
    assert prep.label_presence(binary.astype(np.uint16)).tolist() == [[False, False], [False, True], [False, False]]
    assert prep.label_presence(np.zeros((2, 3, 3), np.uint8)).tolist() == [[False], [False]]
    assert prep.label_presence(np.zeros((2, 0, 3), np.uint8)).shape == (2, 1)


def test_label_array_types_and_refusals():
    u8 = np.zeros((1, 2, 2), np.uint8)
    assert prep._label_array(u8) is u8
    u16 = np.zeros((1, 2, 2), np.uint16)
    assert prep._label_array(u16) is u16
    b = np.ones((1, 2, 2), bool)
    assert prep._label_array(b).dtype == np.uint8 and prep._label_array(b).base is b
    small = np.full((1, 2, 2), 255, np.int64)
    assert prep._label_array(small).dtype == np.uint8 and (prep._label_array(small) == 255).all()
    wide = np.full((1, 2, 2), 256, np.uint32)
    assert prep._label_array(wide).dtype == np.uint16 and (prep._label_array(wide) == 256).all()
    top = np.full((1, 2, 2), 65535, np.int32)
    assert prep._label_array(top).dtype == np.uint16
    assert prep._label_array(np.zeros((0, 2, 2), np.int8)).dtype == np.uint8
    assert prep._label_array(np.zeros((1, 2, 2), np.int16)).dtype == np.uint8
    with pytest.raises(
        DicomConformanceError, match=r"^label value 65536 exceeds the largest Segment Number 65535 \(US\)$"
    ):
        prep._label_array(np.full((1, 2, 2), 65536, np.int64))
    with pytest.raises(
        DicomConformanceError,
        match=r"^label map values must be 0 \(background\) or segment numbers, found negative values$",
    ):
        prep._label_array(np.full((1, 2, 2), -1, np.int8))
    with pytest.raises(
        DicomConformanceError,
        match=r"^a 3-dimensional pixel array is a label map and must hold integers, got complex128; give \(frames,"
        r" rows, columns, segments\) for fractional values$",
    ):
        prep._label_array(np.zeros((1, 2, 2), complex))


def _lab() -> np.ndarray:
    """5 frames of 2 x 3: value 1 in frames 0, 3; value 3 in frames 3, 4; frames 1 and 2 empty."""
    lab = np.zeros((5, 2, 3), np.uint8)
    lab[0, 0, 0] = 1
    lab[3, 1, 2] = 1
    lab[3, 0, 1] = 3
    lab[4, 1, 1] = 3
    return lab


@pytest.mark.parametrize("chunk_bytes", [1, 12, 1 << 23])
def test_prepare_label_map_as_binary_fractional_and_labelmap(monkeypatch, chunk_bytes):
    monkeypatch.setattr(prep, "CHUNK_BYTES", chunk_bytes)  # 1 or 2 frames (6 bytes each) a chunk, or all
    lab = _lab()
    p = prep.prepare_pixels(lab, segmentation_type="BINARY", numbers=[1, 2, 3], omit_empty_frames=True)
    assert p.source_index.tolist() == [0, 3, 3, 4] and p.segment_number.tolist() == [1, 1, 3, 3]
    assert p.dtype is bool and p.overlap == "NO"
    assert {c.dtype for c in p.chunks()} == {np.dtype(bool)}  # chunks are of the planned dtype
    np.testing.assert_array_equal(_frames(p), np.stack([lab[0] == 1, lab[3] == 1, lab[3] == 3, lab[4] == 3]))
    p = prep.prepare_pixels(lab, segmentation_type="BINARY", numbers=[1, 2, 3], omit_empty_frames=False)
    assert p.source_index.tolist() == [0, 1, 2, 3, 4] * 3 and p.segment_number.tolist() == [1] * 5 + [2] * 5 + [3] * 5
    np.testing.assert_array_equal(_frames(p), np.concatenate([lab == 1, lab == 2, lab == 3]))
    p = prep.prepare_pixels(
        lab, segmentation_type="FRACTIONAL", numbers=[1, 2, 3], omit_empty_frames=True, max_fractional_value=77
    )
    assert p.dtype is np.uint8 and p.segment_number.tolist() == [1, 1, 3, 3]
    np.testing.assert_array_equal(
        _frames(p), 77 * np.stack([lab[0] == 1, lab[3] == 1, lab[3] == 3, lab[4] == 3]).astype(np.uint8)
    )
    for omit, frames in ((True, [0, 3, 4]), (False, [0, 1, 2, 3, 4])):
        p = prep.prepare_pixels(lab, segmentation_type="LABELMAP", numbers=[1, 3], omit_empty_frames=omit)
        assert p.source_index.tolist() == frames and p.segment_number is None and p.overlap == "NO"
        assert p.dtype is np.uint8
        got = _frames(p)
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, lab[frames])
    p = prep.prepare_pixels(lab, segmentation_type="LABELMAP", numbers=[1, 3, 256], omit_empty_frames=True)
    assert p.dtype is np.uint16 and _frames(p).dtype == np.uint16
    p = prep.prepare_pixels(lab, segmentation_type="LABELMAP", numbers=[1, 3, 255], omit_empty_frames=True)
    assert p.dtype is np.uint8 and _frames(p).dtype == np.uint8  # 255 is the largest 8-bit value
    # a described segment beyond the largest value present stores no frame
    p = prep.prepare_pixels(lab, segmentation_type="BINARY", numbers=[1, 2, 3, 4], omit_empty_frames=True)
    assert p.segment_number.tolist() == [1, 1, 3, 3]


def test_prepare_label_map_refusals_and_given_presence():
    lab = _lab()
    _prepare_refused(
        "label values [3] appear in the pixel array but no segment with those Segment Numbers (0062,0004) is"
        " described (PS3.3 C.8.20.2.3)",
        lab,
        numbers=[1, 2],
    )
    _prepare_refused(
        "label values [1, 3] appear in the pixel array but no segment with those Segment Numbers (0062,0004) is"
        " described (PS3.3 C.8.20.2.3)",
        lab,
        numbers=[2],
    )
    _prepare_refused(
        "the segmentation is empty: no frame holds any segment pixel", np.zeros((2, 2, 2), np.uint8), numbers=[1]
    )
    presence = prep.label_presence(lab)
    for bad in (presence[:4], presence.astype(np.uint8), presence[None]):
        _prepare_refused(
            "label_presence must be a bool array (frames, max label value + 1)", lab, numbers=[1, 3], label_presence=bad
        )
    # a given presence is trusted: frames it calls empty are left out
    given = presence.copy()
    given[4] = False
    p = prep.prepare_pixels(
        lab, segmentation_type="BINARY", numbers=[1, 3], omit_empty_frames=True, label_presence=given
    )
    assert p.source_index.tolist() == [0, 3, 3]
    given = np.zeros((5, 6), bool)  # wider than the values present
    given[2, 5] = True
    _prepare_refused(
        "label values [5] appear in the pixel array but no segment with those Segment Numbers (0062,0004) is"
        " described (PS3.3 C.8.20.2.3)",
        lab,
        numbers=[1, 3],
        label_presence=given,
    )
    p = prep.prepare_pixels(
        lab, segmentation_type="LABELMAP", numbers=[1, 3, 5], omit_empty_frames=True, label_presence=given
    )
    assert p.source_index.tolist() == [2]


def test_channel_max_equals_numpy_for_every_frame_size():
    rng = np.random.default_rng(7)
    for rows, cols in ((1, 1), (3, 5), (2, 2), (4, 4), (8, 16), (16, 16), (2, 3), (32, 8), (1, 128), (5, 256)):
        values = rng.random((3, rows, cols, 2)).astype(np.float32)
        np.testing.assert_array_equal(prep._channel_max(values), values.max(axis=(1, 2)))
        flags = values > 0.9
        np.testing.assert_array_equal(prep._channel_max(flags), flags.any(axis=(1, 2)))
    values = np.zeros((2, 3, 3, 1))
    values[1, 2, 2, 0] = np.nan
    assert np.isnan(prep._channel_max(values)[1, 0]) and prep._channel_max(values)[0, 0] == 0


def test_overlap_checks_only_frames_with_several_segments():
    occupied = np.array([[True, False], [True, True]])
    seen = []

    def frame(f):
        seen.append(f)
        return np.array([[1, 0], [0, 1]]) if f == 1 else np.array([[1, 1]])

    assert prep._overlap(occupied, frame) == "NO" and seen == [1]
    assert prep._overlap(np.array([[True], [True]]), frame) == "NO"
    assert prep._overlap(np.array([[True, True]]), lambda f: np.array([[0, 0], [1, 1]], np.uint8)) == "YES"
    three = np.array([[True, True, True]])
    assert prep._overlap(three, lambda f: np.array([[1, 0, 0], [0, 1, 1]], np.uint8)) == "YES"
    many = np.ones((1, 2), bool)
    assert prep._overlap(many, lambda f: np.full((300, 2), 200, np.uint8)) == "YES"  # sums past 255


def test_quantizer_rounds_half_to_even():
    q = prep._quantizer(np.zeros(1), 255)
    assert q(np.array([0.0, 0.5, 1.0, 1 / 255, 0.499 / 255, 0.002])).tolist() == [0, 128, 255, 1, 0, 1]
    assert prep._quantizer(np.zeros(1), 2)(np.array([0.25, 0.75, 0.5])).tolist() == [0, 2, 1]
    qb = prep._quantizer(np.zeros(1, bool), 9)
    out = qb(np.array([True, False]))
    assert out.tolist() == [9, 0] and out.dtype == np.uint8


@pytest.mark.parametrize("chunk_bytes", [1, 40, 1 << 23])
def test_prepare_channels_binary_fractional_labelmap(monkeypatch, chunk_bytes):
    monkeypatch.setattr(prep, "CHUNK_BYTES", chunk_bytes)
    masks = np.zeros((4, 2, 3, 2), bool)
    masks[0, 0, 0, 0] = masks[2, 1, 1, 0] = masks[2, 0, 2, 1] = masks[3, 1, 2, 1] = True
    for dtype in (bool, np.uint8, np.int16, np.float32):
        p = prep.prepare_pixels(masks.astype(dtype), segmentation_type="BINARY", numbers=[1, 2], omit_empty_frames=True)
        assert p.source_index.tolist() == [0, 2, 2, 3] and p.segment_number.tolist() == [1, 1, 2, 2]
        assert p.overlap == "NO" and p.dtype is bool
        got = _frames(p)
        assert got.dtype == bool
        np.testing.assert_array_equal(
            got, np.stack([masks[0, ..., 0], masks[2, ..., 0], masks[2, ..., 1], masks[3, ..., 1]])
        )
    p = prep.prepare_pixels(masks, segmentation_type="BINARY", numbers=[1, 2], omit_empty_frames=False)
    assert p.source_index.tolist() == [0, 1, 2, 3] * 2 and p.segment_number.tolist() == [1] * 4 + [2] * 4
    p = prep.prepare_pixels(masks, segmentation_type="LABELMAP", numbers=[7, 300], omit_empty_frames=True)
    assert p.source_index.tolist() == [0, 2, 3] and p.segment_number is None and p.dtype is np.uint16
    expected = np.zeros((3, 2, 3), np.uint16)
    expected[0, 0, 0] = expected[1, 1, 1] = 7
    expected[1, 0, 2] = expected[2, 1, 2] = 300
    got = _frames(p)
    assert got.dtype == np.uint16
    np.testing.assert_array_equal(got, expected)
    for top, dtype in ((255, np.uint8), (256, np.uint16)):
        p = prep.prepare_pixels(masks, segmentation_type="LABELMAP", numbers=[7, top], omit_empty_frames=True)
        assert p.dtype is dtype and p.overlap == "NO"
        assert _frames(p)[1, 0, 2] == top and _frames(p).dtype == dtype
    p = prep.prepare_pixels(masks, segmentation_type="LABELMAP", numbers=[7, 9], omit_empty_frames=False)
    assert p.source_index.tolist() == [0, 1, 2, 3] and p.dtype is np.uint8 and p.overlap == "NO"
    np.testing.assert_array_equal(_frames(p)[1], np.zeros((2, 3)))
    # an empty first segment stores no frame; the next is still planned
    later = masks.copy()
    later[..., 0] = False
    p = prep.prepare_pixels(later, segmentation_type="BINARY", numbers=[1, 2], omit_empty_frames=True)
    assert p.source_index.tolist() == [2, 3] and p.segment_number.tolist() == [2, 2]
    np.testing.assert_array_equal(_frames(p), later[[2, 3], ..., 1])
    # overlap
    both = masks.copy()
    both[1, 1, 1, :] = True
    p = prep.prepare_pixels(both, segmentation_type="BINARY", numbers=[1, 2], omit_empty_frames=True)
    assert p.overlap == "YES" and p.source_index.tolist() == [0, 1, 2, 1, 2, 3]
    _prepare_refused(
        "segments overlap, but a LABELMAP Segmentation holds one segment per pixel (PS3.3 C.8.20.2.3); use BINARY",
        both,
        segmentation_type="LABELMAP",
        numbers=[1, 2],
    )
    # FRACTIONAL: values rounded to the Maximum Fractional Value; a value that rounds to 0 stores no frame
    values = np.zeros((4, 2, 3, 2), np.float32)
    values[0, 0, 0, 0] = 0.5
    values[1, 1, 1, 0] = 0.001  # round(0.255) = 0
    values[3, 1, 2, 1] = 1.0
    values[3, 0, 0, 0] = 0.25
    p = prep.prepare_pixels(values, segmentation_type="FRACTIONAL", numbers=[1, 2], omit_empty_frames=True)
    assert p.source_index.tolist() == [0, 3, 3] and p.segment_number.tolist() == [1, 1, 2] and p.dtype is np.uint8
    got = _frames(p)
    assert got.dtype == np.uint8
    assert got[0, 0, 0] == 128 and got[1, 0, 0] == 64 and got[2, 1, 2] == 255 and int(got.sum()) == 128 + 64 + 255
    p = prep.prepare_pixels(
        masks, segmentation_type="FRACTIONAL", numbers=[1, 2], omit_empty_frames=True, max_fractional_value=3
    )
    assert p.source_index.tolist() == [0, 2, 2, 3] and int(_frames(p).sum()) == 12
    p = prep.prepare_pixels(
        masks.astype(np.uint8), segmentation_type="FRACTIONAL", numbers=[1, 2], omit_empty_frames=False
    )
    assert p.source_index.tolist() == [0, 1, 2, 3] * 2 and int(_frames(p).sum()) == 4 * 255
    overlapping = values.copy()
    overlapping[0, 0, 0, 1] = 0.1
    assert (
        prep.prepare_pixels(overlapping, segmentation_type="FRACTIONAL", numbers=[1, 2], omit_empty_frames=True).overlap
        == "YES"
    )
    faint = values.copy()
    faint[0, 0, 0, 1] = 0.001  # stored 0: no overlap
    assert (
        prep.prepare_pixels(faint, segmentation_type="FRACTIONAL", numbers=[1, 2], omit_empty_frames=True).overlap
        == "NO"
    )


def test_prepare_channels_refusals_word_for_word():
    good = np.zeros((2, 2, 2, 1))
    good[0, 0, 0, 0] = 1
    _prepare_refused("pixel array has 1 segment channels but 2 segments are described", good, numbers=[1, 2])
    for seg_type in ("BINARY", "LABELMAP"):
        for bad, shown in (
            (np.full((2, 2, 2, 1), 2, np.uint8), "uint8"),
            (np.full((2, 2, 2, 1), -1, np.int8), "int8"),
            (np.full((2, 2, 2, 1), 0.5), "float64"),
            (np.ones((2, 2, 2, 1), complex), "complex128"),
        ):
            _prepare_refused(
                f"{seg_type} segmentation data must be boolean-like (only 0 and 1 per segment channel), got dtype"
                f" {shown} with other values",
                bad,
                segmentation_type=seg_type,
            )
    _prepare_refused(
        "the segmentation is empty: no frame holds any segment pixel",
        np.zeros((2, 2, 2, 1), bool),
    )
    _prepare_refused(
        "the segmentation is empty: no frame holds any segment pixel",
        np.full((2, 2, 2, 1), 0.001),
        segmentation_type="FRACTIONAL",
    )
    frac = {"segmentation_type": "FRACTIONAL"}
    _prepare_refused("FRACTIONAL pixel array must be numeric, got complex128", np.ones((2, 2, 2, 1), complex), **frac)
    _prepare_refused("FRACTIONAL pixel array must be numeric, got <U1", np.full((2, 2, 2, 1), "a"), **frac)
    for v in (np.nan, np.inf, -np.inf):
        arr = np.zeros((2, 2, 2, 1))
        arr[1, 1, 1, 0] = v
        _prepare_refused("FRACTIONAL values must be finite numbers between 0 and 1", arr, **frac)
    arr = np.zeros((2, 2, 2, 1))
    arr[0, 0, 0, 0], arr[1, 0, 0, 0] = -0.5, 0.25
    _prepare_refused(
        "FRACTIONAL values must lie between 0 and 1 (they are scaled to Maximum Fractional Value 9), found -0.5..0.25",
        arr,
        max_fractional_value=9,
        **frac,
    )
    arr[0, 0, 0, 0] = 1.5
    _prepare_refused(
        "FRACTIONAL values must lie between 0 and 1 (they are scaled to Maximum Fractional Value 255), found 0..1.5",
        arr,
        **frac,
    )
    _prepare_refused(
        "FRACTIONAL values must lie between 0 and 1 (they are scaled to Maximum Fractional Value 255), found 2..2",
        np.full((2, 2, 2, 1), 2, np.int32),
        **frac,
    )
    ok = np.ones((2, 2, 2, 1), np.int32)
    assert prep.prepare_pixels(
        ok, segmentation_type="FRACTIONAL", numbers=[1], omit_empty_frames=True
    ).source_index.tolist() == [0, 1]


def test_prepare_pixels_shapes():
    values = np.zeros((2, 2, 3), np.float32)
    values[1, 0, 0] = 0.5
    p = prep.prepare_pixels(values, segmentation_type="FRACTIONAL", numbers=[1], omit_empty_frames=True)
    assert p.source_index.tolist() == [1] and _frames(p)[0, 0, 0] == 128
    three_d = (
        "a 3-dimensional pixel array is a label map of segment numbers and must hold integers; give (frames, rows,"
        " columns, segments) with one channel per segment for other values"
    )
    _prepare_refused(three_d, values, segmentation_type="FRACTIONAL", numbers=[1, 2])
    _prepare_refused(three_d, values, segmentation_type="BINARY")
    _prepare_refused(three_d, values, segmentation_type="LABELMAP")
    for shape in ((2, 3), (1, 2, 2, 1, 1), (4,)):
        _prepare_refused(
            f"pixel array must be (frames, rows, columns) or (frames, rows, columns, segments), got shape {shape}",
            np.ones(shape, np.uint8),
        )
    p = prep.prepare_pixels([[[0, 1]], [[1, 0]]], segmentation_type="BINARY", numbers=[1.0], omit_empty_frames=True)
    assert p.source_index.tolist() == [0, 1] and p.segment_number.tolist() == [1, 1]


# --- read: the read-back methods, on built objects, files and hand-made datasets ---------------------------

CT = "1.2.840.10008.5.1.4.1.1.2"


def _ref_item(uid: str | None, number: int | None = None, frame=None, sop_class: str = CT) -> Dataset:
    item = _item(uid, number)
    if uid is not None:
        src = item.DerivationImageSequence[0].SourceImageSequence[0]
        src.ReferencedSOPClassUID = sop_class
        if frame is not None:
            src.ReferencedFrameNumber = frame
    return item


def _hand_seg(items, seg_type="BINARY", n=None, **kw) -> Dataset:
    ds = Dataset()
    ds.SOPClassUID = LABELMAP_UID if seg_type == "LABELMAP" else SEG_UID
    ds.SegmentationType = seg_type
    ds.NumberOfFrames = len(items) if n is None else n
    ds.PerFrameFunctionalGroupsSequence = items
    for k, v in kw.items():
        setattr(ds, k, v)
    return ds


def test_from_dataset_indexes_frames_by_hand():
    mr = "1.2.840.10008.5.1.4.1.1.4"
    series = Dataset()
    series.ReferencedInstanceSequence = [Dataset(), Dataset()]
    series.ReferencedInstanceSequence[0].update({"ReferencedSOPClassUID": CT, "ReferencedSOPInstanceUID": "1.9"})
    series.ReferencedInstanceSequence[1].update({"ReferencedSOPInstanceUID": "1.8"})  # no class: ""
    items = [_ref_item("1.5", 2, 3, mr), _ref_item("1.5", 1, 1, mr), _ref_item("1.7", 1), _ref_item("1.8", 2)]
    seg = Segmentation.from_dataset(_hand_seg(items, ReferencedSeriesSequence=[series]))
    assert seg.segmentation_type == "BINARY"
    assert [f.key for f in seg._frame_sources] == [("1.5", 3), ("1.5", 1), ("1.7", None), ("1.8", None)]
    assert [f.sop_class_uid for f in seg._frame_sources] == [mr, mr, CT, CT]
    assert seg._frame_segments == [2, 1, 1, 2]
    # Common Instance Reference order first, then instances referenced by frames only (frames 1..highest)
    assert [f.key for f in seg.source_frames] == [
        ("1.9", None),
        ("1.8", None),
        ("1.5", 1),
        ("1.5", 2),
        ("1.5", 3),
        ("1.7", None),
    ]
    assert [f.sop_class_uid for f in seg.source_frames] == [CT, "", mr, mr, mr, CT]
    assert seg.source_instance_uids() == ["1.9", "1.8", "1.5", "1.7"]
    seg.source_frames.clear()  # a copy
    assert len(seg.source_frames) == 6
    # Referenced Frame Number with several values: the first; empty: none
    multi = _ref_item("1.5", 1)
    multi.DerivationImageSequence[0].SourceImageSequence[0].ReferencedFrameNumber = [4, 2]
    empty = _ref_item("1.6", 1)
    empty.DerivationImageSequence[0].SourceImageSequence[0].ReferencedFrameNumber = []
    seg = Segmentation.from_dataset(_hand_seg([multi, empty]))
    assert [f.key for f in seg._frame_sources] == [("1.5", 4), ("1.6", None)]
    assert [f.key for f in seg.source_frames] == [("1.5", k) for k in (1, 2, 3, 4)] + [("1.6", None)]
    # a label map has no segment per frame; shared groups apply to every frame
    shared = Dataset()
    shared.DerivationImageSequence = _ref_item("1.4").DerivationImageSequence
    lab = _hand_seg([Dataset(), Dataset()], "LABELMAP", SharedFunctionalGroupsSequence=[shared])
    seg = Segmentation.from_dataset(lab)
    assert seg._frame_segments is None and [f.key for f in seg._frame_sources] == [("1.4", None)] * 2
    assert seg.source_frames == [seg._frame_sources[0]] and seg.segmentation_type == "LABELMAP"
    # no per-frame items at all: every frame from the shared groups
    shared_only = _hand_seg([], "BINARY", n=3)
    del shared_only.PerFrameFunctionalGroupsSequence
    shared_only.SharedFunctionalGroupsSequence = [_ref_item("1.3", 5)]
    seg = Segmentation.from_dataset(shared_only)
    assert seg._frame_segments == [5, 5, 5] and len(seg._frame_sources) == 3
    one = _hand_seg([_ref_item("1.2", 1)])
    del one.NumberOfFrames  # one frame
    assert Segmentation.from_dataset(one)._frame_segments == [1]
    one.NumberOfFrames = None
    assert Segmentation.from_dataset(one)._frame_segments == [1]


def test_from_dataset_refusals_word_for_word():
    def refused(message, ds):
        with pytest.raises(DicomConformanceError, match="^" + re.escape(message) + "$"):
            Segmentation.from_dataset(ds)

    ds = _hand_seg([_ref_item("1.2", 1)])
    ds.SOPClassUID = CT
    refused(f"SOP Class UID {CT!r} is not Segmentation Storage or Label Map Segmentation Storage", ds)
    del ds.SOPClassUID
    refused("SOP Class UID '' is not Segmentation Storage or Label Map Segmentation Storage", ds)
    refused("Per-frame Functional Groups Sequence has 1 items for 2 frames", _hand_seg([_ref_item("1.2", 1)], n=2))
    tiled = _hand_seg([], n=2, DimensionOrganizationType="TILED_FULL")
    refused("TILED_FULL Segmentations (no per-frame functional groups) are not supported for reading", tiled)
    refused(
        "frame 2 has no Source Image Sequence; cannot map it to a source frame",
        _hand_seg([_ref_item("1.2", 1), _ref_item(None, 1)]),
    )
    no_src = _ref_item("1.2", 1)
    no_src.DerivationImageSequence[0].SourceImageSequence = []
    refused("frame 1 has no Source Image Sequence; cannot map it to a source frame", _hand_seg([no_src]))
    refused("frame 2 has no Segment Identification Sequence", _hand_seg([_ref_item("1.2", 1), _ref_item("1.3")]))
    # a label map needs none
    assert Segmentation.from_dataset(_hand_seg([_ref_item("1.3")], "LABELMAP"))._frame_segments is None


def _descriptions():
    algorithm = AlgorithmIdentification(name="a", version="1", family=FAMILY)
    return [
        _segment(segment_label="one", tracking_id="t1", tracking_uid="1.2.3.1"),
        _segment(
            segment_number=2,
            segment_label="two",
            segmented_property_type=ABDOMEN,
            segmented_property_category=LEFT,
            algorithm_type="AUTOMATIC",
            algorithm=algorithm,
            tracking_id="t2",
            tracking_uid="1.2.3.2",
        ),
        _segment(segment_number=3, segment_label="one"),
    ]


def test_find_and_get_segments(tmp_path):
    lab = two_segments()
    lab[0, 0, 0] = 3
    seg = Segmentation(**_seg_arguments(pixel_array=lab, segment_descriptions=_descriptions()))
    back = segread(_write(seg, tmp_path))
    for obj in (seg, back):
        assert obj.segment_numbers == [1, 2, 3]
        got = obj.get_segment(2)
        assert isinstance(got, SegmentDescription) and got.segment_label == "two" and got.segment_number == 2
        assert obj.get_segment(np.int64(3)).segment_label == "one"
        with pytest.raises(KeyError, match=r"^'no segment with Segment Number 4'$"):
            obj.get_segment(4)

        def numbers(obj=obj, **kw):
            return [s.segment_number for s in obj.find_segments(**kw)]

        assert numbers() == [1, 2, 3]
        assert numbers(label="one") == [1, 3] and numbers(label="ONE") == []
        assert numbers(property_type=Code("818981001", "SCT", "other meaning")) == [2]
        assert numbers(property_type=LIVER) == [1, 3]
        assert numbers(property_category=LEFT) == [2] and numbers(property_category=CATEGORY) == [1, 3]
        assert numbers(algorithm_type="automatic") == [2] and numbers(algorithm_type="MANUAL") == [1, 3]
        assert numbers(tracking_id="t2") == [2] and numbers(tracking_uid="1.2.3.1") == [1]
        assert numbers(label="one", tracking_id="t1") == [1] and numbers(label="two", tracking_uid="1.2.3.1") == []
        assert numbers(label="one", algorithm_type="AUTOMATIC") == []
        assert numbers(label="one", property_category=LEFT) == [] and numbers(label="one", property_type=ABDOMEN) == []
        assert numbers(label="two", tracking_id="t1") == []


def _hd_stack(path, uids, numbers):
    hd = pytest.importorskip("highdicom")
    h = hd.seg.Segmentation.from_dataset(pydicom.dcmread(path))
    return np.concatenate(
        [h.get_pixels_by_source_instance([u], segment_numbers=numbers, rescale_fractional=True) for u in uids]
    )


@pytest.mark.parametrize("seg_type", ["BINARY", "LABELMAP"])
def test_get_pixels_stack_and_labelmap_against_highdicom(tmp_path, seg_type):
    lab = two_segments()
    lab[1, 6, 6] = 3
    seg = Segmentation(
        **_seg_arguments(pixel_array=lab, segmentation_type=seg_type, segment_descriptions=_descriptions())
    )
    path = _write(seg, tmp_path)
    for obj in (seg, segread(path)):
        full = obj.get_pixels()
        assert full.dtype == bool and full.shape == (4, 8, 16, 3)
        np.testing.assert_array_equal(full, np.stack([lab == 1, lab == 2, lab == 3], axis=-1))
        np.testing.assert_array_equal(full, _hd_stack(path, UIDS, [1, 2, 3]))
        some = obj.get_pixels([3, 1])
        np.testing.assert_array_equal(some, np.stack([lab == 3, lab == 1], axis=-1))
        np.testing.assert_array_equal(some, _hd_stack(path, UIDS, [3, 1]))
        labels = obj.get_pixels([2, 3], combine="labelmap")
        assert labels.dtype == np.uint8
        np.testing.assert_array_equal(labels, np.where(np.isin(lab, [2, 3]), lab, 0))
        np.testing.assert_array_equal(obj.get_pixels(combine="labelmap"), lab)
        for i, uid in enumerate(UIDS):
            np.testing.assert_array_equal(obj.get_pixels_by_source_instance(uid), full[i])
            np.testing.assert_array_equal(obj.get_pixels_by_source_instance(uid, 1, [2]), full[i, ..., 1:2])
            np.testing.assert_array_equal(obj.get_pixels_by_source_instance(uid, combine="labelmap"), lab[i])
        with pytest.raises(KeyError, match=r"^'no segment with Segment Number 9'$"):
            obj.get_pixels([1, 9])
        with pytest.raises(ValueError, match=r"^combine must be 'stack' or 'labelmap'$"):
            obj.get_pixels(combine="max")
        with pytest.raises(KeyError, match=r"^'source instance 1\.2\.9 frame None is not referenced'$"):
            obj.get_pixels_by_source_instance("1.2.9")
        with pytest.raises(KeyError, match=rf"^'source instance {re.escape(UIDS[0])} frame 2 is not referenced'$"):
            obj.get_pixels_by_source_instance(UIDS[0], 2)


def test_get_pixels_of_segments_above_255_and_overlap(tmp_path):
    lab = two_segments().astype(np.uint16)
    lab[lab == 2] = 300
    descriptions = [_segment(), _segment(segment_number=300, segment_label="x")]
    seg = Segmentation(
        **_seg_arguments(pixel_array=lab, segmentation_type="LABELMAP", segment_descriptions=descriptions)
    )
    labels = segread(_write(seg, tmp_path)).get_pixels(combine="labelmap")
    assert labels.dtype == np.uint16
    np.testing.assert_array_equal(labels, lab)
    masks = np.zeros((4, 8, 16, 2), bool)
    masks[1, 1, 1, :] = True
    masks[2, 2, 2, 1] = True
    back = segread(_write(Segmentation(**_seg_arguments(pixel_array=masks)), tmp_path, "o.dcm"))
    np.testing.assert_array_equal(back.get_pixels(), masks)
    with pytest.raises(
        DicomConformanceError, match=r"^segments overlap and cannot be combined into a label map; use combine='stack'$"
    ):
        back.get_pixels(combine="labelmap")
    np.testing.assert_array_equal(back.get_pixels([2], combine="labelmap"), masks[..., 1] * 2)
    np.testing.assert_array_equal(back.get_pixels_by_source_instance(UIDS[2], combine="labelmap"), masks[2, ..., 1] * 2)


def test_get_pixels_fractional_against_highdicom(tmp_path):
    values = np.zeros((4, 8, 16, 2), np.float32)
    values[0, 1, 1, 0] = 0.5
    values[2, 3, 3, 1] = 1.0
    values[2, 3, 4, 1] = 0.2
    seg = Segmentation(
        **_seg_arguments(
            pixel_array=values, segmentation_type="FRACTIONAL", fractional_type="PROBABILITY", max_fractional_value=10
        )
    )
    path = _write(seg, tmp_path)
    for obj in (seg, segread(path)):
        got = obj.get_pixels()
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, values, atol=1e-6)  # 0.5, 1.0, 0.2 are whole tenths
        np.testing.assert_allclose(got, _hd_stack(path, UIDS, [1, 2]), atol=1e-6)
        np.testing.assert_allclose(obj.get_pixels([2])[..., 0], values[..., 1], atol=1e-6)
        with pytest.raises(DicomConformanceError, match=r"^FRACTIONAL segments cannot be combined into a label map$"):
            obj.get_pixels(combine="labelmap")


def test_stored_frames_decoded_once_and_by_every_path(tmp_path):
    lab = two_segments()
    lab[2, 1, 1] = 3
    d = _descriptions()
    for seg_type, ts in (
        ("BINARY", ExplicitVRLittleEndian),
        ("LABELMAP", RLELossless),
        ("LABELMAP", ExplicitVRLittleEndian),
    ):
        seg = Segmentation(
            **_seg_arguments(
                pixel_array=lab, segmentation_type=seg_type, segment_descriptions=d, transfer_syntax_uid=ts
            )
        )
        path = _write(seg, tmp_path, f"{seg_type}{ts}.dcm")
        back = segread(path)
        stored = back._stored_frames()
        np.testing.assert_array_equal(stored.astype(np.uint16), pydicom.dcmread(path).pixel_array)
        assert back._stored_frames() is stored  # decoded once
        # implicit VR: Pixel Data's VR is read as OB or OW, or left to pydicom
        if ts == ExplicitVRLittleEndian:
            ds = pydicom.dcmread(path)
            ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
            implicit = tmp_path / "implicit.dcm"
            ds.save_as(implicit, implicit_vr=True, little_endian=True)
            np.testing.assert_array_equal(segread(implicit).get_pixels(), back.get_pixels())
    # 16-bit native
    lab16 = lab.astype(np.uint16) * 200
    d16 = [_segment(segment_number=n, segment_label=str(n)) for n in (200, 400, 600)]
    path = _write(
        Segmentation(**_seg_arguments(pixel_array=lab16, segmentation_type="LABELMAP", segment_descriptions=d16)),
        tmp_path,
        "16.dcm",
    )
    stored = segread(path)._stored_frames()
    assert stored.dtype == np.uint16
    np.testing.assert_array_equal(stored, lab16)
    # a built object without file meta reads its own Pixel Data
    built = Segmentation(**_seg_arguments(pixel_array=lab, segment_descriptions=d))
    del built.file_meta
    np.testing.assert_array_equal(built.get_pixels(), np.stack([lab == 1, lab == 2, lab == 3], axis=-1))


def test_stored_frames_refusals(tmp_path):
    path = _write(Segmentation(**_seg_arguments()), tmp_path)
    ds = pydicom.dcmread(path)
    ds.BitsAllocated = 4
    with pytest.raises(
        DicomConformanceError, match=r"^cannot decode the Pixel Data: Bits Allocated 4 is not valid for a Segmentation$"
    ):
        Segmentation.from_dataset(ds).get_pixels()
    ds = pydicom.dcmread(path)
    ds.PixelData = ds.PixelData[:4]
    ds.BitsAllocated = 8
    with pytest.raises(DicomConformanceError, match=r"^cannot decode the Pixel Data: "):
        Segmentation.from_dataset(ds).get_pixels()


def test_get_volume_against_highdicom_and_by_hand(tmp_path):
    hd = pytest.importorskip("highdicom")
    lab = np.zeros((4, 8, 16), np.uint8)
    lab[0, 1, 2] = 1
    lab[3, 4, 5] = 2
    lab[3, 5, 5] = 1
    lab[1, 6, 7] = 2
    path = _write(Segmentation(**_seg_arguments(pixel_array=lab)), tmp_path)
    back = segread(path)
    vol = back.get_volume()
    # planes 0..3 along +z from the first stored plane (z = 0), 2 mm apart; slice 2 omitted: zeros
    assert vol.array.shape == (4, 8, 16, 2) and vol.array.dtype == bool
    np.testing.assert_array_equal(vol.array, np.stack([lab == 1, lab == 2], axis=-1))
    affine = np.array([[0, 0, 0.5, -10], [0, 0.5, 0, -20], [2, 0, 0, 0], [0, 0, 0, 1]], float)
    np.testing.assert_allclose(vol.affine, affine)
    assert vol.frame_of_reference_uid == "1.2.826.0.1.3680043.10.9.4"
    h = hd.seg.Segmentation.from_dataset(pydicom.dcmread(path)).get_volume(combine_segments=True)
    # highdicom runs its slices the other way (from z = 6 down): the same voxels, the first axis reversed
    flipped = np.asarray(h.affine).copy()
    flipped[:3, 3] += 3 * flipped[:3, 0]
    flipped[:3, 0] *= -1
    np.testing.assert_allclose(flipped, affine)
    np.testing.assert_array_equal(np.asarray(h.array)[::-1], lab)
    labels = back.get_volume([2], combine="labelmap")
    np.testing.assert_array_equal(labels.array, (lab == 2) * 2)
    # frames on slices 1 and 3 only: two planes 4 mm apart (the smallest step between stored planes), from z = 2
    lab2 = np.zeros((4, 8, 16), np.uint8)
    lab2[1, 0, 0] = 1
    lab2[3, 2, 2] = 1
    vol = segread(
        _write(Segmentation(**_seg_arguments(pixel_array=lab2, segment_descriptions=[_segment()])), tmp_path, "b.dcm")
    ).get_volume()
    assert vol.array.shape == (2, 8, 16, 1)
    np.testing.assert_allclose(vol.affine[:3, 3], [-10, -20, 2])
    np.testing.assert_allclose(vol.affine[:3, 0], [0, 0, 4])
    np.testing.assert_array_equal(vol.array[..., 0], lab2[[1, 3]] == 1)


def test_get_volume_refusals_name_the_way_out(tmp_path):
    sources = tiny_ct_series(1, 8, 16)
    for ds in sources:
        ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.1"
        for kw in ("ImagePositionPatient", "ImageOrientationPatient", "FrameOfReferenceUID", "SliceThickness"):
            del ds[kw]
    seg = Segmentation(**_seg_arguments(source_images=sources, pixel_array=two_segments()[3:4]))
    with pytest.raises(DicomConformanceError, match=r"no geometry to build a volume from; use get_pixels$"):
        seg.get_volume()
    path = _write(Segmentation(**_seg_arguments()), tmp_path)
    ds = pydicom.dcmread(path)
    ds.PerFrameFunctionalGroupsSequence[1].PlanePositionSequence[0].ImagePositionPatient = [-10, -19, 2]
    with pytest.raises(
        DicomConformanceError,
        match=r"^frame 2 lies 1 mm off the stack of the other frames: the Segmentation does not form one volume;"
        r" use get_pixels_by_source_instance$",
    ):
        Segmentation.from_dataset(ds).get_volume()
    # a looser tolerance is passed on
    ds.PerFrameFunctionalGroupsSequence[1].PlanePositionSequence[0].ImagePositionPatient = [-10, -20, 2.004]
    with pytest.raises(DicomConformanceError, match="off the stack"):
        Segmentation.from_dataset(ds).get_volume()
    assert Segmentation.from_dataset(ds).get_volume(tolerance_mm=0.01).array.shape == (4, 8, 16, 2)


def test_pixels_by_source_instance_of_a_source_referenced_by_frame_number(tmp_path):
    """A source referenced with Referenced Frame Number 1 only is found without a frame number too."""
    lab = two_segments()
    ds = pydicom.dcmread(_write(Segmentation(**_seg_arguments(pixel_array=lab)), tmp_path))
    for item in ds.PerFrameFunctionalGroupsSequence:
        src = item.DerivationImageSequence[0].SourceImageSequence[0]
        if src.ReferencedSOPInstanceUID == UIDS[2]:
            src.ReferencedFrameNumber = 1
    seg = Segmentation.from_dataset(ds)
    assert (UIDS[2], 1) in [f.key for f in seg.source_frames]
    expected = np.stack([lab[2] == 1, lab[2] == 2], axis=-1)
    np.testing.assert_array_equal(seg.get_pixels_by_source_instance(UIDS[2]), expected)
    np.testing.assert_array_equal(seg.get_pixels_by_source_instance(UIDS[2], 1), expected)
    with pytest.raises(KeyError, match="frame 2 is not referenced"):
        seg.get_pixels_by_source_instance(UIDS[2], 2)
    # the single-frame source images given: frame 1 of a source is the image itself
    full = Segmentation.from_dataset(ds, source_images=tiny_ct_series(4, 8, 16))
    assert [f.key for f in full.source_frames] == [(u, None) for u in UIDS]
    np.testing.assert_array_equal(full.get_pixels(), np.stack([lab == 1, lab == 2], axis=-1))


@pytest.mark.parametrize("seg_type", ["BINARY", "LABELMAP"])
def test_frames_of_one_segment_on_one_source_are_joined(tmp_path, seg_type):
    """Two frames of segment 1 on the same source (another writer's file): get_pixels shows both (OR)."""
    lab = two_segments()
    ds = pydicom.dcmread(_write(Segmentation(**_seg_arguments(pixel_array=lab, segmentation_type=seg_type)), tmp_path))
    # BINARY stored 1/0, 1/1, 1/3, 2/2, 2/3; LABELMAP slices 0..3: the second frame (slice 1) now says slice 0
    src = ds.PerFrameFunctionalGroupsSequence[1].DerivationImageSequence[0].SourceImageSequence[0]
    src.ReferencedSOPInstanceUID = UIDS[0]
    got = Segmentation.from_dataset(ds).get_pixels()
    np.testing.assert_array_equal(got[0, ..., 0], (lab[0] == 1) | (lab[1] == 1))
    assert not got[1].any()


def test_pixels_by_source_instance_of_a_source_the_given_images_lack(tmp_path):
    """A source referenced by the frames but missing from the given source images is still found."""
    lab = two_segments()
    path = _write(Segmentation(**_seg_arguments(pixel_array=lab)), tmp_path)
    seg = segread(path, source_images=tiny_ct_series(4, 8, 16)[:2])
    assert seg.source_instance_uids() == UIDS[:2]
    np.testing.assert_array_equal(seg.get_pixels_by_source_instance(UIDS[3]), np.stack([lab[3] == 1, lab[3] == 2], -1))


@pytest.mark.parametrize("top", [255, 256])
def test_label_map_of_segment_255_is_eight_bit(tmp_path, top):
    lab = two_segments().astype(np.uint16)
    lab[lab == 2] = top
    descriptions = [_segment(), _segment(segment_number=top, segment_label="x")]
    seg = Segmentation(
        **_seg_arguments(pixel_array=lab, segmentation_type="LABELMAP", segment_descriptions=descriptions)
    )
    assert seg.BitsAllocated == (8 if top == 255 else 16)
    labels = segread(_write(seg, tmp_path)).get_pixels(combine="labelmap")
    assert labels.dtype == (np.uint8 if top == 255 else np.uint16)
    np.testing.assert_array_equal(labels, lab)


def test_missing_or_empty_frame_count_and_maximum_are_read_as_one(tmp_path):
    """Number of Frames absent or empty: one frame; Maximum Fractional Value absent: 1 (stored values as they are)."""
    lab = np.zeros((4, 8, 16), np.uint8)
    lab[2, 3, 4] = 1
    ds = pydicom.dcmread(
        _write(Segmentation(**_seg_arguments(pixel_array=lab, segment_descriptions=[_segment()])), tmp_path)
    )
    assert ds.NumberOfFrames == 1
    for value in (None, "absent"):
        if value is None:
            ds.NumberOfFrames = None
        else:
            del ds.NumberOfFrames
        got = Segmentation.from_dataset(ds).get_pixels_by_source_instance(UIDS[2])
        np.testing.assert_array_equal(got[..., 0], lab[2] == 1)
    values = np.zeros((4, 8, 16, 1), np.float32)
    values[1, 2, 2, 0] = 1.0
    values[1, 2, 3, 0] = 0.5
    seg = Segmentation(
        **_seg_arguments(
            pixel_array=values,
            segmentation_type="FRACTIONAL",
            fractional_type="PROBABILITY",
            segment_descriptions=[_segment()],
            max_fractional_value=4,
        )
    )
    ds = pydicom.dcmread(_write(seg, tmp_path, "f.dcm"))
    for empty in (True, False):
        if empty:
            ds.MaximumFractionalValue = None
        else:
            del ds.MaximumFractionalValue
        got = Segmentation.from_dataset(ds).get_pixels()
        assert got[1, 2, 2, 0] == 4 and got[1, 2, 3, 0] == 2 and got.sum() == 6
