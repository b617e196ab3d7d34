"""A small Explicit VR Little Endian encoder (PS3.5 7.1.2, 7.5).

Large sequences such as the Per-frame Functional Groups Sequence of a multi-frame object with thousands
of frames are slow to build as nested :class:`pydicom.Dataset` objects. The builders encode them here
straight to bytes and store them as a :class:`pydicom.dataelem.RawDataElement` (see
:func:`raw_sequence`); pydicom writes such an element verbatim when the file's encoding equals the
dataset's original encoding, and decodes it into a normal Sequence on first access.

Only the handful of VRs the builders need are supported. Callers give elements in ascending tag order
inside each item (PS3.5 7.1); the functions here do not sort.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence

from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset
from pydicom.tag import Tag

from .codes import code_item
from .concept import Code

# VRs whose explicit length field is 4 bytes after 2 reserved bytes (PS3.5 Table 7.1-1)
_LONG_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"})
_ITEM = b"\xfe\xff\x00\xe0"
_PACK_US = struct.Struct("<H")


def _tag_bytes(tag: int) -> bytes:
    return struct.pack("<HH", tag >> 16, tag & 0xFFFF)


def element(tag: int, vr: str, value: bytes) -> bytes:
    """One data element with a defined length; ``value`` must already have even length."""
    if len(value) % 2:
        raise ValueError(f"value of ({tag >> 16:04X},{tag & 0xFFFF:04X}) has odd length")
    head = _tag_bytes(tag) + vr.encode("ascii")
    if vr in _LONG_VRS:
        return head + b"\x00\x00" + struct.pack("<I", len(value)) + value
    if len(value) > 0xFFFF:
        raise ValueError(f"value of ({tag >> 16:04X},{tag & 0xFFFF:04X}) is too long for VR {vr}")
    return head + _PACK_US.pack(len(value)) + value


def text(tag: int, vr: str, value: str | Sequence[str] | None, encoding: str = "utf-8") -> bytes:
    """A string element (CS, LO, SH, LT, ST, UT, DS, IS, DA, TM, DT), space padded; ``None`` = empty."""
    if value is None:
        raw = b""
    elif isinstance(value, str):
        raw = value.encode(encoding)
    else:
        raw = "\\".join(value).encode(encoding)
    if len(raw) % 2:
        raw += b" "
    return element(tag, vr, raw)


def uid(tag: int, value: str) -> bytes:
    """A UI element, NUL padded (PS3.5 9.1)."""
    raw = value.encode("ascii")
    if len(raw) % 2:
        raw += b"\x00"
    return element(tag, "UI", raw)


def us(tag: int, *values: int) -> bytes:
    return element(tag, "US", struct.pack(f"<{len(values)}H", *values))


def ul(tag: int, *values: int) -> bytes:
    return element(tag, "UL", struct.pack(f"<{len(values)}I", *values))


def at(tag: int, *values: int) -> bytes:
    return element(tag, "AT", b"".join(_tag_bytes(v) for v in values))


def item(body: bytes) -> bytes:
    """A sequence item of defined length."""
    return _ITEM + struct.pack("<I", len(body)) + body


def sequence(tag: int, items: Iterable[bytes]) -> bytes:
    """A sequence of defined length holding the given item bodies."""
    return element(tag, "SQ", b"".join(item(body) for body in items))


def code_item_body(code: Code) -> bytes:
    """The Code Sequence macro (PS3.3 Table 8.8-1) of ``code`` as an Explicit VR Little Endian item body:
    :func:`.codes.code_item` (the one builder of Code Sequence items) encoded by pydicom's writer."""
    fp = DicomBytesIO()
    fp.is_little_endian, fp.is_implicit_VR = True, False
    write_dataset(fp, code_item(code))
    return fp.getvalue()


def raw_sequence(ds: Dataset, keyword_tag: int, encoded: bytes) -> None:
    """Store an encoded sequence element (as made by :func:`sequence`) in ``ds`` as a raw element.

    ``encoded`` is the whole element: tag, VR, length and value. The dataset's original encoding is
    set to Explicit VR Little Endian with its current character set, so that pydicom's writer copies the
    bytes as they are (pydicom.filewriter.write_dataset).
    """
    tag = Tag(keyword_tag)
    if encoded[:4] != _tag_bytes(int(tag)) or encoded[4:6] != b"SQ":
        raise ValueError("encoded element does not match the tag")
    value = encoded[12:]
    ds[tag] = RawDataElement(tag, "SQ", len(value), value, 0, False, True)
    ds.set_original_encoding(False, True, ds._character_set)
