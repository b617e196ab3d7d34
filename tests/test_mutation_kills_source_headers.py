"""Mutation kills for compiler/resolve/source_headers.py (tests/MUTATION.md, fourth pass).

Oracles: pydicom's decoded values of the same files (``dcmread``), read both with the fast header path and
with pydicom only (``FAST_HEADERS = False``); the Image Plane Module (PS3.3 C.7.6.2) and the Plane Position,
Plane Orientation and Pixel Measures functional groups (PS3.3 C.7.6.16.2.1-3) by hand for multi-frame
images; every message and hint word for word.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence

from dcmspec_compiler.errors import InputError
from dcmspec_compiler.resolve import source_headers
from dcmspec_compiler.resolve.source_headers import (
    _float,
    _int,
    _number,
    _text,
    geometry_defect,
    read_source_header,
    read_source_headers,
)

CT = "1.2.840.10008.5.1.4.1.1.2"
ENHANCED_CT = "1.2.840.10008.5.1.4.1.1.2.1"
HINT_READ = "source images must be DICOM Part 10 files"
HINT_GEOMETRY = "fix or leave out that image; dcmspec does not copy invalid geometry"


def ct(**changes) -> Dataset:
    """A 3x2 single-frame CT header (no Pixel Data needed: headers only are read)."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = CT
    ds.file_meta.MediaStorageSOPInstanceUID = "1.2.3.4.5.1"
    ds.SOPClassUID = CT
    ds.SOPInstanceUID = "1.2.3.4.5.1"
    ds.StudyInstanceUID = "1.2.3.4.6"
    ds.SeriesInstanceUID = "1.2.3.4.7"
    ds.FrameOfReferenceUID = "1.2.3.4.8"
    ds.Modality = "CT"
    ds.SeriesDescription = "Chest 1"
    ds.InstanceNumber = "7"
    ds.Rows, ds.Columns = 3, 2
    ds.ImagePositionPatient = ["-12.5", "3.25", "100"]
    ds.ImageOrientationPatient = ["1", "0", "0", "0", "0.8", "-0.6"]
    ds.PixelSpacing = ["0.5", "0.75"]
    ds.SliceThickness = "1.25"
    for k, v in changes.items():
        if v is None:
            delattr(ds, k)
        else:
            setattr(ds, k, v)
    return ds


def enhanced(n: int = 3, *, shared_orientation: bool = True, **changes) -> Dataset:
    """An Enhanced CT header with ``n`` frames: Pixel Measures and (optionally) Plane Orientation shared,
    Plane Position per frame (PS3.3 C.7.6.16)."""
    ds = ct(SOPClassUID=ENHANCED_CT, SOPInstanceUID="1.2.3.4.9", NumberOfFrames=str(n))
    for k in ("ImagePositionPatient", "ImageOrientationPatient", "PixelSpacing", "SliceThickness"):
        delattr(ds, k)
    shared = Dataset()
    measures = Dataset()
    measures.PixelSpacing = ["0.6", "0.7"]
    measures.SliceThickness = "2.5"
    shared.PixelMeasuresSequence = Sequence([measures])
    if shared_orientation:
        orientation = Dataset()
        orientation.ImageOrientationPatient = ["0", "1", "0", "0", "0", "-1"]
        shared.PlaneOrientationSequence = Sequence([orientation])
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    frames = []
    for i in range(n):
        item = Dataset()
        position = Dataset()
        position.ImagePositionPatient = [str(10 * i), "-4", "2.5"]
        item.PlanePositionSequence = Sequence([position])
        frames.append(item)
    ds.PerFrameFunctionalGroupsSequence = Sequence(frames)
    for k, v in changes.items():
        if v is None:
            delattr(ds, k)
        else:
            setattr(ds, k, v)
    return ds


def save(ds: Dataset, path: Path, *, implicit: bool = False) -> Path:
    if implicit:
        ds.file_meta.TransferSyntaxUID = pydicom.uid.ImplicitVRLittleEndian
    ds.save_as(path, implicit_vr=implicit, little_endian=True, enforce_file_format=True)
    return path


def both(paths: list[Path], monkeypatch) -> tuple[list, list]:
    """Read with the module's own setting (the fast path), then with pydicom only."""
    fast = read_source_headers(paths)
    monkeypatch.setattr(source_headers, "FAST_HEADERS", False)
    slow = read_source_headers(paths)
    monkeypatch.undo()
    return fast, slow


def floats(value) -> list[float] | None:
    return None if value is None else [float(v) for v in value]


def check_single_frame(inst, path: Path) -> None:
    """Every field of a single-frame instance equals pydicom's decoded value."""
    ds = pydicom.dcmread(path)
    assert inst.path == path
    assert inst.header.SOPInstanceUID == ds.SOPInstanceUID
    for name, keyword in (
        ("sop_class_uid", "SOPClassUID"),
        ("sop_instance_uid", "SOPInstanceUID"),
        ("series_instance_uid", "SeriesInstanceUID"),
        ("study_instance_uid", "StudyInstanceUID"),
    ):
        assert getattr(inst, name) == str(ds[keyword].value) and type(getattr(inst, name)) is str
    assert inst.frame_of_reference_uid == (str(ds.FrameOfReferenceUID) if ds.get("FrameOfReferenceUID") else None)
    assert inst.modality == str(ds.get("Modality") or "")
    assert (inst.rows, inst.columns) == (ds.get("Rows"), ds.get("Columns"))
    assert inst.number_of_frames == 1 and not inst.is_multiframe
    assert inst.instance_number == (int(ds.InstanceNumber) if ds.get("InstanceNumber") not in (None, "") else None)
    assert inst.series_description == str(ds.get("SeriesDescription") or "").strip("\x00 ")
    if ds.get("Rows") is None or ds.get("Columns") is None:
        assert inst.frames == []
        return
    (frame,) = inst.frames
    assert frame.instance is inst and frame.frame_number is None
    assert (frame.sop_class_uid, frame.sop_instance_uid) == (inst.sop_class_uid, inst.sop_instance_uid)
    assert (frame.rows, frame.columns, frame.instance_number) == (ds.Rows, ds.Columns, inst.instance_number)
    for attr, keyword in (
        ("image_position", "ImagePositionPatient"),
        ("image_orientation", "ImageOrientationPatient"),
        ("pixel_spacing", "PixelSpacing"),
    ):
        got = getattr(frame, attr)
        assert (None if got is None else got.tolist()) == floats(ds.get(keyword) or None), attr
    assert frame.slice_thickness == (float(ds.SliceThickness) if ds.get("SliceThickness") not in (None, "") else None)


SINGLE = {
    "as_written": {},
    "implicit": {},
    "no_geometry": {"ImagePositionPatient": None, "ImageOrientationPatient": None, "PixelSpacing": None},
    "no_rows": {"Rows": None},
    "no_columns": {"Columns": None},
    "no_frame_of_reference": {"FrameOfReferenceUID": None},
    "no_instance_number": {"InstanceNumber": None},
    "empty_instance_number": {"InstanceNumber": ""},
    "no_modality": {"Modality": None},
    "no_thickness": {"SliceThickness": None},
    "description_with_nul": {"SeriesDescription": "Chest\x00"},
    "no_description": {"SeriesDescription": None},
    "long_uid": {"SeriesInstanceUID": "1.2." + "3" * 60},  # 64 characters
    "not_plain_uid": {"SeriesInstanceUID": "1.2.03"},  # pydicom's path (a leading zero)
    "not_plain_position": {"ImagePositionPatient": ["-1234567890.12345", "2", "3"]},  # 17 bytes: pydicom
    "empty_orientation": {"ImageOrientationPatient": ""},
    "zero_rows": {"Rows": 0},
    "zero_columns": {"Columns": 0},
    "columns_along_x": {"ImageOrientationPatient": ["0", "1", "0", "1", "0", "0"]},  # a usable orientation
    "empty_thickness": {"SliceThickness": ""},
    "exponents": {"ImagePositionPatient": ["1e2", "-2.5E-1", "+3"], "PixelSpacing": ["5e-1", "0.5"]},
}


@pytest.fixture(scope="module")
def single(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("single")
    out = {}
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i, (name, changes) in enumerate(SINGLE.items()):
            ds = ct(SOPInstanceUID=f"1.2.3.4.5.{100 + i}", **changes)
            out[name] = save(ds, folder / f"{name}.dcm", implicit=name == "implicit")
    return out


@pytest.mark.parametrize("name", list(SINGLE))
def test_single_frame_values_are_pydicoms(single, name, monkeypatch):
    fast, slow = both([single[name]], monkeypatch)
    check_single_frame(fast[0], single[name])
    check_single_frame(slow[0], single[name])


def test_multiframe_frames_from_the_functional_groups(tmp_path, monkeypatch):
    """Shared Pixel Measures and Plane Orientation, per-frame Plane Position (PS3.3 C.7.6.16.2.1-3)."""
    path = save(enhanced(3), tmp_path / "mf.dcm")
    for (inst,) in both([path], monkeypatch):
        assert inst.is_multiframe and inst.number_of_frames == 3
        assert [f.frame_number for f in inst.frames] == [1, 2, 3]
        assert [f.image_position.tolist() for f in inst.frames] == [[0, -4, 2.5], [10, -4, 2.5], [20, -4, 2.5]]
        for f in inst.frames:
            assert f.image_orientation.tolist() == [0, 1, 0, 0, 0, -1]
            assert f.pixel_spacing.tolist() == [0.6, 0.7]
            assert f.slice_thickness == 2.5
            assert (f.rows, f.columns, f.instance_number, f.instance) == (3, 2, 7, inst)
            assert (f.sop_class_uid, f.sop_instance_uid) == (ENHANCED_CT, "1.2.3.4.9")


def test_multiframe_falls_back_to_top_level_attributes(tmp_path, monkeypatch):
    """Without a Plane Orientation or Pixel Measures functional group the top-level Image Plane values are
    used; a top-level position only for a single frame; Slice Thickness from the top level when the
    Pixel Measures have none."""
    ds = enhanced(2, shared_orientation=False)
    ds.ImageOrientationPatient = ["1", "0", "0", "0", "1", "0"]
    ds.ImagePositionPatient = ["9", "9", "9"]
    ds.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0].SliceThickness = None
    del ds.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0].SliceThickness
    ds.SliceThickness = "4"
    two = save(ds, tmp_path / "two.dcm")
    one = enhanced(1, shared_orientation=False)
    del one.PerFrameFunctionalGroupsSequence
    del one.SharedFunctionalGroupsSequence
    one.ImagePositionPatient = ["9", "8", "7"]
    one.ImageOrientationPatient = ["1", "0", "0", "0", "1", "0"]
    one.PixelSpacing = ["0.25", "0.5"]
    one.SOPInstanceUID = "1.2.3.4.10"
    one = save(one, tmp_path / "one.dcm")
    three = enhanced(3, shared_orientation=False, SOPInstanceUID="1.2.3.4.11")
    del three.PerFrameFunctionalGroupsSequence
    del three.SharedFunctionalGroupsSequence
    three.ImagePositionPatient = ["9", "8", "7"]
    three = save(three, tmp_path / "three.dcm")
    for a, b, c in both([two, one, three], monkeypatch):
        assert [f.image_position.tolist() for f in a.frames] == [[0, -4, 2.5], [10, -4, 2.5]]
        assert [f.image_orientation.tolist() for f in a.frames] == [[1, 0, 0, 0, 1, 0]] * 2
        assert [f.pixel_spacing.tolist() for f in a.frames] == [[0.6, 0.7]] * 2
        assert [f.slice_thickness for f in a.frames] == [4.0, 4.0]
        (f,) = b.frames
        assert (f.frame_number, f.image_position.tolist(), f.pixel_spacing.tolist()) == (1, [9, 8, 7], [0.25, 0.5])
        assert f.image_orientation.tolist() == [1, 0, 0, 0, 1, 0]
        assert [f.image_position for f in c.frames] == [None] * 3  # a top-level position is no frame's
        assert [f.image_orientation for f in c.frames] == [None] * 3
        assert [f.pixel_spacing for f in c.frames] == [None] * 3
        assert [f.slice_thickness for f in c.frames] == [None] * 3
        assert [f.frame_number for f in c.frames] == [1, 2, 3]


@pytest.mark.parametrize("frames", ["", "0"])
def test_multiframe_without_a_frame_count_has_one_frame(tmp_path, monkeypatch, frames):
    ds = enhanced(1, NumberOfFrames=frames)
    for (inst,) in both([save(ds, tmp_path / "mf.dcm")], monkeypatch):
        assert inst.number_of_frames == 1 and len(inst.frames) == 1 and inst.is_multiframe


def test_duplicate_sop_instance_uid_message(single, tmp_path):
    copy = tmp_path / "copy.dcm"
    copy.write_bytes(single["as_written"].read_bytes())
    with pytest.raises(InputError) as err:
        read_source_headers([single["implicit"], single["as_written"], copy])
    uid = pydicom.dcmread(copy).SOPInstanceUID
    assert err.value.message == (
        f"two source files have the same SOP Instance UID {uid}: {single['as_written']} and {copy}"
    )
    assert err.value.hint == "remove the copy, or narrow 'sources' so each instance is named once"


def test_missing_identifiers_message(tmp_path, monkeypatch):
    ds = ct(SeriesInstanceUID=None, StudyInstanceUID=None)
    path = save(ds, tmp_path / "x.dcm")
    for fast in (source_headers.FAST_HEADERS, False):
        monkeypatch.setattr(source_headers, "FAST_HEADERS", fast)
        with pytest.raises(InputError) as err:
            read_source_headers([path])
        missing = "SeriesInstanceUID, StudyInstanceUID missing"
        assert err.value.message == f"{path} is not a usable DICOM instance: {missing}"
    path = save(ct(SOPClassUID=None, SOPInstanceUID=None), tmp_path / "y.dcm")
    with pytest.raises(InputError) as err:
        read_source_headers([path])
    assert err.value.message == f"{path} is not a usable DICOM instance: SOPClassUID, SOPInstanceUID missing"


def test_unreadable_file_message(tmp_path):
    path = tmp_path / "text.dcm"
    path.write_bytes(b"not DICOM at all, " * 20)
    with pytest.raises(InputError) as err:
        read_source_headers([path])
    assert err.value.message.startswith(f"not a readable DICOM file: {path} (")
    assert err.value.hint == HINT_READ


def test_a_file_cut_inside_a_value_is_refused(single, tmp_path):
    """pydicom reads the bytes there are of a value the file ends in (no error, no warning): Pixel Spacing
    "0.5\\0.75" cut to "0.5\\0.7" would be copied into every derived object. PS3.5 7.1.1: a value has
    the length its Value Length gives."""
    data = single["as_written"].read_bytes()
    cut = tmp_path / "cut.dcm"
    cut.write_bytes(data[: data.index(b"0.5\\0.75") + 7])
    with pytest.raises(InputError) as err:
        read_source_headers([cut])
    assert err.value.message == f"not a readable DICOM file: {cut} (the file ends inside the value of (0028,0030))"
    assert err.value.hint == HINT_READ
    cut.write_bytes(data[: data.index(b"0.5\\0.75") - 8])  # cut between two elements: a shorter header
    (inst,) = read_source_headers([cut])
    assert inst.frames[0].pixel_spacing is None


def test_preamble_less_file_read_with_pydicoms_guess(single, tmp_path):
    from pydicom.filebase import DicomBytesIO
    from pydicom.filewriter import write_dataset

    ds = pydicom.dcmread(single["as_written"])
    ds.BitsAllocated = 8
    ds.add_new(0x7FE00010, "OB", b"\0" * 6)
    buf = DicomBytesIO()
    buf.is_little_endian, buf.is_implicit_VR = True, False
    write_dataset(buf, ds)
    raw = tmp_path / "raw"
    raw.write_bytes(buf.getvalue())
    (inst,) = read_source_headers([raw])
    assert inst.frames[0].image_position.tolist() == [-12.5, 3.25, 100]
    assert inst.sop_instance_uid == ds.SOPInstanceUID
    assert "PixelData" not in inst.header  # headers only, on pydicom's forced path too


def test_geometry_value_count_message(tmp_path):
    path = save(ct(ImagePositionPatient=["1", "2"]), tmp_path / "x.dcm")
    with pytest.raises(InputError) as err:
        read_source_headers([path])
    why = "ImagePositionPatient has 2 values, expected 3"
    assert err.value.message == f"cannot read the image geometry of {path}: {why}"


DEFECTS = [
    ({"ImagePositionPatient": ["nan", "0", "0"]}, "Image Position (Patient) [nan, 0.0, 0.0], which is not finite"),
    ({"ImageOrientationPatient": ["1", "0", "0", "0", "inf", "0"]}, None),
    ({"PixelSpacing": ["0.5", "-inf"]}, "Pixel Spacing [0.5, -inf], which is not finite"),
    (
        {"ImageOrientationPatient": ["0", "0", "0", "0", "1", "0"]},
        "Image Orientation (Patient) [0.0, 0.0, 0.0, 0.0, 1.0, 0.0], a zero direction vector",
    ),
    (
        {"ImageOrientationPatient": ["0", "0", "0", "1", "0", "0"]},
        "Image Orientation (Patient) [0.0, 0.0, 0.0, 1.0, 0.0, 0.0], a zero direction vector",
    ),
    (
        {"ImageOrientationPatient": ["1", "0", "0", "0", "0", "0"]},
        "Image Orientation (Patient) [1.0, 0.0, 0.0, 0.0, 0.0, 0.0], a zero direction vector",
    ),
    ({"PixelSpacing": ["0", "0.5"]}, "Pixel Spacing [0.0, 0.5], which is not positive"),
    ({"PixelSpacing": ["0.5", "-1"]}, "Pixel Spacing [0.5, -1.0], which is not positive"),
    ({"SliceThickness": "-1"}, "Slice Thickness -1.0, which is not a finite non-negative number"),
    ({"SliceThickness": "inf"}, "Slice Thickness inf, which is not a finite non-negative number"),
]


@pytest.mark.parametrize(("changes", "defect"), DEFECTS)
def test_geometry_defect_messages(tmp_path, changes, defect):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = save(ct(**changes), tmp_path / "x.dcm")
    if defect is None:
        defect = "Image Orientation (Patient) [1.0, 0.0, 0.0, 0.0, inf, 0.0], which is not finite"
    with pytest.raises(InputError) as err:
        read_source_header(path)
    assert err.value.message == f"the source image {path} has {defect}"
    assert err.value.hint == HINT_GEOMETRY


def test_geometry_defect_of_a_frame_names_it(tmp_path):
    ds = enhanced(3)
    ds.PerFrameFunctionalGroupsSequence[1].PlanePositionSequence[0].ImagePositionPatient = ["1", "nan", "0"]
    path = save(ds, tmp_path / "mf.dcm")
    with pytest.raises(InputError) as err:
        read_source_header(path)
    defect = "Image Position (Patient) [1.0, nan, 0.0], which is not finite"
    assert err.value.message == f"the source image {path} (frame 2) has {defect}"


def test_usable_geometry_at_its_edges(tmp_path):
    """Zero thickness, a tiny direction vector (1e-6 long) and a tiny spacing are usable."""
    ds = ct(SliceThickness="0", ImageOrientationPatient=["1e-6", "0", "0", "0", "1", "0"], PixelSpacing=["1e-9", "1"])
    (inst,) = read_source_headers([save(ds, tmp_path / "x.dcm")])
    assert geometry_defect(inst.frames[0]) is None
    assert inst.frames[0].slice_thickness == 0.0


def test_small_helpers_by_hand():
    assert _text(None) == "" and _text(" a\x00 ") == "a" and _text(7) == "7"
    assert _int(None) is None and _int("") is None and _int("x") is None and _int([1]) is None and _int("12") == 12
    assert _float(None) is None and _float("") is None and _float("x") is None and _float([1]) is None
    assert _float("2.5") == 2.5 and _float(0) == 0.0
    assert _number("x") is None and _number(None) is None and _number("3.50") == "3.50"
    assert math.isnan(float(_number("nan")))
    assert np.isfinite(float(_number(pydicom.valuerep.DSfloat("1.5"))))


def test_an_undefined_length_value_is_complete(tmp_path):
    """An undefined-length OB outside Pixel Data (PS3.5 7.1.1: OB may have an undefined length) is read by
    pydicom up to its Sequence Delimitation Item: not a value the file ends inside of."""
    from test_mutation_kills_headerscan import EXPLICIT, el, part10

    ds = ct()
    buf = pydicom.filebase.DicomBytesIO()
    buf.is_little_endian, buf.is_implicit_VR = True, False
    pydicom.filewriter.write_dataset(buf, ds)
    delimiter = b"\xfe\xff\xdd\xe0\0\0\0\0"
    path = tmp_path / "ob.dcm"
    path.write_bytes(part10(buf.getvalue() + el(0x00091003, "OB", b"\1\2" + delimiter, length=0xFFFFFFFF), EXPLICIT))
    raw = pydicom.dcmread(path, stop_before_pixels=True)._dict[0x00091003]
    assert raw.length == 0xFFFFFFFF and raw.value == b"\1\2"
    (inst,) = read_source_headers([path])
    assert inst.frames[0].pixel_spacing.tolist() == [0.5, 0.75]


def test_plain_files_never_reach_pydicoms_reader(single, monkeypatch):
    """The fast path (headerscan) reads a plain single-frame file: pydicom's reader is not called."""

    def refuse(*args, **kwargs):
        raise AssertionError("dcmread called")

    monkeypatch.setattr(pydicom, "dcmread", refuse)
    (inst,) = read_source_headers([single["as_written"]])
    assert inst.frames[0].image_position.tolist() == [-12.5, 3.25, 100]


def test_one_value_where_three_are_needed(tmp_path):
    path = save(ct(ImagePositionPatient="5"), tmp_path / "x.dcm")
    with pytest.raises(InputError) as err:
        read_source_headers([path])
    assert (
        err.value.message == f"cannot read the image geometry of {path}: ImagePositionPatient has 1 values, expected 3"
    )


def test_functional_groups_come_before_top_level_values(tmp_path, monkeypatch):
    """PS3.3 C.7.6.16: a frame's Plane Orientation and Pixel Measures are its functional groups'; top-level
    Image Orientation (Patient) and Pixel Spacing (not part of an enhanced image) are used only without them."""
    ds = enhanced(2)
    ds.ImageOrientationPatient = ["1", "0", "0", "0", "1", "0"]
    ds.PixelSpacing = ["9", "9"]
    for (inst,) in both([save(ds, tmp_path / "mf.dcm")], monkeypatch):
        assert [f.image_orientation.tolist() for f in inst.frames] == [[0, 1, 0, 0, 0, -1]] * 2
        assert [f.pixel_spacing.tolist() for f in inst.frames] == [[0.6, 0.7]] * 2


def test_instances_are_distinct_hashable_objects_without_frames_in_their_repr(single):
    """Two reads of one file are two instances (identity, as sets and dicts of instances need)."""
    (a,) = read_source_headers([single["as_written"]])
    (b,) = read_source_headers([single["as_written"]])
    assert a != b and len({a, b}) == 2 and a == a
    assert ", frames=" not in repr(a) and ", header=" not in repr(a)


def test_an_empty_value_in_a_header_read_elsewhere_is_absent():
    """A header from elsewhere (DICOMweb) may hold "" for an empty DS: no value, as in a file."""
    ds = ct(ImageOrientationPatient="", PixelSpacing="")
    inst = source_headers.instance_from_dataset("https://pacs/x", ds)
    assert inst.frames[0].image_orientation is None and inst.frames[0].pixel_spacing is None
    assert inst.frames[0].image_position.tolist() == [-12.5, 3.25, 100]
