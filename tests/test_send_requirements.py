"""`build --store/--stow` checks what sending needs before it builds (like an existing output file):
without the pacs extra's package, or with a malformed address, nothing is built and nothing is written.

The package is hidden from a fresh interpreter by an import hook (it IS installed here: the test extra);
the oracles are the file system (no file in OUTPUT) and the exit-code table of
docs/guide/commands-errors-and-exit-codes.md, read from the page."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

SPEC = ROOT / "specs_examples" / "organs-binary.yaml"
HIDE = """
import sys
class Hide:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == {module!r}:
            raise ImportError("hidden by the test: " + name)
sys.meta_path.insert(0, Hide())
sys.modules.pop({module!r}, None)
from dcmspec_compiler.cli import main
main(sys.argv[1:])
"""


def _table_code(words: str) -> int:
    """The exit code whose row of the table in the guide contains ``words``."""
    page = (ROOT / "docs" / "guide" / "commands-errors-and-exit-codes.md").read_text()
    rows = [m for m in re.finditer(r"^\| (\d) \| (.*) \|$", page, re.MULTILINE) if words in m.group(2)]
    assert len(rows) == 1, words
    return int(rows[0].group(1))


def _build(tmp_path: Path, module: str, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-c",
            HIDE.format(module=module),
            "build",
            str(SPEC),
            "-q",
            "-o",
            str(tmp_path / "out"),
            *options,
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )


@pytest.mark.parametrize(
    ("module", "options"),
    [("pynetdicom", ["--store", "localhost:1:PACS"]), ("requests", ["--stow", "http://localhost:1/dicom-web"])],
)
def test_a_missing_pacs_package_is_refused_before_anything_is_written(tmp_path, module, options):
    run = _build(tmp_path, module, *options)
    assert run.returncode == _table_code("`--store` without the pacs extra"), run.stderr
    assert f"needs the Python package {module}, which is not installed" in run.stderr
    assert """pip install '.[pacs]'""" in run.stderr  # the extra of pyproject.toml
    assert "Traceback" not in run.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_the_hook_hides_only_what_it_names(tmp_path):
    """The same build, the package hidden but not needed: it writes its file (the hook is not the cause)."""
    run = _build(tmp_path, "pynetdicom")
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "out" / "organs-binary.dcm").exists() or any((tmp_path / "out").glob("*.dcm"))


@pytest.mark.parametrize("address", ["localhost:PACS", "localhost:0:PACS", "localhost:104:", "host:104:" + "A" * 17])
def test_a_malformed_store_address_is_refused_before_anything_is_written(tmp_path, address):
    run = _build(tmp_path, "nothing-hidden", "--store", address)
    assert run.returncode == _table_code("command-line usage error"), run.stderr
    assert "is not" in run.stderr and "--store" in run.stderr
    assert not (tmp_path / "out").exists()
