"""Evidence sequences of the SR Document General module, derived from the content tree (PS3.3 C.17.2.3).

Every instance an IMAGE, COMPOSITE or WAVEFORM item references (including the images SCOORD items are
selected from) is listed once, grouped by study and series, with the Hierarchical SOP Instance Reference
macro (PS3.3 Table C.17-3).
"""

from __future__ import annotations

from typing import Iterable, Iterator

from pydicom.dataset import Dataset

from ...errors import DicomConformanceError
from .references import Reference

__all__ = ["collect_references", "hierarchical_sequence", "split_evidence"]

_REFERENCE_TYPES = ("IMAGE", "COMPOSITE", "WAVEFORM")


def _walk(item: Dataset) -> Iterator[Dataset]:
    for child in item.get("ContentSequence", []):
        yield child
        yield from _walk(child)


def collect_references(root: Dataset, known: Iterable[Reference] = ()) -> list[Reference]:
    """Referenced instances of the tree in order of first appearance.

    Items built with :mod:`.value_types` carry their :class:`Reference`; plain datasets (read from a file)
    are matched by SOP Instance UID against ``known``.
    """
    by_uid = {r.sop_instance_uid: r for r in known}
    out: dict[str, Reference] = {}
    for item in _walk(root):
        if item.get("ValueType") not in _REFERENCE_TYPES or "ReferencedSOPSequence" not in item:
            continue
        ref = getattr(item, "_reference", None)
        uid = str(item.ReferencedSOPSequence[0].ReferencedSOPInstanceUID)
        if ref is None:
            ref = by_uid.get(uid)
        if ref is None:
            raise DicomConformanceError(
                f"{item.ValueType} item references {uid}, whose study and series are unknown; build it"
                " with a Reference or pass the reference as known evidence (PS3.3 C.17.2.3 lists every"
                " referenced instance by study and series)")
        out.setdefault(ref.sop_instance_uid, ref)
    return list(out.values())


def hierarchical_sequence(references: Iterable[Reference]) -> list[Dataset]:
    """Items of an evidence sequence: one per study, Referenced Series Sequence per series."""
    studies: dict[str, dict[str, dict[str, Reference]]] = {}
    for ref in references:
        studies.setdefault(ref.study_instance_uid, {}).setdefault(
            ref.series_instance_uid, {}).setdefault(ref.sop_instance_uid, ref)
    items = []
    for study_uid, series_map in studies.items():
        study = Dataset()
        series_items = []
        for series_uid, instances in series_map.items():
            series = Dataset()
            series.ReferencedSOPSequence = []
            for ref in instances.values():
                sop = Dataset()
                sop.ReferencedSOPClassUID = ref.sop_class_uid
                sop.ReferencedSOPInstanceUID = ref.sop_instance_uid
                series.ReferencedSOPSequence.append(sop)
            series.SeriesInstanceUID = series_uid
            series_items.append(series)
        study.ReferencedSeriesSequence = series_items
        study.StudyInstanceUID = study_uid
        items.append(study)
    return items


def split_evidence(references: Iterable[Reference], own_study_uid: str, policy: str = "by_study"
                   ) -> tuple[list[Reference], list[Reference]]:
    """(current requested procedure evidence, pertinent other evidence).

    ``by_study``: instances of the document's own study are current evidence, the others pertinent other
    evidence. ``current``: all current. ``other``: all pertinent other.
    """
    refs = list(references)
    if policy == "current":
        return refs, []
    if policy == "other":
        return [], refs
    if policy != "by_study":
        raise DicomConformanceError(f"evidence policy {policy!r} is not by_study, current or other")
    current = [r for r in refs if r.study_instance_uid == own_study_uid]
    other = [r for r in refs if r.study_instance_uid != own_study_uid]
    return current, other
