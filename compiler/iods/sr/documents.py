"""SR document IODs: Basic Text, Enhanced, Comprehensive and Comprehensive 3D SR (PS3.3 A.35.1-A.35.3, A.35.13).

Each class is a :class:`pydicom.Dataset` holding a whole document: Patient and General Study (copied from
a source header), SR Document Series, General Equipment, SR Document General, SR Document Content and SOP
Common. The content tree is checked against the IOD's relationship table (:mod:`.relationships`); the
evidence sequences are derived from the references in the tree (:mod:`.evidence`). Nothing depends on the
clock: content date/time and instance number are arguments.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pydicom
from pydicom.dataset import Dataset

from ...errors import DicomConformanceError
from ..common.codes import code_from_item, code_item
from ..common.concept import Code
from ..common.modules import Equipment, copy_patient_study, set_content_date_time, set_general_series, set_sop_common
from ..common.native import set_native_encoding
from ..common.vr import check_object
from ..common.wrap import wrap_file_dataset
from .evidence import collect_references, hierarchical_sequence, split_evidence
from .read import MeasurementGroupView, find_content_items, measurement_groups
from .references import Reference
from .relationships import (
    BASIC_TEXT,
    COMPREHENSIVE,
    COMPREHENSIVE_3D,
    ENHANCED,
    IODRules,
    check_tree,
    tree_facts,
    tree_violations,
)

__all__ = [
    "DOCUMENT_CLASSES",
    "BasicTextSR",
    "Comprehensive3DSR",
    "ComprehensiveSR",
    "EnhancedSR",
    "SRDocument",
    "VerifyingObserver",
    "choose_document_class",
    "read_document",
]

_ROOT_KEYWORDS = (
    "ValueType",
    "ConceptNameCodeSequence",
    "ContinuityOfContent",
    "ContentTemplateSequence",
    "ContentSequence",
)


@dataclass(frozen=True)
class VerifyingObserver:
    """One item of Verifying Observer Sequence (PS3.3 C.17.2)."""

    name: str
    organization: str
    datetime: _dt.datetime
    identification: Code | None = None

    def item(self) -> Dataset:
        if not self.name or not self.organization:
            raise DicomConformanceError(
                "a verifying observer needs a name and an organization (PS3.3 C.17.2, both Type 1)"
            )
        if not isinstance(self.datetime, _dt.datetime):
            raise DicomConformanceError("Verification DateTime must be a datetime (PS3.3 C.17.2, Type 1)")
        item = Dataset()
        item.VerifyingObserverName = self.name
        item.VerifyingObserverIdentificationCodeSequence = (
            [code_item(self.identification)] if self.identification else []
        )
        item.VerifyingOrganization = self.organization
        item.VerificationDateTime = self.datetime.strftime("%Y%m%d%H%M%S")
        return item


def set_document_header(
    ds: Dataset,
    *,
    modality: str,
    patient_study: Dataset,
    series_instance_uid: str,
    series_number: int,
    series_description: str | None,
    sop_instance_uid: str,
    instance_number: int,
    content_datetime: _dt.datetime,
    equipment: Equipment,
    specific_character_set: str,
) -> None:
    """What SR documents and Key Object Selection Documents share: SOP Common, Patient and General Study
    (copied), the document series (SR Document Series C.17.1 / Key Object Document Series C.17.6.1, Modality
    ``modality``), General Equipment (C.7.5.1), Instance Number and Content Date/Time (C.17.2 / C.17.6.2)."""
    set_sop_common(
        ds,
        sop_class_uid=ds.SOP_CLASS_UID,
        sop_instance_uid=sop_instance_uid,
        created=content_datetime,
        specific_character_set=specific_character_set,
    )
    copy_patient_study(ds, patient_study)
    set_general_series(
        ds,
        modality=modality,
        series_instance_uid=series_instance_uid,
        series_number=series_number,
        series_description=series_description,
    )
    ds.ReferencedPerformedProcedureStepSequence = []
    equipment.apply(ds, enhanced=False)
    ds.InstanceNumber = int(instance_number)
    set_content_date_time(ds, content_datetime)


class SRDocument(Dataset):
    """Base of the SR document classes; use a subclass."""

    SOP_CLASS_UID: ClassVar[str] = ""
    RULES: ClassVar[IODRules]

    def __init__(
        self,
        content: Dataset,
        *,
        patient_study: Dataset,
        series_instance_uid: str,
        series_number: int,
        sop_instance_uid: str,
        instance_number: int,
        content_datetime: _dt.datetime,
        equipment: Equipment,
        completion_flag: str = "PARTIAL",
        completion_flag_description: str | None = None,
        verification_flag: str = "UNVERIFIED",
        verifying_observers: Sequence[VerifyingObserver] = (),
        predecessor_documents: Sequence[Reference] = (),
        preliminary_flag: str | None = None,
        series_description: str | None = None,
        performed_procedures: Sequence[Code] = (),
        known_references: Iterable[Reference] = (),
        other_evidence: Sequence[Reference] = (),
        evidence_policy: str = "by_study",
        specific_character_set: str = "ISO_IR 192",
    ) -> None:
        super().__init__()
        if type(self) is SRDocument:
            raise TypeError("SRDocument is abstract: use BasicTextSR, EnhancedSR, ComprehensiveSR or Comprehensive3DSR")
        if not isinstance(content_datetime, _dt.datetime):
            raise DicomConformanceError("Content Date and Content Time are required (PS3.3 C.17.2)")
        # --- SR Document Content: the root CONTAINER ---------------------------------------------
        if "RelationshipType" in content:
            raise DicomConformanceError("the root content item has no Relationship Type (PS3.3 C.17.3)")
        check_tree(self.RULES, content)
        references = collect_references(content, known_references)

        set_document_header(
            self,
            modality="SR",
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
        # --- the rest of SR Document General (C.17.2) --------------------------------------------
        completion_flag = str(completion_flag).upper()
        if completion_flag not in ("PARTIAL", "COMPLETE"):
            raise DicomConformanceError(
                f"Completion Flag {completion_flag!r} must be PARTIAL or COMPLETE (PS3.3 C.17.2)"
            )
        self.CompletionFlag = completion_flag
        if completion_flag_description:
            self.CompletionFlagDescription = completion_flag_description
        verification_flag = str(verification_flag).upper()
        if verification_flag not in ("UNVERIFIED", "VERIFIED"):
            raise DicomConformanceError(
                f"Verification Flag {verification_flag!r} must be UNVERIFIED or VERIFIED (PS3.3 C.17.2)"
            )
        if verification_flag == "VERIFIED" and not verifying_observers:
            raise DicomConformanceError(
                "a VERIFIED document needs at least one verifying observer (name, organization,"
                " date-time): Verifying Observer Sequence is required when Verification Flag is VERIFIED"
                " (PS3.3 C.17.2)"
            )
        if verification_flag == "UNVERIFIED" and verifying_observers:
            raise DicomConformanceError(
                "verifying observers given for an UNVERIFIED document; set verification_flag='VERIFIED'"
            )
        self.VerificationFlag = verification_flag
        if verifying_observers:
            self.VerifyingObserverSequence = [o.item() for o in verifying_observers]
        if preliminary_flag is not None:
            if preliminary_flag not in ("PRELIMINARY", "FINAL"):
                raise DicomConformanceError("Preliminary Flag must be PRELIMINARY or FINAL (PS3.3 C.17.2)")
            self.PreliminaryFlag = preliminary_flag
        if predecessor_documents:
            self.PredecessorDocumentsSequence = hierarchical_sequence(predecessor_documents)
        self.PerformedProcedureCodeSequence = [code_item(c) for c in performed_procedures]
        current, other = split_evidence(references, str(self.StudyInstanceUID), evidence_policy)
        extra = [r for r in other_evidence if r.sop_instance_uid not in {x.sop_instance_uid for x in references}]
        other = other + extra
        if current:
            self.CurrentRequestedProcedureEvidenceSequence = hierarchical_sequence(current)
        if other:
            self.PertinentOtherEvidenceSequence = hierarchical_sequence(other)
        for keyword in _ROOT_KEYWORDS:
            if keyword in content:
                self[keyword] = content[keyword]
        check_object(self)
        set_native_encoding(self)

    # -- reading ---------------------------------------------------------------------------------
    @classmethod
    def from_dataset(cls, ds: Dataset) -> SRDocument:
        """Wrap a dataset read from a file (no checks) so the read-side methods apply."""
        target = cls
        if cls is SRDocument or not cls.SOP_CLASS_UID:
            found = DOCUMENT_CLASSES.get(str(ds.get("SOPClassUID", "")))
            if found is None:
                raise DicomConformanceError(
                    f"SOP Class {ds.get('SOPClassUID')} is not one of the SR documents dcmspec reads"
                )
            target = found
        return wrap_file_dataset(target, ds)

    @property
    def title(self) -> Code:
        return code_from_item(self.ConceptNameCodeSequence[0])

    def content_items(
        self,
        concept_name: Code | None = None,
        value_type: str | None = None,
        relationship_type: str | None = None,
        recursive: bool = True,
    ) -> list[Dataset]:
        """Content items below the root, depth first, filtered by concept name / value type."""
        return find_content_items(
            self,
            concept_name=concept_name,
            value_type=value_type,
            relationship_type=relationship_type,
            recursive=recursive,
        )

    def measurement_groups(
        self,
        kind: str | None = None,
        *,
        tracking_id: str | None = None,
        tracking_uid: str | None = None,
        finding_type: Code | None = None,
        referenced_segment: tuple[str, int] | None = None,
    ) -> list[MeasurementGroupView]:
        """TID 1500 measurement groups (see :func:`dcmspec_compiler.iods.sr.read.measurement_groups`)."""
        return measurement_groups(
            self,
            kind=kind,
            tracking_id=tracking_id,
            tracking_uid=tracking_uid,
            finding_type=finding_type,
            referenced_segment=referenced_segment,
        )

    def violations(self) -> list[str]:
        """Relationship-table violations of this document's tree (empty for our own output)."""
        return list(tree_violations(self.RULES, self))


class BasicTextSR(SRDocument):
    """Basic Text SR Storage (PS3.3 A.35.1): text, codes, dates, names and references to images and other
    objects; no numbers or coordinates.

    Example: a finding in words, with the image it was seen on.

    >>> import datetime, tempfile
    >>> from pathlib import Path
    >>> import pydicom
    >>> from dcmspec_compiler.testing.phantom import Grid, write_ct_series
    >>> from dcmspec_compiler.iods.common.concept import Code
    >>> from dcmspec_compiler.iods.common.modules import Equipment
    >>> from dcmspec_compiler.iods.sr import Reference, read_document
    >>> folder = tempfile.TemporaryDirectory()
    >>> ct = [pydicom.dcmread(p) for p in write_ct_series(Path(folder.name), Grid(shape=(4, 16, 16)))]
    >>> header = dict(patient_study=ct[0], series_instance_uid="2.25.31", series_number=1300,
    ...               sop_instance_uid="2.25.32", instance_number=1,
    ...               content_datetime=datetime.datetime(2024, 1, 3, 9),
    ...               equipment=Equipment("Example Lab", "Example tool", "1.0", "0001"))
    >>> title = Code("18748-4", "LN", "Diagnostic imaging report")
    >>> from dcmspec_compiler.iods.sr import BasicTextSR, ContainerItem, ImageItem, TextItem
    >>> finding = TextItem(Code("121071", "DCM", "Finding"), "No nodules.", children=[
    ...     ImageItem(Code("121112", "DCM", "Source of Measurement"), Reference.from_dataset(ct[1]),
    ...               "INFERRED FROM")])
    >>> doc = BasicTextSR(ContainerItem(title, None, children=[finding]), **header)
    >>> doc.save_as(Path(folder.name) / "sr.dcm", enforce_file_format=True)
    >>> back = read_document(Path(folder.name) / "sr.dcm")
    >>> type(back).__name__, [str(item.TextValue) for item in back.content_items(value_type="TEXT")]
    ('BasicTextSR', ['No nodules.'])
    >>> folder.cleanup()
    """

    SOP_CLASS_UID = "1.2.840.10008.5.1.4.1.1.88.11"
    RULES = BASIC_TEXT


class EnhancedSR(SRDocument):
    """Enhanced SR Storage (PS3.3 A.35.2): Basic Text SR with measurements (NUM) and 2D coordinates (SCOORD,
    TCOORD).

    Example: a diameter measured on an image, with the line it was measured along (SCOORD).

    >>> import datetime, tempfile
    >>> from pathlib import Path
    >>> import pydicom
    >>> from dcmspec_compiler.testing.phantom import Grid, write_ct_series
    >>> from dcmspec_compiler.iods.common.concept import Code
    >>> from dcmspec_compiler.iods.common.modules import Equipment
    >>> from dcmspec_compiler.iods.sr import Reference, read_document
    >>> folder = tempfile.TemporaryDirectory()
    >>> ct = [pydicom.dcmread(p) for p in write_ct_series(Path(folder.name), Grid(shape=(4, 16, 16)))]
    >>> header = dict(patient_study=ct[0], series_instance_uid="2.25.31", series_number=1300,
    ...               sop_instance_uid="2.25.32", instance_number=1,
    ...               content_datetime=datetime.datetime(2024, 1, 3, 9),
    ...               equipment=Equipment("Example Lab", "Example tool", "1.0", "0001"))
    >>> title = Code("18748-4", "LN", "Diagnostic imaging report")
    >>> from dcmspec_compiler.iods.sr import ContainerItem, EnhancedSR, NumItem, ScoordItem
    >>> mm = Code("mm", "UCUM", "millimeter")
    >>> diameter = NumItem(Code("81827009", "SCT", "Diameter"), 12.5, mm, children=[
    ...     ScoordItem(Code("111030", "DCM", "Image Region"), "POLYLINE", [[4, 8], [12, 8]],
    ...                Reference.from_dataset(ct[1]), "INFERRED FROM")])
    >>> doc = EnhancedSR(ContainerItem(title, None, children=[diameter]), **header)
    >>> doc.save_as(Path(folder.name) / "sr.dcm", enforce_file_format=True)
    >>> [float(item.MeasuredValueSequence[0].NumericValue)
    ...  for item in read_document(Path(folder.name) / "sr.dcm").content_items(value_type="NUM")]
    [12.5]

    Enhanced SR has no 3D coordinates (PS3.3 A.35.2): a SCOORD3D item is refused.

    >>> from dcmspec_compiler.iods.sr import Scoord3DItem
    >>> point = Scoord3DItem(Code("111030", "DCM", "Image Region"), "POINT", [[0.0, 0.0, -15.0]],
    ...                      ct[0].FrameOfReferenceUID)
    >>> EnhancedSR(ContainerItem(title, None, children=[point]), **header)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    dcmspec_compiler.errors.DicomConformanceError: ...
    >>> folder.cleanup()
    """

    SOP_CLASS_UID = "1.2.840.10008.5.1.4.1.1.88.22"
    RULES = ENHANCED


class ComprehensiveSR(SRDocument):
    """Comprehensive SR Storage (PS3.3 A.35.3): Enhanced SR with by-reference relationships and a freer tree.

    Example: a coded finding and an impression in words.

    >>> import datetime, tempfile
    >>> from pathlib import Path
    >>> import pydicom
    >>> from dcmspec_compiler.testing.phantom import Grid, write_ct_series
    >>> from dcmspec_compiler.iods.common.concept import Code
    >>> from dcmspec_compiler.iods.common.modules import Equipment
    >>> from dcmspec_compiler.iods.sr import Reference, read_document
    >>> folder = tempfile.TemporaryDirectory()
    >>> ct = [pydicom.dcmread(p) for p in write_ct_series(Path(folder.name), Grid(shape=(4, 16, 16)))]
    >>> header = dict(patient_study=ct[0], series_instance_uid="2.25.31", series_number=1300,
    ...               sop_instance_uid="2.25.32", instance_number=1,
    ...               content_datetime=datetime.datetime(2024, 1, 3, 9),
    ...               equipment=Equipment("Example Lab", "Example tool", "1.0", "0001"))
    >>> title = Code("18748-4", "LN", "Diagnostic imaging report")
    >>> from dcmspec_compiler.iods.sr import CodeItem, ComprehensiveSR, ContainerItem, TextItem
    >>> lesion = CodeItem(Code("121071", "DCM", "Finding"), Code("52988006", "SCT", "Lesion"))
    >>> doc = ComprehensiveSR(ContainerItem(title, None, children=[lesion, TextItem(
    ...     Code("121073", "DCM", "Impression"), "Benign-looking lesion.")]), **header)
    >>> doc.save_as(Path(folder.name) / "sr.dcm", enforce_file_format=True)
    >>> type(read_document(Path(folder.name) / "sr.dcm")).__name__
    'ComprehensiveSR'
    >>> folder.cleanup()
    """

    SOP_CLASS_UID = "1.2.840.10008.5.1.4.1.1.88.33"
    RULES = COMPREHENSIVE


class Comprehensive3DSR(SRDocument):
    """Comprehensive 3D SR Storage (PS3.3 A.35.13): Comprehensive SR with 3D coordinates in a frame of
    reference (SCOORD3D).

    Example: a point in patient coordinates (SCOORD3D, PS3.3 C.18.9) in the frame of reference of the CT.

    >>> import datetime, tempfile
    >>> from pathlib import Path
    >>> import pydicom
    >>> from dcmspec_compiler.testing.phantom import Grid, write_ct_series
    >>> from dcmspec_compiler.iods.common.concept import Code
    >>> from dcmspec_compiler.iods.common.modules import Equipment
    >>> from dcmspec_compiler.iods.sr import Reference, read_document
    >>> folder = tempfile.TemporaryDirectory()
    >>> ct = [pydicom.dcmread(p) for p in write_ct_series(Path(folder.name), Grid(shape=(4, 16, 16)))]
    >>> header = dict(patient_study=ct[0], series_instance_uid="2.25.31", series_number=1300,
    ...               sop_instance_uid="2.25.32", instance_number=1,
    ...               content_datetime=datetime.datetime(2024, 1, 3, 9),
    ...               equipment=Equipment("Example Lab", "Example tool", "1.0", "0001"))
    >>> title = Code("18748-4", "LN", "Diagnostic imaging report")
    >>> from dcmspec_compiler.iods.sr import Comprehensive3DSR, ContainerItem, Scoord3DItem
    >>> point = Scoord3DItem(Code("111030", "DCM", "Image Region"), "POINT", [[0.0, 0.0, -15.0]],
    ...                      ct[0].FrameOfReferenceUID)
    >>> doc = Comprehensive3DSR(ContainerItem(title, None, children=[point]), **header)
    >>> doc.save_as(Path(folder.name) / "sr.dcm", enforce_file_format=True)
    >>> back = read_document(Path(folder.name) / "sr.dcm")
    >>> [item.GraphicType for item in back.content_items(value_type="SCOORD3D")]
    ['POINT']
    >>> folder.cleanup()
    """

    SOP_CLASS_UID = "1.2.840.10008.5.1.4.1.1.88.34"
    RULES = COMPREHENSIVE_3D


DOCUMENT_CLASSES: dict[str, type[SRDocument]] = {
    c.SOP_CLASS_UID: c for c in (BasicTextSR, EnhancedSR, ComprehensiveSR, Comprehensive3DSR)
}
_SMALLEST_FIRST = (BasicTextSR, EnhancedSR, ComprehensiveSR, Comprehensive3DSR)


def choose_document_class(
    content: Dataset, force: type[SRDocument] | None = None, *, smallest: type[SRDocument] = BasicTextSR
) -> type[SRDocument]:
    """The smallest SR IOD, from ``smallest`` up, whose relationship table accepts ``content``; ``force``
    checks one instead."""
    facts = tree_facts(content)  # one walk of the tree serves every IOD
    if force is not None:
        check_tree(force.RULES, content, facts)
        return force
    for cls in _SMALLEST_FIRST[_SMALLEST_FIRST.index(smallest) :]:
        if next(tree_violations(cls.RULES, content, facts), None) is None:
            return cls
    check_tree(COMPREHENSIVE_3D, content, facts)  # raises with the reason
    return Comprehensive3DSR  # pragma: no cover


def read_document(source: str | Path | Dataset) -> SRDocument:
    """Read an SR document (path or dataset) into the matching document class."""
    ds = source if isinstance(source, Dataset) else pydicom.dcmread(str(source))
    return SRDocument.from_dataset(ds)
