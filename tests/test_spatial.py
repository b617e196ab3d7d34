"""Tests of dcmspec_compiler.spatial: Volume and the coordinate transformers."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest

from dcmspec_compiler.spatial.transforms import (
    ImageToReferenceTransformer,
    PixelToReferenceTransformer,
    ReferenceToImageTransformer,
    ReferenceToPixelTransformer,
    ReferenceToVolumeTransformer,
    VolumeToReferenceTransformer,
    frame_positions,
    plane_geometry,
)
from dcmspec_compiler.spatial.volume import Volume, affine_from_geometry

from conftest import shared


def _mr_series():
    """The oblique MR ADC series, sorted by InstanceNumber (file order differs)."""
    folder = shared("series", "mr_dcmqi_701-ADCb500")
    datasets = [pydicom.dcmread(p) for p in sorted(folder.iterdir())]
    return sorted(datasets, key=lambda ds: int(ds.InstanceNumber))


def _ipp(ds) -> np.ndarray:
    return np.array([float(v) for v in ds.ImagePositionPatient])


def _iop(ds) -> np.ndarray:
    return np.array([float(v) for v in ds.ImageOrientationPatient])


def _oblique_volume(shape=(4, 5, 6)) -> Volume:
    iop = np.array([0.999981, 0.00479144, 0.0038759, -0.00540165, 0.984755, 0.173861])
    normal = np.cross(iop[:3], iop[3:])
    affine = affine_from_geometry([-90.0, -108.0, -44.0], iop, [0.7, 0.8], normal * 3.0)
    array = np.arange(np.prod(shape)).reshape(shape)
    return Volume(array, affine, "1.2.3")


# ---------------------------------------------------------------------- Volume
def test_affine_columns_follow_the_documented_convention():
    iop = [0.0, 1.0, 0.0, 0.0, 0.0, -1.0]  # sagittal
    affine = affine_from_geometry([1.0, 2.0, 3.0], iop, [0.5, 0.25], [-2.0, 0.0, 0.0])
    np.testing.assert_allclose(affine[:3, 0], [-2.0, 0.0, 0.0])
    np.testing.assert_allclose(affine[:3, 1], [0.0, 0.0, -0.5])  # column direction x row spacing
    np.testing.assert_allclose(affine[:3, 2], [0.0, 0.25, 0.0])  # row direction x column spacing
    np.testing.assert_allclose(affine[:3, 3], [1.0, 2.0, 3.0])
    vol = Volume(np.zeros((2, 3, 4)), affine)
    np.testing.assert_allclose(vol.spacing, [2.0, 0.5, 0.25])
    np.testing.assert_allclose(vol.orientation, iop)
    np.testing.assert_allclose(vol.pixel_spacing, [0.5, 0.25])
    np.testing.assert_allclose(vol.normal, [-1.0, 0.0, 0.0])
    np.testing.assert_allclose(vol.index_to_reference([[1, 2, 3]]), [[1 - 2.0, 2 + 0.75, 3 - 1.0]])


def test_volume_from_real_oblique_series():
    datasets = _mr_series()
    positions = np.stack([_ipp(ds) for ds in datasets])
    iop = _iop(datasets[0])
    array = np.stack([ds.pixel_array for ds in datasets])
    vol = Volume.from_image_geometry(array, positions, iop, datasets[0].PixelSpacing, "1.2.3")
    assert vol.shape == (20, 256, 256)
    assert vol.frame_of_reference_uid == "1.2.3"
    # Every slice position reproduces the file's ImagePositionPatient (DS has 6 significant digits).
    np.testing.assert_allclose(vol.positions(), positions, atol=2e-3)
    np.testing.assert_allclose(vol.spacing, [2.9999, 0.7031, 0.7031], atol=1e-3)
    np.testing.assert_allclose(vol.orientation, iop, atol=1e-6)
    np.testing.assert_allclose(vol.normal, np.cross(iop[:3], iop[3:]) / np.linalg.norm(np.cross(iop[:3], iop[3:])))
    np.testing.assert_allclose(vol.direction[:, 0], vol.normal)  # slices advance along the normal
    # Voxel (5, 0, 0) is the first pixel of the 6th slice.
    np.testing.assert_allclose(vol.index_to_reference([[5, 0, 0]])[0], positions[5], atol=2e-3)
    # Pixel (row 10, column 20) of slice 3, computed by hand from PS3.3 C.7.6.2.1.1.
    expected = positions[3] + 20 * 0.7031 * iop[:3] + 10 * 0.7031 * iop[3:]
    np.testing.assert_allclose(vol.index_to_reference([[3, 10, 20]])[0], expected, atol=2e-3)


def test_unsorted_series_is_rejected_with_the_deviation_in_mm():
    folder = shared("series", "mr_dcmqi_701-ADCb500")
    datasets = [pydicom.dcmread(p, stop_before_pixels=True) for p in sorted(folder.iterdir())]
    positions = np.stack([_ipp(ds) for ds in datasets])  # file order: instance 6, 7 before 5
    with pytest.raises(ValueError, match=r"slice 6 lies 6 mm .*tolerance"):
        Volume.from_image_geometry(np.zeros((20, 2, 2)), positions, _iop(datasets[0]), [0.7031, 0.7031])


def test_off_normal_slices_are_rejected():
    positions = np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.5, 0.0, 2.0]])
    with pytest.raises(ValueError, match=r"slice 2 lies 0.5 mm"):
        Volume.from_image_geometry(np.zeros((3, 2, 2)), positions, [1, 0, 0, 0, 1, 0], [1.0, 1.0])


def test_reversed_slices_step_along_the_anti_normal():
    positions = np.array([[0.0, 0.0, 2.0], [0.0, 0.0, 0.0]])
    vol = Volume.from_image_geometry(np.zeros((2, 2, 2)), positions, [1, 0, 0, 0, 1, 0], [1.0, 1.0])
    np.testing.assert_allclose(vol.affine[:3, 0], [0.0, 0.0, -2.0])
    np.testing.assert_allclose(vol.normal, [0.0, 0.0, 1.0])
    np.testing.assert_allclose(vol.positions(), positions)


def test_single_slice_uses_slice_spacing():
    vol = Volume.from_image_geometry(
        np.zeros((1, 2, 2)), [[1.0, 2.0, 3.0]], [1, 0, 0, 0, 1, 0], [0.5, 0.5], slice_spacing=2.5
    )
    np.testing.assert_allclose(vol.affine[:3, 0], [0.0, 0.0, 2.5])


def test_index_reference_round_trip():
    vol = _oblique_volume()
    rng = np.random.default_rng(0)
    indices = rng.uniform(-3, 10, size=(50, 3))
    np.testing.assert_allclose(vol.reference_to_index(vol.index_to_reference(indices)), indices, atol=1e-9)


@pytest.mark.parametrize("axes", [(0,), (1,), (2,), (0, 2), (1, 2)])
def test_flip_keeps_every_voxel_in_place(axes):
    vol = _oblique_volume()
    flipped = vol.flip(*axes)
    k, r, c = np.meshgrid(*(np.arange(n) for n in vol.spatial_shape), indexing="ij")
    idx = np.stack([k.ravel(), r.ravel(), c.ravel()], axis=1)
    points = vol.index_to_reference(idx)
    new_idx = np.rint(flipped.reference_to_index(points)).astype(int)
    np.testing.assert_array_equal(flipped.array[tuple(new_idx.T)], vol.array[tuple(idx.T)])
    assert not flipped.match_geometry(vol)
    assert flipped.flip(*axes).match_geometry(vol, atol_mm=1e-9)
    np.testing.assert_array_equal(flipped.flip(*axes).array, vol.array)


@pytest.mark.parametrize("order", [(0, 2, 1), (2, 1, 0), (1, 2, 0)])
def test_permute_keeps_every_voxel_in_place(order):
    vol = _oblique_volume()
    permuted = vol.permute(order)
    assert permuted.spatial_shape == tuple(vol.spatial_shape[i] for i in order)
    rng = np.random.default_rng(1)
    idx = np.stack([rng.integers(0, n, 30) for n in vol.spatial_shape], axis=1)
    new_idx = np.rint(permuted.reference_to_index(vol.index_to_reference(idx))).astype(int)
    np.testing.assert_array_equal(new_idx, idx[:, list(order)])
    np.testing.assert_array_equal(permuted.array[tuple(new_idx.T)], vol.array[tuple(idx.T)])


def test_channels_stay_last_and_with_array_checks_shape():
    vol = Volume(np.zeros((2, 3, 4, 5)), np.eye(4))
    assert vol.spatial_shape == (2, 3, 4)
    assert vol.permute((2, 1, 0)).shape == (4, 3, 2, 5)
    assert vol.with_array(np.ones((2, 3, 4), bool)).array.dtype == bool
    with pytest.raises(ValueError, match="does not match spatial shape"):
        vol.with_array(np.zeros((2, 3, 5)))


def test_match_geometry_tolerance():
    vol = _oblique_volume()
    shifted_affine = vol.affine.copy()
    shifted_affine[:3, 3] += [0.0, 0.0, 0.002]
    shifted = Volume(vol.array, shifted_affine)
    assert shifted.geometry_distance(vol) == pytest.approx(0.002)
    assert shifted.match_geometry(vol, atol_mm=0.003)
    assert not shifted.match_geometry(vol, atol_mm=0.001)
    assert not Volume(np.zeros((4, 5, 7)), vol.affine).match_geometry(vol)


def test_volume_validation():
    with pytest.raises(ValueError, match="3D or 4D"):
        Volume(np.zeros((2, 2)), np.eye(4))
    with pytest.raises(ValueError, match="4x4"):
        Volume(np.zeros((2, 2, 2)), np.eye(3))
    singular = np.eye(4)
    singular[:3, 1] = singular[:3, 0]
    with pytest.raises(ValueError, match="singular"):
        Volume(np.zeros((2, 2, 2)), singular)
    bare = Volume(np.zeros((2, 2, 2)), None)
    assert not bare.has_geometry
    with pytest.raises(ValueError, match="no geometry"):
        bare.positions()
    assert bare.flip(1).array.shape == (2, 2, 2)


# ---------------------------------------------------------------------- plane transformers
def test_pixel_to_reference_on_real_oblique_frame():
    ds = _mr_series()[0]
    transform = PixelToReferenceTransformer.from_dataset(ds)
    iop = _iop(ds)
    np.testing.assert_allclose(transform([[0, 0]])[0], _ipp(ds))
    expected = _ipp(ds) + 255 * 0.7031 * iop[:3] + 7 * 0.7031 * iop[3:]
    np.testing.assert_allclose(transform([[255, 7]])[0], expected, atol=1e-9)
    # The 4x4 matrix sends (column, row, 0, 1) to the same point.
    np.testing.assert_allclose((transform.affine @ [255, 7, 0, 1])[:3], expected, atol=1e-9)


def test_plane_transformers_agree_with_highdicom():
    hd_spatial = pytest.importorskip("highdicom.spatial")
    ds = _mr_series()[4]
    args = (_ipp(ds), _iop(ds), [float(v) for v in ds.PixelSpacing])
    rng = np.random.default_rng(2)
    pixels = rng.integers(0, 256, size=(40, 2))
    coords = rng.uniform(0, 256, size=(40, 2))
    np.testing.assert_allclose(
        PixelToReferenceTransformer(*args)(pixels), hd_spatial.PixelToReferenceTransformer(*args)(pixels)
    )
    np.testing.assert_allclose(
        ImageToReferenceTransformer(*args)(coords), hd_spatial.ImageToReferenceTransformer(*args)(coords)
    )


def test_pixel_round_trip_and_inverse_affines():
    ds = _mr_series()[2]
    forward = PixelToReferenceTransformer.from_dataset(ds)
    backward = ReferenceToPixelTransformer.from_dataset(ds)
    pixels = np.array([[0, 0], [255, 0], [0, 255], [17, 200]])
    result = backward(forward(pixels))
    assert result.dtype == np.int64
    np.testing.assert_array_equal(result, pixels)
    np.testing.assert_allclose(forward.affine @ backward.affine, np.eye(4), atol=1e-12)


def test_reference_to_pixel_rejects_points_off_the_plane():
    series = _mr_series()
    backward = ReferenceToPixelTransformer.from_dataset(series[0])
    other_slice = PixelToReferenceTransformer.from_dataset(series[1])([[10, 10]])
    with pytest.raises(ValueError, match=r"point 0 lies 3 mm from the image plane \(tolerance 0.007031 mm\)"):
        backward(other_slice)
    np.testing.assert_allclose(backward.plane_distance(other_slice), [3.0], atol=2e-3)
    lenient = ReferenceToPixelTransformer.from_dataset(series[0], tolerance_mm=5.0)
    np.testing.assert_array_equal(lenient(other_slice), [[10, 10]])  # same in-plane grid


def test_image_coordinates_are_offset_by_half_a_pixel():
    ds = _mr_series()[0]
    to_ref = ImageToReferenceTransformer.from_dataset(ds)
    pixel = PixelToReferenceTransformer.from_dataset(ds)
    np.testing.assert_allclose(to_ref([[0.5, 0.5]]), [_ipp(ds)], atol=1e-9)
    np.testing.assert_allclose(to_ref([[3.5, 9.5]]), pixel([[3, 9]]), atol=1e-9)
    corner = to_ref([[0.0, 0.0]])[0]
    iop = _iop(ds)
    np.testing.assert_allclose(corner, _ipp(ds) - 0.5 * 0.7031 * (iop[:3] + iop[3:]), atol=1e-9)
    coords = np.array([[0.0, 0.0], [12.25, 100.75], [256.0, 256.0]])
    np.testing.assert_allclose(ReferenceToImageTransformer.from_dataset(ds)(to_ref(coords)), coords, atol=1e-9)


# ---------------------------------------------------------------------- datasets
def test_multiframe_geometry_matches_the_single_frame_series():
    mf = pydicom.dcmread(shared("enhanced", "dcmqi_23x38x3", "mf.dcm"))
    folder = shared("series", "ct_dcmqi_23x38x3")
    singles = [pydicom.dcmread(p) for p in sorted(folder.iterdir())]
    np.testing.assert_allclose(frame_positions(mf), np.stack([_ipp(ds) for ds in singles]))
    geometry = plane_geometry(mf, 2)
    np.testing.assert_allclose(geometry.position, _ipp(singles[1]))
    np.testing.assert_allclose(geometry.orientation, [1, 0, 0, 0, 1, 0])
    np.testing.assert_allclose(geometry.pixel_spacing, [0.7, 0.7])
    with pytest.raises(ValueError, match="give frame_number"):
        plane_geometry(mf)
    with pytest.raises(ValueError, match="out of range"):
        plane_geometry(mf, 4)
    np.testing.assert_allclose(PixelToReferenceTransformer.from_dataset(mf, 3)([[0, 0]])[0], _ipp(singles[2]))


def test_volume_transformers_from_datasets():
    mf = pydicom.dcmread(shared("enhanced", "dcmqi_23x38x3", "mf.dcm"))
    to_ref = VolumeToReferenceTransformer.from_dataset(mf)
    np.testing.assert_allclose(to_ref.affine[:3, 0], [0.0, 0.0, 2.5])
    np.testing.assert_allclose(to_ref([[2, 0, 0]])[0], [46.4649, 5.01881, -172.75])
    np.testing.assert_allclose(to_ref([[1, 37, 22]])[0], [46.4649 + 22 * 0.7, 5.01881 + 37 * 0.7, -175.25])
    back = ReferenceToVolumeTransformer(to_ref.affine)
    idx = np.array([[0.0, 0.0, 0.0], [2.0, 37.0, 22.0], [1.5, 3.25, 7.0]])
    np.testing.assert_allclose(back(to_ref(idx)), idx, atol=1e-9)
    single = VolumeToReferenceTransformer.from_dataset(mf, frame_number=2)
    np.testing.assert_allclose(single.affine[:3, 0], [0.0, 0.0, 2.5])  # SliceThickness
    np.testing.assert_allclose(single.affine[:3, 3], [46.4649, 5.01881, -175.25])
    vol = _oblique_volume()
    np.testing.assert_allclose(VolumeToReferenceTransformer.from_volume(vol).affine, vol.affine)


def test_enhanced_ct_shared_orientation_and_per_frame_positions():
    ds = pydicom.dcmread(shared("enhanced", "eCT_Supplemental.dcm"), stop_before_pixels=True)
    np.testing.assert_allclose(frame_positions(ds), [[99.5, -301.5, -159.0], [99.5, -301.5, -149.0]])
    geometry = plane_geometry(ds, 2)
    np.testing.assert_allclose(geometry.orientation, [-1, 0, 0, 0, 1, 0])
    np.testing.assert_allclose(geometry.pixel_spacing, [0.388672, 0.388672])


def test_tiled_full_slide_positions_agree_with_highdicom():
    hd_spatial = pytest.importorskip("highdicom.spatial")
    ds = pydicom.dcmread(shared("sm", "sm_image.dcm"))
    expected = np.array([item[4:7] for item in hd_spatial.iter_tiled_full_frame_data(ds)])
    ours = np.stack([plane_geometry(ds, i + 1).position for i in range(int(ds.NumberOfFrames))])
    np.testing.assert_allclose(ours, expected, atol=1e-9)
    total = plane_geometry(ds)
    np.testing.assert_allclose(total.position, [23.449873, 25.691574, 0.0])
    np.testing.assert_allclose(total.orientation, [0, -1, 0, -1, 0, 0])


def test_functional_group_lookup_per_frame_then_shared():
    """PS3.3 C.7.6.16: a frame's macro is in its Per-frame item, else in the Shared item; a frame without a
    Per-frame item (a short sequence) falls back to Shared instead of failing."""
    from pydicom.dataset import Dataset

    from dcmspec_compiler.iods.common.functional_groups import frame_group, frame_items

    def group(keyword: str, **values) -> Dataset:
        macro = Dataset()
        for k, v in values.items():
            setattr(macro, k, v)
        item = Dataset()
        setattr(item, keyword, [macro])
        return item

    ds = Dataset()
    ds.SharedFunctionalGroupsSequence = [group("PixelMeasuresSequence", PixelSpacing=[1, 1], SliceThickness=2)]
    ds.PerFrameFunctionalGroupsSequence = [group("PixelMeasuresSequence", PixelSpacing=[0.5, 0.5]), Dataset()]
    first, shared = frame_items(ds, 0)
    assert frame_group(first, shared, "PixelMeasuresSequence").PixelSpacing == [0.5, 0.5]
    assert frame_group(first, shared, "PixelMeasuresSequence", "SliceThickness").SliceThickness == 2
    second, _ = frame_items(ds, 1)
    assert frame_group(second, shared, "PixelMeasuresSequence").PixelSpacing == [1, 1]
    assert frame_items(ds, 2) == (None, shared) and frame_items(ds, None) == (None, shared)
    assert frame_group(None, None, "PixelMeasuresSequence") is None
    assert frame_group(first, shared, "PlanePositionSequence") is None
    assert frame_items(Dataset(), 0) == (None, None)
