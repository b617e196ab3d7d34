"""The header of a ``.npy`` file (shape, dtype, order) read without numpy.

The format (numpy's ``numpy.lib.format``, "NEP 1"): the magic ``\\x93NUMPY``, a major and a minor version
byte, the header length (2 bytes little-endian in version 1, 4 bytes in versions 2 and 3), then a Python
dict literal with the keys ``descr``, ``fortran_order`` and ``shape``. ``dcmspec validate --fast`` needs
only these, so it need not import numpy (about 0.1 s of start-up). tests/test_npy_header.py compares the
answers with numpy's own reader.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any, NamedTuple

MAGIC = b"\x93NUMPY"
_MAX_HEADER = 1 << 20  # numpy refuses headers above 10 kB unless told; a megabyte is not a .npy header


class NpyHeader(NamedTuple):
    shape: tuple[int, ...]
    descr: Any  # a type string such as '<i2' or '|b1'; a list for a structured dtype
    fortran_order: bool

    @property
    def kind(self) -> str:
        """numpy's ``dtype.kind`` of a plain dtype ('b', 'i', 'u', 'f', 'c', 'O', ...); 'V' if structured."""
        if isinstance(self.descr, str) and len(self.descr) >= 2:
            return self.descr[1] if self.descr[0] in "<>|=" else self.descr[0]
        return "V"


def read_npy_header(file: Path) -> NpyHeader:
    """The header of ``file``; ``ValueError`` with numpy's kind of message when it is not a valid one."""
    with open(file, "rb") as fh:
        head = fh.read(len(MAGIC) + 2)
        if len(head) < len(MAGIC) + 2 or not head.startswith(MAGIC):
            raise ValueError("the magic string is not correct; expected b'\\x93NUMPY'")
        major = head[len(MAGIC)]
        if major not in (1, 2, 3):
            raise ValueError(f"we only support format version (1,0), (2,0), and (3,0), not ({major},{head[-1]})")
        size_bytes = 2 if major == 1 else 4
        raw_size = fh.read(size_bytes)
        if len(raw_size) < size_bytes:
            raise ValueError("EOF before the header length")
        size = int.from_bytes(raw_size, "little")
        if size > _MAX_HEADER:
            raise ValueError(f"header of {size} bytes is too long")
        raw = fh.read(size)
    if len(raw) < size:
        raise ValueError(f"EOF: reading the array header, expected {size} bytes got {len(raw)}")
    try:
        text = raw.decode("utf8" if major == 3 else "latin1")
        header = ast.literal_eval(text)
    except (UnicodeDecodeError, ValueError, SyntaxError, MemoryError, RecursionError) as exc:
        raise ValueError(f"cannot parse header: {raw!r}") from exc
    if not isinstance(header, dict) or set(header) != {"descr", "fortran_order", "shape"}:
        raise ValueError(f"header does not contain exactly the keys descr, fortran_order, shape: {header!r}")
    shape = header["shape"]
    if not isinstance(shape, tuple) or not all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape
    ):
        raise ValueError(f"shape is not valid: {shape!r}")
    if not isinstance(header["fortran_order"], bool):
        raise ValueError(f"fortran_order is not a valid bool: {header['fortran_order']!r}")
    if not isinstance(header["descr"], (str, list)):
        raise ValueError(f"descr is not a valid dtype descriptor: {header['descr']!r}")
    return NpyHeader(shape, header["descr"], header["fortran_order"])
