"""A synthetic whole-slide image: one VL Whole Slide Microscopy Image (PS3.3 A.32.8), made as the CT phantom is.

Used by ``specs_examples/`` (its ``phantom/slide/slide.dcm`` is made by :func:`write_slide_image`), by the test
suite and by ``bench/``. A grey (MONOCHROME2, so no ICC profile is needed) tissue section with dark round
"nuclei" at :func:`nucleus_centres`, stored as tiles with their positions (TILED_SPARSE). Everything is
deterministic: the same arguments give the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..iods.common.uid import derive_uid

if TYPE_CHECKING:
    import numpy.typing as npt
    from pydicom.dataset import Dataset

VL_WSI_STORAGE = "1.2.840.10008.5.1.4.1.1.77.1.6"


@dataclass(frozen=True)
class Slide:
    """Geometry of the image: ``size`` (columns, rows) of the Total Pixel Matrix, square ``tile`` size,
    ``spacing`` (mm per pixel), ``origin`` (X, Y offset of the matrix's top left corner in the Slide
    Coordinate System, mm; PS3.3 C.8.12.2.1.1)."""

    size: tuple[int, int] = (256, 256)
    tile: int = 128
    spacing: float = 0.0005
    origin: tuple[float, float] = (20.0, 40.0)
    thickness: float = 0.005

    def to_slide(self, points: npt.ArrayLike) -> np.ndarray:
        """(column, row) Total Pixel Matrix coordinates (0,0 = top left corner) to slide (X, Y) mm, with the
        phantom's Image Orientation (Slide) 0\\-1\\0\\-1\\0\\0: rows run along -X, columns along -Y."""
        xy = np.asarray(points, dtype=np.float64)
        x = self.origin[0] - xy[..., 1] * self.spacing
        y = self.origin[1] - xy[..., 0] * self.spacing
        return np.stack([x, y], axis=-1)


def nucleus_centres(slide: Slide = Slide(), count: int = 24, seed: int = 7) -> np.ndarray:
    """(count, 2) float (column, row) centres of the phantom's nuclei, inside the matrix."""
    rng = np.random.default_rng(seed)
    margin = 12
    cols = rng.uniform(margin, slide.size[0] - margin, count)
    rows = rng.uniform(margin, slide.size[1] - margin, count)
    return np.round(np.stack([cols, rows], axis=1), 1)


def slide_pixels(slide: Slide = Slide(), radius: float = 6.0) -> np.ndarray:
    """uint8 (rows, columns) grey levels: bright tissue, dark nuclei."""
    columns, rows = slide.size
    # float64: the same arithmetic under NumPy 1 (value-based casting) and 2 (NEP 50), so the same bytes
    c = np.arange(columns, dtype=np.float64)[None, :] + 0.5
    r = np.arange(rows, dtype=np.float64)[:, None] + 0.5
    image = np.full((rows, columns), 220, dtype=np.uint8)
    for cx, cy in nucleus_centres(slide):
        inside = (c - cx) ** 2 + (r - cy) ** 2 <= radius**2
        image[inside] = 70
    return image


def _code(value: str, scheme: str, meaning: str) -> Dataset:
    from pydicom.dataset import Dataset

    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, scheme, meaning
    return item


def write_slide_image(
    path: Path,
    slide: Slide = Slide(),
    *,
    seed: str = "dcmspec-slide",
    patient_name: str = "Phantom^Slide",
    patient_id: str = "PHANTOM002",
) -> Path:
    """Write a VL Whole Slide Microscopy Image (one pyramid level, tiled, MONOCHROME2) and return its path."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.filewriter import dcmwrite
    from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, UID, ExplicitVRLittleEndian

    from ..iods.common.dimensions import set_multi_frame_dimension

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    columns, rows = slide.size
    tile = slide.tile
    if columns % tile or rows % tile:
        raise ValueError("the phantom's matrix size must be a whole number of tiles")
    sop_uid = derive_uid(seed, "instance")
    ds = Dataset()
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UID(VL_WSI_STORAGE)
    meta.MediaStorageSOPInstanceUID = UID(sop_uid)
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    meta.ImplementationVersionName = "DCMSPEC PHANTOM"  # not pydicom's version: the same bytes with any pydicom
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "VOLUME", "NONE"]
    ds.SOPClassUID = VL_WSI_STORAGE
    ds.SOPInstanceUID = sop_uid
    ds.StudyDate, ds.StudyTime = "20240105", "101500"
    ds.ContentDate, ds.ContentTime = "20240105", "101500"
    ds.AcquisitionDateTime = "20240105101500"
    ds.AccessionNumber = "ACC0002"
    ds.Modality = "SM"
    ds.Manufacturer = "dcmspec phantom"
    ds.ManufacturerModelName = "slide phantom"
    ds.DeviceSerialNumber = "0001"
    ds.SoftwareVersions = "1"
    ds.ReferringPhysicianName = ""
    ds.StudyDescription = "Synthetic slide phantom"
    ds.SeriesDescription = "Phantom slide"
    ds.VolumetricProperties = "VOLUME"
    ds.PatientName = patient_name
    ds.PatientID = patient_id
    ds.PatientBirthDate = "19700101"
    ds.PatientSex = "O"
    ds.StudyInstanceUID = derive_uid(seed, "study")
    ds.SeriesInstanceUID = derive_uid(seed, "series")
    ds.StudyID = "1"
    ds.SeriesNumber = 1
    ds.InstanceNumber = 1
    ds.FrameOfReferenceUID = derive_uid(seed, "frame-of-reference")
    ds.PositionReferenceIndicator = "SLIDE_CORNER"
    # --- Multi-frame Dimension (C.7.6.17): tiles by row, then column ----------------------------
    set_multi_frame_dimension(
        ds,
        derive_uid(seed, "dimension-organization"),
        [(0x0048021F, 0x0048021A, "Row tile index"), (0x0048021E, 0x0048021A, "Column tile index")],
        "TILED_SPARSE",  # per-frame positions written (dciodvfy looks for them)
    )
    # --- Image Pixel, Multi-frame --------------------------------------------------------------
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    n_frames = (columns // tile) * (rows // tile)
    ds.NumberOfFrames = n_frames
    ds.Rows = ds.Columns = tile
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PresentationLUTShape = "IDENTITY"  # MONOCHROME2 WSI: C.8.12.4.1.x
    ds.RescaleIntercept, ds.RescaleSlope = 0, 1
    ds.BurnedInAnnotation = "NO"
    ds.LossyImageCompression = "00"
    ds.SpecimenLabelInImage = "NO"
    ds.FocusMethod = "AUTO"
    ds.ExtendedDepthOfField = "NO"
    # --- Specimen (C.7.6.22) ------------------------------------------------------------------
    ds.ContainerIdentifier = "SLIDE-0001"
    ds.IssuerOfTheContainerIdentifierSequence = []
    ds.ContainerTypeCodeSequence = [_code("433466003", "SCT", "Microscope slide")]
    specimen = Dataset()
    specimen.SpecimenIdentifier = "SPECIMEN-0001"
    specimen.SpecimenUID = derive_uid(seed, "specimen")
    specimen.IssuerOfTheSpecimenIdentifierSequence = []
    specimen.SpecimenPreparationSequence = []
    specimen.PrimaryAnatomicStructureSequence = [_code("10200004", "SCT", "Liver")]
    ds.SpecimenDescriptionSequence = [specimen]
    ds.AcquisitionContextSequence = []
    # --- Whole Slide Microscopy Image (C.8.12.4) ------------------------------------------------
    ds.ImagedVolumeWidth = columns * slide.spacing
    ds.ImagedVolumeHeight = rows * slide.spacing
    ds.ImagedVolumeDepth = slide.thickness
    ds.TotalPixelMatrixColumns = columns
    ds.TotalPixelMatrixRows = rows
    origin = Dataset()
    origin.XOffsetInSlideCoordinateSystem = slide.origin[0]
    origin.YOffsetInSlideCoordinateSystem = slide.origin[1]
    ds.TotalPixelMatrixOriginSequence = [origin]
    ds.ImageOrientationSlide = [0, -1, 0, -1, 0, 0]
    ds.TotalPixelMatrixFocalPlanes = 1
    # --- Optical Path (C.8.12.5) ----------------------------------------------------------------
    path_item = Dataset()
    path_item.OpticalPathIdentifier = "1"
    path_item.IlluminationTypeCodeSequence = [_code("111744", "DCM", "Brightfield illumination")]
    path_item.IlluminationColorCodeSequence = [_code("414298005", "SCT", "Full Spectrum")]
    ds.OpticalPathSequence = [path_item]
    ds.NumberOfOpticalPaths = 1
    # --- Shared Functional Groups (C.8.12.6) --------------------------------------------------
    shared = Dataset()
    measures = Dataset()
    measures.PixelSpacing = [slide.spacing, slide.spacing]
    measures.SliceThickness = slide.thickness
    shared.PixelMeasuresSequence = [measures]
    frame_type = Dataset()
    frame_type.FrameType = ["ORIGINAL", "PRIMARY", "VOLUME", "NONE"]
    shared.WholeSlideMicroscopyImageFrameTypeSequence = [frame_type]
    optical = Dataset()
    optical.OpticalPathIdentifier = "1"
    shared.OpticalPathIdentificationSequence = [optical]
    ds.SharedFunctionalGroupsSequence = [shared]
    per_frame = []
    for r in range(rows // tile):
        for c in range(columns // tile):
            position = Dataset()
            position.ColumnPositionInTotalImagePixelMatrix = c * tile + 1
            position.RowPositionInTotalImagePixelMatrix = r * tile + 1
            x, y = slide.to_slide([c * tile, r * tile])
            position.XOffsetInSlideCoordinateSystem = round(float(x), 6)
            position.YOffsetInSlideCoordinateSystem = round(float(y), 6)
            position.ZOffsetInSlideCoordinateSystem = 0.0
            frame = Dataset()
            frame.PlanePositionSlideSequence = [position]
            per_frame.append(frame)
    ds.PerFrameFunctionalGroupsSequence = per_frame
    # --- Pixel Data: tiles row by row ------------------------------------------------------------
    image = slide_pixels(slide)
    tiles = image.reshape(rows // tile, tile, columns // tile, tile).transpose(0, 2, 1, 3)
    ds.PixelData = np.ascontiguousarray(tiles).tobytes()
    dcmwrite(path, ds, enforce_file_format=True)
    return path
