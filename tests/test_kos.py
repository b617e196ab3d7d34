"""Key Object Selection Documents (PS3.3 A.35.4, PS3.16 TID 2010): builder layer and spec kind.

Oracles: dciodvfy (IOD, modules, evidence), dcmtk's dsrdump (KOS relationship rules), highdicom's KOS reader
(which instances are selected, and which study and series each resolves to), and pydicom walks of the file
compared with values written down here by hand.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import highdicom as hd
import pydicom
import pytest
from pydicom.sr.coding import Code

from dcmspec_compiler.assemble.context import BuildOptions
from dcmspec_compiler.errors import DicomConformanceError
from dcmspec_compiler.iods.common.modules import Equipment
from dcmspec_compiler.iods.kos import KeyObjectSelectionDocument, SelectedInstance, kosread
from dcmspec_compiler.pipeline import build_specs

from conftest import ROOT, dciodvfy_findings, dsrdump_errors

EXAMPLES = ROOT / "specs_examples"
PHANTOM = EXAMPLES / "phantom" / "ct"
KOS_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.88.59"
OF_INTEREST = Code("113000", "DCM", "Of Interest")
QUALITY_ISSUE = Code("113010", "DCM", "Quality Issue")
MOTION_BLUR = Code("111210", "DCM", "Motion blur")


def _phantom_headers() -> list[pydicom.Dataset]:
    headers = [pydicom.dcmread(p, stop_before_pixels=True) for p in sorted(PHANTOM.iterdir())]
    return sorted(headers, key=lambda ds: float(ds.ImagePositionPatient[2]))


def _other_study(header: pydicom.Dataset) -> pydicom.Dataset:
    prior = copy.deepcopy(header)
    prior.StudyInstanceUID, prior.SeriesInstanceUID, prior.SOPInstanceUID = "1.2.3.4", "1.2.3.4.1", "1.2.3.4.1.1"
    return prior


def _kos(selection, **overrides) -> KeyObjectSelectionDocument:
    headers = _phantom_headers()
    args = {
        "title": OF_INTEREST,
        "patient_study": headers[0],
        "series_instance_uid": "2.25.11",
        "series_number": 1100,
        "sop_instance_uid": "2.25.12",
        "instance_number": 1,
        "content_datetime": dt.datetime(2024, 1, 3, 9, 0),
        "equipment": Equipment("Lab", "Tool", "1", "SN"),
        "description": "Two slices and a prior",
    }
    args.update(overrides)
    return KeyObjectSelectionDocument(selection, **args)


# --- builder layer ---------------------------------------------------------------------------------
def test_kos_with_a_prior_study_passes_the_validators_and_highdicom_resolves_both_studies(tmp_path):
    headers = _phantom_headers()
    prior = _other_study(headers[3])
    selection = [
        SelectedInstance.from_dataset(headers[7]),
        SelectedInstance.from_dataset(headers[8]),
        SelectedInstance.from_dataset(prior),
    ]
    path = tmp_path / "kos.dcm"
    _kos(selection).save_as(path, enforce_file_format=True)

    errors, warnings = dciodvfy_findings(path)
    assert errors == [] and warnings == []
    assert dsrdump_errors(path) == []
    # highdicom, an independent reader: the three selected instances, each in its own study and series
    theirs = hd.ko.KeyObjectSelectionDocument.from_dataset(pydicom.dcmread(path))
    refs = theirs.content.get_references()
    assert [r.referenced_sop_instance_uid for r in refs] == [
        headers[7].SOPInstanceUID,
        headers[8].SOPInstanceUID,
        "1.2.3.4.1.1",
    ]
    assert [theirs.resolve_reference(r.referenced_sop_instance_uid)[:2] for r in refs] == [
        (headers[0].StudyInstanceUID, headers[0].SeriesInstanceUID)
    ] * 2 + [("1.2.3.4", "1.2.3.4.1")]
    # the file itself, walked with pydicom: TID 2010 root, description, evidence of both studies
    ds = pydicom.dcmread(path)
    assert ds.SOPClassUID == KOS_SOP_CLASS and ds.Modality == "KO"
    assert ds.ContentTemplateSequence[0].TemplateIdentifier == "2010"
    assert ds.ContentTemplateSequence[0].MappingResource == "DCMR"
    assert (ds.ConceptNameCodeSequence[0].CodeValue, ds.ContinuityOfContent) == ("113000", "SEPARATE")
    assert [i.ValueType for i in ds.ContentSequence] == ["TEXT", "IMAGE", "IMAGE", "IMAGE"]
    assert "ConceptNameCodeSequence" not in ds.ContentSequence[1]  # TID 2010 rows 8-10: no concept name
    evidence = {
        s.StudyInstanceUID: [
            sop.ReferencedSOPInstanceUID for se in s.ReferencedSeriesSequence for sop in se.ReferencedSOPSequence
        ]
        for s in ds.CurrentRequestedProcedureEvidenceSequence
    }
    assert evidence == {
        headers[0].StudyInstanceUID: [headers[7].SOPInstanceUID, headers[8].SOPInstanceUID],
        "1.2.3.4": ["1.2.3.4.1.1"],
    }
    assert "PertinentOtherEvidenceSequence" not in ds  # not in the KOS IOD


def test_kos_selecting_exactly_one_instance_of_another_study_lists_that_study(tmp_path):
    """highdicom 0.28.2 drops the study here (../shared/CONFORMANCE.md); PS3.3 C.17.6.2.1 lists every one."""
    headers = _phantom_headers()
    path = tmp_path / "kos.dcm"
    _kos([SelectedInstance.from_dataset(headers[0]), SelectedInstance.from_dataset(_other_study(headers[1]))]).save_as(
        path, enforce_file_format=True
    )
    ds = pydicom.dcmread(path)
    assert sorted(s.StudyInstanceUID for s in ds.CurrentRequestedProcedureEvidenceSequence) == sorted(
        [headers[0].StudyInstanceUID, "1.2.3.4"]
    )
    assert dciodvfy_findings(path)[0] == []


def test_read_side_gives_back_title_description_modifiers_and_selection(tmp_path):
    headers = _phantom_headers()
    path = tmp_path / "kos.dcm"
    _kos(
        [SelectedInstance.from_dataset(headers[2])],
        title=QUALITY_ISSUE,
        title_modifiers=[MOTION_BLUR],
        description="blurred",
    ).save_as(path, enforce_file_format=True)
    kos = kosread(path)
    assert (kos.title.value, kos.description) == ("113010", "blurred")
    assert [(m.value, m.scheme_designator) for m in kos.title_modifiers] == [("111210", "DCM")]
    (selected,) = kos.selected()
    assert (selected.value_type, selected.reference.sop_instance_uid, selected.reference.study_instance_uid) == (
        "IMAGE",
        headers[2].SOPInstanceUID,
        headers[2].StudyInstanceUID,
    )
    assert kos.selected(value_type="COMPOSITE") == []
    assert dciodvfy_findings(path)[0] == [] and dsrdump_errors(path) == []
    # the modifier is a HAS CONCEPT MOD CODE under the root, named Document Title Modifier (TID 2010 row 2)
    item = pydicom.dcmread(path).ContentSequence[0]
    assert (item.RelationshipType, item.ValueType, item.ConceptNameCodeSequence[0].CodeValue) == (
        "HAS CONCEPT MOD",
        "CODE",
        "113011",
    )


def test_value_type_follows_the_selected_object():
    headers = _phantom_headers()
    sr = pydicom.Dataset()
    sr.SOPClassUID, sr.SOPInstanceUID = "1.2.840.10008.5.1.4.1.1.88.22", "2.25.5"
    sr.SeriesInstanceUID, sr.StudyInstanceUID = "2.25.6", headers[0].StudyInstanceUID
    wave = copy.deepcopy(sr)
    wave.SOPClassUID = "1.2.840.10008.5.1.4.1.1.9.1.1"  # 12-lead ECG
    assert SelectedInstance.from_dataset(headers[0]).value_type == "IMAGE"
    assert SelectedInstance.from_dataset(sr).value_type == "COMPOSITE"
    assert SelectedInstance.from_dataset(wave).value_type == "WAVEFORM"
    with pytest.raises(DicomConformanceError, match="not an image"):
        SelectedInstance.from_dataset(sr, frame_numbers=[1])


@pytest.mark.parametrize(
    "overrides, selection, message",
    [
        (
            {"title": Code("126000", "DCM", "Imaging Measurement Report")},
            1,
            "not a Key Object Selection Document Title",
        ),
        ({"title": QUALITY_ISSUE}, 1, "needs at least one Document Title Modifier"),
        ({"title": QUALITY_ISSUE, "title_modifiers": [Code("113015", "DCM", "Series")]}, 1, "not in CID 7011"),
        ({"title_modifiers": [MOTION_BLUR]}, 1, "defines no Document Title Modifier"),
        ({}, 0, "at least one instance"),
        ({}, 2, "selected twice"),
    ],
)
def test_builder_refuses_what_tid_2010_forbids(overrides, selection, message):
    headers = _phantom_headers()
    chosen = {
        0: [],
        1: [SelectedInstance.from_dataset(headers[0])],
        2: [SelectedInstance.from_dataset(headers[0])] * 2,
    }[selection]
    with pytest.raises(DicomConformanceError, match=message):
        _kos(chosen, **overrides)


# --- the spec kind -----------------------------------------------------------------------------------
def _build(specs: list[Path], out: Path):
    return build_specs(specs, out, options=BuildOptions())


def test_example_kos_selects_the_seg_the_report_and_two_slices(tmp_path):
    out = tmp_path / "out"
    specs = [EXAMPLES / n for n in ("organs-binary.yaml", "report-organs.yaml", "key-objects.yaml")]
    result = _build(specs, out)
    assert not result.errors, "\n".join(e.format() for e in result.errors)
    path = out / "key-objects.dcm"
    assert dciodvfy_findings(path) == ([], [])
    assert dsrdump_errors(path) == []
    seg = pydicom.dcmread(out / "organs-binary.dcm", stop_before_pixels=True)
    report = pydicom.dcmread(out / "report-organs.dcm", stop_before_pixels=True)
    headers = _phantom_headers()
    theirs = hd.ko.KeyObjectSelectionDocument.from_dataset(pydicom.dcmread(path))
    refs = theirs.content.get_references()
    assert [(type(r).__name__, r.referenced_sop_instance_uid) for r in refs] == [
        ("ImageContentItem", seg.SOPInstanceUID),
        ("CompositeContentItem", report.SOPInstanceUID),
        ("ImageContentItem", headers[7].SOPInstanceUID),
        ("ImageContentItem", headers[8].SOPInstanceUID),
    ]
    ds = pydicom.dcmread(path)
    assert ds.SeriesNumber == 1100 and ds.ContentDate == "20240103" and ds.ContentTime == "090000"
    observer = [i for i in ds.ContentSequence if i.RelationshipType == "HAS OBS CONTEXT"]
    assert [i.ValueType for i in observer] == ["CODE", "PNAME", "TEXT"]
    assert str(observer[1].PersonName) == "Doe^Jane"


def _spec(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "kos.yaml"
    path.write_text(f"dcmspec: 1\nkind: KeyObjectSelection\nsources: {{images: {PHANTOM}}}\n{body}")
    return path


def test_every_bad_selection_and_title_is_reported_at_its_line(tmp_path):
    spec = _spec(
        tmp_path,
        'title: DCM:126000 "Imaging Measurement Report"\n'
        "selection:\n"
        "  - image: 99\n"
        "  - image: 2\n"
        "  - {image: 3, frames: [2]}\n",
    )
    out = tmp_path / "out"
    result = _build([spec], out)
    where = sorted((e.location.line, e.path[:2]) for e in result.errors)
    assert where == [(4, ("title",)), (6, ("selection", 0)), (8, ("selection", 2))]
    by_line = {e.location.line: e.message for e in result.errors}
    assert "image 99 is not in the source series" in by_line[6] and "Number of Frames 1" in by_line[8]
    assert not out.exists() or not any(out.iterdir())


def test_a_selection_naming_a_spec_not_in_the_build_is_an_error_at_the_reference(tmp_path):
    spec = _spec(tmp_path, 'title: DCM:113000 "Of Interest"\nselection:\n  - spec: nowhere-to-be-found\n')
    result = _build([spec], tmp_path / "out")
    (error,) = result.errors
    assert error.location.line == 6 and "nowhere-to-be-found" in error.message


def test_quality_issue_without_modifier_is_refused_with_the_choices(tmp_path):
    spec = _spec(tmp_path, 'title: DCM:113010 "Quality Issue"\nselection:\n  - image: 1\n')
    result = _build([spec], tmp_path / "out")
    (error,) = result.errors
    assert error.location.line == 4 and "CID 7011" in error.message and "Motion blur" in error.message


def test_the_schema_refuses_a_selection_item_naming_two_things(tmp_path):
    spec = _spec(tmp_path, 'title: DCM:113000 "Of Interest"\nselection:\n  - {image: 1, file: x.dcm}\n')
    result = _build([spec], tmp_path / "out")
    assert result.errors and result.errors[0].location.line == 6


def test_a_file_of_another_study_joins_the_evidence(tmp_path):
    headers = _phantom_headers()
    prior = pydicom.dcmread(sorted(PHANTOM.iterdir())[0])
    prior.StudyInstanceUID, prior.SeriesInstanceUID, prior.SOPInstanceUID = "1.2.3.9", "1.2.3.9.1", "1.2.3.9.1.1"
    prior.file_meta.MediaStorageSOPInstanceUID = prior.SOPInstanceUID
    prior.save_as(tmp_path / "prior.dcm")
    spec = _spec(tmp_path, 'title: DCM:113004 "For Teaching"\nselection:\n  - image: 1\n  - file: prior.dcm\n')
    out = tmp_path / "out"
    result = _build([spec], out)
    assert not result.errors, "\n".join(e.format() for e in result.errors)
    path = out / "kos.dcm"
    assert dciodvfy_findings(path)[0] == []
    theirs = hd.ko.KeyObjectSelectionDocument.from_dataset(pydicom.dcmread(path))
    assert theirs.resolve_reference("1.2.3.9.1.1")[:2] == ("1.2.3.9", "1.2.3.9.1")
    assert theirs.resolve_reference(headers[0].SOPInstanceUID)[0] == headers[0].StudyInstanceUID
    manifest = json.loads((out / "dcmspec-manifest.json").read_text())
    assert [e["kind"] for e in manifest["objects"]] == ["KeyObjectSelection"]


def test_an_instance_selected_twice_is_reported_at_the_second_selection(tmp_path):
    """One rule (the builder layer's repeated_selections) locates the repeat at the spec's second item."""
    spec = _spec(tmp_path, 'title: DCM:113000 "Of Interest"\nselection:\n  - image: 2\n  - image: 3\n  - image: 2\n')
    result = _build([spec], tmp_path / "out")
    (error,) = result.errors
    assert error.location.line == 8 and error.path == ("selection", 2)
    assert "already selected by selection item 1" in error.message
