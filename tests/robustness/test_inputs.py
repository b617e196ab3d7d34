"""Hostile input (issue 9): what dcmspec reads can neither hang it nor exhaust its memory, and values
the standard does not allow never reach a file.

Hangs are caught by running the command in a child process with a generous timeout (a hang fails the
test, speed is never asserted). Every refusal is checked for its exit code, its file:line and that the
output folder stays empty.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dcmspec_compiler.testing.phantom import Grid, organ_label_map, write_ct_series

from conftest import ROOT

PHANTOM = ROOT / "specs_examples" / "phantom"
GRID = Grid(shape=(4, 16, 16), spacing=(2.0, 1.0, 1.0), origin=(-8.0, -8.0, 0.0))
HANG = 120  # seconds: only a hang takes this long


def dcmspec(*args: str, cwd: Path | None = None, script: str | None = None) -> subprocess.CompletedProcess:
    """Run the command line in a child process (``script`` runs first, e.g. to plant a fault)."""
    code = (script or "") + "\nimport sys\nfrom dcmspec_compiler.cli import main\nmain(sys.argv[1:])\n"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=HANG, cwd=cwd)


def assert_refused(proc: subprocess.CompletedProcess, where: str, *words: str, code: int = 1) -> None:
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    assert where in proc.stderr, proc.stderr
    for word in words:
        assert word in proc.stderr, proc.stderr


def empty(folder: Path) -> bool:
    return not folder.exists() or not any(folder.iterdir())


@pytest.fixture(scope="module")
def series(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("ct")
    write_ct_series(folder / "ct", GRID, seed="robustness")
    np.save(folder / "labels.npy", organ_label_map(GRID, 2))
    return folder


SEG = """dcmspec: 1
kind: Segmentation
sources: {{images: {images}}}
segmentation: {{type: BINARY, mask: {mask}}}
segments:
  - {{label: Liver, category: AnatomicalStructure, type: Liver}}
  - {{label: Spleen, category: AnatomicalStructure, type: Spleen}}
"""


def seg_spec(tmp_path: Path, series: Path, text: str = SEG, **fmt) -> Path:
    values = {"images": series / "ct", "mask": series / "labels.npy", **fmt}
    spec = tmp_path / "spec.yaml"
    spec.write_text(text.format(**values))
    return spec


# ---------------------------------------------------------------- 1. files that are not regular files
def test_a_mask_that_is_a_device_is_refused_and_the_process_exits(tmp_path, series):
    spec = seg_spec(tmp_path, series, mask="/dev/zero")
    proc = dcmspec("build", str(spec), "-o", str(tmp_path / "out"))
    assert_refused(proc, f"{spec}:4:", "/dev/zero is a character device, not a regular file")
    assert empty(tmp_path / "out")


def test_a_mask_that_is_a_fifo_is_refused_and_the_process_exits(tmp_path, series):
    fifo = tmp_path / "mask.npy"
    os.mkfifo(fifo)
    spec = seg_spec(tmp_path, series, mask=fifo)
    proc = dcmspec("build", str(spec), "-o", str(tmp_path / "out"))
    assert_refused(proc, f"{spec}:4:", "is a FIFO, not a regular file")
    assert empty(tmp_path / "out")


def test_a_fifo_among_the_source_images_is_skipped_not_read(tmp_path, series):
    images = tmp_path / "ct"
    images.mkdir()
    for f in (series / "ct").iterdir():
        (images / f.name).symlink_to(f)
    os.mkfifo(images / "zz-fifo.dcm")
    spec = seg_spec(tmp_path, series, images=images)
    proc = dcmspec("build", str(spec), "-o", str(tmp_path / "out"))
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out" / "spec.dcm").is_file()
    # named explicitly, it is refused
    spec = seg_spec(tmp_path, series, images=images / "zz-fifo.dcm")
    proc = dcmspec("build", str(spec), "-o", str(tmp_path / "out2"))
    assert_refused(proc, f"{spec}:3:", "is a FIFO, not a DICOM file or folder")


@pytest.mark.parametrize("which", ["spec", "values", "csv"])
def test_a_fifo_as_spec_values_or_csv_is_refused(tmp_path, which):
    fifo = tmp_path / ("f.csv" if which == "csv" else "f.yaml")
    os.mkfifo(fifo)
    spec = fifo if which == "spec" else ROOT / "specs_examples" / "report-template.yaml"
    extra = {"spec": [], "values": ["--values", str(fifo)], "csv": ["--csv", str(fifo)]}[which]
    proc = dcmspec("validate", str(spec), *extra)
    assert_refused(proc, str(fifo), "is a FIFO, not a regular file")


# ---------------------------------------------------------------- 2. a worker process killed
KILL_ROW_7 = """
import os, signal
from dcmspec_compiler import pipeline
from dcmspec_compiler.assemble import batch
_real = batch._work
def _work(args):
    if any(doc.csv_row is not None and doc.csv_row.line == 7 for doc, _ in args[0]):
        os.kill(os.getpid(), signal.SIGKILL)
    return _real(args)
batch._work = _work
pipeline.worker_count = lambda n: 2
"""


def test_a_killed_worker_fails_the_build_naming_its_rows(tmp_path):
    """The rows the dead worker held (row 7 among them) fail; rows that came back before may be written
    (each row is all or nothing), with the bytes of a build without the fault."""
    from dcmspec_compiler.assemble.batch import MIN_BATCH

    rows = tmp_path / "rows.csv"
    rows.write_text("\n".join(["lesion_id,volume_ml"] + [f"L{i},{i / 10:.1f}" for i in range(MIN_BATCH + 6)]))
    out = tmp_path / "out"
    template = ROOT / "specs_examples" / "report-template.yaml"
    proc = dcmspec("build", str(template), "--csv", str(rows), "-o", str(out), script=KILL_ROW_7)
    assert_refused(proc, str(template), "a worker process died", f"{rows}:7", "they were not built")
    written = {p.name: p.read_bytes() for p in out.glob("*.dcm")} if out.exists() else {}
    assert "lesion-report-7.dcm" not in written
    if written:
        manifest = json.loads((out / "dcmspec-manifest.json").read_text())["objects"]
        assert sorted(e["file"] for e in manifest) == sorted(written)
    # without the planted fault the same build succeeds in workers, with the same bytes
    clean = tmp_path / "clean"
    proc = dcmspec(
        "build",
        str(template),
        "--csv",
        str(rows),
        "-o",
        str(clean),
        script="from dcmspec_compiler import pipeline\npipeline.worker_count = lambda n: 2\n",
    )
    assert proc.returncode == 0, proc.stderr
    assert len(list(clean.glob("*.dcm"))) == MIN_BATCH + 6
    assert all((clean / name).read_bytes() == data for name, data in written.items())


# ---------------------------------------------------------------- 8, 9. giant and deep specs
def test_a_giant_flow_list_stops_at_the_node_limit_while_parsing(tmp_path):
    from dcmspec_compiler.load import parse

    spec = tmp_path / "big.yaml"
    spec.write_text("dcmspec: 1\nkind: Segmentation\nx: [" + ",".join(["1"] * (parse.MAX_NODES + 10)) + "]\n")
    assert spec.stat().st_size < parse.MAX_FILE_BYTES
    proc = dcmspec("validate", str(spec))
    assert_refused(proc, f"{spec}:3:", f"more than {parse.MAX_NODES} values, the limit for a spec")
    assert "alias" not in proc.stderr


def test_the_node_limit_is_enforced_before_nodes_are_built(tmp_path, monkeypatch):
    """The count happens on the parser's events: no node graph of the whole document exists."""
    from dcmspec_compiler.errors import SpecError
    from dcmspec_compiler.load import parse

    built = []
    monkeypatch.setattr(
        parse._Composer, "compose_node", lambda self, *a: built.append(1) or pytest.fail("composed"), raising=False
    )
    monkeypatch.setattr(parse, "MAX_NODES", 50)
    with pytest.raises(SpecError, match="more than 50 values"):
        parse.parse_text("x: [" + ",".join(["1"] * 60) + "]\n", tmp_path / "s.yaml")


def test_a_spec_file_over_the_size_limit_is_refused_unread(tmp_path):
    from dcmspec_compiler.load import parse

    spec = tmp_path / "huge.yaml"
    with open(spec, "wb") as fh:
        fh.truncate(parse.MAX_FILE_BYTES + 1)  # sparse: costs no disk
    proc = dcmspec("validate", str(spec))
    assert_refused(proc, str(spec), f"larger than {parse.MAX_FILE_BYTES} bytes, the limit for a spec")


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
@pytest.mark.parametrize("depth", [300, 50_000])
def test_deep_nesting_is_refused_at_its_line(tmp_path, suffix, depth):
    from dcmspec_compiler.load import parse

    spec = tmp_path / f"deep{suffix}"
    spec.write_text('{"dcmspec": 1,\n"kind": "Segmentation",\n"x": ' + "[" * depth + "]" * depth + "}\n")
    proc = dcmspec("validate", str(spec))
    # where our limit stops the parse; PyYAML >= 6.0.4's libyaml, scanning ahead, may stop first at its own
    # limit (1000 levels): the same message, at the bracket where it stopped
    where = f"{spec}:3:{5 + parse.MAX_DEPTH}:" if depth < 1000 else f"{spec}:3:"
    assert_refused(proc, where, f"nest more than {parse.MAX_DEPTH} levels deep")


def test_deep_nesting_in_values_file_is_refused_at_its_line(tmp_path):
    values = tmp_path / "values.yaml"
    values.write_text("lesion_id: L1\nreader: " + "{a: " * 5000 + "1" + "}" * 5000 + "\n")
    proc = dcmspec("validate", str(ROOT / "specs_examples" / "report-template.yaml"), "--values", str(values))
    assert_refused(proc, f"{values}:2:", "levels deep")


# ---------------------------------------------------------------- 7. decompression bombs
def _npz_declaring(path: Path, shape: tuple[int, ...]) -> None:
    """An .npz whose member's .npy header declares ``shape`` but holds (almost) no data."""
    import io
    import zipfile

    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "|u1", "fortran_order": False, "shape": shape})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("arr_0.npy", header.getvalue() + bytes(1000))


def _nifti_declaring(path: Path, shape: tuple[int, ...]) -> None:
    import gzip

    nibabel = pytest.importorskip("nibabel")
    header = nibabel.Nifti1Header()
    header.set_data_dtype(np.uint8)
    header.set_data_shape(shape)
    header["vox_offset"] = 352
    with gzip.open(path, "wb") as fh:
        fh.write(header.binaryblock + bytes(4) + bytes(1000))


@pytest.mark.parametrize("make, name", [(_npz_declaring, "bomb.npz"), (_nifti_declaring, "bomb.nii.gz")])
def test_a_mask_declaring_a_huge_shape_is_refused_before_decompressing(tmp_path, series, make, name):
    mask = tmp_path / name
    make(mask, (2048, 1024, 1024))
    assert mask.stat().st_size < 100_000
    spec = seg_spec(tmp_path, series, mask=mask)
    proc = dcmspec("build", str(spec), "-o", str(tmp_path / "out"))
    need = GRID.shape[0] * GRID.shape[1] * GRID.shape[2] * 2  # frames x rows x columns x 2 segments
    assert_refused(
        proc, f"{spec}:4:", "declares shape", f"more than the {need} the source images", "refused before reading"
    )
    assert empty(tmp_path / "out")


def test_a_nrrd_declaring_a_huge_shape_is_refused_before_reading(tmp_path, series):
    mask = tmp_path / "bomb.nrrd"
    mask.write_bytes(
        b"NRRD0004\ntype: uint8\ndimension: 3\nsizes: 1024 1024 2048\nencoding: gzip\n"
        b"space: left-posterior-superior\nspace directions: (1,0,0) (0,1,0) (0,0,2)\n"
        b"space origin: (0,0,0)\n\n"
    )
    spec = seg_spec(tmp_path, series, mask=mask)
    proc = dcmspec("build", str(spec), "-o", str(tmp_path / "out"))
    assert_refused(proc, f"{spec}:4:", "declares shape (1024, 1024, 2048)", "refused before reading")


# ---------------------------------------------------------------- 11. values the standard does not allow
SR = (ROOT / "specs_examples" / "sr-key-findings.yaml").read_text()


def _located(tmp_path: Path, text: str, changed: str) -> tuple[Path, int]:
    """Write the spec into a folder beside the phantom; return it and the line of ``changed``."""
    spec = tmp_path / "spec.yaml"
    (tmp_path / "phantom").symlink_to(PHANTOM)
    spec.write_text(text)
    line = next(i for i, t in enumerate(text.splitlines(), start=1) if changed in t)
    return spec, line


# (text in the example, replacement, words of the message). The oracle for each rule is PS3.5 6.2
# Table 6.2-1 as written there, read by hand (not our table). Some are caught by the schema first (it
# carries the rules JSON Schema can say), the others by the builder layer's VR checks.
SR_CASES = [
    ('value: "09:30:00"', 'value: "99:99"', "TM"),
    ('value: "2024-01-02"', 'value: "1970-02-30"', "19700230"),
    ("value: Doe^Jane", "value: A^B^C^D^E^F^G^H", "A^B^C^D^E^F^G^H"),
    ("value: Doe^Jane", "value: A=B=C=D=E", "A=B=C=D=E"),
    ("value: Doe^Jane", 'value: "Doe\\\\Jane"', "backslash"),
    ("value: Doe^Jane", 'value: "Doe\\x01Jane"', "control character"),
    ("value: Small hypodense lesion in the liver.", 'value: "Small\\0lesion"', "control character"),
    ("description: Key findings", 'description: "Key\\x07findings"', "control character"),
    ('name: DCM:121071 "Finding"', 'name: {scheme: DCM, value: "", meaning: Finding}', "Code Value is empty"),
    ('name: DCM:121071 "Finding"', 'name: {scheme: DCM, value: "12\\\\34", meaning: Finding}', "backslash"),
    (
        'name: DCM:121071 "Finding"',
        'name: {scheme: DCM, value: "121071", meaning: Finding, version: "12345678901234567"}',
        "12345678901234567",
    ),
    ("points: [[17.5, 20.5], [23.5, 20.5]]", "points: [[.inf, 20.5], [23.5, 20.5]]", "finite"),
]
LINE_OF = {"points: [[.inf, 20.5], [23.5, 20.5]]": "type: SCOORD"}  # located at its content item


@pytest.mark.parametrize("old, new, words", SR_CASES, ids=[c[1][:40] for c in SR_CASES])
def test_a_value_its_vr_forbids_is_refused_at_its_line(tmp_path, old, new, words):
    assert old in SR
    spec, line = _located(tmp_path, SR.replace(old, new, 1), LINE_OF.get(new, new))
    proc = dcmspec("build", str(spec), "-o", str(tmp_path / "out"))
    assert_refused(proc, f"{spec}:{line}:", words)
    assert "UserWarning" not in proc.stderr
    assert empty(tmp_path / "out")


def test_the_unchanged_report_builds_and_passes_dciodvfy(tmp_path, dciodvfy):
    spec, _ = _located(tmp_path, SR, "kind:")
    proc = dcmspec("build", str(spec), "-o", str(tmp_path / "out"))
    assert proc.returncode == 0, proc.stderr
    errors, _ = dciodvfy(next((tmp_path / "out").glob("*.dcm")))
    assert errors == []


def test_algorithm_parameters_over_the_lt_limit_are_refused(tmp_path, series):
    text = SEG.replace("  - {{label: Spleen, category: AnatomicalStructure, type: Spleen}}\n", "").replace(
        "type: Liver}}",
        "type: Liver,\n     algorithm: {{type: AUTOMATIC, name: Net, version: '1', "
        'family: DCM:123110 "Artificial Intelligence", parameters: {{note: {note}}}}}}}',
    )
    spec = seg_spec(tmp_path, series, text, note="x" * 10240)  # "note=" + 10240: over LT's 10240
    proc = dcmspec("build", str(spec), "-o", str(tmp_path / "out"))
    assert_refused(proc, f"{spec}:7:", "AlgorithmParameters", "more than the 10240 LT allows")
    assert empty(tmp_path / "out")
    spec = seg_spec(tmp_path, series, text, note="x" * 10000)
    assert dcmspec("build", str(spec), "-o", str(tmp_path / "out")).returncode == 0


@pytest.mark.parametrize("value", ["1e400", ".inf"])
def test_an_infinite_tolerance_is_refused(tmp_path, series, value):
    text = SEG.replace("mask: {mask}}}", "mask: {mask}, tolerance_mm: " + value + "}}")
    spec = seg_spec(tmp_path, series, text)
    proc = dcmspec("build", str(spec), "-o", str(tmp_path / "out"))
    assert_refused(proc, f"{spec}:4:", "tolerance_mm")
    assert empty(tmp_path / "out")


# ---------------------------------------------------------------- 12. invalid source geometry
@pytest.mark.parametrize(
    "keyword, value, words",
    [
        ("ImagePositionPatient", ["nan", "0", "0"], "Image Position (Patient)"),
        ("ImagePositionPatient", ["inf", "0", "0"], "not finite"),
        ("PixelSpacing", ["0", "1"], "Pixel Spacing [0.0, 1.0], which is not positive"),
    ],
)
def test_invalid_source_geometry_is_refused_naming_the_file(tmp_path, series, keyword, value, words):
    import shutil

    import pydicom

    images = tmp_path / "ct"
    shutil.copytree(series / "ct", images)
    victim = sorted(images.iterdir())[1]
    ds = pydicom.dcmread(victim)
    ds[keyword].value = value
    ds.save_as(victim)
    spec = seg_spec(tmp_path, series, images=images)
    proc = dcmspec("build", str(spec), "-o", str(tmp_path / "out"))
    assert_refused(proc, f"{spec}:3:", str(victim), words)
    assert empty(tmp_path / "out")


# ---------------------------------------------------------------- 10. the segment limit
def test_a_spec_with_65535_segments_is_within_the_parse_limits(tmp_path):
    from dcmspec_compiler.load.parse import parse_text

    lines = [
        "dcmspec: 1",
        "kind: Segmentation",
        "sources: {images: ct}",
        "segmentation: {type: LABELMAP, mask: labels.npy}",
        "segments:",
    ]
    lines += [f"  - {{label: Segment {i}, category: AnatomicalStructure, type: Liver}}" for i in range(1, 65536)]
    doc = parse_text("\n".join(lines) + "\n", tmp_path / "many.yaml")
    assert len(doc.data["segments"]) == 65535
    assert doc.loc(("segments", 65534)).line == 5 + 65535


def test_segment_number_65536_is_refused_by_the_builder_layer():
    from pydicom.sr.codedict import codes

    from dcmspec_compiler.iods.seg import SegmentDescription

    def segment(number: int) -> SegmentDescription:
        return SegmentDescription(
            segment_number=number,
            segment_label="S",
            segmented_property_category=codes.SCT.AnatomicalStructure,
            segmented_property_type=codes.SCT.Liver,
            algorithm_type="MANUAL",
        )

    assert segment(65535).SegmentNumber == 65535
    with pytest.raises(Exception) as err:
        segment(65536)
    assert isinstance(err.value, ValueError) and "65536" in str(err.value)


def test_vr_rules_against_values_read_from_ps3_5():
    """The rules of iods.common.vr on values whose verdict PS3.5 6.2 states (read by hand)."""
    from dcmspec_compiler.iods.common.vr import InvalidValue, check_value

    good = [
        ("StudyDate", "DA", "20240229"),
        ("StudyTime", "TM", "235960.123456"),
        ("StudyTime", "TM", "07"),
        ("AcquisitionDateTime", "DT", "20240102103000.5+0100"),
        ("PatientName", "PN", "A^B^C^D^E=F=G"),
        ("SeriesDescription", "LO", "x" * 64),
        ("CodeValue", "SH", "x" * 16),
        ("PatientAge", "AS", "045Y"),
        ("SliceThickness", "DS", "-1.5e-3"),
        ("InstanceNumber", "IS", "2147483647"),
        ("ImageOrientationPatient", "DS", [1, 0, 0, 0, 1, 0]),
        ("TextValue", "UT", "line 1\r\nline 2\\3"),
    ]
    bad = [
        ("StudyDate", "DA", "19700230"),
        ("StudyDate", "DA", "2024-01-02"),
        ("StudyTime", "TM", "2400"),
        ("StudyTime", "TM", "99:99"),
        ("AcquisitionDateTime", "DT", "2024garbage!!"),
        ("AcquisitionDateTime", "DT", "20240102+1500"),
        ("PatientName", "PN", "A^B^C^D^E^F"),
        ("PatientName", "PN", "A=B=C=D"),
        ("SeriesDescription", "LO", "x" * 65),
        ("SeriesDescription", "LO", "a\tb"),
        ("CodeValue", "SH", "x" * 17),
        ("CodeValue", "SH", "a\\b"),
        ("Modality", "CS", "ct"),
        ("SOPInstanceUID", "UI", "1.02.3"),
        ("InstanceNumber", "IS", "2147483648"),
        ("SliceThickness", "DS", "1.000000000000001"),
        ("ImageOrientationPatient", "DS", [1, 0, 0, 0, 1]),
        ("AlgorithmParameters", "LT", "x" * 10241),
        ("TextValue", "UT", "a\x00b"),
        ("FloatingPointValue", "FD", float("inf")),
        ("Rows", "US", 65536),
    ]
    for keyword, vr, value in good:
        check_value(keyword, vr, value)
    for keyword, vr, value in bad:
        with pytest.raises(InvalidValue) as err:
            check_value(keyword, vr, value)
        assert err.value.keyword == keyword


@pytest.mark.parametrize(
    "definition, good, bad",
    [
        ("person_name", ["Doe^Jane", "A^B^C^D^E=F=G"], ["A^B^C^D^E^F", "A=B=C=D", "Doe\\Jane", "Doe\x00Jane"]),
        ("date", ["2024-02-29", "20240102"], ["2024-13-01", "2024-01-32", "2024-00-10"]),
        ("datetime", ["2024-01-02T23:59:60"], ["2024-01-02T24:00", "2024-01-02T10:60"]),
    ],
)
def test_the_schemas_carry_the_vr_rules_editors_can_check(definition, good, bad):
    """What JSON Schema can say of a VR is in the schemas, so editors flag it while the user types."""
    from jsonschema import Draft202012Validator

    from dcmspec_compiler.validate.schemas import _registry_and_uris

    registry, uris = _registry_and_uris()
    validator = Draft202012Validator(
        {"$ref": uris["definitions.schema.json"] + f"#/$defs/{definition}"}, registry=registry
    )
    assert [v for v in good if not validator.is_valid(v)] == []
    assert [v for v in bad if validator.is_valid(v)] == []


def test_the_schema_refuses_a_long_coding_scheme_version():
    from jsonschema import Draft202012Validator

    from dcmspec_compiler.validate.schemas import _registry_and_uris

    registry, uris = _registry_and_uris()
    validator = Draft202012Validator({"$ref": uris["definitions.schema.json"] + "#/$defs/code"}, registry=registry)
    code = {"scheme": "DCM", "value": "1", "meaning": "x"}
    assert validator.is_valid({**code, "version": "x" * 16})
    assert not validator.is_valid({**code, "version": "x" * 17})
