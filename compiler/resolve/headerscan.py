"""Fast header reader for the common source files: what ``pydicom.dcmread(stop_before_pixels=True,
defer_size=...)`` returns, without pydicom's per-element file reads.

:func:`scan_header` reads a bounded prefix of the file in one ``read()`` (growing it only when the
header is longer), walks the top-level data elements with ``struct.unpack_from`` up to (not into)
Pixel Data (PS3.5 7.1) and hands them to pydicom as the same ``RawDataElement`` objects ``dcmread``
builds, so values are converted by pydicom itself, lazily, on first access. The result is a
``FileDataset`` equal to ``dcmread``'s: same File Meta Information, same elements (values larger than
``defer_size`` deferred and re-read from the file on access), same encoding.

Only the plain cases are handled: a Part 10 file (128-byte preamble, ``DICM``, File Meta Information
in Explicit VR Little Endian; PS3.10 7.1) whose dataset is Implicit or Explicit VR Little Endian
(PS3.5 A.1, A.2; the encapsulated syntaxes of A.4 too, as their dataset is Explicit VR Little Endian)
and looks like what its transfer syntax says. Undefined-length sequences
(PS3.5 7.5.2) are found by scanning their items and delimiters, then parsed by pydicom as ``dcmread``
parses them. Anything else (no preamble, a Command Set group, big endian, deflate,
unknown or private transfer syntaxes, odd VRs, implicit/explicit mismatches, truncated files, undefined-length
values that are not sequences) returns ``None`` so the caller falls back to ``dcmread``, which then
keeps its own warnings, heuristics and errors.
"""

from __future__ import annotations

import os
import re
from io import BytesIO
from itertools import repeat
from operator import itemgetter
from struct import Struct
from struct import error as StructError
from typing import TYPE_CHECKING, Any, BinaryIO, TypedDict

from pydicom import config
from pydicom.charset import convert_encodings, default_encoding
from pydicom.datadict import _dictionary_vr_fast
from pydicom.dataelem import DataElement, RawDataElement, empty_value_for_VR
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.filereader import read_sequence
from pydicom.tag import BaseTag
from pydicom.uid import UID, AllTransferSyntaxes, PrivateTransferSyntaxes
from pydicom.valuerep import EXPLICIT_VR_LENGTH_32
from pydicom.values import convert_string

if TYPE_CHECKING:
    from collections.abc import Mapping

    from pydicom.dataset import Dataset, _DatasetValue

    #: A dataset's elements, as ``Dataset._dict`` holds them: keyed by ``BaseTag``, looked up here by
    #: plain ``int`` tags (equal keys; the stubs' invariant Mapping key type cannot say so).
    _Elements = Mapping[Any, _DatasetValue]
    #: What walking a group of elements gives: ``({tag: element}, end, encoding)``.
    _Found = tuple[dict[BaseTag, _DatasetValue], int, str | list[str]]

#: Bytes read first; most image headers end well before (the bench CT: ~1.2 KB, vendor CT/PET: 2-7 KB).
FIRST_READ = 16384
#: Largest header (bytes up to Pixel Data, deferred values excluded) the scanner walks before giving up.
MAX_HEADER = 64 << 20

_IMPLICIT_LE = "1.2.840.10008.1.2"
#: Transfer syntaxes whose dataset pydicom reads as Explicit VR Little Endian as is: the native one and
#: the encapsulated ones (PS3.5 A.4), except those that deflate the whole dataset.
_EXPLICIT_LE = frozenset(
    {"1.2.840.10008.1.2.1"}
    | {
        str(ts)
        for ts in map(UID, AllTransferSyntaxes)
        if ts.is_encapsulated
        and ts.is_little_endian
        and not ts.is_implicit_VR
        and not ts.is_deflated
        and "deflate" not in ts.name.lower()
    }
)
_TRANSFER_SYNTAX_UID = BaseTag(0x00020010)
_PIXEL_TAGS = frozenset((0x7FE00010, 0x7FE00009, 0x7FE00008))  # as pydicom's stop_before_pixels
_CHARSET = 0x00080005
_ITEM = 0xFFFEE000
_ITEM_END = 0xFFFEE00D
_SEQ_END = 0xFFFEE0DD
_UNDEFINED = 0xFFFFFFFF

_EXPLICIT = Struct("<HH2sH")
_IMPLICIT = Struct("<HHL")
_U32 = Struct("<L")
_LONG_VRS = frozenset(vr.encode() for vr in EXPLICIT_VR_LENGTH_32)
_VR_NAMES = {vr.encode(): str(vr) for vr in EXPLICIT_VR_LENGTH_32} | {
    vr.encode(): vr
    for vr in (
        "AE",
        "AS",
        "AT",
        "CS",
        "DA",
        "DS",
        "DT",
        "FD",
        "FL",
        "IS",
        "LO",
        "LT",
        "PN",
        "SH",
        "SL",
        "SS",
        "ST",
        "TM",
        "UI",
        "UL",
        "US",
    )
}


class _Unsupported(Exception):
    """The file needs pydicom's general reader."""


class _Reader:
    """A forward-only window on the file: ``buf`` holds the bytes from file offset ``base``."""

    __slots__ = ("base", "buf", "fp", "size")

    def __init__(self, fp: BinaryIO, size: int) -> None:
        self.fp = fp
        self.size = size
        self.base = 0
        self.buf = fp.read(FIRST_READ)

    def window(self, offset: int, n: int) -> tuple[bytes, int]:
        """``(buf, index)`` with ``buf[index:index + n]`` the file bytes at ``offset``."""
        end = offset + n
        if end > self.size or end > MAX_HEADER:
            raise _Unsupported("past the end of the file")
        base, buf = self.base, self.buf
        if offset >= base and end <= base + len(buf):
            return buf, offset - base
        have_end = base + len(buf)
        if base <= offset <= have_end:  # extend (the fp is at have_end), doubling
            self.buf = buf = buf[offset - base :] + self.fp.read(max(end - have_end, len(buf), FIRST_READ))
        else:
            self.fp.seek(offset)
            self.buf = buf = self.fp.read(max(n, FIRST_READ))
        self.base = offset
        if len(buf) < n:
            raise _Unsupported("short read")
        return buf, 0


def scan_header(path: str | os.PathLike[str], defer_size: int) -> FileDataset | None:
    """``dcmread(path, stop_before_pixels=True, defer_size=defer_size)`` for the plain cases, else None.

    ``OSError`` is raised as ``dcmread`` would raise it; every other problem gives ``None``.
    """
    filename = os.fspath(path)
    with open(filename, "rb") as fp:
        size = os.fstat(fp.fileno()).st_size
        reader = _Reader(fp, size)
        try:
            return _scan(reader, filename, defer_size)
        except (_Unsupported, StructError, ValueError, TypeError, LookupError):
            return None


def _scan(reader: _Reader, filename: str, defer_size: int) -> FileDataset | None:
    buf = reader.buf
    if len(buf) < 144 or buf[128:132] != b"DICM":
        return None
    preamble = buf[:128]
    # File Meta Information: group 0002, Explicit VR Little Endian (PS3.10 7.1)
    meta, pos, _ = _elements(reader, 132, False, defer_size, meta=True)
    if not meta:
        return None
    file_meta = FileMetaDataset(meta)
    file_meta.set_original_encoding(is_implicit_vr=False, is_little_endian=True, character_encoding=default_encoding)
    ts_raw = meta.get(_TRANSFER_SYNTAX_UID)
    if ts_raw is None or ts_raw.value is None:
        return None
    ts = ts_raw.value.decode("ascii").rstrip("\x00 ")
    if ts in _EXPLICIT_LE and ts not in PrivateTransferSyntaxes:
        implicit = False
    elif ts == _IMPLICIT_LE:
        implicit = True
    else:
        return None
    if pos + 6 > reader.size:
        return None  # (almost) nothing after the File Meta Information: let pydicom decide
    head, i = reader.window(pos, 6)
    if head[i : i + 2] == b"\x00\x00":
        return None  # Command Set group (0000,eeee)
    # pydicom's check of the first element: an explicit VR is two characters in 'A'..'Z' (and '@')
    found_implicit = not (0x40 < head[i + 4] < 0x5B and 0x40 < head[i + 5] < 0x5B)
    if found_implicit != implicit:
        return None
    raw, _, _ = _elements(reader, pos, implicit, defer_size, meta=False)
    # as pydicom's read_partial: the dataset's own encoding is set from its Specific Character Set
    ds = FileDataset(filename, raw, preamble, file_meta, implicit, True)
    ds.set_original_encoding(implicit, True, ds._character_set)
    return ds


def _elements(reader: _Reader, pos: int, implicit: bool, defer_size: int, *, meta: bool) -> _Found:
    """The top-level elements from ``pos`` as pydicom's reader yields them: ``({tag: element}, end,
    encoding)``; group 0002 only when ``meta``, else up to Pixel Data or the end of the file.

    The files of a series mostly share one layout (the same elements at the same offsets, only values
    differ): the previous file's layout (:class:`_Layout`) is tried first, the walk is the fallback."""
    key = (pos, implicit, meta, defer_size)
    layout = _layouts.get(key)
    if layout is not None and reader.base == 0:
        found = layout.elements(reader.buf, reader.size)
        if found is not None:
            return found
    found = _walk(reader, pos, implicit, defer_size, meta=meta)
    if reader.base == 0:  # the whole walk within the first read: the next file of a series may match it
        _layouts[key] = _Layout.of(found, reader.buf, reader.size, implicit)
    return found


def _walk(reader: _Reader, pos: int, implicit: bool, defer_size: int, *, meta: bool) -> _Found:
    """:func:`_elements`, element by element."""
    out: dict[BaseTag, _DatasetValue] = {}
    size = reader.size
    encoding: str | list[str] = default_encoding
    empty: dict[str | None, Any] = {}  # VR -> pydicom's raw empty value; the dict itself marks a miss
    last = -1
    buf, base = reader.buf, reader.base
    bend = base + len(buf)
    new_raw = tuple.__new__
    while pos < size:
        if pos + 12 > bend:  # outside the window: move it (most headers never get here)
            if pos + 8 > size:
                raise _Unsupported("truncated element header")
            buf, _ = reader.window(pos, 12 if pos + 12 <= size else 8)
            base = reader.base
            bend = base + len(buf)
        i = pos - base
        if implicit:
            group, elem, length = _IMPLICIT.unpack_from(buf, i)
            vr = None
            value_tell = pos + 8
        else:
            group, elem, vr_bytes, length = _EXPLICIT.unpack_from(buf, i)
            if meta and group != 2:
                return out, pos, encoding
            vr = _VR_NAMES.get(vr_bytes)
            if vr is None:
                raise _Unsupported(f"VR {vr_bytes!r}")  # implicit switch or unknown VR
            if vr_bytes in _LONG_VRS:
                if pos + 12 > size:
                    raise _Unsupported("truncated element header")
                length = _U32.unpack_from(buf, i + 8)[0]
                value_tell = pos + 12
            else:
                value_tell = pos + 8
        tag = group << 16 | elem
        if meta and group != 2:
            return out, pos, encoding
        if tag <= last:
            raise _Unsupported("elements out of order")  # pydicom keeps the last copy; be safe
        last = tag
        if tag in _PIXEL_TAGS or tag == _ITEM_END:
            return out, pos, encoding
        btag = BaseTag(tag)
        if length != _UNDEFINED:
            end = value_tell + length
            if end > size:
                raise _Unsupported("value past the end of the file")
            if length > defer_size and tag != _CHARSET and not meta:
                value = None
            elif length > 0:
                if end > bend:
                    buf, _ = reader.window(value_tell, length)
                    base = reader.base
                    bend = base + len(buf)
                value = buf[value_tell - base : end - base]
            else:
                value = empty.get(vr, empty)
                if value is empty:
                    # raw=True gives bytes or None; pydicom annotates the union of both modes
                    value = empty[vr] = empty_value_for_VR(vr, raw=True)  # type: ignore[assignment]
            if tag == _CHARSET:
                encoding = convert_encodings(convert_string(value or b"", True))
            out[btag] = new_raw(RawDataElement, (btag, vr, length, value, value_tell, implicit, True, True, False))
            pos = end
            continue
        # undefined length: only sequences (PS3.5 7.5.2); pydicom parses them at once
        if meta:
            raise _Unsupported("undefined length in the File Meta Information")
        if implicit:
            try:
                vr = _dictionary_vr_fast(tag)
            except KeyError:
                head, j = reader.window(value_tell, 4)
                vr = "SQ" if _U32.unpack_from(head, j)[0] == 0xE000FFFE else None
        if vr != "SQ":
            raise _Unsupported("undefined-length value that is not a sequence")
        end = _skip_items(reader, value_tell, implicit, 0)
        buf, j = reader.window(value_tell, end - value_tell)
        base = reader.base
        bend = base + len(buf)
        fp = BytesIO(buf)
        fp.seek(j)
        seq = read_sequence(fp, implicit, True, length, encoding, value_tell - j)
        if fp.tell() - j != end - value_tell:
            raise _Unsupported("sequence end mismatch")
        out[btag] = DataElement(btag, vr, seq, value_tell, is_undefined_length=True)
        pos = end
    return out, pos, encoding


class _Layout:
    """Where the elements of a walked header lie, to read another file's header with the same layout
    without walking it: if every element header (tag, VR, length; PS3.5 7.1) and the one the walk
    stopped at have the same bytes at the same offsets, the walk would take the same steps, so only the
    values are new (sliced out at once). Made only for walks within the first read without
    undefined-length sequences."""

    __slots__ = ("charset", "columns", "end", "eof_size", "heads", "heads_at", "implicit", "nones", "values_at")

    def __init__(
        self,
        rows: list[tuple[BaseTag, str | None, int, int]],
        spans: list[slice],
        values: list[slice],
        buf: bytes,
        *,
        nones: list[int],
        charset: int,
        end: int,
        eof_size: int,
        implicit: bool,
    ) -> None:
        spans = spans + [slice(0, 0)] * (2 - len(spans))  # itemgetter returns a tuple from two items on
        values = values + [slice(0, 0)] * (2 - len(values))
        self.heads_at = itemgetter(*spans)
        self.heads: tuple[bytes, ...] = self.heads_at(buf)
        self.values_at = itemgetter(*values)
        self.columns: tuple[tuple[Any, ...], ...] = tuple(zip(*rows)) if rows else ((), (), (), ())
        self.nones, self.charset, self.end, self.eof_size, self.implicit = nones, charset, end, eof_size, implicit

    @classmethod
    def of(cls, found: _Found, buf: bytes, size: int, implicit: bool) -> _Layout | None:
        """The layout of a walk's result (``found``) on the file's first read ``buf``; None if it has none."""
        out, end, _ = found
        spans: list[slice] = []
        values: list[slice] = []
        nones: list[int] = []
        rows: list[tuple[BaseTag, str | None, int, int]] = []
        charset = -1
        for i, elem in enumerate(out.values()):
            if type(elem) is not RawDataElement:
                return None  # a sequence: parsed by pydicom
            tag, vr, length, value, tell = elem[:5]
            head = 8 if vr is None or vr.encode() not in _LONG_VRS else 12
            spans.append(slice(tell - head, tell))
            values.append(slice(tell, tell + length) if value else slice(0, 0))
            if value is None:
                nones.append(i)
            elif value and len(value) != length:
                return None
            if tag == _CHARSET:
                charset = i
            rows.append((tag, vr, length, tell))
        # The walk checked each value against the file size: a file with the header it stopped at (Pixel
        # Data, a group after 0002; in the first read, after every value) passes those checks too.
        eof_size = -1
        if end < size:
            if end + 8 > len(buf):
                return None
            spans.append(slice(end, end + 8))
        else:
            eof_size = size  # stopped at the end of the file: only a file of this size stops there
        return cls(
            rows, spans, values, buf, nones=nones, charset=charset, end=end, eof_size=eof_size, implicit=implicit
        )

    def elements(self, buf: bytes, size: int) -> _Found | None:
        """What the walk gives for a file whose first read is ``buf``, or None when the layout differs."""
        if (self.eof_size >= 0 and size != self.eof_size) or self.heads_at(buf) != self.heads:
            return None
        values = list(self.values_at(buf))
        for i in self.nones:
            values[i] = None
        tags, vrs, lengths, tells = self.columns
        fields = zip(
            tags, vrs, lengths, values, tells, repeat(self.implicit), repeat(True), repeat(True), repeat(False)
        )
        out: dict[BaseTag, _DatasetValue] = dict(zip(tags, map(tuple.__new__, repeat(RawDataElement), fields)))
        encoding: str | list[str] = default_encoding
        if self.charset >= 0:
            encoding = convert_encodings(convert_string(values[self.charset] or b"", True))
        return out, self.end, encoding


#: The last layout per (start, implicit VR, File Meta Information, defer size): see :class:`_Layout`.
_layouts: dict[tuple[int, bool, bool, int], _Layout | None] = {}


def _skip_items(reader: _Reader, pos: int, implicit: bool, depth: int) -> int:
    """End (after the Sequence Delimitation Item) of the undefined-length value starting at ``pos``."""
    if depth > 16:
        raise _Unsupported("sequences nested too deep")
    while True:
        buf, i = reader.window(pos, 8)
        tag_group, tag_elem, length = _IMPLICIT.unpack_from(buf, i)
        tag = tag_group << 16 | tag_elem
        pos += 8
        if tag == _SEQ_END:
            return pos
        if tag != _ITEM:
            raise _Unsupported("no item in a sequence")
        if length != _UNDEFINED:
            pos += length
            continue
        pos = _skip_dataset(reader, pos, implicit, depth + 1)


def _skip_dataset(reader: _Reader, pos: int, implicit: bool, depth: int) -> int:
    """End (after the Item Delimitation Item) of an undefined-length item starting at ``pos``."""
    while True:
        buf, i = reader.window(pos, 8)
        group, elem, length = _IMPLICIT.unpack_from(buf, i)
        tag = group << 16 | elem
        if tag == _ITEM_END:
            return pos + 8
        if implicit:
            head = 8
        else:
            vr_bytes = buf[i + 4 : i + 6]
            if vr_bytes not in _VR_NAMES:
                raise _Unsupported("odd VR in a sequence item")  # pydicom may switch to implicit
            if vr_bytes in _LONG_VRS:
                buf, i = reader.window(pos, 12)
                length = _U32.unpack_from(buf, i + 8)[0]
                head = 12
            else:
                length = buf[i + 6] | buf[i + 7] << 8
                head = 8
        pos += head
        if length == _UNDEFINED:
            pos = _skip_items(reader, pos, implicit, depth)
        else:
            pos += length


# ----------------------------------------------------------------------------------------------
# The few values a source needs, straight from the raw bytes

_UID_RE = re.compile(rb"(?:0|[1-9][0-9]*)(?:\.(?:0|[1-9][0-9]*))*[\x00 ]?")
_CS_RE = re.compile(rb"[A-Z0-9_ ]*")
_IS_RE = re.compile(rb" *[+-]?[0-9]{1,12} *")
_DS_RE = re.compile(rb" *[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)? *")


class _NotPlain(Exception):
    """A value needs pydicom's conversion."""


class PlainValues(TypedDict):
    """What :func:`plain_values` decodes (see there)."""

    sop_class_uid: str
    sop_instance_uid: str
    series_instance_uid: str
    study_instance_uid: str
    frame_of_reference_uid: str | None
    modality: str
    rows: int | None
    columns: int | None
    instance_number: int | None
    position: tuple[str, ...] | None
    orientation: tuple[str, ...] | None
    spacing: tuple[str, ...] | None
    thickness: str | None


def plain_values(ds: Dataset) -> PlainValues | None:
    """The identifiers and plane geometry of a single-frame image read by :func:`scan_header`, decoded
    from the raw bytes, or None where any of them is not plain ASCII of the expected form (or the
    image is multi-frame), for the caller to ask pydicom.

    Keys: the UIDs, ``modality``, ``rows``, ``columns``, ``instance_number`` and the Image Plane
    values ``position``/``orientation``/``spacing`` (tuples of DS strings) and ``thickness``; absent or
    empty values are None (``modality``: ""). They equal what pydicom's conversion gives for the same
    bytes (``_text``/``_int``/``float`` of the converted value), as tests/test_sources.py checks.
    """
    raw = ds._dict
    if 0x00280008 in raw or config.use_DS_decimal or config.use_DS_numpy or config.use_IS_numpy:
        return None
    try:
        sop_class_uid = _uid(raw, 0x00080016)
        sop_instance_uid = _uid(raw, 0x00080018)
        series_instance_uid = _uid(raw, 0x0020000E)
        study_instance_uid = _uid(raw, 0x0020000D)
        frame_of_reference_uid = _uid(raw, 0x00200052)
        modality = _value(raw, 0x00080060, _CS_RE, "CS")
        rows = _us(raw, 0x00280010)
        columns = _us(raw, 0x00280011)
        instance_number = _value(raw, 0x00200013, _IS_RE, "IS")
        position = _ds(raw, 0x00200032, 3)
        orientation = _ds(raw, 0x00200037, 6)
        spacing = _ds(raw, 0x00280030, 2)
        thickness = _ds(raw, 0x00180050, 1)
    except _NotPlain:
        return None
    if not (sop_class_uid and sop_instance_uid and series_instance_uid and study_instance_uid):
        return None
    return {
        "sop_class_uid": sop_class_uid,
        "sop_instance_uid": sop_instance_uid,
        "series_instance_uid": series_instance_uid,
        "study_instance_uid": study_instance_uid,
        "frame_of_reference_uid": frame_of_reference_uid,
        "modality": (modality or b"").decode("ascii").strip(),
        "rows": rows,
        "columns": columns,
        "instance_number": int(instance_number) if instance_number is not None else None,
        "position": position,
        "orientation": orientation,
        "spacing": spacing,
        "thickness": thickness[0] if thickness is not None else None,
    }


def _raw(raw: _Elements, tag: int, vr: str) -> bytes | None:
    """The raw bytes of ``tag`` (None if absent or empty); _NotPlain unless it is a plain raw element."""
    elem = raw.get(tag)
    if elem is None:
        return None
    if type(elem) is not RawDataElement or elem.VR not in (None, vr):
        raise _NotPlain
    value = elem.value
    if not value:
        if elem.length:
            raise _NotPlain  # deferred
        return None
    return value


def _uid(raw: _Elements, tag: int) -> str | None:
    value = _raw(raw, tag, "UI")
    if value is None:
        return None
    if len(value) > 64 or not _UID_RE.fullmatch(value):
        raise _NotPlain
    return value.rstrip(b"\x00 ").decode("ascii") or None


def _value(raw: _Elements, tag: int, pattern: re.Pattern[bytes], vr: str) -> bytes | None:
    value = _raw(raw, tag, vr)
    if value is None:
        return None
    if not pattern.fullmatch(value) or len(value) > 16:
        raise _NotPlain
    return value if value.strip() else None


def _us(raw: _Elements, tag: int) -> int | None:
    value = _raw(raw, tag, "US")
    if value is None:
        return None
    if len(value) != 2:
        raise _NotPlain
    return value[0] | value[1] << 8


def _ds(raw: _Elements, tag: int, n: int) -> tuple[str, ...] | None:
    value = _raw(raw, tag, "DS")
    if value is None:
        return None
    parts = value.split(b"\\")
    if len(parts) != n:
        raise _NotPlain  # pydicom's path reports the wrong count
    for p in parts:
        if len(p) > 16 or not _DS_RE.fullmatch(p):
            raise _NotPlain
    return tuple(p.decode("ascii").strip() for p in parts)
