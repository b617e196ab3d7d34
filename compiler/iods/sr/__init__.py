"""Structured Reporting: content items, SR document IODs, TID 1500 Measurement Report, reading back.

- :mod:`.value_types`: one content item class per SR value type (PS3.3 C.17.3, C.18)
- :mod:`.relationships`: per-IOD relationship content constraints, as data (PS3.3 A.35.x)
- :mod:`.documents`: Basic Text / Enhanced / Comprehensive / Comprehensive 3D SR documents
- :mod:`.evidence`: evidence sequences derived from the references in a tree
- :mod:`.tid1500`: TID 1500 Measurement Report builder (TID 1410, 1411, 1501, 300, ...)
- :mod:`.read`: content item search and measurement groups read back (any writer's TID 1500)
"""

from .documents import (BasicTextSR, Comprehensive3DSR, ComprehensiveSR, EnhancedSR, SRDocument,
                        VerifyingObserver, choose_document_class, read_document)
from .read import MeasurementGroupView, MeasurementView, RegionView, SegmentView, measurement_groups
from .references import Reference
from .tid1500 import (AlgorithmIdentification, DeviceObserver, FindingSite, ImageGroup, ImageRegion,
                      ImageRegion3D, Measurement, MeasurementReport, ObservationContext, PersonObserver,
                      PlanarROIGroup, QualitativeEvaluation, ReferencedSegment, TimePointContext,
                      VolumetricROIGroup)
from .value_types import (CodeItem, CompositeItem, ContainerItem, ContentItem, DateItem, DateTimeItem,
                          ImageItem, NumItem, PNameItem, Scoord3DItem, ScoordItem, TcoordItem, TextItem,
                          TimeItem, UIDRefItem, WaveformItem)

__all__ = [
    "BasicTextSR", "EnhancedSR", "ComprehensiveSR", "Comprehensive3DSR", "SRDocument", "VerifyingObserver",
    "choose_document_class", "read_document", "Reference",
    "ContentItem", "ContainerItem", "CodeItem", "NumItem", "TextItem", "DateItem", "TimeItem", "DateTimeItem",
    "PNameItem", "UIDRefItem", "CompositeItem", "ImageItem", "WaveformItem", "ScoordItem", "Scoord3DItem",
    "TcoordItem",
    "MeasurementReport", "ObservationContext", "PersonObserver", "DeviceObserver", "FindingSite",
    "AlgorithmIdentification", "TimePointContext", "ImageRegion", "ImageRegion3D", "ReferencedSegment",
    "QualitativeEvaluation", "Measurement", "PlanarROIGroup", "VolumetricROIGroup", "ImageGroup",
    "measurement_groups", "MeasurementGroupView", "MeasurementView", "RegionView", "SegmentView",
]
