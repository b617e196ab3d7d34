"""One version, everywhere: pyproject reads ``__version__``, the command prints it, the CHANGELOG has a place
for it, and every object of every spec kind says in Software Versions (0018,1020) which dcmspec made it.

The oracle for "the installed version" is the distribution's metadata (``importlib.metadata``, written by
pip from pyproject.toml at install time), not ``dcmspec_compiler.__version__`` itself.
"""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys

import pydicom

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser from PyPI (test extra)
    import tomli as tomllib

import dcmspec_compiler
from dcmspec_compiler.assemble.context import BuildOptions
from dcmspec_compiler.pipeline import build_specs, collect_spec_files
from dcmspec_compiler.validate.schemas import KINDS

from conftest import ROOT

INSTALLED = importlib.metadata.version("dcmspec-compiler")


def test_the_version_has_one_source():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "dcmspec_compiler.__version__"}
    assert dcmspec_compiler.__version__ == INSTALLED
    # one literal: no other file of the package or pyproject.toml spells the version
    spelled = [
        p
        for p in [ROOT / "pyproject.toml", *(ROOT / "compiler").rglob("*.py")]
        if f'"{INSTALLED}"' in p.read_text(encoding="utf-8")
    ]
    assert spelled == [ROOT / "compiler" / "__init__.py"], spelled


def test_dcmspec_version_prints_the_installed_version():
    out = subprocess.run(
        [sys.executable, "-m", "dcmspec_compiler", "--version"], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == f"dcmspec, version {INSTALLED}"


def test_changelog_follows_keep_a_changelog():
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert text.startswith("# Changelog\n") and "## [Unreleased]" in text
    sections = re.findall(r"^### (.+)$", text, re.M)
    assert sections and set(sections) <= {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}


def test_every_object_of_every_kind_names_the_dcmspec_that_made_it(tmp_path):
    """Build every example; each object's Software Versions ends with ``dcmspec <installed version>``, after
    the spec's own ``equipment.software_versions`` when it has them (kept, in order)."""
    result = build_specs(collect_spec_files([ROOT / "specs_examples"]), tmp_path, options=BuildOptions())
    assert not result.errors, "\n".join(e.format() for e in result.errors)
    kind_of = {o.filename: o.kind for o in result.objects}
    kinds = set()
    for path in sorted(tmp_path.rglob("*.dcm")):
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        values = ds.SoftwareVersions if ds["SoftwareVersions"].VM > 1 else [ds.SoftwareVersions]
        assert values[-1] == f"dcmspec {INSTALLED}", (path.name, values)
        kinds.add(kind_of[path.relative_to(tmp_path).as_posix()])
        if path.stem == "key-objects":  # its spec says software_versions: "2.1"
            assert list(values) == ["2.1", f"dcmspec {INSTALLED}"]
    assert kinds == set(KINDS), f"specs_examples/ has no example of {sorted(set(KINDS) - kinds)}"
