"""The fast encoder (write/encode.py) against pydicom's ``dcmwrite``: every value kind, padding, length field,
File Meta completion and every dataset it must hand to ``dcmwrite``, byte for byte (tests/MUTATION.md: mutants of
write/encode.py that tests/test_encode.py did not notice). The oracle is pydicom's writer, and pydicom's reader
for what the bytes mean; each supported dataset is encoded by ``encode_parts`` itself (never the fallback)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from pydicom import dcmread
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filewriter import dcmwrite
from pydicom.tag import Tag
from pydicom.uid import (
    PYDICOM_IMPLEMENTATION_UID,
    UID,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    RLELossless,
)
from pydicom.valuerep import IS, DSfloat, PersonName

from dcmspec_compiler.write import encode
from dcmspec_compiler.write.encode import STREAM_BYTES, encode_file, encode_parts
from dcmspec_compiler.write.output import write_dicom


def _pydicom(ds: Dataset) -> bytes:
    buffer = io.BytesIO()
    dcmwrite(buffer, ds, enforce_file_format=True)
    return buffer.getvalue()


def _ours(ds: Dataset) -> bytes:
    return b"".join(bytes(p) for p in encode_parts(ds))


def _base(ts=ExplicitVRLittleEndian) -> Dataset:
    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.88.33"
    ds.SOPInstanceUID = "1.2.3.4.5"  # odd length: NUL padded
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ts
    return ds


def _same(ds: Dataset) -> bytes:
    """Encoded by the fast encoder (not declined) into exactly dcmwrite's bytes."""
    expected = _pydicom(ds)
    assert _ours(ds) == expected
    out = io.BytesIO()
    write_dicom(out, ds)
    assert out.getvalue() == expected
    return expected


def _declined(ds: Dataset) -> None:
    """Handed to dcmwrite: encode_file declines, and write_dicom still writes dcmwrite's bytes."""
    assert encode_file(ds) is None
    with pytest.raises(encode.Unsupported):
        encode_parts(ds)
    out = io.BytesIO()
    write_dicom(out, ds)
    assert out.getvalue() == _pydicom(ds)


def _element_bytes(data: bytes, tag: int) -> bytes:
    """The bytes of one top-level element in a file written by dcmwrite, located by pydicom's reader."""
    ds = dcmread(io.BytesIO(data))
    return ds[tag]


# -- values --------------------------------------------------------------------------------------------


def test_every_numeric_vr_single_and_multiple():
    ds = _base()
    ds.add_new(0x00091000, "LO", "PRIVATE")
    values = {
        0x00091001: ("FD", -1.0 / 3.0, [1.5, -2.25]),
        0x00091003: ("FL", 0.5, [0.25, -4.0, 8.0]),
        0x00091005: ("SL", -70000, [-1, 2, -3]),
        0x00091007: ("SS", -2, None),  # several SS values are declined (below)
        0x00091009: ("SV", -(1 << 40), [1 << 50, -5]),
        0x0009100B: ("UL", 4_000_000_000, [1, 70000]),
        0x0009100D: ("US", 65535, [1, 2, 3, 4]),
        0x0009100F: ("UV", 1 << 63, [0, 1 << 33]),
    }
    for tag, (vr, one, many) in values.items():
        ds.add_new(tag, vr, one)
        if many is not None:
            ds.add_new(tag + 1, vr, many)
    data = _same(ds)
    back = dcmread(io.BytesIO(data))
    for tag, (vr, one, many) in values.items():
        assert back[tag].value == pytest.approx(one) if vr in ("FL", "FD") else back[tag].value == one
        if many is not None:
            assert list(back[tag + 1].value) == pytest.approx(many)


def test_several_ss_values_are_declined():
    ds = _base()
    ds.add_new(0x00283002, "SS", [256, 0, 16])  # LUT Descriptor: pydicom's special case
    _declined(ds)


def test_text_values_odd_and_even_single_and_multiple():
    ds = _base()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.StudyDescription = "odd"  # LO, 3 bytes: space padded
    ds.SeriesDescription = "even"
    ds.StationName = "Gé"  # SH in Latin-1: 2 bytes
    ds.add_new(0x00091000, "LO", "PRIVATE")
    ds.add_new(0x00091001, "LO", ["a", "bé", "c"])  # several: joined with backslashes, 6 bytes
    ds.add_new(0x00091002, "SH", ["ab", "c"])  # 4 bytes: odd, padded
    ds.add_new(0x00091003, "LO", b"raw")  # bytes kept as they are, padded
    ds.add_new(0x00091004, "LO", [b"ab", b"cd"])  # several byte values joined
    ds.add_new(0x00091005, "UC", "unlimited")
    ds.add_new(0x00091006, "ST", "short text")
    ds.add_new(0x00091007, "LT", "long\\text")
    data = _same(ds)
    back = dcmread(io.BytesIO(data))
    assert back[0x00091001].value == ["a", "bé", "c"] and back.StudyDescription == "odd"
    raw = dcmread(io.BytesIO(data), force=True)
    assert raw[0x00091003].value == "raw"


def test_string_uid_date_and_code_string_values():
    ds = _base()
    ds.Modality = "SR"
    ds.ImageType = ["DERIVED", "SECONDARY"]  # CS: 17 bytes, space padded
    ds.RetrieveAETitle = "AE1"
    ds.PatientAge = "045Y"
    ds.ReferencedSOPInstanceUID = ["1.2.3", "1.2.34"]  # UI multi: 12 bytes, no pad
    ds.StudyInstanceUID = "1.22"
    ds.ContentDate = "20240102"
    ds.add_new(0x00091000, "LO", "PRIVATE")
    ds.add_new(0x00091001, "DA", ["20240101", "20240102"])
    ds.add_new(0x00091002, "TM", "101112.51")  # odd: padded with a space
    ds.add_new(0x00091003, "DT", "20240101101112")
    ds.add_new(0x00091004, "UR", "https://x.org/a")  # 15: space padded
    data = _same(ds)
    back = dcmread(io.BytesIO(data))
    assert list(back[0x00091001].value) == ["20240101", "20240102"]


def test_number_strings_written_from_their_original_string():
    ds = _base()
    ds.SliceThickness = DSfloat("1.50")  # original string kept
    ds.PixelSpacing = [DSfloat("0.5"), DSfloat("0.25")]  # 8 bytes
    ds.InstanceNumber = IS("007")
    ds.ReferencedFrameNumber = [1, 22]  # IS multi: "1\\22", even
    ds.add_new(0x00091000, "LO", "PRIVATE")
    ds.add_new(0x00091001, "DS", 2.5)  # a float (DSfloat made by pydicom) without original string
    ds.add_new(0x00091002, "IS", 12)
    _same(ds)


def test_person_names_single_multiple_and_in_utf8():
    ds = _base()
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.PatientName = "Doe^Jo"
    ds.add_new(0x00091000, "LO", "PRIVATE")
    ds.add_new(0x00091001, "PN", [PersonName("Roe^Ann"), PersonName("Müller^Jürgen")])
    ds.ReferringPhysicianName = "Yamada^Tarou=山田^太郎"
    data = _same(ds)
    back = dcmread(io.BytesIO(data))
    assert [str(p) for p in back[0x00091001].value] == ["Roe^Ann", "Müller^Jürgen"]


def test_attribute_tags_single_and_multiple():
    ds = _base()
    ds.FrameIncrementPointer = [Tag(0x00181063), Tag(0x00209157)]
    ds.DimensionIndexPointer = Tag(0x00209157)
    data = _same(ds)
    back = dcmread(io.BytesIO(data))
    assert list(back.FrameIncrementPointer) == [0x00181063, 0x00209157]
    assert back.DimensionIndexPointer == 0x00209157


@pytest.mark.parametrize("vr", ["OB", "OD", "OF", "OL", "OW", "OV", "UN"])
def test_binary_values_even_odd_and_empty(vr):
    ds = _base()
    ds.add_new(0x00091000, "LO", "PRIVATE")
    width = {"OB": 1, "UN": 1, "OW": 2, "OF": 4, "OL": 4, "OD": 8, "OV": 8}[vr]
    ds.add_new(0x00091001, vr, bytes(range(1, 1 + 2 * width)))
    if width == 1:
        ds.add_new(0x00091002, vr, b"\x01\x02\x03")  # odd: OB padded with NUL, UN as it is
    ds.add_new(0x00091003, vr, b"")
    _same(ds)


def test_empty_values_of_every_vr_have_the_right_length_field():
    ds = _base()
    ds.add_new(0x00091000, "LO", "PRIVATE")
    for i, vr in enumerate(sorted(v for v in encode._KIND if v not in ("SQ", "AT", "PN"))):
        ds.add_new(0x00091001 + i, vr, None)
    ds.add_new(0x00091080, "PN", "")
    ds.add_new(0x00091081, "AT", None)
    ds.add_new(0x00091082, "US", [])
    ds.add_new(0x00091083, "CS", [])
    _same(ds)


def test_memoryview_pixel_data_and_the_streaming_threshold():
    pixels = np.arange(16, dtype=np.uint8)
    ds = _base()
    ds.Rows, ds.Columns, ds.BitsAllocated = 4, 4, 8
    ds.PixelData = pixels.tobytes()
    ds["PixelData"].VR = "OB"
    expected = _pydicom(ds)
    ds["PixelData"]._value = memoryview(pixels)  # the array's bytes, not copied (as the builders give it)
    assert _ours(ds) == expected
    # a byte view of an array whose format is not bytes is declined
    ds["PixelData"]._value = memoryview(np.arange(8, dtype=np.uint16))
    assert encode_file(ds) is None
    # from STREAM_BYTES on, a top-level value is a part of its own; one byte less is copied
    for size, alone in ((STREAM_BYTES, True), (STREAM_BYTES - 2, False)):
        ds = _base()
        ds.PixelData = bytes(size)
        ds["PixelData"].VR = "OB"
        parts = encode_parts(ds)
        assert any(p is ds.PixelData for p in parts) is alone
        assert len(parts) == (4 if alone else 2)  # the head, the body before the value, the value, the rest
        _same(ds)
    # in a sequence item a large value is never a part of its own
    ds = _base()
    item = Dataset()
    item.add_new(0x00091000, "LO", "PRIVATE")
    item.add_new(0x00091001, "OB", bytes(STREAM_BYTES + 1))
    ds.ContentSequence = [item]
    assert len(encode_parts(ds)) == 2
    _same(ds)


def test_odd_large_pixel_data_padding_follows_its_part():
    ds = _base()
    ds.PixelData = bytes(STREAM_BYTES + 1)
    ds["PixelData"].VR = "OB"
    ds.add_new(0x7FE10010, "LO", "PRIVATE")  # after Pixel Data: starts after the pad byte
    _head, _header, value, rest = encode_parts(ds)
    assert rest[:1] == b"\x00" and value is ds.PixelData
    _same(ds)


# -- sequences -----------------------------------------------------------------------------------------


def test_nested_sequences_lengths_by_pydicoms_reader():
    ds = _base()
    inner = Dataset()
    inner.CodeValue = "1"
    inner.CodingSchemeDesignator = "DCM"
    inner.CodeMeaning = "x"
    outer = Dataset()
    outer.ConceptNameCodeSequence = [inner, Dataset(inner)]
    outer.ContentSequence = [Dataset(), Dataset()]
    ds.ContentSequence = [outer, Dataset()]
    ds.ContentSequence[1].is_undefined_length_sequence_item = True
    ds.ContentSequence[1].TextValue = "u"
    ds.ConceptNameCodeSequence = []
    ds["ConceptNameCodeSequence"].is_undefined_length = True
    data = _same(ds)
    back = dcmread(io.BytesIO(data))
    assert back.ContentSequence[0].ConceptNameCodeSequence[1].CodeMeaning == "x"
    assert back.ContentSequence[1].TextValue == "u"


def test_character_set_of_a_parent_and_a_list_value():
    ds = _base()
    ds.SpecificCharacterSet = ["ISO_IR 100"]  # a one-value list
    ds.PatientName = "Gérard"
    item = Dataset()
    item.TextValue = "élan"  # Latin-1, from the parent
    deeper = Dataset()
    deeper.SpecificCharacterSet = "ISO_IR 192"
    deeper.TextValue = "Ωmega"
    leaf = Dataset()
    leaf.TextValue = "ü"  # UTF-8, from its parent
    deeper.ContentSequence = [leaf]
    item.ContentSequence = [deeper]
    ds.ContentSequence = [item]
    data = _same(ds)
    back = dcmread(io.BytesIO(data))
    assert back.ContentSequence[0].ContentSequence[0].ContentSequence[0].TextValue == "ü"
    assert b"\xe9lan" in data and "ü".encode() in data


def test_text_the_character_set_cannot_encode_goes_through_pydicom():
    ds = _base()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.StudyDescription = "Ω"  # not in Latin-1: pydicom's encode_string (replacement, warning)
    with pytest.warns(UserWarning):
        expected = _pydicom(ds)
    with pytest.warns(UserWarning):
        assert _ours(ds) == expected


# -- what is declined ----------------------------------------------------------------------------------


def test_raw_elements():
    # a raw defined-length little-endian sequence in a dataset read as Explicit VR Little Endian: as it is
    ds = _base()
    inner = Dataset()
    inner.TextValue = "raw"
    buffer = io.BytesIO()
    dcmwrite(buffer, inner, implicit_vr=False, little_endian=True)
    value = b"\xfe\xff\x00\xe0" + len(buffer.getvalue()).to_bytes(4, "little") + buffer.getvalue()
    ds._dict[Tag(0x0040A730)] = RawDataElement(Tag(0x0040A730), "SQ", len(value), value, 0, False, True)
    ds.set_original_encoding(False, True, ds._character_set)
    _same(ds)

    def with_raw(elem, encoding=(False, True)):
        d = _base()
        d._dict[elem.tag] = elem
        d.set_original_encoding(*encoding, d._character_set)
        return d

    tag = Tag(0x0040A730)
    _declined(with_raw(RawDataElement(tag, "SQ", len(value), value, 0, False, False)))  # big endian
    _declined(with_raw(RawDataElement(tag, "SQ", len(value), value, 0, False, True), (True, True)))  # implicit
    _declined(with_raw(RawDataElement(tag, "SQ", 0xFFFFFFFF, value + b"\xfe\xff\xdd\xe0" + bytes(4), 0, False, True)))
    _declined(with_raw(RawDataElement(Tag(0x00100020), "LO", 4, b"ID01", 0, False, True)))  # not a sequence
    raw_charset = _base()
    raw_charset._dict[Tag(0x00080005)] = RawDataElement(Tag(0x00080005), "CS", 10, b"ISO_IR 100", 0, False, True)
    raw_charset.set_original_encoding(False, True, "iso8859")
    _declined(raw_charset)
    raw_uid = _base()
    raw_uid._dict[Tag(0x00080016)] = RawDataElement(Tag(0x00080016), "UI", 6, b"1.2.3\0", 0, False, True)
    raw_uid.set_original_encoding(False, True, "iso8859")
    _declined(raw_uid)


def test_undefined_length_values_other_than_encapsulated_pixel_data():
    ds = _base(RLELossless)
    ds.PixelData = b"\xfe\xff\x00\xe0" + bytes(4) + b"\xfe\xff\x00\xe0\x02\x00\x00\x00ab"
    ds["PixelData"].VR = "OB"
    _same(ds)
    assert ds["PixelData"].is_undefined_length
    # Explicit VR Little Endian: native Pixel Data, defined length (as dcmwrite sets it)
    ds = _base()
    ds.PixelData = b"\xfe\xff\x00\xe0" + bytes(4)
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    _same(ds)
    assert not ds["PixelData"].is_undefined_length
    for tag, vr, value in (
        (0x00091001, "OB", b"\xfe\xff\x00\xe0" + bytes(4)),  # not Pixel Data
        (0x7FE00010, "OB", b"\x00\x00\x00\x00" + bytes(4)),  # no item tag first
    ):
        ds = _base(RLELossless)
        if tag == 0x00091001:
            ds.PixelData = b"\xfe\xff\x00\xe0" + bytes(4)
            ds["PixelData"].VR = "OB"
            ds.add_new(0x00091000, "LO", "PRIVATE")
        ds.add_new(tag, vr, value)
        ds[tag].is_undefined_length = True
        assert encode_file(ds) is None


@pytest.mark.filterwarnings("ignore:The value length")
def test_value_too_long_for_a_16_bit_length_and_long_ones_that_fit():
    ds = _base()
    ds.add_new(0x00091000, "LO", "PRIVATE")
    ds.add_new(0x00091001, "UT", "x" * 70000)  # 32-bit length: fine
    ds.add_new(0x00091002, "LO", "y" * 65534)  # the largest even length a 16-bit field holds
    assert _ours(ds) == _pydicom(ds)
    ds.add_new(0x00091003, "LO", "z" * 65536)
    assert encode_file(ds) is None


def test_unsupported_values_are_declined():
    for vr, value in (
        ("LO", 5),
        ("CS", 5),
        ("DA", ["20240101", 5]),
        ("AT", "x"),
        ("AT", [1, "x"]),
        ("US", "x"),
        ("OB", "text"),
        ("UN", 5),
        ("LO", [5, 6]),
    ):
        ds = _base()
        ds.add_new(0x00091000, "LO", "PRIVATE")
        elem = ds._dict[Tag(0x00091001)] = DataElement(Tag(0x00091001), vr, None, validation_mode=0)
        elem._value = value
        assert encode_file(ds) is None, (vr, value)
    ds = _base()
    ds._dict[Tag(0x00100010)] = DataElement(Tag(0x00100010), "PN", "not a PersonName", validation_mode=0)
    ds._dict[Tag(0x00100010)]._value = "not a PersonName"
    assert encode_file(ds) is None
    ds = _base()
    ds._dict[Tag(0x00091001)] = DataElement(Tag(0x00091001), "US or SS", 1, validation_mode=0)
    assert encode_file(ds) is None


# -- File Meta Information -----------------------------------------------------------------------------


def test_file_meta_completed_as_dcmwrite_completes_it():
    ds = _base()
    data = _same(ds)
    meta = dcmread(io.BytesIO(data)).file_meta
    assert meta.FileMetaInformationVersion == b"\x00\x01"
    assert meta.ImplementationClassUID == PYDICOM_IMPLEMENTATION_UID
    assert meta.MediaStorageSOPInstanceUID == "1.2.3.4.5"
    assert data[:128] == bytes(128) and data[128:132] == b"DICM"
    # the group length counts the meta elements after it (pydicom's reader, and by hand)
    assert meta.FileMetaInformationGroupLength == len(data) - 132 - 12 - len(_after_meta(data))

    ds = _base()
    ds.file_meta.FileMetaInformationVersion = b""  # empty: replaced
    ds.file_meta.ImplementationClassUID = ""  # empty: replaced
    ds.file_meta.FileMetaInformationGroupLength = 7  # recomputed
    ds.file_meta.MediaStorageSOPInstanceUID = "9.9"  # differs: the dataset's
    ds.file_meta.SourceApplicationEntityTitle = "ME"
    _same(ds)

    ds = _base()
    ds.file_meta.ImplementationClassUID = "1.2.3.4"  # kept, and no version name added to it
    ds.file_meta.FileMetaInformationVersion = b"\x00\x02"  # kept
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.88.33"  # the same: kept
    data = _same(ds)
    assert dcmread(io.BytesIO(data)).file_meta.ImplementationClassUID == "1.2.3.4"
    ds.preamble = b"\x02" * 128
    assert _same(ds)[:128] == b"\x02" * 128


def _after_meta(data: bytes) -> bytes:
    length = int.from_bytes(data[140:144], "little")
    return data[144 + length :]


def test_file_meta_that_is_declined():
    for keyword in ("SOPInstanceUID", "SOPClassUID"):
        ds = _base()
        delattr(ds, keyword)  # dcmwrite raises: no Media Storage SOP Instance/Class UID
        assert encode_file(ds) is None
        with pytest.raises(AttributeError, match="Required File Meta Information elements are either missing"):
            _pydicom(ds)
    for ts in (DeflatedExplicitVRLittleEndian, ExplicitVRBigEndian, UID("1.2.3.4"), UID("1.2.840.10008.1.2")):
        ds = _base(ts)
        if ts in (ExplicitVRBigEndian, UID("1.2.840.10008.1.2")):
            _declined(ds)
        assert encode_file(ds) is None, ts
    ds = _base()
    ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.1"  # a str, not a UID: declined
    ds.file_meta._dict[Tag(0x00020010)]._value = "1.2.840.10008.1.2.1"
    assert encode_file(ds) is None
    ds = _base()
    del ds.file_meta.TransferSyntaxUID
    assert encode_file(ds) is None
    ds = _base()
    ds.file_meta._dict[Tag(0x00080005)] = DataElement(0x00080005, "CS", "ISO_IR 100")  # not group 2
    assert encode_file(ds) is None
    ds = _base()
    ds.add_new(0x00020016, "AE", "ME")  # a file meta element in the dataset
    assert encode_file(ds) is None
    ds = _base()
    ds.add_new(0x00000902, "LO", "command")
    assert encode_file(ds) is None
    ds = _base()
    ds.preamble = b"\x00" * 127
    assert encode_file(ds) is None
    ds = _base()
    ds.file_meta = None
    assert encode_file(ds) is None


def test_explicit_little_endian_transfer_syntaxes_by_hand():
    assert encode._explicit_little_endian(ExplicitVRLittleEndian)
    assert encode._explicit_little_endian(RLELossless)
    assert not encode._explicit_little_endian(DeflatedExplicitVRLittleEndian)
    assert not encode._explicit_little_endian(ExplicitVRBigEndian)
    assert not encode._explicit_little_endian(UID("1.2.840.10008.1.2"))  # implicit
    assert not encode._explicit_little_endian(UID("1.2.3.4"))  # private
    assert not encode._explicit_little_endian(UID("1.2.840.10008.5.1.4.1.1.2"))  # a SOP class
    assert not encode._explicit_little_endian("1.2.840.10008.1.2.1")  # a str


def test_retired_group_lengths_are_dropped_but_meta_and_command_groups_kept_by_the_rule():
    ds = _base()
    ds.add_new(0x00080000, "UL", 10)
    ds.add_new(0x00090000, "UL", 10)
    ds.add_new(0x00091000, "LO", "PRIVATE")
    data = _same(ds)
    back = dcmread(io.BytesIO(data))
    assert 0x00080000 not in back and 0x00090000 not in back


def test_transfer_syntax_sets_pixel_data_length_before_encoding():
    """The fast encoder decides defined or undefined length itself (as dcmwrite does) on a dataset dcmwrite
    has not seen first: each dataset is made twice, once for each writer."""

    def make(ts, undefined):
        ds = _base(ts)
        ds.PixelData = b"\xfe\xff\x00\xe0" + bytes(4) + b"\xfe\xff\x00\xe0\x02\x00\x00\x00ab"
        ds["PixelData"].VR = "OB"
        ds["PixelData"].is_undefined_length = undefined
        return ds

    for ts, undefined in ((RLELossless, False), (ExplicitVRLittleEndian, True)):
        ours = make(ts, undefined)
        data = _ours(ours)
        assert data == _pydicom(make(ts, undefined)), ts
        assert ours["PixelData"].is_undefined_length is (ts == RLELossless)


def test_one_byte_and_one_value_elements_are_not_empty():
    pixels = np.array([7], dtype=np.uint8)
    ds = _base()
    ds.Rows = ds.Columns = 1
    ds.PixelData = b"\x07"
    ds["PixelData"].VR = "OB"
    expected = _pydicom(ds)
    ds["PixelData"]._value = memoryview(pixels)  # one pixel: a view of one byte
    assert _ours(ds) == expected
    ds = _base()
    ds.add_new(0x00091000, "LO", "PRIVATE")
    ds.add_new(0x00091001, "US", [5, 6])
    ds[0x00091001]._value = [5]  # a one-value list (pydicom itself would keep the value alone)
    expected = _ours(ds)
    assert expected == _pydicom(ds)
    assert dcmread(io.BytesIO(expected))[0x00091001].value == 5


def test_file_meta_uids_kept_when_the_dataset_has_none():
    """dcmwrite keeps Media Storage SOP Class/Instance UID from the File Meta Information when the dataset
    has no SOP Class/Instance UID (or an empty one), and takes the dataset's when it has one."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.88.33"
    ds.file_meta.MediaStorageSOPInstanceUID = "1.2.3"
    ds.PatientName = "x"
    meta = dcmread(io.BytesIO(_same(ds))).file_meta
    assert (meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID) == (
        "1.2.840.10008.5.1.4.1.1.88.33",
        "1.2.3",
    )
    ds.SOPInstanceUID = ""
    assert dcmread(io.BytesIO(_same(ds))).file_meta.MediaStorageSOPInstanceUID == "1.2.3"
    ds.SOPInstanceUID = "1.2.4"
    assert dcmread(io.BytesIO(_same(ds))).file_meta.MediaStorageSOPInstanceUID == "1.2.4"


def test_iso_2022_text_is_encoded_by_pydicoms_encode_string():
    """Several character sets (code extensions): no single codec, so text goes through pydicom's
    encode_string (escape sequences) inside the fast encoder, not the fallback."""
    ds = _base()
    ds.SpecificCharacterSet = ["ISO 2022 IR 6", "ISO 2022 IR 87"]
    ds.InstitutionName = "山田病院"
    ds.StudyDescription = "plain"
    data = _same(ds)
    assert b"\x1b$B" in data  # ESC $ B: the escape sequence of ISO 2022 IR 87 (PS3.3 Table C.12-4)
    assert dcmread(io.BytesIO(data)).InstitutionName == "山田病院"


def test_group_lengths_kept_up_to_group_6_dropped_from_group_7():
    """pydicom's writer drops Group Length elements (gggg,0000) of groups above 6 (PS3.5 7.2: retired)."""
    ds = _base()
    ds.add_new(0x00060000, "UL", 4)
    ds.add_new(0x00070000, "UL", 4)
    ds.add_new(0x00070010, "LO", "PRIVATE")
    data = _same(ds)
    back = dcmread(io.BytesIO(data))
    assert 0x00060000 in back and 0x00070000 not in back


def test_custom_encoders_and_one_value_text_lists():
    """ISO_IR 13 (JIS X 0201) is one of pydicom's own encoders: a kanji is outside it, so pydicom writes a
    replacement character with a warning, where Python's shift_jis codec would write two bytes."""
    ds = _base()
    ds.SpecificCharacterSet = "ISO_IR 13"
    ds.InstitutionName = "ｱｲｳ山"
    with pytest.warns(UserWarning, match="Failed to encode value"):
        expected = _pydicom(ds)
    with pytest.warns(UserWarning, match="Failed to encode value"):
        assert _ours(ds) == expected
    ds = _base()
    ds.add_new(0x00091000, "LO", "PRIVATE")
    ds.add_new(0x00091001, "LO", ["a", "b"])
    ds[0x00091001]._value = ["only"]  # one value in a list (pydicom itself would keep the value alone)
    assert _ours(ds) == _pydicom(ds)
