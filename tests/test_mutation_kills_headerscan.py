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


def meta(ts: str | None, *, extra: bytes = b"") -> bytes:
    """File Meta Information (PS3.10 7.1), Explicit VR Little Endian, with its group length."""
    body = (
        el(0x00020001, "OB", b"\x00\x01")
        + el(0x00020002, "UI", CT.encode())
        + el(0x00020003, "UI", b"1.2.3.4.5")
        + (el(0x00020010, "UI", ts.encode()) if ts is not None else b"")
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
    e = lambda tag, vr, value=b"", **k: el(tag, vr, value, implicit=implicit, **k)
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


def raw_fields(elem, tells: bool = True):
    """What the reader put in an element: the RawDataElement's fields, or for a sequence pydicom parsed
    (undefined length) its VR, length flag and converted items."""
    if isinstance(elem, RawDataElement):
        return tuple(elem)
    if elem.VR != "SQ":  # converted by the reader (the Specific Character Set)
        return (elem.tag, elem.VR, repr(elem.value), elem.file_tell)
    return (elem.tag, elem.VR, elem.is_undefined_length, elem.file_tell, nested(elem.value, tells))


def nested(sequence, tells: bool = True) -> list:
    """Items: each one's offset, length flag and elements (with their offsets when ``tells``)."""
    out = []
    for ds in sequence:
        rows = []
        for elem in ds:
            tell = elem.file_tell if tells else None
            if elem.VR == "SQ":
                rows.append((elem.tag, "SQ", elem.is_undefined_length, tell, nested(elem.value, tells)))
            else:
                rows.append((elem.tag, elem.VR, repr(elem.value), tell))
        tell = ds.seq_item_tell if tells else None
        out.append((ds.is_undefined_length_sequence_item, tell, ds.original_character_set, rows))
    return out


def assert_as_pydicom(path: Path, defer: int = DEFER, *, convert: bool = True, tells: bool = True) -> None:
    """scan_header's dataset is pydicom's: raw elements, File Meta, preamble, encodings, and every value
    converted (deferred ones read back from the file). ``tells=False``: the offsets of the items of an
    undefined-length sequence and of their elements are not compared (see the test of those files)."""
    fast = headerscan.scan_header(path, defer)
    slow = pydicom.dcmread(path, stop_before_pixels=True, defer_size=defer)
    assert fast is not None, path
    assert list(fast._dict) == list(slow._dict)
    for tag in slow._dict:
        assert raw_fields(fast._dict[tag], tells) == raw_fields(slow._dict[tag], tells), hex(tag)
    assert type(fast.file_meta) is type(slow.file_meta)
    assert list(fast.file_meta._dict) == list(slow.file_meta._dict)
    for attr in ("preamble", "filename", "original_encoding", "original_character_set", "is_little_endian"):
        assert getattr(fast, attr) == getattr(slow, attr), attr
    assert fast.file_meta.original_encoding == slow.file_meta.original_encoding
    assert fast.file_meta.original_character_set == slow.file_meta.original_character_set
    if not convert:
        return
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
    write("bad_marker", b"\0" * 128 + b"DICX" + meta(EXPLICIT) + image(False))  # PS3.10 7.1: "DICM"
    write("no_transfer_syntax", b"\0" * 128 + b"DICM" + meta(None) + image(False))
    write("empty_transfer_syntax", b"\0" * 128 + b"DICM" + meta("") + image(False))
    write("empty_character_set_flat", part10(el(0x00080005, "CS") + head(False) + tail(False), EXPLICIT))
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


@pytest.mark.parametrize(
    "name",
    [
        "big",
        "deflated",
        "unknown_ts",
        "private_ts",
        "no_preamble",
        "raw",
        "bad_marker",
        "no_transfer_syntax",
        "empty_transfer_syntax",
    ],
)
def test_other_files_are_left_to_pydicom(files, name):
    """Big endian, deflated, unknown and private transfer syntaxes, no preamble or File Meta: None, and
    pydicom reads them (so the caller's fall-back has a file to read)."""
    assert headerscan.scan_header(files[name], DEFER) is None
    if name in ("deflated", "no_preamble", "raw"):
        assert pydicom.dcmread(files[name], stop_before_pixels=True, force=True).Modality == "CT"


# -- files made for one branch each ------------------------------------------------------------------


def nest(depth: int, implicit: bool, tag: int = 0x00082112) -> bytes:
    """``depth`` sequences (Source Image Sequence), each in an undefined-length item of the one before."""
    body = el(0x00081155, "UI", b"1.2.3", implicit=implicit)
    for _ in range(depth):
        body = seq(tag, [item(body, undefined=True)], implicit=implicit, undefined=True)
    return body


def head(implicit: bool) -> bytes:
    e = lambda tag, vr, value=b"": el(tag, vr, value, implicit=implicit)
    return e(0x00080016, "UI", CT.encode()) + e(0x00080018, "UI", b"1.2.3.4.5.1") + e(0x00080060, "CS", b"CT")


def tail(implicit: bool) -> bytes:
    e = lambda tag, vr, value=b"": el(tag, vr, value, implicit=implicit)
    return e(0x0020000D, "UI", b"1.2.3.4.6") + e(0x0020000E, "UI", b"1.2.3.4.7") + e(0x7FE00010, "OW", b"\0\0")


def private_sq(implicit: bool, *, items: bool = True) -> bytes:
    """A private creator and an undefined-length private element, a sequence when it holds items."""
    inner = (
        item(el(0x00091010, "LO", b"inner", implicit=implicit), undefined=True)
        if items
        else el(0x00091010, "LO", b"inner", implicit=implicit)
    )
    return el(0x00090010, "LO", b"ACME", implicit=implicit) + el(
        0x00091003, "SQ", inner + struct.pack("<HHL", 0xFFFE, 0xE0DD, 0), implicit=implicit, length=UNDEFINED
    )


def first_length(c0: str, c1: str) -> bytes:
    """An Implicit VR dataset whose first element's length bytes read as the "VR" ``c0 c1`` (PS3.5 7.1.3:
    the 4-byte length sits where an explicit VR would be)."""
    n = ord(c0) | ord(c1) << 8
    return el(0x00080008, "CS", b"A" * n, implicit=True, length=n) + head(True) + tail(True)


def item_body(implicit: bool) -> bytes:
    """An item with a long-VR element, a defined-length sequence and a short-VR element."""
    e = lambda tag, vr, value=b"": el(tag, vr, value, implicit=implicit)
    return (
        e(0x00081150, "UI", CT.encode())
        + e(0x00081155, "UI", b"1.2.3.9")
        + e(0x00209158, "LT", b"l" * 300)
        + e(0x00400254, "LO", b"odd")
        + seq(0x0040A170, [code_item(implicit, False)], implicit=implicit, undefined=False)
    )


SPECIAL = {
    # name: (dataset, transfer syntax, scan_header reads it (as pydicom does) or leaves it (None))
    "nested17": (head(False) + nest(17, False) + tail(False), EXPLICIT, True),
    "nested18": (head(False) + nest(18, False) + tail(False), EXPLICIT, False),
    "nested17_implicit": (head(True) + nest(17, True) + tail(True), IMPLICIT, True),
    "items_with_long_values": (
        head(False)
        + seq(0x00082112, [item(item_body(False), undefined=True)] * 2, implicit=False, undefined=True)
        + tail(False),
        EXPLICIT,
        True,
    ),
    "items_with_long_values_implicit": (
        head(True)
        + seq(0x00082112, [item(item_body(True), undefined=True)] * 2, implicit=True, undefined=True)
        + tail(True),
        IMPLICIT,
        True,
    ),
    "implicit_private_sequence": (head(True) + private_sq(True) + tail(True), IMPLICIT, True),
    "implicit_private_not_a_sequence": (head(True) + private_sq(True, items=False) + tail(True), IMPLICIT, False),
    "explicit_undefined_ob": (
        head(False) + el(0x00091003, "OB", b"\1\2" + struct.pack("<HHL", 0xFFFE, 0xE0DD, 0), length=UNDEFINED),
        EXPLICIT,
        False,
    ),
    "explicit_undefined_un": (
        head(False)
        + el(0x00090010, "LO", b"ACME")
        + el(0x00091003, "UN", item(b"", undefined=True) + struct.pack("<HHL", 0xFFFE, 0xE0DD, 0), length=UNDEFINED),
        EXPLICIT,
        False,
    ),
    "no_item_in_sequence": (
        head(False)
        + el(0x00082112, "SQ", el(0x00081155, "UI", b"1.2") + struct.pack("<HHL", 0xFFFE, 0xE0DD, 0), length=UNDEFINED)
        + tail(False),
        EXPLICIT,
        False,
    ),
    "odd_vr_in_item": (
        head(False)
        + seq(0x00082112, [item(el(0x00081155, "ZZ", b"1.2"), undefined=True)], implicit=False, undefined=True)
        + tail(False),
        EXPLICIT,
        False,
    ),
    "out_of_order": (
        el(0x00080018, "UI", b"1.2.3.4.5.1") + el(0x00080016, "UI", CT.encode()) + tail(False),
        EXPLICIT,
        False,
    ),
    "float_pixels": (head(False) + el(0x7FE00008, "OF", b"\0" * 4) + el(0x7FE10010, "LO", b"x"), EXPLICIT, True),
    "double_pixels": (head(False) + el(0x7FE00009, "OD", b"\0" * 8) + el(0x7FE10010, "LO", b"x"), EXPLICIT, True),
    "length_64_kept": (head(False) + el(0x00081030, "LO", b"d" * 64) + tail(False), EXPLICIT, True),
    "length_65_deferred": (head(False) + el(0x00081030, "LO", b"d" * 65) + tail(False), EXPLICIT, True),
    "long_header": (
        head(False)
        + el(0x00104000, "LT", b"c" * 30000)  # deferred: the next element lies past the first read
        + el(0x00189424, "LT", b"k" * 20000)  # longer than the first read, kept with a large defer size
        + tail(False),
        EXPLICIT,
        True,
    ),
    "tiny": (el(0x00080060, "CS"), EXPLICIT, True),  # one empty element: 8 bytes
    "meta_only": (b"", EXPLICIT, False),
    "five_bytes": (b"\x08\x00\x60\x00C", EXPLICIT, False),
    "command_set": (el(0x00000002, "UI", CT.encode(), implicit=True) + head(True), IMPLICIT, False),
    "implicit_in_explicit": (head(True) + tail(True), EXPLICIT, False),
    "explicit_in_implicit": (head(False) + tail(False), IMPLICIT, False),
    "first_length_at": (first_length("@", "A"), IMPLICIT, True),
    "first_length_bracket": (first_length("[", "A"), IMPLICIT, True),
    "first_length_second_at": (first_length("A", "@"), IMPLICIT, True),
    "first_length_second_bracket": (first_length("A", "["), IMPLICIT, True),
    "first_length_AA": (first_length("A", "A"), IMPLICIT, False),
    "first_length_ZZ": (first_length("Z", "Z"), IMPLICIT, False),
    "jpip_deflate": (head(False) + tail(False), "1.2.840.10008.1.2.4.205", False),
    "duplicate_element": (head(False) + el(0x00080060, "CS", b"MR") + tail(False), EXPLICIT, False),
    "sequence_at_the_end": (head(False) + nest(2, False), EXPLICIT, True),
    "sequence_at_the_end_implicit": (head(True) + nest(2, True), IMPLICIT, True),
    "sequence_after_a_far_value": (  # items scanned in a window that no longer starts at the file's start
        head(False) + el(0x00104000, "LT", b"c" * 30000) + nest(3, False, 0x00189346) + tail(False),
        EXPLICIT,
        True,
    ),
    "sequence_after_a_far_value_implicit": (
        head(True) + el(0x00104000, "LT", b"c" * 30000, implicit=True) + nest(3, True, 0x00189346) + tail(True),
        IMPLICIT,
        True,
    ),
    "empty_long_value_at_the_end": (  # its 12-byte header ends the file, past the first read
        head(False) + el(0x00104000, "LT", b"c" * 30000) + el(0x00189424, "UT"),
        EXPLICIT,
        True,
    ),
    "one_byte_value": (  # an odd length, as written (PS3.5 7.1.1 wants even ones; pydicom reads it)
        head(False)[:-10] + el(0x00080060, "CS", b"C", length=1) + el(0x00080070, "LO", b"ACME"),
        EXPLICIT,
        True,
    ),
    "header_across_the_first_read": (  # an element header on both sides of byte 16384 (FIRST_READ)
        head(False) + el(0x00104000, "LT", b"c" * (16380 - 8 - len(part10(head(False), EXPLICIT)))) + tail(False),
        EXPLICIT,
        True,
    ),
    "big_sequence": (  # items past the first read: the window moves while the items are scanned
        head(False)
        + seq(
            0x00082112,
            [item(el(0x00081155, "UI", b"1.2.3") + el(0x00209158, "LT", b"k" * 20000), undefined=False)] * 2
            + [item(el(0x00081155, "UI", b"1.2.4"), undefined=True)],
            implicit=False,
            undefined=True,
        )
        + tail(False),
        EXPLICIT,
        True,
    ),
    "long_value_at_the_end": (head(False) + el(0x00104000, "LT", b"c" * 30000), EXPLICIT, True),
    "no_character_set": (  # no (0008,0005) at all: the default repertoire too
        head(False)
        + seq(0x00082112, [item(el(0x00081030, "LO", b"caf\xe9"), undefined=True)], implicit=False, undefined=True)
        + tail(False),
        EXPLICIT,
        True,
    ),
    "empty_character_set": (  # the default repertoire (PS3.3 C.12.1.1.2): a byte 0xE9 in a sequence is é
        el(0x00080005, "CS")
        + head(False)
        + seq(0x00082112, [item(el(0x00081030, "LO", b"caf\xe9"), undefined=True)], implicit=False, undefined=True)
        + tail(False),
        EXPLICIT,
        True,
    ),
}


@pytest.fixture(scope="module")
def special(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("special")
    out = {}
    for name, (dataset, ts, _) in SPECIAL.items():
        out[name] = folder / name
        out[name].write_bytes(part10(dataset, ts))
    return out


def test_offsets_in_a_sequence_after_a_far_value(special):
    """Known difference, left alone (no value depends on it): a sequence that starts after the first
    16 KiB read is parsed from a window of the file, so its items' elements get offsets from the window's
    start where pydicom gives offsets from the file's start. pydicom never defers a value inside a
    sequence, so these offsets are never used to read a value; the items' own offsets are right."""
    fast = headerscan.scan_header(special["sequence_after_a_far_value"], DEFER)
    slow = pydicom.dcmread(special["sequence_after_a_far_value"], stop_before_pixels=True, defer_size=DEFER)
    a, b = fast[0x00189346].value[0], slow[0x00189346].value[0]
    assert a.seq_item_tell == b.seq_item_tell
    start = slow[0x00189346].file_tell - 12  # the window was moved to the sequence's element header
    assert a[0x00189346].file_tell == b[0x00189346].file_tell - start


@pytest.mark.parametrize("name", list(SPECIAL))
def test_each_branch_against_pydicom(special, name):
    """Read as pydicom reads it, or left to pydicom (None)."""
    headerscan._layouts.clear()
    if SPECIAL[name][2]:
        for defer in (DEFER, 100000, DEFER):
            assert_as_pydicom(special[name], defer, tells="far_value" not in name and name != "big_sequence")
    else:
        assert headerscan.scan_header(special[name], DEFER) is None


@pytest.mark.parametrize("name", ["explicit", "implicit"])
def test_every_cut_is_read_as_pydicom_reads_it_or_left_to_it(files, tmp_path, name):
    """A file cut at each byte: None (pydicom's path, with its errors), or pydicom's dataset; never None
    when the cut falls between two top-level elements (a complete, shorter header)."""
    data = files[name].read_bytes()
    fmi_end = 132 + len(meta(EXPLICIT if name == "explicit" else IMPLICIT))
    reference = pydicom.dcmread(files[name], stop_before_pixels=True, defer_size=DEFER)
    tells = [(getattr(e, "value_tell", None) or e.file_tell, e.VR) for e in reference._dict.values()]
    boundaries = {tell - (8 if name == "implicit" or vr not in LONG else 12) for tell, vr in tells}
    headerscan._layouts.clear()
    cut = tmp_path / "cut.dcm"
    read = set()
    end = data.index(b"\xe0\x7f\x10\x00")
    cuts = {b + d for b in boundaries | {fmi_end} for d in (-1, 0, 1, 5, 6, 7, 8, 11)} | set(
        range(fmi_end - 20, end, 9)
    )
    for n in sorted(c for c in cuts if c <= end):
        cut.write_bytes(data[:n])
        fast = headerscan.scan_header(cut, DEFER)
        if fast is not None:
            assert_as_pydicom(cut, convert=False)
            read.add(n)
    assert boundaries - {min(boundaries)} <= read


# -- plain_values: pydicom's decoded values ------------------------------------------------------------


def expected_values(path: Path) -> dict:
    """What plain_values must give, from pydicom's conversion of the same file."""
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    uid = lambda k: str(ds[k].value) or None if k in ds and ds[k].value else None
    strings = lambda k: tuple(str(v) for v in ds[k].value) if k in ds and ds[k].value not in (None, "") else None
    number = ds.get("InstanceNumber")
    thickness = ds.get("SliceThickness")
    return {
        "sop_class_uid": uid("SOPClassUID"),
        "sop_instance_uid": uid("SOPInstanceUID"),
        "series_instance_uid": uid("SeriesInstanceUID"),
        "study_instance_uid": uid("StudyInstanceUID"),
        "frame_of_reference_uid": uid("FrameOfReferenceUID"),
        "modality": str(ds.get("Modality") or "").strip(),
        "rows": ds.get("Rows"),
        "columns": ds.get("Columns"),
        "instance_number": None if number in (None, "") else int(number),
        "position": strings("ImagePositionPatient"),
        "orientation": strings("ImageOrientationPatient"),
        "spacing": strings("PixelSpacing"),
        "thickness": None if thickness in (None, "") else str(thickness),
    }


def values_file(tmp: Path, name: str, changes: dict[int, tuple[str, bytes]], *, implicit: bool = False) -> Path:
    """A small image with the identifiers and Image Plane values, some replaced (``changes``: tag ->
    (VR, value bytes); a VR of "" leaves the element out)."""
    elements = {
        0x00080016: ("UI", CT.encode()),
        0x00080018: ("UI", b"1.2.3.4.5.1"),
        0x00080060: ("CS", b"CT"),
        0x00180050: ("DS", b"1.25"),
        0x0020000D: ("UI", b"1.2.3.4.6"),
        0x0020000E: ("UI", b"1.2.3.4.7"),
        0x00200013: ("IS", b"7"),
        0x00200032: ("DS", b"-12.5\\3.25\\100"),
        0x00200037: ("DS", b"1\\0\\0\\0\\1\\0"),
        0x00200052: ("UI", b"1.2.3.4.8"),
        0x00280010: ("US", struct.pack("<H", 3)),
        0x00280011: ("US", struct.pack("<H", 258)),
        0x00280030: ("DS", b"0.5\\0.75"),
    } | changes
    dataset = b"".join(
        el(tag, vr, value, implicit=implicit, length=len(value) if vr == "UI" or len(value) == 17 else None)
        for tag, (vr, value) in sorted(elements.items())
        if vr
    )
    path = tmp / name
    path.write_bytes(part10(dataset, IMPLICIT if implicit else EXPLICIT))
    return path


PLAIN = {
    "as_written": {},
    "uid_nul_padded": {0x00080018: ("UI", b"1.2.3.4.5.10\x00")},
    "uid_space_padded": {0x0020000E: ("UI", b"1.2.3.4.70 ")},
    "uid_64": {0x00080018: ("UI", b"1." + b"2" * 62)},
    "uid_zero_parts": {0x00200052: ("UI", b"0.0.1.0")},
    "no_frame_of_reference": {0x00200052: ("", b"")},
    "empty_frame_of_reference": {0x00200052: ("UI", b"")},
    "modality_padded": {0x00080060: ("CS", b"MR ")},
    "modality_long": {0x00080060: ("CS", b"ABCDEFGHIJ_12345")},
    "modality_empty": {0x00080060: ("CS", b"")},
    "modality_spaces": {0x00080060: ("CS", b"  ")},
    "no_modality": {0x00080060: ("", b"")},
    "rows_large": {0x00280010: ("US", struct.pack("<H", 65535))},
    "no_rows": {0x00280010: ("", b"")},
    "no_columns": {0x00280011: ("", b"")},
    "number_signed": {0x00200013: ("IS", b"-42 ")},
    "number_plus": {0x00200013: ("IS", b"+9")},
    "number_padded": {0x00200013: ("IS", b" 12 ")},
    "number_12_digits": {0x00200013: ("IS", b"000000000123")},
    "number_empty": {0x00200013: ("IS", b"")},
    "no_number": {0x00200013: ("", b"")},
    "position_forms": {0x00200032: ("DS", b" +1.5e-3 \\-.25\\7.")},
    "position_16": {0x00200032: ("DS", b"-1234567890.1234\\1E+10\\0")},
    "spacing_exponent": {0x00280030: ("DS", b"5e-1\\2.5E0")},
    "no_position": {0x00200032: ("", b"")},
    "empty_orientation": {0x00200037: ("DS", b"")},
    "no_spacing": {0x00280030: ("", b"")},
    "thickness_padded": {0x00180050: ("DS", b" 3 ")},
    "no_thickness": {0x00180050: ("", b"")},
}
NOT_PLAIN = {  # values the fast path leaves to pydicom (plain_values is None); what pydicom makes of them
    "uid_65": {0x00080018: ("UI", b"1." + b"2" * 63)},
    "uid_leading_zero": {0x00080018: ("UI", b"1.02.3")},
    "uid_letters": {0x00080018: ("UI", b"1.2.a")},
    "uid_two_pads": {0x00080018: ("UI", b"1.2.3\x00\x00")},
    "uid_empty_part": {0x00080018: ("UI", b"1..3")},
    "uid_empty_sop_class": {0x00080016: ("UI", b"")},
    "no_sop_class": {0x00080016: ("", b"")},
    "no_sop_instance": {0x00080018: ("", b"")},
    "no_series": {0x0020000E: ("", b"")},
    "no_study": {0x0020000D: ("", b"")},
    "uid_as_un": {0x0020000E: ("UN", b"1.2.3.4.7")},
    "modality_lower": {0x00080060: ("CS", b"ct")},
    "modality_17": {0x00080060: ("CS", b"ABCDEFGHIJ_123456")},
    "rows_as_ss": {0x00280010: ("SS", struct.pack("<h", 3))},
    "rows_two_values": {0x00280010: ("US", struct.pack("<2H", 3, 4))},
    "number_13_digits": {0x00200013: ("IS", b"1234567890123")},
    "number_17": {0x00200013: ("IS", b"    123456789012 ")},  # odd: written as is
    "number_spaces": {0x00200013: ("IS", b"  ")},
    "number_decimal": {0x00200013: ("IS", b"7.0")},
    "number_two_values": {0x00200013: ("IS", b"7\\8")},
    "position_two_values": {0x00200032: ("DS", b"1\\2")},
    "position_four_values": {0x00200032: ("DS", b"1\\2\\3\\4")},
    "position_17_bytes": {0x00200032: ("DS", b"-1234567890.12345\\1\\2")},
    "position_comma": {0x00200032: ("DS", b"1,5\\2\\3")},
    "position_empty_value": {0x00200032: ("DS", b"1\\\\3")},
    "orientation_five": {0x00200037: ("DS", b"1\\0\\0\\0\\1")},
    "spacing_three": {0x00280030: ("DS", b"1\\1\\1")},
    "thickness_two": {0x00180050: ("DS", b"1\\2")},
    "multiframe": {0x00280008: ("IS", b"1")},
    "position_as_fd": {0x00200032: ("FD", struct.pack("<3d", 1, 2, 3))},
}


VALUES_DEFER = 4096  # source_headers.DEFER_SIZE: no identifier or plane value is deferred


@pytest.fixture(scope="module")
def value_files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("values")
    out = {}
    for name, changes in (PLAIN | NOT_PLAIN).items():
        out[name] = values_file(folder, name, changes)
        out["implicit_" + name] = values_file(folder, "implicit_" + name, changes, implicit=True)
    return out


@pytest.mark.parametrize("implicit", [False, True])
@pytest.mark.parametrize("name", list(PLAIN))
def test_plain_values_are_pydicoms(value_files, name, implicit):
    path = value_files[("implicit_" if implicit else "") + name]
    values = headerscan.plain_values(headerscan.scan_header(path, VALUES_DEFER))
    assert values == expected_values(path)
    for key in ("rows", "columns", "instance_number"):
        assert values[key] is None or type(values[key]) is int


@pytest.mark.parametrize("name", list(NOT_PLAIN))
def test_values_not_in_the_plain_form_are_left_to_pydicom(value_files, name):
    if name in ("uid_as_un", "rows_as_ss"):  # an Implicit VR file has no VR to get wrong
        assert (
            headerscan.plain_values(headerscan.scan_header(value_files["implicit_" + name], VALUES_DEFER)) is not None
        )
    else:
        assert headerscan.plain_values(headerscan.scan_header(value_files["implicit_" + name], VALUES_DEFER)) is None
    assert values_of(value_files[name]) is None


def values_of(path: Path):
    return headerscan.plain_values(headerscan.scan_header(path, VALUES_DEFER))


def test_plain_values_leave_deferred_values_and_other_number_types_to_pydicom(value_files, monkeypatch):
    path = value_files["as_written"]
    assert headerscan.plain_values(headerscan.scan_header(path, 24)) is None  # the SOP Class UID deferred
    assert headerscan.plain_values(headerscan.scan_header(path, 25)) is not None  # the longest value: 25 bytes
    for option in ("use_DS_decimal", "use_DS_numpy", "use_IS_numpy"):
        monkeypatch.setattr(pydicom.config, option, True)
        assert headerscan.plain_values(headerscan.scan_header(path, DEFER)) is None, option
        monkeypatch.setattr(pydicom.config, option, False)


def test_headers_longer_than_64_mib_are_left_to_pydicom(tmp_path):
    """MAX_HEADER: an element that starts past 64 MiB (after a deferred value; the file is sparse) is not
    walked; one that starts just before is."""
    exact = (64 << 20) - 12 - len(part10(head(False) + el(0x00104000, "OB", b"", length=0), EXPLICIT))
    for gap, read in ((64 << 20, False), ((64 << 20) - 2000, True), (exact, True), (exact + 1, False)):
        path = tmp_path / f"far{gap}.dcm"
        start = part10(head(False) + el(0x00104000, "OB", b"", length=gap), EXPLICIT)
        with open(path, "wb") as f:
            f.write(start)
            f.seek(len(start) + gap)
            f.write(tail(False))
        fast = headerscan.scan_header(path, DEFER)
        assert (fast is not None) == read
        if read:
            assert fast.SeriesInstanceUID == "1.2.3.4.7"


def test_no_warning_where_pydicom_gives_none(special, files):
    """An empty Specific Character Set is the default repertoire (PS3.3 C.12.1.1.2): pydicom reads such a
    file without a warning, and so must the scanner (no "unknown encoding" of its own)."""
    import warnings

    headerscan._layouts.clear()
    for path in (
        special["empty_character_set"],
        files["empty_character_set_flat"],  # no sequence: read the second time from its layout
        files["explicit"],
        files["implicit2"],
    ):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            pydicom.dcmread(path, stop_before_pixels=True, defer_size=DEFER)
            assert headerscan.scan_header(path, DEFER) is not None
            assert headerscan.scan_header(path, DEFER) is not None  # from the layout


def test_a_layout_is_used_only_where_the_next_element_is_the_same(tmp_path):
    """The walk stopped at Pixel Data; a file with the same elements up to there but another element in
    its place (Rows, then Pixel Data) is walked, not read from the layout (its Rows would be lost)."""
    headerscan._layouts.clear()
    a, b = tmp_path / "a.dcm", tmp_path / "b.dcm"
    a.write_bytes(part10(head(False) + tail(False), EXPLICIT))
    rows = el(0x00280010, "US", struct.pack("<H", 3))
    b.write_bytes(part10(head(False) + tail(False)[:-14] + rows + tail(False)[-14:], EXPLICIT))
    assert_as_pydicom(a)
    assert_as_pydicom(b)
    assert headerscan.scan_header(b, DEFER).Rows == 3
