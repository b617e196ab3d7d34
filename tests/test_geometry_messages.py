"""Geometry errors say what to change (a `hint:` line each), print no `-0`, and a missing mask says
what its path is relative to. The masks are NIfTI files written with nibabel (the oracle of their
geometry); the source series is the synthetic CT of dcmspec_compiler.testing.phantom."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from dcmspec_compiler.cli import main
from dcmspec_compiler.resolve.source_geometry import format_number, format_vector
from dcmspec_compiler.testing.phantom import Grid, organ_label_map, write_ct_series

nib = pytest.importorskip("nibabel")  # test extra: `pip install ".[test]"`

GRID = Grid(shape=(4, 16, 16), spacing=(2.0, 1.0, 1.0), origin=(-8.0, -8.0, 0.0))
SPEC = """dcmspec: 1
kind: Segmentation
sources: {{images: {images}}}
segmentation: {{type: BINARY, mask: {mask}}}
segments:
  - {{label: Liver, category: AnatomicalStructure, type: Liver}}
"""
NEGATIVE_ZERO = re.compile(r"(?<![\d.])-0(?![.\d])")


@pytest.fixture(scope="module")
def ct(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("geo") / "ct"
    write_ct_series(folder, GRID, seed="geometry-messages")
    return folder


def _nifti(tmp_path: Path, labels: np.ndarray, spacing=(1.0, 1.0, 2.0), origin=(8.0, 8.0, 0.0)) -> Path:
    """``labels`` indexed [k, r, c] on the phantom grid, saved as RAS NIfTI (x and y flipped from LPS)."""
    affine = np.diag([-spacing[0], -spacing[1], spacing[2], 1.0])
    affine[:3, 3] = origin
    path = tmp_path / "mask.nii.gz"
    nib.save(nib.Nifti1Image(np.ascontiguousarray(np.transpose(labels, (2, 1, 0))), affine), path)
    return path


def _build(tmp_path: Path, ct: Path, mask: Path) -> tuple[int, str]:
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.format(images=ct, mask=mask))
    result = CliRunner().invoke(main, ["build", str(spec), "-o", str(tmp_path / "out")])
    return result.exit_code, result.stderr


LABELS = organ_label_map(GRID, 1)


@pytest.mark.parametrize(
    "case, mask, expected",
    [
        ("in-plane step", lambda t: _nifti(t, LABELS, spacing=(-1.1, 1.0, 2.0)), "resample it onto"),  # x flipped
        ("cropped plane", lambda t: _nifti(t, LABELS[:, :8, :8]), "pad a cropped mask"),
        ("shifted slices", lambda t: _nifti(t, LABELS, origin=(8.0, 8.0, 0.5)), "made from this series"),
        ("missing slices", lambda t: _nifti(t, LABELS[:3]), "one mask slice per source frame"),
    ],
)
def test_every_geometry_error_has_a_hint_and_no_negative_zero(tmp_path, ct, case, mask, expected):
    code, err = _build(tmp_path, ct, mask(tmp_path))
    assert code == 1, err
    assert "mask grid does not match the source images" in err, err
    assert "\n  hint: " in err and expected in err, err
    # paths are not numbers: pytest's base temp folder may be `pytest-0`
    assert not NEGATIVE_ZERO.search(err.replace(str(tmp_path.parent), "<tmp>")), err
    assert not (tmp_path / "out").exists()


def test_numbers_in_messages_never_read_minus_zero():
    assert [format_number(x) for x in (-0.0, -1e-17, 3e-10, -0.5, 1.25, -1e-6)] == [
        "0",
        "0",
        "0",
        "-0.5",
        "1.25",
        "-1e-06",
    ]
    assert format_vector(np.array([-0.0, 1.0, -0.0])) == "[0, 1, 0]"


def test_a_missing_mask_says_what_its_path_is_relative_to(tmp_path, ct, monkeypatch):
    specs = tmp_path / "specs"
    specs.mkdir()
    spec = specs / "spec.yaml"
    spec.write_text(SPEC.format(images=ct, mask="labels.npy"))
    monkeypatch.chdir(tmp_path)
    np.save(tmp_path / "labels.npy", LABELS)  # beside the current folder, not beside the spec
    result = CliRunner().invoke(main, ["build", "specs/spec.yaml", "-o", "out"])
    assert result.exit_code == 1
    assert "specs/spec.yaml:4:36: segmentation.mask: mask file not found: specs/labels.npy" in result.stderr
    assert (
        "hint: a relative mask path is relative to the folder of the spec file that names it (specs), not to"
        " the current folder; looked for " + str(tmp_path / "specs" / "labels.npy")
    ) in result.stderr


def test_every_geometry_error_in_the_code_carries_a_hint():
    """Source-series and mask-placement errors are all raised with a hint (the guide promises one:
    docs/guide/commands-errors-and-exit-codes.md)."""
    import ast

    from conftest import ROOT

    missing = []
    for name, functions in (("source_series.py", None), ("masks.py", {"place_on_frames", "load_mask"})):
        tree = ast.parse((ROOT / "compiler" / "resolve" / name).read_text())
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef) or (functions and func.name not in functions):
                continue
            for node in ast.walk(func):
                if (
                    isinstance(node, ast.Call)
                    and getattr(node.func, "id", None) == "InputError"
                    and not any(k.arg == "hint" for k in node.keywords)
                ):
                    missing.append(f"{name}:{node.lineno}")
    assert missing == []
