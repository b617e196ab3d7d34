"""ruff, configured in pyproject.toml ([tool.ruff]): its linter finds nothing and its formatter changes nothing.

So the README's test command catches lint errors. ruff comes with the `dev` extra (pinned to a minor
version: new minor versions add rules); without it this test skips outside CI and fails in CI.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from conftest import ROOT, require_tool

INSTALL = "pip install '.[dev]'"


def _ruff(*args: str) -> subprocess.CompletedProcess:
    exe = require_tool("ruff", INSTALL)
    # --no-cache: the test leaves no .ruff_cache behind in the checkout
    return subprocess.run(
        [exe, "check", "--no-cache", "--output-format", "concise", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_ruff_finds_nothing():
    proc = _ruff(".")
    assert proc.returncode == 0, f"ruff check . (fix these, or `# noqa: CODE  reason`):\n{proc.stdout}{proc.stderr}"


def test_the_configuration_finds_a_planted_violation(tmp_path: Path):
    """The configuration is read and selects rules: an unused import and an unsorted import block fail."""
    planted = tmp_path / "planted.py"
    planted.write_text("import sys\nimport os\n\nprint(os.sep)\n", encoding="utf-8")
    proc = _ruff("--config", str(ROOT / "pyproject.toml"), str(planted))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "F401" in proc.stdout and "I001" in proc.stdout, proc.stdout


def _ruff_format(*args: str) -> subprocess.CompletedProcess:
    exe = require_tool("ruff", INSTALL)
    return subprocess.run(
        [exe, "format", "--no-cache", "--check", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def test_ruff_format_leaves_every_file_as_it_is():
    proc = _ruff_format(".")
    assert proc.returncode == 0, f"run `ruff format .`:\n{proc.stdout}{proc.stderr}"


def test_ruff_format_check_finds_a_planted_layout(tmp_path: Path):
    planted = tmp_path / "planted.py"
    planted.write_text("x = {  'a':1 }\n", encoding="utf-8")
    proc = _ruff_format("--config", str(ROOT / "pyproject.toml"), str(planted))
    assert proc.returncode == 1 and "would be reformatted" in proc.stdout + proc.stderr, proc.stdout + proc.stderr
