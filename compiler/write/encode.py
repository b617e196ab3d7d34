"""A fast PS3.10 encoder for the datasets dcmspec builds: Explicit VR Little Endian, straight from the tree.

pydicom's ``dcmwrite`` spends most of its time per element on generic machinery (a buffer per element,
encoding look-ups, seeking back to patch lengths). For the datasets our builders make (plain
:class:`~pydicom.dataelem.DataElement` values, Explicit VR Little Endian, single-byte or UTF-8 character
sets) :func:`encode_file` produces the same bytes directly, following pydicom's own conventions: tags
sorted, group lengths other than the File Meta Information's dropped, values padded to even length
(UI with NUL, OB/OW... with NUL, text with a space), DS/IS written from their original string when they
have one, sequence items and defined-length sequences with their lengths, undefined-length ones with
their delimiters, and the File Meta Information completed exactly as ``dcmwrite(...,
enforce_file_format=True)`` completes it.

Anything it does not handle raises :class:`Unsupported` *before* anything is written, and
:func:`encode_file` then returns ``None`` so the caller uses ``dcmwrite``: raw (not yet decoded)
elements other than defined-length sequences, ambiguous VRs (``US or SS``...), buffered values, a transfer
syntax other than an Explicit VR Little Endian one, values too long for a 16-bit length field, values of
unexpected types. Text goes through pydicom's own ``encode_string``/``PersonName.encode`` whenever it is
not plain single-codec text (ISO 2022 escape sequences, characters the character set lacks).
"""

from __future__ import annotations

import struct
from typing import Any

from pydicom import __version_info__
from pydicom.charset import (
    convert_encodings,
    custom_encoders,
    default_encoding,
    encode_string,
    need_tail_escape_sequence_encodings,
)
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.multival import MultiValue
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, UID
from pydicom.valuerep import PersonName

__all__ = ["STREAM_BYTES", "Unsupported", "encode_file", "encode_parts"]

STREAM_BYTES = 1 << 20
"""Top-level binary values from this size on are returned as their own part (not copied)."""

_IMPLEMENTATION_VERSION_NAME = f"PYDICOM {'.'.join(__version_info__)}"


class Unsupported(Exception):
    """The dataset needs pydicom's general writer."""


_H16 = struct.Struct("<HH2sH").pack
_H32_INTO = struct.Struct("<HH2s2xL").pack_into
_H32 = struct.Struct("<HH2s2xL").pack
_UL_INTO = struct.Struct("<L").pack_into
_ITEM_START = struct.pack("<HHL", 0xFFFE, 0xE000, 0)  # length patched afterwards
_ITEM_UNDEFINED = struct.pack("<HHL", 0xFFFE, 0xE000, 0xFFFFFFFF)
_ITEM_DELIMITER = struct.pack("<HHL", 0xFFFE, 0xE00D, 0)
_SEQUENCE_DELIMITER = struct.pack("<HHL", 0xFFFE, 0xE0DD, 0)
_TAG = struct.Struct("<HH").pack

# how each VR's value is written (pydicom.filewriter.writers)
_STRING, _UI, _TEXT, _PN, _NUMBER_STRING, _NUMBERS, _BYTES, _UN, _AT, _SQ, _DATE = range(11)
_KIND: dict[str, int] = {
    "AE": _STRING,
    "AS": _STRING,
    "CS": _STRING,
    "UR": _STRING,
    "DA": _DATE,
    "DT": _DATE,
    "TM": _DATE,
    "UI": _UI,
    "LO": _TEXT,
    "LT": _TEXT,
    "SH": _TEXT,
    "ST": _TEXT,
    "UC": _TEXT,
    "UT": _TEXT,
    "PN": _PN,
    "DS": _NUMBER_STRING,
    "IS": _NUMBER_STRING,
    "FD": _NUMBERS,
    "FL": _NUMBERS,
    "SL": _NUMBERS,
    "SS": _NUMBERS,
    "SV": _NUMBERS,
    "UL": _NUMBERS,
    "US": _NUMBERS,
    "UV": _NUMBERS,
    "OB": _BYTES,
    "OD": _BYTES,
    "OF": _BYTES,
    "OL": _BYTES,
    "OW": _BYTES,
    "OV": _BYTES,
    "UN": _UN,
    "AT": _AT,
    "SQ": _SQ,
}
_STRUCT_FORMAT = {"FD": "d", "FL": "f", "SL": "l", "SS": "h", "SV": "q", "UL": "L", "US": "H", "UV": "Q"}
_LONG_LENGTH = frozenset({"OB", "OD", "OF", "OL", "OW", "OV", "SQ", "UC", "UN", "UR", "UT", "SV", "UV"})
_VR_BYTES = {vr: vr.encode("ascii") for vr in _KIND}
_SINGLE = {fmt: struct.Struct("<" + fmt).pack for fmt in _STRUCT_FORMAT.values()}
_MULTI = (MultiValue, list, tuple)
_CHARSET_TAG = 0x00080005

_encodings_cache: dict[Any, tuple[list[str], str | None]] = {}


def _encodings(value: Any) -> tuple[list[str], str | None]:
    """pydicom's encodings for a Specific Character Set value (or a parent's encodings), and the one
    Python codec that encodes text exactly as ``encode_string`` does when it is that simple."""
    key = tuple(value) if isinstance(value, (list, MultiValue)) else value
    hit = _encodings_cache.get(key)
    if hit is None:
        encodings = convert_encodings(value)
        simple = (
            encodings[0]
            if (
                len(encodings) == 1
                and encodings[0] not in custom_encoders
                and encodings[0] not in need_tail_escape_sequence_encodings
            )
            else None
        )
        hit = _encodings_cache[key] = (encodings, simple)
    return hit


def _text(value: str, encodings: list[str], codec: str | None) -> bytes:
    if codec is not None:
        try:
            return value.encode(codec)
        except UnicodeError:
            pass
    return encode_string(value, encodings)  # pydicom's escape sequences, warnings and replacement


def _value(vr: str, kind: int, value: Any, encodings: list[str], codec: str | None) -> Any:
    """The encoded value of a non-empty, non-sequence element (bytes, or the value itself for bytes VRs)."""
    if kind == _TEXT:
        if isinstance(value, str):
            out = _text(value, encodings, codec)
        elif isinstance(value, _MULTI):
            if isinstance(value[0], str):
                out = b"\\".join([_text(v, encodings, codec) for v in value])
            else:
                out = b"\\".join(value)
        elif isinstance(value, bytes):
            out = value
        else:
            raise Unsupported(vr)
        return out + b" " if len(out) % 2 else out
    if kind in (_STRING, _UI, _DATE):
        if isinstance(value, _MULTI):
            if kind == _DATE and not all(isinstance(v, str) for v in value):
                raise Unsupported(vr)
            value = "\\".join(value)
        elif not isinstance(value, str):
            raise Unsupported(vr)
        if len(value) % 2:
            value += "\0" if kind == _UI else " "
        return value.encode(default_encoding)
    if kind == _NUMBER_STRING:
        if isinstance(value, _MULTI):
            text = "\\".join([x.original_string if hasattr(x, "original_string") else str(x) for x in value])
        else:
            text = value.original_string if hasattr(value, "original_string") else str(value)
        if len(text) % 2:
            text += " "
        return text.encode(default_encoding)
    if kind == _NUMBERS:
        fmt = _STRUCT_FORMAT[vr]
        if hasattr(value, "append"):
            if fmt == "h":
                raise Unsupported("SS multi-value")  # LUT descriptor special case: let pydicom do it
            return struct.pack(f"<{len(value)}{fmt}", *value)
        return _SINGLE[fmt](value)
    if kind == _PN:
        if isinstance(value, PersonName):
            names = [value]
        elif isinstance(value, _MULTI) and all(isinstance(v, PersonName) for v in value):
            names = list(value)
        else:
            raise Unsupported(vr)
        out = b"\\".join([name.encode(encodings) for name in names])
        return out + b" " if len(out) % 2 else out
    if kind == _AT:
        if isinstance(value, int):
            return _TAG(value >> 16, value & 0xFFFF)
        if isinstance(value, _MULTI) and all(isinstance(v, int) for v in value):
            return b"".join([_TAG(v >> 16, v & 0xFFFF) for v in value])
        raise Unsupported(vr)
    raise Unsupported(vr)  # pragma: no cover


def _is_empty(value: Any) -> bool:
    """``DataElement.is_empty`` for a non-sequence element."""
    if value is None:
        return True
    if isinstance(value, (str, bytes, PersonName)):
        return not value
    try:
        return len(value) == 0
    except TypeError:
        return False


class _Writer:
    """Appends encoded elements to ``out``; large top-level binary values become parts of their own."""

    def __init__(self) -> None:
        self.out = bytearray()
        self.parts: list[Any] = []

    def dataset(self, ds: Any, parent_encoding: Any, top: bool = False) -> None:
        elements = ds._dict
        charset = elements.get(_CHARSET_TAG)
        if charset is not None:
            if type(charset) is not DataElement:
                raise Unsupported("raw Specific Character Set")
            encoding_value = charset._value
        else:
            encoding_value = parent_encoding
        encodings, codec = _encodings(encoding_value or default_encoding)
        out = self.out
        for tag in sorted(elements):
            if not tag & 0xFFFF and tag >> 16 > 6:
                continue  # retired group lengths are not written (PS3.5 7.2)
            elem = elements[tag]
            if type(elem) is not DataElement:
                self.raw(ds, tag, elem)
                out = self.out
                continue
            vr = elem.VR
            kind = _KIND.get(vr)
            if kind is None:
                raise Unsupported(f"VR {vr}")
            value = elem._value
            group, number = tag >> 16, tag & 0xFFFF
            if kind == _SQ:
                undefined = elem.is_undefined_length
                start = len(out)
                out += _H32(group, number, b"SQ", 0xFFFFFFFF if undefined else 0)
                if value:
                    for item in value:
                        self.item(item, encodings)
                        out = self.out
                if undefined:
                    out += _SEQUENCE_DELIMITER
                else:
                    _UL_INTO(out, start + 8, len(out) - start - 12)
                continue
            undefined = elem.is_undefined_length
            if undefined and (
                tag != 0x7FE00010
                or kind != _BYTES
                or not isinstance(value, (bytes, bytearray))
                or not value.startswith(b"\xfe\xff\x00\xe0")
            ):
                raise Unsupported("undefined length element")  # only encapsulated Pixel Data
            if _is_empty(value):
                out += (
                    _H32(group, number, _VR_BYTES[vr], 0)
                    if vr in _LONG_LENGTH
                    else _H16(group, number, _VR_BYTES[vr], 0)
                )
                continue
            if kind in (_BYTES, _UN):
                if isinstance(value, memoryview) and value.format == "B" and value.c_contiguous:
                    pass  # a byte view of an array (pixel data shared with the builder's input, not copied)
                elif not isinstance(value, (bytes, bytearray)):
                    raise Unsupported("binary value that is not bytes")
                pad = len(value) % 2 and kind == _BYTES
                out += _H32(group, number, _VR_BYTES[vr], 0xFFFFFFFF if undefined else len(value) + pad)
                if top and len(value) >= STREAM_BYTES:
                    self.parts.append(out)
                    self.parts.append(value)
                    out = self.out = bytearray(b"\x00" if pad else b"")
                else:
                    out += value
                    if pad:
                        out.append(0)
                if undefined:
                    out += _SEQUENCE_DELIMITER
                continue
            try:
                data = _value(vr, kind, value, encodings, codec)
            except (struct.error, TypeError, AttributeError, UnicodeError, ValueError) as exc:
                raise Unsupported(f"{vr} value: {exc}") from None
            if vr in _LONG_LENGTH:
                out += _H32(group, number, _VR_BYTES[vr], len(data))
            else:
                if len(data) > 0xFFFF:
                    raise Unsupported("value too long for a 16-bit length")  # pydicom writes it as UN
                out += _H16(group, number, _VR_BYTES[vr], len(data))
            out += data

    def raw(self, ds: Any, tag: int, elem: Any) -> None:
        """A raw (still encoded) defined-length sequence: written as it is, as pydicom writes it when
        the dataset's original encoding is the file's (otherwise pydicom decodes it first)."""
        if (
            not isinstance(elem, RawDataElement)
            or elem.VR != "SQ"
            or elem.length == 0xFFFFFFFF
            or not isinstance(elem.value, bytes)
            or elem.is_little_endian is not True
        ):
            raise Unsupported("raw data element")
        if ds.original_encoding != (False, True) or ds.original_character_set != ds._character_set:
            raise Unsupported("raw data element in a dataset that pydicom re-encodes")
        self.out += _H32(tag >> 16, tag & 0xFFFF, b"SQ", len(elem.value))
        self.out += elem.value

    def item(self, item: Any, encodings: list[str]) -> None:
        out = self.out
        if getattr(item, "is_undefined_length_sequence_item", False):
            out += _ITEM_UNDEFINED
            self.dataset(item, encodings)
            self.out += _ITEM_DELIMITER
        else:
            start = len(out)
            out += _ITEM_START
            self.dataset(item, encodings)
            _UL_INTO(self.out, start + 4, len(self.out) - start - 8)


def _explicit_little_endian(uid: Any) -> bool:
    """A public transfer syntax encoding the dataset in Explicit VR Little Endian, not deflated."""
    if not isinstance(uid, UID):
        return False
    try:
        return (
            uid.is_transfer_syntax
            and not uid.is_private
            and not uid.is_implicit_VR
            and uid.is_little_endian
            and not uid.is_deflated
        )
    except ValueError:
        return False


def _file_meta(dataset: Any) -> dict[int, DataElement]:
    """The File Meta Information elements ``dcmwrite(..., enforce_file_format=True)`` would write
    (without changing ``dataset.file_meta``)."""
    meta = getattr(dataset, "file_meta", None)
    elements: dict[int, Any] = dict(meta._dict) if meta is not None else {}
    if any(type(e) is not DataElement or (t >> 16) != 2 for t, e in elements.items()):
        raise Unsupported("file meta")
    ts = elements.get(0x00020010)
    if ts is None or not _explicit_little_endian(ts._value):
        raise Unsupported("transfer syntax")
    for meta_tag, ds_tag in ((0x00020002, 0x00080016), (0x00020003, 0x00080018)):
        meta_elem = elements.get(meta_tag)
        ds_elem = dataset._dict.get(ds_tag)
        if ds_elem is not None and type(ds_elem) is not DataElement:
            raise Unsupported("raw SOP Class/Instance UID")
        ds_value = ds_elem._value if ds_elem is not None else None
        meta_value = meta_elem._value if meta_elem is not None else None
        if meta_value is None or (ds_value and ds_value != meta_value):
            elements[meta_tag] = DataElement(meta_tag, "UI", ds_value)
    version = elements.get(0x00020001)
    if version is None or version.is_empty:
        elements[0x00020001] = DataElement(0x00020001, "OB", b"\x00\x01")
    impl = elements.get(0x00020012)
    if impl is None or impl.is_empty:
        elements[0x00020012] = DataElement(0x00020012, "UI", PYDICOM_IMPLEMENTATION_UID)
    if 0x00020013 not in elements:
        elements[0x00020013] = DataElement(0x00020013, "SH", _IMPLEMENTATION_VERSION_NAME)
    for tag in (0x00020002, 0x00020003, 0x00020010):
        if tag not in elements or elements[tag].is_empty:
            raise Unsupported("required File Meta Information missing")  # dcmwrite raises
    elements.pop(0x00020000, None)
    return elements


class _Meta:
    """Stand-in dataset for the File Meta Information elements."""

    def __init__(self, elements: dict[int, DataElement]) -> None:
        self._dict = elements


def encode_parts(dataset: Any) -> list[Any]:
    """The PS3.10 file for ``dataset`` as a list of bytes-like parts; raises :class:`Unsupported`."""
    if any(tag >> 16 in (0, 2) for tag in dataset._dict):
        raise Unsupported("command or file meta elements in the dataset")
    preamble = getattr(dataset, "preamble", None)
    if preamble and len(preamble) != 128:
        raise Unsupported("preamble")
    meta = _Writer()
    meta.dataset(_Meta(_file_meta(dataset)), default_encoding)
    pixel_data = dataset._dict.get(0x7FE00010)
    if type(pixel_data) is DataElement:  # as dcmwrite does: encapsulated for a compressed transfer syntax
        pixel_data.is_undefined_length = dataset.file_meta[0x00020010].value.is_compressed
    body = _Writer()
    try:
        body.dataset(dataset, default_encoding, top=True)
    except struct.error as exc:
        raise Unsupported(str(exc)) from None
    head = bytearray(preamble or b"\x00" * 128)
    head += b"DICM"
    head += _H16(2, 0, b"UL", 4)
    head += struct.pack("<L", len(meta.out))
    head += meta.out
    return [head, *body.parts, body.out]


def encode_file(dataset: Any) -> list[Any] | None:
    """:func:`encode_parts`, or ``None`` when the dataset needs pydicom's writer."""
    try:
        return encode_parts(dataset)
    except Unsupported:
        return None
