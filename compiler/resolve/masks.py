"""Load mask files into :class:`~dcmspec_compiler.spatial.volume.Volume` objects and place them on source frames.

Supported files:

* ``.npy`` / ``.npz``: no geometry (``affine is None``); the array is taken to be in source frame
  order already, indexed ``[frame, row, column]`` (a 2D array is one frame, a 4th axis is channels).
* ``.nii`` / ``.nii.gz`` (nibabel): the NIfTI affine maps ``(i, j, k)`` to RAS; it is converted to
  DICOM LPS and the axes are reordered to ``(k, j, i)`` = ``(slice, row, column)``.
* ``.nrrd`` / ``.nhdr`` (pynrrd): ``space``, ``space directions`` and ``space origin`` give the
  geometry; axes without a space direction become trailing channels.

:func:`place_on_frames` resamples nothing: the mask grid must coincide with the source pixel grid,
possibly with its axes permuted or reversed (common for NIfTI, whose rows are often flipped).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import permutations
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from ..errors import InputError, Location, PathPart
from ..spatial.volume import Volume
from .input_files import check_input_file, check_mask_kind, check_mask_shape
from .input_files import check_magic as _check_magic

if TYPE_CHECKING:
    from nibabel.spatialimages import SpatialImage
    from typing_extensions import Unpack

    from ..errors import ErrorAt as Where

    class _Limit(Where):
        max_values: int | None


#: LPS = M @ (coordinates in the named NRRD space); PS3.3 C.7.6.2.1.1 defines LPS for DICOM.
_NRRD_SPACES: dict[str, np.ndarray] = {
    "left-posterior-superior": np.diag([1.0, 1.0, 1.0]),
    "lps": np.diag([1.0, 1.0, 1.0]),
    "right-anterior-superior": np.diag([-1.0, -1.0, 1.0]),
    "ras": np.diag([-1.0, -1.0, 1.0]),
    "left-anterior-superior": np.diag([1.0, -1.0, 1.0]),
    "las": np.diag([1.0, -1.0, 1.0]),
    # A generic right-handed 3D space: taken to be the patient coordinate system (LPS).
    "3d-right-handed": np.diag([1.0, 1.0, 1.0]),
}

_RAS_TO_LPS = np.diag([-1.0, -1.0, 1.0, 1.0])

SUFFIXES = (".npy", ".npz", ".nii", ".nii.gz", ".nrrd", ".nhdr")


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for suffix in (".nii.gz",) + SUFFIXES:
        if name.endswith(suffix):
            return suffix
    return path.suffix.lower()


def _check_dtype(array: np.ndarray, path: Path, location: Location | None, spec_path: Sequence[PathPart]) -> None:
    check_mask_kind(array.dtype.kind, str(array.dtype), path, location=location, path=spec_path)


def load_mask(
    path: Path | str,
    *,
    key: str | None = None,
    location: Location | None = None,
    spec_path: Sequence[PathPart] = (),
    max_values: int | None = None,
    what: str = "mask",
) -> Volume:
    """Read a mask file into a Volume (see the module docstring for the formats); ``what`` names the file
    in messages (a mask, a map).

    ``key`` selects an array of an ``.npz`` file holding several. ``max_values`` bounds the number of
    values (voxels x channels) the file may declare: the shape in its header is checked before anything
    is read or decompressed, so a small compressed file cannot claim gigabytes. Problems raise
    :class:`~dcmspec_compiler.errors.InputError` carrying ``location`` and ``spec_path``.
    """
    path = Path(path)
    where: Where = {"location": location, "path": spec_path}
    check_input_file(path, what, **where)
    suffix = _suffix(path)
    limit: _Limit = {"max_values": max_values, **where}
    if suffix == ".npy":
        volume = _numpy_volume(_read_npy(path, **limit), path, **where)
    elif suffix == ".npz":
        volume = _numpy_volume(_read_npz(path, key, **limit), path, **where)
    elif suffix in (".nii", ".nii.gz"):
        volume = _load_nifti(path, **limit)
    elif suffix in (".nrrd", ".nhdr"):
        volume = _load_nrrd(path, **limit)
    else:
        raise InputError(
            f"unsupported {what} file type {suffix or '(none)'!r} for {path}",
            hint="use one of " + ", ".join(SUFFIXES),
            **where,
        )
    _check_dtype(volume.array, path, location, spec_path)
    return volume


def read_npy(file: Path, *, location: Location | None = None, spec_path: Sequence[PathPart] = ()) -> np.ndarray:
    """A .npy array (read-only, memory-mapped), refusing a file that is not one by its first bytes."""
    return _read_npy(file, location=location, path=spec_path)


def _check_declared(shape: Sequence[int], file: Path, max_values: int | None, **where: Unpack[Where]) -> None:
    """Refuse a file whose header declares more values than ``max_values`` (before reading its data)."""
    declared = int(np.prod([int(n) for n in shape], dtype=object))
    if max_values is not None and declared > max_values:
        raise InputError(
            f"{file} declares shape {tuple(int(n) for n in shape)} ({declared} values), more than the "
            f"{max_values} the source images need (a value per source pixel, per segment or channel);"
            " refused before reading it",
            hint="the file must be on the source images' grid",
            **where,
        )


# ---------------------------------------------------------------------- numpy
def _read_npy(file: Path, max_values: int | None = None, **where: Unpack[Where]) -> np.ndarray:
    """Memory-mapped, read-only: pages come straight from the file cache, no copy of the volume."""
    _check_magic(file, b"\x93NUMPY", "a .npy array", "numpy.save(path, array)", **where)
    try:
        array: np.ndarray = np.load(file, allow_pickle=False, mmap_mode="r")
    except (ValueError, OSError) as exc:
        raise InputError(f"cannot read {file} as a .npy array: {exc}", **where) from exc
    _check_declared(array.shape, file, max_values, **where)
    return array


def _npz_member_shape(archive: Any, name: str) -> tuple[int, ...]:
    """The shape in the .npy header of ``name`` inside an .npz, read without decompressing the data."""
    with archive.zip.open(name + ".npy") as member:
        version = np.lib.format.read_magic(member)
        shape, _, _ = (
            np.lib.format.read_array_header_1_0(member)
            if version == (1, 0)
            else np.lib.format.read_array_header_2_0(member)
        )
    return shape


def _read_npz(file: Path, key: str | None, max_values: int | None = None, **where: Unpack[Where]) -> np.ndarray:
    _check_magic(file, b"PK", "an .npz archive (a zip file)", "numpy.savez_compressed(path, name=array)", **where)
    try:
        with np.load(file, allow_pickle=False) as archive:
            names = list(archive.files)
            if key is None:
                if len(names) != 1:
                    raise InputError(
                        f"{file} holds {len(names)} arrays ({', '.join(names) or 'none'}); say which one",
                        hint="give the array name as the mask's key",
                        **where,
                    )
                key = names[0]
            if key not in names:
                raise InputError(f"{file} has no array {key!r}; it holds {', '.join(names)}", **where)
            _check_declared(_npz_member_shape(archive, key), file, max_values, **where)
            array: np.ndarray = archive[key]
            return array
    except (ValueError, OSError) as exc:
        raise InputError(f"cannot read {file} as a .npz archive: {exc}", **where) from exc


def _numpy_volume(array: np.ndarray, file: Path, **where: Unpack[Where]) -> Volume:
    check_mask_shape(array.shape, file, **where)
    return Volume(array[None] if array.ndim == 2 else array, None)


# ---------------------------------------------------------------------- NIfTI
def _load_nifti(file: Path, max_values: int | None = None, **where: Unpack[Where]) -> Volume:
    try:
        import nibabel
    except ImportError as exc:
        raise InputError(
            "reading NIfTI masks needs nibabel: pip install nibabel (the nifti extra of dcmspec-compiler)", **where
        ) from exc
    try:
        # the header only; a NIfTI file loads as a SpatialImage (nibabel annotates load() as its base class)
        image = cast("SpatialImage", nibabel.load(str(file)))
        shape = image.shape
    except Exception as exc:  # nibabel raises many types for corrupt files
        raise InputError(f"cannot read {file} as NIfTI: {exc}", **where) from exc
    _check_declared(shape, file, max_values, **where)
    try:
        data = np.asanyarray(image.dataobj)
        affine_ras = np.asarray(image.affine, dtype=np.float64)
    except Exception as exc:  # nibabel raises many types for corrupt files
        raise InputError(f"cannot read {file} as NIfTI: {exc}", **where) from exc
    if data.ndim == 2:
        data = data[:, :, None]
    if data.ndim == 5 and data.shape[3] == 1:  # (x, y, z, t=1, vector) as written for vector intents
        data = data[:, :, :, 0, :]
    if data.ndim not in (3, 4):
        raise InputError(f"NIfTI mask {file} has {data.ndim} dimensions {data.shape}; expected 3 or 4", **where)
    # NIfTI index (i, j, k): i = column (fastest), j = row, k = slice.
    array = np.ascontiguousarray(np.transpose(data, (2, 1, 0) + tuple(range(3, data.ndim))))
    lps = _RAS_TO_LPS @ affine_ras
    affine = np.eye(4)
    affine[:, 0], affine[:, 1], affine[:, 2], affine[:, 3] = lps[:, 2], lps[:, 1], lps[:, 0], lps[:, 3]
    try:
        return Volume(array, affine)
    except ValueError as exc:
        raise InputError(f"NIfTI mask {file} has an unusable affine: {exc}", **where) from exc


# ---------------------------------------------------------------------- NRRD
def _load_nrrd(file: Path, max_values: int | None = None, **where: Unpack[Where]) -> Volume:
    try:
        import nrrd
    except ImportError as exc:
        raise InputError(
            "reading NRRD masks needs pynrrd: pip install pynrrd (the nrrd extra of dcmspec-compiler)", **where
        ) from exc
    try:
        sizes = nrrd.read_header(str(file)).get("sizes", ())
    except Exception as exc:  # pynrrd raises NRRDError, ValueError, OSError
        raise InputError(f"cannot read {file} as NRRD: {exc}", **where) from exc
    _check_declared(sizes, file, max_values, **where)
    try:
        data, header = nrrd.read(str(file), index_order="C")
    except Exception as exc:  # pynrrd raises NRRDError, ValueError, OSError
        raise InputError(f"cannot read {file} as NRRD: {exc}", **where) from exc
    ndim = data.ndim
    directions = header.get("space directions")
    if directions is None:
        # No geometry: treat like a numpy mask; NRRD lists the fastest axis (column) first.
        return _numpy_volume(np.ascontiguousarray(np.transpose(data)), file, **where)
    space = str(header.get("space", "")).lower()
    if space not in _NRRD_SPACES:
        raise InputError(
            f"NRRD mask {file} uses space {header.get('space')!r}, which dcmspec cannot map to DICOM "
            "patient coordinates",
            hint="write the NRRD in left-posterior-superior (LPS) or right-anterior-superior (RAS) space",
            **where,
        )
    to_lps = _NRRD_SPACES[space]
    rows = [None if d is None else np.asarray(d, dtype=np.float64) for d in directions]
    domain = [i for i, d in enumerate(rows) if d is not None and d.shape == (3,) and np.all(np.isfinite(d))]
    other = [i for i in range(ndim) if i not in domain]
    if len(domain) not in (2, 3) or len(other) > 1:
        raise InputError(
            f"NRRD mask {file} has {len(domain)} spatial axes and {len(other)} other axes; "
            "expected 3 spatial axes (2 for one slice) and at most one list/vector axis",
            **where,
        )
    origin = header.get("space origin")
    origin_lps = to_lps @ (np.zeros(3) if origin is None else np.asarray(origin, dtype=np.float64))
    steps = [to_lps @ rows[i] for i in domain]  # file order: column, row[, slice]
    # In C index order, file axis i is array axis ndim - 1 - i.
    if len(domain) == 2:
        normal = np.cross(steps[0], steps[1])
        steps.append(normal / np.linalg.norm(normal))
        data = np.expand_dims(data, 0)
        ndim += 1
        order = [0, ndim - 1 - domain[1], ndim - 1 - domain[0]]
    else:
        order = [ndim - 1 - domain[2], ndim - 1 - domain[1], ndim - 1 - domain[0]]
    order += [ndim - 1 - i for i in other]
    array = np.ascontiguousarray(np.transpose(data, order))
    affine = np.eye(4)
    affine[:3, 0], affine[:3, 1], affine[:3, 2], affine[:3, 3] = steps[2], steps[1], steps[0], origin_lps
    try:
        return Volume(array, affine)
    except ValueError as exc:
        raise InputError(f"NRRD mask {file} has unusable space directions: {exc}", **where) from exc


# ---------------------------------------------------------------------- placement
_AXIS_NAMES = {1: "from row to row (down a column)", 2: "from column to column (along a row)"}


def _fmt(vector: np.ndarray) -> str:
    from .source_geometry import format_number

    return "(" + ", ".join(map(format_number, vector)) + ")"


def place_on_frames(
    mask: Volume,
    positions: np.ndarray,
    orientation: Sequence[float] | np.ndarray,
    pixel_spacing: Sequence[float] | np.ndarray,
    rows: int,
    columns: int,
    *,
    tolerance_mm: float | None = None,
    location: Location | None = None,
    spec_path: Sequence[PathPart] = (),
    what: str = "mask",
    tolerance_key: str = "segmentation.tolerance_mm",
) -> np.ndarray:
    """The mask's pixels for each source frame, shape ``(N, rows, columns)`` (+ channels).

    ``positions`` (N, 3) are the source frames' ImagePositionPatient in source frame order;
    ``orientation`` their ImageOrientationPatient and ``pixel_spacing`` (row, column) their
    PixelSpacing (PS3.3 C.7.6.2.1.1). The mask's axes may be permuted or reversed relative to the
    source, but its voxel centres must coincide with the source pixel centres to within
    ``tolerance_mm`` (default 1% of the smaller pixel spacing), every mask slice must lie on a source
    frame and every source frame must be covered; otherwise :class:`InputError` says which axis,
    slice or frame (0-based) is off and by how many mm. Nothing is interpolated.

    A mask without geometry (numpy) must already have shape ``(N, rows, columns)``. ``what`` names the
    input in messages (a mask, a map) and ``tolerance_key`` the spec key that sets the tolerance.
    """
    where: Where = {"location": location, "path": spec_path}
    pos = np.asarray(positions, dtype=np.float64).reshape(-1, 3)
    n_frames = len(pos)
    expected = (n_frames, int(rows), int(columns))
    if mask.affine is None:
        if mask.spatial_shape != expected:
            raise InputError(
                f"{what} array has shape {mask.shape} but the source images need {expected} "
                f"({n_frames} frame(s) of {rows} rows x {columns} columns)",
                hint=f"a {what} without geometry (.npy/.npz) must be indexed [frame, row, column], frames in source "
                "order (ascending along the slice normal, not by Instance Number: see the guide's Masks and geometry); "
                "a (rows, columns, frames) array needs numpy.moveaxis(array, -1, 0)",
                **where,
            )
        return np.ascontiguousarray(mask.array)

    iop = np.asarray(orientation, dtype=np.float64).reshape(6)
    spacing = np.asarray(pixel_spacing, dtype=np.float64).reshape(2)
    tol = 0.01 * float(spacing.min()) if tolerance_mm is None else float(tolerance_mm)
    row_dir, col_dir = iop[0:3] / np.linalg.norm(iop[0:3]), iop[3:6] / np.linalg.norm(iop[3:6])
    normal = np.cross(row_dir, col_dir)
    normal /= np.linalg.norm(normal)
    source_units = np.stack([normal, col_dir, row_dir], axis=1)  # source (k, r, c) directions
    source_steps = {1: col_dir * spacing[0], 2: row_dir * spacing[1]}

    # Match mask axes to source axes by direction, then reverse in-plane axes that point backwards.
    alignment = np.abs(source_units.T @ mask.direction)  # [source axis, mask axis]
    perm = max(permutations(range(3)), key=lambda p: sum(alignment[j, p[j]] for j in range(3)))
    volume = mask.permute(perm)
    assert volume.affine is not None  # permuting and flipping keep the mask's affine
    flips = [j for j in (1, 2) if np.dot(volume.affine[:3, j], source_units[:, j]) < 0]
    volume = volume.flip(*flips)
    assert volume.affine is not None

    prefix = f"{what} grid does not match the source images: "
    for j in (1, 2):
        extent = max(expected[j] - 1, 1)
        off = float(np.linalg.norm(volume.affine[:3, j] - source_steps[j])) * extent
        if off > tol:
            raise InputError(
                prefix + f"the {what}'s step {_AXIS_NAMES[j]} (mask array axis {perm[j]}) is "
                f"{_fmt(volume.affine[:3, j])} mm but the source's is {_fmt(source_steps[j])} mm, "
                f"which misplaces the far edge by {off:.4g} mm (tolerance {tol:.4g} mm)",
                hint=f"the {what} is on another pixel grid: resample it onto the source images' grid (their"
                f" spacing and orientation), or raise {tolerance_key} if this is rounding",
                **where,
            )
    if volume.spatial_shape[1:] != expected[1:]:
        raise InputError(
            prefix + f"{what} slices are {volume.spatial_shape[1]} rows x {volume.spatial_shape[2]} columns "
            f"(after reorienting) but the source images are {rows} rows x {columns} columns",
            hint=f"a {what} covers the whole image plane of the sources: pad a cropped {what} back to the"
            " source's rows and columns",
            **where,
        )

    origins = volume.positions()  # (K, 3)
    delta = origins[:, None, :] - pos[None, :, :]  # (K, N, 3)
    distance = np.linalg.norm(delta, axis=2)
    nearest_frame = distance.argmin(axis=1)
    slice_distance = distance[np.arange(len(origins)), nearest_frame]
    worst = int(slice_distance.argmax())
    if slice_distance[worst] > tol:
        d = delta[worst, nearest_frame[worst]]
        along = abs(float(d @ normal))
        inplane = float(np.linalg.norm(d - (d @ normal) * normal))
        raise InputError(
            prefix + f"slice {worst} lies {slice_distance[worst]:.4g} mm from the nearest source frame "
            f"(tolerance {tol:.4g} mm; frame {int(nearest_frame[worst])}: {along:.4g} mm along the "
            f"normal, {inplane:.4g} mm in-plane)",
            hint=f"the {what}'s origin or slice spacing differs from the sources': check that it was made"
            f" from this series (sources.series_instance_uid), or raise {tolerance_key} if"
            " this is rounding",
            **where,
        )
    nearest_slice = distance.argmin(axis=0)
    frame_distance = distance[nearest_slice, np.arange(n_frames)]
    missing = int(frame_distance.argmax())
    if frame_distance[missing] > tol:
        uncovered = int(np.count_nonzero(frame_distance > tol))
        raise InputError(
            prefix + f"source frame {missing} is not covered by the {what}: the nearest {what} slice lies "
            f"{frame_distance[missing]:.4g} mm away (tolerance {tol:.4g} mm); {uncovered} of "
            f"{n_frames} source frame(s) are not covered",
            hint=f"give one {what} slice per source frame (empty slices are fine: they are omitted), or"
            " select the frames the mask covers with sources.sop_instance_uids",
            **where,
        )
    return np.ascontiguousarray(volume.array[nearest_slice])
