"""The test oracles themselves: a validator that cannot read a file must fail the test, never pass it,
and tools are found beside the running Python before PATH (an unactivated venv still finds its own)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import conftest
from conftest import dciodvfy_findings, dsrdump_errors, find_tool


def test_dciodvfy_helper_fails_on_a_file_it_cannot_open(tmp_path):
    errors, _ = dciodvfy_findings(tmp_path / "absent.dcm")  # dciodvfy: "Abort - File open for read failed"
    assert errors and any("Abort" in e or "status" in e for e in errors)


def test_dciodvfy_helper_fails_on_a_file_that_is_not_dicom(tmp_path):
    path = tmp_path / "garbage.dcm"
    path.write_bytes(b"not a DICOM file at all\n" * 4)
    errors, _ = dciodvfy_findings(path)
    assert errors


def test_dsrdump_helper_fails_on_a_file_it_cannot_read(tmp_path):
    path = tmp_path / "garbage.dcm"
    path.write_bytes(b"not a DICOM file at all\n" * 4)
    assert dsrdump_errors(path)


def _fake_tool(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    tool = folder / name
    tool.write_text("#!/bin/sh\nexit 0\n")
    tool.chmod(0o755)
    return tool


def test_tools_are_found_beside_the_python_first_then_on_path(tmp_path, monkeypatch):
    venv_bin = tmp_path / "venv" / "bin"
    beside = _fake_tool(venv_bin, "dcmspec-fake-tool")
    on_path = _fake_tool(tmp_path / "elsewhere", "dcmspec-fake-tool")
    (venv_bin / "python").symlink_to(sys.executable)
    monkeypatch.setattr(conftest.sys, "executable", str(venv_bin / "python"))
    monkeypatch.setenv("PATH", str(on_path.parent) + os.pathsep + os.environ.get("PATH", ""))
    assert find_tool("dcmspec-fake-tool") == str(beside)  # not activated: PATH does not name venv/bin
    beside.unlink()
    assert find_tool("dcmspec-fake-tool") == str(on_path)
    assert find_tool("dcmspec-fake-tool", exclude=(str(on_path),)) is None
