"""The shared modules (``iods/common/modules.py``) and the frame stack of a multi-frame derived image
(``iods/common/stack.py``), on tiny synthetic datasets.

Oracles: values worked out by hand from PS3.3 (C.7.3.1 General Series, C.7.4.1 Frame of Reference,
C.7.5.1/C.7.5.2 General and Enhanced General Equipment, Table 10-12 Content Identification, C.7.6.1.1.5
Lossy Image Compression, C.12.1 SOP Common, C.12.2 Common Instance Reference, Table 10-11 SOP Instance
Reference), PS3.10 7.1 (File Meta Information), PS3.5 6.2 (CS), and pydicom's reading of the file written
with pydicom's writer.
"""

from __future__ import annotations

import datetime as dt
from io import BytesIO

import numpy as np
import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, ExplicitVRLittleEndian

from dcmspec_compiler.errors import DicomConformanceError
from dcmspec_compiler.iods.common.modules import (
    ContentIdentification,
    Equipment,
    InstanceReference,
    dicom_date_time,
    referenced_instance_item,
    set_common_instance_reference,
    set_content_date_time,
    set_frame_of_reference,
    set_general_series,
    set_lossy_image_compression,
    set_sop_common,
)
from dcmspec_compiler.iods.common.stack import frame_geometry, frame_stack

SEG = "1.2.840.10008.5.1.4.1.1.66.4"


def written(ds: Dataset) -> Dataset:
    """``ds`` written by pydicom (as a file when it has file meta) and read back."""
    buf = BytesIO()
    if hasattr(ds, "file_meta"):
        ds.save_as(buf, enforce_file_format=True)
    else:
        ds.save_as(buf, implicit_vr=False, little_endian=True)
    buf.seek(0)
    return dcmread(buf, force=True)


def test_equipment_enhanced_and_plain():
    eq = Equipment("ACME", "Model 1", ["1.0", "2.0"], "SN1", "Hospital", "Radiology", "ST1")
    ds = Dataset()
    eq.apply(ds)
    back = written(ds)
    assert back.Manufacturer == "ACME" and back.ManufacturerModelName == "Model 1"
    assert back.DeviceSerialNumber == "SN1"
    assert list(back.SoftwareVersions) == ["1.0", "2.0"]
    assert back.InstitutionName == "Hospital" and back.InstitutionalDepartmentName == "Radiology"
    assert back.StationName == "ST1"
    ds = Dataset()
    Equipment("ACME", "M", "3.1", "SN").apply(ds)
    assert ds.SoftwareVersions == "3.1"
    assert "InstitutionName" not in ds and "InstitutionalDepartmentName" not in ds and "StationName" not in ds
    # C.7.5.2: Manufacturer, Model Name, Device Serial Number, Software Versions are Type 1
    for i, keyword in enumerate(("Manufacturer", "ManufacturerModelName", "DeviceSerialNumber", "SoftwareVersions")):
        args = ["ACME", "M", "SN", "1.0"]
        args[i] = ""
        eq = Equipment(args[0], args[1], args[3], args[2])
        with pytest.raises(DicomConformanceError) as info:
            eq.apply(Dataset())
        assert str(info.value) == f"Enhanced General Equipment (PS3.3 C.7.5.2) requires {keyword}"
        ds = Dataset()
        eq.apply(ds, enhanced=False)  # C.7.5.1: all Type 2 or 3
        assert ds.Manufacturer == args[0]


def test_general_series():
    ds = Dataset()
    set_general_series(ds, modality="SEG", series_instance_uid="1.2.3", series_number=2**31 - 1)
    back = written(ds)
    assert back.Modality == "SEG" and back.SeriesInstanceUID == "1.2.3" and back.SeriesNumber == 2**31 - 1
    assert "SeriesDescription" not in back and "Laterality" not in back
    ds = Dataset()
    set_general_series(
        ds, modality="SR", series_instance_uid="1.2", series_number=0, series_description="d", laterality_empty=True
    )
    assert ds.SeriesNumber == 0 and ds.SeriesDescription == "d"
    assert "Laterality" in ds and ds.Laterality in (None, "")
    for bad in (-1, 2**31):
        with pytest.raises(DicomConformanceError, match=rf"^Series Number {bad} is not a valid IS value$"):
            set_general_series(Dataset(), modality="SEG", series_instance_uid="1.2", series_number=bad)
    with pytest.raises(DicomConformanceError) as info:
        set_general_series(Dataset(), modality="SEG", series_instance_uid="1.02", series_number=1)
    assert str(info.value) == "Series Instance UID '1.02' is not a valid UID (PS3.5 9.1)"


def test_frame_of_reference():
    ds = Dataset()
    set_frame_of_reference(ds, "1.2.3", "SN")
    assert ds.FrameOfReferenceUID == "1.2.3" and ds.PositionReferenceIndicator == "SN"
    ds = Dataset()
    set_frame_of_reference(ds, "1.2.3", "")
    assert "PositionReferenceIndicator" in ds and ds.PositionReferenceIndicator in (None, "")
    set_frame_of_reference(ds, "1.2.3")
    assert written(ds).PositionReferenceIndicator == ""
    with pytest.raises(DicomConformanceError, match=r"^Frame of Reference UID 'x' is not a valid UID \(PS3.5 9.1\)$"):
        set_frame_of_reference(Dataset(), "x")


@pytest.mark.parametrize("label", ["A", "ABCDEFGHIJKLMNOP", "A_B C9", "DCMSPEC"])
def test_content_label_allowed(label):
    """PS3.5 Table 6.2-1 CS: at most 16 upper-case letters, digits, SPACE, underscore."""
    ds = Dataset()
    ContentIdentification(3, label, "desc", "Doe^J").apply(ds)
    back = written(ds)
    assert back.InstanceNumber == 3 and back.ContentLabel == label
    assert back.ContentDescription == "desc" and back.ContentCreatorName == "Doe^J"


@pytest.mark.parametrize("label", ["", "ABCDEFGHIJKLMNOPQ", "abc", "A-B", "A.B"])
def test_content_label_refused(label):
    with pytest.raises(DicomConformanceError) as info:
        ContentIdentification(1, label).apply(Dataset())
    assert str(info.value) == (
        f"Content Label {label!r} must be a CS value: at most 16 upper-case letters, digits,"
        " spaces or underscores (PS3.5 6.2)"
    )


def test_content_identification_defaults():
    """Table 10-12: Content Description and Content Creator's Name are Type 2 (present, may be empty)."""
    ds = Dataset()
    ContentIdentification().apply(ds)
    assert ds.InstanceNumber == 1 and ds.ContentLabel == "DCMSPEC"
    assert "ContentDescription" in ds and "ContentCreatorName" in ds
    assert ds.ContentDescription in (None, "") and not ds.ContentCreatorName


def test_dates_and_times():
    moment = dt.datetime(2024, 2, 29, 7, 5, 9, 123456)
    assert dicom_date_time(moment) == ("20240229", "070509")
    ds = Dataset()
    set_content_date_time(ds, moment)
    assert (ds.ContentDate, ds.ContentTime) == ("20240229", "070509")


def test_lossy_image_compression():
    """C.7.6.1.1.5: 01 when any source was lossy compressed, with ratio and method from the first source
    that has each; else 00."""
    plain = Dataset()
    ds = Dataset()
    set_lossy_image_compression(ds, [plain])
    assert ds.LossyImageCompression == "00" and "LossyImageCompressionRatio" not in ds
    old = Dataset()
    old.LossyImageCompression = "00"
    old.LossyImageCompressionRatio = [99]
    a = Dataset()
    a.LossyImageCompression = "01"
    a.LossyImageCompressionMethod = ["ISO_10918_1"]
    b = Dataset()
    b.LossyImageCompression = "01"
    b.LossyImageCompressionRatio = [8]
    b.LossyImageCompressionMethod = ["ISO_15444_1"]
    ds = Dataset()
    set_lossy_image_compression(ds, iter([plain, a, b]))
    assert ds.LossyImageCompression == "01"
    assert ds.LossyImageCompressionMethod == "ISO_10918_1"
    assert ds.LossyImageCompressionRatio == 8
    ds = Dataset()
    set_lossy_image_compression(ds, [old])
    assert ds.LossyImageCompression == "00" and "LossyImageCompressionRatio" not in ds


def test_sop_common_and_file_meta():
    """C.12.1 and PS3.10 7.1: SOP Class/Instance, character set, creation date/time; the file meta's Media
    Storage UIDs equal them, Explicit VR Little Endian, pydicom's implementation UID, our version name."""
    ds = Dataset()
    set_sop_common(ds, sop_class_uid=SEG, sop_instance_uid="1.2.3.4", created=dt.datetime(2020, 1, 2, 3, 4, 5))
    meta = ds.file_meta  # as set, before pydicom's writer fills anything in
    assert [e.keyword for e in meta] == [
        "MediaStorageSOPClassUID",
        "MediaStorageSOPInstanceUID",
        "TransferSyntaxUID",
        "ImplementationClassUID",
        "ImplementationVersionName",
    ]
    assert (meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID) == (SEG, "1.2.3.4")
    assert meta.ImplementationClassUID == PYDICOM_IMPLEMENTATION_UID
    assert meta.TransferSyntaxUID == ExplicitVRLittleEndian
    back = written(ds)
    assert back.SOPClassUID == SEG and back.SOPInstanceUID == "1.2.3.4"
    assert back.SpecificCharacterSet == "ISO_IR 192"
    assert (back.InstanceCreationDate, back.InstanceCreationTime) == ("20200102", "030405")
    meta = back.file_meta
    assert meta.MediaStorageSOPClassUID == SEG and meta.MediaStorageSOPInstanceUID == "1.2.3.4"
    assert meta.TransferSyntaxUID == ExplicitVRLittleEndian
    assert meta.ImplementationClassUID == PYDICOM_IMPLEMENTATION_UID
    assert meta.ImplementationVersionName == "DCMSPEC_010"
    ds = Dataset()
    set_sop_common(ds, sop_class_uid=SEG, sop_instance_uid="1.2", specific_character_set="ISO_IR 100")
    assert ds.SpecificCharacterSet == "ISO_IR 100" and "InstanceCreationDate" not in ds
    with pytest.raises(DicomConformanceError, match=r"^SOP Instance UID '1\.2\.' is not a valid UID"):
        set_sop_common(Dataset(), sop_class_uid=SEG, sop_instance_uid="1.2.")


def test_referenced_instance_item():
    item = referenced_instance_item(SEG, "1.2", [1, 3])
    assert [e.keyword for e in item] == ["ReferencedSOPClassUID", "ReferencedSOPInstanceUID", "ReferencedFrameNumber"]
    assert list(written(item).ReferencedFrameNumber) == [1, 3]
    assert "ReferencedFrameNumber" not in referenced_instance_item(SEG, "1.2")
    assert "ReferencedFrameNumber" not in referenced_instance_item(SEG, "1.2", [])
    assert referenced_instance_item(SEG, "1.2", (n for n in [2])).ReferencedFrameNumber == 2


def test_common_instance_reference():
    """C.12.2: instances of the object's own study under Referenced Series Sequence; other studies under
    Studies Containing Other Referenced Instances Sequence; first appearance order; duplicates once."""
    refs = [
        InstanceReference("1.1", "1.1.1", SEG, "1.1.1.1"),
        InstanceReference("2.2", "2.2.1", SEG, "2.2.1.1"),
        InstanceReference("1.1", "1.1.2", SEG, "1.1.2.1"),
        InstanceReference("1.1", "1.1.1", SEG, "1.1.1.2"),
        InstanceReference("1.1", "1.1.1", SEG, "1.1.1.1"),
        InstanceReference("3.3", "3.3.1", SEG, "3.3.1.1"),
    ]
    ds = Dataset()
    ds.StudyInstanceUID = "1.1"
    set_common_instance_reference(ds, refs)
    back = written(ds)
    own = back.ReferencedSeriesSequence
    assert [s.SeriesInstanceUID for s in own] == ["1.1.1", "1.1.2"]
    assert [[i.ReferencedSOPInstanceUID for i in s.ReferencedInstanceSequence] for s in own] == [
        ["1.1.1.1", "1.1.1.2"],
        ["1.1.2.1"],
    ]
    assert [e.keyword for e in own[0]] == ["ReferencedInstanceSequence", "SeriesInstanceUID"]
    assert own[0].ReferencedInstanceSequence[0].ReferencedSOPClassUID == SEG
    others = back.StudiesContainingOtherReferencedInstancesSequence
    assert [o.StudyInstanceUID for o in others] == ["2.2", "3.3"]
    assert [o.ReferencedSeriesSequence[0].SeriesInstanceUID for o in others] == ["2.2.1", "3.3.1"]
    ds = Dataset()
    ds.StudyInstanceUID = "1.1"
    set_common_instance_reference(ds, refs[:1])
    assert "StudiesContainingOtherReferencedInstancesSequence" not in ds
    ds = Dataset()
    ds.StudyInstanceUID = "9.9"
    set_common_instance_reference(ds, refs[1:2])
    assert "ReferencedSeriesSequence" not in ds
    assert len(ds.StudiesContainingOtherReferencedInstancesSequence) == 1
    assert InstanceReference("1", "2", "3", "4").frame_numbers == []


# -- stack.py ------------------------------------------------------------------------------------------------


def multiframe(positions, orientation=(1, 0, 0, 0, 1, 0), spacing=(0.5, 0.25), thickness=None, per_frame_orient=None):
    ds = Dataset()
    shared = Dataset()
    o = Dataset()
    o.ImageOrientationPatient = list(orientation)
    shared.PlaneOrientationSequence = [o]
    m = Dataset()
    m.PixelSpacing = list(spacing)
    if thickness is not None:
        m.SliceThickness = thickness
    shared.PixelMeasuresSequence = [m]
    ds.SharedFunctionalGroupsSequence = [shared]
    items = []
    for k, p in enumerate(positions):
        it = Dataset()
        pp = Dataset()
        pp.ImagePositionPatient = list(p)
        it.PlanePositionSequence = [pp]
        if per_frame_orient and k in per_frame_orient:
            po = Dataset()
            po.ImageOrientationPatient = list(per_frame_orient[k])
            it.PlaneOrientationSequence = [po]
        items.append(it)
    ds.PerFrameFunctionalGroupsSequence = items
    return ds


def test_frame_stack_with_a_gap_and_frames_out_of_order():
    """Planes along the normal (0,0,1) at z = 0, 2, 6 (given 6, 0, 2): step 2 (the smallest), indices 3, 0, 1,
    four planes; the affine's first column (the slice index) is the step along the normal."""
    ds = multiframe([(1, 2, 6), (1, 2, 0), (1, 2, 2)])
    st = frame_stack(ds, 3, "segmentation")
    assert st.index.tolist() == [3, 0, 1]
    assert st.n_planes == 4
    origin = st.affine @ np.array([0, 0, 0, 1.0])
    np.testing.assert_allclose(origin[:3], [1, 2, 0])
    np.testing.assert_allclose(st.affine[:3, 0], [0, 0, 2])  # the step along the normal
    np.testing.assert_allclose(st.affine[:3, 1], [0, 0.5, 0])  # rows: column direction x row spacing
    np.testing.assert_allclose(st.affine[:3, 2], [0.25, 0, 0])  # columns: row direction x column spacing


def test_frame_stack_sagittal_affine_against_the_image_plane_equation():
    """C.7.6.2.1.1: P = S + X*dx*c + Y*dy*r; with the slice step along row x column."""
    orient = (0, 1, 0, 0, 0, -1)
    normal = np.cross(orient[:3], orient[3:])  # (-1, 0, 0)
    ds = multiframe([(10, 0, 0), (10 - 1.5, 0, 0)], orientation=orient, spacing=(0.5, 0.25))
    st = frame_stack(ds, 2, "map")
    assert st.index.tolist() == [0, 1]  # along (-1, 0, 0): x = 10 comes first
    from dcmspec_compiler.spatial.volume import affine_from_geometry

    expected = affine_from_geometry(
        np.array([10.0, 0, 0]), np.array(orient, float), np.array([0.5, 0.25]), normal * 1.5
    )
    np.testing.assert_allclose(st.affine, expected)


def test_frame_stack_single_frame_takes_the_thickness_or_one():
    ds = multiframe([(0, 0, 5)], thickness=3.0)
    st = frame_stack(ds, 1, "seg")
    assert st.index.tolist() == [0] and st.n_planes == 1
    np.testing.assert_allclose(st.affine[:3, 0], [0, 0, 3])
    st = frame_stack(multiframe([(0, 0, 5)]), 1, "seg")
    np.testing.assert_allclose(st.affine[:3, 0], [0, 0, 1])
    # two frames (two segments) on one plane: still one plane, the thickness as step
    st = frame_stack(multiframe([(0, 0, 5), (0, 0, 5)], thickness=2.5), 2, "seg")
    assert st.index.tolist() == [0, 0] and st.n_planes == 1
    np.testing.assert_allclose(st.affine[:3, 0], [0, 0, 2.5])


def test_frame_stack_refusals():
    ds = multiframe([(0, 0, 0), (0, 0, 1)], per_frame_orient={1: (1, 0, 0, 0, 0.9, 0.1)})
    with pytest.raises(DicomConformanceError, match=r"^frame 2 has another orientation: not one volume$"):
        frame_stack(ds, 2, "seg")
    ok = multiframe([(0, 0, 0), (0, 0, 1)], per_frame_orient={1: (1, 0, 0, 0, 1, 0.00009)})
    assert frame_stack(ok, 2, "seg").n_planes == 2
    ds = multiframe([(0, 0, 0), (0, 0, 1), (0.5, 0, 2)])
    with pytest.raises(DicomConformanceError) as info:
        frame_stack(ds, 3, "segmentation")
    assert (
        str(info.value)
        == "frame 3 lies 0.5 mm off the stack of the other frames: the segmentation does not form one volume"
    )
    ds = multiframe([(0, 0, 0), (0, 0, 1), (0, 0, 2.4)])
    with pytest.raises(DicomConformanceError, match=r"frame 3 lies 0\.4 mm off"):
        frame_stack(ds, 3, "seg")
    # within tolerance: max(1e-3 mm, 1e-3 of the step), inclusive: 0.001 mm off a 1 mm stack is on it
    assert frame_stack(multiframe([(0, 0, 0), (0, 0, 1), (0.001, 0, 2)]), 3, "seg").n_planes == 3
    assert frame_stack(multiframe([(0, 0, 0), (0, 0, 10), (0.009, 0, 20)]), 3, "seg").n_planes == 3
    with pytest.raises(DicomConformanceError, match=r"frame 3 lies 0\.011 mm off"):
        frame_stack(multiframe([(0, 0, 0), (0, 0, 10), (0.011, 0, 20)]), 3, "seg")


def test_frame_geometry_per_frame_then_shared_and_missing():
    ds = multiframe([(0, 0, 0)], per_frame_orient={0: (0, 1, 0, 0, 0, 1)})
    value = frame_geometry(ds, "seg")
    np.testing.assert_array_equal(value(0, "PlaneOrientationSequence", "ImageOrientationPatient"), [0, 1, 0, 0, 0, 1])
    np.testing.assert_array_equal(value(0, "PixelMeasuresSequence", "PixelSpacing"), [0.5, 0.25])
    with pytest.raises(DicomConformanceError) as info:
        value(0, "PixelMeasuresSequence", "SliceThickness")
    assert str(info.value) == (
        "frame 1 has no SliceThickness (PixelMeasuresSequence): the seg has no geometry to build a volume from"
    )
    bare = Dataset()
    bare.ImagePositionPatient = [0, 0, 0]
    with pytest.raises(DicomConformanceError, match="frame 1 has no ImagePositionPatient"):
        frame_geometry(bare, "x")(0, "PlanePositionSequence", "ImagePositionPatient")
    shared_only = multiframe([(0, 0, 0)])
    del shared_only.PerFrameFunctionalGroupsSequence
    np.testing.assert_array_equal(
        frame_geometry(shared_only, "x")(0, "PixelMeasuresSequence", "PixelSpacing"), [0.5, 0.25]
    )


def test_module_values_are_frozen():
    """Equipment, ContentIdentification and FrameStack are values: they cannot be changed once made."""
    import dataclasses

    eq = Equipment("ACME", "M", "1", "SN")
    with pytest.raises(dataclasses.FrozenInstanceError):
        eq.manufacturer = "X"  # type: ignore[misc]
    ci = ContentIdentification()
    with pytest.raises(dataclasses.FrozenInstanceError):
        ci.content_label = "X"  # type: ignore[misc]
    st = frame_stack(multiframe([(0, 0, 0)]), 1, "seg")
    with pytest.raises(dataclasses.FrozenInstanceError):
        st.n_planes = 2  # type: ignore[misc]
