"""The wheel ships every subpackage, the schemas and the starters; start-up imports nothing heavy."""

from __future__ import annotations

import subprocess
import sys
import zipfile

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser from PyPI (test extra)
    import tomli as tomllib

from conftest import ROOT


def test_every_package_folder_is_listed_in_pyproject():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    folders = {
        "dcmspec_compiler"
        + ("." + ".".join(p.parent.relative_to(ROOT / "compiler").parts) if p.parent != ROOT / "compiler" else "")
        for p in (ROOT / "compiler").rglob("__init__.py")
    }
    assert folders <= listed, sorted(folders - listed)


def test_wheel_contains_schemas_and_starters(tmp_path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(ROOT),
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("dcmspec_compiler-*.whl")
    archive = zipfile.ZipFile(wheel)
    names = set(archive.namelist())
    schemas = sorted((ROOT / "schemas").glob("*.schema.json"))
    assert schemas
    for schema in schemas:
        assert archive.read(f"dcmspec_compiler/schemas/{schema.name}") == schema.read_bytes()
    for starter in (ROOT / "compiler" / "starters").glob("*.yaml"):
        assert archive.read(f"dcmspec_compiler/starters/{starter.name}") == starter.read_bytes()
    assert "dcmspec_compiler/iods/seg/segmentation.py" in names
    assert "dcmspec_compiler/resolve/code_dictionary.txt" in names
    assert "dcmspec_compiler/py.typed" in names  # PEP 561: type checkers read our inline types


def test_installed_compiler_reads_the_schemas_it_ships(tmp_path):
    """Unpacked from the wheel (not the editable checkout, where both paths are one file), the compiler
    finds its schemas inside the package and they are the checkout's schemas/ byte for byte."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(ROOT),
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("dcmspec_compiler-*.whl")
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import dcmspec_compiler.validate.schemas as s;"
        " print(s.__file__); print(s.schema_dir())"
    )
    proc = subprocess.run(
        [sys.executable, "-I", "-c", code, str(site)], check=True, capture_output=True, text=True, cwd=tmp_path
    )
    module_file, folder = proc.stdout.splitlines()
    assert module_file.startswith(str(site)) and folder == str(site / "dcmspec_compiler" / "schemas")
    for schema in (ROOT / "schemas").glob("*.schema.json"):
        assert (site / "dcmspec_compiler" / "schemas" / schema.name).read_bytes() == schema.read_bytes()


def test_help_imports_nothing_heavy():
    code = (
        "import sys; from dcmspec_compiler.cli import main\n"
        "heavy = [m for m in ('numpy', 'pydicom', 'jsonschema', 'yaml') if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


def test_names_do_not_clash_with_the_pypi_project_dcmspec():
    """PyPI's `dcmspec` (import package `dcmspec`) is another project: our distribution and import names
    differ, and no text we ship tells users to `pip install dcmspec...` (it would fetch that project)."""
    import re

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["name"] == "dcmspec-compiler"
    assert project["project"]["scripts"] == {"dcmspec": "dcmspec_compiler.entry:run"}
    assert "dcmspec" not in project["tool"]["setuptools"]["packages"]
    bad = re.compile(r"pip install\s+[\"']?dcmspec(?![-_])")
    texts = [
        ROOT / "README.md",
        *(ROOT / "docs").rglob("*.md"),
        *(ROOT / "compiler").rglob("*.py"),
        *(ROOT / "compiler").rglob("*.yaml"),
    ]
    offenders = [str(p) for p in texts if bad.search(p.read_text(encoding="utf-8"))]
    assert offenders == []
    # dcmspec-compiler is not on PyPI yet (README: install from a clone), so no text says `pip install
    # dcmspec-compiler[extra]` either: it would fail, or fetch whatever takes that name
    unpublished = re.compile(r"pip install\s+[\"']?dcmspec-compiler")
    assert [str(p) for p in texts if unpublished.search(p.read_text(encoding="utf-8"))] == []
