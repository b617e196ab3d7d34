"""Reading SR content back: content item search and TID 1500 measurement groups.

Works on plain datasets read from any file (ours or another writer's), not only on our builders' output.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydicom.dataset import Dataset

from ...errors import DicomConformanceError
from ..common.codes import code_from_item, codes_equal
from ..common.concept import Code
from . import codes as C
from .content import FindingSite
from .value_types import num_unit, num_value

__all__ = [
    "MeasurementGroupView",
    "MeasurementView",
    "RegionView",
    "SegmentView",
    "concept_name",
    "find_content_items",
    "iter_content_items",
    "measurement_groups",
]


def concept_name(item: Dataset) -> Code | None:
    seq = item.get("ConceptNameCodeSequence")
    return code_from_item(seq[0]) if seq else None


def iter_content_items(item: Dataset, recursive: bool = True) -> Iterator[Dataset]:
    """Content Sequence items below ``item``, depth first."""
    for child in item.get("ContentSequence", []):
        yield child
        if recursive:
            yield from iter_content_items(child, True)


def _matches(item: Dataset, name: Code | None, value_type: str | None, relationship_type: str | None) -> bool:
    if value_type is not None and item.get("ValueType") != value_type.upper():
        return False
    if relationship_type is not None and item.get("RelationshipType") != relationship_type.upper():
        return False
    if name is not None:
        got = concept_name(item)
        if got is None or not codes_equal(got, name):
            return False
    return True


def find_content_items(
    item: Dataset,
    *,
    concept_name: Code | None = None,
    value_type: str | None = None,
    relationship_type: str | None = None,
    recursive: bool = True,
) -> list[Dataset]:
    return [c for c in iter_content_items(item, recursive) if _matches(c, concept_name, value_type, relationship_type)]


def _children(
    item: Dataset, name: Code | None = None, value_type: str | None = None, relationship_type: str | None = None
) -> list[Dataset]:
    return find_content_items(
        item, concept_name=name, value_type=value_type, relationship_type=relationship_type, recursive=False
    )


def _ints(value: Any) -> tuple[int, ...]:
    """An int or multi-valued element value as a tuple of ints."""
    if value is None or value == "":
        return ()
    if isinstance(value, (int, float, str)):
        return (int(value),)
    return tuple(int(v) for v in value)


def _code_value(item: Dataset) -> Code:
    return code_from_item(item.ConceptCodeSequence[0])


def _finding_sites(item: Dataset) -> list[FindingSite]:
    out = []
    for site in _children(item, C.FINDING_SITE, "CODE", "HAS CONCEPT MOD"):
        lat = _children(site, C.LATERALITY, "CODE")
        topo = _children(site, C.TOPOGRAPHICAL_MODIFIER, "CODE")
        out.append(
            FindingSite(_code_value(site), _code_value(lat[0]) if lat else None, _code_value(topo[0]) if topo else None)
        )
    return out


@dataclass
class RegionView:
    """A SCOORD or SCOORD3D region of a group or measurement."""

    value_type: str
    graphic_type: str
    coordinates: np.ndarray
    frame_of_reference_uid: str | None = None
    source_sop_instance_uid: str | None = None
    source_frame_numbers: tuple[int, ...] = ()
    name: Code | None = None

    @classmethod
    def from_item(cls, item: Dataset) -> RegionView:
        vt = str(item.ValueType)
        dims = 3 if vt == "SCOORD3D" else 2
        coords = np.asarray(item.GraphicData, dtype=np.float64).reshape(-1, dims)
        uid: str | None = None
        frames: tuple[int, ...] = ()
        for src in _children(item, None, "IMAGE", "SELECTED FROM"):
            sop = src.ReferencedSOPSequence[0]
            uid = str(sop.ReferencedSOPInstanceUID)
            if "ReferencedFrameNumber" in sop:
                frames = _ints(sop.ReferencedFrameNumber)
        return cls(
            vt,
            str(item.GraphicType),
            coords,
            str(item.ReferencedFrameOfReferenceUID) if "ReferencedFrameOfReferenceUID" in item else None,
            uid,
            frames,
            concept_name(item),
        )


@dataclass
class SegmentView:
    sop_class_uid: str
    sop_instance_uid: str
    segment_number: int
    source_series_uid: str | None = None


@dataclass
class MeasurementView:
    """One TID 300 measurement."""

    name: Code | None  # None only in a NUM item without its (Type 1) Concept Name
    value: float | None
    unit: Code | None
    qualifier: Code | None = None
    method: Code | None = None
    derivation: Code | None = None
    finding_sites: list[FindingSite] = field(default_factory=list)
    source_regions: list[RegionView] = field(default_factory=list)
    item: Dataset | None = None

    @classmethod
    def from_item(cls, item: Dataset) -> MeasurementView:
        qual = item.get("NumericValueQualifierCodeSequence")
        method = _children(item, C.MEASUREMENT_METHOD, "CODE")
        derivation = _children(item, C.DERIVATION, "CODE")
        regions = [
            RegionView.from_item(c)
            for c in _children(item, relationship_type="INFERRED FROM")
            if c.get("ValueType") in ("SCOORD", "SCOORD3D")
        ]
        return cls(
            concept_name(item),
            num_value(item),
            num_unit(item),
            code_from_item(qual[0]) if qual else None,
            _code_value(method[0]) if method else None,
            _code_value(derivation[0]) if derivation else None,
            _finding_sites(item),
            regions,
            item,
        )


@dataclass
class MeasurementGroupView:
    """One TID 1410 / 1411 / 1501 measurement group, read back."""

    kind: str
    tracking_id: str | None
    tracking_uid: str | None
    finding_type: Code | None
    finding_category: Code | None
    finding_sites: list[FindingSite]
    measurements: list[MeasurementView]
    qualitative_evaluations: list[tuple[Code, Code | str]]
    referenced_segment: SegmentView | None
    regions: list[RegionView]
    source_images: list[str]
    item: Dataset

    @property
    def roi(self) -> RegionView | None:
        return self.regions[0] if self.regions else None

    def measurement(self, name: Code) -> MeasurementView | None:
        for m in self.measurements:
            if m.name is not None and codes_equal(m.name, name):
                return m
        return None


_GROUP_CONTEXT = (C.FINDING, C.FINDING_CATEGORY)
_KINDS = {"1410": "planar", "1411": "volumetric", "1501": "image"}


def _group_view(item: Dataset) -> MeasurementGroupView:
    text = _children(item, C.TRACKING_IDENTIFIER, "TEXT")
    uid = _children(item, C.TRACKING_UNIQUE_IDENTIFIER, "UIDREF")
    finding = _children(item, C.FINDING, "CODE")
    category = _children(item, C.FINDING_CATEGORY, "CODE")
    measurements = [MeasurementView.from_item(c) for c in _children(item, None, "NUM", "CONTAINS")]
    qualitative: list[tuple[Code, Code | str]] = []
    for c in _children(item, relationship_type="CONTAINS"):
        name = concept_name(c)
        if name is None or any(codes_equal(name, g) for g in _GROUP_CONTEXT):
            continue
        if c.ValueType == "CODE":
            qualitative.append((name, _code_value(c)))
        elif c.ValueType == "TEXT":
            qualitative.append((name, str(c.TextValue)))
    segment = None
    seg_items = _children(item, C.REFERENCED_SEGMENT, "IMAGE")
    if seg_items:
        sop = seg_items[0].ReferencedSOPSequence[0]
        numbers = _ints(sop.get("ReferencedSegmentNumber"))
        number = numbers[0] if numbers else None
        series = _children(item, C.SOURCE_SERIES_FOR_SEGMENTATION, "UIDREF")
        segment = SegmentView(
            str(sop.ReferencedSOPClassUID),
            str(sop.ReferencedSOPInstanceUID),
            int(number) if number is not None else 0,
            str(series[0].UID) if series else None,
        )
    regions = [
        RegionView.from_item(c)
        for c in _children(item, relationship_type="CONTAINS")
        if c.get("ValueType") in ("SCOORD", "SCOORD3D")
    ]
    sources = [str(c.ReferencedSOPSequence[0].ReferencedSOPInstanceUID) for c in _children(item, C.SOURCE, "IMAGE")]
    tpl = item.get("ContentTemplateSequence")
    kind = _KINDS.get(str(tpl[0].TemplateIdentifier)) if tpl else None
    if kind is None:
        if (
            segment is not None
            or len(regions) > 1
            or any(r.name is not None and codes_equal(r.name, C.VOLUME_SURFACE) for r in regions)
        ):
            kind = "volumetric"
        elif regions:
            kind = "planar"
        else:
            kind = "image"
    return MeasurementGroupView(
        kind,
        str(text[0].TextValue) if text else None,
        str(uid[0].UID) if uid else None,
        _code_value(finding[0]) if finding else None,
        _code_value(category[0]) if category else None,
        _finding_sites(item),
        measurements,
        qualitative,
        segment,
        regions,
        sources,
        item,
    )


def measurement_groups(
    document: Dataset,
    *,
    kind: str | None = None,
    tracking_id: str | None = None,
    tracking_uid: str | None = None,
    finding_type: Code | None = None,
    referenced_segment: tuple[str, int] | None = None,
) -> list[MeasurementGroupView]:
    """Measurement groups of a TID 1500 report, filtered.

    ``kind`` is ``planar`` (TID 1410), ``volumetric`` (TID 1411), ``image`` (TID 1501) or None (all);
    ``referenced_segment`` is ``(segmentation SOP Instance UID, segment number)``.
    """
    if kind not in (None, "planar", "volumetric", "image"):
        raise DicomConformanceError(f"measurement group kind {kind!r} is not planar, volumetric or image")
    out = []
    for container in _children(document, C.IMAGING_MEASUREMENTS, "CONTAINER"):
        for item in _children(container, C.MEASUREMENT_GROUP, "CONTAINER"):
            view = _group_view(item)
            if kind is not None and view.kind != kind:
                continue
            if tracking_id is not None and view.tracking_id != tracking_id:
                continue
            if tracking_uid is not None and view.tracking_uid != tracking_uid:
                continue
            if finding_type is not None and (
                view.finding_type is None or not codes_equal(view.finding_type, finding_type)
            ):
                continue
            if referenced_segment is not None:
                seg = view.referenced_segment
                if seg is None or (seg.sop_instance_uid, seg.segment_number) != (
                    str(referenced_segment[0]),
                    int(referenced_segment[1]),
                ):
                    continue
            out.append(view)
    return out
