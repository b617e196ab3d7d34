"""Evidence sequences of the SR Document General module, derived from the content tree (PS3.3 C.17.2.3).

Every instance an IMAGE, COMPOSITE or WAVEFORM item references (including the images SCOORD items are
selected from) is listed once, grouped by study and series, with the Hierarchical SOP Instance Reference
macro (PS3.3 Table C.17-3).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from pydicom.dataset import Dataset
from pydicom.tag import BaseTag

from ...errors import DicomConformanceError
from ..common.codes import set_element
from .references import REFERENCED_SOP_CLASS_UID, REFERENCED_SOP_INSTANCE_UID, Reference
from .relationships import CONTENT_SEQUENCE, VALUE_TYPE, element_value

__all__ = ["collect_references", "hierarchical_sequence", "split_evidence"]

_REFERENCE_TYPES = ("IMAGE", "COMPOSITE", "WAVEFORM")
REFERENCED_SOP_SEQUENCE, REFERENCED_SERIES_SEQUENCE = BaseTag(0x00081199), BaseTag(0x00081115)
SERIES_INSTANCE_UID, STUDY_INSTANCE_UID = BaseTag(0x0020000E), BaseTag(0x0020000D)


def _walk(item: Dataset) -> Iterator[Dataset]:
    for child in element_value(item, CONTENT_SEQUENCE, None) or ():
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
        if element_value(item, VALUE_TYPE, None) not in _REFERENCE_TYPES or REFERENCED_SOP_SEQUENCE not in item._dict:
            continue
        ref = getattr(item, "_reference", None)
        uid = str(item.ReferencedSOPSequence[0].ReferencedSOPInstanceUID)
        if ref is None:
            ref = by_uid.get(uid)
        if ref is None:
            raise DicomConformanceError(
                f"{item.ValueType} item references {uid}, whose study and series are unknown; build it"
                " with a Reference or pass the reference as known evidence (PS3.3 C.17.2.3 lists every"
                " referenced instance by study and series)"
            )
        out.setdefault(ref.sop_instance_uid, ref)
    return list(out.values())


def hierarchical_sequence(references: Iterable[Reference]) -> list[Dataset]:
    """Items of an evidence sequence: one per study, Referenced Series Sequence per series."""
    studies: dict[str, dict[str, dict[str, Reference]]] = {}
    for ref in references:
        studies.setdefault(ref.study_instance_uid, {}).setdefault(ref.series_instance_uid, {}).setdefault(
            ref.sop_instance_uid, ref
        )
    items = []
    for study_uid, series_map in studies.items():
        study = Dataset()
        series_items = []
        for series_uid, instances in series_map.items():
            series = Dataset()
            sops = set_element(series, REFERENCED_SOP_SEQUENCE, "SQ", []).value
            for ref in instances.values():
                sop = Dataset()
                set_element(sop, REFERENCED_SOP_CLASS_UID, "UI", ref.sop_class_uid)
                set_element(sop, REFERENCED_SOP_INSTANCE_UID, "UI", ref.sop_instance_uid)
                sops.append(sop)
            set_element(series, SERIES_INSTANCE_UID, "UI", series_uid)
            series_items.append(series)
        set_element(study, REFERENCED_SERIES_SEQUENCE, "SQ", series_items)
        set_element(study, STUDY_INSTANCE_UID, "UI", study_uid)
        items.append(study)
    return items


def split_evidence(
    references: Iterable[Reference], own_study_uid: str, policy: str = "by_study"
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
