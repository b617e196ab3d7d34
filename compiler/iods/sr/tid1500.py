"""TID 1500 Measurement Report and the templates it includes (PS3.16).

TID 1204 (language), TID 1001/1002/1003/1004 (observation context), TID 1600 (image library),
TID 1410 (planar ROI), TID 1411 (volumetric ROI), TID 1501 (measurements without ROI), TID 1502 (time
point context), TID 300 (measurement), TID 320 (image or spatial coordinates), TID 4019 (algorithm
identification). :class:`MeasurementReport` builds the content tree and the smallest SR document that
accepts it.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydicom.dataset import Dataset

from ...errors import DicomConformanceError
from ..common.concept import Code, is_code
from ..common.modules import Equipment
from ..common.uid import is_valid_uid
from . import codes as C
from .content import HAS_MOD, FindingSite
from .documents import EnhancedSR, SRDocument, choose_document_class
from .references import Reference
from .value_types import (
    CodeItem,
    ContainerItem,
    ContentItem,
    ImageItem,
    NumItem,
    PNameItem,
    Scoord3DItem,
    ScoordItem,
    TextItem,
    UIDRefItem,
)

__all__ = [
    "AlgorithmIdentification",
    "DeviceObserver",
    "FindingSite",
    "ImageGroup",
    "ImageRegion",
    "ImageRegion3D",
    "Measurement",
    "MeasurementReport",
    "ObservationContext",
    "PersonObserver",
    "PlanarROIGroup",
    "QualitativeEvaluation",
    "ReferencedSegment",
    "TimePointContext",
    "VolumetricROIGroup",
]

HAS_OBS = "HAS OBS CONTEXT"


# --- TID 1001-1004 -------------------------------------------------------------------------------
@dataclass(frozen=True)
class PersonObserver:
    """TID 1003 Person Observer Identifying Attributes."""

    name: str
    organization: str | None = None
    role_in_organization: Code | None = None
    role_in_procedure: Code | None = None

    def items(self) -> list[ContentItem]:
        out: list[ContentItem] = [
            CodeItem(C.OBSERVER_TYPE, C.PERSON, HAS_OBS),
            PNameItem(C.PERSON_OBSERVER_NAME, self.name, HAS_OBS),
        ]
        if self.organization:
            out.append(TextItem(C.PERSON_OBSERVER_ORGANIZATION, self.organization, HAS_OBS))
        if self.role_in_organization:
            out.append(CodeItem(C.PERSON_OBSERVER_ROLE_IN_ORGANIZATION, self.role_in_organization, HAS_OBS))
        if self.role_in_procedure:
            out.append(CodeItem(C.PERSON_OBSERVER_ROLE_IN_PROCEDURE, self.role_in_procedure, HAS_OBS))
        return out


@dataclass(frozen=True)
class DeviceObserver:
    """TID 1004 Device Observer Identifying Attributes."""

    uid: str
    name: str | None = None
    manufacturer: str | None = None
    model_name: str | None = None
    serial_number: str | None = None
    physical_location: str | None = None

    def items(self) -> list[ContentItem]:
        out: list[ContentItem] = [
            CodeItem(C.OBSERVER_TYPE, C.DEVICE, HAS_OBS),
            UIDRefItem(C.DEVICE_OBSERVER_UID, self.uid, HAS_OBS),
        ]
        for concept, value in (
            (C.DEVICE_OBSERVER_NAME, self.name),
            (C.DEVICE_OBSERVER_MANUFACTURER, self.manufacturer),
            (C.DEVICE_OBSERVER_MODEL_NAME, self.model_name),
            (C.DEVICE_OBSERVER_SERIAL_NUMBER, self.serial_number),
            (C.DEVICE_OBSERVER_PHYSICAL_LOCATION, self.physical_location),
        ):
            if value:
                out.append(TextItem(concept, value, HAS_OBS))
        return out


@dataclass(frozen=True)
class ObservationContext:
    """TID 1001: observers (TID 1002); the subject is the patient (TID 1006 defaults), not written."""

    persons: Sequence[PersonObserver] = ()
    devices: Sequence[DeviceObserver] = ()

    def items(self) -> list[ContentItem]:
        out: list[ContentItem] = []
        for observer in list(self.persons) + list(self.devices):
            out.extend(observer.items())
        return out


# --- shared pieces -------------------------------------------------------------------------------
def _site(value: FindingSite | Code) -> FindingSite:
    return value if isinstance(value, FindingSite) else FindingSite(value)


@dataclass(frozen=True)
class AlgorithmIdentification:
    """TID 4019 Algorithm Identification (name and version)."""

    name: str
    version: str

    def items(self) -> list[ContentItem]:
        return [TextItem(C.ALGORITHM_NAME, self.name, HAS_MOD), TextItem(C.ALGORITHM_VERSION, self.version, HAS_MOD)]


@dataclass(frozen=True)
class TimePointContext:
    """TID 1502 Time Point Context."""

    time_point: str
    time_point_type: Code | None = None
    time_point_order: int | None = None
    subject_time_point_identifier: str | None = None
    protocol_time_point_identifier: str | None = None

    def items(self) -> list[ContentItem]:
        out: list[ContentItem] = [TextItem(C.TIME_POINT, self.time_point, HAS_OBS)]
        if self.time_point_type:
            out.append(CodeItem(C.TIME_POINT_TYPE, self.time_point_type, HAS_OBS))
        if self.time_point_order is not None:
            out.append(NumItem(C.TIME_POINT_ORDER, self.time_point_order, Code("1", "UCUM", "no units"), HAS_OBS))
        if self.subject_time_point_identifier:
            out.append(TextItem(C.SUBJECT_TIME_POINT_IDENTIFIER, self.subject_time_point_identifier, HAS_OBS))
        if self.protocol_time_point_identifier:
            out.append(TextItem(C.PROTOCOL_TIME_POINT_IDENTIFIER, self.protocol_time_point_identifier, HAS_OBS))
        return out


@dataclass(frozen=True)
class ImageRegion:
    """A 2D region (SCOORD) on one source image (frame numbers go with the reference)."""

    graphic_type: str
    points: Sequence[Sequence[float]] | np.ndarray
    source: Reference
    pixel_origin_interpretation: str | None = None

    def item(self, name: Code, relationship_type: str) -> ScoordItem:
        pixel_origin = self.pixel_origin_interpretation
        if pixel_origin is None and self.source.frame_numbers:
            pixel_origin = "FRAME"
        return ScoordItem(
            name,
            self.graphic_type,
            self.points,
            self.source,
            relationship_type,
            pixel_origin_interpretation=pixel_origin,
        )


@dataclass(frozen=True)
class ImageRegion3D:
    """A 3D region (SCOORD3D) in a Frame of Reference."""

    graphic_type: str
    points: Sequence[Sequence[float]] | np.ndarray
    frame_of_reference_uid: str | None

    def item(self, name: Code, relationship_type: str) -> Scoord3DItem:
        return Scoord3DItem(name, self.graphic_type, self.points, self.frame_of_reference_uid, relationship_type)


Region = ImageRegion | ImageRegion3D


@dataclass(frozen=True)
class ReferencedSegment:
    """One segment of a Segmentation instance (TID 1411 rows Referenced Segment and Source series)."""

    segmentation: Reference
    segment_number: int
    source_series_uid: str | None = None
    source_images: tuple[Reference, ...] = ()

    def __post_init__(self) -> None:
        if int(self.segment_number) < 1:
            raise DicomConformanceError("Referenced Segment Number starts at 1 (PS3.3 C.8.20.2)")
        if self.source_series_uid is None and not self.source_images:
            raise DicomConformanceError(
                "a Referenced Segment needs the source series UID or the source images of the"
                " segmentation (TID 1411: Source series for segmentation / Source image for segmentation)"
            )
        if self.source_series_uid is not None and not is_valid_uid(self.source_series_uid):
            raise DicomConformanceError(f"source series UID {self.source_series_uid!r} is not a valid UID")

    @classmethod
    def from_segmentation(
        cls, seg: Dataset, segment_number: int, *, with_source_images: bool = False
    ) -> ReferencedSegment:
        """Reference segment ``segment_number`` of the SEG header ``seg`` and its source series."""
        numbers = [int(s.SegmentNumber) for s in seg.get("SegmentSequence", [])]
        if numbers and int(segment_number) not in numbers:
            raise DicomConformanceError(
                f"segment {segment_number} is not in the segmentation {seg.SOPInstanceUID} (segments {numbers})"
            )
        series = seg.get("ReferencedSeriesSequence") or []
        source_series = str(series[0].SeriesInstanceUID) if series else None
        images: list[Reference] = []
        if with_source_images:
            for s in series:
                for inst in s.get("ReferencedInstanceSequence", []):
                    images.append(
                        Reference(
                            str(inst.ReferencedSOPClassUID),
                            str(inst.ReferencedSOPInstanceUID),
                            str(s.SeriesInstanceUID),
                            str(seg.StudyInstanceUID),
                        )
                    )
        return cls(Reference.from_dataset(seg), int(segment_number), source_series, tuple(images))

    def items(self) -> list[ContentItem]:
        ref = self.segmentation.with_segments(int(self.segment_number))
        out: list[ContentItem] = [ImageItem(C.REFERENCED_SEGMENT, ref, "CONTAINS")]
        if self.source_series_uid:
            out.append(UIDRefItem(C.SOURCE_SERIES_FOR_SEGMENTATION, self.source_series_uid, "CONTAINS"))
        for image in self.source_images:
            out.append(ImageItem(C.SOURCE_IMAGE_FOR_SEGMENTATION, image, "CONTAINS"))
        return out


@dataclass(frozen=True)
class QualitativeEvaluation:
    """A coded (CODE) or free-text (TEXT) evaluation."""

    name: Code
    value: Code | str

    def item(self) -> ContentItem:
        if is_code(self.value):
            return CodeItem(self.name, self.value, "CONTAINS")
        return TextItem(self.name, str(self.value), "CONTAINS")


@dataclass(frozen=True)
class Measurement:
    """TID 300 Measurement: a NUM with its modifiers and the images/regions it was inferred from."""

    name: Code
    value: float | None
    unit: Code | None
    qualifier: Code | None = None
    method: Code | None = None
    derivation: Code | None = None
    finding_sites: Sequence[FindingSite | Code] = ()
    source_images: Sequence[Reference] = ()
    source_regions: Sequence[Region] = ()
    algorithm: AlgorithmIdentification | None = None

    def item(self) -> NumItem:
        item = NumItem(self.name, self.value, self.unit, "CONTAINS", qualifier=self.qualifier)
        if self.method:
            item.append(CodeItem(C.MEASUREMENT_METHOD, self.method, HAS_MOD))
        if self.derivation:
            item.append(CodeItem(C.DERIVATION, self.derivation, HAS_MOD))
        for site in self.finding_sites:
            item.append(_site(site).item())
        if self.algorithm:
            item.extend(self.algorithm.items())
        for image in self.source_images:
            item.append(ImageItem(C.SOURCE_OF_MEASUREMENT, image, "INFERRED FROM"))
        for region in self.source_regions:
            item.append(region.item(C.SOURCE_OF_MEASUREMENT, "INFERRED FROM"))
        return item


# --- measurement groups --------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class _Group:
    tracking_id: str
    tracking_uid: str
    finding_type: Code | None = None
    finding_category: Code | None = None
    finding_sites: Sequence[FindingSite | Code] = ()
    method: Code | None = None
    algorithm: AlgorithmIdentification | None = None
    session: str | None = None
    time_point_context: TimePointContext | None = None
    measurements: Sequence[Measurement] = ()
    qualitative_evaluations: Sequence[QualitativeEvaluation] = ()

    TEMPLATE = ""

    def _check(self) -> None:
        if not self.tracking_id:
            raise DicomConformanceError("a measurement group needs a tracking identifier (TID 1410/1411/1501)")
        if not is_valid_uid(str(self.tracking_uid)):
            raise DicomConformanceError(
                f"tracking unique identifier {self.tracking_uid!r} is not a valid UID (PS3.5 9.1)"
            )

    def _roi_items(self) -> list[ContentItem]:
        return []

    def item(self) -> ContainerItem:
        self._check()
        group = ContainerItem(C.MEASUREMENT_GROUP, "CONTAINS", template_id=self.TEMPLATE)
        if self.session:
            group.append(TextItem(C.ACTIVITY_SESSION, self.session, HAS_OBS))
        group.append(TextItem(C.TRACKING_IDENTIFIER, self.tracking_id, HAS_OBS))
        group.append(UIDRefItem(C.TRACKING_UNIQUE_IDENTIFIER, self.tracking_uid, HAS_OBS))
        if self.finding_category:
            group.append(CodeItem(C.FINDING_CATEGORY, self.finding_category, "CONTAINS"))
        if self.finding_type:
            group.append(CodeItem(C.FINDING, self.finding_type, "CONTAINS"))
        if self.time_point_context:
            group.extend(self.time_point_context.items())
        group.extend(self._roi_items())
        if self.method:
            group.append(CodeItem(C.MEASUREMENT_METHOD, self.method, HAS_MOD))
        for site in self.finding_sites:
            group.append(_site(site).item())
        if self.algorithm:
            group.extend(self.algorithm.items())
        for m in self.measurements:
            group.append(m.item())
        for q in self.qualitative_evaluations:
            group.append(q.item())
        return group


@dataclass(frozen=True, kw_only=True)
class PlanarROIGroup(_Group):
    """TID 1410 Planar ROI Measurements and Qualitative Evaluations: one 2D or 3D image region."""

    region: Region
    TEMPLATE = "1410"

    def _roi_items(self) -> list[ContentItem]:
        check_planar_region(self.region)
        return [self.region.item(C.IMAGE_REGION, "CONTAINS")]


def check_planar_region(region: Region) -> None:
    """Refuse a TID 1410 Image Region that is not an area: POINT, MULTIPOINT and ELLIPSOID, and a POLYLINE
    that is not closed (its last point equal to the first, PS3.3 C.18.6.1.2 / C.18.9.1.2) around at least
    three distinct vertices. An open outline is refused, never closed here: where it ends is the user's."""
    if not isinstance(region, (ImageRegion, ImageRegion3D)):
        raise DicomConformanceError("a planar ROI group needs one ImageRegion or ImageRegion3D (TID 1410)")
    graphic = str(region.graphic_type).upper()
    if graphic in ("POINT", "MULTIPOINT", "ELLIPSOID"):
        raise DicomConformanceError(
            f"TID 1410 Image Region is an area: {region.graphic_type} is not allowed"
            " (use POLYLINE (closed), CIRCLE, ELLIPSE or POLYGON)"
        )
    if graphic == "POLYLINE":
        points = np.asarray(region.points, dtype=np.float64)
        dims = 3 if isinstance(region, ImageRegion3D) else 2
        if points.ndim == 1 and points.size % dims == 0:
            points = points.reshape(-1, dims)
        if points.ndim != 2 or len(points) < 2:
            return  # the SCOORD/SCOORD3D item refuses it with its own message
        if not np.array_equal(points[0], points[-1]):
            raise DicomConformanceError(
                f"TID 1410 Image Region is an area: this POLYLINE is open, its last point {_xy(points[-1])}"
                f" is not its first {_xy(points[0])} (a closed POLYLINE repeats the first point at the end,"
                " PS3.3 C.18.6.1.2)"
            )
        if len(np.unique(points[:-1], axis=0)) < 3:
            raise DicomConformanceError(
                f"TID 1410 Image Region is an area: a closed POLYLINE needs at least 3 distinct points,"
                f" got {len(np.unique(points[:-1], axis=0))}"
            )


def _xy(point: np.ndarray) -> str:
    return "[" + ", ".join(f"{float(v):g}" for v in point) + "]"


@dataclass(frozen=True, kw_only=True)
class VolumetricROIGroup(_Group):
    """TID 1411 Volumetric ROI: a set of image regions, or one referenced SEG segment.

    Regions in patient coordinates (SCOORD3D Volume Surface) need the images they outline: TID 1411
    requires "Source series for segmentation" (121232, DCM) or "Source image for segmentation"
    (121233, DCM) with a Volume Surface as with a Referenced Segment, so ``source_series_uid`` or
    ``source_images`` is required then (a referenced segment brings its own).
    """

    regions: Sequence[Region] = ()
    referenced_segment: ReferencedSegment | None = None
    source_series_uid: str | None = None
    source_images: Sequence[Reference] = ()
    TEMPLATE = "1411"

    def _roi_items(self) -> list[ContentItem]:
        if bool(self.regions) == (self.referenced_segment is not None):
            raise DicomConformanceError(
                "a volumetric ROI group needs either image regions or a referenced segment, not both"
                " and not neither (TID 1411)"
            )
        if self.referenced_segment is not None:
            return self.referenced_segment.items()
        out: list[ContentItem] = []
        kinds = {type(r) for r in self.regions}
        if len(kinds) > 1:
            raise DicomConformanceError("TID 1411 regions are all SCOORD or all SCOORD3D, not a mix")
        for region in self.regions:
            name = C.IMAGE_REGION if isinstance(region, ImageRegion) else C.VOLUME_SURFACE
            out.append(region.item(name, "CONTAINS"))
        if isinstance(self.regions[0], ImageRegion3D):
            if self.source_series_uid is None and not self.source_images:
                raise DicomConformanceError(
                    "a Volume Surface needs the images it was drawn on: TID 1411 requires Source series for"
                    " segmentation or Source image for segmentation with it"
                )
            if self.source_series_uid is not None:
                if not is_valid_uid(self.source_series_uid):
                    raise DicomConformanceError(f"source series UID {self.source_series_uid!r} is not a valid UID")
                out.append(UIDRefItem(C.SOURCE_SERIES_FOR_SEGMENTATION, self.source_series_uid, "CONTAINS"))
            for image in self.source_images:
                out.append(ImageItem(C.SOURCE_IMAGE_FOR_SEGMENTATION, image, "CONTAINS"))
        return out


@dataclass(frozen=True, kw_only=True)
class ImageGroup(_Group):
    """TID 1501 Measurement and Qualitative Evaluation Group (no ROI; image- or study-level)."""

    source_images: Sequence[Reference] = ()
    TEMPLATE = "1501"

    def _roi_items(self) -> list[ContentItem]:
        return [ImageItem(C.SOURCE, r, "CONTAINS") for r in self.source_images]


MeasurementGroup = PlanarROIGroup | VolumetricROIGroup | ImageGroup


# --- TID 1500 ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MeasurementReport:
    """TID 1500 Measurement Report (PS3.16): build the content tree, then :meth:`document` makes the SR
    document (Enhanced SR or larger).

    Example: a lesion's diameter measured on a slice of a small synthetic CT (TID 1410), as an SR document.

    >>> import datetime, tempfile
    >>> from pathlib import Path
    >>> import pydicom
    >>> from dcmspec_compiler.testing.phantom import Grid, write_ct_series
    >>> from dcmspec_compiler.iods.common.concept import Code
    >>> from dcmspec_compiler.iods.common.modules import Equipment
    >>> from dcmspec_compiler.iods.sr import (DeviceObserver, ImageRegion, Measurement, MeasurementReport,
    ...     ObservationContext, PlanarROIGroup, Reference, read_document)
    >>> folder = tempfile.TemporaryDirectory()
    >>> ct = [pydicom.dcmread(p) for p in write_ct_series(Path(folder.name), Grid(shape=(4, 16, 16)))]
    >>> slice_2 = Reference.from_dataset(ct[1])
    >>> lesion = PlanarROIGroup(
    ...     tracking_id="L1", tracking_uid="2.25.41", finding_type=Code("52988006", "SCT", "Lesion"),
    ...     region=ImageRegion("POLYLINE", [[4, 4], [12, 4], [12, 12], [4, 12], [4, 4]], slice_2),
    ...     measurements=[Measurement(Code("81827009", "SCT", "Diameter"), 8.0,
    ...                               Code("mm", "UCUM", "millimeter"))])
    >>> report = MeasurementReport(
    ...     procedure_reported=[Code("77477000", "SCT", "CT")],
    ...     observation_context=ObservationContext(devices=[DeviceObserver("2.25.42", name="Example tool")]),
    ...     groups=[lesion])
    >>> doc = report.document(patient_study=ct[0], series_instance_uid="2.25.43", series_number=1400,
    ...                       sop_instance_uid="2.25.44", instance_number=1,
    ...                       content_datetime=datetime.datetime(2024, 1, 3, 9),
    ...                       equipment=Equipment("Example Lab", "Example tool", "1.0", "0001"))
    >>> doc.save_as(Path(folder.name) / "sr.dcm", enforce_file_format=True)
    >>> back = read_document(Path(folder.name) / "sr.dcm")
    >>> [(g.tracking_id, [(m.name.meaning, m.value) for m in g.measurements])
    ...  for g in back.measurement_groups()]
    [('L1', [('Diameter', 8.0)])]
    >>> folder.cleanup()
    """

    procedure_reported: Sequence[Code]
    observation_context: ObservationContext
    groups: Sequence[MeasurementGroup] = ()
    qualitative_evaluations: Sequence[QualitativeEvaluation] = ()
    image_library: Sequence[Reference] | None = None
    language: Code | None = field(default_factory=lambda: C.ENGLISH_US)
    country_of_language: Code | None = None
    title: Code = C.IMAGING_MEASUREMENT_REPORT

    def content(self) -> ContainerItem:
        """The root CONTAINER of the report."""
        if not self.procedure_reported:
            raise DicomConformanceError("TID 1500 requires at least one Procedure reported (CID 100)")
        if not self.groups and not self.qualitative_evaluations:
            raise DicomConformanceError(
                "TID 1500 needs imaging measurements (measurement groups) or qualitative evaluations"
            )
        if not self.observation_context.persons and not self.observation_context.devices:
            raise DicomConformanceError("TID 1001 needs at least one person or device observer")
        uids = [g.tracking_uid for g in self.groups]
        if len(set(uids)) != len(uids):
            raise DicomConformanceError("tracking unique identifiers must differ between measurement groups")
        root = ContainerItem(self.title, None, continuity="SEPARATE", template_id="1500")
        if self.language:
            lang = root.append(CodeItem(C.LANGUAGE_OF_CONTENT, self.language, HAS_MOD))
            if self.country_of_language:
                lang.append(CodeItem(C.COUNTRY_OF_LANGUAGE, self.country_of_language, HAS_MOD))
        root.extend(self.observation_context.items())
        for proc in self.procedure_reported:
            root.append(CodeItem(C.PROCEDURE_REPORTED, proc, HAS_MOD))
        if self.image_library:
            root.append(_image_library(self.image_library))
        if self.groups:
            measurements = root.append(ContainerItem(C.IMAGING_MEASUREMENTS, "CONTAINS"))
            for g in self.groups:
                measurements.append(g.item())
        if self.qualitative_evaluations:
            root.append(
                ContainerItem(
                    C.QUALITATIVE_EVALUATIONS, "CONTAINS", children=[q.item() for q in self.qualitative_evaluations]
                )
            )
        return root

    def document(
        self,
        *,
        document_class: type[SRDocument] | None = None,
        patient_study: Dataset,
        series_instance_uid: str,
        series_number: int,
        sop_instance_uid: str,
        instance_number: int,
        content_datetime: _dt.datetime,
        equipment: Equipment,
        **kwargs: Any,
    ) -> SRDocument:
        """The SR document: the smallest IOD accepting the tree, Enhanced SR or larger, or ``document_class``
        if given. Basic Text SR is never chosen for TID 1500: readers (highdicom, the cornerstone adapters)
        look for measurement reports in Enhanced, Comprehensive and Comprehensive 3D SR only."""
        root = self.content()
        cls = choose_document_class(root, document_class, smallest=EnhancedSR)
        return cls(
            root,
            patient_study=patient_study,
            series_instance_uid=series_instance_uid,
            series_number=series_number,
            sop_instance_uid=sop_instance_uid,
            instance_number=instance_number,
            content_datetime=content_datetime,
            equipment=equipment,
            **kwargs,
        )


def _image_library(references: Sequence[Reference]) -> ContainerItem:
    """TID 1600: one Image Library Group per series, Modality as a common descriptor (TID 1602)."""
    library = ContainerItem(C.IMAGE_LIBRARY, "CONTAINS")
    by_series: dict[str, list[Reference]] = {}
    for ref in references:
        by_series.setdefault(ref.series_instance_uid, []).append(ref)
    for refs in by_series.values():
        group = library.append(ContainerItem(C.IMAGE_LIBRARY_GROUP, "CONTAINS"))
        modality = refs[0].modality
        if modality:
            code = C.MODALITY_CODES.get(modality, Code(modality, "DCM", modality))
            group.append(CodeItem(C.MODALITY, code, "HAS ACQ CONTEXT"))
        for ref in refs:
            group.append(ImageItem(None, ref, "CONTAINS"))
    return library
