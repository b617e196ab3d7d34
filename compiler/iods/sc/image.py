"""Secondary Capture images (PS3.3 A.8): pictures made by a workstation, as DICOM.

:class:`SCImage` is Secondary Capture Image Storage (A.8.1), one frame; :class:`MultiFrameSCImage` the
multi-frame classes whose pixel forms it fits: Multi-frame Grayscale Byte (A.8.3), Grayscale Word (A.8.4)
and True Colour (A.8.5) SC Image Storage. Pixels are MONOCHROME2 (uint8 or uint16) or RGB (uint8,
colour-by-pixel), stored natively.

Modules written: Patient, Clinical Trial Subject, General Study, Patient Study (copied from a source image,
or from a header holding the spec's patient and study), General Series, General Equipment, SC Equipment
(C.8.6.1), General Image (C.7.6.1), General Reference (C.12.4: Source Image and Source Instance
Sequences), Image Pixel (C.7.6.3), SC Image (C.8.6.2), VOI LUT (C.11.2, an optional window for grey
pictures), SOP Common; for the multi-frame classes also Multi-frame (C.7.6.6), SC Multi-frame Image
(C.8.6.3) and SC Multi-frame Vector (C.8.6.4, the frames numbered by Page Number Vector).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag

from ...errors import DicomConformanceError
from ..common.codes import code_sequence
from ..common.concept import Code
from ..common.modules import (
    Equipment,
    copy_patient_study,
    dicom_date_time,
    referenced_instance_item,
    set_content_date_time,
    set_general_series,
    set_sop_common,
)
from ..common.native import set_native_encoding
from ..common.vr import check_object, check_value
from ..common.wrap import wrap_file_dataset

__all__ = ["CONVERSION_TYPES", "SC_SOP_CLASSES", "MultiFrameSCImage", "SCImage", "scread"]

SC_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.7"
GRAYSCALE_BYTE_SC = "1.2.840.10008.5.1.4.1.1.7.2"
GRAYSCALE_WORD_SC = "1.2.840.10008.5.1.4.1.1.7.3"
TRUE_COLOR_SC = "1.2.840.10008.5.1.4.1.1.7.4"
SC_SOP_CLASSES = frozenset({SC_IMAGE_STORAGE, GRAYSCALE_BYTE_SC, GRAYSCALE_WORD_SC, TRUE_COLOR_SC})
#: Conversion Type (0008,0064) defined terms (PS3.3 C.8.6.1)
CONVERSION_TYPES = {
    "DV": "Digitized Video",
    "DI": "Digital Interface",
    "DF": "Digitized Film",
    "WSD": "Workstation",
    "SD": "Scanned Document",
    "SI": "Scanned Image",
    "DRW": "Drawing",
    "SYN": "Synthetic Image",
}
#: PS3.16 CID 7202: why a source image is referenced
PURPOSE_SOURCE_FOR_PROCESSING = Code("121322", "DCM", "Source image for image processing operation")
PAGE_NUMBER_VECTOR = BaseTag(0x00182001)


def _pixel_form(pixels: np.ndarray, multi_frame: bool) -> tuple[np.ndarray, str]:
    """The pixels as a C-contiguous array of (frames,) rows, columns[, 3], and the photometric
    interpretation; refuses forms the SC IODs do not hold (PS3.3 A.8)."""
    a = np.asarray(pixels)
    frame_dims = a.ndim - (1 if multi_frame else 0)
    colour = frame_dims == 3 and a.shape[-1] == 3
    shape = "(frames, rows, columns[, 3])" if multi_frame else "(rows, columns) or (rows, columns, 3)"
    if frame_dims not in (2, 3) or (frame_dims == 3 and not colour):
        raise DicomConformanceError(
            f"pixels of shape {a.shape}: a{' multi-frame' if multi_frame else 'n'} SC image"
            f" takes {shape}, the last axis 3 for RGB (PS3.3 A.8)"
        )
    if 0 in a.shape:
        raise DicomConformanceError(f"pixels of shape {a.shape}: the picture is empty")
    if colour and a.dtype != np.uint8:
        raise DicomConformanceError(f"RGB pixels must be uint8 (8 bits per sample, PS3.3 A.8), got {a.dtype}")
    if not colour and a.dtype not in (np.uint8, np.uint16):
        raise DicomConformanceError(
            f"grey pixels must be uint8 or uint16 (MONOCHROME2, unsigned), got {a.dtype}: scale or window them first"
        )
    rows, columns = a.shape[-3:-1] if colour else a.shape[-2:]
    if rows > 65535 or columns > 65535:
        raise DicomConformanceError(f"a picture of {rows} x {columns} pixels: Rows and Columns are at most 65535")
    return np.ascontiguousarray(a), ("RGB" if colour else "MONOCHROME2")


class SCImage(Dataset):
    """Secondary Capture Image Storage (PS3.3 A.8.1): one picture, MONOCHROME2 or RGB.

    ``pixels``: (rows, columns) uint8/uint16 grey or (rows, columns, 3) uint8 RGB. ``patient_study``: a
    source image (or a header holding the patient and study) whose Patient and Study modules are copied.
    ``source_images``: images the picture was made from (Source Image Sequence); ``source_instances``:
    other objects it shows (a SEG, a presentation state: Source Instance Sequence).
    ``conversion_type``: C.8.6.1 (WSD, workstation, by default). ``window``: (centre, width) for grey.

    >>> import datetime, numpy as np
    >>> from pydicom.dataset import Dataset
    >>> from dcmspec_compiler.iods.common.modules import Equipment
    >>> from dcmspec_compiler.iods.sc import SCImage
    >>> patient = Dataset(); patient.PatientID = "P1"; patient.StudyInstanceUID = "2.25.1"
    >>> picture = np.zeros((4, 6, 3), np.uint8); picture[1, 2] = (255, 0, 0)
    >>> sc = SCImage(picture, patient_study=patient, series_instance_uid="2.25.2", series_number=1,
    ...              sop_instance_uid="2.25.3", content_datetime=datetime.datetime(2024, 1, 2, 3, 4, 5),
    ...              equipment=Equipment("Lab", "Viewer", "1.0", "0001"))
    >>> sc.PhotometricInterpretation, sc.Rows, sc.Columns, sc.ConversionType
    ('RGB', 4, 6, 'WSD')
    >>> bool((sc.pixels() == picture).all())
    True
    """

    SOP_CLASS_UID: ClassVar[str] = SC_IMAGE_STORAGE
    MULTI_FRAME: ClassVar[bool] = False

    def __init__(
        self,
        pixels: np.ndarray,
        *,
        patient_study: Dataset,
        series_instance_uid: str,
        series_number: int,
        sop_instance_uid: str,
        content_datetime: _dt.datetime,
        equipment: Equipment,
        instance_number: int = 1,
        conversion_type: str = "WSD",
        modality: str = "OT",
        source_images: Sequence[Dataset] = (),
        source_instances: Sequence[Dataset] = (),
        derivation_description: str | None = None,
        burned_in_annotation: bool = False,
        window: tuple[float, float] | None = None,
        series_description: str | None = None,
        image_comments: str | None = None,
        specific_character_set: str = "ISO_IR 192",
    ) -> None:
        super().__init__()
        data, photometric = _pixel_form(pixels, self.MULTI_FRAME)
        if conversion_type not in CONVERSION_TYPES:
            raise DicomConformanceError(
                f"Conversion Type {conversion_type!r} is not one of {', '.join(CONVERSION_TYPES)} (PS3.3 C.8.6.1)"
            )
        if not isinstance(content_datetime, _dt.datetime):
            raise DicomConformanceError("the content date and time are required (General Image, C.7.6.1)")
        sop_class = self._sop_class(data, photometric)
        # --- SOP Common, Patient/Study, General Series, Equipment ----------------------------------
        set_sop_common(
            self,
            sop_class_uid=sop_class,
            sop_instance_uid=sop_instance_uid,
            created=content_datetime,
            specific_character_set=specific_character_set,
        )
        copy_patient_study(self, patient_study)
        check_value("Modality", "CS", modality)
        set_general_series(
            self,
            modality=modality,
            series_instance_uid=series_instance_uid,
            series_number=series_number,
            series_description=series_description,
            laterality_empty=True,
        )
        equipment.apply(self, enhanced=False)
        # --- SC Equipment (C.8.6.1) --------------------------------------------------------------------
        self.ConversionType = conversion_type
        self.SecondaryCaptureDeviceManufacturer = equipment.manufacturer
        self.SecondaryCaptureDeviceManufacturerModelName = equipment.manufacturer_model_name
        sw = equipment.software_versions
        self.SecondaryCaptureDeviceSoftwareVersions = list(sw) if not isinstance(sw, str) else sw
        # --- General Image (C.7.6.1) and SC Image (C.8.6.2) ----------------------------------------
        self.InstanceNumber = int(instance_number)
        self.PatientOrientation = None
        set_content_date_time(self, content_datetime)
        self.ImageType = ["DERIVED", "SECONDARY"]
        if derivation_description:
            self.DerivationDescription = derivation_description
        self.BurnedInAnnotation = "YES" if burned_in_annotation else "NO"
        self.LossyImageCompression = "00"
        if image_comments:
            self.ImageComments = image_comments
        self.DateOfSecondaryCapture, self.TimeOfSecondaryCapture = dicom_date_time(content_datetime)
        # --- General Reference (C.12.4) ------------------------------------------------------------
        if source_images:
            items = []
            for src in source_images:
                item = referenced_instance_item(str(src.SOPClassUID), str(src.SOPInstanceUID))
                item.PurposeOfReferenceCodeSequence = code_sequence(PURPOSE_SOURCE_FOR_PROCESSING)
                items.append(item)
            self.SourceImageSequence = items
        if source_instances:
            self.SourceInstanceSequence = [
                referenced_instance_item(str(s.SOPClassUID), str(s.SOPInstanceUID)) for s in source_instances
            ]
        # --- Image Pixel (C.7.6.3) -----------------------------------------------------------------
        self._set_pixels(data, photometric)
        if window is not None:
            if photometric != "MONOCHROME2":
                raise DicomConformanceError("a window (VOI LUT, C.11.2) applies to grey pictures, not RGB")
            center, width = (float(v) for v in window)
            if not width >= 1:
                raise DicomConformanceError(f"Window Width {width} must be at least 1 (C.11.2.1.2)")
            self.WindowCenter, self.WindowWidth = f"{center:.6g}", f"{width:.6g}"
        self._multi_frame_modules(data, photometric)
        check_object(self)
        set_native_encoding(self)

    # -- pixel data --------------------------------------------------------------------------------
    def _sop_class(self, data: np.ndarray, photometric: str) -> str:
        return self.SOP_CLASS_UID

    def _multi_frame_modules(self, data: np.ndarray, photometric: str) -> None:
        """Nothing for one frame; see :class:`MultiFrameSCImage`."""

    def _set_pixels(self, data: np.ndarray, photometric: str) -> None:
        bits = data.dtype.itemsize * 8
        colour = photometric == "RGB"
        self.SamplesPerPixel = 3 if colour else 1
        self.PhotometricInterpretation = photometric
        if colour:
            self.PlanarConfiguration = 0
        self.Rows, self.Columns = (int(v) for v in (data.shape[-3:-1] if colour else data.shape[-2:]))
        self.BitsAllocated = bits
        self.BitsStored = bits
        self.HighBit = bits - 1
        self.PixelRepresentation = 0
        raw = data.astype(data.dtype.newbyteorder("<"), copy=False).tobytes()
        if len(raw) % 2:
            raw += b"\x00"  # PS3.5 8.1.1: Pixel Data has an even length
        self.add_new(0x7FE00010, "OB" if bits == 8 else "OW", raw)

    # -- reading ---------------------------------------------------------------------------------
    @classmethod
    def from_dataset(cls, ds: Dataset) -> SCImage:
        """Wrap a Secondary Capture dataset read from a file (any writer) for the read-side methods."""
        if str(ds.get("SOPClassUID", "")) not in SC_SOP_CLASSES:
            raise DicomConformanceError(
                f"SOP Class {ds.get('SOPClassUID')} is not one of the Secondary Capture"
                " image classes this reads (SC, multi-frame grayscale byte/word, true colour)"
            )
        target = cls if str(ds.SOPClassUID) == SC_IMAGE_STORAGE else MultiFrameSCImage
        return wrap_file_dataset(target, ds)

    def pixels(self) -> np.ndarray:
        """The stored pixels: (rows, columns[, 3]); multi-frame: (frames, rows, columns[, 3]).

        Native (uncompressed) transfer syntaxes are decoded here; compressed ones by pydicom's decoders."""
        rows, columns, samples = int(self.Rows), int(self.Columns), int(self.SamplesPerPixel)
        frames = int(self.get("NumberOfFrames") or 1)
        ts = str(getattr(getattr(self, "file_meta", None), "TransferSyntaxUID", pydicom.uid.ExplicitVRLittleEndian))
        if ts in (pydicom.uid.ImplicitVRLittleEndian, pydicom.uid.ExplicitVRLittleEndian) and int(
            self.BitsAllocated
        ) in (8, 16):
            dtype = np.dtype("<u2" if int(self.BitsAllocated) == 16 else "u1")
            count = frames * rows * columns * samples
            flat = np.frombuffer(self.PixelData, dtype=dtype, count=count)
            if samples == 3 and int(self.get("PlanarConfiguration", 0)) == 1:
                flat = flat.reshape(frames, 3, rows, columns).transpose(0, 2, 3, 1)
            out = flat.reshape((frames, rows, columns) + ((3,) if samples == 3 else ())).astype(dtype.newbyteorder("="))
        else:
            out = self.pixel_array
            if frames == 1:
                out = out[np.newaxis]
        return out if self.MULTI_FRAME or frames > 1 else out[0]


class MultiFrameSCImage(SCImage):
    """The multi-frame SC classes (PS3.3 A.8.3-A.8.5): uint8 grey -> Multi-frame Grayscale Byte SC,
    uint16 grey -> Multi-frame Grayscale Word SC, uint8 RGB -> Multi-frame True Color SC.

    ``pixels``: (frames, rows, columns) or (frames, rows, columns, 3); other arguments as :class:`SCImage`.
    The frames are numbered 1..n by Page Number Vector, which Frame Increment Pointer names (C.8.6.4).

    >>> import datetime, numpy as np
    >>> from pydicom.dataset import Dataset
    >>> from dcmspec_compiler.iods.common.modules import Equipment
    >>> from dcmspec_compiler.iods.sc import MultiFrameSCImage
    >>> patient = Dataset(); patient.PatientID = "P1"; patient.StudyInstanceUID = "2.25.1"
    >>> frames = np.arange(3 * 4 * 5, dtype=np.uint16).reshape(3, 4, 5) * 1000
    >>> sc = MultiFrameSCImage(frames, patient_study=patient, series_instance_uid="2.25.2", series_number=1,
    ...                        sop_instance_uid="2.25.3", content_datetime=datetime.datetime(2024, 1, 2, 3, 4, 5),
    ...                        equipment=Equipment("Lab", "Viewer", "1.0", "0001"))
    >>> sc.SOPClassUID.name, int(sc.NumberOfFrames), int(sc.BitsAllocated)
    ('Multi-frame Grayscale Word Secondary Capture Image Storage', 3, 16)
    >>> bool((sc.pixels() == frames).all())
    True
    """

    MULTI_FRAME: ClassVar[bool] = True

    def _sop_class(self, data: np.ndarray, photometric: str) -> str:
        if photometric == "RGB":
            return TRUE_COLOR_SC
        return GRAYSCALE_BYTE_SC if data.dtype == np.uint8 else GRAYSCALE_WORD_SC

    def _multi_frame_modules(self, data: np.ndarray, photometric: str) -> None:
        frames = int(data.shape[0])
        self.NumberOfFrames = frames
        self.FrameIncrementPointer = PAGE_NUMBER_VECTOR
        self.PageNumberVector = list(range(1, frames + 1))
        if photometric == "MONOCHROME2":  # C.8.6.3: identity rescale and presentation LUT
            self.PresentationLUTShape = "IDENTITY"
            self.RescaleIntercept = 0
            self.RescaleSlope = 1
            self.RescaleType = "US"


def scread(source: str | Path | Dataset) -> SCImage:
    """Read a Secondary Capture image (path or dataset); other SOP classes are refused."""
    ds = source if isinstance(source, Dataset) else pydicom.dcmread(str(source))
    return SCImage.from_dataset(ds)
