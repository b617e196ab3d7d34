"""Mutation kills for compiler/resolve/source_files.py (tests/MUTATION.md, fourth pass).

Oracles: the file tree made here (what each call must return, worked out by hand), PS3.10 7.1 for what a
DICOM file starts with ("DICM" after a 128-byte preamble) and PS3.5 7.1.2/7.1.3 for a preamble-less data
set (a group 0002 or 0008 tag, then an explicit VR of two upper-case letters or a 32-bit length), and every
message, hint and spec path word for word.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest

from dcmspec_compiler.errors import InputError, Location
from dcmspec_compiler.resolve import source_files
from dcmspec_compiler.resolve.source_files import find_source_files, looks_like_dicom

PART10 = b"\0" * 128 + b"DICM" + b"\x02\x00\x00\x00UL\x04\x00\x00\x00\x00\x00"


@pytest.fixture
def tree(tmp_path) -> Path:
    """a/1.dcm a/2 (DICOM), a/notes.txt, a/.h.dcm, a/DICOMDIR, a/.git/x.dcm, a/sub/3.dcm, b/4.dcm."""
    for rel in ("a/1.dcm", "a/2", "a/.h.dcm", "a/DICOMDIR", "a/.git/x.dcm", "a/sub/3.dcm", "b/4.dcm"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(PART10)
    (tmp_path / "a" / "notes.txt").write_text("no DICOM in here, and long enough to be read " * 4)
    return tmp_path


def names(paths, base) -> list[str]:
    return [str(p.relative_to(base)) for p in paths]


def test_a_folder_is_walked_in_order_without_hidden_files_and_dicomdir(tree):
    found = find_source_files("a", tree)
    assert names(found, tree) == ["a/1.dcm", "a/2", "a/sub/3.dcm"]
    assert all(p.is_absolute() for p in found)
    assert source_files._walk(tree / "a") == ([tree / "a/1.dcm", tree / "a/2", tree / "a/sub/3.dcm"], 3)


def test_globs_lists_and_absolute_paths(tree):
    assert names(find_source_files("a/*.dcm", tree), tree) == ["a/1.dcm"]  # .h.dcm hidden
    assert names(find_source_files("a/?", tree), tree) == ["a/2"]
    assert names(find_source_files("a/[12]*", tree), tree) == ["a/1.dcm", "a/2"]
    assert names(find_source_files("**/*.dcm", tree), tree) == ["a/1.dcm", "a/sub/3.dcm", "b/4.dcm"]
    assert names(find_source_files("*", tree), tree) == ["a/1.dcm", "a/2", "a/sub/3.dcm", "b/4.dcm"]
    assert names(find_source_files(["b", "a/1.dcm", "b/4.dcm"], tree), tree) == ["a/1.dcm", "b/4.dcm"]
    assert names(find_source_files(str(tree / "b"), Path("/nowhere")), tree) == ["b/4.dcm"]
    assert names(find_source_files("a/notes.txt", tree), tree) == ["a/notes.txt"]  # named: checked later
    assert names(find_source_files("a/DICOMDIR", tree), tree) == ["a/DICOMDIR"]


def test_a_relative_base_gives_absolute_paths(tree, monkeypatch):
    monkeypatch.chdir(tree)
    found = find_source_files("b", Path("."))
    assert found == [tree / "b" / "4.dcm"]
    assert find_source_files("a/*.dcm", Path(".")) == [tree / "a" / "1.dcm"]


def test_home_is_expanded(tree, monkeypatch):
    monkeypatch.setenv("HOME", str(tree))
    assert find_source_files("~/b", Path("/nowhere")) == [tree / "b" / "4.dcm"]


def test_messages_word_for_word(tree):
    at = Location("spec.yaml", 3, 5)
    with pytest.raises(InputError) as err:
        find_source_files("missing", tree, location=at, spec_path=("sources", "images"))
    assert err.value.message == f"source images not found: {tree / 'missing'} does not exist"
    assert err.value.hint == f"paths are relative to the spec's folder ({tree})"
    assert err.value.path == ("sources", "images") and err.value.location == at
    (tree / "c").mkdir()
    (tree / "c" / "x.txt").write_text("text " * 40)
    (tree / "c" / ".y").write_bytes(PART10)
    hint = (
        "point 'sources.images' at a DICOM file, a folder of DICOM files or a glob such as 'ct/*.dcm'; "
        f"relative paths start at {tree}"
    )
    with pytest.raises(InputError) as err:
        find_source_files(["b", "c"], tree, location=at, spec_path=("sources", "images"))
    assert err.value.message == f"no DICOM files in the folder {tree / 'c'} (2 non-DICOM or hidden files skipped)"
    assert err.value.hint == hint and err.value.path == ("sources", "images", 1) and err.value.location == at
    with pytest.raises(InputError) as err:
        find_source_files("c/*.txt", tree)
    assert (
        err.value.message
        == f"no DICOM files match the pattern {tree / 'c' / '*.txt'} (1 non-DICOM or hidden files skipped)"
    )
    (tree / "d").mkdir()
    with pytest.raises(InputError) as err:
        find_source_files("d", tree)
    assert err.value.message == f"no DICOM files in the folder {tree / 'd'}"
    with pytest.raises(InputError) as err:
        find_source_files("d/*", tree)
    assert err.value.message == f"no DICOM files match the pattern {tree / 'd' / '*'}"
    assert err.value.path == ()


def test_a_glob_reaching_a_folder_walks_it(tree):
    assert names(find_source_files("a/su*", tree), tree) == ["a/sub/3.dcm"]
    (tree / "a" / "sub" / "n.txt").write_text("text " * 40)
    with pytest.raises(InputError) as err:
        find_source_files("a/su*/n*", tree)
    assert err.value.message.endswith("(1 non-DICOM or hidden files skipped)")


def test_a_fifo_is_named_and_never_read(tree):
    os.mkfifo(tree / "pipe")
    with pytest.raises(InputError) as err:
        find_source_files("pipe", tree, spec_path=("s",))
    assert err.value.message == f"{tree / 'pipe'} is a FIFO, not a DICOM file or folder"
    assert err.value.hint == "source images are read from regular files only"
    assert err.value.path == ("s",)
    assert not looks_like_dicom(tree / "pipe")


def test_too_many_files(tree, monkeypatch):
    monkeypatch.setattr(source_files, "MAX_FILES_SCANNED", 3)
    hint = "point 'sources.images' at the folder of the series (or a glob such as 'ct/*.dcm')"
    with pytest.raises(InputError) as err:
        find_source_files("a", tree, spec_path=("s",))
    assert err.value.message == f"more than 3 files under {tree / 'a'}: not a series folder"
    assert err.value.hint == hint and err.value.path == ("s",)
    with pytest.raises(InputError) as err:
        find_source_files("**/*", tree)
    assert err.value.message == f"more than 3 files under {tree / '**'}: not a series folder"  # the glob's parent
    assert names(find_source_files("a/sub", tree), tree) == ["a/sub/3.dcm"]  # 1 file: fine
    monkeypatch.setattr(source_files, "MAX_FILES_SCANNED", 4)  # a: 4 files (1.dcm 2 .h.dcm DICOMDIR notes.txt)
    with pytest.raises(InputError):
        find_source_files("a", tree)
    monkeypatch.setattr(source_files, "MAX_FILES_SCANNED", 7)
    assert len(find_source_files("a", tree)) == 3
    monkeypatch.setattr(source_files, "MAX_FILES_SCANNED", 3)
    assert len(find_source_files("b/*", tree)) == 1


def element(group: int, elem: int, rest: bytes) -> bytes:
    return struct.pack("<HH", group, elem) + rest


@pytest.mark.parametrize(
    ("data", "dicom"),
    [
        (PART10, True),
        (b"\0" * 128 + b"DICM", True),  # 132 bytes: the marker only
        (b"\0" * 128 + b"DICN" + b"\0" * 20, False),
        (element(0x0008, 0x0005, b"CS\x0a\x00ISO_IR 100"), True),  # explicit VR, group 0008
        (element(0x0002, 0x0000, b"UL\x04\x00\x00\x00\x00\x00"), True),  # explicit VR, group 0002
        (element(0x0008, 0x0016, struct.pack("<L", 26) + b"1.2"), True),  # implicit VR, a short length
        (element(0x0008, 0x0016, struct.pack("<L", (1 << 24) - 1)), True),
        (element(0x0008, 0x0016, struct.pack("<L", 1 << 24)), False),  # an implausible length
        (element(0x0008, 0x0016, b"cs\x00\x01"), False),  # lower-case "VR", length 0x01007363
        (element(0x0008, 0x0016, b"C1\x00\x01"), False),  # not two letters: length 0x01003143
        (element(0x0010, 0x0010, b"PN\x00\x00"), False),  # group 0010 first
        (element(0x0008, 0x0016, b"UI\x00"), False),  # 7 bytes
        (element(0x0008, 0x0016, b"UI\x00\x00"), True),  # 8 bytes: "UI" and a zero length
        (b"", False),
    ],
)
def test_looks_like_dicom_by_hand(tmp_path, data, dicom):
    path = tmp_path / "f"
    path.write_bytes(data)
    assert looks_like_dicom(path) is dicom
    assert looks_like_dicom(tmp_path / "absent") is False


# ---- the lead's fourth-pass run of source_files (22 survivors): the cases below, worked out by hand
_DICM = b"\0" * 128 + b"DICM" + b"\x02\x00\x00\x00UL\x04\x00\x00\x00\x00\x00"


def _files(folder: Path, names: dict[str, bytes]) -> None:
    for name, data in names.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)


def test_a_named_file_with_x_in_its_name_is_taken_as_named(tmp_path):
    """Only ``*``, ``?`` and ``[`` make a glob: a file named explicitly is returned as is, even when it does
    not look like DICOM (its header is read, and refused, later)."""
    _files(tmp_path, {"XRAY.dat": b"not dicom"})
    assert find_source_files("XRAY.dat", tmp_path) == [tmp_path / "XRAY.dat"]


def test_globs_skip_dicomdir_and_hidden_files_and_count_what_they_skip(tmp_path):
    _files(
        tmp_path,
        {
            "s/DICOMDIR": _DICM,
            "s/.hidden.dcm": _DICM,
            "s/CT1.dcm": _DICM,
            "s/a/j1": b"junk",
            "s/a/j2": b"junk",
            "s/b.txt": b"junk",
            "s/c/j3": b"junk",
        },
    )
    assert find_source_files("s/*", tmp_path) == [tmp_path / "s" / "CT1.dcm"]
    with pytest.raises(InputError) as raised:
        find_source_files("s/[abc]*", tmp_path)
    # a/ (2 skipped), b.txt (1), c/ (1), in that order: the counts add up
    assert (
        raised.value.message
        == f"no DICOM files match the pattern {tmp_path / 's' / '[abc]*'} (4 non-DICOM or hidden files skipped)"
    )


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\x08\x00\x16\x00UI\x00\xff", True),  # explicit VR "UI", a long value: the letters decide
        (b"\x08\x00\x16\x00UIa\xff", True),  # only bytes 4-5 are the VR
        (b"\x08\x00\x16\x001A\xff\xff", False),  # "1A" is no VR, and 0xffff4131 is no plausible length
        (b"\x08\x00\x16\x00aB\xff\xff", False),  # a VR is upper case
        (b"\x08\x00\x16\x00\x0a\x00\x00\x00", True),  # implicit VR, length 10
    ],
)
def test_looks_like_dicom_reads_the_vr_bytes_only(tmp_path, head, expected):
    path = tmp_path / "f"
    path.write_bytes(head + b"\0" * 16)
    assert looks_like_dicom(path) is expected


def test_the_file_limit_is_checked_across_subfolders_and_at_its_edge(tmp_path, monkeypatch):
    assert source_files.MAX_FILES_SCANNED == 200_000  # the limit the error message states
    monkeypatch.setattr(source_files, "MAX_FILES_SCANNED", 3)
    _files(tmp_path, {"ok/1": _DICM, "ok/2": _DICM, "ok/3": _DICM, "many/a/1": _DICM, "many/a/2": _DICM})
    _files(tmp_path, {"many/b/3": _DICM, "many/b/4": _DICM})
    assert len(find_source_files("ok", tmp_path)) == 3  # exactly the limit
    assert len(find_source_files("ok/*", tmp_path)) == 3
    for spec in ("many", "many/*/*"):
        with pytest.raises(InputError) as raised:
            find_source_files(spec, tmp_path)
        assert raised.value.message.startswith("more than 3 files under "), raised.value.message


def test_a_pattern_that_names_hidden_files_still_skips_them(tmp_path):
    """glob's ``*`` leaves dot-files out by itself; a pattern starting with a dot reaches them, and they are
    skipped as every hidden entry is (a copy tool's ``.CT1.dcm.part``, say)."""
    _files(tmp_path, {"s/.hidden.dcm": _DICM})
    with pytest.raises(InputError) as raised:
        find_source_files("s/.h*", tmp_path)
    assert raised.value.message.endswith("(1 non-DICOM or hidden files skipped)")
