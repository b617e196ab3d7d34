"""Parametric Map Storage (PS3.3 A.75; Parametric Map Series C.8.32.1, Parametric Map Image C.8.32.2).

Modules and functional groups shared with Segmentation (source analysis, Derivation Image, Frame Content,
Plane Position/Orientation, Pixel Measures, dimension index, Spacing Between Slices) come from
:mod:`..common`; this module adds the Parametric Map's own: Real World Value Mapping, Parametric Map
Frame Type, Frame Anatomy, Identity Pixel Value Transformation, Frame VOI LUT and float pixel data.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence

import numpy as np
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset

from ...errors import DicomConformanceError
from ..common import encoding as enc
from ..common import modules as common
from ..common.codes import code_item
from ..common.concept import Code, is_code
from ..common.dimensions import set_multi_frame_dimension
from ..common.frames import FramePlan, build_functional_groups
from ..common.sources import analyze_sources
from ..common.spacing import SliceSpacing
from ..common.uid import derive_uid
from ..common.vr import check_object
from .mapping import RealWorldValueMapping
from .pixels import encode, prepare_map
from .read import PARAMETRIC_MAP_STORAGE, ParametricMapReader

#: CID 7203 "Image Derivation": used when the caller names no derivation
DERIVATION_PARAMETRIC_MAP = Code("110001", "DCM", "Image Processing")
FRAME_LATERALITIES = ("R", "L", "U", "B")
IMAGE_FLAVORS = ("VOLUME", "MULTI_ECHO", "MIXED", "NONE")  # value 3 of Image Type, C.8.32.2.1.1
DERIVED_PIXEL_CONTRASTS = ("QUANTITY", "MIXED", "NONE")  # value 4


class ParametricMap(ParametricMapReader, Dataset):
    """A Parametric Map instance (PS3.3 A.75): real-world values (ADC, T1, SUV, ...) on the frames of source
    images.

    ``pixel_array`` is ``(frames, rows, columns)``: float32 (Float Pixel Data), float64 (Double Float
    Pixel Data) or integers (16-bit Pixel Data, mapped to real-world values by ``mappings``' slope and
    intercept or LUT). Frames correspond 1:1, in order, to the frames of ``source_images`` (single-frame
    images in frame order, or one multi-frame image); each stored frame references its source frame and
    carries its position. NaN is refused unless ``allow_nan``; frames all NaN (or all ``empty_value``)
    are left out with ``omit_empty_frames``. With ``copy_pixel_data=False`` the pixel data may be a view
    of ``pixel_array`` (when it needs no conversion): do not change the array while the object is used.

    >>> import datetime, tempfile, pathlib, numpy as np, pydicom
    >>> from dcmspec_compiler.testing.phantom import Grid, write_ct_series
    >>> from dcmspec_compiler.iods.common.modules import Equipment
    >>> from dcmspec_compiler.iods.common.concept import Code
    >>> from dcmspec_compiler.iods.pm import ParametricMap, RealWorldValueMapping
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> grid = Grid(shape=(4, 16, 16))
    >>> sources = [pydicom.dcmread(p) for p in write_ct_series(folder, grid)]
    >>> t1 = np.linspace(200, 1500, 4 * 16 * 16, dtype=np.float32).reshape(4, 16, 16)
    >>> pm = ParametricMap(
    ...     source_images=sources, pixel_array=t1,
    ...     mappings=[RealWorldValueMapping("T1", "ms", quantity=Code("113063", "DCM", "T1"))],
    ...     anatomic_region=Code("818981001", "SCT", "Abdomen"),
    ...     series_instance_uid="1.2.826.0.1.3680043.10.9.7", series_number=400,
    ...     sop_instance_uid="1.2.826.0.1.3680043.10.9.8", instance_number=1,
    ...     equipment=Equipment("ACME", "mapper", "1.0", "SN1"),
    ...     content_datetime=datetime.datetime(2024, 1, 2, 3, 4, 5))
    >>> int(pm.NumberOfFrames), pm.BitsAllocated, pm.get_mappings()[0].units.value
    (4, 32, 'ms')
    >>> bool((pm.get_frames() == t1).all()), pm.get_volume().spacing.tolist()
    (True, [2.5, 0.75, 0.75])
    """

    def __init__(
        self,
        *,
        source_images: Sequence[Dataset],
        pixel_array: np.ndarray,
        mappings: Sequence[RealWorldValueMapping],
        anatomic_region: Code,
        series_instance_uid: str,
        series_number: int,
        sop_instance_uid: str,
        instance_number: int,
        equipment: common.Equipment,
        content_datetime: _dt.datetime,
        content_label: str = "MAP",
        content_description: str | None = None,
        content_creator_name: str | None = None,
        series_description: str | None = None,
        derivation_codes: Sequence[Code] = (DERIVATION_PARAMETRIC_MAP,),
        derivation_description: str | None = None,
        frame_laterality: str = "U",
        image_flavor: str = "VOLUME",
        derived_pixel_contrast: str = "QUANTITY",
        allow_nan: bool = False,
        omit_empty_frames: bool = False,
        empty_value: float | None = None,
        window: tuple[float, float] | None = None,
        copy_pixel_data: bool = True,
    ) -> None:
        super().__init__()
        if not isinstance(content_datetime, _dt.datetime):
            raise DicomConformanceError("content_datetime must be a datetime (Content Date and Time)")
        if not isinstance(equipment, common.Equipment):
            raise DicomConformanceError("equipment must be a common.modules.Equipment")
        if not is_code(anatomic_region):
            raise DicomConformanceError("anatomic_region must be a Code (Frame Anatomy, PS3.3 C.7.6.16.2.8)")
        if frame_laterality not in FRAME_LATERALITIES:
            raise DicomConformanceError(
                f"Frame Laterality (0020,9072) must be one of {', '.join(FRAME_LATERALITIES)}, got {frame_laterality!r}"
            )
        if image_flavor not in IMAGE_FLAVORS or derived_pixel_contrast not in DERIVED_PIXEL_CONTRASTS:
            raise DicomConformanceError(
                f"Image Type values 3 and 4 must be one of {IMAGE_FLAVORS} and {DERIVED_PIXEL_CONTRASTS}"
                f" (PS3.3 C.8.32.2.1.1), got {image_flavor!r}, {derived_pixel_contrast!r}"
            )
        codes = list(derivation_codes)
        if not codes or not all(is_code(c) for c in codes):
            raise DicomConformanceError("derivation_codes must be one or more Codes (CID 7203)")
        maps = [m.checked() for m in ([mappings] if isinstance(mappings, RealWorldValueMapping) else mappings)]
        if not maps:
            raise DicomConformanceError("a Parametric Map needs at least one Real World Value Mapping")
        if len({m.lut_label for m in maps}) != len(maps):
            raise DicomConformanceError("LUT Labels of the Real World Value Mappings must differ")

        sources = analyze_sources(source_images)
        if not sources.has_geometry:
            raise DicomConformanceError(
                "a Parametric Map needs source images with geometry (Image Position/Orientation, Pixel"
                " Spacing and a Frame of Reference): Plane Position and Orientation are mandatory (A.75)"
            )
        arr = np.asarray(pixel_array)
        if arr.ndim == 2 and len(sources.frames) == 1:
            arr = arr[None]
        if arr.ndim != 3 or arr.shape != (len(sources.frames), sources.rows, sources.columns):
            raise DicomConformanceError(
                f"pixel array of shape {arr.shape} does not match the source images: expected"
                f" ({len(sources.frames)}, {sources.rows}, {sources.columns}) (one frame per source frame,"
                " Rows x Columns of the source)"
            )
        prepared = prepare_map(arr, allow_nan=allow_nan, omit_empty_frames=omit_empty_frames, empty_value=empty_value)
        storage = prepared.storage
        if any(m.lut is not None for m in maps) and storage.floating:
            raise DicomConformanceError(
                "a Real World Value LUT indexes integer stored values; a float map takes slope/intercept"
            )
        first = sources.datasets[0]

        # Patient, Clinical Trial Subject, General Study, Patient Study
        common.copy_patient_study(self, first)
        # General Series + Parametric Map Series (C.8.32.1: Modality OT)
        common.set_general_series(
            self,
            modality="OT",
            series_instance_uid=series_instance_uid,
            series_number=series_number,
            series_description=series_description,
        )
        # Laterality (General Series, 2C) stays absent: Frame Laterality is sent (Frame Anatomy)
        common.set_frame_of_reference(self, str(sources.frame_of_reference_uid), sources.position_reference_indicator)
        equipment.apply(self, enhanced=True)
        # Parametric Map Image (C.8.32.2)
        self.ImageType = ["DERIVED", "PRIMARY", image_flavor, derived_pixel_contrast]
        common.ContentIdentification(
            instance_number=instance_number,
            content_label=content_label,
            content_description=content_description,
            content_creator_name=content_creator_name,
        ).apply(self)
        common.set_content_date_time(self, content_datetime)
        self.SamplesPerPixel = 1
        self.PhotometricInterpretation = "MONOCHROME2"
        self.Rows = sources.rows
        self.Columns = sources.columns
        self.BitsAllocated = storage.bits
        if not storage.floating:
            self.BitsStored = 16
            self.HighBit = 15
            self.PixelRepresentation = 1 if storage.signed else 0
        self.PresentationLUTShape = "IDENTITY"
        common.set_lossy_image_compression(self, sources.datasets)
        self.BurnedInAnnotation = "NO"
        self.RecognizableVisualFeatures = "NO"
        self.ContentQualification = "RESEARCH"
        self.AcquisitionContextSequence: list[Dataset] = []  # Acquisition Context (C.7.6.14), Type 2: no context
        if derivation_description:
            self.DerivationDescription = derivation_description
        self.NumberOfFrames = int(prepared.kept.size)

        # Functional groups: the shared geometry groups (common.frames) + the Parametric Map's own
        plan = FramePlan(prepared.kept, None)
        layout = build_functional_groups(sources, plan, tuple(codes))
        shared = layout.shared
        frame_type = Dataset()
        frame_type.FrameType = list(self.ImageType)
        shared.ParametricMapFrameTypeSequence = [frame_type]
        anatomy = Dataset()
        anatomy.AnatomicRegionSequence = [code_item(anatomic_region)]
        anatomy.FrameLaterality = frame_laterality
        shared.FrameAnatomySequence = [anatomy]
        # Identity Pixel Value Transformation (C.7.6.16.2.9b): stored values are not rescaled; the
        # Real World Value Mapping says what they mean
        transform = Dataset()
        transform.RescaleIntercept = 0
        transform.RescaleSlope = 1
        transform.RescaleType = "US"
        shared.PixelValueTransformationSequence = [transform]
        lo, hi = prepared.first, prepared.last
        center, width = window if window is not None else ((lo + hi) / 2, max(hi - lo, 1e-6 if storage.floating else 1))
        voi = Dataset()
        voi.WindowCenter = _ds(center)
        voi.WindowWidth = _ds(width)
        if not width > 0:
            raise DicomConformanceError(f"Window Width must be positive, got {width!r}")
        # LINEAR needs a width of at least 1 (C.11.2.1.2.1); real-world maps often span less: LINEAR_EXACT
        voi.VOILUTFunction = "LINEAR" if width >= 1 else "LINEAR_EXACT"
        shared.FrameVOILUTSequence = [voi]
        shared.RealWorldValueMappingSequence = [
            m.item(lo, hi, floating=storage.floating, signed=storage.signed) for m in maps
        ]
        self.SharedFunctionalGroupsSequence = [shared]
        set_multi_frame_dimension(
            self, derive_uid("dcmspec-dimension-organization", sop_instance_uid), layout.dimensions, "3D"
        )

        common.set_common_instance_reference(self, sources.instance_references())
        common.set_sop_common(
            self, sop_class_uid=PARAMETRIC_MAP_STORAGE, sop_instance_uid=sop_instance_uid, created=content_datetime
        )

        self[storage.tag] = DataElement(
            storage.tag, storage.vr, encode(prepared, copy=copy_pixel_data), already_converted=True
        )
        enc.raw_sequence(self, 0x52009230, layout.per_frame)
        object.__setattr__(self, "_slice_spacing", layout.slice_spacing)
        object.__setattr__(self, "_has_nan", prepared.has_nan)
        check_object(self)

    @property
    def slice_spacing(self) -> SliceSpacing | None:
        """The Spacing Between Slices written (computed from the source stack), or why there is none."""
        return getattr(self, "_slice_spacing", None)


def _ds(value: float) -> str:
    """A DS string (at most 16 characters) of ``value``."""
    for digits in range(10, 3, -1):
        text = f"{value:.{digits}g}"
        if len(text) <= 16:
            return text
    return f"{value:.3g}"
