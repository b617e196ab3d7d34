"""Tests of dcmspec_compiler.resolve.masks: loading mask files and placing them on source frames.

dcmqi's NRRD inputs and the SEGs dcmqi wrote from them are the oracle: the pixels we place must
equal dcmqi's frames, matched through each SEG frame's Source Image reference.
"""

from __future__ import annotations

import re
import sys

import numpy as np
import pydicom
import pytest

from dcmspec_compiler.errors import InputError, Location
from dcmspec_compiler.resolve.masks import load_mask, place_on_frames
from dcmspec_compiler.spatial.volume import Volume

from conftest import shared

nibabel = pytest.importorskip("nibabel")
nrrd = pytest.importorskip("nrrd")


def _series(name: str):
    """(datasets, positions, orientation, pixel spacing, rows, columns) in file-name order."""
    folder = shared("series", name)
    datasets = [pydicom.dcmread(p) for p in sorted(folder.iterdir())]
    positions = np.array([[float(v) for v in ds.ImagePositionPatient] for ds in datasets])
    first = datasets[0]
    iop = [float(v) for v in first.ImageOrientationPatient]
    spacing = [float(v) for v in first.PixelSpacing]
    return datasets, positions, iop, spacing, int(first.Rows), int(first.Columns)


def _geometry(name: str):
    return _series(name)[1:]


def _seg_frames(path):
    """dcmqi SEG frames unpacked from 1-bit PixelData, with referenced SOP instance and segment."""
    ds = pydicom.dcmread(path)
    n, rows, cols = int(ds.NumberOfFrames), int(ds.Rows), int(ds.Columns)
    bits = np.unpackbits(np.frombuffer(ds.PixelData, np.uint8), bitorder="little")[: n * rows * cols]
    frames = bits.reshape(n, rows, cols).astype(bool)
    refs = [
        item.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID
        for item in ds.PerFrameFunctionalGroupsSequence
    ]
    segments = [
        item.SegmentIdentificationSequence[0].ReferencedSegmentNumber for item in ds.PerFrameFunctionalGroupsSequence
    ]
    return frames, refs, segments


def _assert_equals_seg(placed: np.ndarray, datasets, seg_path) -> None:
    frames, refs, segments = _seg_frames(seg_path)
    uids = [ds.SOPInstanceUID for ds in datasets]
    covered = set()
    for frame, ref, segment in zip(frames, refs, segments):
        j = uids.index(ref)
        covered.add(j)
        np.testing.assert_array_equal(placed[j] == segment, frame)
    for j in set(range(len(datasets))) - covered:  # frames dcmqi left out are empty
        assert not np.any(placed[j])


def _to_nifti(volume: Volume, path, *, flip_rows: bool = False, swap_in_plane: bool = False):
    """Write a Volume as NIfTI (our own RAS conversion), optionally with rows flipped / axes swapped."""
    if flip_rows:
        volume = volume.flip(1)
    if swap_in_plane:
        volume = volume.permute((0, 2, 1))
    data = np.transpose(volume.array, (2, 1, 0))  # (k, r, c) -> (i=c, j=r, k)
    a = volume.affine
    ijk_affine = np.column_stack([a[:, 2], a[:, 1], a[:, 0], a[:, 3]])
    ras = np.diag([-1.0, -1.0, 1.0, 1.0]) @ ijk_affine
    nibabel.save(nibabel.Nifti1Image(data, ras), str(path))
    return path


# ---------------------------------------------------------------------- dcmqi oracle
@pytest.mark.parametrize(
    "nrrd_parts, series, seg_parts",
    [
        (("liver_seg.nrrd",), "ct_dcmqi_ct-3slice", ("liver.dcm",)),
        (("23x38x3", "label.nrrd"), "ct_dcmqi_23x38x3", ("dcmqi_23x38x3", "label.seg")),
        (("24x38x3", "label.nrrd"), "ct_dcmqi_24x38x3", ("dcmqi_24x38x3", "label.seg")),
    ],
)
def test_nrrd_placement_equals_dcmqi_seg(nrrd_parts, series, seg_parts):
    mask = load_mask(shared("dcmqi_inputs", "nrrd", *nrrd_parts))
    datasets, positions, iop, spacing, rows, cols = _series(series)
    placed = place_on_frames(mask, positions, iop, spacing, rows, cols)
    assert placed.shape == (len(datasets), rows, cols)
    assert placed.dtype == mask.array.dtype
    assert np.any(placed)
    _assert_equals_seg(placed, datasets, shared("seg", *seg_parts))


def test_liver_nrrd_geometry_and_slice_order():
    mask = load_mask(shared("dcmqi_inputs", "nrrd", "liver_seg.nrrd"))
    assert mask.shape == (3, 512, 512)
    np.testing.assert_allclose(mask.position, [-235.2, -226.8, -128.69])
    np.testing.assert_allclose(mask.spacing, [1.0, 0.810547, 0.810547])
    _datasets, positions, iop, spacing, rows, cols = _series("ct_dcmqi_ct-3slice")
    placed = place_on_frames(mask, positions, iop, spacing, rows, cols)
    # NRRD slice 0 is at z = -128.69, i.e. the third file (03.dcm): the order is reversed.
    np.testing.assert_array_equal(placed, mask.array[::-1])


def test_oblique_unsorted_mr_placement_reproduces_the_source_pixels():
    """dcmqi's pm-example.nrrd holds the ADC values of the oblique MR series (file order unsorted)."""
    mask = load_mask(shared("dcmqi_inputs", "nrrd", "pm-example.nrrd"))
    datasets, positions, iop, spacing, rows, cols = _series("mr_dcmqi_701-ADCb500")
    placed = place_on_frames(mask, positions, iop, spacing, rows, cols)
    for j, ds in enumerate(datasets):
        np.testing.assert_array_equal(placed[j], ds.pixel_array)


def test_ras_nrrd_is_converted(tmp_path):
    source = load_mask(shared("dcmqi_inputs", "nrrd", "23x38x3", "label.nrrd"))
    data, header = nrrd.read(str(shared("dcmqi_inputs", "nrrd", "23x38x3", "label.nrrd")))
    header["space"] = "right-anterior-superior"
    header["space directions"] = np.asarray(header["space directions"]) * [-1.0, -1.0, 1.0]
    header["space origin"] = np.asarray(header["space origin"]) * [-1.0, -1.0, 1.0]
    nrrd.write(str(tmp_path / "ras.nrrd"), data, header)
    ras = load_mask(tmp_path / "ras.nrrd")
    assert ras.match_geometry(source, atol_mm=1e-9)
    np.testing.assert_array_equal(ras.array, source.array)


def test_nrrd_list_axis_becomes_channels(tmp_path):
    source = load_mask(shared("dcmqi_inputs", "nrrd", "23x38x3", "label.nrrd"))
    data, header = nrrd.read(str(shared("dcmqi_inputs", "nrrd", "23x38x3", "label.nrrd")))
    stacked = np.stack([data, 1 - data])  # Fortran order: (list, x, y, z)
    header["kinds"] = ["list", "domain", "domain", "domain"]
    header["space directions"] = np.vstack([np.full(3, np.nan), np.asarray(header["space directions"])])
    nrrd.write(str(tmp_path / "list.nrrd"), stacked, header)
    mask = load_mask(tmp_path / "list.nrrd")
    assert mask.shape == (3, 38, 23, 2)
    placed = place_on_frames(mask, *_geometry("ct_dcmqi_23x38x3"))
    assert placed.shape == (3, 38, 23, 2)
    np.testing.assert_array_equal(placed[..., 0], source.array)
    np.testing.assert_array_equal(placed[..., 1], 1 - source.array)


# ---------------------------------------------------------------------- NIfTI
@pytest.mark.parametrize("flip_rows, swap", [(False, False), (True, False), (False, True), (True, True)])
def test_nifti_round_trip_places_like_the_nrrd(tmp_path, flip_rows, swap):
    source = load_mask(shared("dcmqi_inputs", "nrrd", "liver_seg.nrrd"))
    path = _to_nifti(source, tmp_path / "liver.nii.gz", flip_rows=flip_rows, swap_in_plane=swap)
    mask = load_mask(path)
    assert mask.match_geometry(source, atol_mm=1e-4) == (not flip_rows and not swap)
    datasets, positions, iop, spacing, rows, cols = _series("ct_dcmqi_ct-3slice")
    placed = place_on_frames(mask, positions, iop, spacing, rows, cols)
    _assert_equals_seg(placed, datasets, shared("seg", "liver.dcm"))


def test_nifti_affine_is_converted_from_ras(tmp_path):
    data = np.zeros((4, 3, 2), np.uint8)  # (i, j, k)
    data[1, 2, 0] = 7
    ras = np.array([[-0.5, 0, 0, 10.0], [0, -0.25, 0, 20.0], [0, 0, 2.0, 30.0], [0, 0, 0, 1]])
    nibabel.save(nibabel.Nifti1Image(data, ras), str(tmp_path / "m.nii"))
    mask = load_mask(tmp_path / "m.nii")
    assert mask.shape == (2, 3, 4)
    assert mask.array[0, 2, 1] == 7
    np.testing.assert_allclose(mask.position, [-10.0, -20.0, 30.0])
    np.testing.assert_allclose(mask.affine[:3, 2], [0.5, 0, 0])  # i step, RAS -x = LPS +x
    np.testing.assert_allclose(mask.affine[:3, 1], [0, 0.25, 0])
    np.testing.assert_allclose(mask.affine[:3, 0], [0, 0, 2.0])
    np.testing.assert_allclose(mask.index_to_reference([[0, 2, 1]])[0], [-9.5, -19.5, 30.0])


def test_missing_nibabel_names_the_extra(tmp_path, monkeypatch):
    path = tmp_path / "m.nii"
    nibabel.save(nibabel.Nifti1Image(np.zeros((2, 2, 2), np.uint8), np.eye(4)), str(path))
    monkeypatch.setitem(sys.modules, "nibabel", None)
    with pytest.raises(InputError, match=r"pip install nibabel \(the nifti extra of dcmspec-compiler\)") as info:
        load_mask(path)
    assert "dcmspec[" not in info.value.message  # PyPI's `dcmspec` is another project


def test_missing_pynrrd_names_the_extra(monkeypatch):
    path = shared("dcmqi_inputs", "nrrd", "23x38x3", "label.nrrd")
    monkeypatch.setitem(sys.modules, "nrrd", None)
    with pytest.raises(InputError, match=r"pip install pynrrd \(the nrrd extra of dcmspec-compiler\)") as info:
        load_mask(path)
    assert "dcmspec[" not in info.value.message


# ---------------------------------------------------------------------- grid mismatches
def _small():
    return load_mask(shared("dcmqi_inputs", "nrrd", "23x38x3", "label.nrrd")), _geometry("ct_dcmqi_23x38x3")


def test_extra_mask_slice_is_reported_in_mm():
    mask, geometry = _small()
    extra = Volume(np.concatenate([mask.array, mask.array[:1]]), mask.affine)
    with pytest.raises(InputError) as info:
        place_on_frames(extra, *geometry)
    assert "slice 3 lies 2.5 mm from the nearest source frame (tolerance 0.007 mm" in info.value.message


def test_shifted_mask_is_reported_in_mm():
    mask, geometry = _small()
    affine = mask.affine.copy()
    affine[:3, 3] += [0.0, 0.0, 1.25]
    with pytest.raises(InputError, match=r"slice \d lies 1.25 mm .*1.25 mm along the normal, 0 mm in-plane"):
        place_on_frames(Volume(mask.array, affine), *geometry)
    affine = mask.affine.copy()
    affine[:3, 3] += [0.7, 0.0, 0.0]  # one pixel to the side
    with pytest.raises(InputError, match=r"lies 0.7 mm .*0 mm along the normal, 0.7 mm in-plane"):
        place_on_frames(Volume(mask.array, affine), *geometry)


def test_uncovered_source_frame_is_reported():
    mask, geometry = _small()
    with pytest.raises(
        InputError,
        match=r"source frame 2 is not covered by the mask:"
        r" the nearest mask slice lies 2.5 mm",
    ):
        place_on_frames(Volume(mask.array[:2], mask.affine), *geometry)


def test_in_plane_spacing_mismatch_is_reported():
    mask, geometry = _small()
    affine = mask.affine.copy()
    affine[:3, 2] = [0.71, 0.0, 0.0]
    with pytest.raises(InputError, match=r"along a row\) \(mask array axis 2\).*far edge by 0.22 mm"):
        place_on_frames(Volume(mask.array, affine), *geometry)


def test_in_plane_size_mismatch_is_reported():
    mask, geometry = _small()
    with pytest.raises(InputError, match=r"38 rows x 22 columns .* 38 rows x 23 columns"):
        place_on_frames(Volume(mask.array[:, :, :22], mask.affine), *geometry)


def test_tolerance_is_configurable():
    mask, geometry = _small()
    affine = mask.affine.copy()
    affine[:3, 3] += [0.0, 0.0, 0.004]
    place_on_frames(Volume(mask.array, affine), *geometry)  # default 0.007 mm
    with pytest.raises(InputError, match=r"0.004 mm .*tolerance 0.001 mm"):
        place_on_frames(Volume(mask.array, affine), *geometry, tolerance_mm=0.001)


def test_errors_carry_location_and_spec_path():
    mask, geometry = _small()
    loc = Location("spec.yaml", 12, 5)
    with pytest.raises(InputError) as info:
        place_on_frames(Volume(mask.array[:2], mask.affine), *geometry, location=loc, spec_path=("segments", 0, "mask"))
    assert info.value.location == loc
    assert info.value.format().startswith("spec.yaml:12:5: segments[0].mask: mask grid does not match")


# ---------------------------------------------------------------------- numpy masks
def test_numpy_masks_are_taken_in_source_order(tmp_path):
    array = np.zeros((3, 38, 23), bool)
    array[1, 5, 7] = True
    np.save(tmp_path / "m.npy", array)
    mask = load_mask(tmp_path / "m.npy")
    assert mask.affine is None
    placed = place_on_frames(mask, *_geometry("ct_dcmqi_23x38x3"))
    np.testing.assert_array_equal(placed, array)


def test_numpy_shape_mismatch_states_both_shapes(tmp_path):
    np.save(tmp_path / "m.npy", np.zeros((3, 23, 38), np.uint8))
    with pytest.raises(InputError, match=r"shape \(3, 23, 38\) but the source images need \(3, 38, 23\)"):
        place_on_frames(load_mask(tmp_path / "m.npy"), *_geometry("ct_dcmqi_23x38x3"))


def test_two_dimensional_numpy_mask_for_one_frame(tmp_path):
    np.save(tmp_path / "m.npy", np.ones((4, 5), np.uint8))
    placed = place_on_frames(load_mask(tmp_path / "m.npy"), [[0.0, 0.0, 0.0]], [1, 0, 0, 0, 1, 0], [1, 1], 4, 5)
    assert placed.shape == (1, 4, 5)


def test_npz_keys(tmp_path):
    np.savez(tmp_path / "one.npz", liver=np.ones((1, 2, 2), np.uint8))
    assert load_mask(tmp_path / "one.npz").shape == (1, 2, 2)
    np.savez(tmp_path / "two.npz", liver=np.ones((1, 2, 2)), spine=np.zeros((2, 2, 2)))
    with pytest.raises(InputError, match=r"holds 2 arrays \(liver, spine\)"):
        load_mask(tmp_path / "two.npz")
    assert load_mask(tmp_path / "two.npz", key="spine").shape == (2, 2, 2)
    with pytest.raises(InputError, match="no array 'heart'"):
        load_mask(tmp_path / "two.npz", key="heart")


def test_unusable_files(tmp_path):
    loc = Location("spec.yaml", 3)
    with pytest.raises(InputError, match="mask file not found") as info:
        load_mask(tmp_path / "absent.nii.gz", location=loc, spec_path=("segments", 1, "mask"))
    assert info.value.location == loc and info.value.path == ("segments", 1, "mask")
    (tmp_path / "m.png").write_bytes(b"\x89PNG")
    with pytest.raises(InputError, match=re.escape("unsupported mask file type '.png'")):
        load_mask(tmp_path / "m.png")
    np.save(tmp_path / "s.npy", np.array([["a", "b"]]))
    with pytest.raises(InputError, match="values of type <U1"):
        load_mask(tmp_path / "s.npy")
    np.save(tmp_path / "five.npy", np.zeros((1, 1, 1, 1, 1)))
    with pytest.raises(InputError, match=r"has shape \(1, 1, 1, 1, 1\)"):
        load_mask(tmp_path / "five.npy")


@pytest.mark.parametrize(
    "name, content, says",
    [
        ("text.npy", b"0 1 1 0\n1 1 0 0\n", "is not a .npy array: it starts with '0 1 1 0\\n', not '\\x93NUMPY'"),
        ("empty.npy", b"", "is empty, not a .npy array"),
        ("text.npz", b"liver: [0, 1]\n", "is not an .npz archive (a zip file): it starts with 'liver: ['"),
    ],
)
def test_a_file_that_is_not_numpy_says_what_it_starts_with(tmp_path, name, content, says):
    # numpy's own message for a text file saved as .npy speaks of "pickled data", which misleads
    (tmp_path / name).write_bytes(content)
    with pytest.raises(InputError) as info:
        load_mask(tmp_path / name)
    assert says in info.value.message and "pickle" not in info.value.message
    assert "numpy.save" in info.value.hint


def test_unusable_files_messages_and_hints_in_full(tmp_path):
    """What the user reads for each unusable mask file, word for word (a changed message is a changed
    interface)."""
    absent = tmp_path / "sub" / "absent.npy"
    with pytest.raises(InputError) as info:
        load_mask(absent, location=Location(str(tmp_path / "spec.yaml"), 3))
    assert info.value.message == f"mask file not found: {absent}"
    assert info.value.hint == (
        "a relative mask path is relative to the folder of the spec file that names it"
        f" ({tmp_path}), not to the current folder; looked for {absent.absolute()}"
    )
    for location in (None, Location(None, 3)):  # no spec file to be relative to
        with pytest.raises(InputError) as info:
            load_mask(absent, location=location)
        assert info.value.hint == f"looked for {absent.absolute()}"
    with pytest.raises(InputError) as info:
        load_mask(tmp_path)
    assert (info.value.message, info.value.hint) == (
        f"mask {tmp_path} is a folder, not a regular file",
        "name a mask file",
    )
    (tmp_path / "m.png").write_bytes(b"\x89PNG")
    with pytest.raises(InputError) as info:
        load_mask(tmp_path / "m.png")
    assert info.value.hint == "use one of .npy, .npz, .nii, .nii.gz, .nrrd, .nhdr"
    np.save(tmp_path / "c.npy", np.zeros((1, 2, 2), np.complex64))
    with pytest.raises(InputError) as info:
        load_mask(tmp_path / "c.npy")
    assert info.value.message == (
        f"mask {tmp_path / 'c.npy'} has values of type complex64; expected booleans, integers or floats"
    )
    for dtype in (bool, np.int16, np.uint8, np.float32):  # b, i, u, f are taken
        np.save(tmp_path / "ok.npy", np.zeros((1, 2, 2), dtype))
        assert load_mask(tmp_path / "ok.npy").array.dtype == dtype


def test_declared_size_limit_before_reading(tmp_path):
    """``max_values``: a file declaring more values than the sources need is refused from its header; exactly
    as many is read (npy, npz member, NRRD, detached NRRD header)."""
    import nrrd

    data = np.zeros((2, 3, 4), np.uint8)
    np.save(tmp_path / "m.npy", data)
    np.savez(tmp_path / "m.npz", only=data)
    nrrd.write(str(tmp_path / "m.nrrd"), data, {"space": "left-posterior-superior"})
    nrrd.write(str(tmp_path / "m.nhdr"), data, {"space": "left-posterior-superior"}, detached_header=True)
    for name, shape in (("m.npy", (2, 3, 4)), ("m.npz", (2, 3, 4)), ("m.nrrd", (2, 3, 4)), ("m.nhdr", (2, 3, 4))):
        assert load_mask(tmp_path / name, max_values=24).array.size == 24
        with pytest.raises(InputError) as info:
            load_mask(tmp_path / name, max_values=23)
        assert info.value.message == (
            f"{tmp_path / name} declares shape {shape} (24 values), more than the 23"
            " the source images need (a value per source pixel, per segment or channel);"
            " refused before reading it"
        )
        assert info.value.hint == "the file must be on the source images' grid"


def test_pickled_arrays_are_never_loaded(tmp_path):
    """An object array is stored pickled; unpickling runs code, so it is refused (allow_pickle=False)."""
    objects = np.array([[{"a": 1}, None]], dtype=object)
    np.save(tmp_path / "o.npy", objects, allow_pickle=True)
    with pytest.raises(InputError, match=r"^cannot read .*o\.npy as a \.npy array: "):  # (memory-mapped: refused too)
        load_mask(tmp_path / "o.npy")
    np.savez(tmp_path / "o.npz", o=objects)
    with pytest.raises(InputError, match=r"^cannot read .*o\.npz as a \.npz archive: .*allow_pickle"):
        load_mask(tmp_path / "o.npz")


def test_file_type_and_npz_messages_in_full(tmp_path):
    (tmp_path / "m.png").write_bytes(b"\x89PNG")
    (tmp_path / "mask").write_bytes(b"\x00")
    for name, shown in (("m.png", "'.png'"), ("mask", "'(none)'")):
        with pytest.raises(InputError) as info:
            load_mask(tmp_path / name)
        assert info.value.message == f"unsupported mask file type {shown} for {tmp_path / name}"
    np.savez(tmp_path / "empty.npz")
    with pytest.raises(InputError) as info:
        load_mask(tmp_path / "empty.npz")
    assert info.value.message == f"{tmp_path / 'empty.npz'} holds 0 arrays (none); say which one"
    assert info.value.hint == "give the array name as the mask's key"


def _rotated_grid(angle_deg: float, n: int = 3, rows: int = 4, columns: int = 5):
    """Source frames rotated about the patient z axis, worked out by hand: row direction (cos, sin, 0),
    column direction (-sin, cos, 0), normal (0, 0, 1); pixel spacing 0.5 (rows) x 0.8 (columns), 2 mm
    slices from (10, 20, 30)."""
    a = np.radians(angle_deg)
    row_dir, col_dir = np.array([np.cos(a), np.sin(a), 0.0]), np.array([-np.sin(a), np.cos(a), 0.0])
    origin = np.array([10.0, 20.0, 30.0])
    positions = [origin + [0, 0, 2.0 * k] for k in range(n)]
    affine = np.eye(4)
    affine[:3, 0], affine[:3, 1], affine[:3, 2], affine[:3, 3] = [0, 0, 2.0], col_dir * 0.5, row_dir * 0.8, origin
    return positions, np.concatenate([row_dir, col_dir]), [0.5, 0.8], rows, columns, affine


@pytest.mark.parametrize("scale", [1.0, 2.0])
def test_rotated_frames_and_unnormalised_cosines(scale):
    """Oblique in-plane directions (the column direction has an x component) and direction cosines not of
    unit length (normalised, PS3.3 C.7.6.2.1.1) place a mask on the same grid unchanged."""
    positions, iop, spacing, rows, columns, affine = _rotated_grid(30)
    array = np.arange(3 * 4 * 5).reshape(3, 4, 5) % 7
    placed = place_on_frames(Volume(array, affine), positions, iop * scale, spacing, rows, columns)
    np.testing.assert_array_equal(placed, array)
    wrong = affine.copy()
    wrong[:3, 1] = iop[3:] * 0.5 * 1.01  # a column step 1% off over 3 rows: 0.015 mm > 0.005 mm
    with pytest.raises(InputError, match="mask's step"):
        place_on_frames(Volume(array, wrong), positions, iop * scale, spacing, rows, columns)


def test_single_slice_nrrd_geometry_by_hand(tmp_path):
    """A NRRD of one slice (two space directions): the slice axis is the unit normal column x row
    direction; LPS (no change) and RAS (x and y negated) by hand."""
    data = np.zeros((5, 4), np.uint8)  # NRRD order: (column = fastest, row) as written by pynrrd (Fortran)
    data[1, 2] = 1
    header = {
        "space": "right-anterior-superior",
        "space directions": [[0.8, 0, 0], [0, 0.5, 0]],
        "space origin": [-10.0, -20.0, 30.0],
    }
    nrrd.write(str(tmp_path / "one.nrrd"), data, header)
    volume = load_mask(tmp_path / "one.nrrd")
    assert volume.array.shape == (1, 4, 5)
    assert volume.array[0, 2, 1] == 1 and volume.array.sum() == 1
    expected = np.eye(4)
    expected[:3, 0] = [0, 0, 1]  # (-0.8, 0, 0) x (0, -0.5, 0) = (0, 0, 0.4), normalised
    expected[:3, 1] = [0, -0.5, 0]
    expected[:3, 2] = [-0.8, 0, 0]
    expected[:3, 3] = [10.0, 20.0, 30.0]
    np.testing.assert_allclose(volume.affine, expected)


def test_nrrd_and_nifti_shapes_refused_with_the_reason(tmp_path):
    data = np.zeros((2, 3, 4), np.uint8)
    nrrd.write(str(tmp_path / "nospace.nrrd"), data, {"space directions": np.eye(3)})
    with pytest.raises(InputError) as info:
        load_mask(tmp_path / "nospace.nrrd")
    assert info.value.message == (
        f"NRRD mask {tmp_path / 'nospace.nrrd'} uses space None, which dcmspec cannot map to DICOM patient coordinates"
    )
    nrrd.write(str(tmp_path / "scanner.nrrd"), data, {"space": "scanner-xyz", "space directions": np.eye(3)})
    with pytest.raises(InputError) as info:
        load_mask(tmp_path / "scanner.nrrd")
    assert info.value.message == (
        f"NRRD mask {tmp_path / 'scanner.nrrd'} uses space 'scanner-xyz', which dcmspec"
        " cannot map to DICOM patient coordinates"
    )
    lists = np.zeros((2, 2, 3, 4), np.uint8)
    nrrd.write(
        str(tmp_path / "lists.nrrd"),
        lists,
        {
            "space": "left-posterior-superior",
            "space directions": np.array([[np.nan] * 3, [np.nan] * 3, [1, 0, 0], [0, 1, 0]]),
        },
    )
    with pytest.raises(InputError) as info:
        load_mask(tmp_path / "lists.nrrd")
    assert info.value.message == (
        f"NRRD mask {tmp_path / 'lists.nrrd'} has 2 spatial axes and 2 other axes;"
        " expected 3 spatial axes (2 for one slice) and at most one list/vector axis"
    )
    line = np.zeros((4,), np.uint8)
    nrrd.write(str(tmp_path / "line.nrrd"), line, {"space": "left-posterior-superior", "space directions": [[1, 0, 0]]})
    with pytest.raises(InputError, match=" has 1 spatial axes and 0 other axes;"):
        load_mask(tmp_path / "line.nrrd")


def test_nifti_vector_intent_and_too_many_dimensions(tmp_path):
    nibabel = pytest.importorskip("nibabel")
    vector = np.zeros((5, 4, 3, 1, 2), np.uint8)  # (x, y, z, t=1, vector)
    vector[1, 2, 0, 0, 1] = 1
    nibabel.save(nibabel.Nifti1Image(vector, np.eye(4)), str(tmp_path / "v.nii"))
    volume = load_mask(tmp_path / "v.nii")
    assert volume.array.shape == (3, 4, 5, 2) and volume.array[0, 2, 1, 1] == 1 and volume.array.sum() == 1
    four = np.zeros((5, 4, 3, 2), np.uint8)
    nibabel.save(nibabel.Nifti1Image(four, np.eye(4)), str(tmp_path / "four.nii"))
    assert load_mask(tmp_path / "four.nii").array.shape == (3, 4, 5, 2)
    timed = np.zeros((5, 4, 3, 2, 2), np.uint8)  # t = 2: not a vector image
    nibabel.save(nibabel.Nifti1Image(timed, np.eye(4)), str(tmp_path / "t.nii"))
    with pytest.raises(InputError) as info:
        load_mask(tmp_path / "t.nii")
    assert info.value.message == (f"NIfTI mask {tmp_path / 't.nii'} has 5 dimensions (5, 4, 3, 2, 2); expected 3 or 4")


def test_mask_messages_and_hints_word_for_word(tmp_path, monkeypatch):
    """The rest of load_mask's and place_on_frames's messages, whole (a substring match lets a changed
    message through)."""
    vector = r"\([-0-9.e, ]+\)"
    positions, iop, spacing, rows, columns, affine = _rotated_grid(30)
    array = np.zeros((3, 4, 5), np.uint8)
    wrong = affine.copy()
    wrong[:3, 1] = iop[3:] * 0.5 * 1.01
    with pytest.raises(InputError) as info:
        place_on_frames(Volume(array, wrong), positions, iop, spacing, rows, columns)
    assert re.fullmatch(
        r"mask grid does not match the source images: the mask's step from row to row \(down a"
        rf" column\) \(mask array axis 1\) is {vector} mm but the source's is {vector} mm, which"
        r" misplaces the far edge by 0\.015 mm \(tolerance 0\.005 mm\)",
        info.value.message,
    ), info.value.message
    narrow = Volume(np.zeros((3, 4, 4), np.uint8), affine)
    with pytest.raises(InputError) as info:
        place_on_frames(narrow, positions, iop, spacing, rows, columns)
    assert info.value.message == (
        "mask grid does not match the source images: mask slices are 4 rows x 4 columns"
        " (after reorienting) but the source images are 4 rows x 5 columns"
    )
    assert info.value.hint == (
        "a mask covers the whole image plane of the sources: pad a cropped mask back to the source's rows and columns"
    )
    shifted = affine.copy()
    shifted[:3, 3] += [0, 0, 1.0]
    with pytest.raises(InputError) as info:
        place_on_frames(Volume(array, shifted), positions, iop, spacing, rows, columns)
    assert info.value.hint == (
        "the mask's origin or slice spacing differs from the sources': check that it was"
        " made from this series (sources.series_instance_uid), or raise"
        " segmentation.tolerance_mm if this is rounding"
    )
    np.savez(tmp_path / "two.npz", liver=np.ones((1, 2, 2)), spine=np.zeros((2, 2, 2)))
    with pytest.raises(InputError) as info:
        load_mask(tmp_path / "two.npz", key="heart")
    assert info.value.message == f"{tmp_path / 'two.npz'} has no array 'heart'; it holds liver, spine"
    np.save(tmp_path / "five.npy", np.zeros((1, 1, 1, 1, 1)))
    with pytest.raises(InputError) as info:
        load_mask(tmp_path / "five.npy")
    assert info.value.message == (
        f"mask {tmp_path / 'five.npy'} has shape (1, 1, 1, 1, 1); expected [frame, row,"
        " column] (or [row, column] for one frame, or a trailing channel axis)"
    )
    for name, kind in (("bad.nii", "NIfTI"), ("bad.nrrd", "NRRD")):
        (tmp_path / name).write_bytes(b"not a mask at all")
        with pytest.raises(InputError) as info:
            load_mask(tmp_path / name)
        assert info.value.message.startswith(f"cannot read {tmp_path / name} as {kind}: "), info.value.message
    nrrd.write(str(tmp_path / "nospace.nrrd"), array, {"space directions": np.eye(3)})
    with pytest.raises(InputError) as info:
        load_mask(tmp_path / "nospace.nrrd")
    assert info.value.hint == "write the NRRD in left-posterior-superior (LPS) or right-anterior-superior (RAS) space"
    monkeypatch.setitem(sys.modules, "nrrd", None)
    with pytest.raises(InputError) as info:
        load_mask(tmp_path / "nospace.nrrd")
    assert info.value.message == (
        "reading NRRD masks needs pynrrd: pip install pynrrd (the nrrd extra of dcmspec-compiler)"
    )


def test_nrrd_without_origin_and_two_dimensional_nifti(tmp_path):
    nrrd.write(
        str(tmp_path / "o.nrrd"),
        np.zeros((4, 3, 2), np.uint8),
        {"space": "left-posterior-superior", "space directions": np.eye(3)},
    )
    np.testing.assert_array_equal(load_mask(tmp_path / "o.nrrd").affine[:3, 3], [0, 0, 0])  # no origin: 0
    nibabel = pytest.importorskip("nibabel")
    flat = np.zeros((5, 4), np.uint8)  # (x, y): one slice
    flat[3, 1] = 1
    nibabel.save(nibabel.Nifti1Image(flat, np.eye(4)), str(tmp_path / "flat.nii"))
    volume = load_mask(tmp_path / "flat.nii")
    assert volume.array.shape == (1, 4, 5) and volume.array[0, 1, 3] == 1 and volume.array.sum() == 1
