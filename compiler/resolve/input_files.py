"""Checks of a named input file before it is read, shared by the mask readers (``masks.py``, which
imports numpy) and ``dcmspec validate --fast`` (which does not): the file exists and is a regular file,
and it starts as its format does."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InputError
from ..io.files import file_kind

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from ..errors import ErrorAt


def check_input_file(file: Path, what: str, /, **where: Unpack[ErrorAt]) -> None:
    """Refuse a ``what`` file that is missing (saying the path looked for and what a relative path is relative
    to) or is not a regular file; ``where``: ``location`` and ``path`` of the spec value naming it."""
    kind = file_kind(file)
    location = where.get("location")
    if kind == "missing":
        written_in = Path(location.file).parent if location is not None and location.file else None
        relative = (
            f"a relative {what} path is relative to the folder of the spec file that names it"
            f" ({written_in}), not to the current folder; "
            if written_in is not None
            else ""
        )
        raise InputError(f"{what} file not found: {file}", **where, hint=f"{relative}looked for {file.absolute()}")
    if kind != "a regular file":
        raise InputError(f"{what} {file} is {kind}, not a regular file", hint=f"name a {what} file", **where)


def check_magic(file: Path, magic: bytes, what: str, how: str, **where: Unpack[ErrorAt]) -> None:
    """Refuse a file that does not start as ``what`` does (numpy's own message for a text file saved as
    .npy speaks of pickled data), saying what it starts with instead."""
    try:
        with open(file, "rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise InputError(f"cannot read {file}: {exc.strerror or exc}", **where) from exc
    if not head:
        raise InputError(f"{file} is empty, not {what}", hint=f"write it with {how}", **where)
    if not head.startswith(magic):
        raise InputError(
            f"{file} is not {what}: it starts with {repr(head[:8])[1:]}, not {repr(magic)[1:]}",
            hint=f"write it with {how}",
            **where,
        )


def check_mask_shape(shape: tuple[int, ...], file: Path, /, **where: Unpack[ErrorAt]) -> None:
    """Refuse a mask array that has not 2 ([row, column], one frame), 3 ([frame, row, column]) or 4 axes (a
    trailing channel axis): the one rule of the loaded array (``masks.py``) and of its .npy header (``--fast``)."""
    if len(shape) not in (2, 3, 4):
        raise InputError(
            f"mask {file} has shape {shape}; expected [frame, row, column] (or [row, column] "
            "for one frame, or a trailing channel axis)",
            **where,
        )


def check_mask_kind(kind: str, type_name: str, file: Path, /, **where: Unpack[ErrorAt]) -> None:
    """Refuse mask values that are not booleans, integers or floats (numpy dtype ``kind`` "b", "i", "u", "f");
    ``type_name`` is how the message names the type."""
    if kind not in "biuf":
        raise InputError(f"mask {file} has values of type {type_name}; expected booleans, integers or floats", **where)
