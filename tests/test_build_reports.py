"""MeasurementReport and StructuredReport specs end to end.

Every SR built here passes dciodvfy (no Error lines) and dsrdump (no E: lines); highdicom (test oracle)
reads back the measurement groups, values, units, tracking ids and referenced segments the spec says.
dcmqi's TID 1500 examples are expressed as specs in tests/specs/dcmqi and compared with dcmqi's own
output (tid1500writer when installed, sr/sr.dcm where the inputs correspond).
"""

from __future__ import annotations

import copy
import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pydicom
import pytest
import yaml

from dcmspec_compiler.assemble.context import BuildOptions
from dcmspec_compiler.errors import Location
from dcmspec_compiler.iods.sr import codes as C
from dcmspec_compiler.iods.sr import read_document
from dcmspec_compiler.load.parse import load_file
from dcmspec_compiler.load.templates import values_from_file, values_from_set
from dcmspec_compiler.pipeline import Parameters, build_specs, collect_spec_files
from dcmspec_compiler.validate.schemas import validate_document

from conftest import ROOT, dciodvfy_findings, dsrdump_errors, require_tool, shared

hd = pytest.importorskip("highdicom")

EXAMPLES = ROOT / "specs_examples"
DCMQI = ROOT / "tests" / "specs" / "dcmqi"
PHANTOM = EXAMPLES / "phantom" / "ct"
SR_KINDS = ("MeasurementReport", "StructuredReport")


# --- helpers -----------------------------------------------------------------------------------
def build(specs, out: Path, params: Parameters | None = None, **options) -> dict:
    result = build_specs([Path(s) for s in specs], out, options=BuildOptions(**options), params=params)
    assert not result.errors, "\n".join(e.format() for e in result.errors)
    return json.loads((out / "dcmspec-manifest.json").read_text())


def errors_of(specs, out: Path, params: Parameters | None = None) -> list:
    result = build_specs([Path(s) for s in specs], out, params=params)
    assert result.errors, "expected errors"
    assert not out.exists() or not any(out.glob("*.dcm")), "nothing may be written when a build fails"
    return result.errors


def _without_empty_nums(ds: pydicom.Dataset) -> pydicom.Dataset:
    """A copy without NUM items whose Measured Value Sequence is empty (highdicom 0.28.2 cannot read them)."""
    out = copy.deepcopy(ds)

    def walk(item):
        if "ContentSequence" in item:
            item.ContentSequence = [
                c for c in item.ContentSequence if not (c.ValueType == "NUM" and not c.get("MeasuredValueSequence"))
            ]
            for c in item.ContentSequence:
                walk(c)

    walk(out)
    return out


BASIC_TEXT_SR, COMPREHENSIVE_SR = "1.2.840.10008.5.1.4.1.1.88.11", "1.2.840.10008.5.1.4.1.1.88.33"


def hd_content(path: Path, tmp_path: Path):
    ds = pydicom.dcmread(path)
    stripped = _without_empty_nums(ds)
    if stripped.SOPClassUID == BASIC_TEXT_SR:
        # highdicom 0.28.2 does not read Basic Text SR; its content is a subset of what Comprehensive SR
        # allows (PS3.3 A.35.1-2 vs A.35.3-2), so the same tree is handed over under that SOP Class
        stripped.SOPClassUID = stripped.file_meta.MediaStorageSOPClassUID = COMPREHENSIVE_SR
    target = tmp_path / f"hd-{path.name}"
    stripped.save_as(target, enforce_file_format=True)
    return hd.sr.srread(str(target)).content


def assert_conformant_sr(path: Path) -> None:
    errors, _ = dciodvfy_findings(path)
    assert errors == [], "\n".join(errors)
    assert dsrdump_errors(path) == []


def assert_same_as_highdicom(path: Path, tmp_path: Path) -> None:
    """Our reader and highdicom agree on every group (NUMs without value are compared by us only)."""
    ours = read_document(path)
    content = hd_content(path, tmp_path)
    theirs = {
        "planar": content.get_planar_roi_measurement_groups(),
        "volumetric": content.get_volumetric_roi_measurement_groups(),
        "image": content.get_image_measurement_groups(),
    }
    for kind, hd_list in theirs.items():
        mine = ours.measurement_groups(kind)
        assert [g.tracking_id for g in mine] == [g.tracking_identifier for g in hd_list]
        for g, h in zip(mine, hd_list):
            assert g.tracking_uid == h.tracking_uid
            if h.finding_type is not None:
                assert g.finding_type.value == h.finding_type.value
            hm = [m for m in h.get_measurements() if m.name.value != C.TIME_POINT_ORDER.value]
            assert [(m.name.value, m.value, m.unit.value) for m in g.measurements if m.value is not None] == [
                (m.name.value, pytest.approx(m.value), m.unit.value) for m in hm
            ]
            hq = [
                (q.name.value, q.value.value if hasattr(q.value, "value") else q.value)
                for q in h.get_qualitative_evaluations()
                if q.name.value != C.FINDING_CATEGORY.value
            ]
            # highdicom 0.28.2 returns coded evaluations only (TEXT ones are compared with the spec elsewhere)
            assert [(n.value, v.value) for n, v in g.qualitative_evaluations if not isinstance(v, str)] == hq
            if kind == "volumetric" and h.referenced_segment is not None:
                hs = h.referenced_segment
                assert g.referenced_segment.sop_instance_uid == hs.referenced_sop_instance_uid
                assert g.referenced_segment.segment_number == hs.referenced_segment_numbers[0]
                assert g.referenced_segment.source_series_uid == hs.source_series_for_segmentation.value


def spec_groups_match(path: Path, spec_file: Path, **instantiated) -> None:
    """The groups of the SR equal the findings of the spec: tracking ids, finding types, values, units."""
    data = yaml.safe_load(spec_file.read_text()) if not instantiated else instantiated["data"]
    groups = read_document(path).measurement_groups()
    findings = data["findings"]
    assert [g.tracking_id for g in groups] == [str(f["tracking_id"]) for f in findings]
    for g, f in zip(groups, findings):
        assert len(g.measurements) == len(f.get("measurements", []))
        for m, fm in zip(g.measurements, f.get("measurements", [])):
            value = fm.get("value")
            if value is None or (isinstance(value, float) and math.isnan(value)) or str(value).lower() == "nan":
                assert m.value is None and m.qualifier is not None
            else:
                assert m.value == pytest.approx(float(value))
                unit = str(fm["unit"]).split(" ")[0] if isinstance(fm["unit"], str) else fm["unit"]["value"]
                assert m.unit.value == unit and m.unit.scheme_designator == "UCUM"


# --- the example specs ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def examples(tmp_path_factory):
    out = tmp_path_factory.mktemp("examples")
    manifest = build(collect_spec_files([EXAMPLES]), out)
    return out, {e["id"]: e for e in manifest["objects"]}


def test_every_example_report_is_conformant_and_reads_back(examples, tmp_path):
    out, objects = examples
    reports = [e for e in objects.values() if e["kind"] in SR_KINDS]
    assert {e["id"] for e in reports} >= {"report-organs", "report-lesion-3d", "lesion-report", "sr-key-findings"}
    assert "report-site" not in objects  # abstract: true, a base for extends only
    for entry in reports:
        path = out / entry["file"]
        assert_conformant_sr(path)
        if entry["kind"] == "MeasurementReport":
            assert_same_as_highdicom(path, tmp_path)
    spec_groups_match(out / "report-organs.dcm", EXAMPLES / "report-organs.yaml")
    spec_groups_match(out / "report-lesion-3d.dcm", EXAMPLES / "report-lesion-3d.yaml")


def test_report_refers_to_segments_of_the_seg_built_alongside(examples):
    out, _objects = examples
    seg = pydicom.dcmread(out / "organs-binary.dcm", stop_before_pixels=True)
    doc = read_document(out / "report-organs.dcm")
    assert type(doc).__name__ == "EnhancedSR"
    assert doc.VerificationFlag == "VERIFIED" and doc.CompletionFlag == "COMPLETE"
    segs = {g.tracking_id: g.referenced_segment for g in doc.measurement_groups("volumetric")}
    assert {k: (s.sop_instance_uid, s.segment_number) for k, s in segs.items()} == {
        "liver": (seg.SOPInstanceUID, 1),
        "spleen": (seg.SOPInstanceUID, 2),
        "left-kidney": (seg.SOPInstanceUID, 3),
    }
    assert {s.source_series_uid for s in segs.values()} == {seg.ReferencedSeriesSequence[0].SeriesInstanceUID}
    # the SEG's tracked segment and the report's finding with the same tracking id share the UID
    kidney = next(s for s in seg.SegmentSequence if s.SegmentNumber == 3)
    (group,) = doc.measurement_groups(tracking_id="left-kidney")
    assert group.tracking_uid == kidney.TrackingUID
    assert group.finding_sites[0].laterality.value == "7771000"
    evidence = {
        s.ReferencedSOPInstanceUID
        for study in doc.CurrentRequestedProcedureEvidenceSequence
        for series in study.ReferencedSeriesSequence
        for s in series.ReferencedSOPSequence
    }
    assert seg.SOPInstanceUID in evidence
    (lesion,) = doc.measurement_groups("planar")
    ct8 = sorted(
        (pydicom.dcmread(p, stop_before_pixels=True) for p in PHANTOM.iterdir()),
        key=lambda d: float(d.ImagePositionPatient[2]),
    )[7]
    assert lesion.roi.graphic_type == "CIRCLE" and lesion.roi.source_sop_instance_uid == ct8.SOPInstanceUID
    assert np.allclose(lesion.roi.coordinates, [[20.5, 18.5], [20.5, 22.5]])


def test_3d_regions_are_converted_with_the_transformers(examples):
    out, _ = examples
    doc = read_document(out / "report-lesion-3d.dcm")
    assert type(doc).__name__ == "Comprehensive3DSR"
    spec = yaml.safe_load((EXAMPLES / "report-lesion-3d.yaml").read_text())
    headers = sorted(
        (pydicom.dcmread(p, stop_before_pixels=True) for p in PHANTOM.iterdir()),
        key=lambda d: float(d.ImagePositionPatient[2]),
    )
    (group,) = doc.measurement_groups(tracking_id="lesion-1")
    for region, given in zip(group.regions, spec["findings"][0]["regions"]):
        header = headers[given["image"] - 1]
        # by hand (PS3.3 C.18.6.1.1, C.7.6.2.1.1): image point (column, row) has its pixel centres at
        # half-integers; Image Position (Patient) is the centre of the first pixel
        ipp = np.array(header.ImagePositionPatient, float)
        iop = np.array(header.ImageOrientationPatient, float)
        row_spacing, column_spacing = (float(v) for v in header.PixelSpacing)
        expected = np.array(
            [ipp + (c - 0.5) * column_spacing * iop[:3] + (r - 0.5) * row_spacing * iop[3:] for c, r in given["points"]]
        )
        assert region.value_type == "SCOORD3D"
        assert region.frame_of_reference_uid == header.FrameOfReferenceUID
        assert np.allclose(region.coordinates, expected, atol=1e-3)
    assert [r.graphic_type for r in group.regions] == ["POLYGON", "POLYGON", "ELLIPSE"]
    (nan_group,) = doc.measurement_groups(tracking_id="lesion-1-probability")
    assert nan_group.measurements[0].value is None
    assert nan_group.measurements[0].qualifier.value == C.NOT_A_NUMBER.value
    (image_group,) = doc.measurement_groups("image")
    assert image_group.source_images == [headers[0].SOPInstanceUID, headers[15].SOPInstanceUID]
    assert image_group.qualitative_evaluations[0][1] == "Incidental"


def test_circle_in_3d_becomes_an_equal_axes_ellipse(tmp_path):
    spec = _report(
        tmp_path,
        [
            {
                "tracking_id": "c",
                "region": {"image": 8, "graphic_type": "CIRCLE", "coordinates": "3d", "points": [[20, 20], [20, 24]]},
                "measurements": [{"name": "Diameter", "value": 6, "unit": "mm"}],
            }
        ],
    )
    build([spec], tmp_path / "out")
    path = tmp_path / "out" / "report.dcm"
    assert_conformant_sr(path)
    (group,) = read_document(path).measurement_groups()
    pts = group.roi.coordinates
    assert group.roi.graphic_type == "ELLIPSE"
    assert np.isclose(np.linalg.norm(pts[1] - pts[0]), np.linalg.norm(pts[3] - pts[2]))
    assert np.isclose(np.linalg.norm(pts[1] - pts[0]), 2 * 4 * 0.75)  # 4 rows of 0.75 mm, both sides


def test_generic_structured_report(examples):
    out, _ = examples
    doc = read_document(out / "sr-key-findings.dcm")
    assert type(doc).__name__ == "ComprehensiveSR"
    scoords = doc.content_items(value_type="SCOORD")
    assert len(scoords) == 1 and scoords[0].GraphicType == "POLYLINE"
    (num,) = doc.content_items(value_type="NUM")
    assert num.MeasuredValueSequence[0].MeasurementUnitsCodeSequence[0].CodeMeaning == "millimeter"
    assert [i.Date for i in doc.content_items(value_type="DATE")] == ["20240102"]
    assert [i.Time for i in doc.content_items(value_type="TIME")] == ["093000"]


def test_starters_validate(tmp_path):
    from dcmspec_compiler.starters import starter_text

    for kind in SR_KINDS:
        path = tmp_path / f"{kind}.yaml"
        path.write_text(starter_text(kind))
        assert validate_document(load_file(path)) == kind


# --- templates, extends, links -----------------------------------------------------------------
TEMPLATE = EXAMPLES / "report-template.yaml"


def _lesion_group(path: Path):
    (group,) = read_document(path).measurement_groups()
    return group, {m.name.meaning: m.value for m in group.measurements}


def test_template_with_set_values(tmp_path):
    values = values_from_set(["lesion_id=L9", "volume_ml=2.5", "reader=Roe^Richard", "slice=3"])
    manifest = build([TEMPLATE], tmp_path / "out", Parameters(values=values))
    path = tmp_path / "out" / manifest["objects"][0]["file"]
    assert_conformant_sr(path)
    assert_same_as_highdicom(path, tmp_path)
    group, values = _lesion_group(path)
    assert group.tracking_id == "L9" and values == {"Volume": 2.5, "Diameter": 6.0}
    assert group.finding_sites[0].site.meaning == "Liver"
    ds = pydicom.dcmread(path)
    names = [i.PersonName for i in read_document(path).content_items(value_type="PNAME")]
    assert names == ["Roe^Richard"]
    assert ds.SeriesNumber == 1010 and ds.CompletionFlag == "COMPLETE"  # from report-site.yaml


def test_template_with_values_file(tmp_path):
    values = tmp_path / "case.yaml"
    values.write_text("lesion_id: L7\nvolume_ml: 0.75\ndiameter_mm: 4.5\nfinding_site: Spleen\nreader: Doe^Jane\n")
    build([TEMPLATE], tmp_path / "out", Parameters(values=values_from_file(values)))
    group, got = _lesion_group(tmp_path / "out" / "lesion-report.dcm")
    assert got == {"Volume": 0.75, "Diameter": 4.5} and group.finding_sites[0].site.meaning == "Spleen"


def test_template_csv_gives_one_valid_report_per_row(tmp_path):
    csv = EXAMPLES / "report-cases.csv"
    manifest = build([TEMPLATE], tmp_path / "out", Parameters(csv=csv))
    rows = [line.split(",") for line in csv.read_text().splitlines()[1:]]
    files = {e["id"]: e["file"] for e in manifest["objects"]}
    assert sorted(files) == [f"lesion-report-{n}" for n in range(2, 2 + len(rows))]
    uids = set()
    for n, row in enumerate(rows, start=2):
        path = tmp_path / "out" / files[f"lesion-report-{n}"]
        assert_conformant_sr(path)
        assert_same_as_highdicom(path, tmp_path)
        group, values = _lesion_group(path)
        assert group.tracking_id == row[0]
        assert values["Volume"] == float(row[1]) and values["Diameter"] == float(row[2] or 6)
        uids.add(pydicom.dcmread(path).SOPInstanceUID)
    assert len(uids) == len(rows)


def test_missing_and_ill_typed_parameters_are_located(tmp_path):
    text = (
        TEMPLATE.read_text()
        .replace("default: L0, ", "")
        .replace("extends: report-site.yaml", f"extends: {EXAMPLES / 'report-site.yaml'}")
    )
    template = tmp_path / "template.yaml"
    template.write_text(text)
    (missing,) = errors_of([template], tmp_path / "a")
    assert "parameter 'lesion_id' has no value" in missing.message
    assert (
        missing.location.file == str(template)
        and missing.location.line == text[: text.index("lesion_id:")].count("\n") + 1
    )
    csv = tmp_path / "bad.csv"
    csv.write_text("lesion_id,volume_ml\nL1,1.5\nL2,lots\n")
    result = build_specs([template], tmp_path / "b", params=Parameters(csv=csv))
    (bad,) = result.errors
    assert "volume_ml" in bad.message and bad.location == Location(str(csv), 3, 2)
    assert str(template) in bad.hint  # names the declaration
    # a failed row does not stop the others: row 1 (line 2) is written, the build fails
    assert result.failed_rows == [Location(str(csv), 3)]
    assert sorted(p.name for p in (tmp_path / "b").glob("*.dcm")) == ["lesion-report-2.dcm"]


def test_unknown_parameter_from_set(tmp_path):
    (error,) = errors_of([TEMPLATE], tmp_path / "out", Parameters(values=values_from_set(["lesoin_id=L1"])))
    assert "unknown parameter 'lesoin_id'" in error.message and error.location.file == "--set lesoin_id"


def test_extends_cycle_is_an_error(tmp_path):
    (tmp_path / "a.yaml").write_text("dcmspec: 1\nkind: MeasurementReport\nextends: b.yaml\n")
    (tmp_path / "b.yaml").write_text("dcmspec: 1\nkind: MeasurementReport\nextends: a.yaml\n")
    (error,) = errors_of([tmp_path / "a.yaml"], tmp_path / "out")
    assert "`extends` cycle" in error.message and "a.yaml" in error.message and "b.yaml" in error.message


def test_cli_linked_build_by_id(tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "dcmspec_compiler",
            "build",
            "-q",
            str(EXAMPLES / "organs-binary.yaml"),
            str(EXAMPLES / "report-organs.yaml"),
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert {p.name for p in out.glob("*.dcm")} == {"organs-binary.dcm", "report-organs.dcm"}
    assert_conformant_sr(out / "report-organs.dcm")


def test_report_refers_to_a_seg_spec_by_path(tmp_path):
    spec = _report(
        tmp_path,
        [
            {
                "tracking_id": "liver",
                "segment": {"spec": str(EXAMPLES / "organs-binary.yaml"), "label": "Liver"},
                "measurements": [{"name": "Volume", "value": 2.18, "unit": "ml"}],
            }
        ],
    )
    manifest = build([spec], tmp_path / "out")
    assert {e["id"] for e in manifest["objects"]} == {"organs-binary", "report"}  # pulled in automatically
    path = tmp_path / "out" / "report.dcm"
    assert_conformant_sr(path)
    assert_same_as_highdicom(path, tmp_path)


def test_dangling_id_names_both_ends(tmp_path):
    alone = tmp_path / "report-organs.yaml"  # the SEG spec it refers to by id is not beside it
    alone.write_text((EXAMPLES / "report-organs.yaml").read_text())
    errors = errors_of([alone], tmp_path / "out")
    assert len(errors) == 3  # one per finding that refers to it
    for error in errors:
        assert "no spec 'organs-binary' in this build" in error.message
        assert error.location.file.endswith("report-organs.yaml") and "report-organs" in error.hint
        assert error.path[-2:] == ("segment", "spec")


def test_cycle_between_specs_names_both_ends(tmp_path):
    def report(name, other):
        data = _report_data([{"tracking_id": "x", "segment": {"spec": other, "number": 1}}])
        data["id"] = name
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(data))

    report("first", "second")
    report("second", "first")
    (error,) = errors_of([tmp_path / "first.yaml", tmp_path / "second.yaml"], tmp_path / "out")
    assert "cycle" in error.message and "'first'" in error.message and "'second'" in error.message


# --- bad input: a clear located error and nothing written ---------------------------------------
def _report_data(findings, **extra) -> dict:
    return {
        "dcmspec": 1,
        "kind": "MeasurementReport",
        "id": "report",
        "sources": {"images": str(PHANTOM)},
        "document": {"procedure_reported": "LN:25045-6"},
        "findings": findings,
        **extra,
    }


def _report(tmp_path: Path, findings, **extra) -> Path:
    path = tmp_path / "report.yaml"
    path.write_text(yaml.safe_dump(_report_data(findings, **extra), sort_keys=False))
    return path


def _one_error(tmp_path, findings, extra_specs=()):
    spec = _report(tmp_path, findings)
    (error,) = errors_of([*extra_specs, spec], tmp_path / "out")
    assert error.location.file in (str(spec), str(spec.resolve()))
    return error


CIRCLE = {"image": 8, "graphic_type": "CIRCLE", "points": [[20, 20], [20, 24]]}


def test_num_without_unit(tmp_path):
    error = _one_error(
        tmp_path, [{"tracking_id": "a", "region": CIRCLE, "measurements": [{"name": "Diameter", "value": 3}]}]
    )
    assert "needs a unit" in error.message and error.path == ("findings", 0, "measurements", 0, "unit")


def test_value_missing_without_qualifier(tmp_path):
    error = _one_error(tmp_path, [{"tracking_id": "a", "region": CIRCLE, "measurements": [{"name": "Diameter"}]}])
    assert "qualifier" in error.message and error.path[:4] == ("findings", 0, "measurements", 0)


def test_wrong_number_of_points(tmp_path):
    region = dict(CIRCLE, points=[[20, 20], [20, 24], [22, 22]])
    error = _one_error(tmp_path, [{"tracking_id": "a", "region": region}])
    assert "CIRCLE needs exactly 2 point(s), got 3" in error.message
    assert error.path == ("findings", 0, "region")


def test_point_is_not_a_planar_roi(tmp_path):
    error = _one_error(
        tmp_path, [{"tracking_id": "a", "region": {"image": 8, "graphic_type": "POINT", "points": [[20, 20]]}}]
    )
    assert "POINT is not allowed" in error.message and "regions:" in error.hint


def test_reference_to_a_missing_image(tmp_path):
    error = _one_error(tmp_path, [{"tracking_id": "a", "region": dict(CIRCLE, image=17)}])
    assert "image 17 is not in the source series" in error.message
    assert error.path == ("findings", 0, "region", "image")
    error = _one_error(tmp_path, [{"tracking_id": "a", "region": dict(CIRCLE, image="2.25.1")}])
    assert "no source image has SOP Instance UID 2.25.1" in error.message
    error = _one_error(tmp_path, [{"tracking_id": "a", "region": dict(CIRCLE, image="nothere.dcm")}])
    assert "does not exist" in error.message


def test_image_by_path_and_uid_equal_position(tmp_path):
    header = pydicom.dcmread(PHANTOM / "CT0003.dcm", stop_before_pixels=True)
    position = 1 + sorted(
        float(pydicom.dcmread(p, stop_before_pixels=True).ImagePositionPatient[2]) for p in PHANTOM.iterdir()
    ).index(float(header.ImagePositionPatient[2]))
    found: set = set()
    for n, image in enumerate((str(PHANTOM / "CT0003.dcm"), str(header.SOPInstanceUID), position)):
        spec = _report(
            tmp_path,
            [
                {
                    "tracking_id": "a",
                    "region": dict(CIRCLE, image=image),
                    "measurements": [{"name": "Diameter", "value": 3, "unit": "mm"}],
                }
            ],
        )
        result = build_specs([spec], tmp_path / f"out{n}")
        assert not result.errors
        (group,) = read_document(tmp_path / f"out{n}" / "report.dcm").measurement_groups()
        found.add(group.roi.source_sop_instance_uid)
    assert found == {header.SOPInstanceUID}


def test_missing_segment_number_or_label_in_linked_seg(tmp_path):
    seg = EXAMPLES / "organs-binary.yaml"
    error = _one_error(tmp_path, [{"tracking_id": "a", "segment": {"spec": str(seg), "number": 7}}])
    assert "has no segment number 7" in error.message and "1 'Liver'" in error.hint
    assert error.path == ("findings", 0, "segment", "number")
    error = _one_error(tmp_path, [{"tracking_id": "a", "segment": {"spec": str(seg), "label": "Pancreas"}}])
    assert "no segment labelled 'Pancreas'" in error.message and error.path[-1] == "label"


def test_wrong_value_type(tmp_path):
    error = _one_error(
        tmp_path,
        [{"tracking_id": "a", "region": CIRCLE, "measurements": [{"name": "Diameter", "value": "big", "unit": "mm"}]}],
    )
    assert error.path == ("findings", 0, "measurements", 0, "value")
    spec = _report(tmp_path, [{"tracking_id": "a", "region": CIRCLE}])
    data = yaml.safe_load(spec.read_text())
    data["findings"][0]["evaluations"] = [{"name": "Diameter", "code": "Liver", "text": "both"}]
    spec.write_text(yaml.safe_dump(data))
    errors = errors_of([spec], tmp_path / "out2")
    assert errors[0].path[:3] == ("findings", 0, "evaluations")


def test_duplicate_tracking_ids(tmp_path):
    error = _one_error(tmp_path, [{"tracking_id": "a", "region": CIRCLE}, {"tracking_id": "a", "region": CIRCLE}])
    assert "same tracking unique identifier" in error.message and error.path == ("findings", 1, "tracking_id")


def test_forced_document_class_too_small(tmp_path):
    spec = _report(tmp_path, [{"tracking_id": "a", "region": dict(CIRCLE, coordinates="3d")}])
    data = yaml.safe_load(spec.read_text())
    data["document"]["document_class"] = "Comprehensive"
    spec.write_text(yaml.safe_dump(data))
    (error,) = errors_of([spec], tmp_path / "out")
    assert "SCOORD3D" in error.message and error.path == ("document", "document_class")


# --- StructuredReport errors located at the item ----------------------------------------------------
def _sr(tmp_path: Path, document_class: str, children: list) -> Path:
    data = {
        "dcmspec": 1,
        "kind": "StructuredReport",
        "id": "sr",
        "document_class": document_class,
        "sources": {"images": str(PHANTOM)},
        "content": {"type": "CONTAINER", "name": 'DCM:126000 "Imaging Measurement Report"', "children": children},
    }
    path = tmp_path / "sr.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


NUM = {"type": "NUM", "relationship": "CONTAINS", "name": "Diameter", "value": 3, "unit": "mm"}


def test_sr_value_type_forbidden_by_the_iod(tmp_path):
    spec = _sr(
        tmp_path,
        "BasicText",
        [{"type": "TEXT", "relationship": "CONTAINS", "name": 'DCM:121071 "Finding"', "value": "x"}, NUM],
    )
    (error,) = errors_of([spec], tmp_path / "out")
    assert "Basic Text SR does not allow value type NUM" in error.message
    num_line = 1 + next(i for i, line in enumerate(spec.read_text().splitlines()) if "type: NUM" in line)
    assert error.path == ("content", "children", 1) and error.location.line == num_line
    spec = _sr(
        tmp_path,
        "Comprehensive",
        [
            {
                "type": "SCOORD3D",
                "relationship": "CONTAINS",
                "name": 'DCM:111030 "Image Region"',
                "graphic_type": "POINT",
                "points": [[0, 0, 0]],
            }
        ],
    )
    (error,) = errors_of([spec], tmp_path / "out")
    assert "SCOORD3D" in error.message and error.path == ("content", "children", 0)


def test_sr_relationship_forbidden_by_the_iod(tmp_path):
    child = {"type": "TEXT", "relationship": "HAS PROPERTIES", "name": 'DCM:121071 "Finding"', "value": "x"}
    spec = _sr(
        tmp_path,
        "Enhanced",
        [
            {
                "type": "CONTAINER",
                "relationship": "CONTAINS",
                "name": 'DCM:121070 "Findings"',
                "children": [dict(NUM, children=[child])],
            }
        ],
    )
    result = build_specs([spec], tmp_path / "out")
    assert not result.errors  # NUM HAS PROPERTIES TEXT is fine in Enhanced SR
    bad = {"type": "CODE", "relationship": "HAS OBS CONTEXT", "name": "Diameter", "value": "Liver"}
    spec = _sr(
        tmp_path,
        "Enhanced",
        [
            {
                "type": "CONTAINER",
                "relationship": "CONTAINS",
                "name": 'DCM:121070 "Findings"',
                "children": [dict(NUM, children=[bad])],
            }
        ],
    )
    (error,) = errors_of([spec], tmp_path / "out2")
    assert "does not allow NUM" in error.message and "HAS OBS CONTEXT" in error.message
    assert error.path == ("content", "children", 0, "children", 0, "children", 0)


def test_sr_item_errors(tmp_path):
    spec = _sr(tmp_path, "Comprehensive", [dict(NUM, relationship=None)])
    (error,) = errors_of([spec], tmp_path / "out")
    assert error.path[:3] == ("content", "children", 0)
    spec = _sr(
        tmp_path,
        "Comprehensive",
        [
            {
                "type": "SCOORD",
                "relationship": "CONTAINS",
                "name": 'DCM:111030 "Image Region"',
                "graphic_type": "ELLIPSE",
                "points": [[1, 1], [3, 1]],
                "image": 2,
            }
        ],
    )
    (error,) = errors_of([spec], tmp_path / "out2")
    assert "ELLIPSE needs exactly 4" in error.message and error.path == ("content", "children", 0)
    spec = _sr(tmp_path, "Comprehensive", [{"type": "IMAGE", "relationship": "CONTAINS", "reference": 99}])
    (error,) = errors_of([spec], tmp_path / "out3")
    assert "image 99" in error.message and error.path == ("content", "children", 0, "reference")


def test_sr_every_value_type(tmp_path):
    seg = EXAMPLES / "organs-binary.yaml"
    children = [
        {
            "type": "CODE",
            "relationship": "HAS CONCEPT MOD",
            "name": 'DCM:121049 "Language of Content Item and Descendants"',
            "value": 'RFC5646:en-US "English (United States)"',
        },
        {
            "type": "DATETIME",
            "relationship": "HAS OBS CONTEXT",
            "name": 'DCM:111526 "DateTime Started"',
            "value": "2024-01-02T09:30:00",
        },
        {
            "type": "UIDREF",
            "relationship": "HAS OBS CONTEXT",
            "name": 'DCM:121012 "Device Observer UID"',
            "value": "2.25.99",
        },
        {
            "type": "CONTAINER",
            "relationship": "CONTAINS",
            "name": 'DCM:121070 "Findings"',
            "template": "1411",
            "children": [
                dict(
                    NUM,
                    relationship="CONTAINS",
                    children=[
                        {
                            "type": "SCOORD3D",
                            "relationship": "INFERRED FROM",
                            "name": 'DCM:111030 "Image Region"',
                            "graphic_type": "POLYLINE",
                            "points": [[0, 0, 0], [1, 1, 1]],
                        },
                        {
                            "type": "IMAGE",
                            "relationship": "INFERRED FROM",
                            "reference": {"spec": str(seg), "segments": [2]},
                        },
                        {
                            "type": "COMPOSITE",
                            "relationship": "INFERRED FROM",
                            "reference": {"file": str(PHANTOM / "CT0001.dcm")},
                        },
                    ],
                ),
                {"type": "NUM", "relationship": "CONTAINS", "name": "Volume", "value": "NaN"},
            ],
        },
    ]
    spec = _sr(tmp_path, "Comprehensive3D", children)
    manifest = build([spec], tmp_path / "out")
    assert {e["id"] for e in manifest["objects"]} == {"sr", "organs-binary"}
    path = tmp_path / "out" / "sr.dcm"
    assert_conformant_sr(path)
    doc = read_document(path)
    assert type(doc).__name__ == "Comprehensive3DSR"
    (image,) = doc.content_items(value_type="IMAGE")
    assert image.ReferencedSOPSequence[0].ReferencedSegmentNumber == 2
    nums = doc.content_items(value_type="NUM")
    assert nums[1].NumericValueQualifierCodeSequence[0].CodeValue == "114000"


# --- dcmqi's examples and highdicom's document ----------------------------------------------------------
@pytest.fixture(scope="module")
def dcmqi_out(tmp_path_factory):
    shared("seg", "liver.dcm")
    out = tmp_path_factory.mktemp("dcmqi")
    specs = sorted(DCMQI.glob("*.yaml"))
    manifest = build(specs, out)
    return out, {e["id"]: out / e["file"] for e in manifest["objects"]}


def test_dcmqi_specs_conformant_and_read_back(dcmqi_out, tmp_path):
    _, files = dcmqi_out
    assert len(files) == 5
    for path in files.values():
        assert_conformant_sr(path)
        assert_same_as_highdicom(path, tmp_path)


def _json_code(entry: dict) -> tuple[str, str]:
    return entry["CodeValue"], entry["CodingSchemeDesignator"]


@pytest.mark.parametrize(
    "name, spec_id",
    [
        ("sr-tid1500-ct-liver-example.json", "dcmqi-ct-liver"),
        ("sr-tid1500-example.json", "dcmqi-example"),
        ("sr-tid1500-example-nan.json", "dcmqi-example-nan"),
        ("sr-tid1500-qualitative.json", "dcmqi-qualitative"),
    ],
)
def test_dcmqi_json_content_equals_ours(dcmqi_out, name, spec_id):
    _, files = dcmqi_out
    meta = json.loads(shared("dcmqi_inputs", "json", name).read_text())
    groups = read_document(files[spec_id]).measurement_groups()
    assert len(groups) == len(meta["Measurements"])
    for g, m in zip(groups, meta["Measurements"]):
        assert g.tracking_id == m["TrackingIdentifier"]
        assert (g.finding_type.value, g.finding_type.scheme_designator) == _json_code(m["Finding"])
        site = g.finding_sites[0].site
        assert (site.value, site.scheme_designator) == _json_code(m["FindingSite"])
        assert g.referenced_segment.segment_number == m["ReferencedSegment"]
        assert g.referenced_segment.sop_instance_uid == m["segmentationSOPInstanceUID"]
        assert g.referenced_segment.source_series_uid == m["SourceSeriesForImageSegmentation"]
        for ours, item in zip(g.measurements, m["measurementItems"], strict=True):
            assert (ours.name.value, ours.unit.value if ours.unit else item["units"]["CodeValue"]) == (
                item["quantity"]["CodeValue"],
                item["units"]["CodeValue"],
            )
            if item["value"] == "nan":
                assert ours.value is None and ours.qualifier.value == C.NOT_A_NUMBER.value
            else:
                assert ours.value == pytest.approx(float(item["value"]))
            if "derivationModifier" in item:
                assert ours.derivation.value == item["derivationModifier"]["CodeValue"]
        got = [(n.value, getattr(v, "value", v)) for n, v in g.qualitative_evaluations]
        want = [
            (
                q["conceptCode"]["CodeValue"],
                q["conceptValue"]["CodeValue"] if isinstance(q["conceptValue"], dict) else q["conceptValue"],
            )
            for q in m.get("qualitativeEvaluations", [])
        ]
        assert got == want


def test_dcmqi_example_matches_dcmqi_sr_where_inputs_correspond(dcmqi_out):
    """sr/sr.dcm (dcmqi's sr-example) is on the same segmentation as sr-tid1500-example.json."""
    _, files = dcmqi_out
    (theirs,) = read_document(shared("sr", "sr.dcm")).measurement_groups()
    (ours,) = read_document(files["dcmqi-example"]).measurement_groups()
    assert (
        ours.referenced_segment.sop_instance_uid,
        ours.referenced_segment.segment_number,
        ours.referenced_segment.source_series_uid,
    ) == (
        theirs.referenced_segment.sop_instance_uid,
        theirs.referenced_segment.segment_number,
        theirs.referenced_segment.source_series_uid,
    )
    assert ours.kind == theirs.kind == "volumetric"
    assert ours.finding_type.meaning == theirs.finding_type.meaning == "Neoplasm, Primary"
    mean = next(m for m in theirs.measurements if m.derivation and m.derivation.meaning == "Mean")
    mine = ours.measurements[0]
    assert (mine.name.value, mine.name.meaning, mine.unit.value, mine.unit.meaning) == (
        mean.name.value,
        mean.name.meaning,
        mean.unit.value,
        mean.unit.meaning,
    )
    seg = pydicom.dcmread(shared("seg", "seg.dcm"), stop_before_pixels=True)
    doc = read_document(files["dcmqi-example"])
    assert doc.StudyInstanceUID == seg.StudyInstanceUID and doc.PatientID == seg.PatientID
    rwvm = doc.content_items(concept_name=C.REAL_WORLD_VALUE_MAP)
    assert (
        rwvm[0].ReferencedSOPSequence[0].ReferencedSOPInstanceUID
        == pydicom.dcmread(shared("other", "rwvm.dcm"), stop_before_pixels=True).SOPInstanceUID
    )


def test_dcmqi_ct_liver_equals_tid1500writer(dcmqi_out, tmp_path):
    exe = require_tool("tid1500writer", "pip install '.[test]'  (PyPI dcmqi)")
    folder = tmp_path / "in"
    folder.mkdir()
    for f in shared("series", "ct_dcmqi_ct-3slice").iterdir():
        shutil.copy(f, folder / f.name)
    shutil.copy(shared("seg", "liver.dcm"), folder / "liver.dcm")
    theirs_path = tmp_path / "dcmqi.dcm"
    metadata = shared("dcmqi_inputs", "json", "sr-tid1500-ct-liver-example.json")
    proc = subprocess.run(
        [
            exe,
            "--inputMetadata",
            str(metadata),
            "--inputImageLibraryDirectory",
            str(folder),
            "--inputCompositeContextDirectory",
            str(folder),
            "--outputDICOM",
            str(theirs_path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0 and theirs_path.exists(), proc.stdout + proc.stderr
    _, files = dcmqi_out
    (theirs,) = read_document(theirs_path).measurement_groups()
    (ours,) = read_document(files["dcmqi-ct-liver"]).measurement_groups()
    assert (ours.kind, ours.tracking_id, ours.finding_type.value) == (
        theirs.kind,
        theirs.tracking_id,
        theirs.finding_type.value,
    )
    assert [s.site.value for s in ours.finding_sites] == [s.site.value for s in theirs.finding_sites]
    assert vars(ours.referenced_segment) == vars(theirs.referenced_segment)
    assert [
        (m.name.value, m.value, m.unit.value, m.derivation.value if m.derivation else None) for m in ours.measurements
    ] == [
        (m.name.value, pytest.approx(m.value), m.unit.value, m.derivation.value if m.derivation else None)
        for m in theirs.measurements
    ]
    ours_doc, theirs_doc = read_document(files["dcmqi-ct-liver"]), read_document(theirs_path)
    assert ours_doc.StudyInstanceUID == theirs_doc.StudyInstanceUID
    assert ours_doc.CompletionFlag == theirs_doc.CompletionFlag == "COMPLETE"


def test_highdicom_multiple_groups_reproduced_group_by_group(dcmqi_out):
    _, files = dcmqi_out
    theirs = read_document(shared("sr", "sr_document_with_multiple_groups.dcm")).measurement_groups()
    ours = read_document(files["highdicom-multiple-groups"]).measurement_groups()
    key = {g.tracking_id: g for g in ours}
    assert sorted(key) == sorted(g.tracking_id for g in theirs)
    for t in theirs:
        o = key[t.tracking_id]
        assert (o.kind, o.tracking_uid) == (t.kind, t.tracking_uid)
        for a, b in ((o.finding_type, t.finding_type), (o.finding_category, t.finding_category)):
            assert (a.value if a else None) == (b.value if b else None)
        assert [s.site.value for s in o.finding_sites] == [s.site.value for s in t.finding_sites]
        assert [(m.name.value, m.value, m.unit.value) for m in o.measurements] == [
            (m.name.value, pytest.approx(m.value), m.unit.value) for m in t.measurements
        ]
        assert [(n.value, getattr(v, "value", v)) for n, v in o.qualitative_evaluations] == [
            (n.value, getattr(v, "value", v)) for n, v in t.qualitative_evaluations
        ]
        assert o.source_images == t.source_images
        assert len(o.regions) == len(t.regions)
        for a, b in zip(o.regions, t.regions):
            assert (a.value_type, a.graphic_type, a.source_sop_instance_uid, a.frame_of_reference_uid) == (
                b.value_type,
                b.graphic_type,
                b.source_sop_instance_uid,
                b.frame_of_reference_uid,
            )
            expected = np.asarray(b.coordinates)
            if b.graphic_type == "POLYLINE" and not np.array_equal(expected[0], expected[-1]):
                # highdicom's file has this TID 1410 outline open; an Image Region is an area, so ours is
                # closed: the same vertices, the first repeated at the end (PS3.3 C.18.6.1.2)
                expected = np.vstack([expected, expected[:1]])
            assert np.allclose(a.coordinates, expected, atol=1e-4)


SUBJECT = {
    "patient": {"name": "Doe^John", "id": "P-0042", "birth_date": "1970-05-06", "sex": "M"},
    "study": {
        "date": "2024-02-03",
        "time": "10:20:30",
        "accession_number": "A77",
        "id": "S1",
        "description": "Follow-up",
        "referring_physician": "Roe^Richard",
    },
}


def test_report_without_images_takes_patient_and_study_from_subject(tmp_path):
    text_report = {
        "dcmspec": 1,
        "kind": "StructuredReport",
        "document_class": "BasicText",
        "subject": SUBJECT,
        "content": {
            "type": "CONTAINER",
            "name": 'DCM:121070 "Findings"',
            "children": [
                {
                    "type": "TEXT",
                    "relationship": "CONTAINS",
                    "name": 'DCM:121071 "Finding"',
                    "value": "No change since the prior study.",
                }
            ],
        },
    }
    measurements = {
        "dcmspec": 1,
        "kind": "MeasurementReport",
        "subject": SUBJECT,
        "document": {"procedure_reported": "LN:25045-6"},
        "findings": [
            {"tracking_id": "t1", "type": "Liver", "measurements": [{"name": "Volume", "value": 1520, "unit": "ml"}]}
        ],
    }
    specs = []
    for name, data in (("text.yaml", text_report), ("measure.yaml", measurements)):
        (tmp_path / name).write_text(yaml.safe_dump(data, sort_keys=False))
        specs.append(tmp_path / name)
    manifest = build(specs, tmp_path / "out")
    uids = set()
    for entry in manifest["objects"]:
        path = tmp_path / "out" / entry["file"]
        assert_conformant_sr(path)
        ds = pydicom.dcmread(path)
        assert (ds.PatientName, ds.PatientID, ds.PatientBirthDate, ds.PatientSex) == (
            "Doe^John",
            "P-0042",
            "19700506",
            "M",
        )
        assert (ds.StudyDate, ds.StudyTime, ds.AccessionNumber, ds.StudyID) == ("20240203", "102030", "A77", "S1")
        uids.add(ds.StudyInstanceUID)
    assert len(uids) == 1  # one derived Study Instance UID for the same subject


def test_sources_and_subject_together_are_refused(tmp_path):
    spec = {
        "dcmspec": 1,
        "kind": "StructuredReport",
        "document_class": "BasicText",
        "subject": SUBJECT,
        "sources": {"images": str(EXAMPLES / "phantom" / "ct")},
        "content": {"type": "CONTAINER", "name": 'DCM:121070 "Findings"'},
    }
    (tmp_path / "both.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    (error,) = errors_of([tmp_path / "both.yaml"], tmp_path / "out")
    assert "either `sources`" in error.message and error.path == ("subject",)
    del spec["subject"], spec["sources"]
    (tmp_path / "none.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    (error,) = errors_of([tmp_path / "none.yaml"], tmp_path / "out")
    assert "either `sources`" in error.message and "subject" in error.hint
