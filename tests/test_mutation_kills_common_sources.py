"""What a derived image knows about its sources (``iods/common/sources.py``), one source frame
(``source_frame.py``) and the computed Spacing Between Slices (``spacing.py``), on tiny synthetic headers.

Oracles: pydicom's reader (each header is written with ``dcmwrite`` and read back with ``dcmread``, so the
raw-bytes fast paths meet the values pydicom converts; the same header converted by pydicom must give the
same frames), and values worked out by hand from PS3.3 C.7.6.2 (Image Plane: position, orientation, the
normal as row x column, C.7.6.2.1.1), C.7.6.16.2.1 (Pixel Measures, Spacing Between Slices) and C.7.6.16.1
(Per-frame before Shared functional groups).
"""

from __future__ import annotations

from io import BytesIO

import numpy as np
import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

from dcmspec_compiler.errors import DicomConformanceError
from dcmspec_compiler.iods.common.modules import InstanceReference
from dcmspec_compiler.iods.common.source_frame import SourceFrame, ds_strings, slice_normal
from dcmspec_compiler.iods.common.sources import analyze_sources
from dcmspec_compiler.iods.common.spacing import TOLERANCE_MM, SliceSpacing, regular_slice_spacing

CT = "1.2.840.10008.5.1.4.1.1.2"
ENHANCED_CT = "1.2.840.10008.5.1.4.1.1.2.1"


def header(i, z="0", rows=4, columns=3, study="1.2.3.100", frame_of_reference="1.2.3.99", **extra):
    ds = Dataset()
    ds.SOPClassUID = CT
    ds.SOPInstanceUID = f"1.2.3.{i}"
    ds.StudyInstanceUID = study
    ds.SeriesInstanceUID = "1.2.3.200"
    if frame_of_reference is not None:
        ds.FrameOfReferenceUID = frame_of_reference
    ds.Rows, ds.Columns = rows, columns
    ds.ImagePositionPatient = ["-1.50", "2", z]
    ds.ImageOrientationPatient = ["1", "0", "0", "0", "1", "0"]
    ds.PixelSpacing = ["0.50", "0.5"]
    ds.SliceThickness = "2.000"
    for k, v in extra.items():
        setattr(ds, k, v)
    return ds


def reread(ds, implicit=False):
    """The header written by pydicom and read back: its elements raw until accessed."""
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    buf = BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    buf.seek(0)
    return dcmread(buf)


def converted(ds):
    out = reread(ds)
    for elem in out:
        _ = elem.value
    return out


def test_single_frame_sources_read_raw_and_converted_alike():
    """Three slices: frames in the given order, no frame numbers, DS values in their shortest form
    ("0.50" -> "0.5", "2.000" -> "2"), as pydicom reads them."""
    headers = [header(i, z) for i, z in enumerate(("0", "2.5", "5.0"))]
    for variant in (
        [reread(h) for h in headers],
        [converted(h) for h in headers],
        [reread(h, True) for h in headers],
        headers,
    ):
        s = analyze_sources(variant)
        assert s.multi_frame is False
        assert (s.rows, s.columns) == (4, 3)
        assert s.study_instance_uid == "1.2.3.100"
        assert s.frame_of_reference_uid == "1.2.3.99"
        assert s.position_reference_indicator is None
        assert s.datasets == variant
        assert s.has_geometry
        assert [f.key for f in s.frames] == [("1.2.3.0", None), ("1.2.3.1", None), ("1.2.3.2", None)]
        f = s.frames[1]
        assert (f.sop_class_uid, f.frame_number) == (CT, None)
        assert f.position == ("-1.5", "2", "2.5")
        assert s.frames[2].position == ("-1.5", "2", "5")
        assert f.orientation == ("1", "0", "0", "0", "1", "0")
        assert f.spacing == ("0.5", "0.5")
        assert f.thickness == "2"
        assert f.spacing_between_slices is None
        assert all(type(v) is str for v in (f.sop_class_uid, f.sop_instance_uid, s.study_instance_uid))
        assert s.instance_references() == [
            InstanceReference("1.2.3.100", "1.2.3.200", CT, f"1.2.3.{i}") for i in range(3)
        ]


def test_optional_values_of_single_frame_sources():
    """Spacing Between Slices and Position Reference Indicator are read when present; a source without
    geometry has none (and so the set has none)."""
    a = header(0, SpacingBetweenSlices="-2.50", PositionReferenceIndicator="")
    b = header(1, PositionReferenceIndicator="XY")
    s = analyze_sources([reread(a), reread(b)])
    assert s.frames[0].spacing_between_slices == "-2.5"
    assert s.position_reference_indicator == "XY"
    bare = header(0)
    for kw in ("ImagePositionPatient", "ImageOrientationPatient", "PixelSpacing", "SliceThickness"):
        delattr(bare, kw)
    s = analyze_sources(reread(bare))
    f = s.frames[0]
    assert (f.position, f.orientation, f.spacing, f.thickness) == (None, None, None, None)
    assert not s.has_geometry
    no_for = analyze_sources(reread(header(0, frame_of_reference=None)))
    assert no_for.frame_of_reference_uid is None and not no_for.has_geometry
    empty_for = header(0)
    empty_for.FrameOfReferenceUID = ""
    assert analyze_sources(reread(empty_for)).frame_of_reference_uid is None
    assert analyze_sources(empty_for).frame_of_reference_uid is None


def test_empty_and_padded_values():
    """An empty DS element reads as no value; values padded with spaces or NULs are stripped (PS3.5 6.2)."""
    ds = header(0)
    ds.SliceThickness = None
    ds.PixelSpacing = [" 0.5", "0.5 "]
    s = analyze_sources(reread(ds))
    assert s.frames[0].thickness is None
    assert s.frames[0].spacing == ("0.5", "0.5")
    raw = reread(header(0))
    elem = raw._dict[0x00280030]
    raw._dict[0x00280030] = elem._replace(value=b"0.5\\0.5\x00\x00", length=9)
    assert analyze_sources(raw).frames[0].spacing == ("0.5", "0.5")
    uid = raw._dict[0x00080018]
    raw._dict[0x00080018] = uid._replace(value=b"1.2.3.0 \x00\x00", length=10)
    assert analyze_sources(raw).frames[0].sop_instance_uid == "1.2.3.0"


def test_non_ascii_and_big_rows_fall_back_to_pydicom():
    """Text that is not ASCII is left to pydicom's conversion; Rows/Columns of other lengths too."""
    ds = reread(header(0))
    elem = ds._dict[0x00180050]
    ds._dict[0x00180050] = elem._replace(value=b"2\xe9", length=2)
    assert analyze_sources(ds).frames[0].thickness == str(ds.SliceThickness) == "2\u00e9"  # pydicom's reading
    big = reread(header(0, rows=60000, columns=257))
    s = analyze_sources(big)
    assert (s.rows, s.columns) == (60000, 257)


def test_multi_frame_source_per_frame_before_shared():
    """An enhanced multi-frame image: positions per frame, orientation and measures shared (C.7.6.16.1);
    a per-frame Pixel Measures item wins over the shared one; frame numbers from 1 (C.7.6.16.2.6)."""
    ds = header(0)
    ds.SOPClassUID = ENHANCED_CT
    for kw in ("ImagePositionPatient", "ImageOrientationPatient", "PixelSpacing", "SliceThickness"):
        delattr(ds, kw)
    ds.NumberOfFrames = 3
    shared = Dataset()
    o = Dataset()
    o.ImageOrientationPatient = ["0", "1", "0", "0", "0", "-1"]
    shared.PlaneOrientationSequence = [o]
    m = Dataset()
    m.PixelSpacing = ["0.70", "0.7"]
    m.SliceThickness = "1.0"
    m.SpacingBetweenSlices = "3.00"
    shared.PixelMeasuresSequence = [m]
    ds.SharedFunctionalGroupsSequence = [shared]
    items = []
    for k in range(3):
        it = Dataset()
        p = Dataset()
        p.ImagePositionPatient = [str(3 * k), "0", "0"]
        it.PlanePositionSequence = [p]
        if k == 2:
            pm = Dataset()
            pm.PixelSpacing = ["0.9", "0.9"]
            it.PixelMeasuresSequence = [pm]
        items.append(it)
    ds.PerFrameFunctionalGroupsSequence = items
    ds.PositionReferenceIndicator = "SN"
    s = analyze_sources(reread(ds))
    assert s.multi_frame is True
    assert s.position_reference_indicator == "SN"
    assert [f.key for f in s.frames] == [("1.2.3.0", 1), ("1.2.3.0", 2), ("1.2.3.0", 3)]
    assert [f.sop_class_uid for f in s.frames] == [ENHANCED_CT] * 3
    assert [f.position for f in s.frames] == [("0", "0", "0"), ("3", "0", "0"), ("6", "0", "0")]
    assert s.frames[0].orientation == ("0", "1", "0", "0", "0", "-1")
    assert s.frames[0].spacing == ("0.7", "0.7") and s.frames[0].thickness == "1"
    assert s.frames[0].spacing_between_slices == "3"
    assert s.frames[2].spacing == ("0.9", "0.9")
    assert s.frames[2].thickness == "1"  # not in the per-frame item: the frame's own module level value
    assert s.has_geometry


def test_multi_frame_without_functional_groups_and_one_frame_enhanced():
    """A multi-frame image without functional groups takes the top-level values for every frame; one
    frame with a Per-frame sequence is still a multi-frame source."""
    ds = header(0, NumberOfFrames=2)
    s = analyze_sources([reread(ds)])
    assert s.multi_frame is True
    assert [f.frame_number for f in s.frames] == [1, 2]
    assert s.frames[1].position == ("-1.5", "2", "0") and s.frames[1].thickness == "2"
    one = header(0, NumberOfFrames=1)
    one.PerFrameFunctionalGroupsSequence = [Dataset()]
    assert analyze_sources(one).multi_frame is True
    assert analyze_sources(header(0, NumberOfFrames=1)).multi_frame is False
    assert analyze_sources([header(0, NumberOfFrames=1), header(1)]).multi_frame is False


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: [], "a Segmentation needs at least one source image"),
        (lambda: [header(0), "x"], "source image 1 is not a pydicom Dataset"),
        (
            lambda: [header(0), header(1, frame_of_reference="1.2.3.98")],
            "source images have different Frame of Reference UIDs (0020,0052); a Segmentation has one"
            " frame of reference",
        ),
        (lambda: [header(0), header(0)], "source images contain the same SOP Instance UID more than once"),
        (
            lambda: [header(0), header(1, study="1.2.3.101")],
            "source images belong to different studies (Study Instance UID)",
        ),
        (
            lambda: [header(0), header(1, NumberOfFrames=2)],
            "source images must be either single-frame images or one multi-frame image",
        ),
        (
            lambda: [header(0), header(1, columns=5)],
            "source images differ in size: 4x3 and 4x5 (Rows x Columns); a Segmentation frame matches its source frame",
        ),
        (
            lambda: [header(0), header(1, rows=5)],
            "source images differ in size: 4x3 and 5x3 (Rows x Columns); a Segmentation frame matches its source frame",
        ),
    ],
)
def test_refusals(make, message):
    with pytest.raises(DicomConformanceError) as info:
        analyze_sources(make())
    assert str(info.value) == message


@pytest.mark.parametrize(
    "missing", ["SOPClassUID", "SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID", "Rows", "Columns"]
)
def test_required_attributes(missing):
    ds = header(0)
    delattr(ds, missing)
    with pytest.raises(DicomConformanceError, match=rf"^source image 1 has no {missing}$"):
        analyze_sources([header(1), ds])


def test_per_frame_count_must_match():
    ds = header(0, NumberOfFrames=3)
    ds.PerFrameFunctionalGroupsSequence = [Dataset(), Dataset()]
    with pytest.raises(
        DicomConformanceError, match=r"^source image has 2 Per-frame Functional Groups items for 3 frames$"
    ):
        analyze_sources(ds)


def test_empty_number_of_frames_is_one():
    ds = header(0)
    ds.NumberOfFrames = None
    assert len(analyze_sources(ds).frames) == 1


# -- source_frame.py -------------------------------------------------------------------------------------


def test_source_frame_properties():
    f = SourceFrame(CT, "1.2.3", 4, ("1", "2", "3"), ("0", "1", "0", "0", "0", "-1"), ("0.5", "0.25"), "1.5")
    assert f.key == ("1.2.3", 4) and f.frame_index == 3
    assert SourceFrame(CT, "1.2.3").frame_index == 0
    assert f.has_geometry
    for missing in ("position", "orientation", "spacing"):
        kw = {"position": f.position, "orientation": f.orientation, "spacing": f.spacing, missing: None}
        assert not SourceFrame(CT, "1", **kw).has_geometry
    np.testing.assert_array_equal(f.image_position, [1, 2, 3])
    np.testing.assert_array_equal(f.pixel_spacing, [0.5, 0.25])
    assert not f.image_orientation.flags.writeable
    assert f.slice_thickness == 1.5
    assert SourceFrame(CT, "1", thickness="").slice_thickness is None
    assert SourceFrame(CT, "1", thickness="abc").slice_thickness is None
    assert SourceFrame(CT, "1").slice_thickness is None and SourceFrame(CT, "1").image_position is None
    # row (0,1,0) x column (0,0,-1) = (-1, 0, 0) (C.7.6.2.1.1): a sagittal image seen from the left
    np.testing.assert_array_equal(f.normal, [-1, 0, 0])
    assert SourceFrame(CT, "1").normal is None
    assert f.path is None
    assert f.label == "1.2.3 frame 4"
    assert SourceFrame(CT, "1.2.3").label == "1.2.3"

    class Instance:
        path = "/data/a.dcm"

    g = SourceFrame(CT, "1.2.3", None, instance=Instance())
    assert str(g.path) == "/data/a.dcm" and g.label == "/data/a.dcm"
    assert SourceFrame(CT, "1.2.3", 2, instance=Instance()).label == "/data/a.dcm frame 2"


def test_slice_normal_and_ds_strings():
    np.testing.assert_allclose(slice_normal(np.array([2.0, 0, 0, 0, 2.0, 0])), [0, 0, 1])
    np.testing.assert_allclose(slice_normal(np.array([0.5, 0, 0, 0, 0.5, 0])), [0, 0, 1])  # |cross| < 1
    np.testing.assert_array_equal(slice_normal(np.array([1.0, 0, 0, 1.0, 0, 0])), [0, 0, 0])  # degenerate
    ds = dcmread(_one_ds_file())
    assert ds_strings(ds.PixelSpacing) == ("0.50", "0.5")
    assert ds_strings(ds.SliceThickness) == ("2.000",)
    assert ds_strings(None) is None
    assert ds_strings("1.5") == ("1.5",)
    assert ds_strings([1.5, 2]) == ("1.5", "2")
    assert ds_strings(x for x in ["3"]) == ("3",)


def _one_ds_file():
    ds = header(0)
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    buf = BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    buf.seek(0)
    return buf


# -- spacing.py ---------------------------------------------------------------------------------------------


def frames_at(positions, orientation=("1", "0", "0", "0", "1", "0")):
    return [
        SourceFrame(CT, f"2.25.{i}", None, tuple(str(v) for v in p), orientation, ("0.5", "0.5"))
        for i, p in enumerate(positions)
    ]


@pytest.mark.parametrize(
    "positions, value, reason",
    [
        ([(0, 0, 0)], None, "a single frame is not a stack of slices"),
        ([(0, 0, 0), (0, 0, 2)], 2.0, None),
        ([(0, 0, 4), (0, 0, 0), (0, 0, 2)], 2.0, None),
        ([(0, 0, 0), (0, 0, 0.01)], None, "several source frames share a position"),
        ([(0, 0, 0), (0, 0, 0.011)], 0.011, None),
        ([(0, 0, 0), (0, 0, 1), (0, 0, 1)], None, "several source frames share a position"),
        ([(0, 0, 0), (0, 0, 1), (0, 0, 2.03)], None, "the source slices are unevenly spaced (1 to 1.03 mm)"),
        ([(0, 0, 0), (0, 0, 1), (0, 0, 2.01)], 1.005, None),
        (
            [(0, 0, 0), (0, 0, 1), (0.011, 0, 2)],
            None,
            "the source frames are shifted in-plane, not stacked along the normal",
        ),
        ([(0, 0, 0), (0, 0, 1), (0.01, 0, 2)], 1.0, None),
        (
            [(0, 0, 0), (0, 0, 1), (0, -0.011, 2)],
            None,
            "the source frames are shifted in-plane, not stacked along the normal",
        ),
    ],
)
def test_regular_slice_spacing_at_its_tolerances(positions, value, reason):
    """C.7.6.16.2.1: the distance between adjacent slice centres along the normal; positions agreeing to
    0.01 mm are equal (DS precision)."""
    assert TOLERANCE_MM == 1e-2
    got = regular_slice_spacing(frames_at(positions))
    assert got.reason == reason
    if value is None:
        assert got.value is None and got.ds is None
    else:
        assert got.value == pytest.approx(value)


def test_regular_slice_spacing_orientation_and_geometry():
    tilted = ("1", "0", "0", "0", "1", "0.00011")
    fs = frames_at([(0, 0, 0), (0, 0, 1)])
    fs[1] = SourceFrame(CT, "x", None, ("0", "0", "1"), tilted, ("0.5", "0.5"))
    assert regular_slice_spacing(fs).reason == "the source frames differ in orientation"
    fs[1] = SourceFrame(CT, "x", None, ("0", "0", "1"), ("1", "0", "0", "0", "1", "0.0001"), ("0.5", "0.5"))
    assert regular_slice_spacing(fs).value == pytest.approx(1.0, abs=1e-6)
    fs[1] = SourceFrame(CT, "x", None, ("0", "0", "1"), None, ("0.5", "0.5"))
    assert regular_slice_spacing(fs).reason == "the source frames have no geometry"
    # an unnormalised orientation: the normal is made a unit vector first
    big = ("2", "0", "0", "0", "2", "0")
    assert regular_slice_spacing(frames_at([(0, 0, 0), (0, 0, 3)], big)).value == pytest.approx(3.0)
    # sagittal: normal (row x column) = (0,1,0) x (0,0,-1) = (-1,0,0); spacing along x
    sag = ("0", "1", "0", "0", "0", "-1")
    assert regular_slice_spacing(frames_at([(0, 5, 5), (-1.5, 5, 5), (-3, 5, 5)], sag)).value == pytest.approx(1.5)
    assert regular_slice_spacing(frames_at([(0, 5, 5), (-1.5, 5, 6)], sag)).reason == (
        "the source frames are shifted in-plane, not stacked along the normal"
    )
    assert regular_slice_spacing(frames_at([(0, 0, 0), (0, 0, 1)]), tolerance_mm=1.0).reason == (
        "several source frames share a position"
    )


def test_slice_spacing_as_ds():
    """The DS text: six significant digits, at most 16 characters (PS3.5 Table 6.2-1)."""
    assert SliceSpacing(2.5).ds == "2.5"
    assert SliceSpacing(1.0 / 3.0).ds == "0.333333"
    assert SliceSpacing(1234567.0).ds == "1.23457e+06"
    assert SliceSpacing(None, "x").ds is None
    assert SliceSpacing(2.0).reason is None


def test_raw_values_are_read_without_pydicoms_conversion():
    """The UIDs, Rows/Columns and geometry of a header read from a file are taken from the raw bytes: the
    elements stay raw (unconverted), the UIDs are plain str; a raw multi-valued UID (malformed) is left to
    pydicom's conversion."""
    from pydicom.dataelem import RawDataElement
    from pydicom.tag import Tag

    for implicit in (False, True):
        ds = reread(header(0), implicit)
        s = analyze_sources(ds)
        for kw in ("SOPInstanceUID", "SOPClassUID", "Rows", "Columns", "ImagePositionPatient", "FrameOfReferenceUID"):
            assert type(ds._dict[Tag(kw)]) is RawDataElement, (kw, implicit)
        assert type(s.frame_of_reference_uid) is str
        assert type(s.instance_references()[0].series_instance_uid) is str
    ds = reread(header(0))
    uid = ds._dict[0x00080018]
    ds._dict[0x00080018] = uid._replace(value=b"1.2.3.0\\1.2", length=12)
    assert analyze_sources(ds).frames[0].sop_instance_uid == str(ds.SOPInstanceUID) == "['1.2.3.0', '1.2']"


def test_first_position_reference_indicator_and_values_kept_as_written():
    """The first source's Position Reference Indicator is taken; values that are not numbers (malformed
    files) are kept as the file has them, stripped of padding only: DS 'X1\\1X' is ('X1', '1X'), a DS of
    'XX' is 'XX', a UID '1.2X' is '1.2X' (pydicom's reading of the same bytes)."""
    a = header(0, PositionReferenceIndicator="AA")
    b = header(1, PositionReferenceIndicator="BB")
    assert analyze_sources([reread(a), reread(b)]).position_reference_indicator == "AA"
    ds = reread(header(0))
    ds._dict[0x00280030] = ds._dict[0x00280030]._replace(value=b"X1\\1X", length=6)
    ds._dict[0x00180050] = ds._dict[0x00180050]._replace(value=b"XX", length=2)
    ds._dict[0x00080018] = ds._dict[0x00080018]._replace(value=b"1.2X", length=4)
    f = analyze_sources(ds).frames[0]
    assert f.spacing == ("X1", "1X") and f.thickness == "XX" and f.sop_instance_uid == "1.2X"


def test_source_frame_defaults_hash_and_repr():
    """A SourceFrame is a value: hashable (sets and dict keys of frames), equal by its fields, its optional
    fields None by default, the header record left out of its repr."""
    f = SourceFrame(CT, "1.2.3")
    assert (f.frame_number, f.position, f.orientation, f.spacing, f.thickness) == (None,) * 5
    assert (f.spacing_between_slices, f.rows, f.columns, f.instance_number, f.instance) == (None,) * 5
    g = SourceFrame(CT, "1.2.3")
    assert f == g and hash(f) == hash(g) and len({f, g}) == 1

    class Instance:
        path = "/x.dcm"

        def __repr__(self) -> str:
            return "INSTANCE"

    assert "INSTANCE" not in repr(SourceFrame(CT, "1.2.3", instance=Instance()))


def test_regular_slice_spacing_edges():
    """Orientations are compared with the first frame's (each of two others 0.00006 away on either side is
    within 1e-4); a step exactly the tolerance from the mean step is even (0.5 and 1.0 around 0.75, with
    0.25 as tolerance: binary-exact); SliceSpacing is a frozen value."""
    import dataclasses

    a = ("1", "0", "0", "0", "1", "0")
    b = ("1", "0", "0", "0", "1", "0.00006")
    c = ("1", "0", "0", "0", "1", "-0.00006")
    fs = [SourceFrame(CT, str(i), None, ("0", "0", str(i)), o, ("0.5", "0.5")) for i, o in enumerate((a, b, c))]
    assert regular_slice_spacing(fs).value == pytest.approx(1.0, abs=1e-6)
    # the normal is the first frame's: (0, 0, 1) exactly, so slices 2 mm apart along z are exactly 2.0 apart
    # even when the second frame's cosines lean 0.00009 towards z (within the 1e-4 orientation tolerance)
    lean = ("1", "0", "0.00009", "0", "1", "0.00009")
    fs = [SourceFrame(CT, str(i), None, ("0", "0", str(2 * i)), o, ("0.5", "0.5")) for i, o in enumerate((a, lean, a))]
    assert regular_slice_spacing(fs).value == 2.0
    got = regular_slice_spacing(frames_at([(0, 0, 0), (0, 0, 0.5), (0, 0, 1.5)]), tolerance_mm=0.25)
    assert got.value == 0.75 and got.reason is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        got.value = 1.0  # type: ignore[misc]
