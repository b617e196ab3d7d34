"""Patient, Clinical Trial Subject, General Study and Patient Study modules copied from a source image.

PS3.3 C.7.1.1, C.7.1.3, C.7.2.1, C.7.2.2. Derived objects copy these modules from their source; a source
may lack attributes its modules require, so copying attribute by attribute is not enough: every module we
write is completed per its table (Type 2 attributes written empty, Type 2C ones when their condition holds),
and an optional (User) module whose Type 1 attributes the source lacks is left out rather than written
incomplete.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydicom.dataset import Dataset

from ...errors import DicomConformanceError


@dataclass(frozen=True)
class CopiedModule:
    """One module of the table: usage in the IOD (M or U) and its attributes with their types."""

    name: str
    usage: str
    attributes: tuple[tuple[str, str], ...]  # (keyword, type: 1, 1C, 2, 2C, 3)

    @property
    def keywords(self) -> tuple[str, ...]:
        return tuple(kw for kw, _ in self.attributes)


PATIENT = CopiedModule(
    "Patient",
    "M",
    (
        ("PatientName", "2"),
        ("PatientID", "2"),
        ("IssuerOfPatientID", "3"),
        ("IssuerOfPatientIDQualifiersSequence", "3"),
        ("TypeOfPatientID", "3"),
        ("PatientBirthDate", "2"),
        ("PatientBirthTime", "3"),
        ("PatientSex", "2"),
        ("QualityControlSubject", "3"),
        ("OtherPatientIDsSequence", "3"),
        ("PatientSpeciesDescription", "1C"),
        ("PatientSpeciesCodeSequence", "1C"),
        ("PatientBreedDescription", "2C"),
        ("PatientBreedCodeSequence", "2C"),
        ("BreedRegistrationSequence", "2C"),
        ("ResponsiblePerson", "2C"),
        ("ResponsiblePersonRole", "1C"),
        ("ResponsibleOrganization", "2C"),
        ("PatientIdentityRemoved", "3"),
        ("DeidentificationMethod", "1C"),
        ("DeidentificationMethodCodeSequence", "1C"),
        ("PatientComments", "3"),
    ),
)
CLINICAL_TRIAL_SUBJECT = CopiedModule(
    "Clinical Trial Subject",
    "U",
    (
        ("ClinicalTrialSponsorName", "1"),
        ("ClinicalTrialProtocolID", "1"),
        ("ClinicalTrialProtocolName", "2"),
        ("ClinicalTrialSiteID", "2"),
        ("ClinicalTrialSiteName", "2"),
        ("ClinicalTrialSubjectID", "1C"),
        ("ClinicalTrialSubjectReadingID", "1C"),
    ),
)
GENERAL_STUDY = CopiedModule(
    "General Study",
    "M",
    (
        ("StudyInstanceUID", "1"),
        ("StudyDate", "2"),
        ("StudyTime", "2"),
        ("ReferringPhysicianName", "2"),
        ("StudyID", "2"),
        ("AccessionNumber", "2"),
        ("IssuerOfAccessionNumberSequence", "3"),
        ("StudyDescription", "3"),
    ),
)
PATIENT_STUDY = CopiedModule(
    "Patient Study",
    "U",
    (
        ("PatientAge", "3"),
        ("PatientSize", "3"),
        ("PatientWeight", "3"),
        ("PatientSexNeutered", "2C"),
    ),
)
COPIED_MODULES = (PATIENT, CLINICAL_TRIAL_SUBJECT, GENERAL_STUDY, PATIENT_STUDY)


def is_animal(ds: Dataset) -> bool:
    """PS3.3 C.7.1.1: the species attributes are present exactly when the patient is an animal."""
    return bool(ds.get("PatientSpeciesDescription") or ds.get("PatientSpeciesCodeSequence"))


def _complete_conditions(ds: Dataset, module: CopiedModule, animal: bool) -> None:
    """Type 2C attributes whose condition holds, written empty when the source lacks them."""
    if module is PATIENT and animal:
        for keyword in ("PatientBreedCodeSequence", "BreedRegistrationSequence"):
            if keyword not in ds:
                setattr(ds, keyword, [])
        if "PatientBreedDescription" not in ds and not ds.PatientBreedCodeSequence:
            ds.PatientBreedDescription = None
        # each 2C "if the other is not present"; an empty one counts as absent (dciodvfy reads it so)
        if not ds.get("ResponsiblePerson") and not ds.get("ResponsibleOrganization"):
            ds.ResponsiblePerson = ds.get("ResponsiblePerson") or None
            ds.ResponsibleOrganization = ds.get("ResponsibleOrganization") or None
    if module is PATIENT_STUDY and animal and "PatientSexNeutered" not in ds:
        ds.PatientSexNeutered = None


def _writable(source: Dataset, module: CopiedModule) -> bool:
    """Whether the source gives what a User module needs: its Type 1 attributes and one of each 1C pair."""
    if not any(kw in source for kw in module.keywords):
        return False
    if module is CLINICAL_TRIAL_SUBJECT:
        return all(source.get(kw) for kw, t in module.attributes if t == "1") and bool(
            source.get("ClinicalTrialSubjectID") or source.get("ClinicalTrialSubjectReadingID")
        )
    return True


def copy_patient_study(ds: Dataset, source: Dataset) -> None:
    """Copy the Patient, Clinical Trial Subject, General Study and Patient Study modules, each complete."""
    animal = is_animal(source)
    for module in COPIED_MODULES:
        if module.usage == "U" and not _writable(source, module):
            continue
        for keyword, type_ in module.attributes:
            if keyword in source:
                ds[keyword] = source[keyword]
            elif type_ == "2":
                setattr(ds, keyword, None)
        _complete_conditions(ds, module, animal)
    if not ds.get("StudyInstanceUID"):
        raise DicomConformanceError("the source image has no Study Instance UID (0020,000D)")
