"""Mutation kills for compiler/resolve/source_series.py (tests/MUTATION.md, fourth pass).

Headers made in memory with pydicom (``instance_from_dataset``, no files); oracles: pydicom's values of
those headers, slice positions and spacings worked out by hand from the Image Plane Module (PS3.3
C.7.6.2.1.1: the slice normal is the cross product of the row and column direction cosines), and every
message, hint and spec path word for word.
"""

from __future__ import annotations

import numpy as np
import pytest
from pydicom.dataset import Dataset

from dcmspec_compiler.errors import InputError
from dcmspec_compiler.resolve.source_headers import instance_from_dataset
from dcmspec_compiler.resolve.source_series import (
    SourceSeries,
    describe_series,
    group_series,
    resolve_single_series,
    select_instances,
)

CT = "1.2.840.10008.5.1.4.1.1.2"
SR = "1.2.840.10008.5.1.4.1.1.88.22"
HINT_SAME = "a Segmentation covers source frames with one size and one Frame of Reference; select the matching files"


def header(n: int, z: float, *, series: str = "1.2.7", **changes) -> Dataset:
    ds = Dataset()
    ds.SOPClassUID = CT
    ds.SOPInstanceUID = f"1.2.5.{n}"
    ds.StudyInstanceUID = "1.2.6"
    ds.SeriesInstanceUID = series
    ds.FrameOfReferenceUID = "1.2.8"
    ds.Modality = "CT"
    ds.SeriesDescription = "Chest"
    ds.InstanceNumber = str(n)
    ds.Rows, ds.Columns = 3, 2
    ds.ImagePositionPatient = ["10", "-5", str(z)]
    ds.ImageOrientationPatient = ["1", "0", "0", "0", "1", "0"]
    ds.PixelSpacing = ["0.5", "0.5"]
    for k, v in changes.items():
        if v is None:
            delattr(ds, k)
        else:
            setattr(ds, k, v)
    return ds


def inst(n: int, z: float = 0.0, **changes):
    return instance_from_dataset(f"/d/f{n}.dcm", header(n, z, **changes))


def sr(n: int, **changes):
    ds = header(n, 0, SOPClassUID=SR, Modality="SR", Rows=None, Columns=None, **changes)
    return instance_from_dataset(f"/d/f{n}.dcm", ds)


def stack(zs, **changes):
    return [inst(i + 1, z, **changes) for i, z in enumerate(zs)]


def test_series_of_three_in_geometry_order():
    insts = stack([5.0, 1.0, 3.0])
    s = resolve_single_series(insts)
    assert isinstance(s, SourceSeries) and s.series_instance_uid == "1.2.7"
    assert s.instances == insts
    assert [f.instance_number for f in s.frames] == [2, 3, 1]
    assert s.header is insts[1].header and s.study is insts[1].header and s.patient is insts[1].header
    assert (s.modality, s.study_instance_uid, s.frame_of_reference_uid) == ("CT", "1.2.6", "1.2.8")
    assert s.series_description == "Chest"
    assert (s.rows, s.columns) == (3, 2)
    assert s.has_geometry
    assert s.slice_positions().tolist() == [1.0, 3.0, 5.0]
    assert s.slice_spacing() == 2.0
    assert s.geometry_problems() == [] and s.is_volume()
    assert s.warnings == []


def test_slice_positions_along_an_oblique_normal():
    """Rows along (0, 0.6, 0.8), columns along (1, 0, 0): normal = row x column = (0, 0.8, -0.6)."""
    orientation = ["0", "0.6", "0.8", "1", "0", "0"]
    insts = [
        inst(1, 0, ImagePositionPatient=["0", "0", "0"], ImageOrientationPatient=orientation),
        inst(2, 0, ImagePositionPatient=["0", "8", "-6"], ImageOrientationPatient=orientation),
        inst(3, 0, ImagePositionPatient=["0", "4", "-3"], ImageOrientationPatient=orientation),
    ]
    s = resolve_single_series(insts)
    np.testing.assert_allclose(s.slice_positions(), [0.0, 5.0, 10.0], atol=1e-12)
    assert [f.instance_number for f in s.frames] == [1, 3, 2]
    assert s.slice_spacing() == pytest.approx(5.0)
    assert s.warnings == []


def test_series_without_geometry_or_with_one_frame():
    one = resolve_single_series([inst(1)])
    assert one.slice_positions().tolist() == [0.0] and one.slice_spacing() is None
    flat = resolve_single_series(stack([0, 1], ImagePositionPatient=None))
    assert not flat.has_geometry and flat.slice_positions() is None and flat.slice_spacing() is None
    assert not flat.is_volume()
    empty = SourceSeries("1.2.7", [sr(9)], [])
    assert not empty.has_geometry and empty.rows is None and empty.columns is None
    assert empty.header is empty.instances[0].header
    assert empty.slice_positions() is None


def test_is_volume_and_problems_follow_the_tolerance():
    s = resolve_single_series(stack([0.0, 1.0, 2.5]))
    assert not s.is_volume() and s.geometry_problems()
    assert s.is_volume(tolerance_mm=0.6) and s.geometry_problems(0.6) == []


def test_describe_series_by_hand():
    insts = [inst(1), inst(2), inst(3, series="1.2.9", Modality="", SeriesDescription=None)]
    assert describe_series(insts) == '1.2.7 (CT, "Chest", 2 instances); 1.2.9 (?, 1 instance)'
    assert describe_series([]) == "nothing"


def test_group_series_in_order_of_first_appearance():
    insts = [inst(1, 2.0, series="1.2.9"), inst(2, 0.0), inst(3, 1.0, series="1.2.9")]
    groups = group_series(insts)
    assert [g.series_instance_uid for g in groups] == ["1.2.9", "1.2.7"]
    assert [g.instances for g in groups] == [[insts[0], insts[2]], [insts[1]]]
    assert [f.instance_number for f in groups[0].frames] == [3, 1]


def test_select_instances_each_selector():
    insts = [inst(1), inst(2, series="1.2.9", Modality="MR"), inst(3)]
    assert select_instances(insts) == insts
    assert select_instances(insts, series_instance_uid=" 1.2.9 ") == [insts[1]]
    assert select_instances(insts, modality=" mr ") == [insts[1]]
    assert select_instances(insts, sop_instance_uids=[" 1.2.5.3", "1.2.5.1 "]) == [insts[0], insts[2]]
    assert select_instances(insts, series_instance_uid="1.2.7", modality="CT", sop_instance_uids=["1.2.5.3"]) == [
        insts[2]
    ]


def test_select_instances_messages_word_for_word():
    insts = [inst(1), inst(2, series="1.2.9", Modality="MR", SeriesDescription=None)]
    held = '1.2.7 (CT, "Chest", 1 instance); 1.2.9 (MR, 1 instance)'
    with pytest.raises(InputError) as err:
        select_instances(insts, series_instance_uid="1.2.3", spec_path=("sources",))
    assert err.value.message == "no source instance has Series Instance UID 1.2.3"
    assert err.value.path == ("sources", "series_instance_uid")
    assert err.value.hint == "the sources hold: " + held
    with pytest.raises(InputError) as err:
        select_instances(insts, series_instance_uid="1.2.7", modality="MR", spec_path=("sources",))
    assert err.value.message == "no source instance has Modality MR"
    assert err.value.path == ("sources", "modality")
    assert err.value.hint == 'the sources hold: 1.2.7 (CT, "Chest", 1 instance)'
    missing = [f"9.9.{i}" for i in range(6)]
    with pytest.raises(InputError) as err:
        select_instances(insts, sop_instance_uids=["1.2.5.1", *missing], spec_path=("sources",))
    assert err.value.message == (
        "6 of the requested SOP Instance UIDs are not among the sources: 9.9.0, 9.9.1, 9.9.2, 9.9.3, 9.9.4 ..."
    )
    assert err.value.path == ("sources", "sop_instance_uids")
    assert err.value.hint == "the sources hold: " + held
    with pytest.raises(InputError) as err:
        select_instances(insts, sop_instance_uids=missing[:5])
    assert err.value.message == (
        "5 of the requested SOP Instance UIDs are not among the sources: 9.9.0, 9.9.1, 9.9.2, 9.9.3, 9.9.4"
    )
    with pytest.raises(InputError) as err:  # selected by series first: the hint names what is left
        select_instances(insts, series_instance_uid="1.2.9", sop_instance_uids=["1.2.5.1"])
    assert err.value.message == "1 of the requested SOP Instance UIDs are not among the sources: 1.2.5.1"
    assert err.value.hint == "the sources hold: 1.2.9 (MR, 1 instance)"


def test_resolve_refusals_word_for_word():
    with pytest.raises(InputError) as err:
        resolve_single_series([], spec_path=("sources",))
    assert err.value.message == "the sources contain no images (no instances)"
    assert err.value.hint == "point 'sources.images' at the image series the object is derived from"
    assert err.value.path == ("sources",)
    with pytest.raises(InputError) as err:
        resolve_single_series([sr(1), sr(2)])
    assert err.value.message == 'the sources contain no images (1.2.7 (SR, "Chest", 2 instances))'
    with pytest.raises(InputError) as err:
        resolve_single_series([inst(1), sr(2), sr(3)], spec_path=("sources",))
    assert err.value.message == "some source files are not images (no Rows/Columns): /d/f2.dcm, /d/f3.dcm"
    assert err.value.hint == "select the image series with 'series_instance_uid:' or 'modality:'"
    assert err.value.path == ("sources",)
    with pytest.raises(InputError) as err:
        resolve_single_series([inst(1), inst(2, series="1.2.9", SeriesDescription=None)], spec_path=("s",))
    assert err.value.message == (
        'the sources contain 2 series where one is expected: 1.2.7 (CT, "Chest", 1 instance); 1.2.9 (CT, 1 instance)'
    )
    assert err.value.hint == "add 'series_instance_uid: <uid>' under 'sources' to pick one"
    assert err.value.path == ("s",)


def test_different_sizes_and_frames_of_reference_word_for_word():
    with pytest.raises(InputError) as err:
        resolve_single_series([inst(1, 0), inst(2, 1, Columns=4), inst(3, 2)], spec_path=("s",))
    assert err.value.message == ("source images have different Rows/Columns: 3x2: /d/f1.dcm, /d/f3.dcm; 3x4: /d/f2.dcm")
    assert err.value.hint == HINT_SAME and err.value.path == ("s",)
    with pytest.raises(InputError) as err:
        resolve_single_series([inst(1, 0), inst(2, 1, FrameOfReferenceUID=None), inst(3, 2)], spec_path=("s",))
    assert err.value.message == (
        "source images have different Frame of Reference UID: 1.2.8: /d/f1.dcm, /d/f3.dcm; None: /d/f2.dcm"
    )
    assert err.value.hint == HINT_SAME and err.value.path == ("s",)


def test_orientation_refusals_word_for_word():
    with pytest.raises(InputError) as err:
        resolve_single_series([inst(1, 0), inst(2, 1, ImageOrientationPatient=None), inst(3, 2)], spec_path=("s",))
    assert err.value.message == "some source frames have no Image Orientation (Patient): /d/f2.dcm"
    assert err.value.hint == (
        "a Segmentation's frames share one geometry: select the images that have one"
        " (sources.series_instance_uid, sources.sop_instance_uids)"
    )
    assert err.value.path == ("s",)
    tilted = ["1", "0", "0", "0", "0.99995", "0.01"]  # differs by 5e-5 and 1e-2
    with pytest.raises(InputError) as err:
        resolve_single_series([inst(1, 0), inst(2, 1, ImageOrientationPatient=tilted), inst(3, 2)], spec_path=("s",))
    assert err.value.message == (
        "source frames have different Image Orientation (Patient): /d/f1.dcm has [1, 0, 0, 0, 1, 0], "
        "/d/f2.dcm has [1, 0, 0, 0, 0.99995, 0.01] (1 frames differ: /d/f2.dcm)"
    )
    assert err.value.hint == ("a Segmentation needs source frames with one orientation; select one series or one stack")
    assert err.value.path == ("s",)


def test_orientation_tolerance_is_a_ten_thousandth():
    """Within 1e-4 (inclusive of a difference a little under it) one orientation; above it, two."""
    near = ["1", "0", "0", "0", "1", "0.00009"]
    s = resolve_single_series([inst(1, 0), inst(2, 1, ImageOrientationPatient=near)])
    assert len(s.frames) == 2
    far = ["1", "0", "0", "0", "1", "0.00011"]
    with pytest.raises(InputError):
        resolve_single_series([inst(1, 0), inst(2, 1, ImageOrientationPatient=far)])
    far_first = ["1.00011", "0", "0", "0", "1", "0"]
    with pytest.raises(InputError):
        resolve_single_series([inst(1, 0), inst(2, 1, ImageOrientationPatient=far_first)])


def test_series_without_orientation_at_all_is_resolved():
    s = resolve_single_series(stack([0, 1], ImageOrientationPatient=None))
    assert [f.image_orientation for f in s.frames] == [None, None]


def test_warnings_are_the_geometry_warnings():
    s = resolve_single_series(stack([0.0, 1.0, 2.0, 4.0]))
    assert s.warnings and any("gap" in w for w in s.warnings)


# ---- the lead's fourth-pass run of source_series (17 survivors): the cases below, by hand
def test_a_series_of_one_instance_describes_itself():
    """Every property reads the first instance and first frame: a one-file series has no second."""
    one = resolve_single_series([inst(1, SeriesDescription="Only")])
    assert (one.modality, one.study_instance_uid, one.frame_of_reference_uid) == ("CT", "1.2.6", "1.2.8")
    assert (one.series_description, one.rows, one.columns) == ("Only", 3, 2)
    assert SourceSeries("1.2.7", one.instances, one.frames).warnings == []  # its own list, not None


def test_two_frames_have_a_spacing():
    assert resolve_single_series(stack([1.0, 3.5])).slice_spacing() == 2.5


def test_series_are_compared_and_hashed_by_identity():
    """Caches key series by identity (a series read twice is two objects): equal fields do not make them
    one, and a series can be a dictionary key."""
    a = resolve_single_series(stack([0.0, 1.0]))
    b = SourceSeries(a.series_instance_uid, a.instances, a.frames, a.warnings)
    assert a != b and {a: 1, b: 2}[a] == 1
