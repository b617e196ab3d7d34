"""The README's install and test commands, run on a clean clone in a new venv, run every Python-side test.

Marked ``fresh_clone``: deselected by default (it takes minutes and downloads from PyPI), run by ``.ci/run``
with ``python -m pytest -q -m fresh_clone``. It clones the committed HEAD of this repository into a
temporary folder (so no ``../shared`` beside it, and uncommitted changes are not part of it), makes a venv
without system site packages, runs the commands of the README's 'Tests' code block there, and fails on any
skipped test except one that names a missing system tool (:func:`conftest.require_tool`; with ``CI=true``
those fail instead of skipping).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, TOOL_SKIP


def readme_test_commands(readme: Path) -> list[str]:
    """The command lines of the first ```sh block of the README's 'Tests' section."""
    section = readme.read_text(encoding="utf-8").split("\n## Tests\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "the README's 'Tests' section has no ```sh block"
    return [
        line.split(" #")[0].strip()
        for line in block.group(1).splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def skipped_reasons(pytest_output: str) -> list[str]:
    """Reasons of the skipped tests in pytest's short summary (``-ra``), one per test."""
    reasons = []
    for count, reason in re.findall(r"^SKIPPED \[(\d+)\] [^:]+:\d+: (.*)$", pytest_output, re.M):
        reasons += [reason] * int(count)
    return reasons


def summary_count(pytest_output: str, word: str) -> int:
    last = pytest_output.strip().splitlines()[-1]
    found = re.search(rf"(\d+) {word}", last)
    return int(found.group(1)) if found else 0


def test_the_guide_shows_the_readme_test_commands():
    """The guide's Tests page (docs/guide/tests.md) gives the same commands as the README's 'Tests' section."""
    page = (ROOT / "docs" / "guide" / "tests.md").read_text(encoding="utf-8")
    block = re.search(r"```sh\n(.*?)```", page, re.S)
    assert block
    commands = [line.split(" #")[0].strip() for line in block.group(1).splitlines() if line.strip()]
    assert commands == readme_test_commands(ROOT / "README.md")


@pytest.mark.fresh_clone
def test_readme_commands_run_every_python_test_on_a_fresh_clone(tmp_path):
    clone = tmp_path / "work" / "dcmspec"
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(clone)], check=True)
    assert not (clone.parent / "shared").exists()
    commands = readme_test_commands(clone / "README.md")
    assert commands[0].startswith("pip install") and commands[-1].startswith("python -m pytest"), commands

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTHON", "VIRTUAL_ENV", "DCMSPEC_", "PIP_USER", "PYTEST_"))
    }
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", VIRTUAL_ENV=str(venv))
    for command in commands:
        proc = subprocess.run(["bash", "-c", command], cwd=clone, env=env, capture_output=True, text=True, timeout=1800)
        assert proc.returncode == 0, f"`{command}` failed:\n{proc.stdout[-6000:]}\n{proc.stderr[-4000:]}"

    output = proc.stdout
    assert summary_count(output, "passed") > 0 and summary_count(output, "failed") == 0, output[-3000:]
    reasons = skipped_reasons(output)
    assert len(reasons) == summary_count(output, "skipped"), output[-3000:]
    not_tools = [r for r in reasons if not r.startswith(TOOL_SKIP)]
    assert not_tools == [], "Python-side tests skipped on a fresh clone:\n" + "\n".join(not_tools)


def test_skip_reasons_are_read_from_pytest_summary():
    """The parser above, on a summary as pytest -ra prints it (so that the test above cannot pass blind)."""
    output = (
        "SKIPPED [2] tests/test_a.py:10: system tool not installed: dsrdump (install it with: x)\n"
        "SKIPPED [1] tests/conftest.py:28: test data not available\n"
        "3 passed, 3 skipped in 1.0s\n"
    )
    assert skipped_reasons(output) == ["system tool not installed: dsrdump (install it with: x)"] * 2 + [
        "test data not available"
    ]
    assert (summary_count(output, "passed"), summary_count(output, "skipped")) == (3, 3)
