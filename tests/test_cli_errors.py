"""Bad input through the command line: one test per error class.

Each asserts the message carries file:line and the problem, the exit code, and that no output file
(not even a partial one) is left behind.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from dcmspec_compiler.cli import main
from dcmspec_compiler.testing.phantom import Grid, organ_label_map, write_ct_series

GRID = Grid(shape=(4, 16, 16), spacing=(2.0, 1.0, 1.0), origin=(-8.0, -8.0, 0.0))


@pytest.fixture(scope="module")
def series(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("ct")
    write_ct_series(folder / "ct", GRID, seed="cli-errors")
    np.save(folder / "labels.npy", organ_label_map(GRID, 2))
    return folder


SPEC = """dcmspec: 1
kind: Segmentation
sources:
  images: {images}
segmentation:
  type: BINARY
  mask: {mask}
segments:
  - label: Liver
    category: AnatomicalStructure
    type: Liver
  - label: Spleen
    category: AnatomicalStructure
    type: Spleen
series: {{number: 7}}
"""


def write_spec(tmp_path: Path, series: Path, text: str | None = None, **fmt) -> Path:
    values = {"images": str(series / "ct"), "mask": str(series / "labels.npy"), **fmt}
    spec = tmp_path / "spec.yaml"
    spec.write_text((text or SPEC).format(**values))
    return spec


def run(*args: str):
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def assert_nothing_written(out: Path) -> None:
    leftovers = [p.name for p in out.iterdir()] if out.exists() else []
    assert leftovers == [], leftovers


def test_good_spec_builds(tmp_path, series):
    spec = write_spec(tmp_path, series)
    code, _, err = run("build", str(spec), "-o", str(tmp_path / "out"))
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["dcmspec-manifest.json", "spec.dcm"]


def test_schema_violation(tmp_path, series):
    spec = write_spec(tmp_path, series, SPEC.replace("type: BINARY", "type: BINARI"))
    code, _, err = run("build", str(spec), "-o", str(tmp_path / "out"))
    assert code == 1
    assert f"{spec}:6:9: segmentation.type:" in err and "BINARY" in err
    assert "Traceback" not in err
    assert_nothing_written(tmp_path / "out")


def test_unknown_kind(tmp_path, series):
    spec = write_spec(tmp_path, series, SPEC.replace("kind: Segmentation", "kind: Segmentacion"))
    code, _, err = run("build", str(spec), "-o", str(tmp_path / "out"))
    assert code == 1 and f"{spec}:2:7: kind: unknown kind 'Segmentacion'" in err
    assert_nothing_written(tmp_path / "out")


def test_missing_source_files(tmp_path, series):
    spec = write_spec(tmp_path, series, images=str(tmp_path / "nowhere"))
    code, _, err = run("build", str(spec), "-o", str(tmp_path / "out"))
    assert code == 1 and f"{spec}:4:11:" in err and "nowhere" in err
    assert_nothing_written(tmp_path / "out")


def test_missing_mask_file(tmp_path, series):
    spec = write_spec(tmp_path, series, mask="absent.npy")
    code, _, err = run("build", str(spec), "-o", str(tmp_path / "out"))
    assert code == 1 and f"{spec}:7:9:" in err and "absent.npy" in err
    assert_nothing_written(tmp_path / "out")


def test_mask_shape_mismatch(tmp_path, series):
    np.save(tmp_path / "small.npy", np.zeros((4, 8, 8), np.uint8))
    spec = write_spec(tmp_path, series, mask=str(tmp_path / "small.npy"))
    code, _, err = run("build", str(spec), "-o", str(tmp_path / "out"))
    assert code == 1 and f"{spec}:7:9: segmentation.mask:" in err
    assert "(4, 8, 8)" in err and "(4, 16, 16)" in err
    assert_nothing_written(tmp_path / "out")


def test_mask_grid_mismatch_says_by_how_much(tmp_path, series):
    nib = pytest.importorskip("nibabel")
    # A NIfTI whose slices are shifted 0.5 mm along z from the source frames.
    labels = organ_label_map(GRID, 2)
    affine = np.diag([-1.0, -1.0, 2.0, 1.0])
    affine[:3, 3] = [8.0, 8.0, 0.5]  # RAS: x and y flipped from LPS
    nib.save(nib.Nifti1Image(np.transpose(labels, (2, 1, 0)), affine), tmp_path / "shifted.nii.gz")
    spec = write_spec(tmp_path, series, mask=str(tmp_path / "shifted.nii.gz"))
    code, _, err = run("build", str(spec), "-o", str(tmp_path / "out"))
    assert code == 1 and f"{spec}:7:9:" in err
    assert "0.5 mm" in err
    assert_nothing_written(tmp_path / "out")


def test_duplicate_key(tmp_path, series):
    spec = write_spec(tmp_path, series, SPEC + "series: {{number: 8}}\n")
    code, _, err = run("build", str(spec), "-o", str(tmp_path / "out"))
    assert code == 1 and f"{spec}:16:1: duplicate key 'series' (first defined at line 15)" in err
    assert_nothing_written(tmp_path / "out")


def test_bad_code(tmp_path, series):
    spec = write_spec(tmp_path, series, SPEC.replace("type: Spleen", "type: Splen"))
    code, _, err = run("build", str(spec), "-o", str(tmp_path / "out"))
    assert code == 1 and f"{spec}:14:11: segments[1].type: unknown code keyword 'Splen'" in err
    assert "Spleen" in err  # the suggestion
    assert_nothing_written(tmp_path / "out")


def test_bad_uid(tmp_path, series):
    spec = write_spec(
        tmp_path, series, SPEC.replace("series: {{number: 7}}", "series: {{number: 7, instance_uid: '1.2.03'}}")
    )
    code, _, err = run("build", str(spec), "-o", str(tmp_path / "out"))
    assert code == 1 and f"{spec}:15:35: series.instance_uid:" in err
    assert_nothing_written(tmp_path / "out")


def test_unwritable_output(tmp_path, series):
    spec = write_spec(tmp_path, series)
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("x")
    code, _, err = run("build", str(spec), "-o", str(blocker / "out"))
    assert code == 3 and str(blocker / "out") in err
    assert blocker.read_text() == "x"


def test_never_overwrites_without_force(tmp_path, series):
    spec = write_spec(tmp_path, series)
    out = tmp_path / "out"
    out.mkdir()
    (out / "spec.dcm").write_bytes(b"precious")
    code, _, err = run("build", str(spec), "-o", str(out))
    assert code == 3 and "--force" in err and "spec.dcm" in err
    assert (out / "spec.dcm").read_bytes() == b"precious"
    code, _, err = run("build", str(spec), "-o", str(out), "--force")
    assert code == 0 and (out / "spec.dcm").read_bytes()[128:132] == b"DICM"


def test_one_bad_spec_means_nothing_written(tmp_path, series):
    good = write_spec(tmp_path, series)
    bad = tmp_path / "bad.yaml"
    bad.write_text(good.read_text().replace("type: Liver", "type: Livr"))
    out = tmp_path / "out"
    code, _, err = run("build", str(good), str(bad), "-o", str(out))
    assert code == 1 and f"{bad}:11:11:" in err
    assert_nothing_written(out)


def test_errors_are_all_reported_and_no_traceback(tmp_path, series):
    spec = write_spec(tmp_path, series, SPEC.replace("type: BINARY", "type: X").replace("label: Liver", "lable: Liver"))
    code, _, err = run("build", str(spec), "-o", str(tmp_path / "out"))
    assert code == 1 and "3 error(s)" in err and "Traceback" not in err
    assert "did you mean 'label'" in err and "missing required property 'label'" in err


def test_validate_json_report(tmp_path, series):
    spec = write_spec(tmp_path, series, SPEC.replace("type: Spleen", "type: Splen"))
    code, out, _ = run("validate", "--format", "json", str(spec))
    report = json.loads(out)
    assert code == 1 and report["ok"] is False
    (error,) = report["errors"]
    assert (error["file"], error["line"], error["column"]) == (str(spec), 14, 11)
    assert error["path"] == "segments[1].type"
    good = write_spec(tmp_path, series)
    code, out, _ = run("validate", "--format", "json", str(good))
    report = json.loads(out)
    assert code == 0 and report["ok"] and report["objects"][0]["segments"] == 2


def test_validate_writes_nothing(tmp_path, series):
    spec = write_spec(tmp_path, series)
    before = sorted(p.name for p in tmp_path.iterdir())
    code, _, err = run("validate", str(spec))
    assert code == 0 and "valid" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_schema_and_new_commands(tmp_path):
    code, out, _ = run("schema", "segmentation")
    assert code == 0 and json.loads(out)["title"] == "dcmspec Segmentation spec"
    code, out, _ = run("schema", "definitions")
    assert "$defs" in json.loads(out)
    code, _, err = run("schema", "nope")
    assert code == 2
    target = tmp_path / "starter.yaml"
    code, _, _ = run("new", "Segmentation", "-o", str(target))
    assert code == 0 and "kind: Segmentation" in target.read_text()
    code, _, err = run("new", "Segmentation", "-o", str(target))
    assert code == 3 and "exists" in err


def test_starter_spec_is_valid_against_schema(tmp_path):
    from dcmspec_compiler.load.parse import parse_text
    from dcmspec_compiler.validate.schemas import validate_document

    _code, out, _ = run("new", "segmentation")
    assert validate_document(parse_text(out, tmp_path / "s.yaml")) == "Segmentation"


def test_bad_uid_root_option(tmp_path, series):
    spec = write_spec(tmp_path, series)
    code, _, err = run("build", str(spec), "-o", str(tmp_path / "out"), "--uid-root", "1.02")
    assert code == 2 and "--uid-root" in err and "no leading zeros" in err
    code, _, err = run("build", str(spec), "-o", str(tmp_path / "out"), "--uid-root", "1.2.3.abc")
    assert code == 2 and "digits in components" in err and "at most 39" not in err
    code, _, err = run("build", str(spec), "-o", str(tmp_path / "out"), "--uid-root", "1." + "2" * 40)
    assert code == 2 and "may have at most 39" in err


@pytest.mark.parametrize(
    "array, message",
    [
        (np.random.default_rng(0).random((4, 16, 16)), "a label map must hold integers, this one holds float64"),
        (-np.ones((4, 16, 16), np.int16), "label values must be 0..65535, the mask holds -1..-1"),
        (np.full((4, 16, 16), 70000, np.int32), "label values must be 0..65535"),
    ],
)
def test_unusable_label_map_values(tmp_path, series, array, message):
    np.save(tmp_path / "m.npy", array)
    spec = write_spec(tmp_path, series, mask=str(tmp_path / "m.npy"))
    code, _, err = run("build", str(spec), "-o", str(tmp_path / "out"))
    assert code == 1 and f"{spec}:7:9: segmentation.mask: {message}" in err
    assert_nothing_written(tmp_path / "out")


def test_a_folder_with_too_many_files_is_refused(tmp_path, series, monkeypatch):
    from dcmspec_compiler.resolve import source_files

    monkeypatch.setattr(source_files, "MAX_FILES_SCANNED", 3)
    spec = write_spec(tmp_path, series)
    code, _, err = run("validate", str(spec))
    assert code == 1 and f"{spec}:4:11: sources.images: more than 3 files under" in err
    spec = write_spec(tmp_path, series, images=str(series / "ct" / "*.dcm"))
    code, _, err = run("validate", str(spec))
    assert code == 1 and "more than 3 files" in err
