"""Segmentation Storage and Label Map Segmentation Storage (PS3.3 A.51, C.8.20)."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from os import PathLike

import numpy as np
from pydicom import dcmread
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate
from pydicom.uid import UID, ExplicitVRLittleEndian, RLELossless

from ...errors import DicomConformanceError
from ...io.rle import rle_encode_frames
from ..common import encoding as enc
from ..common import modules as common
from ..common.dimensions import set_multi_frame_dimension
from ..common.frames import FramePlan, build_functional_groups
from ..common.sources import analyze_sources
from ..common.spacing import SliceSpacing
from ..common.uid import derive_uid
from ..common.vr import check_object
from .pixels import native_pixel_data
from .prepare import PreparedPixels, prepare_pixels
from .read import SegmentationReader
from .segment import SegmentDescription

SEGMENTATION_STORAGE = "1.2.840.10008.5.1.4.1.1.66.4"
LABEL_MAP_SEGMENTATION_STORAGE = "1.2.840.10008.5.1.4.1.1.66.7"
SEGMENTATION_TYPES = ("BINARY", "FRACTIONAL", "LABELMAP")
FRACTIONAL_TYPES = ("PROBABILITY", "OCCUPANCY")
TRANSFER_SYNTAXES = (ExplicitVRLittleEndian, RLELossless)


def check_encoding(
    segmentation_type: str,
    transfer_syntax_uid: str = ExplicitVRLittleEndian,
    fractional_type: str | None = None,
    max_fractional_value: int = 255,
) -> tuple[str, str | None]:
    """Segmentation Type, transfer syntax and the fractional attributes checked together (PS3.3 C.8.20.2,
    PS3.5 G.2); returns the type and the fractional type, upper-cased. Callers can run it before building
    to report a refusal beside the spec's other errors."""
    seg_type = str(segmentation_type).upper()
    if seg_type not in SEGMENTATION_TYPES:
        raise DicomConformanceError(
            f"Segmentation Type (0062,0001) must be one of {', '.join(SEGMENTATION_TYPES)}, got {segmentation_type!r}"
        )
    if transfer_syntax_uid not in TRANSFER_SYNTAXES:
        raise DicomConformanceError(
            f"transfer syntax {transfer_syntax_uid} is not supported: use Explicit VR Little Endian"
            f" ({ExplicitVRLittleEndian}) or RLE Lossless ({RLELossless})"
        )
    if seg_type == "BINARY" and transfer_syntax_uid == RLELossless:
        # PS3.5 G.2 pads each 1-bit pixel to a byte while toolkits expect packed bits (pydicom
        # 3 cannot decode 1-bit RLE at all): such a file would be conformant but unreadable.
        raise DicomConformanceError(
            "RLE Lossless is not offered for BINARY segmentations (1-bit pixels): readers disagree on"
            " how PS3.5 Annex G applies to them and pydicom cannot decode them; use LABELMAP for"
            " compressed non-overlapping segments, or Explicit VR Little Endian"
        )
    if seg_type == "FRACTIONAL":
        fractional_type = str(fractional_type or "").upper()
        if fractional_type not in FRACTIONAL_TYPES:
            raise DicomConformanceError(
                "Segmentation Fractional Type (0062,0010) is required for a FRACTIONAL Segmentation"
                f" and must be PROBABILITY or OCCUPANCY, got {fractional_type or None!r}"
            )
        if (
            isinstance(max_fractional_value, bool)
            or not isinstance(max_fractional_value, int)
            or not (1 <= max_fractional_value <= 255)
        ):
            raise DicomConformanceError(
                "Maximum Fractional Value (0062,000E) must be an integer 1-255 for 8-bit FRACTIONAL"
                f" pixels, got {max_fractional_value!r}"
            )
    elif fractional_type is not None:
        raise DicomConformanceError(
            f"Segmentation Fractional Type (0062,0010) applies only to FRACTIONAL, not {seg_type}"
        )
    return seg_type, fractional_type


class Segmentation(SegmentationReader, Dataset):
    """A Segmentation (BINARY, FRACTIONAL) or Label Map Segmentation (LABELMAP) instance (PS3.3 A.51).

    Build one from source image headers and a pixel array, or wrap a dataset read from a file with
    :meth:`from_dataset` / :func:`segread`; the read-back methods work on both.

    ``pixel_array`` is either ``(frames, rows, columns)`` of integers (a label map whose values are
    segment numbers, 0 = background) or ``(frames, rows, columns, segments)`` of bool (BINARY,
    LABELMAP) or float 0..1 (FRACTIONAL) with one channel per entry of ``segment_descriptions``.
    Frames correspond 1:1, in order, to the frames of ``source_images`` (single-frame images in frame
    order, or one multi-frame image).

    ``label_presence`` (optional, label maps only) is ``prepare.label_presence(pixel_array)`` when the
    caller has computed it already (e.g. to warn about label values): it is trusted, and saves the
    builder a pass over the volume. Pixel Data is one ``bytearray`` (native) written chunk by chunk.

    Example: a BINARY segmentation of a box drawn on a small synthetic CT (4 slices of 16 x 16), written and
    read back.

    >>> import datetime, tempfile
    >>> from pathlib import Path
    >>> import numpy as np, pydicom
    >>> from pydicom.sr.codedict import codes
    >>> from dcmspec_compiler.testing.phantom import Grid, write_ct_series
    >>> from dcmspec_compiler.iods.common.modules import Equipment
    >>> from dcmspec_compiler.iods.seg import Segmentation, SegmentDescription, segread
    >>> folder = tempfile.TemporaryDirectory()
    >>> ct = [pydicom.dcmread(p) for p in write_ct_series(Path(folder.name), Grid(shape=(4, 16, 16)))]
    >>> mask = np.zeros((4, 16, 16), dtype=np.uint8)
    >>> mask[1:3, 4:12, 4:12] = 1
    >>> lesion = SegmentDescription(
    ...     segment_number=1, segment_label="Lesion", algorithm_type="MANUAL",
    ...     segmented_property_category=codes.SCT.MorphologicallyAbnormalStructure,
    ...     segmented_property_type=codes.SCT.Lesion)
    >>> seg = Segmentation(
    ...     source_images=ct, pixel_array=mask, segmentation_type="BINARY", segment_descriptions=[lesion],
    ...     series_instance_uid="2.25.1", series_number=300, sop_instance_uid="2.25.2", instance_number=1,
    ...     equipment=Equipment("Example Lab", "Example tool", "1.0", "0001"),
    ...     content_datetime=datetime.datetime(2024, 1, 2, 10, 0))
    >>> seg.SOPClassUID.name
    'Segmentation Storage'
    >>> seg.save_as(Path(folder.name) / "seg.dcm", enforce_file_format=True)
    >>> back = segread(Path(folder.name) / "seg.dcm")
    >>> [s.segment_label for s in back.find_segments(label="Lesion")]
    ['Lesion']
    >>> bool((back.get_volume([1]).array[..., 0] == mask[1:3]).all())
    True
    >>> folder.cleanup()
    """

    def __init__(
        self,
        *,
        source_images: Sequence[Dataset],
        pixel_array: np.ndarray,
        segmentation_type: str,
        segment_descriptions: Sequence[SegmentDescription],
        series_instance_uid: str,
        series_number: int,
        sop_instance_uid: str,
        instance_number: int,
        equipment: common.Equipment,
        content_datetime: _dt.datetime,
        content_label: str = "SEGMENTATION",
        content_description: str | None = None,
        content_creator_name: str | None = None,
        series_description: str | None = None,
        fractional_type: str | None = None,
        max_fractional_value: int = 255,
        omit_empty_frames: bool = True,
        transfer_syntax_uid: str = ExplicitVRLittleEndian,
        label_presence: np.ndarray | None = None,
    ) -> None:
        super().__init__()
        seg_type, fractional_type = check_encoding(
            segmentation_type, transfer_syntax_uid, fractional_type, max_fractional_value
        )
        if not isinstance(content_datetime, _dt.datetime):
            raise DicomConformanceError("content_datetime must be a datetime (Content Date and Time)")

        descriptions = list(segment_descriptions)
        if not descriptions:
            raise DicomConformanceError("Segment Sequence (0062,0002) needs at least one segment")
        for d in descriptions:
            if not isinstance(d, SegmentDescription):
                raise DicomConformanceError("segment_descriptions must be SegmentDescription objects")
        numbers = [d.segment_number for d in descriptions]
        if len(set(numbers)) != len(numbers):
            dup = sorted({n for n in numbers if numbers.count(n) > 1})
            raise DicomConformanceError(
                f"Segment Number (0062,0004) values must be unique within the Segmentation; {dup} repeat"
            )
        if seg_type != "LABELMAP" and numbers != list(range(1, len(numbers) + 1)):
            raise DicomConformanceError(
                f"Segment Numbers of a {seg_type} Segmentation shall start at 1 and increase by 1 in the"
                f" order of the Segment Sequence (PS3.3 C.8.20.2); got {numbers}"
            )
        if seg_type == "LABELMAP" and numbers != sorted(numbers):
            raise DicomConformanceError(
                f"segment descriptions must be given in ascending Segment Number order; got {numbers}"
            )

        sources = analyze_sources(source_images)
        arr = np.asarray(pixel_array)
        if arr.ndim not in (3, 4) or arr.shape[:3] != (len(sources.frames), sources.rows, sources.columns):
            raise DicomConformanceError(
                f"pixel array of shape {arr.shape} does not match the source images:"
                f" expected ({len(sources.frames)}, {sources.rows}, {sources.columns}[, segments])"
                " (one frame per source frame, Rows x Columns of the source)"
            )
        prepared = prepare_pixels(
            arr,
            segmentation_type=seg_type,
            numbers=numbers,
            omit_empty_frames=omit_empty_frames,
            max_fractional_value=max_fractional_value,
            label_presence=label_presence if arr.ndim == 3 else None,
        )
        first = sources.datasets[0]

        # Patient, Clinical Trial Subject, General Study, Patient Study
        common.copy_patient_study(self, first)
        # General Series + Segmentation Series (C.8.20.1)
        common.set_general_series(
            self,
            modality="SEG",
            series_instance_uid=series_instance_uid,
            series_number=series_number,
            series_description=series_description,
        )
        # Frame of Reference
        if sources.frame_of_reference_uid is not None:
            common.set_frame_of_reference(self, sources.frame_of_reference_uid, sources.position_reference_indicator)
        # General Equipment + Enhanced General Equipment
        if not isinstance(equipment, common.Equipment):
            raise DicomConformanceError("equipment must be a common.modules.Equipment")
        equipment.apply(self, enhanced=True)
        # General Image, Segmentation Image (Content Identification), Multi-frame Functional Groups
        self.ImageType = ["DERIVED", "PRIMARY"]
        common.ContentIdentification(
            instance_number=instance_number,
            content_label=content_label,
            content_description=content_description,
            content_creator_name=content_creator_name,
        ).apply(self)
        common.set_content_date_time(self, content_datetime)
        if not sources.has_geometry:
            # General Image: Type 2C when Image Orientation/Position (Patient) are not required
            self.PatientOrientation = first.get("PatientOrientation") or None
        common.set_lossy_image_compression(self, sources.datasets)
        # Image Pixel
        self.SamplesPerPixel = 1
        self.PhotometricInterpretation = "MONOCHROME2"
        self.Rows = sources.rows
        self.Columns = sources.columns
        bits = {"BINARY": 1, "FRACTIONAL": 8}.get(seg_type) or (16 if prepared.dtype == np.uint16 else 8)
        self.BitsAllocated = bits
        self.BitsStored = bits
        self.HighBit = bits - 1
        self.PixelRepresentation = 0
        # Segmentation Image
        self.SegmentationType = seg_type
        if seg_type == "FRACTIONAL":
            self.SegmentationFractionalType = fractional_type
            self.MaximumFractionalValue = max_fractional_value
        if seg_type == "LABELMAP":
            self.add_new(0x00280120, "US", 0)  # Pixel Padding Value: background
        self.SegmentsOverlap = prepared.overlap
        self.SegmentSequence = descriptions
        n_frames = int(prepared.source_index.size)
        self.NumberOfFrames = n_frames

        # Functional groups and dimensions
        plan = FramePlan(prepared.source_index, prepared.segment_number)
        layout = build_functional_groups(sources, plan)
        self.SharedFunctionalGroupsSequence = [layout.shared]
        set_multi_frame_dimension(
            self, derive_uid("dcmspec-dimension-organization", sop_instance_uid), layout.dimensions
        )

        # Common Instance Reference (all source instances, in source order)
        common.set_common_instance_reference(self, sources.instance_references())

        # SOP Common
        common.set_sop_common(
            self,
            sop_class_uid=LABEL_MAP_SEGMENTATION_STORAGE if seg_type == "LABELMAP" else SEGMENTATION_STORAGE,
            sop_instance_uid=sop_instance_uid,
            created=content_datetime,
        )
        self.file_meta.TransferSyntaxUID = UID(transfer_syntax_uid)

        # Pixel Data
        self._set_pixel_data(prepared, bits, transfer_syntax_uid == RLELossless)

        # the per-frame groups last: the raw element relies on the final character set
        enc.raw_sequence(self, 0x52009230, layout.per_frame)

        # read-side index (no need to decode the raw sequence)
        self._init_reader_state()
        self._frame_sources = [sources.frames[i] for i in prepared.source_index.tolist()]
        self._frame_segments = prepared.segment_number.tolist() if prepared.segment_number is not None else None
        self._source_frames = list(sources.frames)
        self._slice_spacing = layout.slice_spacing
        check_object(self)

    @property
    def slice_spacing(self) -> SliceSpacing | None:
        """The Spacing Between Slices written (computed from the source stack), or why there is none;
        None for a Segmentation read from a file."""
        return getattr(self, "_slice_spacing", None)

    def _set_pixel_data(self, prepared: PreparedPixels, bits: int, rle: bool) -> None:
        """Encode the planned frames chunk by chunk: RLE fragments, or one native buffer (no copies)."""
        if rle:
            fragments: list[bytes] = []  # 8/16-bit only: BINARY + RLE is refused in __init__
            for chunk in prepared.chunks():
                fragments.extend(rle_encode_frames(chunk))
            self.PixelData = encapsulate(fragments, has_bot=True)
            self["PixelData"].VR = "OB"
            self["PixelData"].is_undefined_length = True
            return
        data = native_pixel_data(
            prepared.chunks(), int(prepared.source_index.size), int(self.Rows), int(self.Columns), bits
        )
        # already converted: pydicom would otherwise turn a bytearray into a list of ints
        self[0x7FE00010] = DataElement(0x7FE00010, "OW" if bits == 16 else "OB", data, already_converted=True)


def segread(path: str | PathLike[str], *, source_images: Sequence[Dataset] | None = None) -> Segmentation:
    """Read a Segmentation or Label Map Segmentation file."""
    return Segmentation.from_dataset(dcmread(path), source_images=source_images)
