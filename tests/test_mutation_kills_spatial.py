"""spatial/volume.py and spatial/transforms.py on made-up oblique geometry: highdicom's Volume and
transformers (as a second implementation of PS3.3 C.7.6.2.1.1) and values worked out by hand, every message
word for word (tests/MUTATION.md: the mutation run of these modules). No files are read: fast."""

from __future__ import annotations

import numpy as np
import pytest
from pydicom.dataset import Dataset

from dcmspec_compiler.spatial.transforms import (
    ImageToReferenceTransformer,
    PixelToReferenceTransformer,
    ReferenceToImageTransformer,
    ReferenceToPixelTransformer,
    ReferenceToVolumeTransformer,
    VolumeToReferenceTransformer,
    frame_positions,
    number_of_frames,
    plane_geometry,
)
from dcmspec_compiler.spatial.volume import Volume, affine_from_geometry, stack_affine

hd = pytest.importorskip("highdicom")
hd_spatial = pytest.importorskip("highdicom.spatial")

# an oblique plane: row direction (cos 30, sin 30, 0), column direction (0, 0, -1); normal = row x column
_C, _S = np.cos(np.pi / 6), np.sin(np.pi / 6)
IOP = np.array([_C, _S, 0.0, 0.0, 0.0, -1.0])
NORMAL = np.array([-_S, _C, 0.0])  # (c, s, 0) x (0, 0, -1) = (s*-1 - 0, 0 - c*-1, 0) = (-s, c, 0)
IPP = np.array([10.0, -20.0, 30.0])
SPACING = np.array([0.5, 0.25])  # row spacing (between rows), column spacing (between columns)


def _hd_volume(affine, shape=(3, 4, 5)):
    return hd.Volume(np.zeros(shape), affine, "PATIENT")


# ---------------------------------------------------------------------- volume.py
def test_affine_from_geometry_by_hand_and_by_highdicom():
    affine = affine_from_geometry(IPP, IOP, SPACING, NORMAL * 2.0)
    np.testing.assert_allclose(affine[:3, 0], NORMAL * 2.0)
    np.testing.assert_allclose(affine[:3, 1], [0.0, 0.0, -0.5])  # column direction * row spacing
    np.testing.assert_allclose(affine[:3, 2], [_C * 0.25, _S * 0.25, 0.0])  # row direction * column spacing
    np.testing.assert_allclose(affine[:3, 3], IPP)
    np.testing.assert_array_equal(affine[3], [0, 0, 0, 1])
    theirs = hd.Volume.from_attributes(
        array=np.zeros((3, 4, 5)),
        image_position=IPP.tolist(),
        image_orientation=IOP.tolist(),
        pixel_spacing=SPACING.tolist(),
        spacing_between_slices=2.0,
        coordinate_system="PATIENT",
    )
    # highdicom steps along its own slice direction here; the in-plane columns and the position are PS3.3's
    np.testing.assert_allclose(affine[:, 1:], theirs.affine[:, 1:], atol=1e-12)


def test_stack_affine_even_reversed_single_and_refused():
    positions = IPP + np.arange(4)[:, None] * NORMAL * 1.5
    np.testing.assert_allclose(
        stack_affine(positions, IOP, SPACING), affine_from_geometry(IPP, IOP, SPACING, NORMAL * 1.5)
    )
    reversed_ = stack_affine(positions[::-1], IOP, SPACING)
    np.testing.assert_allclose(reversed_[:3, 0], -NORMAL * 1.5)
    np.testing.assert_allclose(reversed_[:3, 3], positions[-1])
    np.testing.assert_allclose(stack_affine(IPP, IOP, SPACING)[:3, 0], NORMAL)  # one plane: 1 mm
    np.testing.assert_allclose(stack_affine([IPP], IOP, SPACING, slice_spacing=3.0)[:3, 0], NORMAL * 3.0)
    with pytest.raises(ValueError, match=r"^no slice positions given$"):
        stack_affine(np.zeros((0, 3)), IOP, SPACING)
    with pytest.raises(ValueError, match=r"^the first and last slices lie at the same position along the normal$"):
        stack_affine([IPP, IPP + NORMAL, IPP], IOP, SPACING)
    with pytest.raises(ValueError, match=r"^zero-length direction vector$"):
        stack_affine([IPP, IPP + 1], [1, 0, 0, 1, 0, 0], SPACING)
    uneven = positions.copy()
    uneven[2] += NORMAL * 0.5  # 0.5 mm from where an even stack puts slice 2; default tolerance 0.0025 mm
    with pytest.raises(ValueError) as info:
        stack_affine(uneven, IOP, SPACING)
    assert str(info.value) == (
        "slices are not evenly spaced along the image normal: slice 2 lies 0.5 mm from where an even stack"
        " would put it (tolerance 0.0025 mm)"
    )
    np.testing.assert_allclose(stack_affine(uneven, IOP, SPACING, tolerance_mm=0.6)[:3, 0], NORMAL * 1.5)
    # the first and last 0.002 mm apart: within the default tolerance of 0.0025 mm, the same position
    with pytest.raises(ValueError, match="same position"):
        stack_affine([IPP, IPP + NORMAL * 0.002], IOP, SPACING)
    np.testing.assert_allclose(stack_affine([IPP, IPP + NORMAL * 0.003], IOP, SPACING)[:3, 0], NORMAL * 0.003)


def test_volume_properties_against_highdicom():
    affine = affine_from_geometry(IPP, IOP, SPACING, NORMAL * 2.0)
    ours = Volume(np.zeros((3, 4, 5)), affine, "1.2.3")
    theirs = _hd_volume(affine)
    np.testing.assert_allclose(ours.spacing, theirs.spacing)
    np.testing.assert_allclose(ours.spacing, [2.0, 0.5, 0.25])
    np.testing.assert_allclose(ours.direction, theirs.direction, atol=1e-12)
    np.testing.assert_allclose(ours.position, theirs.position)
    np.testing.assert_allclose(ours.pixel_spacing, theirs.pixel_spacing)
    np.testing.assert_allclose(ours.orientation, theirs.get_plane_orientation()[0].ImageOrientationPatient, atol=1e-12)
    np.testing.assert_allclose(ours.orientation, IOP, atol=1e-12)
    np.testing.assert_allclose(ours.normal, NORMAL, atol=1e-12)
    np.testing.assert_allclose(
        ours.positions(), [p[0].ImagePositionPatient for p in theirs.get_plane_positions()], atol=1e-9
    )
    idx = np.array([[0, 0, 0], [2, 3, 4], [1.5, 0.25, 2.0]])
    np.testing.assert_allclose(ours.index_to_reference(idx), theirs.map_indices_to_reference(idx), atol=1e-9)
    np.testing.assert_allclose(ours.reference_to_index(ours.index_to_reference(idx)), idx, atol=1e-9)
    corners = ours.corners()
    assert corners.shape == (8, 3)
    np.testing.assert_allclose(corners[0], IPP)
    np.testing.assert_allclose(corners[7], ours.index_to_reference([[2, 3, 4]])[0])
    np.testing.assert_allclose(corners[1], ours.index_to_reference([[0, 0, 4]])[0])
    np.testing.assert_allclose(corners[2], ours.index_to_reference([[0, 3, 0]])[0])
    np.testing.assert_allclose(corners[4], ours.index_to_reference([[2, 0, 0]])[0])
    assert ours.shape == (3, 4, 5) and ours.spatial_shape == (3, 4, 5) and ours.has_geometry
    assert repr(ours) == "Volume(shape=(3, 4, 5), dtype=float64, position=[10.0, -20.0, 30.0])"
    bare = Volume(np.zeros((2, 2, 2, 3), np.uint8), None)
    assert repr(bare) == "Volume(shape=(2, 2, 2, 3), dtype=uint8, no geometry)" and not bare.has_geometry
    assert bare.spatial_shape == (2, 2, 2)
    for name in ("spacing", "direction", "position", "orientation", "normal", "pixel_spacing"):
        with pytest.raises(ValueError, match=r"^this volume has no geometry \(affine is None\)$"):
            getattr(bare, name)
    with pytest.raises(ValueError, match="no geometry"):
        bare.positions()


@pytest.mark.parametrize("axes", [(0,), (1,), (2,), (0, 2), (1, 2, 0)])
def test_flip_against_highdicom(axes):
    affine = affine_from_geometry(IPP, IOP, SPACING, NORMAL * 2.0)
    array = np.arange(60).reshape(3, 4, 5)
    ours = Volume(array, affine).flip(*axes)
    theirs = hd.Volume(array, affine, "PATIENT").flip_spatial(axes)
    np.testing.assert_array_equal(ours.array, theirs.array)
    np.testing.assert_allclose(ours.affine, theirs.affine, atol=1e-9)
    assert Volume(array, None).flip(*axes).affine is None


@pytest.mark.parametrize("order", [(0, 1, 2), (2, 0, 1), (1, 0, 2), (0, 2, 1)])
def test_permute_against_highdicom(order):
    affine = affine_from_geometry(IPP, IOP, SPACING, NORMAL * 2.0)
    array = np.arange(60 * 2).reshape(3, 4, 5, 2)
    ours = Volume(array, affine).permute(order)
    theirs = hd.Volume(array[..., 0], affine, "PATIENT").permute_spatial_axes(order)
    np.testing.assert_array_equal(ours.array[..., 0], theirs.array)
    assert ours.array.shape[3] == 2  # channels stay last
    np.testing.assert_allclose(ours.affine, theirs.affine, atol=1e-9)


def test_volume_refusals_word_for_word():
    good = affine_from_geometry(IPP, IOP, SPACING, NORMAL)
    cases = [
        (np.zeros((2, 2)), good, r"a volume needs a 3D or 4D array, got shape \(2, 2\)"),
        (np.zeros((1, 1, 1, 1, 1)), good, r"a volume needs a 3D or 4D array, got shape \(1, 1, 1, 1, 1\)"),
        (np.zeros((2, 2, 2)), np.eye(3), r"affine must be 4x4, got shape \(3, 3\)"),
        (np.zeros((2, 2, 2)), np.where(np.eye(4) == 1, np.inf, 0.0), "affine contains non-finite values"),
        (np.zeros((2, 2, 2)), np.where(np.eye(4) == 1, np.nan, 0.0), "affine contains non-finite values"),
        (np.zeros((2, 2, 2)), np.diag([1.0, 1.0, 1.0, 2.0]), r"the last row of the affine must be \(0, 0, 0, 1\)"),
        (np.zeros((2, 2, 2)), np.diag([1.0, 1.0, 0.0, 1.0]), "affine is singular: two axes are parallel or an axis"),
    ]
    for array, affine, message in cases:
        with pytest.raises(ValueError, match=r"^" + message):
            Volume(array, affine)
    Volume(np.zeros((2, 2, 2)), np.diag([1e-4, 1e-4, 1e-4, 1.0]))  # det just above 1e-12: not singular
    with pytest.raises(ValueError, match="singular"):
        Volume(np.zeros((2, 2, 2)), np.diag([1e-4, 1e-4, 0.99e-4, 1.0]))
    vol = Volume(np.zeros((3, 4, 5)), good)
    with pytest.raises(ValueError, match=r"^array shape \(3, 4, 6\) does not match spatial shape \(3, 4, 5\)$"):
        vol.with_array(np.zeros((3, 4, 6)))
    other = vol.with_array(np.ones((3, 4, 5, 2)))
    np.testing.assert_array_equal(other.affine, vol.affine)
    assert other.frame_of_reference_uid == vol.frame_of_reference_uid and other.array.shape == (3, 4, 5, 2)
    for axis in (3, -1):
        with pytest.raises(ValueError, match=rf"^spatial axis must be 0, 1 or 2, got {axis}$"):
            vol.flip(axis)
    with pytest.raises(ValueError, match=r"^order must be a permutation of \(0, 1, 2\), got \(0, 0, 1\)$"):
        vol.permute((0, 0, 1))
    with pytest.raises(ValueError, match=r"^array of shape \(2, 4, 5\) does not have one slice per position \(3\)$"):
        Volume.from_image_geometry(np.zeros((2, 4, 5)), [IPP, IPP + NORMAL, IPP + 2 * NORMAL], IOP, SPACING)
    with pytest.raises(ValueError, match=r"one slice per position \(1\)"):
        Volume.from_image_geometry(np.zeros((4, 5)), [IPP], IOP, SPACING)


def test_from_image_geometry_and_match_geometry():
    positions = [IPP, IPP + 2 * NORMAL, IPP + 4 * NORMAL]
    vol = Volume.from_image_geometry(np.zeros((3, 4, 5)), positions, IOP, SPACING, "1.2", tolerance_mm=0.1)
    assert vol.frame_of_reference_uid == "1.2"
    np.testing.assert_allclose(vol.affine, affine_from_geometry(IPP, IOP, SPACING, 2 * NORMAL))
    one = Volume.from_image_geometry(np.zeros((1, 4, 5)), [IPP], IOP, SPACING, slice_spacing=5.0)
    np.testing.assert_allclose(one.affine[:3, 0], 5 * NORMAL)
    shifted = Volume(vol.array, vol.affine + np.pad(np.full((3, 1), 0.0006), ((0, 1), (3, 0))))
    # every voxel moved by (0.0006, 0.0006, 0.0006): 0.00104 mm
    assert vol.geometry_distance(shifted) == pytest.approx(0.0006 * np.sqrt(3))
    assert vol.match_geometry(shifted) is False  # more than the default 0.001 mm
    assert vol.match_geometry(shifted, atol_mm=0.0011) is True
    assert vol.match_geometry(vol) is True and vol.geometry_distance(vol) == 0.0
    assert vol.match_geometry(Volume(vol.array, None)) is False
    assert Volume(vol.array, None).match_geometry(vol) is False
    assert vol.match_geometry(Volume(np.zeros((3, 4, 6)), vol.affine)) is False
    with pytest.raises(ValueError, match=r"^spatial shapes differ: \(3, 4, 5\) vs \(3, 5, 4\)$"):
        vol.geometry_distance(Volume(np.zeros((3, 5, 4)), vol.affine))
    # the largest distance is at a corner: a rotation about the first voxel moves the far corner most
    turned = vol.permute((0, 1, 2))
    turned.affine[:3, 2] = vol.affine[:3, 2] * 1.01  # columns 1% longer: corner (.., 4) moves 4 * 0.0025 mm
    assert vol.geometry_distance(turned) == pytest.approx(4 * 0.25 * 0.01)


# ---------------------------------------------------------------------- transforms.py
def test_plane_transformers_against_highdicom_and_by_hand():
    args = (IPP.tolist(), IOP.tolist(), SPACING.tolist())
    pixels = np.array([[0, 0], [4, 0], [0, 3], [7, 11]])
    ours = PixelToReferenceTransformer(*args)(pixels)
    np.testing.assert_allclose(ours, hd_spatial.PixelToReferenceTransformer(*args)(pixels), atol=1e-9)
    # pixel (column 4, row 0): 4 columns along the row direction, 0.25 mm each
    np.testing.assert_allclose(ours[1], IPP + 4 * 0.25 * IOP[:3])
    np.testing.assert_allclose(ours[2], IPP + 3 * 0.5 * IOP[3:])
    back = ReferenceToPixelTransformer(*args)
    np.testing.assert_array_equal(back(ours), pixels)
    np.testing.assert_array_equal(back(ours), hd_spatial.ReferenceToPixelTransformer(*args)(ours)[:, :2])
    assert back(ours).dtype == np.int64
    np.testing.assert_array_equal(back(IPP + 0.4 * 0.25 * IOP[:3] + 0.6 * 0.5 * IOP[3:]), [[0, 1]])  # nearest
    coords = np.array([[0.0, 0.0], [0.5, 0.5], [4.25, 3.75]])
    image = ImageToReferenceTransformer(*args)(coords)
    np.testing.assert_allclose(image, hd_spatial.ImageToReferenceTransformer(*args)(coords), atol=1e-9)
    np.testing.assert_allclose(image[1], IPP)  # (0.5, 0.5) is the centre of the first pixel
    np.testing.assert_allclose(image[0], IPP - 0.5 * 0.25 * IOP[:3] - 0.5 * 0.5 * IOP[3:])
    to_image = ReferenceToImageTransformer(*args)
    np.testing.assert_allclose(to_image(image), coords, atol=1e-9)
    np.testing.assert_allclose(to_image(image), hd_spatial.ReferenceToImageTransformer(*args)(image)[:, :2], atol=1e-9)
    # affines: forward and backward are inverse, the image ones offset by half a pixel
    np.testing.assert_allclose(PixelToReferenceTransformer(*args).affine @ back.affine, np.eye(4), atol=1e-12)
    np.testing.assert_allclose(ImageToReferenceTransformer(*args).affine @ to_image.affine, np.eye(4), atol=1e-12)
    np.testing.assert_allclose(
        ImageToReferenceTransformer(*args).affine[:3, 3], IPP - 0.125 * IOP[:3] - 0.25 * IOP[3:], atol=1e-12
    )
    # the third column of the plane affines is the unit normal: (c, r, d) is d mm off the plane
    np.testing.assert_allclose(ImageToReferenceTransformer(*args).affine[:3, 2], NORMAL, atol=1e-12)
    np.testing.assert_allclose(PixelToReferenceTransformer(*args).affine[:3, 2], NORMAL, atol=1e-12)
    off = np.append(IPP + 2.0 * NORMAL, 1.0)
    np.testing.assert_allclose((to_image.affine @ off)[:3], [0.5, 0.5, 2.0], atol=1e-12)
    np.testing.assert_allclose((back.affine @ off)[:3], [0.0, 0.0, 2.0], atol=1e-12)
    # a transformer's affine is a copy
    t = PixelToReferenceTransformer(*args)
    t.affine[0, 0] = 99.0
    assert t.affine[0, 0] != 99.0


def test_points_off_the_plane_tolerance_and_shapes():
    args = (IPP, IOP, SPACING)
    back = ReferenceToPixelTransformer(*args)
    assert back.tolerance_mm == pytest.approx(0.0025)  # 1% of the smaller pixel spacing
    near = IPP + 0.002 * NORMAL
    np.testing.assert_array_equal(back(near), [[0, 0]])
    far = np.array([IPP, IPP + 0.003 * NORMAL, IPP - 0.5 * NORMAL])
    with pytest.raises(ValueError) as info:
        back(far)
    assert str(info.value) == "point 2 lies 0.5 mm from the image plane (tolerance 0.0025 mm)"
    with pytest.raises(ValueError, match=r"^point 1 lies 0.003 mm from the image plane \(tolerance 0.0025 mm\)$"):
        ReferenceToImageTransformer(*args)(far[:2])
    np.testing.assert_allclose(back.plane_distance(far), [0.0, 0.003, -0.5], atol=1e-12)
    lenient = ReferenceToImageTransformer(*args, tolerance_mm=1.0)
    assert lenient.tolerance_mm == 1.0
    np.testing.assert_allclose(lenient(far), [[0.5, 0.5]] * 3, atol=1e-9)
    assert back(np.zeros((0, 3))).shape == (0, 2)
    for bad in ([1.0, 2.0], np.zeros((2, 2)), np.zeros((1, 1, 3))):
        with pytest.raises(ValueError, match=r"^points must be an \(N, 3\) array, got shape"):
            back(bad)
    with pytest.raises(ValueError, match=r"^indices must be an \(N, 2\) array, got shape \(3,\)$"):
        PixelToReferenceTransformer(*args)([1, 2, 3])
    with pytest.raises(ValueError, match=r"^coordinates must be an \(N, 2\) array, got shape \(1, 3\)$"):
        ImageToReferenceTransformer(*args)([[1, 2, 3]])
    for spacing in ([0.0, 1.0], [1.0, -1.0]):
        with pytest.raises(ValueError, match=r"^pixel spacing must be positive, got \["):
            PixelToReferenceTransformer(IPP, IOP, spacing)


def _frame_item(position=None, orientation=None, spacing=None, thickness=None) -> Dataset:
    item = Dataset()
    if position is not None:
        pos = Dataset()
        pos.ImagePositionPatient = list(position)
        item.PlanePositionSequence = [pos]
    if orientation is not None:
        ori = Dataset()
        ori.ImageOrientationPatient = list(orientation)
        item.PlaneOrientationSequence = [ori]
    if spacing is not None or thickness is not None:
        px = Dataset()
        if spacing is not None:
            px.PixelSpacing = list(spacing)
        if thickness is not None:
            px.SliceThickness = thickness
        item.PixelMeasuresSequence = [px]
    return item


def _multiframe(n=3, step=2.0, thickness=None) -> Dataset:
    ds = Dataset()
    ds.NumberOfFrames = n
    ds.SharedFunctionalGroupsSequence = [_frame_item(orientation=IOP.round(12), spacing=SPACING, thickness=thickness)]
    ds.PerFrameFunctionalGroupsSequence = [_frame_item(position=IPP + i * step * NORMAL) for i in range(n)]
    return ds


def test_geometry_of_multiframe_and_single_frame_datasets():
    ds = _multiframe()
    assert number_of_frames(ds) == 3
    np.testing.assert_allclose(frame_positions(ds), [IPP + i * 2 * NORMAL for i in range(3)], atol=1e-9)
    g = plane_geometry(ds, 3)
    np.testing.assert_allclose(g.position, IPP + 4 * NORMAL, atol=1e-9)
    np.testing.assert_allclose(g.orientation, IOP, atol=1e-12)
    np.testing.assert_allclose(g.pixel_spacing, SPACING)
    for n in (0, 4):
        with pytest.raises(ValueError, match=rf"^frame_number {n} is out of range 1..3$"):
            plane_geometry(ds, n)
    with pytest.raises(ValueError, match=r"^this multi-frame image has a position per frame: give frame_number$"):
        plane_geometry(ds)
    np.testing.assert_allclose(
        PixelToReferenceTransformer.from_dataset(ds, 2)([[0, 0]])[0], IPP + 2 * NORMAL, atol=1e-9
    )
    one = _multiframe(n=1)
    np.testing.assert_allclose(plane_geometry(one).position, IPP, atol=1e-9)  # one frame: no number needed
    single = Dataset()
    single.ImagePositionPatient = list(IPP)
    single.ImageOrientationPatient = list(IOP.round(12))
    single.PixelSpacing = list(SPACING)
    assert number_of_frames(single) == 1
    np.testing.assert_allclose(plane_geometry(single).position, IPP)
    del single.PixelSpacing
    with pytest.raises(ValueError, match=r"^the dataset has no PixelSpacing$"):
        plane_geometry(single)
    single.PixelSpacing = [0.5, 0.5, 0.5]
    with pytest.raises(ValueError, match=r"^PixelSpacing must have 2 values, got 3$"):
        plane_geometry(single)
    empty = Dataset()
    empty.NumberOfFrames = None
    assert number_of_frames(empty) == 1


def test_volume_transformers_from_datasets_by_hand():
    ds = _multiframe(step=2.0, thickness=7.0)
    to_ref = VolumeToReferenceTransformer.from_dataset(ds)
    np.testing.assert_allclose(to_ref.affine[:3, 0], 2.0 * NORMAL, atol=1e-9)  # the frames' step, not 7
    np.testing.assert_allclose(to_ref([[2, 3, 4]])[0], IPP + 4 * NORMAL + 3 * 0.5 * IOP[3:] + 4 * 0.25 * IOP[:3])
    back = ReferenceToVolumeTransformer(to_ref.affine)
    idx = np.array([[0.0, 0.0, 0.0], [2.0, 3.0, 4.0], [0.5, 1.25, 3.5]])
    np.testing.assert_allclose(back(to_ref(idx)), idx, atol=1e-9)
    np.testing.assert_allclose(back.affine @ to_ref.affine, np.eye(4), atol=1e-12)
    # one frame steps SpacingBetweenSlices, else SliceThickness, else 1 mm along the normal
    single = VolumeToReferenceTransformer.from_dataset(ds, frame_number=2)
    np.testing.assert_allclose(single.affine[:3, 0], 7.0 * NORMAL, atol=1e-9)
    np.testing.assert_allclose(single.affine[:3, 3], IPP + 2 * NORMAL, atol=1e-9)
    ds.SpacingBetweenSlices = 3.0
    np.testing.assert_allclose(VolumeToReferenceTransformer.from_dataset(ds, 1).affine[:3, 0], 3.0 * NORMAL, atol=1e-9)
    plain = _multiframe(step=2.0)
    np.testing.assert_allclose(VolumeToReferenceTransformer.from_dataset(plain, 1).affine[:3, 0], NORMAL, atol=1e-9)
    one = _multiframe(n=1, thickness=4.0)
    np.testing.assert_allclose(VolumeToReferenceTransformer.from_dataset(one).affine[:3, 0], 4.0 * NORMAL, atol=1e-9)
    uneven = _multiframe(step=2.0)
    uneven.PerFrameFunctionalGroupsSequence[2].PlanePositionSequence[0].ImagePositionPatient = list(IPP + 5 * NORMAL)
    with pytest.raises(ValueError, match="not evenly spaced"):
        VolumeToReferenceTransformer.from_dataset(uneven)
    vol = Volume(np.zeros((2, 2, 2)), to_ref.affine)
    np.testing.assert_allclose(VolumeToReferenceTransformer.from_volume(vol).affine, vol.affine)
    with pytest.raises(ValueError, match=r"^this volume has no geometry \(affine is None\)$"):
        VolumeToReferenceTransformer.from_volume(Volume(np.zeros((2, 2, 2)), None))
    with pytest.raises(ValueError, match=r"^indices must be an \(N, 3\) array"):
        to_ref([[1, 2]])
    with pytest.raises(ValueError, match=r"^points must be an \(N, 3\) array"):
        back([[1, 2]])


def _slide(tiled_full: bool, z_origin=None, per_frame=None) -> Dataset:
    """A whole slide image of 2 x 3 tiles of 4 rows x 5 columns (total 7 x 13: the last tiles partial)."""
    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.77.1.6"  # VL Whole Slide Microscopy Image Storage
    ds.ImageOrientationSlide = [0, -1, 0, -1, 0, 0]
    origin = Dataset()
    origin.XOffsetInSlideCoordinateSystem = 20.0
    origin.YOffsetInSlideCoordinateSystem = 30.0
    if z_origin is not None:
        origin.ZOffsetInSlideCoordinateSystem = z_origin
    ds.TotalPixelMatrixOriginSequence = [origin]
    ds.Rows, ds.Columns = 4, 5
    ds.TotalPixelMatrixRows, ds.TotalPixelMatrixColumns = 7, 13
    ds.NumberOfFrames = 6
    ds.SharedFunctionalGroupsSequence = [_frame_item(spacing=[0.002, 0.001])]
    if tiled_full:
        ds.DimensionOrganizationType = "TILED_FULL"
    if per_frame is not None:
        items = []
        for values in per_frame:
            pos = Dataset()
            for key, v in zip(("X", "Y", "Z"), values):
                setattr(pos, f"{key}OffsetInSlideCoordinateSystem", v)
            item = Dataset()
            item.PlanePositionSlideSequence = [pos]
            items.append(item)
        ds.PerFrameFunctionalGroupsSequence = items
    return ds


def test_slide_geometry_by_hand():
    ds = _slide(tiled_full=True)
    total = plane_geometry(ds)
    np.testing.assert_allclose(total.position, [20.0, 30.0, 0.0])
    np.testing.assert_allclose(total.orientation, [0, -1, 0, -1, 0, 0])
    np.testing.assert_allclose(total.pixel_spacing, [0.002, 0.001])
    # TILED_FULL: 3 tiles across (13 / 5 rounded up), 2 down; tile 5 (frame 6) is row 1, column 2: 2 * 5
    # columns along the row direction (0, -1, 0) at 0.001 mm, 1 * 4 rows along the column direction
    # (-1, 0, 0) at 0.002 mm
    expected = {
        1: [20.0, 30.0, 0.0],
        2: [20.0, 30.0 - 0.005, 0.0],
        3: [20.0, 30.0 - 0.010, 0.0],
        4: [20.0 - 0.008, 30.0, 0.0],
        6: [20.0 - 0.008, 30.0 - 0.010, 0.0],
    }
    for frame, position in expected.items():
        np.testing.assert_allclose(plane_geometry(ds, frame).position, position, atol=1e-12)
    np.testing.assert_allclose(frame_positions(ds)[4], [20.0 - 0.008, 30.0 - 0.005, 0.0], atol=1e-12)
    np.testing.assert_allclose(plane_geometry(_slide(True, z_origin=2.5)).position, [20.0, 30.0, 2.5])
    ds.NumberOfFrames = 12  # a second focal plane repeats the tiles
    np.testing.assert_allclose(plane_geometry(ds, 12).position, expected[6], atol=1e-12)
    with pytest.raises(ValueError, match=r"^frame 2 has no PlanePositionSlideSequence$"):
        plane_geometry(_slide(tiled_full=False), 2)
    per_frame = _slide(False, per_frame=[(1.0, 2.0), (3.0, 4.0, 0.5)] * 3)
    np.testing.assert_allclose(plane_geometry(per_frame, 1).position, [1.0, 2.0, 0.0])  # no Z offset: 0
    np.testing.assert_allclose(plane_geometry(per_frame, 2).position, [3.0, 4.0, 0.5])
    to_ref = PixelToReferenceTransformer.from_dataset(per_frame, 2)
    np.testing.assert_allclose(to_ref([[1, 2]])[0], [3.0 - 2 * 0.002, 4.0 - 0.001, 0.5], atol=1e-12)
    slide = _slide(tiled_full=True)  # what highdicom reads besides the geometry
    path = Dataset()
    path.OpticalPathIdentifier = "1"
    slide.OpticalPathSequence = [path]
    slide.NumberOfOpticalPaths = 1
    slide.TotalPixelMatrixFocalPlanes = 1
    np.testing.assert_allclose(
        [item[4:7] for item in hd_spatial.iter_tiled_full_frame_data(slide)],
        [plane_geometry(_slide(tiled_full=True), i + 1).position for i in range(6)],
        atol=1e-12,
    )


def test_shared_groups_only_unnormalised_cosines_and_slide_orientation_count():
    # every macro in the Shared Functional Groups (one frame): read from there, not from the top level
    ds = Dataset()
    ds.NumberOfFrames = 1
    ds.SharedFunctionalGroupsSequence = [_frame_item(position=IPP, orientation=IOP.round(12), spacing=SPACING)]
    np.testing.assert_allclose(plane_geometry(ds).position, IPP)
    np.testing.assert_allclose(plane_geometry(ds, 1).pixel_spacing, SPACING)
    # cosines of length 2: the slice step is the UNIT normal times Slice Thickness (3 mm)
    single = Dataset()
    single.ImagePositionPatient = [0, 0, 0]
    single.ImageOrientationPatient = [2, 0, 0, 0, 2, 0]
    single.PixelSpacing = [1, 1]
    single.SliceThickness = 3
    np.testing.assert_allclose(VolumeToReferenceTransformer.from_dataset(single).affine[:3, 0], [0, 0, 3])
    slide = _slide(tiled_full=True)
    slide.ImageOrientationSlide = [0, -1, 0, -1, 0]
    with pytest.raises(ValueError, match=r"^ImageOrientationSlide must have 6 values, got 5$"):
        plane_geometry(slide)
    slide = _slide(tiled_full=True)
    del slide.SharedFunctionalGroupsSequence
    with pytest.raises(ValueError, match=r"^the dataset has no PixelSpacing$"):
        plane_geometry(slide)


def test_per_frame_groups_only_and_more_messages():
    ds = Dataset()
    ds.NumberOfFrames = 2
    ds.PerFrameFunctionalGroupsSequence = [
        _frame_item(position=IPP + i * NORMAL, orientation=IOP.round(12), spacing=SPACING) for i in range(2)
    ]
    np.testing.assert_allclose(plane_geometry(ds, 2).position, IPP + NORMAL, atol=1e-9)
    ds.PerFrameFunctionalGroupsSequence[1].PlaneOrientationSequence[0].ImageOrientationPatient = [1, 0, 0, 0, 1]
    with pytest.raises(ValueError, match=r"^ImageOrientationPatient must have 6 values, got 5$"):
        plane_geometry(ds, 2)
    with pytest.raises(ValueError, match=r"^points must be an \(N, 3\) array, got shape \(1, 2\)$"):
        ReferenceToPixelTransformer(IPP, IOP, SPACING).plane_distance([[1, 2]])
    # cosines of length 2 (unnormalised): the plane affine's third column is still the unit normal
    wide = PixelToReferenceTransformer([0, 0, 0], [2, 0, 0, 0, 2, 0], [1, 1])
    np.testing.assert_allclose(wide.affine[:3, 2], [0, 0, 1])
    np.testing.assert_allclose(wide([[1, 1]])[0], [2, 2, 0])


def test_volume_of_frames_takes_the_first_frames_plane_and_single_frame_messages():
    ds = Dataset()
    ds.NumberOfFrames = 2
    ds.PerFrameFunctionalGroupsSequence = [
        _frame_item(position=IPP + i * NORMAL, orientation=IOP.round(12), spacing=SPACING * (1 + i)) for i in range(2)
    ]
    affine = VolumeToReferenceTransformer.from_dataset(ds).affine
    np.testing.assert_allclose(affine, affine_from_geometry(IPP, IOP, SPACING, NORMAL), atol=1e-9)
    single = Dataset()
    single.ImagePositionPatient = [0, 0, 0]
    single.ImageOrientationPatient = [1, 0, 0, 0, 1]
    single.PixelSpacing = [1, 1]
    with pytest.raises(ValueError, match=r"^ImageOrientationPatient must have 6 values, got 5$"):
        plane_geometry(single)
    del single.ImagePositionPatient
    with pytest.raises(ValueError, match=r"^the dataset has no ImagePositionPatient$"):
        plane_geometry(single)


def test_slide_needs_both_slide_attributes_and_frames_need_positions():
    # an image in the patient coordinate system with one of the two slide attributes is not a slide
    for keyword in ("ImageOrientationSlide", "TotalPixelMatrixOriginSequence"):
        ds = Dataset()
        ds.ImagePositionPatient = list(IPP)
        ds.ImageOrientationPatient = list(IOP.round(12))
        ds.PixelSpacing = list(SPACING)
        if keyword == "ImageOrientationSlide":
            ds.ImageOrientationSlide = [0, -1, 0, -1, 0, 0]
        else:
            ds.TotalPixelMatrixOriginSequence = [Dataset()]
        np.testing.assert_allclose(plane_geometry(ds).position, IPP)
    ds = _multiframe()
    del ds.PerFrameFunctionalGroupsSequence[1].PlanePositionSequence
    with pytest.raises(ValueError, match=r"^the dataset has no ImagePositionPatient$"):
        plane_geometry(ds, 2)


def test_tolerances_are_inclusive():
    # a deviation of exactly the tolerance (0.5 mm, binary exact) is still an even stack
    iop = [1, 0, 0, 0, 1, 0]
    np.testing.assert_allclose(
        stack_affine([[0, 0, 0], [0, 0, 1.5], [0, 0, 2]], iop, [1, 1], tolerance_mm=0.5)[2, 0], 1
    )
    with pytest.raises(ValueError, match="not evenly spaced"):
        stack_affine([[0, 0, 0], [0, 0, 1.5], [0, 0, 2]], iop, [1, 1], tolerance_mm=0.25)
    # voxel centres exactly atol_mm apart match
    vol = Volume(np.zeros((2, 2, 2)), np.eye(4))
    moved = Volume(np.zeros((2, 2, 2)), np.eye(4) + np.pad([[0.5], [0], [0]], ((0, 1), (3, 0))))
    assert vol.geometry_distance(moved) == 0.5
    assert vol.match_geometry(moved, atol_mm=0.5) is True
    assert vol.match_geometry(moved, atol_mm=0.25) is False


def test_first_frames_pixel_measures_and_a_gap_equal_to_the_tolerance():
    # one frame whose Pixel Measures (with Slice Thickness 4 mm) are in its per-frame item only
    ds = Dataset()
    ds.NumberOfFrames = 1
    ds.PerFrameFunctionalGroupsSequence = [
        _frame_item(position=IPP, orientation=IOP.round(12), spacing=SPACING, thickness=4.0)
    ]
    np.testing.assert_allclose(VolumeToReferenceTransformer.from_dataset(ds).affine[:3, 0], 4 * NORMAL, atol=1e-9)
    del ds.PerFrameFunctionalGroupsSequence[0].PixelMeasuresSequence
    with pytest.raises(ValueError, match=r"^the dataset has no PixelSpacing$"):
        plane_geometry(ds, 1)
    # first and last exactly the tolerance apart (0.5 mm, binary exact): the same position
    with pytest.raises(ValueError, match="same position"):
        stack_affine([[0, 0, 0], [0, 0, 0.5]], [1, 0, 0, 0, 1, 0], [1, 1], tolerance_mm=0.5)


def test_more_edges_of_volumes_and_planes():
    # a point exactly the tolerance (0.5 mm, binary exact) off the plane is on it
    back = ReferenceToPixelTransformer([0, 0, 0], [1, 0, 0, 0, 1, 0], [1, 1], tolerance_mm=0.5)
    np.testing.assert_array_equal(back([[2, 3, 0.5]]), [[2, 3]])
    with pytest.raises(ValueError, match=r"lies 0\.75 mm from the image plane"):
        back([[2, 3, -0.75]])
    # an empty Spacing Between Slices is skipped for the Slice Thickness
    single = Dataset()
    single.ImagePositionPatient = [0, 0, 0]
    single.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    single.PixelSpacing = [1, 1]
    single.SpacingBetweenSlices = ""
    single.SliceThickness = 2.5
    np.testing.assert_allclose(VolumeToReferenceTransformer.from_dataset(single).affine[:3, 0], [0, 0, 2.5])
    # four dimensions (a channel axis) from image geometry; permuting a volume without geometry
    vol = Volume.from_image_geometry(np.zeros((2, 3, 4, 5)), [IPP, IPP + NORMAL], IOP, SPACING)
    assert vol.shape == (2, 3, 4, 5) and vol.spatial_shape == (2, 3, 4)
    bare = Volume(np.zeros((2, 3, 4)), None).permute((2, 0, 1))
    assert bare.affine is None and bare.shape == (4, 2, 3)
    # the position in the repr is rounded to 3 decimals
    moved = Volume(np.zeros((1, 1, 1)), np.eye(4) + np.pad([[0.12345], [2.0], [-1.00049]], ((0, 1), (3, 0))))
    assert repr(moved) == "Volume(shape=(1, 1, 1), dtype=float64, position=[0.123, 2.0, -1.0])"


def test_normal_of_a_sheared_volume_is_a_unit_vector():
    """Row direction (1, 0, 0) and column direction (1, 1, 0)/sqrt 2 (a sheared grid): their cross product has
    length 1/sqrt 2; the slice normal (PS3.3 C.7.6.2.1.1, row x column) is its unit vector (0, 0, 1), worked
    out by hand (fourth pass: ``vector * norm`` for ``vector / norm`` in ``_unit`` survived)."""
    affine = np.eye(4)
    affine[:3, 0] = [0.0, 0.0, 2.0]  # k
    affine[:3, 1] = [1.0, 1.0, 0.0]  # r: down the rows
    affine[:3, 2] = [1.0, 0.0, 0.0]  # c: along a row
    np.testing.assert_allclose(Volume(np.zeros((2, 2, 2)), affine).normal, [0.0, 0.0, 1.0], atol=1e-12)
    # the same with unnormalised direction cosines given to stack_affine: the step is 3 mm along the unit normal
    stacked = stack_affine([[0, 0, 0], [0, 0, 3]], [2, 0, 0, 0, 2, 0], [1, 1])
    np.testing.assert_allclose(stacked[:3, 0], [0.0, 0.0, 3.0], atol=1e-12)
