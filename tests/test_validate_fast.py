"""``dcmspec validate --fast`` (assemble/quick.py): what it finds is found by the complete check too, a
valid spec passes it, and what it cannot see (it builds no object) is shown here plainly.

The oracle is the complete check (``compile_specs``, the builders and the builder layer) on the same
spec: every error the fast check reports must be one the complete check reports at the same place."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from test_all_errors import REPORT

from dcmspec_compiler.cli import main
from dcmspec_compiler.pipeline import compile_specs
from dcmspec_compiler.testing.phantom import Grid, organ_label_map, write_ct_series

from conftest import ROOT

EXAMPLES = ROOT / "specs_examples"
GRID = Grid(shape=(4, 16, 16), spacing=(2.0, 1.0, 1.0), origin=(-8.0, -8.0, 0.0))

SPEC = """dcmspec: 1
kind: Segmentation
sources:
  images: {images}
segmentation:
  type: BINARY
  mask: {mask}
segments:
  - label: Liver
    category: {category}
    type: Liver
    algorithm: {{type: AUTOMATIC, name: Net, version: "1", family: DCM:123110 "Artificial Intelligence"}}
  - label: Spleen
    category: AnatomicalStructure
    type: {type2}
series: {{number: 7}}
"""


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("fast")
    write_ct_series(folder / "ct", GRID, seed="validate-fast")
    np.save(folder / "labels.npy", organ_label_map(GRID, 2))
    np.save(folder / "complex.npy", np.zeros(GRID.shape, dtype=np.complex64))
    np.save(folder / "five_axes.npy", np.zeros((1, 1, 4, 16, 16), dtype=np.uint8))
    np.save(folder / "wrong_grid.npy", np.zeros((4, 15, 16), dtype=np.uint8))
    (folder / "text.npy").write_text("1 2 3\n")
    (folder / "short.npy").write_bytes(b"\x93NUMPY\x01\x00\xff\x00{'descr'")
    return folder


def _spec(tmp_path: Path, inputs: Path, text: str = SPEC, **fmt) -> Path:
    values = {
        "images": str(inputs / "ct"),
        "mask": str(inputs / "labels.npy"),
        "category": "AnatomicalStructure",
        "type2": "Spleen",
        **fmt,
    }
    spec = tmp_path / "spec.yaml"
    spec.write_text(text.format(**values))
    return spec


def _places(specs: list[Path], fast: bool) -> set[tuple]:
    return {(e.location.file, e.location.line, e.location.column) for e in compile_specs(specs, fast=fast).errors}


# (variant, does the fast check find it?)
VARIANTS = {
    "valid": ({}, None),
    "unknown keyword": ({"category": "NotACategory"}, True),
    "two bad codes": ({"category": "NoSuchThing", "type2": "Spleeen"}, True),
    "compact code without meaning, unknown": ({"type2": "SCT:999999999"}, True),
    "mask missing": ({"mask": "no-such.npy"}, True),
    "mask is text": ({"mask": "{inputs}/text.npy"}, True),
    "mask header cut short": ({"mask": "{inputs}/short.npy"}, True),
    "mask of complex numbers": ({"mask": "{inputs}/complex.npy"}, True),
    "mask of five axes": ({"mask": "{inputs}/five_axes.npy"}, True),
    "sources missing": ({"images": "no-such-folder/"}, True),
    "sources missing and mask missing": ({"images": "no-such-folder/", "mask": "no-such.npy"}, True),
    "sources missing and a bad code": ({"images": "no-such-folder/", "type2": "Livr"}, True),
    "mask off the source grid": ({"mask": "{inputs}/wrong_grid.npy"}, False),  # needs the source headers
}


@pytest.mark.parametrize("name", list(VARIANTS))
def test_fast_errors_are_complete_errors(tmp_path, inputs, name):
    fmt, found = VARIANTS[name]
    fmt = {k: v.format(inputs=inputs) for k, v in fmt.items()}
    spec = _spec(tmp_path, inputs, **fmt)
    fast, full = _places([spec], fast=True), _places([spec], fast=False)
    assert fast <= full, f"the fast check reports what a build does not: {fast - full}"
    if found is None:
        assert full == set() == fast
    elif found:
        assert full and fast, (fast, full)
    else:  # the limit of the fast check: a build finds it, the fast check does not
        assert full and not fast


def test_fast_reports_every_code_error_of_a_report_the_complete_check_reports(tmp_path):
    """test_all_errors.py's report: codes, units, references, image indices. The fast check finds its
    code errors (not the missing units, segment labels or image indices, which need the build)."""
    spec = tmp_path / "report.yaml"
    spec.write_text(REPORT)
    specs = [EXAMPLES / "organs-binary.yaml", spec]
    fast, full = _places(specs, fast=True), _places(specs, fast=False)
    assert fast <= full
    assert {line for _, line, _ in fast} == {4, 22, 23, 25}  # NoSuchProcedure, NotAKeyword, NotACategory, ...


# example -> (the code to misspell, its typo): with missing source images as well, every kind whose
# schema has codes. A build stops at the sources; the codes are reported all the same.
SOURCES_AND_CODE = {
    "organs-binary.yaml": ('type: SCT:10200004 "Liver"', "type: Livr"),
    "report-organs.yaml": ("type: Liver", "type: Livr"),
    "sr-key-findings.yaml": ('name: DCM:111060 "Study Date"', "name: Livr"),
    "key-objects.yaml": ('title: DCM:113000 "Of Interest"', "title: Livr"),
    "slide-annotations.yaml": ('type: SCT:108369006 "Neoplasm"', "type: Livr"),
    "t1-map.yaml": ('quantity: DCM:113063 "T1"', "quantity: Livr"),
}


@pytest.fixture(scope="module")
def examples(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("examples") / "examples"
    shutil.copytree(EXAMPLES, folder)
    return folder


@pytest.mark.parametrize("name", list(SOURCES_AND_CODE))
def test_a_build_reports_bad_codes_with_missing_sources(examples, name):
    """Missing source images stop a build, not the check of its codes: a complete validate reports both
    errors, each at its place (as ``--fast`` does), and the fast check's errors are some of its own."""
    text = (EXAMPLES / name).read_text()
    good, bad = SOURCES_AND_CODE[name]
    assert text.count(good) == 1 and text.count("  images: phantom/") == 1
    text = text.replace(good, bad).replace("  images: phantom/", "  images: no-such-folder/")
    spec = examples / f"broken-{name}"
    spec.write_text(text)
    lines = text.splitlines()
    code_line = next(i for i, line in enumerate(lines, 1) if bad in line)
    code_place = (str(spec), code_line, lines[code_line - 1].index(bad) + len(bad) - len("Livr") + 1)
    sources_line = next(i for i, line in enumerate(lines, 1) if "no-such-folder/" in line)
    sources_place = (str(spec), sources_line, lines[sources_line - 1].index("no-such-folder/") + 1)
    fast, full = _places([spec], fast=True), _places([spec], fast=False)
    assert full == {sources_place, code_place}, full
    assert fast <= full and code_place in fast
    result = CliRunner().invoke(main, ["validate", str(spec)])
    assert result.exit_code == 1  # invalid spec or inputs
    assert f"{spec}:{code_place[1]}:{code_place[2]}: " in result.stderr and "'Livr'" in result.stderr
    assert f"{spec}:{sources_place[1]}:{sources_place[2]}: sources.images" in result.stderr


# example -> (a unit to spoil, how): units are UCUM expressions; the fast check reads them as a build does
BAD_UNITS = {
    "report-organs.yaml": ("unit: ml}", "unit: millilitre}", "did you mean 'mL'?"),
    "slide-annotations.yaml": ("unit: um2}", "unit: um^2}", "did you mean 'um2'?"),
}


@pytest.mark.parametrize("name", list(BAD_UNITS))
def test_bad_units_are_found_by_the_fast_check_and_with_missing_sources(examples, name):
    """A unit that is not UCUM is an error of the spec alone: ``--fast`` reports it (with the UCUM form it
    probably meant), and a complete check whose sources are missing reports it beside the sources."""
    good, bad, hint = BAD_UNITS[name]
    text = (EXAMPLES / name).read_text()
    assert text.count(good) == 1 and text.count("  images: phantom/") == 1
    for sources in ("  images: phantom/", "  images: no-such-folder/"):
        spec = examples / f"unit-{sources.split()[-1].strip('/')}-{name}"
        changed = text.replace(good, bad).replace("  images: phantom/", sources)
        spec.write_text(changed)
        lines = changed.splitlines()
        line = next(i for i, row in enumerate(lines, 1) if bad in row)
        unit_place = (str(spec), line, lines[line - 1].index(bad) + len("unit: ") + 1)
        fast, full = _places([spec], fast=True), _places([spec], fast=False)
        assert fast == {unit_place}, (fast, unit_place)
        assert unit_place in full and fast <= full
        assert len(full) == (1 if "phantom" in sources else 2), full
        result = CliRunner().invoke(main, ["validate", "--fast", str(spec)])
        assert result.exit_code == 1
        assert f"{spec}:{line}:{unit_place[2]}: " in result.stderr and hint in result.stderr, result.stderr


@pytest.mark.parametrize("spec", sorted(p.name for p in EXAMPLES.glob("*.yaml")))
def test_every_example_passes_the_fast_check(spec):
    result = compile_specs([EXAMPLES / spec], fast=True)
    assert result.errors == [] and result.objects == []


def test_cli_fast_says_what_it_did_not_check(tmp_path, inputs):
    result = CliRunner().invoke(main, ["validate", "--fast", str(_spec(tmp_path, inputs))])
    assert result.exit_code == 0
    assert "pass the fast check" in result.stderr and "without --fast" in result.stderr
    bad = _spec(tmp_path, inputs, category="NotACategory")
    result = CliRunner().invoke(main, ["validate", "--fast", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:10:15: segments[0].category: unknown code keyword 'NotACategory'" in result.stderr
    result = CliRunner().invoke(main, ["validate", "--fast", "--format", "json", str(bad)])
    report = json.loads(result.stdout)
    assert result.exit_code == 1 and report["ok"] is False and report["complete"] is False
    assert [e["line"] for e in report["errors"]] == [10]
    result = CliRunner().invoke(main, ["validate", "--format", "json", str(bad)])
    assert json.loads(result.stdout)["complete"] is True
