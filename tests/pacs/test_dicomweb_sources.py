"""``sources.images: {dicomweb: ...}`` against a real Orthanc (tests/pacs/conftest.py)."""

from __future__ import annotations

from pathlib import Path

from pacs.specs import dcmspec, write_specs


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.dcm"))}


def test_build_from_dicomweb_equals_build_from_files(orthanc, tmp_path):
    """Same headers from WADO-RS metadata as from the files: the same bytes (reproducible UIDs)."""
    from_files = dcmspec("build", *write_specs(tmp_path / "files"), "-o", tmp_path / "out-files")
    assert from_files.exit_code == 0, from_files.stderr
    from_pacs = dcmspec("build", *write_specs(tmp_path / "web", orthanc.dicomweb), "-o", tmp_path / "out-web")
    assert from_pacs.exit_code == 0, from_pacs.stderr
    local, remote = _files(tmp_path / "out-files"), _files(tmp_path / "out-web")
    assert sorted(local) == ["kos-mr.dcm", "pr-ct.dcm", "seg-ct.dcm", "sr-mr.dcm"]
    for name in local:
        assert remote[name] == local[name], name
