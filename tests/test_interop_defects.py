"""The ten interoperability defects of issue 8, each built as it was found and checked with an oracle that
is not ours: dciodvfy (2026 tables), dcmqi's segimage2itkimage, highdicom, PixelMed's SR validator, dcmtk's
dsrdump, and values computed here from the source files with pydicom.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest
import yaml

from dcmspec_compiler.assemble.context import BuildOptions
from dcmspec_compiler.pipeline import build_specs, collect_spec_files

from conftest import ROOT, TOOL_SKIP, dciodvfy_findings, in_ci, require_tool, shared

hd = pytest.importorskip("highdicom")

EXAMPLES = ROOT / "specs_examples"
PHANTOM = EXAMPLES / "phantom"
PIXELMED_JAR = Path("/usr/share/java/pixelmed.jar")
NIST_CT = "1.3.6.1.4.1.21367.201599.2.201604020955010"  # 10 slices, 5 mm apart, Spacing Between Slices -5
NIST_CT_GAP = NIST_CT + ".11"  # 10 slices, 3 mm apart with a gap


# --- helpers -----------------------------------------------------------------------------------
def build(specs, out: Path):
    """Build; return (manifest objects by spec id, warnings as text)."""
    result = build_specs([Path(s) for s in specs], out, options=BuildOptions())
    assert not result.errors, "\n".join(e.format() for e in result.errors)
    manifest = json.loads((out / "dcmspec-manifest.json").read_text())
    return {o["id"]: o for o in manifest["objects"]}, [w.format() for w in result.context.warnings]


def write_spec(path: Path, spec: dict) -> Path:
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def assert_no_dciodvfy_errors(path: Path) -> None:
    errors, _ = dciodvfy_findings(path)
    assert errors == [], "\n".join(errors)


def pixelmed_sr(path: Path) -> list[str]:
    """PixelMed's DicomSRValidator (Debian pixelmed-apps; .ci/run installs it): its output lines."""
    java = require_tool("java", "apt-get install pixelmed-apps")
    if not PIXELMED_JAR.exists():
        message = f"{TOOL_SKIP} {PIXELMED_JAR} (install it with: apt-get install pixelmed-apps)"
        if in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    proc = subprocess.run(
        [
            java,
            "-Djdk.xml.xpathExprOpLimit=0",
            "-Djdk.xml.xpathExprGrpLimit=0",
            "-Djdk.xml.xpathTotalOpLimit=0",
            "-cp",
            str(PIXELMED_JAR),
            "com.pixelmed.validate.DicomSRValidator",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    lines = (proc.stdout + proc.stderr).splitlines()
    assert any("validation complete" in line for line in lines), "\n".join(lines[-20:])
    return lines


def dsrdump_errors(path: Path) -> list[str]:
    return [line for line in dsrdump_stderr(path).splitlines() if line.startswith("E:")]


def dsrdump_stderr(path: Path) -> str:
    exe = require_tool("dsrdump", "apt-get install dcmtk")
    return subprocess.run([exe, str(path)], capture_output=True, text=True).stderr


def source_slice_spacing(folder: Path, series_uid: str) -> list[float]:
    """Distances between adjacent slices of a series along its normal, from the files (by hand)."""
    headers = [pydicom.dcmread(p, stop_before_pixels=True) for p in sorted(folder.iterdir())]
    headers = [h for h in headers if h.SeriesInstanceUID == series_uid]
    row, col = (np.array(headers[0].ImageOrientationPatient[i : i + 3], float) for i in (0, 3))
    normal = np.cross(row, col)
    along = sorted(float(np.dot(normal, np.array(h.ImagePositionPatient, float))) for h in headers)
    return list(np.diff(along))


def content_items(ds, value_type: str | None = None, code_value: str | None = None):
    """Every content item of an SR tree, depth first (plain pydicom)."""
    for item in ds.get("ContentSequence", []):
        name = item.ConceptNameCodeSequence[0].CodeValue if "ConceptNameCodeSequence" in item else None
        if (value_type is None or item.ValueType == value_type) and (code_value is None or name == code_value):
            yield item
        yield from content_items(item, value_type, code_value)


def seg_spec(tmp: Path, images, mask: Path, **extra) -> dict:
    spec = {
        "dcmspec": 1,
        "kind": "Segmentation",
        "sources": {"images": str(images)},
        "segmentation": {"type": "BINARY", "mask": str(mask)},
        "segments": [{"label": "Liver", "category": "AnatomicalStructure", "type": "Liver"}],
    }
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(spec.get(key), dict):
            spec[key] = {**spec[key], **value}
        else:
            spec[key] = value
    return spec


def nist_mask(tmp: Path) -> Path:
    mask = np.zeros((10, 512, 512), np.uint8)
    mask[3:7, 200:260, 200:280] = 1
    np.save(tmp / "mask.npy", mask)
    return tmp / "mask.npy"


# --- 1. Spacing Between Slices -------------------------------------------------------------------
def test_spacing_between_slices_is_positive_when_the_source_says_negative(tmp_path):
    folder = shared("series", "ct_nist_IDS-DEPT003-a")
    first = next(pydicom.dcmread(p, stop_before_pixels=True) for p in sorted(folder.iterdir()))
    assert float(first.SpacingBetweenSlices) < 0  # the real CT's value, which used to be copied
    spec = seg_spec(tmp_path, folder, nist_mask(tmp_path), sources={"series_instance_uid": NIST_CT})
    objects, _ = build([write_spec(tmp_path / "nist.yaml", spec)], tmp_path / "out")
    out = tmp_path / "out" / objects["nist"]["file"]
    assert_no_dciodvfy_errors(out)
    steps = source_slice_spacing(folder, NIST_CT)
    measures = pydicom.dcmread(out).SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0]
    assert float(measures.SpacingBetweenSlices) == pytest.approx(np.mean(steps)) == pytest.approx(5.0)
    assert objects["nist"]["spacing_between_slices"] == pytest.approx(5.0)


def test_dcmqi_reads_back_the_slice_spacing_of_a_source_without_one(tmp_path):
    nrrd = pytest.importorskip("nrrd")
    exe = require_tool("segimage2itkimage", "pip install '.[test]'  (PyPI dcmqi)")
    folder = shared("series", "ct_dcmqi_ct-3slice")
    mask = shared("dcmqi_inputs", "nrrd", "liver_seg.nrrd")
    first = pydicom.dcmread(sorted(folder.iterdir())[0], stop_before_pixels=True)
    assert "SpacingBetweenSlices" not in first and float(first.SliceThickness) == 1.25
    objects, _ = build([write_spec(tmp_path / "liver.yaml", seg_spec(tmp_path, folder, mask))], tmp_path / "out")
    (tmp_path / "nrrd").mkdir()
    subprocess.run(
        [
            exe,
            "--inputDICOM",
            str(tmp_path / "out" / objects["liver"]["file"]),
            "--outputDirectory",
            str(tmp_path / "nrrd"),
            "--outputType",
            "nrrd",
        ],
        check=True,
        capture_output=True,
    )
    (converted,) = (tmp_path / "nrrd").glob("*.nrrd")
    _, header = nrrd.read(str(converted))
    directions = np.asarray(header["space directions"], float)
    spacing = np.linalg.norm(directions, axis=1)
    steps = source_slice_spacing(folder, str(first.SeriesInstanceUID))
    assert spacing[2] == pytest.approx(np.mean(steps), abs=1e-3) == pytest.approx(1.0, abs=1e-3)  # not 1.25


def test_spacing_between_slices_left_out_of_an_irregular_stack_and_said_so(tmp_path):
    folder = shared("series", "ct_nist_IDS-DEPT003-a")
    steps = source_slice_spacing(folder, NIST_CT_GAP)
    assert max(steps) - min(steps) > 1  # the gap
    spec = seg_spec(tmp_path, folder, nist_mask(tmp_path), sources={"series_instance_uid": NIST_CT_GAP})
    objects, warnings = build([write_spec(tmp_path / "gap.yaml", spec)], tmp_path / "out")
    out = tmp_path / "out" / objects["gap"]["file"]
    assert_no_dciodvfy_errors(out)
    ds = pydicom.dcmread(out)
    measures = [ds.SharedFunctionalGroupsSequence[0]] + list(ds.PerFrameFunctionalGroupsSequence)
    assert not any(
        "SpacingBetweenSlices" in g.PixelMeasuresSequence[0] for g in measures if "PixelMeasuresSequence" in g
    )
    assert objects["gap"]["spacing_between_slices"] is None
    assert "unevenly spaced" in objects["gap"]["spacing_between_slices_omitted"]
    assert any("Spacing Between Slices is left out" in w for w in warnings)


# --- 2. Type 2 attributes of copied modules ------------------------------------------------------
def test_copied_modules_are_completed_whatever_the_source_lacks(tmp_path):
    folder = shared("series", "ct_nist_IDS-DEPT003-a")
    first = next(pydicom.dcmread(p, stop_before_pixels=True) for p in sorted(folder.iterdir()))
    assert "ClinicalTrialSponsorName" in first and "ClinicalTrialSiteID" not in first  # the defect's source
    seg = seg_spec(tmp_path, folder, nist_mask(tmp_path), sources={"series_instance_uid": NIST_CT})
    report = {
        "dcmspec": 1,
        "kind": "MeasurementReport",
        "id": "report",
        "sources": {"images": str(folder), "series_instance_uid": NIST_CT},
        "document": {"procedure_reported": "LN:25045-6"},
        "findings": [
            {
                "tracking_id": "liver",
                "segment": {"spec": "nist", "number": 1},
                "measurements": [{"name": "Volume", "value": 1.5, "unit": "ml"}],
            }
        ],
    }
    objects, _ = build(
        [write_spec(tmp_path / "nist.yaml", seg), write_spec(tmp_path / "report.yaml", report)], tmp_path / "out"
    )
    for obj in objects.values():
        out = tmp_path / "out" / obj["file"]
        assert_no_dciodvfy_errors(out)
        ds = pydicom.dcmread(out)
        assert ds.ClinicalTrialSiteID == "" and ds.ClinicalTrialSiteName == ""
        assert ds.ClinicalTrialSponsorName == first.ClinicalTrialSponsorName


def _phantom_copy(tmp: Path, **attributes) -> Path:
    folder = tmp / "ct"
    folder.mkdir()
    for path in sorted((PHANTOM / "ct").iterdir()):
        ds = pydicom.dcmread(path)
        for keyword, value in attributes.items():
            if value is None:
                delattr(ds, keyword) if keyword in ds else None
            else:
                setattr(ds, keyword, value)
        ds.save_as(folder / path.name)
    return folder


@pytest.mark.parametrize(
    "attributes",
    [
        # an animal: the Type 2C breed, responsible person and Patient's Sex Neutered attributes are required
        {"PatientSpeciesDescription": "Canine", "PatientAge": "004Y"},
        # a Clinical Trial Subject module without its Type 1 Sponsor Name: left out rather than written incomplete
        {"ClinicalTrialProtocolID": "P-1", "ClinicalTrialSubjectID": "S-1"},
        # no Referring Physician, Study ID or Accession Number at all
        {"ReferringPhysicianName": None, "StudyID": None, "AccessionNumber": None},
    ],
    ids=["animal", "trial-without-sponsor", "study-type2-absent"],
)
def test_copied_modules_complete_for_sources_lacking_attributes(tmp_path, attributes):
    folder = _phantom_copy(tmp_path, **attributes)
    spec = seg_spec(tmp_path, folder, PHANTOM / "organs_labelmap.npy")
    objects, _ = build([write_spec(tmp_path / "seg.yaml", spec)], tmp_path / "out")
    assert_no_dciodvfy_errors(tmp_path / "out" / objects["seg"]["file"])


# --- 3. MANUAL segments with a name ----------------------------------------------------------------
def test_manual_segment_with_an_algorithm_name_is_refused_at_the_name(tmp_path):
    spec = seg_spec(tmp_path, PHANTOM / "ct", PHANTOM / "organs_labelmap.npy")
    text = yaml.safe_dump(spec, sort_keys=False).replace(
        "  type: Liver\n", "  type: Liver\n  algorithm:\n    type: MANUAL\n    name: X\n    version: '1'\n"
    )
    path = tmp_path / "manual.yaml"
    path.write_text(text)
    line = text.splitlines().index("    name: X") + 1
    result = build_specs([path], tmp_path / "out", options=BuildOptions())
    (error,) = result.errors
    assert (error.location.line, error.location.column) == (line, 11)
    assert "MANUAL" in error.format() and "hint:" in error.format()
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").glob("*.dcm"))
    # without the name the same segment builds, and dciodvfy accepts it
    path.write_text(text.replace("    name: X\n    version: '1'\n", ""))
    objects, _ = build([path], tmp_path / "ok")
    out = tmp_path / "ok" / objects["manual"]["file"]
    assert_no_dciodvfy_errors(out)
    assert "SegmentAlgorithmName" not in pydicom.dcmread(out).SegmentSequence[0]


# --- 4. TID 1411 Volume Surface needs its source ---------------------------------------------------
@pytest.fixture(scope="module")
def examples(tmp_path_factory):
    out = tmp_path_factory.mktemp("examples")
    objects, warnings = build(collect_spec_files([EXAMPLES]), out)
    return out, objects, warnings


def test_volume_surface_group_names_its_source_series(examples):
    out, objects, _ = examples
    path = out / objects["report-lesion-3d"]["file"]
    series_uid = pydicom.dcmread(sorted((PHANTOM / "ct").iterdir())[0], stop_before_pixels=True).SeriesInstanceUID
    ds = pydicom.dcmread(path)
    groups = [
        g for g in content_items(ds, "CONTAINER", "125007") if any(True for _ in content_items(g, "SCOORD3D", "121231"))
    ]
    assert len(groups) == 1
    (source,) = [i for i in groups[0].ContentSequence if i.ConceptNameCodeSequence[0].CodeValue == "121232"]
    assert source.ValueType == "UIDREF" and series_uid == source.UID
    assert_no_dciodvfy_errors(path)
    assert dsrdump_errors(path) == []
    lines = pixelmed_sr(path)
    assert not [line for line in lines if "Source series for segmentation" in line and line.startswith("Error")]


# --- 5. SR referring to a Label Map SEG -------------------------------------------------------------
# The standard is on our side. Label Map Segmentation Storage instances are instances of the
# Segmentation IOD (PS3.3 A.51; C.8.20.2 lists LABELMAP among the values of Segmentation Type), and the
# Image Reference Macro (PS3.3 C.18.4, Table C.18.4-1) requires Referenced Segment Number when "the
# Referenced SOP Instance is a Segmentation" and the reference does not apply to all segments, as TID 1411
# "Referenced Segment" does. These validators only know the older Segmentation Storage SOP Class:
DCIODVFY_LABELMAP_LAG = [
    "Error - Shall not be present for Referenced SOP Class that is not segmentation"
    " - attribute <ReferencedSegmentNumber>"
]
# dcmtk 3.6.7 warns about the SOP class, then fails reading the IMAGE item and each container above it
DSRDUMP_LABELMAP_LAG = "W: Invalid or unknown image SOP class referenced from IMAGE content item"
DSRDUMP_LABELMAP_ERROR = re.compile(r'E: Reading content item (IMAGE|CONTAINER) "([0-9.]+)" \(Invalid Value\)')


def test_report_on_a_label_map_seg_has_only_the_validators_known_lag(tmp_path):
    report = {
        "dcmspec": 1,
        "kind": "MeasurementReport",
        "id": "report",
        "sources": {"images": str(PHANTOM / "ct")},
        "document": {"procedure_reported": "LN:25045-6"},
        "findings": [
            {
                "tracking_id": "liver",
                "segment": {"spec": "organs-labelmap", "label": "Liver"},
                "measurements": [{"name": "Volume", "value": 2.0, "unit": "ml"}],
            }
        ],
    }
    objects, _ = build(
        [EXAMPLES / "organs-labelmap.yaml", write_spec(tmp_path / "report.yaml", report)], tmp_path / "out"
    )
    path = tmp_path / "out" / objects["report"]["file"]
    seg = pydicom.dcmread(tmp_path / "out" / objects["organs-labelmap"]["file"], stop_before_pixels=True)
    assert seg.SOPClassUID == "1.2.840.10008.5.1.4.1.1.66.7" and seg.SegmentationType == "LABELMAP"
    (image,) = content_items(pydicom.dcmread(path), "IMAGE", "121191")
    ref = image.ReferencedSOPSequence[0]
    assert ref.ReferencedSOPClassUID == seg.SOPClassUID and int(ref.ReferencedSegmentNumber) == 1
    errors, _ = dciodvfy_findings(path)
    assert errors and all(any(known in e for known in DCIODVFY_LABELMAP_LAG) for e in errors), "\n".join(errors)
    stderr = dsrdump_stderr(path)
    assert DSRDUMP_LABELMAP_LAG in stderr
    dsr = [line for line in stderr.splitlines() if line.startswith("E:")]
    matches = [DSRDUMP_LABELMAP_ERROR.fullmatch(line) for line in dsr]
    assert dsr and all(matches), "\n".join(dsr)
    image_id = matches[0].group(2)  # the IMAGE item, then its containers
    assert matches[0].group(1) == "IMAGE" and all(image_id.startswith(m.group(2)) for m in matches)
    # highdicom, which knows Label Map Segmentation, reads the referenced segment back
    (group,) = hd.sr.srread(path).content.get_volumetric_roi_measurement_groups()
    assert group.referenced_segment.referenced_segment_numbers == [1]


# --- 6. Measurements without a value -------------------------------------------------------------
def test_measurements_without_value_warn_and_can_be_left_out(tmp_path, examples):
    out, objects, warnings = examples
    assert any("report-organs.yaml" in w and "without a value" in w and "highdicom" in w for w in warnings)
    kept = pydicom.dcmread(out / objects["report-organs"]["file"])
    empty = [n for n in content_items(kept, "NUM") if not n.MeasuredValueSequence]
    assert len(empty) == 1 and empty[0].NumericValueQualifierCodeSequence[0].CodeValue == "114006"
    spec = yaml.safe_load((EXAMPLES / "report-organs.yaml").read_text())
    spec["document"]["measurements_without_value"] = "omit"
    (tmp_path / "phantom").symlink_to(PHANTOM)
    shutil.copy(EXAMPLES / "organs-binary.yaml", tmp_path)
    omitted, warnings = build(
        [tmp_path / "organs-binary.yaml", write_spec(tmp_path / "report-organs.yaml", spec)], tmp_path / "out"
    )
    assert not any("without a value" in w for w in warnings)
    assert omitted["report-organs"]["measurements_omitted"] == 1
    path = tmp_path / "out" / omitted["report-organs"]["file"]
    assert_no_dciodvfy_errors(path)
    assert all(n.MeasuredValueSequence for n in content_items(pydicom.dcmread(path), "NUM"))
    # highdicom reads the whole document now; the other measurements are all there
    report = hd.sr.srread(path).content
    groups = report.get_volumetric_roi_measurement_groups() + report.get_planar_roi_measurement_groups()
    values = sorted(m.value for g in groups for m in g.get_measurements())
    assert values == [2.18, 3.02, 6.0, 61.2]
    kidney = [g for g in groups if g.tracking_identifier == "left-kidney"]
    assert len(kidney) == 1 and kidney[0].get_measurements() == []


# --- 7. No Basic Text SR for TID 1500 ------------------------------------------------------------
def test_measurement_report_without_numbers_is_an_enhanced_sr(tmp_path):
    report = {
        "dcmspec": 1,
        "kind": "MeasurementReport",
        "id": "qualitative",
        "sources": {"images": str(PHANTOM / "ct")},
        "document": {"procedure_reported": "LN:25045-6"},
        "findings": [
            {
                "tracking_id": "study",
                "evaluations": [{"name": 'DCM:121403 "Level of Significance"', "text": "Incidental"}],
            }
        ],
    }
    objects, _ = build([write_spec(tmp_path / "qualitative.yaml", report)], tmp_path / "out")
    path = tmp_path / "out" / objects["qualitative"]["file"]
    assert pydicom.dcmread(path).SOPClassUID == "1.2.840.10008.5.1.4.1.1.88.22"  # Enhanced SR
    assert_no_dciodvfy_errors(path)
    sr = hd.sr.srread(path)  # refuses Basic Text SR
    assert isinstance(sr.content, hd.sr.MeasurementReport)
    (group,) = sr.content.get_image_measurement_groups()
    assert group.tracking_identifier == "study"


# --- 8. The key-findings example is not TID 1500 -------------------------------------------------
def test_key_findings_example_is_not_taken_for_tid_1500(examples):
    out, objects, _ = examples
    path = out / objects["sr-key-findings"]["file"]
    ds = pydicom.dcmread(path)
    assert ds.ConceptNameCodeSequence[0].CodeValue != "126000"  # the TID 1500 title (CID 7021)
    lines = pixelmed_sr(path)
    assert not [line for line in lines if "TID_1500" in line or line.startswith("Error")], "\n".join(lines)


# --- 9. README snippets build: tests/test_readme_api.py (README.md and every page of docs/guide/) -------


# --- 10. Label maps over 255 segments ----------------------------------------------------------------
@pytest.mark.parametrize("n_segments", [255, 300])
def test_label_map_over_255_segments_warns_about_8_bit_readers(tmp_path, n_segments):
    ct = PHANTOM / "ct"
    first = pydicom.dcmread(sorted(ct.iterdir())[0], stop_before_pixels=True)
    frames = len(list(ct.iterdir()))
    labels = (
        (np.arange(frames * first.Rows * first.Columns) % (n_segments + 1))
        .reshape(frames, first.Rows, first.Columns)
        .astype(np.uint16)
    )
    np.save(tmp_path / "labels.npy", labels)
    spec = seg_spec(
        tmp_path,
        ct,
        tmp_path / "labels.npy",
        segmentation={"type": "LABELMAP"},
        segments=[
            {"label": f"region {n}", "category": "AnatomicalStructure", "type": "Liver"}
            for n in range(1, n_segments + 1)
        ],
    )
    objects, warnings = build([write_spec(tmp_path / "many.yaml", spec)], tmp_path / "out")
    ds = pydicom.dcmread(tmp_path / "out" / objects["many"]["file"], stop_before_pixels=True)
    assert len(ds.SegmentSequence) == n_segments
    wrap = [w for w in warnings if "wrap" in w]
    if n_segments > 255:
        assert ds.BitsAllocated == 16
        assert len(wrap) == 1 and "cornerstone" in wrap[0] and "OHIF 3" in wrap[0]
    else:
        assert ds.BitsAllocated == 8 and wrap == []


@pytest.mark.parametrize(
    "folder, series_uid",
    [
        (("series", "mr_dcmqi_701-ADCb500"), None),  # oblique MR: the normal is not the z axis
        (("series", "pt_nist_IDS-DEPT024-a"), None),  # file order differs from slice order
        (("series", "ct_nist_IDS-DEPT003-a"), NIST_CT),
        (("series", "ct_nist_IDS-DEPT003-a"), NIST_CT_GAP),  # not a regular stack
    ],
    ids=["mr-oblique", "pet", "ct-negative", "ct-gap"],
)
def test_spacing_between_slices_agrees_with_highdicom(tmp_path, folder, series_uid):
    """highdicom's own test of "is this series a volume, and with what spacing" is the oracle."""
    images = shared(*folder)
    headers = [pydicom.dcmread(p, stop_before_pixels=True) for p in sorted(images.iterdir())]
    headers = [h for h in headers if series_uid is None or h.SeriesInstanceUID == series_uid]
    # the same tolerances as ours: 1e-4 on orientation (the MR's files differ in the 8th digit of one
    # direction cosine, which highdicom's default calls two orientations), 0.01 mm on the steps
    expected, _ = hd.spatial.get_series_volume_positions(headers, orientation_tol=1e-4, atol=1e-2)
    mask = np.zeros((len(headers), headers[0].Rows, headers[0].Columns), np.uint8)
    mask[:, 10:20, 10:20] = 1
    np.save(tmp_path / "mask.npy", mask)
    sources = {"series_instance_uid": series_uid} if series_uid else {}
    spec = seg_spec(tmp_path, images, tmp_path / "mask.npy", sources=sources)
    objects, _ = build([write_spec(tmp_path / "seg.yaml", spec)], tmp_path / "out")
    out = tmp_path / "out" / objects["seg"]["file"]
    assert_no_dciodvfy_errors(out)
    measures = pydicom.dcmread(out).SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0]
    if expected is None:
        assert "SpacingBetweenSlices" not in measures
    else:
        assert float(measures.SpacingBetweenSlices) == pytest.approx(expected, abs=1e-3)


def _frames(positions, orientation=("1", "0", "0", "0", "1", "0")):
    from dcmspec_compiler.iods.common.source_frame import SourceFrame

    return [
        SourceFrame(
            "1.2.840.10008.5.1.4.1.1.2", f"2.25.{i}", None, tuple(str(v) for v in p), orientation, ("0.5", "0.5")
        )
        for i, p in enumerate(positions)
    ]


@pytest.mark.parametrize(
    "positions, expected",
    [
        ([(0, 0, 10), (0, 0, 7.5), (0, 0, 5)], 2.5),  # descending along the normal: still positive
        ([(0, 0, 0), (0, 0, 2), (0, 0, 1)], 1.0),  # given out of order
        ([(0, 0, 0)], None),  # one frame
        ([(0, 0, 0), (0, 0, 1), (0, 0, 1)], None),  # a shared position
        ([(0, 0, 0), (0, 0, 1), (0, 0, 3)], None),  # a gap
        ([(0, 0, 0), (0, 0, 1), (0.5, 0, 2)], None),  # shifted in-plane
    ],
)
def test_regular_slice_spacing_by_hand(positions, expected):
    from dcmspec_compiler.iods.common.spacing import regular_slice_spacing

    spacing = regular_slice_spacing(_frames(positions))
    if expected is None:
        assert spacing.value is None and spacing.reason
    else:
        assert spacing.value == pytest.approx(expected) and spacing.reason is None


def test_regular_slice_spacing_along_an_oblique_normal():
    from dcmspec_compiler.iods.common.spacing import regular_slice_spacing

    c, s = np.cos(np.radians(30)), np.sin(np.radians(30))
    orientation = tuple(str(v) for v in (1, 0, 0, 0, c, s))  # rows tilted 30 degrees about x
    normal = np.cross([1, 0, 0], [0, c, s])
    positions = [tuple(np.array([3.0, 4.0, 5.0]) + k * 1.5 * normal) for k in range(4)]
    assert regular_slice_spacing(_frames(positions, orientation)).value == pytest.approx(1.5)
