"""Source image resolution: finding files, reading headers, selecting and checking one series."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest

from dcmspec_compiler.errors import InputError, Location
from dcmspec_compiler.resolve.source_files import find_source_files, looks_like_dicom
from dcmspec_compiler.resolve.source_headers import read_source_headers
from dcmspec_compiler.resolve.source_series import group_series, resolve_single_series, select_instances

from conftest import shared

NIST_CT_WB = "1.3.6.1.4.1.21367.201599.2.201604020955010"
NIST_CT_CONTRAST = "1.3.6.1.4.1.21367.201599.2.201604020955010.11"


def load(*parts: str):
    folder = shared(*parts)
    return read_source_headers(find_source_files(str(folder), Path("/")))


# -- finding files ---------------------------------------------------------------------------------


def test_folder_glob_and_list(tmp_path):
    base = shared("series")
    assert len(find_source_files("ct_dcmqi_23x38x3", base)) == 3
    assert [p.name for p in find_source_files("ct_dcmqi_23x38x3/IMG000[12].dcm", base)] == [
        "IMG0001.dcm",
        "IMG0002.dcm",
    ]
    both = find_source_files("**/IMG0001.dcm", base)
    assert {p.parent.name for p in both} == {"ct_dcmqi_23x38x3", "ct_dcmqi_24x38x3"}
    listed = find_source_files(["ct_dcmqi_23x38x3", "ct_dcmqi_23x38x3/IMG0001.dcm"], base)
    assert len(listed) == 3  # duplicates removed
    assert all(p.is_absolute() for p in listed)


def test_folder_skips_hidden_and_non_dicom(tmp_path):
    src = shared("series", "ct_dcmqi_23x38x3", "IMG0001.dcm")
    (tmp_path / "sub").mkdir()
    shutil.copy(src, tmp_path / "sub" / "a")
    shutil.copy(src, tmp_path / ".hidden.dcm")
    (tmp_path / "README.txt").write_text("not dicom at all, but long enough " * 10)
    (tmp_path / ".git").mkdir()
    shutil.copy(src, tmp_path / ".git" / "b.dcm")
    assert find_source_files(".", tmp_path) == [(tmp_path / "sub" / "a").absolute()]


def _write_preamble_less(src: Path, out: Path) -> None:
    """Write ``src``'s data set without preamble or File Meta Information (implicit VR LE)."""
    from pydicom.filebase import DicomBytesIO
    from pydicom.filewriter import write_dataset

    ds = pydicom.dcmread(src)
    buf = DicomBytesIO()
    buf.is_little_endian, buf.is_implicit_VR = True, True
    write_dataset(buf, ds)
    out.write_bytes(buf.getvalue())


def test_preamble_less_file_accepted(tmp_path):
    src = shared("series", "ct_dcmqi_23x38x3", "IMG0001.dcm")
    _write_preamble_less(src, tmp_path / "raw")
    assert (tmp_path / "raw").read_bytes()[:2] == b"\x08\x00"
    assert looks_like_dicom(tmp_path / "raw")
    (inst,) = read_source_headers(find_source_files(".", tmp_path))
    assert inst.sop_instance_uid == pydicom.dcmread(src).SOPInstanceUID
    assert inst.frames[0].image_position is not None


def test_nothing_found_names_absolute_path(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("hello")
    with pytest.raises(InputError) as err:
        find_source_files("empty", tmp_path, location=Location("spec.yaml", 3, 5), spec_path=("sources", "images"))
    text = err.value.format()
    assert str((tmp_path / "empty").absolute()) in text
    assert "1 non-DICOM" in text and "hint:" in text
    assert text.startswith("spec.yaml:3:5: sources.images:")
    with pytest.raises(InputError, match="does not exist"):
        find_source_files("missing/", tmp_path)
    with pytest.raises(InputError, match="no DICOM files match the pattern"):
        find_source_files("empty/*.dcm", tmp_path)


# -- reading headers -------------------------------------------------------------------------------


def test_not_dicom_file_error(tmp_path):
    bad = tmp_path / "mask.dcm"
    bad.write_bytes(b"\x00" * 50 + b"nonsense")
    with pytest.raises(InputError) as err:
        read_source_headers(find_source_files(str(bad), tmp_path))
    assert str(bad) in err.value.message


def test_duplicate_sop_instance_uid(tmp_path):
    src = shared("series", "ct_dcmqi_23x38x3", "IMG0001.dcm")
    shutil.copy(src, tmp_path / "one.dcm")
    shutil.copy(src, tmp_path / "two.dcm")
    with pytest.raises(InputError) as err:
        read_source_headers(find_source_files(".", tmp_path))
    assert "one.dcm" in err.value.message and "two.dcm" in err.value.message
    assert pydicom.dcmread(src).SOPInstanceUID in err.value.message


def test_instance_fields():
    (inst,) = read_source_headers([shared("series", "ct_dcmqi_ct-3slice", "01.dcm")])
    assert inst.modality == "CT" and inst.rows == 512 and inst.columns == 512
    assert inst.number_of_frames == 1 and not inst.is_multiframe
    assert "PixelData" not in inst.header
    (frame,) = inst.frames
    assert frame.frame_number is None and frame.instance is inst
    assert frame.image_position.shape == (3,) and frame.image_orientation.shape == (6,)
    assert frame.slice_thickness == pytest.approx(1.25)
    assert inst.frame_of_reference_uid


# -- multi-frame geometry --------------------------------------------------------------------------


def test_multiframe_matches_single_frame_series():
    (mf,) = load("enhanced", "dcmqi_23x38x3")
    single = group_series(load("series", "ct_dcmqi_23x38x3"))[0]
    assert mf.is_multiframe and mf.number_of_frames == 3
    assert [f.frame_number for f in mf.frames] == [1, 2, 3]
    ordered = group_series([mf])[0].frames
    assert len(ordered) == len(single.frames) == 3
    for a, b in zip(ordered, single.frames):
        np.testing.assert_allclose(a.image_position, b.image_position, atol=1e-4)
        np.testing.assert_allclose(a.image_orientation, b.image_orientation, atol=1e-6)
        np.testing.assert_allclose(a.pixel_spacing, b.pixel_spacing, atol=1e-6)
        assert a.slice_thickness == pytest.approx(b.slice_thickness)
        assert (a.rows, a.columns) == (b.rows, b.columns) == (38, 23)


def test_enhanced_ct_per_frame_positions():
    (inst,) = read_source_headers([shared("enhanced", "eCT_Supplemental.dcm")])
    ds = pydicom.dcmread(inst.path, stop_before_pixels=True)
    assert len(inst.frames) == 2
    for frame, item in zip(inst.frames, ds.PerFrameFunctionalGroupsSequence):
        expected = [float(v) for v in item.PlanePositionSequence[0].ImagePositionPatient]
        np.testing.assert_allclose(frame.image_position, expected)
    shared_ori = ds.SharedFunctionalGroupsSequence[0].PlaneOrientationSequence[0]
    np.testing.assert_allclose(inst.frames[1].image_orientation, [float(v) for v in shared_ori.ImageOrientationPatient])
    assert group_series([inst])[0].is_volume()


def test_enhanced_mr_without_geometry():
    (inst,) = read_source_headers([shared("enhanced", "emri_small.dcm")])
    assert len(inst.frames) == 10
    assert all(f.image_position is None and f.pixel_spacing is None for f in inst.frames)
    series = group_series([inst])[0]
    assert [f.frame_number for f in series.frames] == list(range(1, 11))
    assert not series.is_volume()


# -- ordering --------------------------------------------------------------------------------------


def test_oblique_mr_ordered_by_geometry_not_file_name():
    insts = load("series", "mr_dcmqi_701-ADCb500")
    file_order = [i.instance_number for i in insts]
    assert file_order != sorted(file_order)  # 000004.dcm is instance 6
    series = resolve_single_series(insts)
    assert [f.instance_number for f in series.frames] == list(range(1, 21))
    normal = series.frames[0].normal
    assert abs(normal[2]) < 0.999  # oblique
    assert np.all(np.diff(series.slice_positions()) > 2.9)
    assert series.is_volume() and series.warnings == []
    assert series.slice_spacing() == pytest.approx(
        np.linalg.norm(series.frames[1].image_position - series.frames[0].image_position), abs=1e-3
    )


def test_pet_file_order_differs_from_instance_number():
    series = resolve_single_series(load("series", "pt_nist_IDS-DEPT024-a"))
    positions = [f.image_position[2] for f in series.frames]
    assert positions == sorted(positions)
    assert [f.instance_number for f in series.frames] == list(range(10, 0, -1))


def test_2d_cr_keeps_instance_order():
    (inst,) = read_source_headers([shared("single", "6154")])
    series = resolve_single_series([inst])
    assert series.frames[0].image_position is None
    assert not series.is_volume()
    assert "no position" in series.geometry_problems()[0]


# -- selection -------------------------------------------------------------------------------------


def test_two_series_error_lists_both():
    insts = load("series", "ct_nist_IDS-DEPT003-a")
    with pytest.raises(InputError) as err:
        resolve_single_series(insts, spec_path=("sources",))
    msg = err.value.message
    assert NIST_CT_WB + " " in msg and NIST_CT_CONTRAST in msg
    assert "CT WB" in msg and "CT CONTRAST" in msg and "10 instances" in msg
    assert "series_instance_uid" in err.value.hint


def test_select_series_and_gap_warning():
    insts = load("series", "ct_nist_IDS-DEPT003-a")
    wb = select_instances(insts, series_instance_uid=NIST_CT_WB)
    assert len(wb) == 10 and all(i.series_instance_uid == NIST_CT_WB for i in wb)
    series = resolve_single_series(wb)
    assert series.is_volume() and series.warnings == []
    assert series.slice_spacing() == pytest.approx(5.0)  # SpacingBetweenSlices -5 is ignored
    assert series.series_description == "CT WB"  # trailing NULs stripped
    contrast = resolve_single_series(select_instances(insts, series_instance_uid=NIST_CT_CONTRAST))
    assert not contrast.is_volume()
    assert any("gap" in w for w in contrast.warnings)
    assert "evenly spaced" in contrast.geometry_problems()[0]


def test_selector_errors_list_what_is_there():
    insts = load("series", "ct_nist_IDS-DEPT003-a")
    with pytest.raises(InputError) as err:
        select_instances(insts, series_instance_uid="1.2.3.4", spec_path=("sources",))
    assert err.value.path == ("sources", "series_instance_uid")
    assert NIST_CT_WB in err.value.hint and NIST_CT_CONTRAST in err.value.hint
    with pytest.raises(InputError) as err:
        select_instances(insts, modality="MR")
    assert '"CT CONTRAST", 10 instances' in err.value.hint
    assert len(select_instances(insts, modality="ct")) == 20
    wanted = [insts[3].sop_instance_uid, insts[12].sop_instance_uid]
    picked = select_instances(insts, sop_instance_uids=wanted)
    assert {i.sop_instance_uid for i in picked} == set(wanted)
    with pytest.raises(InputError, match=r"1 of the requested SOP Instance UIDs.*9\.9\.9"):
        select_instances(insts, sop_instance_uids=[wanted[0], "9.9.9"])
    with pytest.raises(InputError):  # both selectors: the UID is in the other series
        select_instances(
            insts,
            series_instance_uid=NIST_CT_WB,
            sop_instance_uids=[i.sop_instance_uid for i in insts if i.series_instance_uid == NIST_CT_CONTRAST][:1],
        )


def test_overlap_warning():
    series = resolve_single_series(load("series", "ct_dcmqi_ct-3slice"))
    assert series.is_volume()
    assert [f.instance_number for f in series.frames] == [3, 2, 1]  # ascending along +z
    assert any("overlap" in w for w in series.warnings)
    assert series.study is series.frames[0].instance.header
    assert series.patient.PatientID == series.study.PatientID


# -- inconsistent geometry -------------------------------------------------------------------------


def _modified_copy(tmp_path: Path, name: str, **changes) -> None:
    src = shared("series", "ct_dcmqi_23x38x3")
    for f in sorted(src.iterdir()):
        shutil.copy(f, tmp_path / f.name)
    ds = pydicom.dcmread(tmp_path / name)
    for key, value in changes.items():
        setattr(ds, key, value)
    ds.save_as(tmp_path / name)


@pytest.mark.parametrize(
    "changes, words",
    [
        ({"Columns": 24}, "Rows/Columns"),
        ({"FrameOfReferenceUID": "1.2.3.4.5"}, "Frame of Reference UID"),
        ({"ImageOrientationPatient": [0, 1, 0, 0, 0, -1]}, "Image Orientation"),
    ],
)
def test_inconsistent_geometry_errors(tmp_path, changes, words):
    _modified_copy(tmp_path, "IMG0002.dcm", **changes)
    insts = read_source_headers(find_source_files(".", tmp_path))
    with pytest.raises(InputError) as err:
        resolve_single_series(insts)
    assert words in err.value.message
    assert "IMG0002.dcm" in err.value.message


def test_non_image_instance_rejected():
    insts = read_source_headers([shared("sr", "sr_document.dcm")])
    assert insts[0].frames == []
    with pytest.raises(InputError, match="no images"):
        resolve_single_series(insts)


# -- fast header path (dcmspec_compiler.resolve.headerscan) -------------------------------------------------

from dcmspec_compiler.resolve import headerscan  # noqa: E402
from dcmspec_compiler.resolve import source_headers as sources_module  # noqa: E402

SHARED_SERIES = [
    "ct_dcmqi_23x38x3",
    "ct_dcmqi_24x38x3",
    "ct_dcmqi_ct-3slice",
    "ct_nist_IDS-DEPT003-a",
    "ct_pydicom_CT2",
    "mr_dcmqi_701-ADCb500",
    "pt_nist_IDS-DEPT024-a",
]


def _elements(ds) -> list:
    """Every element (nested), converted, with what a writer uses: VR, value, undefined length."""
    out = []
    for elem in ds:
        if elem.VR == "SQ":
            out.append((elem.tag, "SQ", elem.is_undefined_length, len(elem.value)))
            for item in elem.value:
                out.append(("item", item.is_undefined_length_sequence_item))
                out.extend(_elements(item))
        else:
            out.append((elem.tag, elem.VR, repr(elem.value), elem.is_undefined_length))
    return out


def assert_same_dataset(fast, slow) -> None:
    """``fast`` (scan_header) is what ``dcmread(stop_before_pixels=True, defer_size=4096)`` gives."""
    assert fast is not None
    assert _elements(fast) == _elements(slow)
    assert _elements(fast.file_meta) == _elements(slow.file_meta)
    for attr in ("preamble", "filename", "timestamp", "fileobj_type", "original_encoding", "original_character_set"):
        assert getattr(fast, attr) == getattr(slow, attr), attr


def _dcmread(path):
    return pydicom.dcmread(path, stop_before_pixels=True, defer_size=sources_module.DEFER_SIZE)


def _read_both(paths, monkeypatch):
    """SourceInstances read with the fast path, then with pydicom only."""
    fast = read_source_headers(paths)
    monkeypatch.setattr(sources_module, "FAST_HEADERS", False)
    slow = read_source_headers(paths)
    monkeypatch.setattr(sources_module, "FAST_HEADERS", True)
    return fast, slow


def _array_eq(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return a.dtype == b.dtype and a.shape == b.shape and not a.flags.writeable and np.array_equal(a, b)


def assert_same_instances(fast, slow) -> None:
    assert len(fast) == len(slow)
    for a, b in zip(fast, slow):
        for name in (
            "path",
            "sop_class_uid",
            "sop_instance_uid",
            "series_instance_uid",
            "study_instance_uid",
            "frame_of_reference_uid",
            "modality",
            "rows",
            "columns",
            "number_of_frames",
            "instance_number",
            "is_multiframe",
            "series_description",
        ):
            va, vb = getattr(a, name), getattr(b, name)
            assert va == vb and type(va) is type(vb), (a.path, name, va, vb)
        assert len(a.frames) == len(b.frames)
        for fa, fb in zip(a.frames, b.frames):
            for name in (
                "sop_class_uid",
                "sop_instance_uid",
                "frame_number",
                "slice_thickness",
                "rows",
                "columns",
                "instance_number",
                "position",
                "orientation",
                "spacing",
                "thickness",
            ):
                va, vb = getattr(fa, name), getattr(fb, name)
                assert va == vb and type(va) is type(vb), (fa.label, name, va, vb)
            for name in ("image_position", "image_orientation", "pixel_spacing"):
                assert _array_eq(getattr(fa, name), getattr(fb, name)), (fa.label, name)
        assert_same_dataset(a.header, b.header)


@pytest.mark.parametrize("series", SHARED_SERIES)
def test_fast_headers_match_pydicom(series, monkeypatch):
    files = find_source_files(str(shared("series", series)), Path("/"))
    for path in files:
        ds = headerscan.scan_header(path, sources_module.DEFER_SIZE)
        assert headerscan.plain_values(ds) is not None  # the values too come from the fast path
        assert_same_dataset(ds, _dcmread(path))
    fast, slow = _read_both(files, monkeypatch)
    assert_same_instances(fast, slow)


def test_fast_headers_cover_implicit_and_explicit_vr():
    syntaxes = {
        str(_dcmread(find_source_files(str(shared("series", s)), Path("/"))[0]).file_meta.TransferSyntaxUID)
        for s in SHARED_SERIES
    }
    assert {pydicom.uid.ImplicitVRLittleEndian, pydicom.uid.ExplicitVRLittleEndian} <= syntaxes


@pytest.mark.parametrize(
    "parts",
    [
        ("enhanced", "eCT_Supplemental.dcm"),
        ("enhanced", "emri_small.dcm"),
        ("single", "6154"),
        ("single", "RG3_J2KI.dcm"),
        ("single", "SC_rgb.dcm"),
        ("single", "dx_image.dcm"),
        ("sr", "sr_document.dcm"),
    ],
)
def test_fast_headers_other_files(parts, monkeypatch):
    """Multi-frame, compressed (encapsulated, Explicit VR LE header) and non-image files: the scanned
    header equals pydicom's; multi-frame values are left to pydicom (functional groups)."""
    path = shared(*parts)
    ds = headerscan.scan_header(path, sources_module.DEFER_SIZE)
    if "NumberOfFrames" in ds:
        assert headerscan.plain_values(ds) is None
    assert_same_dataset(ds, _dcmread(path))
    fast, slow = _read_both([path], monkeypatch)
    assert_same_instances(fast, slow)


def _ct(name: str = "IMG0001.dcm"):
    return pydicom.dcmread(shared("series", "ct_dcmqi_23x38x3", name))


def test_fast_headers_undefined_length_sequences_and_long_values(tmp_path, monkeypatch):
    """Undefined-length sequences (nested, both VR encodings), values over defer_size and a header
    longer than the first read."""
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    for implicit in (False, True):
        ds = _ct()
        inner = Dataset()
        inner.CodeValue, inner.CodingSchemeDesignator, inner.CodeMeaning = "121311", "DCM", "Localizer"
        item = Dataset()
        item.ReferencedSOPClassUID, item.ReferencedSOPInstanceUID = ds.SOPClassUID, "1.2.3.4"
        item.PurposeOfReferenceCodeSequence = Sequence([inner])
        item.PurposeOfReferenceCodeSequence.is_undefined_length = True
        ds.SourceImageSequence = Sequence([item, item])
        ds["SourceImageSequence"].is_undefined_length = True
        ds.SourceImageSequence[0].is_undefined_length_sequence_item = True
        ds.ImageComments = "x" * 10000  # deferred (> 4096)
        ds.add_new(0x00091011, "UT", "z" * 20000)  # deferred, and past the first 16 KiB read
        ds.DerivationDescription = "y" * 1000  # kept
        ds.add_new(0x00091010, "LO", "PRIVATE")
        ds.file_meta.TransferSyntaxUID = (
            pydicom.uid.ImplicitVRLittleEndian if implicit else pydicom.uid.ExplicitVRLittleEndian
        )
        path = tmp_path / f"ul-{implicit}.dcm"
        ds.save_as(path, implicit_vr=implicit, little_endian=True, enforce_file_format=True)
        fast = headerscan.scan_header(path, sources_module.DEFER_SIZE)
        slow = _dcmread(path)
        assert fast["SourceImageSequence"].is_undefined_length
        assert fast["ImageComments"].value == "x" * 10000  # the deferred value is read on access
        assert_same_dataset(fast, slow)
        assert_same_instances(*_read_both([path], monkeypatch))


def test_fast_headers_fall_back_to_pydicom(tmp_path, monkeypatch):
    """Big endian, deflated, truncated and preamble-less files go to pydicom, with its results."""
    ds = _ct()
    deflated = tmp_path / "deflated.dcm"
    ds.file_meta.TransferSyntaxUID = pydicom.uid.DeflatedExplicitVRLittleEndian
    ds.save_as(deflated, implicit_vr=False, little_endian=True, enforce_file_format=True)
    assert pydicom.dcmread(deflated).file_meta.TransferSyntaxUID == pydicom.uid.DeflatedExplicitVRLittleEndian
    ds = _ct("IMG0002.dcm")
    big = tmp_path / "big.dcm"
    ds.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRBigEndian
    pydicom.dcmwrite(big, ds, implicit_vr=False, little_endian=False, force_encoding=True)
    assert big.read_bytes()[128:132] == b"DICM"
    assert not pydicom.dcmread(big).original_encoding[1]  # big endian
    raw = tmp_path / "raw"
    _write_preamble_less(shared("series", "ct_dcmqi_23x38x3", "IMG0003.dcm"), raw)
    files = [deflated, big, raw]
    for path in files:
        assert headerscan.scan_header(path, sources_module.DEFER_SIZE) is None, path
    fast, slow = _read_both(files, monkeypatch)
    assert_same_instances(fast, slow)
    assert [i.frames[0].image_position is not None for i in fast] == [True, True, True]

    truncated = tmp_path / "truncated.dcm"
    data = shared("series", "ct_dcmqi_23x38x3", "IMG0001.dcm").read_bytes()
    truncated.write_bytes(data[:600])  # ends inside the header
    assert headerscan.scan_header(truncated, sources_module.DEFER_SIZE) is None


def test_fast_headers_reuse_a_series_layout(tmp_path, monkeypatch):
    """The files of a series share a layout: from the second file on the header is read without a walk
    (headerscan._Layout), and is still what pydicom reads: new values, the character set of each file,
    deferred values, a file of the same layout cut short (pydicom's path), another layout."""
    walks = []
    walk = headerscan._walk
    monkeypatch.setattr(headerscan, "_walk", lambda *a, **k: walks.append((a[0].fp.name, a[1])) or walk(*a, **k))
    monkeypatch.setattr(headerscan, "_layouts", {})
    paths = []
    for i, (charset, number) in enumerate(
        [("ISO_IR 100", "11"), ("ISO_IR 192", "12"), ("ISO_IR 100", "7"), ("ISO_IR 100", "123"), ("ISO_IR 100", "14")]
    ):
        ds = _ct()
        ds.SpecificCharacterSet = charset  # same length: same layout, another encoding
        ds.InstanceNumber = number  # "123": another length ("7" is padded to "7 "), so another layout
        ds.SOPInstanceUID = f"1.2.3.4.{100 + i}"
        ds.PatientName = "Müller^Ä" if charset == "ISO_IR 192" else "Mueller^AE"  # 10 bytes in both
        ds.ImageComments = str(i) * 5000  # deferred (> 4096): read from its own file on access
        paths.append(tmp_path / f"{i}.dcm")
        ds.save_as(paths[-1], enforce_file_format=True)
    cut = tmp_path / "cut.dcm"
    data = paths[0].read_bytes()
    cut.write_bytes(data[: data.index(b"0" * 5000) + 100])  # ends inside the deferred value
    paths.insert(1, cut)
    for path in paths:
        fast = headerscan.scan_header(path, sources_module.DEFER_SIZE)
        if path == cut:
            assert fast is None
            continue
        slow = _dcmread(path)
        assert_same_dataset(fast, slow)
        assert fast.PatientName == slow.PatientName and fast.ImageComments == slow.ImageComments
    # walked: the first file (File Meta Information + dataset), the cut one, "123" and the file after it (the
    # last layout walked is the one tried); not the ones with another character set, Patient Name or "7"
    meta_end = 322  # where this CT's dataset starts
    assert [(Path(name).name, at) for name, at in walks] == [
        ("0.dcm", 132),
        ("0.dcm", meta_end),
        ("cut.dcm", meta_end),
        ("3.dcm", meta_end),
        ("4.dcm", meta_end),
    ]
    # the encoding the walk returns for a sequence's values follows each file's Specific Character Set
    for path, charset in ((paths[0], "latin_1"), (paths[2], "UTF8")):
        with open(path, "rb") as fp:
            reader = headerscan._Reader(fp, path.stat().st_size)
            implicit = _dcmread(path).original_encoding[0]
            assert headerscan._elements(reader, meta_end, implicit, 4096, meta=False)[2] == [charset]
    assert len(walks) == 5  # both from the layout


def test_fast_headers_layout_ending_at_the_end_of_the_file(tmp_path, monkeypatch):
    """A header without Pixel Data ends at the end of its file: a file whose first elements have that
    layout but go on is walked (and read as pydicom reads it)."""
    monkeypatch.setattr(headerscan, "_layouts", {})
    short, longer = tmp_path / "short.dcm", tmp_path / "longer.dcm"
    ds = _ct()
    del ds.PixelData
    ds.save_as(short, enforce_file_format=True)
    ds.add_new(0x60000010, "US", 16)  # Overlay Rows: after every other element
    ds.save_as(longer, enforce_file_format=True)
    for path in (short, longer, short):
        assert_same_dataset(headerscan.scan_header(path, sources_module.DEFER_SIZE), _dcmread(path))


def test_fast_header_writes_as_read(tmp_path):
    """A header read by scan_header (its elements still raw) is written as pydicom's own read of it is."""
    path = shared("series", "ct_dcmqi_23x38x3", "IMG0001.dcm")
    fast, slow = headerscan.scan_header(path, sources_module.DEFER_SIZE), _dcmread(path)
    fast.save_as(tmp_path / "fast.dcm")
    slow.save_as(tmp_path / "slow.dcm")
    assert (tmp_path / "fast.dcm").read_bytes() == (tmp_path / "slow.dcm").read_bytes()


def test_fast_headers_keep_errors(tmp_path, monkeypatch):
    """Missing identifiers and unreadable files give the errors of the pydicom path."""
    ds = _ct()
    del ds.SeriesInstanceUID
    path = tmp_path / "noseries.dcm"
    ds.save_as(path, enforce_file_format=True)
    assert headerscan.scan_header(path, sources_module.DEFER_SIZE) is not None
    with pytest.raises(InputError, match="SeriesInstanceUID missing"):
        read_source_headers([path])
    with pytest.raises(InputError, match="not a readable DICOM file"):
        read_source_headers([tmp_path / "absent.dcm"])


# -- frame order and geometry, on frames made by hand ------------------------------------------------

from types import SimpleNamespace  # noqa: E402

from dcmspec_compiler.iods.common.source_frame import SourceFrame, slice_normal  # noqa: E402
from dcmspec_compiler.resolve.source_geometry import geometry_problems, has_geometry, order_frames  # noqa: E402


def _frame(
    name: str,
    position=None,
    orientation=(1, 0, 0, 0, 1, 0),
    instance_number=None,
    frame_number=None,
    spacing=(0.5, 0.5),
) -> SourceFrame:
    text = lambda v: None if v is None else tuple(str(x) for x in v)
    return SourceFrame(
        instance=SimpleNamespace(path=Path(name)),
        sop_class_uid="1.2",
        sop_instance_uid=name,
        frame_number=frame_number,
        position=text(position),
        orientation=text(orientation),
        spacing=text(spacing),
        thickness=None,
        rows=2,
        columns=2,
        instance_number=instance_number,
    )


def test_slice_normal_is_a_unit_vector_even_for_unnormalised_cosines():
    # row x column, worked out by hand: (1,0,0) x (0,1,0) = (0,0,1); (0,1,0) x (0,0,-1) = (-1,0,0)
    np.testing.assert_allclose(slice_normal(np.array([2.0, 0, 0, 0, 2.0, 0])), [0, 0, 1])
    np.testing.assert_allclose(slice_normal(np.array([0.5, 0, 0, 0, 0.5, 0])), [0, 0, 1])
    np.testing.assert_allclose(slice_normal(np.array([0, 1.0, 0, 0, 0, -1.0])), [-1, 0, 0])
    with np.errstate(all="raise"):  # parallel row and column: no normal, and no division by zero
        np.testing.assert_array_equal(slice_normal(np.array([1.0, 0, 0, 1.0, 0, 0])), [0, 0, 0])


def test_frames_without_full_geometry_are_ordered_by_instance_then_frame_number():
    frames = [
        _frame("c", position=(0, 0, 1), orientation=None, instance_number=2),
        _frame("d", instance_number=None, frame_number=None),
        _frame("a", instance_number=1, frame_number=2),
        _frame("b", instance_number=1, frame_number=1),
        _frame("e", position=(0, 0, 0), instance_number=3),
        _frame("z-single", instance_number=5, frame_number=None),  # a single-frame image before
        _frame("y-multi", instance_number=5, frame_number=1),
    ]  # frame 1 of one with the same number
    assert [f.sop_instance_uid for f in order_frames(frames)] == ["b", "a", "c", "e", "z-single", "y-multi", "d"]
    assert not has_geometry(frames[0]) and not has_geometry(_frame("x", position=(0, 0, 0), spacing=None))
    assert has_geometry(frames[4])


def test_positions_within_a_ten_thousandth_of_a_mm_tie_and_keep_instance_order():
    # 10.00003 and 10.00001 mm both round to 10.0000 along the normal: a tie, so Instance Number decides
    frames = [
        _frame("first", position=(0, 0, 10.00003), instance_number=1),
        _frame("second", position=(0, 0, 10.00001), instance_number=2),
        _frame("below", position=(0, 0, 9.0), instance_number=3),
    ]
    assert [f.sop_instance_uid for f in order_frames(frames)] == ["below", "first", "second"]


def test_geometry_problem_messages():
    assert geometry_problems([], 0.01) == ["no frames"]
    (message,) = geometry_problems([_frame("a", position=None), _frame("b", position=(0, 0, 1))], 0.01)
    assert message == "1 frames have no position, orientation or pixel spacing (a)"


def test_geometry_problems_name_size_orientation_spacing_and_spacing_of_slices():
    a = _frame("a", position=(0, 0, 0))
    b = _frame("b", position=(0, 0, 1))
    assert geometry_problems([a, b], 0.01) == []
    taller = dataclasses.replace(b, rows=3)
    assert geometry_problems([a, taller], 0.01) == ["frames have different Rows/Columns: [(2, 2), (3, 2)]"]
    tilted = _frame("t", position=(0, 0, 1), orientation=(1, 0, 0, 0, 0.9998, 0.02))
    assert geometry_problems([a, tilted], 0.01) == ["frames have different orientations"]
    finer = _frame("f", position=(0, 0, 1), spacing=(0.4, 0.5))
    assert geometry_problems([a, finer], 0.01) == ["frames have different pixel spacings"]
    shifted = _frame("s", position=(0.5, 0, 1))
    assert geometry_problems([a, shifted], 0.01)[0].startswith("slice positions are not stacked")
    c = _frame("c", position=(0, 0, 3))
    assert geometry_problems([a, b, c], 0.01)[0].startswith("slices are not evenly spaced")


@pytest.mark.parametrize("n", [1, 2, 3, 4, 7, 10, 299, 300])
def test_median_equals_numpys(n):
    """source_geometry.median (no numpy.ma at start-up) gives np.median's value, odd and even lengths, ties,
    negative steps, NaN."""
    from dcmspec_compiler.resolve.source_geometry import median

    rng = np.random.default_rng(n)
    for values in (rng.normal(1.5, 0.2, n), np.round(rng.normal(0, 3, n)), -np.abs(rng.normal(2, 1, n))):
        assert median(values) == float(np.median(values))
        assert type(median(values)) is float
    with_nan = rng.normal(size=n)
    with_nan[n // 2] = np.nan
    assert np.isnan(median(with_nan)) and np.isnan(np.median(with_nan))


def test_relative_folder_gives_the_absolute_paths_pathlib_gives(tmp_path, monkeypatch):
    """find_source_files makes relative hits absolute with one getcwd: the same paths as Path.absolute()."""
    shutil.copytree(shared("series", "ct_dcmqi_23x38x3"), tmp_path / "ct")
    monkeypatch.chdir(tmp_path)
    listed = find_source_files("ct", Path("."))
    expected = sorted(Path("ct", name).absolute() for name in ("IMG0001.dcm", "IMG0002.dcm", "IMG0003.dcm"))
    assert listed == expected and len(listed) == 3
    assert all(p.is_absolute() and p.is_relative_to(tmp_path) for p in listed)
