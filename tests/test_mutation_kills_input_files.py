"""``resolve/input_files.py`` (a named mask or map file checked before it is read; shared with
``validate --fast``): every refusal word for word, with messages and hints worked out by hand.

Mutation testing (tests/MUTATION.md, fourth pass, entry ``input_files``): its survivors were these texts."""

from __future__ import annotations

from pathlib import Path

import pytest

from dcmspec_compiler.errors import InputError, Location
from dcmspec_compiler.resolve import input_files
from dcmspec_compiler.resolve.input_files import check_magic, check_mask_kind

WHERE = Location("spec.yaml", 9, 9)


def test_an_empty_file_and_a_wrong_start_word_for_word(tmp_path):
    empty = tmp_path / "m.npy"
    empty.write_bytes(b"")
    with pytest.raises(InputError) as raised:
        check_magic(empty, b"\x93NUMPY", "a .npy file", "numpy.save", location=WHERE, path=("mask",))
    e = raised.value
    assert (e.message, e.hint, e.location, e.path) == (
        f"{empty} is empty, not a .npy file",
        "write it with numpy.save",
        WHERE,
        ("mask",),
    )
    text = tmp_path / "t.npy"
    text.write_bytes(b"1 2 3\n4 5 6\n7 8 9\n")
    with pytest.raises(InputError) as raised:
        check_magic(text, b"\x93NUMPY", "a .npy file", "numpy.save", location=WHERE)
    assert raised.value.message == f"{text} is not a .npy file: it starts with '1 2 3\\n4 ', not '\\x93NUMPY'"
    assert raised.value.hint == "write it with numpy.save"
    good = tmp_path / "g.npy"
    good.write_bytes(b"\x93NUMPY\x01\x00")
    check_magic(good, b"\x93NUMPY", "a .npy file", "numpy.save", location=WHERE)


def test_a_file_that_cannot_be_opened_says_why(tmp_path, monkeypatch):
    """The operating system's reason, not Python's whole exception text (as root a permission cannot be
    taken away, so ``open`` is replaced for the module)."""
    path = tmp_path / "m.npy"
    path.write_bytes(b"x")

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(input_files, "open", refuse, raising=False)
    with pytest.raises(InputError) as raised:
        check_magic(path, b"\x93NUMPY", "a .npy file", "numpy.save", location=WHERE)
    assert raised.value.message == f"cannot read {path}: Permission denied" and raised.value.location == WHERE


@pytest.mark.parametrize("kind", ["b", "i", "u", "f"])
def test_mask_kinds_numbers_only(kind):
    check_mask_kind(kind, "x", Path("m.npy"))


@pytest.mark.parametrize("kind", ["c", "O", "U", "S", "V", "M", "m", "X"])
def test_other_kinds_refused(kind):
    with pytest.raises(InputError) as raised:
        check_mask_kind(kind, "complex64", Path("m.npy"), location=WHERE)
    assert raised.value.message == "mask m.npy has values of type complex64; expected booleans, integers or floats"
