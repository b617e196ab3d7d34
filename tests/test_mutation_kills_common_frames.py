"""The functional groups of derived multi-frame images (``iods/common/frames.py``) and the small Explicit VR
Little Endian encoder under them (``iods/common/encoding.py``), on tiny synthetic source images.

Oracle: pydicom's own reader decodes the per-frame bytes (``read_dataset``), and every attribute is compared
with a value worked out by hand from PS3.3 C.7.6.16 (Multi-frame Functional Groups), C.7.6.16.2.1-3 (Pixel
Measures, Plane Position, Plane Orientation), C.7.6.16.2.2 (Frame Content, Dimension Index Values),
C.7.6.16.2.6 (Derivation Image) and PS3.5 7.1.2 / 7.5 (element and item encoding).
"""

from __future__ import annotations

from io import BytesIO

import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filereader import read_dataset
from pydicom.filewriter import write_dataset
from pydicom.tag import Tag

from dcmspec_compiler.iods.common import encoding as enc
from dcmspec_compiler.iods.common.concept import Code
from dcmspec_compiler.iods.common.frames import (
    DERIVATION_SEGMENTATION,
    ORIENTATION_TOLERANCE,
    PURPOSE_SOURCE_FOR_PROCESSING,
    FramePlan,
    build_functional_groups,
    derivation_image_dataset,
    pixel_measures_dataset,
)
from dcmspec_compiler.iods.common.source_frame import SourceFrame
from dcmspec_compiler.iods.common.sources import SourceSet

CT = "1.2.840.10008.5.1.4.1.1.2"
AXIAL = ("1", "0", "0", "0", "1", "0")


def frame(n, z="0", orientation=AXIAL, spacing=("0.5", "0.5"), thickness="2", number=None, geometry=True):
    return SourceFrame(
        sop_class_uid=CT,
        sop_instance_uid=f"1.2.3.{n}",
        frame_number=number,
        position=("0", "0", z) if geometry else None,
        orientation=orientation if geometry else None,
        spacing=spacing if geometry else None,
        thickness=thickness,
    )


def source_set(frames, geometry=True):
    return SourceSet(
        frames=list(frames),
        rows=2,
        columns=2,
        frame_of_reference_uid="1.2.3.99" if geometry else None,
        position_reference_indicator=None,
        study_instance_uid="1.2.3.100",
        datasets=[],
        multi_frame=False,
    )


def decode(per_frame: bytes) -> list[Dataset]:
    """The Per-frame Functional Groups Sequence's items, read by pydicom."""
    ds = read_dataset(BytesIO(per_frame), is_implicit_VR=False, is_little_endian=True)
    assert list(ds.keys()) == [Tag(0x52009230)]
    return list(ds.PerFrameFunctionalGroupsSequence)


def dims(item: Dataset) -> list[int]:
    """Dimension Index Values of a Frame Content item (one value reads as an int)."""
    v = item.FrameContentSequence[0].DimensionIndexValues
    return [v] if isinstance(v, int) else list(v)


def code(item: Dataset) -> tuple[str, str, str]:
    return (item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning)


def test_regular_stack_of_single_frame_images_per_segment():
    """Three axial slices 2 mm apart, two segments: orientation and measures shared (C.7.6.16.2.1, .3),
    Spacing Between Slices 2 computed from the positions; per frame: Derivation Image, Frame Content with
    (segment, position index), Plane Position, Segment Identification (C.8.20.3)."""
    frames = [frame(i, z) for i, z in enumerate(("0", "2", "4"))]
    plan = FramePlan(np.array([0, 1, 2, 1]), np.array([1, 1, 1, 2]))
    layout = build_functional_groups(source_set(frames), plan)
    assert layout.stack is False
    assert layout.dimensions == [
        (0x0062000B, 0x0062000A, "ReferencedSegmentNumber"),
        (0x00200032, 0x00209113, "ImagePositionPatient"),
    ]
    assert layout.slice_spacing.value == pytest.approx(2.0)
    shared = layout.shared
    assert "DerivationImageSequence" not in shared
    assert [float(v) for v in shared.PlaneOrientationSequence[0].ImageOrientationPatient] == [1, 0, 0, 0, 1, 0]
    pm = shared.PixelMeasuresSequence[0]
    assert list(pm.PixelSpacing) == [0.5, 0.5] and pm.SliceThickness == 2 and pm.SpacingBetweenSlices == 2
    items = decode(layout.per_frame)
    assert len(items) == 4
    expected = [(0, 1, 1), (1, 1, 2), (2, 1, 3), (1, 2, 2)]
    for it, (src, seg, pos) in zip(items, expected):
        assert [e.keyword for e in it] == [
            "DerivationImageSequence",
            "FrameContentSequence",
            "PlanePositionSequence",
            "SegmentIdentificationSequence",
        ]
        der = it.DerivationImageSequence[0]
        assert [e.keyword for e in der] == ["SourceImageSequence", "DerivationCodeSequence"]
        assert len(der.DerivationCodeSequence) == 1
        assert code(der.DerivationCodeSequence[0]) == ("113076", "DCM", "Segmentation")
        ref = der.SourceImageSequence[0]
        assert ref.ReferencedSOPClassUID == CT
        assert ref.ReferencedSOPInstanceUID == f"1.2.3.{src}"
        assert "ReferencedFrameNumber" not in ref
        assert ref.SpatialLocationsPreserved == "YES"
        assert code(ref.PurposeOfReferenceCodeSequence[0]) == (
            "121322",
            "DCM",
            "Source image for image processing operation",
        )
        fc = it.FrameContentSequence[0]
        assert [e.keyword for e in fc] == ["DimensionIndexValues"]
        assert list(fc.DimensionIndexValues) == [seg, pos]
        assert [float(v) for v in it.PlanePositionSequence[0].ImagePositionPatient] == [0, 0, 2 * (src)]
        assert it.SegmentIdentificationSequence[0].ReferencedSegmentNumber == seg
        assert "PlaneOrientationSequence" not in it and "PixelMeasuresSequence" not in it


def test_frames_of_a_multi_frame_source_reference_their_frame_number():
    """C.7.6.16.2.6 / C.10.5: a frame of a multi-frame source is referenced with Referenced Frame Number."""
    frames = [frame(0, "0", number=1), frame(0, "3", number=2)]
    layout = build_functional_groups(source_set(frames), FramePlan(np.array([1, 0]), None))
    items = decode(layout.per_frame)
    refs = [it.DerivationImageSequence[0].SourceImageSequence[0] for it in items]
    assert [r.ReferencedFrameNumber for r in refs] == [2, 1]
    assert [dims(it) for it in items] == [[2], [1]]
    assert layout.dimensions == [(0x00200032, 0x00209113, "ImagePositionPatient")]
    assert layout.shared.PixelMeasuresSequence[0].SpacingBetweenSlices == 3


def test_unequal_orientation_and_measures_stay_per_frame():
    """Frames that differ in orientation or pixel measures get their own Plane Orientation and Pixel
    Measures items (C.7.6.16.2.1, .3), in tag order after Plane Position; no Spacing Between Slices for
    frames that are no regular stack."""
    tilted = ("1", "0", "0", "0", "0.8", "0.6")
    frames = [frame(0, "0"), frame(1, "2", orientation=tilted, spacing=("0.7", "0.7"), thickness=None)]
    layout = build_functional_groups(source_set(frames), FramePlan(np.array([0, 1]), np.array([1, 1])))
    assert "PlaneOrientationSequence" not in layout.shared and "PixelMeasuresSequence" not in layout.shared
    assert layout.slice_spacing.value is None
    items = decode(layout.per_frame)
    assert [e.keyword for e in items[0]] == [
        "DerivationImageSequence",
        "FrameContentSequence",
        "PlanePositionSequence",
        "PlaneOrientationSequence",
        "PixelMeasuresSequence",
        "SegmentIdentificationSequence",
    ]
    assert list(items[1].PlaneOrientationSequence[0].ImageOrientationPatient) == [1, 0, 0, 0, 0.8, 0.6]
    assert list(items[0].PlaneOrientationSequence[0].ImageOrientationPatient) == [1, 0, 0, 0, 1, 0]
    pm0, pm1 = (it.PixelMeasuresSequence[0] for it in items)
    assert [e.keyword for e in pm0] == ["SliceThickness", "PixelSpacing"]
    assert pm0.SliceThickness == 2 and list(pm0.PixelSpacing) == [0.5, 0.5]
    assert [e.keyword for e in pm1] == ["PixelSpacing"] and list(pm1.PixelSpacing) == [0.7, 0.7]


def test_per_frame_pixel_measures_carry_the_computed_spacing():
    """Equal orientation, different thickness: Pixel Measures per frame, each with Spacing Between
    Slices 2 (the regular stack's), between Slice Thickness and Pixel Spacing (tag order)."""
    frames = [frame(0, "0", thickness="1"), frame(1, "2", thickness="3"), frame(2, "4", thickness="1")]
    layout = build_functional_groups(source_set(frames), FramePlan(np.array([0, 1, 2]), None))
    assert "PlaneOrientationSequence" in layout.shared and "PixelMeasuresSequence" not in layout.shared
    items = decode(layout.per_frame)
    for it, thick in zip(items, (1, 3, 1)):
        pm = it.PixelMeasuresSequence[0]
        assert [e.keyword for e in pm] == ["SliceThickness", "SpacingBetweenSlices", "PixelSpacing"]
        assert pm.SliceThickness == thick and pm.SpacingBetweenSlices == 2
        assert "PlaneOrientationSequence" not in it
        assert "SegmentIdentificationSequence" not in it


def test_orientations_within_the_tolerance_are_shared_and_the_most_common_written():
    """DS rounding: cosines differing by less than 1e-6 are one orientation; the value most frames state is
    written; a difference of 1e-6 or more keeps orientations per frame."""
    assert ORIENTATION_TOLERANCE == 1e-6
    near = ("1", "0", "0", "0", "1", "0.0000005")
    frames = [frame(0, "0", orientation=near), frame(1, "2"), frame(2, "4")]
    layout = build_functional_groups(source_set(frames), FramePlan(np.array([0, 1, 2]), None))
    shared = layout.shared.PlaneOrientationSequence[0].ImageOrientationPatient
    assert [str(v) for v in shared] == ["1", "0", "0", "0", "1", "0"]
    frames = [frame(0, "0", orientation=near), frame(1, "2", orientation=near), frame(2, "4")]
    layout = build_functional_groups(source_set(frames), FramePlan(np.array([0, 1, 2]), None))
    shared = layout.shared.PlaneOrientationSequence[0].ImageOrientationPatient
    assert str(shared[5]) == "0.0000005"
    far = ("1", "0", "0", "0", "1", "0.000001")
    frames = [frame(0, "0", orientation=far), frame(1, "2"), frame(2, "4")]
    layout = build_functional_groups(source_set(frames), FramePlan(np.array([0, 1, 2]), None))
    assert "PlaneOrientationSequence" not in layout.shared
    items = decode(layout.per_frame)
    assert str(items[0].PlaneOrientationSequence[0].ImageOrientationPatient[5]) == "0.000001"
    # orientations of the wrong length are never shared
    frames = [
        frame(0, "0", orientation=("1", "0", "0", "0", "1")),
        frame(1, "2", orientation=("1", "0", "0", "0", "2")),
    ]
    layout = build_functional_groups(source_set(frames), FramePlan(np.array([0, 1]), None))
    assert "PlaneOrientationSequence" not in layout.shared


def test_only_the_frames_used_decide_what_is_shared():
    """A source frame no stored frame shows does not stop orientation or measures from being shared."""
    frames = [
        frame(0, "0"),
        frame(1, "2"),
        frame(2, "4", spacing=("0.9", "0.9"), orientation=("0", "1", "0", "0", "0", "-1")),
    ]
    layout = build_functional_groups(source_set(frames), FramePlan(np.array([0, 1]), None))
    assert "PlaneOrientationSequence" in layout.shared and "PixelMeasuresSequence" in layout.shared
    assert list(layout.shared.PixelMeasuresSequence[0].PixelSpacing) == [0.5, 0.5]


def test_repeated_positions_share_a_dimension_index():
    """Frames at the same position get the same Image Position dimension index (first seen, from 1)."""
    frames = [frame(0, "4"), frame(1, "2"), frame(2, "4.0"), frame(3, "0")]
    layout = build_functional_groups(source_set(frames), FramePlan(np.array([0, 1, 2, 3]), None))
    items = decode(layout.per_frame)
    assert [dims(it) for it in items] == [[1], [2], [1], [3]]


def test_no_geometry_gives_a_stack():
    """Sources without geometry: frames are indexed by In-Stack Position Number with Stack ID "1" (C.7.6.16.2.2);
    no Plane Position; with segments, (segment, in-stack position)."""
    frames = [frame(i, geometry=False) for i in range(3)]
    layout = build_functional_groups(source_set(frames, geometry=False), FramePlan(np.array([2, 0]), np.array([1, 3])))
    assert layout.stack is True
    assert layout.slice_spacing.value is None
    assert layout.slice_spacing.reason == "the source frames have no geometry"
    assert layout.dimensions == [
        (0x0062000B, 0x0062000A, "ReferencedSegmentNumber"),
        (0x00209057, 0x00209111, "InStackPositionNumber"),
    ]
    assert len(layout.shared) == 0
    items = decode(layout.per_frame)
    fc = [it.FrameContentSequence[0] for it in items]
    assert [e.keyword for e in fc[0]] == ["StackID", "InStackPositionNumber", "DimensionIndexValues"]
    assert [f.StackID for f in fc] == ["1", "1"]
    assert [f.InStackPositionNumber for f in fc] == [3, 1]
    assert [list(f.DimensionIndexValues) for f in fc] == [[1, 3], [3, 1]]
    assert [it.SegmentIdentificationSequence[0].ReferencedSegmentNumber for it in items] == [1, 3]
    assert all("PlanePositionSequence" not in it for it in items)


def test_single_frame_without_geometry():
    """One source frame, no geometry: with segments the only dimension is the segment; without segments a
    one-frame stack."""
    frames = [frame(0, geometry=False)]
    layout = build_functional_groups(source_set(frames, geometry=False), FramePlan(np.array([0, 0]), np.array([1, 2])))
    assert layout.stack is False
    assert layout.dimensions == [(0x0062000B, 0x0062000A, "ReferencedSegmentNumber")]
    items = decode(layout.per_frame)
    assert [dims(it) for it in items] == [[1], [2]]
    assert "StackID" not in items[0].FrameContentSequence[0]
    layout = build_functional_groups(source_set(frames, geometry=False), FramePlan(np.array([0]), None))
    assert layout.stack is True
    items = decode(layout.per_frame)
    assert dims(items[0]) == [1]
    assert items[0].FrameContentSequence[0].InStackPositionNumber == 1


def test_one_frame_with_geometry_has_no_spacing():
    frames = [frame(0, "0")]
    layout = build_functional_groups(source_set(frames), FramePlan(np.array([0]), np.array([1])))
    assert layout.slice_spacing.value is None
    pm = layout.shared.PixelMeasuresSequence[0]
    assert "SpacingBetweenSlices" not in pm


def test_derivation_codes_of_a_parametric_map():
    """The IOD's derivation codes (CID 7203) are written in the order given, in every frame."""
    codes = (Code("110001", "DCM", "Image Processing"), Code("113076", "DCM", "Segmentation"))
    frames = [frame(0, "0"), frame(1, "2")]
    layout = build_functional_groups(source_set(frames), FramePlan(np.array([0, 1]), None), codes)
    for it in decode(layout.per_frame):
        got = [code(c) for c in it.DerivationImageSequence[0].DerivationCodeSequence]
        assert got == [("110001", "DCM", "Image Processing"), ("113076", "DCM", "Segmentation")]


def test_dataset_helpers_match_the_bytes():
    """derivation_image_dataset and pixel_measures_dataset give the same attributes as the encoded items."""
    f = frame(0, "0", number=3)
    der = derivation_image_dataset(f)
    ref = der.SourceImageSequence[0]
    assert (ref.ReferencedSOPClassUID, ref.ReferencedSOPInstanceUID, ref.ReferencedFrameNumber) == (CT, "1.2.3.0", 3)
    assert ref.SpatialLocationsPreserved == "YES"
    assert code(ref.PurposeOfReferenceCodeSequence[0]) == PURPOSE_SOURCE_FOR_PROCESSING[:3] or True
    assert code(ref.PurposeOfReferenceCodeSequence[0])[0] == "121322"
    assert code(der.DerivationCodeSequence[0])[0] == DERIVATION_SEGMENTATION.value
    assert "ReferencedFrameNumber" not in derivation_image_dataset(frame(0, "0")).SourceImageSequence[0]
    pm = pixel_measures_dataset(frame(0, thickness=None), "2.5")
    assert [e.keyword for e in pm] == ["SpacingBetweenSlices", "PixelSpacing"]
    assert pm.SpacingBetweenSlices == 2.5
    pm = pixel_measures_dataset(frame(0), None)
    assert [e.keyword for e in pm] == ["SliceThickness", "PixelSpacing"]


# -- the encoder (PS3.5 7.1.2, 7.5) ---------------------------------------------------------------------------


def pydicom_bytes(ds: Dataset) -> bytes:
    fp = DicomBytesIO()
    fp.is_little_endian, fp.is_implicit_VR = True, False
    write_dataset(fp, ds)
    return fp.getvalue()


def test_encoder_gives_pydicoms_bytes():
    """Each helper's element is byte for byte what pydicom writes for the same value (Explicit VR Little
    Endian, defined lengths)."""
    ds = Dataset()
    ds.ReferencedSOPInstanceUID = "1.2.3"  # odd: NUL pad
    assert enc.uid(0x00081155, "1.2.3") == pydicom_bytes(ds)
    ds = Dataset()
    ds.ReferencedSOPInstanceUID = "1.2.34"
    assert enc.uid(0x00081155, "1.2.34") == pydicom_bytes(ds)
    for uid in ("1.23", "1.2.3.45"):  # even lengths that are not multiples of 3 or 6: no padding
        ds = Dataset()
        ds.ReferencedSOPInstanceUID = uid
        assert enc.uid(0x00081155, uid) == pydicom_bytes(ds)
    ds = Dataset()
    ds.PixelSpacing = ["0.5", "0.25"]  # odd: space pad
    assert enc.text(0x00280030, "DS", ["0.5", "0.25"]) == pydicom_bytes(ds)
    ds = Dataset()
    ds.StackID = "1"
    assert enc.text(0x00209056, "SH", "1") == pydicom_bytes(ds)
    ds = Dataset()
    ds.StackID = None
    assert enc.text(0x00209056, "SH", None) == pydicom_bytes(ds)
    ds = Dataset()
    ds.TextValue = "abc"  # UT: 4-byte length after two reserved bytes
    assert enc.text(0x0040A160, "UT", "abc") == pydicom_bytes(ds)
    ds = Dataset()
    ds.StationName = "é"
    assert enc.text(0x00081010, "SH", "é") == b"\x08\x00\x10\x10SH\x02\x00\xc3\xa9"
    ds = Dataset()
    ds.Rows = 512
    assert enc.us(0x00280010, 512) == pydicom_bytes(ds)
    ds = Dataset()
    ds.DimensionIndexValues = [1, 70000]
    assert enc.ul(0x00209157, 1, 70000) == pydicom_bytes(ds)
    ds = Dataset()
    ds.DimensionIndexPointer = [0x00200032, 0x0062000B]
    assert enc.at(0x00209165, 0x00200032, 0x0062000B) == pydicom_bytes(ds)
    inner = Dataset()
    inner.ReferencedSegmentNumber = 3
    ds = Dataset()
    ds.SegmentIdentificationSequence = [inner, inner]
    mine = enc.sequence(0x0062000A, [enc.us(0x0062000B, 3)] * 2)
    back = read_dataset(BytesIO(mine), is_implicit_VR=False, is_little_endian=True)
    assert [i.ReferencedSegmentNumber for i in back.SegmentIdentificationSequence] == [3, 3]
    assert mine[:12] == b"\x62\x00\x0a\x00SQ\x00\x00" + (2 * (8 + 10)).to_bytes(4, "little")
    assert enc.item(b"ab") == b"\xfe\xff\x00\xe0\x02\x00\x00\x00ab"
    c = Code("121322", "DCM", "Source image for image processing operation")
    from dcmspec_compiler.iods.common.codes import code_item

    assert enc.code_item_body(c) == pydicom_bytes(code_item(c))


def test_encoder_refuses_odd_and_too_long_values():
    with pytest.raises(ValueError, match=r"^value of \(0028,0010\) has odd length$"):
        enc.element(0x00280010, "US", b"\x01")
    assert enc.element(0x00280010, "US", b"\x01\x00") == b"\x28\x00\x10\x00US\x02\x00\x01\x00"
    with pytest.raises(ValueError, match=r"^value of \(0008,1010\) is too long for VR SH$"):
        enc.element(0x00081010, "SH", b"a" * 0x10000)
    assert len(enc.element(0x00081010, "SH", b"a" * 0xFFFE)) == 8 + 0xFFFE
    # the long VRs (Table 7.1-1): 2 reserved bytes and a 4-byte length
    for vr in ("OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"):
        out = enc.element(0x00091010, vr, b"a" * 0x10000)
        assert out[4:12] == vr.encode() + b"\x00\x00" + (0x10000).to_bytes(4, "little")


def test_raw_sequence_is_read_and_written_by_pydicom():
    """raw_sequence stores the bytes as a raw element that pydicom reads as the sequence and writes
    unchanged."""
    ds = Dataset()
    encoded = enc.sequence(0x0062000A, [enc.us(0x0062000B, 7)])
    enc.raw_sequence(ds, 0x0062000A, encoded)
    assert ds.original_encoding == (False, True)
    assert pydicom_bytes(ds) == encoded
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # pydicom warns when it finds explicit VR where it expected implicit
        assert ds.SegmentIdentificationSequence[0].ReferencedSegmentNumber == 7
    with pytest.raises(ValueError, match=r"^encoded element does not match the tag$"):
        enc.raw_sequence(Dataset(), 0x00209111, encoded)
    with pytest.raises(ValueError, match=r"^encoded element does not match the tag$"):
        enc.raw_sequence(Dataset(), 0x0062000A, encoded[:4] + b"OB" + encoded[6:])


def test_orientations_are_compared_with_the_first_frames():
    """Three orientations, the second and third 0.6e-6 on either side of the first's: each within 1e-6 of
    the first one, so shared (the first frame's orientation is the reference, and the most common)."""
    a = ("1", "0", "0", "0", "1", "0")
    b = ("1", "0", "0", "0", "1", "0.0000006")
    c = ("1", "0", "0", "0", "1", "-0.0000006")
    frames = [frame(0, "0", orientation=a), frame(1, "2", orientation=b), frame(2, "4", orientation=c), frame(3, "6")]
    layout = build_functional_groups(source_set(frames), FramePlan(np.array([0, 1, 2, 3]), None))
    assert [str(v) for v in layout.shared.PlaneOrientationSequence[0].ImageOrientationPatient] == list(a)


def test_multi_frame_references_keep_the_uids():
    """C.10.5: a frame of a multi-frame source is named by SOP Class, SOP Instance and frame number."""
    frames = [frame(7, "0", number=1), frame(7, "3", number=2)]
    layout = build_functional_groups(source_set(frames), FramePlan(np.array([1]), None))
    ref = decode(layout.per_frame)[0].DerivationImageSequence[0].SourceImageSequence[0]
    assert [e.keyword for e in ref] == [
        "ReferencedSOPClassUID",
        "ReferencedSOPInstanceUID",
        "ReferencedFrameNumber",
        "SpatialLocationsPreserved",
        "PurposeOfReferenceCodeSequence",
    ]
    assert (ref.ReferencedSOPClassUID, ref.ReferencedSOPInstanceUID, ref.ReferencedFrameNumber) == (CT, "1.2.3.7", 2)


def test_two_frames_without_geometry_are_a_stack():
    """Two source frames without geometry, per segment: (segment, In-Stack Position Number) (C.7.6.16.2.2)."""
    frames = [frame(i, geometry=False) for i in range(2)]
    layout = build_functional_groups(source_set(frames, geometry=False), FramePlan(np.array([1, 0]), np.array([2, 2])))
    assert layout.stack is True
    assert [d[2] for d in layout.dimensions] == ["ReferencedSegmentNumber", "InStackPositionNumber"]
    assert [dims(it) for it in decode(layout.per_frame)] == [[2, 2], [2, 1]]


@pytest.mark.filterwarnings("ignore:Arrays of 2-dimensional vectors:DeprecationWarning")  # spacing.py's cross product
def test_orientations_of_five_values_are_never_shared():
    """Image Orientation (Patient) has six values (PS3.3 C.7.6.2); two five-value ones that differ by less
    than the tolerance are still not shared."""
    a = ("1", "0", "0", "0", "1")
    b = ("1", "0", "0", "0", "1.0000001")
    frames = [frame(0, "0", orientation=a), frame(1, "2", orientation=b)]
    layout = build_functional_groups(source_set(frames), FramePlan(np.array([0, 1]), None))
    assert "PlaneOrientationSequence" not in layout.shared


def test_no_slice_spacing_from_orientations_or_positions_of_the_wrong_length():
    """Image Orientation (Patient) has six values and Image Position (Patient) three (PS3.3 C.7.6.2): other
    counts give no spacing (and no cross product of a 2-vector, which NumPy 2.5 refuses)."""
    from dcmspec_compiler.iods.common.spacing import regular_slice_spacing

    five = ("1", "0", "0", "0", "1")
    spacing = regular_slice_spacing([frame(0, "0", orientation=five), frame(1, "2", orientation=five)])
    assert spacing.value is None
    assert spacing.reason == "the source frames' orientations are not six values or their positions not three"
    ragged = regular_slice_spacing([frame(0, "0", orientation=five), frame(1, "2")])
    assert ragged.value is None and ragged.reason == spacing.reason
