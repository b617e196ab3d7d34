"""Mutation kills for compiler/resolve/headerscan.py (tests/MUTATION.md, fourth pass).

Oracle: pydicom's own reader, ``pydicom.dcmread(path, stop_before_pixels=True, defer_size=N)``, on the same
bytes: its raw data elements (tag, VR, length, value, value_tell, encoding flags; PS3.5 7.1) are compared
field by field with what ``scan_header`` returns, and ``plain_values`` with pydicom's decoded values. Files
are written once per module, element by element, from the encodings of PS3.5 7.1.2 (explicit VR: 2-byte
length, or 2 reserved bytes and a 4-byte length for OB, OD, OF, OL, OV, OW, SQ, SV, UC, UN, UR, UT, UV),
7.1.3 (implicit VR: 4-byte length), 7.5 (sequences and items, undefined lengths and delimiters) and PS3.10
7.1 (preamble, "DICM", File Meta Information in Explicit VR Little Endian).
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pydicom
import pytest
from pydicom.dataelem import RawDataElement

from dcmspec_compiler.resolve import headerscan

IMPLICIT = "1.2.840.10008.1.2"
EXPLICIT = "1.2.840.10008.1.2.1"
BIG = "1.2.840.10008.1.2.2"
DEFLATED = "1.2.840.10008.1.2.1.99"
JPEG_BASELINE = "1.2.840.10008.1.2.4.50"
CT = "1.2.840.10008.5.1.4.1.1.2"
LONG = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"}
UNDEFINED = 0xFFFFFFFF


def pad(value: bytes, vr: str) -> bytes:
    """Values are even in length (PS3.5 7.1.1): UI padded with NUL, OB/UN with NUL, text with a space."""
    if len(value) % 2:
        value += b"\x00" if vr in ("UI", "OB", "UN") else b" "
    return value


def el(tag: int, vr: str, value: bytes = b"", *, implicit: bool = False, length: int | None = None) -> bytes:
    """One data element (PS3.5 7.1.2 explicit, 7.1.3 implicit), little endian."""
    value = pad(value, vr) if length is None else value
    n = len(value) if length is None else length
    head = struct.pack("<HH", tag >> 16, tag & 0xFFFF)
    if implicit:
        return head + struct.pack("<L", n) + value
    if vr in LONG:
        return head + vr.encode() + b"\x00\x00" + struct.pack("<L", n) + value
    return head + vr.encode() + struct.pack("<H", n) + value


def item(body: bytes, *, undefined: bool) -> bytes:
    """An Item (FFFE,E000) with its Item Delimitation Item when of undefined length (PS3.5 7.5.1)."""
    if undefined:
        return struct.pack("<HHL", 0xFFFE, 0xE000, UNDEFINED) + body + struct.pack("<HHL", 0xFFFE, 0xE00D, 0)
    return struct.pack("<HHL", 0xFFFE, 0xE000, len(body)) + body


def seq(tag: int, items: list[bytes], *, implicit: bool, undefined: bool) -> bytes:
    """A sequence, of undefined length with its Sequence Delimitation Item (PS3.5 7.5.2) or defined."""
    body = b"".join(items)
    if undefined:
        return el(tag, "SQ", body + struct.pack("<HHL", 0xFFFE, 0xE0DD, 0), implicit=implicit, length=UNDEFINED)
    return el(tag, "SQ", body, implicit=implicit)


def meta(ts: str, *, extra: bytes = b"") -> bytes:
    """File Meta Information (PS3.10 7.1), Explicit VR Little Endian, with its group length."""
    body = (
        el(0x00020001, "OB", b"\x00\x01")
        + el(0x00020002, "UI", CT.encode())
        + el(0x00020003, "UI", b"1.2.3.4.5")
        + el(0x00020010, "UI", ts.encode())
        + el(0x00020012, "UI", b"1.2.3.99")
        + extra
    )
    return el(0x00020000, "UL", struct.pack("<L", len(body))) + body


def part10(dataset: bytes, ts: str, *, preamble: bytes = b"\x00" * 128, extra_meta: bytes = b"") -> bytes:
    return preamble + b"DICM" + meta(ts, extra=extra_meta) + dataset


def code_item(implicit: bool, undefined: bool, meaning: bytes = b"Localizer") -> bytes:
    return item(
        el(0x00080100, "SH", b"121311", implicit=implicit)
        + el(0x00080102, "SH", b"DCM", implicit=implicit)
        + el(0x00080104, "LO", meaning, implicit=implicit),
        undefined=undefined,
    )


def image(implicit: bool, *, charset: bytes = b"ISO_IR 192", uid_tail: bytes = b"1", pixels: bool = True) -> bytes:
    """A CT-like dataset with every common VR, nested sequences of both lengths before the image
    values, private elements, multi-valued DS/IS/CS/US/FL, odd values padded, empty values and values
    longer than the 64-byte defer size the tests use."""
    e = lambda tag, vr, value=b"", **k: el(tag, vr, value, implicit=implicit, **k)  # noqa: E731
    nested = seq(
        0x0040A170,  # Purpose of Reference Code Sequence
        [code_item(implicit, True), code_item(implicit, False, "Müller".encode())],
        implicit=implicit,
        undefined=True,
    )
    source_items = [
        item(
            e(0x00081150, "UI", CT.encode()) + e(0x00081155, "UI", b"1.2.3.4.77") + nested,
            undefined=True,
        ),
        item(e(0x00081150, "UI", CT.encode()) + e(0x00081155, "UI", b"1.2.3.4.78"), undefined=False),
    ]
    parts = [
        e(0x00080005, "CS", charset),
        e(0x00080008, "CS", b"ORIGINAL\\PRIMARY\\AXIAL"),
        e(0x00080012, "DA", b"20240131"),
        e(0x00080013, "TM", b"101010.5"),
        e(0x00080016, "UI", CT.encode()),
        e(0x00080018, "UI", b"1.2.3.4.5." + uid_tail),
        e(0x00080020, "DA"),  # empty
        e(0x0008002A, "DT", b"20240131101010"),
        e(0x00080050, "SH"),  # empty
        e(0x00080054, "AE", b"STORE"),
        e(0x00080060, "CS", b"CT"),
        e(0x00080090, "PN", "Dr^Ärztin".encode()),
        e(0x0008103E, "LO", "Série 1".encode()),
        seq(0x00082112, source_items, implicit=implicit, undefined=True),  # Source Image Sequence
        seq(0x00089215, [code_item(implicit, False)], implicit=implicit, undefined=False),  # Derivation Code
        e(0x00090010, "LO", b"ACME 1.1"),  # private creator
        e(0x00091001, "UN" if not implicit else "LO", b"\x01\x02\x03"),  # private, odd: padded
        e(0x00091002, "LT", b"x" * 100),  # private, deferred
        e(0x00100010, "PN", "Müller^Jürgen".encode()),
        e(0x00100020, "LO", b"ID7"),
        e(0x00101010, "AS", b"042Y"),
        e(0x00180050, "DS", b"1.25"),
        e(0x00181310, "US", struct.pack("<4H", 0, 23, 38, 0)),
        e(0x0020000D, "UI", b"1.2.3.4.6"),
        e(0x0020000E, "UI", b"1.2.3.4.7"),
        e(0x00200013, "IS", b" 7"),
        e(0x00200032, "DS", b"-12.5\\ 3.25 \\1e2"),
        e(0x00200037, "DS", b"1\\0\\0\\0\\1\\0"),
        e(0x00200052, "UI", b"1.2.3.4.8"),
        e(0x00201041, "DS", b"+.5"),
        e(0x00204000, "LT", b"a" * 200),  # deferred
        e(0x00280002, "US", struct.pack("<H", 1)),
        e(0x00280004, "CS", b"MONOCHROME2"),
        e(0x00280010, "US", struct.pack("<H", 3)),
        e(0x00280011, "US", struct.pack("<H", 2)),
        e(0x00280030, "DS", b"0.5\\0.75"),
        e(0x00280100, "US", struct.pack("<H", 16)),
        e(0x00281050, "DS", b"40\\400"),
        e(0x00281052, "DS", b"-1024"),
        e(0x00283010, "SQ", b"", length=0),  # empty sequence of defined length
        e(0x00409096, "SQ", b"", length=0),
        e(0x0040A30A, "DS", b"1\\2\\3"),
        e(0x00540081, "US", struct.pack("<H", 1)),
        e(0x00660016, "FL", struct.pack("<2f", 1.5, -2.0)),
        e(0x00700084, "PN"),
        e(0x00741000, "CS", b"A"),  # odd: padded with a space
        e(0x00880140, "UI", b"1.2.3"),  # odd: padded with NUL
        e(0x30060050, "DS", b"1\\2\\3\\4"),
        e(0x40000010, "UT", b"t" * 70),  # deferred, long VR
    ]
    if pixels:
        parts.append(e(0x7FE00010, "OW", struct.pack("<6H", *range(6))))
        parts.append(e(0x7FE10010, "LO", b"after pixels"))
    return b"".join(parts)


DEFER = 64


def raw_fields(elem):
    """What the reader put in an element: the RawDataElement's fields, or for a sequence pydicom parsed
    (undefined length) its VR, length flag and converted items."""
    if isinstance(elem, RawDataElement):
        return tuple(elem)
    if elem.VR != "SQ":  # converted by the reader (the Specific Character Set)
        return (elem.tag, elem.VR, repr(elem.value), elem.file_tell)
    return (elem.tag, elem.VR, elem.is_undefined_length, elem.file_tell, nested(elem.value))


def nested(sequence) -> list:
    out = []
    for ds in sequence:
        rows = []
        for elem in ds:
            if elem.VR == "SQ":
                rows.append((elem.tag, "SQ", elem.is_undefined_length, nested(elem.value)))
            else:
                rows.append((elem.tag, elem.VR, repr(elem.value)))
        out.append((ds.is_undefined_length_sequence_item, rows))
    return out


def assert_as_pydicom(path: Path, defer: int = DEFER) -> None:
    """scan_header's dataset is pydicom's: raw elements, File Meta, preamble, encodings, and every value
    converted (deferred ones read back from the file)."""
    fast = headerscan.scan_header(path, defer)
    slow = pydicom.dcmread(path, stop_before_pixels=True, defer_size=defer)
    assert fast is not None, path
    assert list(fast._dict) == list(slow._dict)
    for tag in slow._dict:
        assert raw_fields(fast._dict[tag]) == raw_fields(slow._dict[tag]), hex(tag)
    assert type(fast.file_meta) is type(slow.file_meta)
    assert list(fast.file_meta._dict) == list(slow.file_meta._dict)
    for attr in ("preamble", "filename", "original_encoding", "original_character_set", "is_little_endian"):
        assert getattr(fast, attr) == getattr(slow, attr), attr
    assert fast.file_meta.original_encoding == slow.file_meta.original_encoding
    assert fast.file_meta.original_character_set == slow.file_meta.original_character_set
    for a, b in zip(fast, slow):
        assert converted(a) == converted(b)
    assert list(map(converted, fast.file_meta)) == list(map(converted, slow.file_meta))


def converted(e) -> tuple:
    return (e.tag, e.VR, repr(e.value), e.file_tell, e.is_undefined_length)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("headerscan")
    out: dict[str, Path] = {}

    def write(name: str, data: bytes) -> None:
        out[name] = folder / name
        out[name].write_bytes(data)

    write("explicit", part10(image(False), EXPLICIT))
    write("implicit", part10(image(True), IMPLICIT))
    write("explicit2", part10(image(False, uid_tail=b"2"), EXPLICIT))  # same layout, other values
    write("implicit2", part10(image(True, charset=b"ISO_IR 100", uid_tail=b"2"), IMPLICIT))
    write("jpeg", part10(image(False), JPEG_BASELINE))
    write("nopixels", part10(image(False, pixels=False), EXPLICIT))
    write("big", part10(image(False), BIG))
    squeeze = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)  # PS3.5 A.5: raw deflate of the dataset
    write("deflated", part10(squeeze.compress(image(False)) + squeeze.flush(), DEFLATED))
    write("unknown_ts", part10(image(False), "1.2.3.4.5.6"))
    write("private_ts", part10(image(False), "1.3.46.670589.33.1.4.1"))
    write("no_preamble", meta(EXPLICIT) + image(False))
    write("raw", image(True))
    return out


@pytest.mark.parametrize("name", ["explicit", "implicit", "explicit2", "implicit2", "jpeg", "nopixels"])
def test_plain_files_are_read_as_pydicom_reads_them(files, name):
    headerscan._layouts.clear()
    assert_as_pydicom(files[name])
    assert_as_pydicom(files[name])  # the second time from the layout of the first
    for defer in (4, 10000):
        assert_as_pydicom(files[name], defer)


def test_a_series_layout_gives_each_files_own_values(files):
    headerscan._layouts.clear()
    for name in ("explicit", "explicit2", "explicit", "implicit", "implicit2", "implicit", "nopixels", "explicit"):
        assert_as_pydicom(files[name])


@pytest.mark.parametrize("name", ["big", "deflated", "unknown_ts", "private_ts", "no_preamble", "raw"])
def test_other_files_are_left_to_pydicom(files, name):
    """Big endian, deflated, unknown and private transfer syntaxes, no preamble or File Meta: None, and
    pydicom reads them (so the caller's fall-back has a file to read)."""
    assert headerscan.scan_header(files[name], DEFER) is None
    if name in ("deflated", "no_preamble", "raw"):
        assert pydicom.dcmread(files[name], stop_before_pixels=True, force=True).Modality == "CT"
