"""Source image resolution: finding files, reading headers, selecting and checking one series."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest
from conftest import shared

from dcmspec.errors import InputError, Location
from dcmspec.resolve.sources import (
    find_source_files,
    group_series,
    looks_like_dicom,
    read_source_headers,
    resolve_single_series,
    select_instances,
)

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
        "IMG0001.dcm", "IMG0002.dcm"]
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
        find_source_files("empty", tmp_path, location=Location("spec.yaml", 3, 5),
                          spec_path=("sources", "images"))
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
    np.testing.assert_allclose(inst.frames[1].image_orientation,
                               [float(v) for v in shared_ori.ImageOrientationPatient])
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
    assert series.slice_spacing() == pytest.approx(np.linalg.norm(
        series.frames[1].image_position - series.frames[0].image_position), abs=1e-3)


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
    with pytest.raises(InputError, match="1 of the requested SOP Instance UIDs.*9.9.9"):
        select_instances(insts, sop_instance_uids=[wanted[0], "9.9.9"])
    with pytest.raises(InputError):  # both selectors: the UID is in the other series
        select_instances(insts, series_instance_uid=NIST_CT_WB,
                         sop_instance_uids=[i.sop_instance_uid for i in insts
                                            if i.series_instance_uid == NIST_CT_CONTRAST][:1])


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
