"""The Segmentation builder layer (iods/seg: frame_index, segment, segmentation, prepare, read) against
independent oracles (tests/MUTATION.md, fourth pass): pydicom's reader (every attribute and per-frame item),
highdicom as a reader, and values worked out by hand from PS3.3 C.8.20 (Segmentation Image module), C.8.20.4
(Segment Description macro), C.7.6.16 (functional groups) and C.7.6.17 (Multi-frame Dimension module).

Small synthetic sources (headers of a few 8 x 16 CT slices, ``tiny_ct_series``) keep each test fast: these
are the focused tests of the mutation runs, fastest first.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np
import pydicom
import pytest
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.sr.coding import Code
from pydicom.tag import Tag
from pydicom.uid import UID, ExplicitVRLittleEndian, ImplicitVRLittleEndian
from test_seg_builder import build, tiny_ct_series

from dcmspec_compiler.errors import DicomConformanceError
from dcmspec_compiler.iods.seg import AlgorithmIdentification, SegmentDescription
from dcmspec_compiler.iods.seg import frame_index as fi

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
