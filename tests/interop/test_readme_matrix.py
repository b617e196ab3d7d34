"""The guide's conformance page (docs/guide/conformance-measured.md) shows the interop matrix exactly as the
tests assert it (matrix.py), over every object the matrix builds."""

from __future__ import annotations

from pathlib import Path

from .matrix import CONSUMERS, EXPECTED, render
from .objects import define

ROOT = Path(__file__).resolve().parents[2]


def test_the_guide_shows_the_matrix(tmp_path):
    objects = define(tmp_path, tmp_path)  # only the titles are used; nothing is built
    assert [o.name for o in objects] == list(EXPECTED)
    assert all(set(row) == set(CONSUMERS) for row in EXPECTED.values())
    table = render({o.name: o.title for o in objects})
    page = (ROOT / "docs" / "guide" / "conformance-measured.md").read_text()
    assert table in page, "the guide's interop matrix differs from tests/interop/matrix.py; paste:\n" + table
