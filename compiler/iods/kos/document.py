"""Key Object Selection Document (PS3.3 A.35.4) with its content from TID 2010 (PS3.16).

A KOS flags instances that matter (key images, a segmentation, a report) for a purpose named by its title
(CID 7010: Of Interest, For Teaching, Quality Issue, ...). It is an SR-like document: Patient and General
Study (copied from a source header), Key Object Document Series (C.17.6.1), General Equipment, Key Object
Document (C.17.6.2), SR Document Content (C.17.3) and SOP Common. Its tree obeys the relationship table
A.35.4-2; every instance it selects, of any study, is listed in Current Requested Procedure Evidence
Sequence (C.17.6.2.1: the KOS has no Pertinent Other Evidence).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pydicom
from pydicom.dataset import Dataset

from ...errors import DicomConformanceError
from ..common.codes import code_from_item
from ..common.concept import Code
from ..common.modules import Equipment
from ..common.native import set_native_encoding
from ..common.vr import check_object
from ..common.wrap import wrap_file_of_class
from ..sr.documents import set_document_header
from ..sr.evidence import collect_references, hierarchical_sequence
from ..sr.references import Reference
from ..sr.relationships import KEY_OBJECT_SELECTION, check_tree
from ..sr.tid1500 import ObservationContext
from ..sr.value_types import CodeItem, CompositeItem, ContainerItem, ImageItem, TextItem, WaveformItem
from .codes import DOCUMENT_TITLE_MODIFIER, KEY_OBJECT_DESCRIPTION, check_title, check_title_modifiers

__all__ = ["KeyObjectSelectionDocument", "SelectedInstance", "kosread"]

SOP_CLASS_UID = "1.2.840.10008.5.1.4.1.1.88.59"
_WAVEFORM_PREFIX = "1.2.840.10008.5.1.4.1.1.9."
_VALUE_TYPES = ("IMAGE", "COMPOSITE", "WAVEFORM")


@dataclass(frozen=True)
class SelectedInstance:
    """One instance a KOS selects, and the value type of the content item that references it.

    TID 2010 rows 8-10: IMAGE for image IODs (with frame or segment numbers), WAVEFORM for waveform IODs,
    COMPOSITE for the rest (SR documents, presentation states, other KOS, ...).
    """

    reference: Reference
    value_type: str

    def __post_init__(self) -> None:
        if self.value_type not in _VALUE_TYPES:
            raise DicomConformanceError(
                f"a KOS selects instances with IMAGE, COMPOSITE or WAVEFORM items, not {self.value_type}"
                " (PS3.16 TID 2010)"
            )

    @classmethod
    def from_dataset(
        cls, ds: Dataset, *, frame_numbers: Sequence[int] = (), segment_numbers: Sequence[int] = ()
    ) -> SelectedInstance:
        """The selection of ``ds`` (a header): IMAGE when it has pixel rows and columns, WAVEFORM for
        waveform SOP classes, COMPOSITE otherwise."""
        reference = Reference.from_dataset(ds, frame_numbers=frame_numbers, segment_numbers=segment_numbers)
        if reference.sop_class_uid.startswith(_WAVEFORM_PREFIX):
            value_type = "WAVEFORM"
        elif "Rows" in ds and "Columns" in ds:
            value_type = "IMAGE"
        else:
            value_type = "COMPOSITE"
        if value_type != "IMAGE" and (frame_numbers or segment_numbers):
            raise DicomConformanceError(
                f"{reference.sop_instance_uid} is not an image: frame and segment numbers apply to images only"
                " (PS3.3 C.18.3)"
            )
        return cls(reference, value_type)

    def content_item(self) -> Dataset:
        cls: type[ImageItem | CompositeItem | WaveformItem] = {
            "IMAGE": ImageItem,
            "COMPOSITE": CompositeItem,
            "WAVEFORM": WaveformItem,
        }[self.value_type]
        return cls(None, self.reference, "CONTAINS")


def repeated_selections(selection: Sequence[SelectedInstance]) -> list[tuple[int, int]]:
    """(index of an instance selected again, index where it was first selected) for every repeat: the same
    instance with the same frames and segments is selected once (TID 2010)."""
    first: dict[tuple[str, tuple[int, ...], tuple[int, ...]], int] = {}
    out = []
    for i, selected in enumerate(selection):
        ref = selected.reference
        key = (ref.sop_instance_uid, tuple(ref.frame_numbers or ()), tuple(ref.segment_numbers or ()))
        if key in first:
            out.append((i, first[key]))
        else:
            first[key] = i
    return out


class KeyObjectSelectionDocument(Dataset):
    """Key Object Selection Document Storage (PS3.3 A.35.4), content per TID 2010 (PS3.16).

    ``selection``: the flagged instances, in the order the document lists them (at least one).
    ``title``: a code of CID 7010. ``title_modifiers``: CID 7011 codes (required when the title is
    "Rejected for Quality Reasons" or "Quality Issue") or one CID 7012 code ("Best In Set").

    Example: flag two slices of a small synthetic CT "Of Interest" (CID 7010), write and read back.

    >>> import datetime, tempfile
    >>> from pathlib import Path
    >>> import pydicom
    >>> from dcmspec_compiler.testing.phantom import Grid, write_ct_series
    >>> from dcmspec_compiler.iods.common.concept import Code
    >>> from dcmspec_compiler.iods.common.modules import Equipment
    >>> from dcmspec_compiler.iods.kos import KeyObjectSelectionDocument, SelectedInstance, kosread
    >>> folder = tempfile.TemporaryDirectory()
    >>> ct = [pydicom.dcmread(p) for p in write_ct_series(Path(folder.name), Grid(shape=(4, 16, 16)))]
    >>> kos = KeyObjectSelectionDocument(
    ...     [SelectedInstance.from_dataset(ct[1]), SelectedInstance.from_dataset(ct[2])],
    ...     title=Code("113000", "DCM", "Of Interest"), patient_study=ct[0],
    ...     series_instance_uid="2.25.11", series_number=1100, sop_instance_uid="2.25.12", instance_number=1,
    ...     content_datetime=datetime.datetime(2024, 1, 3, 9, 0),
    ...     equipment=Equipment("Example Lab", "Example tool", "1.0", "0001"), description="Two slices")
    >>> kos.save_as(Path(folder.name) / "kos.dcm", enforce_file_format=True)
    >>> back = kosread(Path(folder.name) / "kos.dcm")
    >>> back.title.meaning, back.description
    ('Of Interest', 'Two slices')
    >>> [s.reference.sop_instance_uid for s in back.selected()] == [ct[1].SOPInstanceUID,
    ...                                                               ct[2].SOPInstanceUID]
    True

    A title that is not one of CID 7010 is refused:

    >>> KeyObjectSelectionDocument(
    ...     [SelectedInstance.from_dataset(ct[1])], title=Code("121071", "DCM", "Finding"),
    ...     patient_study=ct[0],
    ...     series_instance_uid="2.25.11", series_number=1100, sop_instance_uid="2.25.12", instance_number=1,
    ...     content_datetime=datetime.datetime(2024, 1, 3, 9, 0),
    ...     equipment=Equipment("Example Lab", "Example tool", "1.0", "0001"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    dcmspec_compiler.errors.DicomConformanceError: ...
    >>> folder.cleanup()
    """

    SOP_CLASS_UID: ClassVar[str] = SOP_CLASS_UID

    def __init__(
        self,
        selection: Sequence[SelectedInstance],
        *,
        title: Code,
        patient_study: Dataset,
        series_instance_uid: str,
        series_number: int,
        sop_instance_uid: str,
        instance_number: int,
        content_datetime: _dt.datetime,
        equipment: Equipment,
        description: str | None = None,
        title_modifiers: Sequence[Code] = (),
        observer_context: ObservationContext | None = None,
        series_description: str | None = None,
        specific_character_set: str = "ISO_IR 192",
    ) -> None:
        super().__init__()
        if not isinstance(content_datetime, _dt.datetime):
            raise DicomConformanceError("Content Date and Content Time are required (PS3.3 C.17.6.2)")
        if not selection:
            raise DicomConformanceError(
                "a Key Object Selection Document selects at least one instance (PS3.16 TID 2010 rows 8-10)"
            )
        title = check_title(title)
        modifiers = check_title_modifiers(title, title_modifiers)
        # --- SR Document Content (C.17.3), TID 2010 ------------------------------------------------
        root = ContainerItem(title, None, continuity="SEPARATE", template_id="2010")
        for modifier in modifiers:
            root.append(CodeItem(DOCUMENT_TITLE_MODIFIER, modifier, "HAS CONCEPT MOD"))
        if observer_context is not None:
            root.extend(observer_context.items())
        if description:
            root.append(TextItem(KEY_OBJECT_DESCRIPTION, description, "CONTAINS"))
        for again, _ in repeated_selections(selection)[:1]:
            raise DicomConformanceError(f"instance {selection[again].reference.sop_instance_uid} is selected twice")
        for selected in selection:
            root.append(selected.content_item())
        check_tree(KEY_OBJECT_SELECTION, root)
        # --- SOP Common, Patient, General Study, Key Object Document Series (C.17.6.1), Equipment --
        set_document_header(
            self,
            modality="KO",
            patient_study=patient_study,
            series_instance_uid=series_instance_uid,
            series_number=series_number,
            series_description=series_description,
            sop_instance_uid=sop_instance_uid,
            instance_number=instance_number,
            content_datetime=content_datetime,
            equipment=equipment,
            specific_character_set=specific_character_set,
        )
        # --- the rest of Key Object Document (C.17.6.2) ------------------------------------------
        self.CurrentRequestedProcedureEvidenceSequence = hierarchical_sequence(collect_references(root))
        for keyword in (
            "ValueType",
            "ConceptNameCodeSequence",
            "ContinuityOfContent",
            "ContentTemplateSequence",
            "ContentSequence",
        ):
            self[keyword] = root[keyword]
        check_object(self)
        set_native_encoding(self)

    # -- reading ---------------------------------------------------------------------------------
    @classmethod
    def from_dataset(cls, ds: Dataset) -> KeyObjectSelectionDocument:
        """Wrap a dataset read from a file (no checks beyond the SOP class) for the read-side methods."""
        return wrap_file_of_class(cls, ds, SOP_CLASS_UID, "Key Object Selection Document Storage")

    @property
    def title(self) -> Code:
        return code_from_item(self.ConceptNameCodeSequence[0])

    @property
    def title_modifiers(self) -> list[Code]:
        return [
            code_from_item(item.ConceptCodeSequence[0])
            for item in self._children("CODE")
            if _name(item) == DOCUMENT_TITLE_MODIFIER
        ]

    @property
    def description(self) -> str | None:
        texts = [str(item.TextValue) for item in self._children("TEXT") if _name(item) == KEY_OBJECT_DESCRIPTION]
        return texts[0] if texts else None

    def selected(
        self, *, value_type: str | None = None, sop_class_uid: str | None = None, study_instance_uid: str | None = None
    ) -> list[SelectedInstance]:
        """The selected instances in document order, with study and series from the evidence sequence."""
        where = self._evidence_index()
        out = []
        for item in self.get("ContentSequence", []):
            vt = item.get("ValueType")
            if vt not in _VALUE_TYPES or (value_type is not None and vt != value_type):
                continue
            sop = item.ReferencedSOPSequence[0]
            uid = str(sop.ReferencedSOPInstanceUID)
            if uid not in where:
                raise DicomConformanceError(
                    f"selected instance {uid} is missing from Current Requested Procedure Evidence Sequence"
                    " (PS3.3 C.17.6.2.1)"
                )
            study, series = where[uid]
            ref = Reference(
                str(sop.ReferencedSOPClassUID),
                uid,
                series,
                study,
                tuple(int(f) for f in _multi(sop.get("ReferencedFrameNumber"))),
                tuple(int(s) for s in _multi(sop.get("ReferencedSegmentNumber"))),
            )
            if sop_class_uid is not None and ref.sop_class_uid != sop_class_uid:
                continue
            if study_instance_uid is not None and study != study_instance_uid:
                continue
            out.append(SelectedInstance(ref, vt))
        return out

    def _children(self, value_type: str) -> Iterator[Dataset]:
        return (item for item in self.get("ContentSequence", []) if item.get("ValueType") == value_type)

    def _evidence_index(self) -> dict[str, tuple[str, str]]:
        index = {}
        for study in self.get("CurrentRequestedProcedureEvidenceSequence", []):
            for series in study.get("ReferencedSeriesSequence", []):
                for sop in series.get("ReferencedSOPSequence", []):
                    index[str(sop.ReferencedSOPInstanceUID)] = (
                        str(study.StudyInstanceUID),
                        str(series.SeriesInstanceUID),
                    )
        return index


def _name(item: Dataset) -> Code | None:
    seq = item.get("ConceptNameCodeSequence")
    return code_from_item(seq[0]) if seq else None


def _multi(value: object) -> list[Any]:
    if value is None or value == "":
        return []
    return list(value) if isinstance(value, (list, tuple, pydicom.multival.MultiValue)) else [value]


def kosread(source: str | Path | Dataset) -> KeyObjectSelectionDocument:
    """Read a Key Object Selection Document (path or dataset)."""
    ds = source if isinstance(source, Dataset) else pydicom.dcmread(str(source))
    return KeyObjectSelectionDocument.from_dataset(ds)
