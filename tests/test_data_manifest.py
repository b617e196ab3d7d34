"""tests/data holds third-party files only with their provenance: every file has its MANIFEST.json entry
(same size) and its MANIFEST.md row, and every entry names a file that is there."""

from __future__ import annotations

import json

from conftest import DATA

NOT_DATA = {"MANIFEST.md", "MANIFEST.json"}


def _data_files() -> set[str]:
    return {
        p.relative_to(DATA).as_posix()
        for p in DATA.rglob("*")
        if p.is_file() and p.name not in NOT_DATA and p.relative_to(DATA).parts[0] != "LICENSES"
    }


def test_every_data_file_has_its_manifest_entry_and_row():
    entries = {e["file"]: e for e in json.loads((DATA / "MANIFEST.json").read_text())}
    files = _data_files()
    assert files == set(entries)
    for name in files:
        assert (DATA / name).stat().st_size == entries[name]["size"], name
    table = (DATA / "MANIFEST.md").read_text()
    for name in files:
        folder = name.rsplit("/", 1)[0] + "/"
        assert f"`{name}`" in table or f"`{folder}`" in table, f"no MANIFEST.md row for {name}"


def test_licence_file_for_every_source():
    sources = {e["source"].split("@")[0] for e in json.loads((DATA / "MANIFEST.json").read_text())}
    licences = {p.name.lower() for p in (DATA / "LICENSES").iterdir()}
    for source in sources:
        key = {"usnistgov/iheos-toolkit2": "nist-iheos-toolkit2"}.get(source, source.split("/")[-1]).lower()
        assert any(name.startswith(key + "-") for name in licences), f"no licence in LICENSES/ for {source}"
