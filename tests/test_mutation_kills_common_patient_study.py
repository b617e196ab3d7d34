"""Patient, Clinical Trial Subject, General Study and Patient Study modules copied from a source image
(``iods/common/patient_study.py``), checked against PS3.3 C.7.1.1, C.7.1.3, C.7.2.1 and C.7.2.2 by hand:
Type 2 attributes written empty when the source lacks them, Type 2C ones when their condition (an animal
patient) holds, a User module left out when the source lacks its Type 1 attributes; the values pydicom
reads from the written dataset.
"""

from __future__ import annotations

from io import BytesIO

import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset

from dcmspec_compiler.errors import DicomConformanceError
from dcmspec_compiler.iods.common.patient_study import (
    CLINICAL_TRIAL_SUBJECT,
    COPIED_MODULES,
    GENERAL_STUDY,
    PATIENT,
    PATIENT_STUDY,
    copy_patient_study,
    is_animal,
)

PATIENT_TYPE_2 = ["PatientName", "PatientID", "PatientBirthDate", "PatientSex"]
STUDY_TYPE_2 = ["StudyDate", "StudyTime", "ReferringPhysicianName", "StudyID", "AccessionNumber"]


def written(ds: Dataset) -> Dataset:
    buf = BytesIO()
    ds.save_as(buf, implicit_vr=False, little_endian=True)
    buf.seek(0)
    return dcmread(buf, force=True)


def copied(source: Dataset) -> Dataset:
    ds = Dataset()
    copy_patient_study(ds, source)
    return written(ds)


def test_a_bare_source_gets_the_type_2_attributes_empty():
    source = Dataset()
    source.StudyInstanceUID = "1.2.3"
    ds = copied(source)
    assert sorted(e.keyword for e in ds) == sorted(["StudyInstanceUID", *PATIENT_TYPE_2, *STUDY_TYPE_2])
    for kw in PATIENT_TYPE_2 + STUDY_TYPE_2:
        assert ds[kw].value in ("", None), kw
    assert ds.StudyInstanceUID == "1.2.3"


def test_every_attribute_of_the_table_is_copied():
    """A source holding every attribute of the four modules (human, so the species 1C ones too): each is
    copied with its value."""
    source = Dataset()
    values = {}
    for module in COPIED_MODULES:
        for kw, _ in module.attributes:
            if kw.endswith("Sequence"):
                item = Dataset()
                item.CodeValue = "1"
                setattr(source, kw, [item])
            else:
                from pydicom.datadict import dictionary_VR

                vr = dictionary_VR(kw)
                value = {
                    "DA": "20200101",
                    "TM": "120000",
                    "DS": "1.5",
                    "IS": "3",
                    "AS": "030Y",
                    "UI": "1.2.3",
                    "CS": "YES",
                    "PN": "Doe^J",
                }.get(vr, "x")
                setattr(source, kw, value)
                values[kw] = value
    ds = copied(source)
    expected = {kw for module in COPIED_MODULES for kw, _ in module.attributes}
    assert {e.keyword for e in ds} == expected
    for kw, value in values.items():
        assert str(ds[kw].value) == value, kw


def test_animal_patients_get_the_conditional_attributes():
    """C.7.1.1: for an animal (species present), Breed Code Sequence and Breed Registration Sequence are
    Type 2C, Breed Description 2C when the breed code is absent, Responsible Person / Organization 2C (one
    when the other is absent); C.7.2.2: Patient's Sex Neutered 2C."""
    source = Dataset()
    source.StudyInstanceUID = "1.2.3"
    source.PatientSpeciesDescription = "dog"
    assert is_animal(source)
    ds = copied(source)
    for kw in ("PatientBreedCodeSequence", "BreedRegistrationSequence"):
        assert kw in ds and len(ds[kw].value) == 0
    assert "PatientBreedDescription" in ds and not ds.PatientBreedDescription
    assert "ResponsiblePerson" in ds and "ResponsibleOrganization" in ds
    assert "PatientSexNeutered" not in ds  # Patient Study is a User module the source does not have
    source.PatientWeight = "20"
    ds = copied(source)
    assert "PatientSexNeutered" in ds and not ds.PatientSexNeutered
    source.PatientSexNeutered = "ALTERED"
    assert copied(source).PatientSexNeutered == "ALTERED"


def test_animal_with_a_breed_code_and_a_responsible_person():
    source = Dataset()
    source.StudyInstanceUID = "1.2.3"
    code = Dataset()
    code.CodeValue = "1"
    source.PatientSpeciesCodeSequence = [code]
    source.PatientBreedCodeSequence = [code]
    source.ResponsiblePerson = "Owner^A"
    assert is_animal(source)
    ds = copied(source)
    assert "PatientBreedDescription" not in ds
    assert ds.ResponsiblePerson == "Owner^A" and "ResponsibleOrganization" not in ds
    source2 = Dataset()
    source2.StudyInstanceUID = "1.2.3"
    source2.PatientSpeciesDescription = "cat"
    source2.ResponsibleOrganization = "Zoo"
    ds = copied(source2)
    assert ds.ResponsibleOrganization == "Zoo" and "ResponsiblePerson" not in ds


def test_humans_get_no_animal_attributes():
    source = Dataset()
    source.StudyInstanceUID = "1.2.3"
    source.PatientSpeciesDescription = ""
    assert not is_animal(source)
    source.PatientWeight = "70"
    ds = copied(source)
    for kw in (
        "PatientBreedCodeSequence",
        "BreedRegistrationSequence",
        "PatientBreedDescription",
        "ResponsiblePerson",
        "ResponsibleOrganization",
        "PatientSexNeutered",
    ):
        assert kw not in ds, kw
    assert ds.PatientWeight == 70


@pytest.mark.parametrize(
    "present, written_",
    [
        ({"ClinicalTrialSponsorName": "S", "ClinicalTrialProtocolID": "P", "ClinicalTrialSubjectID": "1"}, True),
        ({"ClinicalTrialSponsorName": "S", "ClinicalTrialProtocolID": "P", "ClinicalTrialSubjectReadingID": "R"}, True),
        ({"ClinicalTrialSponsorName": "S", "ClinicalTrialProtocolID": "P"}, False),
        ({"ClinicalTrialProtocolID": "P", "ClinicalTrialSubjectID": "1"}, False),
        ({"ClinicalTrialSponsorName": "S", "ClinicalTrialSubjectID": "1"}, False),
        ({"ClinicalTrialSponsorName": "", "ClinicalTrialProtocolID": "P", "ClinicalTrialSubjectID": "1"}, False),
    ],
)
def test_clinical_trial_subject_only_when_complete(present, written_):
    """C.7.1.3 (User): Sponsor Name and Protocol ID Type 1, Subject ID or Subject Reading ID 1C; the module
    is written with its Type 2 attributes empty, or not at all."""
    source = Dataset()
    source.StudyInstanceUID = "1.2.3"
    for kw, v in present.items():
        setattr(source, kw, v)
    ds = copied(source)
    for kw in ("ClinicalTrialProtocolName", "ClinicalTrialSiteID", "ClinicalTrialSiteName"):
        assert (kw in ds) is written_, kw
    for kw, v in present.items():
        assert (kw in ds) is written_
        if written_:
            assert ds[kw].value == v


def test_study_instance_uid_is_required():
    for value in (None, ""):
        source = Dataset()
        if value is not None:
            source.StudyInstanceUID = value
        with pytest.raises(DicomConformanceError) as info:
            copy_patient_study(Dataset(), source)
        assert str(info.value) == "the source image has no Study Instance UID (0020,000D)"


def test_module_table():
    """The module names and usages of the IODs' tables (PS3.3 A.51: Patient M, Clinical Trial Subject U,
    General Study M, Patient Study U)."""
    assert [(m.name, m.usage) for m in COPIED_MODULES] == [
        ("Patient", "M"),
        ("Clinical Trial Subject", "U"),
        ("General Study", "M"),
        ("Patient Study", "U"),
    ]
    assert COPIED_MODULES == (PATIENT, CLINICAL_TRIAL_SUBJECT, GENERAL_STUDY, PATIENT_STUDY)
    assert [kw for kw, t in GENERAL_STUDY.attributes if t == "2"] == STUDY_TYPE_2
    assert [kw for kw, t in PATIENT.attributes if t == "2"] == PATIENT_TYPE_2


def test_an_animal_breed_description_is_kept():
    """C.7.1.1: Patient Breed Description (2C) copied from the source stays as the source has it."""
    source = Dataset()
    source.StudyInstanceUID = "1.2.3"
    source.PatientSpeciesDescription = "dog"
    source.PatientBreedDescription = "beagle"
    ds = copied(source)
    assert ds.PatientBreedDescription == "beagle"
    assert "PatientBreedCodeSequence" in ds and len(ds.PatientBreedCodeSequence) == 0
