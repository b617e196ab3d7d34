"""Synthetic CT phantoms: a series of single-frame CT images and masks that fit it.

Used by ``specs_examples/`` (its phantom series is made by :func:`write_ct_series`), by the test suite
and by ``bench/``. Everything is deterministic: the same arguments give the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..iods.common.uid import derive_uid

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"


@dataclass(frozen=True)
class Grid:
    """Geometry of an axial series: ``shape`` (slices, rows, columns), ``spacing`` (slice, row, column) mm,
    ``origin`` = ImagePositionPatient of the first slice (LPS mm)."""

    shape: tuple[int, int, int] = (16, 64, 64)
    spacing: tuple[float, float, float] = (2.5, 0.75, 0.75)
    origin: tuple[float, float, float] = (-24.0, -24.0, -20.0)

    def affine(self) -> np.ndarray:
        """4x4 affine of (slice, row, column) indices to LPS, as in :class:`dcmspec_compiler.spatial.Volume`."""
        aff = np.eye(4)
        aff[:3, 0] = [0, 0, self.spacing[0]]
        aff[:3, 1] = [0, self.spacing[1], 0]
        aff[:3, 2] = [self.spacing[2], 0, 0]
        aff[:3, 3] = self.origin
        return aff

    def index_grid(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Patient coordinates (mm) of every voxel centre as three broadcastable arrays (x, y, z)."""
        k, r, c = (np.arange(n, dtype=np.float32) for n in self.shape)
        z = (self.origin[2] + k * self.spacing[0])[:, None, None]
        y = (self.origin[1] + r * self.spacing[1])[None, :, None]
        x = (self.origin[0] + c * self.spacing[2])[None, None, :]
        return x, y, z


def ellipsoid(grid: Grid, center: Sequence[float], radii: Sequence[float]) -> np.ndarray:
    """Boolean mask of an ellipsoid given in patient mm."""
    x, y, z = grid.index_grid()
    return (
        ((x - center[0]) / radii[0]) ** 2 + ((y - center[1]) / radii[1]) ** 2 + ((z - center[2]) / radii[2]) ** 2
    ) <= 1.0


def soft_sphere(grid: Grid, center: Sequence[float], radius: float, edge_mm: float = 2.0) -> np.ndarray:
    """Float32 0..1 occupancy of a sphere with a linear soft edge ``edge_mm`` wide."""
    x, y, z = grid.index_grid()
    dist = np.sqrt((x - center[0]) ** 2 + (y - center[1]) ** 2 + (z - center[2]) ** 2)
    return np.clip((radius + edge_mm / 2 - dist) / edge_mm, 0.0, 1.0).astype(np.float32)


def organ_label_map(grid: Grid, n_organs: int = 3) -> np.ndarray:
    """A label map (uint8/uint16) of ``n_organs`` non-overlapping ellipsoids inside the body."""
    labels = np.zeros(grid.shape, dtype=np.uint8 if n_organs < 256 else np.uint16)
    extent = np.array(grid.shape[::-1]) * np.array(grid.spacing[::-1])  # x, y, z extent in mm
    centre = np.array(grid.origin) + extent / 2 - np.array(grid.spacing[::-1]) / 2
    cols = int(np.ceil(np.sqrt(n_organs)))
    cell = extent[:2] * 0.8 / cols
    for i in range(n_organs):
        r, c = divmod(i, cols)
        cx = centre[0] - extent[0] * 0.4 + cell[0] * (c + 0.5)
        cy = centre[1] - extent[1] * 0.4 + cell[1] * (r + 0.5)
        radii = (cell[0] * 0.4, cell[1] * 0.35, extent[2] * (0.25 + 0.1 * (i % 3)))
        labels[ellipsoid(grid, (cx, cy, centre[2]), radii) & (labels == 0)] = i + 1
    return labels


def ct_pixels(grid: Grid, labels: np.ndarray | None = None) -> np.ndarray:
    """int16 Hounsfield-like pixels: air outside an elliptic body, soft tissue, organs brighter."""
    x, y, _z = grid.index_grid()
    extent = np.array(grid.shape[::-1]) * np.array(grid.spacing[::-1])
    centre = np.array(grid.origin) + extent / 2
    body = (((x - centre[0]) / (extent[0] * 0.48)) ** 2 + ((y - centre[1]) / (extent[1] * 0.4)) ** 2) <= 1
    hu: np.ndarray = np.where(body, 40, -1000).astype(np.int16)
    hu = np.broadcast_to(hu, grid.shape).copy()
    if labels is not None:
        hu[labels > 0] = (60 + 10 * (labels[labels > 0] % 8)).astype(np.int16)
    return hu


def write_ct_series(
    folder: Path,
    grid: Grid = Grid(),
    *,
    pixels: np.ndarray | None = None,
    seed: str = "dcmspec-phantom",
    patient_name: str = "Phantom^Abdomen",
    patient_id: str = "PHANTOM001",
) -> list[Path]:
    """Write a CT Image Storage series (one file per slice) and return the file paths."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.filewriter import dcmwrite
    from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, UID, ExplicitVRLittleEndian

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if pixels is None:
        pixels = ct_pixels(grid)
    study_uid = derive_uid(seed, "study")
    series_uid = derive_uid(seed, "series")
    for_uid = derive_uid(seed, "frame-of-reference")
    paths = []
    for k in range(grid.shape[0]):
        sop_uid = derive_uid(seed, "instance", k)
        ds = Dataset()
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = UID(CT_IMAGE_STORAGE)
        meta.MediaStorageSOPInstanceUID = UID(sop_uid)
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
        ds.file_meta = meta
        ds.SpecificCharacterSet = "ISO_IR 100"
        ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
        ds.SOPClassUID = CT_IMAGE_STORAGE
        ds.SOPInstanceUID = sop_uid
        ds.StudyDate, ds.StudyTime = "20240102", "093000"
        ds.ContentDate, ds.ContentTime = "20240102", "093000"
        ds.AccessionNumber = "ACC0001"
        ds.Modality = "CT"
        ds.Manufacturer = "dcmspec phantom"
        ds.ReferringPhysicianName = ""
        ds.StudyDescription = "Synthetic abdomen phantom"
        ds.SeriesDescription = "Phantom CT"
        ds.PatientName = patient_name
        ds.PatientID = patient_id
        ds.PatientBirthDate = "19700101"
        ds.PatientSex = "O"
        ds.SliceThickness = grid.spacing[0]
        ds.KVP = 120
        ds.PatientPosition = "HFS"
        ds.StudyInstanceUID = study_uid
        ds.SeriesInstanceUID = series_uid
        ds.StudyID = "1"
        ds.SeriesNumber = 1
        ds.InstanceNumber = k + 1
        ds.ImagePositionPatient = [
            float(grid.origin[0]),
            float(grid.origin[1]),
            float(grid.origin[2] + k * grid.spacing[0]),
        ]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.FrameOfReferenceUID = for_uid
        ds.PositionReferenceIndicator = ""
        ds.SliceLocation = ds.ImagePositionPatient[2]
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.Rows, ds.Columns = grid.shape[1], grid.shape[2]
        ds.PixelSpacing = [grid.spacing[1], grid.spacing[2]]
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = 0, 1, "HU"
        ds.WindowCenter, ds.WindowWidth = 40, 400
        ds.PixelData = np.ascontiguousarray(pixels[k], dtype="<i2").tobytes()
        path = folder / f"CT{k + 1:04d}.dcm"
        dcmwrite(path, ds, enforce_file_format=True)
        paths.append(path)
    return paths


def _derived_image(template: Any, *, seed: str, name: str, index: int, sop_class_uid: str) -> Any:
    """A copy of the header ``template`` (patient, study, frame of reference kept) as image ``index`` of
    another series ``name``."""
    import copy

    ds = copy.deepcopy(template)
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = sop_class_uid
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = derive_uid(seed, name, "instance", index)
    ds.SeriesInstanceUID = derive_uid(seed, name, "series")
    ds.InstanceNumber = index + 1
    return ds


def write_pet_series(
    folder: Path, grid: Grid = Grid(), *, seed: str = "dcmspec-phantom", factor: int = 2
) -> list[Path]:
    """A PET-like series of the CT phantom's patient, study and frame of reference (what
    :func:`write_ct_series` writes with the same ``seed``): slices of ``factor`` times coarser pixels whose
    activity is high in the organs (Bq/ml = stored value x 10); one file per slice."""
    import pydicom
    from pydicom.filewriter import dcmwrite

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    labels = organ_label_map(grid)
    activity = np.where(labels > 0, 1000.0 + 500.0 * labels, 0.0)
    rows, cols = grid.shape[1] // factor, grid.shape[2] // factor
    coarse = activity[:, : rows * factor, : cols * factor].reshape(grid.shape[0], rows, factor, cols, factor)
    coarse = coarse.mean(axis=(2, 4))
    template_folder = folder.parent / "_ct_template"
    ct = write_ct_series(template_folder, grid, seed=seed)
    paths = []
    try:
        for k, ct_path in enumerate(ct):
            ds = _derived_image(
                pydicom.dcmread(ct_path), seed=seed, name="pet", index=k, sop_class_uid="1.2.840.10008.5.1.4.1.1.128"
            )
            ds.Modality = "PT"
            ds.SeriesDescription = "Phantom PET"
            ds.SeriesNumber = 2
            ds.ImageType = ["ORIGINAL", "PRIMARY"]
            for keyword in ("KVP", "RescaleType", "WindowCenter", "WindowWidth"):
                delattr(ds, keyword)
            ds.Units, ds.DecayCorrection, ds.CorrectedImage = "BQML", "START", ["DECY", "ATTN"]
            ds.SeriesDate, ds.SeriesTime = "20240102", "093000"
            ds.AcquisitionDate, ds.AcquisitionTime = "20240102", "093000"
            ds.Rows, ds.Columns = rows, cols
            ds.PixelSpacing = [grid.spacing[1] * factor, grid.spacing[2] * factor]
            ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
            ds.RescaleIntercept, ds.RescaleSlope = 0, 10
            ds.ImageIndex = k + 1
            ds.Laterality = ""
            ds.SeriesType, ds.CountsSource, ds.CollimatorType = ["STATIC", "IMAGE"], "EMISSION", "NONE"
            ds.RadiopharmaceuticalInformationSequence = []
            ds.PatientOrientationCodeSequence, ds.PatientGantryRelationshipCodeSequence = [], []
            del ds.PatientPosition  # NM/PET Patient Orientation replaces it
            ds.FrameReferenceTime, ds.ActualFrameDuration, ds.DecayFactor = 0, 600000, 1
            ds.NumberOfSlices = grid.shape[0]
            ds.PixelData = np.ascontiguousarray(np.round(coarse[k] / 10), dtype="<u2").tobytes()
            path = folder / f"PT{k + 1:04d}.dcm"
            dcmwrite(path, ds, enforce_file_format=True)
            paths.append(path)
    finally:
        for p in ct:
            p.unlink()
        template_folder.rmdir()
    return paths


def write_rgb_image(folder: Path, grid: Grid = Grid(), *, seed: str = "dcmspec-phantom") -> Path:
    """A secondary capture in colour (RGB) of the phantom's middle slice, of the same patient and study:
    grey body, organs in red, green and blue."""
    import pydicom
    from pydicom.filewriter import dcmwrite

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    template_folder = folder.parent / "_rgb_template"
    ct = write_ct_series(template_folder, grid, seed=seed)
    try:
        ds = _derived_image(
            pydicom.dcmread(ct[grid.shape[0] // 2]),
            seed=seed,
            name="rgb",
            index=0,
            sop_class_uid="1.2.840.10008.5.1.4.1.1.7",
        )
    finally:
        for p in ct:
            p.unlink()
        template_folder.rmdir()
    labels = organ_label_map(grid)[grid.shape[0] // 2]
    body = ct_pixels(grid)[grid.shape[0] // 2] > -500
    rgb = np.where(body[..., None], 128, 0).astype(np.uint8).repeat(3, axis=2)
    for value, color in ((1, (220, 40, 40)), (2, (40, 200, 40)), (3, (40, 40, 220))):
        rgb[labels == value] = color
    for keyword in (
        "KVP",
        "RescaleType",
        "RescaleIntercept",
        "RescaleSlope",
        "WindowCenter",
        "WindowWidth",
        "SliceThickness",
        "SliceLocation",
        "PatientPosition",
        "ImagePositionPatient",
        "ImageOrientationPatient",
        "PixelSpacing",
        "FrameOfReferenceUID",
        "PositionReferenceIndicator",
    ):
        if keyword in ds:
            delattr(ds, keyword)
    ds.Modality = "OT"
    ds.Laterality, ds.PatientOrientation = "", ""
    ds.ConversionType = "WSD"
    ds.ImageType = ["DERIVED", "SECONDARY"]
    ds.SeriesDescription = "Phantom colour capture"
    ds.SeriesNumber = 3
    ds.SamplesPerPixel = 3
    ds.PhotometricInterpretation = "RGB"
    ds.PlanarConfiguration = 0
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PixelData = rgb.tobytes()
    path = folder / "SC0001.dcm"
    dcmwrite(path, ds, enforce_file_format=True)
    return path
