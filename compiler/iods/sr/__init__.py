"""Structured Reporting: content items, SR document IODs, TID 1500 Measurement Report, reading back.

- :mod:`.value_types`: one content item class per SR value type (PS3.3 C.17.3, C.18)
- :mod:`.relationships`: per-IOD relationship content constraints, as data (PS3.3 A.35.x)
- :mod:`.documents`: Basic Text / Enhanced / Comprehensive / Comprehensive 3D SR documents
- :mod:`.evidence`: evidence sequences derived from the references in a tree
- :mod:`.tid1500`: TID 1500 Measurement Report builder (TID 1410, 1411, 1501, 300, ...)
- :mod:`.read`: content item search and measurement groups read back (any writer's TID 1500)
"""

from .documents import (
    BasicTextSR,
    Comprehensive3DSR,
    ComprehensiveSR,
    EnhancedSR,
    SRDocument,
    VerifyingObserver,
    choose_document_class,
    read_document,
)
from .read import MeasurementGroupView, MeasurementView, RegionView, SegmentView, measurement_groups
from .references import Reference
from .tid1500 import (
    AlgorithmIdentification,
    DeviceObserver,
    FindingSite,
    ImageGroup,
    ImageRegion,
    ImageRegion3D,
    Measurement,
    MeasurementReport,
    ObservationContext,
    PersonObserver,
    PlanarROIGroup,
    QualitativeEvaluation,
    ReferencedSegment,
    TimePointContext,
    VolumetricROIGroup,
)
from .value_types import (
    CodeItem,
    CompositeItem,
    ContainerItem,
    ContentItem,
    DateItem,
    DateTimeItem,
    ImageItem,
    NumItem,
    PNameItem,
    Scoord3DItem,
    ScoordItem,
    TcoordItem,
    TextItem,
    TimeItem,
    UIDRefItem,
    WaveformItem,
)

__all__ = [
    "AlgorithmIdentification",
    "BasicTextSR",
    "CodeItem",
    "CompositeItem",
    "Comprehensive3DSR",
    "ComprehensiveSR",
    "ContainerItem",
    "ContentItem",
    "DateItem",
    "DateTimeItem",
    "DeviceObserver",
    "EnhancedSR",
    "FindingSite",
    "ImageGroup",
    "ImageItem",
    "ImageRegion",
    "ImageRegion3D",
    "Measurement",
    "MeasurementGroupView",
    "MeasurementReport",
    "MeasurementView",
    "NumItem",
    "ObservationContext",
    "PNameItem",
    "PersonObserver",
    "PlanarROIGroup",
    "QualitativeEvaluation",
    "Reference",
    "ReferencedSegment",
    "RegionView",
    "SRDocument",
    "Scoord3DItem",
    "ScoordItem",
    "SegmentView",
    "TcoordItem",
    "TextItem",
    "TimeItem",
    "TimePointContext",
    "UIDRefItem",
    "VerifyingObserver",
    "VolumetricROIGroup",
    "WaveformItem",
    "choose_document_class",
    "measurement_groups",
    "read_document",
]
