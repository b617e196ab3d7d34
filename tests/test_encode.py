"""The fast encoder (dcmspec_compiler.write.encode) writes exactly the bytes of pydicom's dcmwrite."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filewriter import dcmwrite
from pydicom.sequence import Sequence
from pydicom.tag import Tag
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, RLELossless, generate_uid

from dcmspec_compiler.assemble.batch import _encode
from dcmspec_compiler.pipeline import Parameters, collect_spec_files, compile_specs
from dcmspec_compiler.write import encode
from dcmspec_compiler.write.encode import encode_file, encode_parts
from dcmspec_compiler.write.output import write_dicom

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "specs_examples"


def pydicom_bytes(ds: Dataset) -> bytes:
    buffer = io.BytesIO()
    dcmwrite(buffer, ds, enforce_file_format=True)
    return buffer.getvalue()


def fast_bytes(ds: Dataset) -> bytes:
    parts = encode_parts(ds)
    return b"".join(bytes(p) for p in parts)


@pytest.fixture(scope="module")
def example_objects():
    result = compile_specs(collect_spec_files([EXAMPLES]))
    rows = compile_specs([EXAMPLES / "report-template.yaml"], params=Parameters(csv=EXAMPLES / "report-cases.csv"))
    assert not result.errors and not rows.errors
    objects = result.objects + rows.objects
    assert {o.kind for o in objects} >= {"Segmentation", "MeasurementReport", "StructuredReport"}
    return objects


def test_every_example_object_encodes_to_pydicoms_bytes(example_objects):
    for obj in example_objects:
        expected = pydicom_bytes(obj.dataset)
        assert fast_bytes(obj.dataset) == expected, obj.filename
        out = io.BytesIO()
        write_dicom(out, obj.dataset)
        assert out.getvalue() == expected, obj.filename
        assert _encode(obj.dataset) == expected, obj.filename


def _base(**meta) -> Dataset:
    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.88.33"
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = meta.get("ts", ExplicitVRLittleEndian)
    return ds


def _same(ds: Dataset) -> None:
    expected = pydicom_bytes(ds)
    assert fast_bytes(ds) == expected
    out = io.BytesIO()
    write_dicom(out, ds)
    assert out.getvalue() == expected


def test_value_representations_and_lengths():
    ds = _base()
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.PatientName = "Müller^Jürgen=ミュラー"
    ds.InstitutionName = "Hôpital Saint-Éloi"  # LO, odd byte length
    ds.StudyDescription = ""  # empty
    ds.ImageType = ["DERIVED", "PRIMARY", "X"]  # CS multi-value
    ds.SliceThickness = "1.50"  # DS keeps its original string
    ds.PixelSpacing = [0.5, 0.333333333333]
    ds.InstanceNumber = 7  # IS
    ds.Rows = 3  # US
    ds.ReferencedFrameNumber = [1, 2, 3]
    ds.ContentDate = "20240102"
    ds.ContentTime = "101112.5"
    ds.FrameIncrementPointer = Tag(0x00181063)  # AT
    ds.DimensionIndexValues = [1, 2]  # UL multi
    ds.FloatPixelData = b"\x00\x00\x80\x3f"
    ds.EncapsulatedDocument = b"abc"  # OB, odd length: NUL padded
    ds.TextValue = "line one\\still UT"  # UT keeps backslashes
    ds.add_new(0x00091000, "LO", "PRIVATE CREATOR")
    ds.add_new(0x00091001, "UN", b"\x01\x02\x03")
    ds.add_new(0x00100000, "UL", 42)  # a retired group length: not written
    ds.GraphicData = [1.0, 2.5, 3.25]  # FL
    ds.FloatingPointValue = 1.0 / 3.0  # FD
    ds.ReferencedSOPSequence = []  # empty sequence
    _same(ds)


def test_sequences_defined_and_undefined_length():
    ds = _base()
    item = Dataset()
    item.CodeValue = "121071"
    item.CodingSchemeDesignator = "DCM"
    item.CodeMeaning = "Finding"
    nested = Dataset()
    nested.TextValue = "inner"
    nested.is_undefined_length_sequence_item = True
    item.ContentSequence = [nested]
    ds.ConceptNameCodeSequence = [item]
    ds.ConceptCodeSequence = [Dataset(item)]
    ds["ConceptCodeSequence"].is_undefined_length = True
    ds.ContentSequence = Sequence([Dataset(), item])
    _same(ds)


def test_item_character_set_applies_to_its_elements():
    ds = _base()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.PatientName = "Gérard"
    item = Dataset()
    item.SpecificCharacterSet = "ISO_IR 192"
    item.TextValue = "Ω and é"
    plain = Dataset()
    plain.TextValue = "café"
    ds.ContentSequence = [item, plain]
    _same(ds)


def test_file_meta_is_completed_as_dcmwrite_does():
    ds = _base()
    ds.file_meta.MediaStorageSOPClassUID = "1.2.3"  # differs from the dataset: replaced
    ds.file_meta.ImplementationVersionName = "ODD"
    ds.preamble = b"\x01" * 128
    _same(ds)
    assert ds.file_meta.MediaStorageSOPClassUID == "1.2.3"  # the dataset's own meta is left alone


def test_large_pixel_data_is_a_part_of_its_own():
    ds = _base()
    ds.Rows, ds.Columns, ds.BitsAllocated = 1024, 1025, 8
    pixels = np.arange(1024 * 1025, dtype=np.uint8).tobytes()  # odd length
    ds.PixelData = pixels
    ds["PixelData"].VR = "OB"
    parts = encode_parts(ds)
    assert any(p is pixels for p in parts)
    _same(ds)


def test_encapsulated_pixel_data():
    ds = _base(ts=RLELossless)
    ds.PixelData = b"\xfe\xff\x00\xe0\x00\x00\x00\x00" + b"\xfe\xff\x00\xe0\x04\x00\x00\x00abcd"
    ds["PixelData"].VR = "OB"
    _same(ds)


def test_raw_sequence_written_as_is():
    ds = _base()
    inner = Dataset()
    inner.TextValue = "raw"
    buffer = io.BytesIO()
    dcmwrite(buffer, inner, implicit_vr=False, little_endian=True)
    value = b"\xfe\xff\x00\xe0" + len(buffer.getvalue()).to_bytes(4, "little") + buffer.getvalue()
    ds._dict[Tag(0x0040A730)] = RawDataElement(Tag(0x0040A730), "SQ", len(value), value, 0, False, True)
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.set_original_encoding(False, True, ds._character_set)
    _same(ds)


@pytest.mark.parametrize("case", ["ambiguous", "implicit", "iso2022", "raw", "too_long", "charset_fail"])
def test_what_the_encoder_declines_goes_to_dcmwrite(case):
    """Declined datasets are written by dcmwrite; ISO 2022 and unencodable text are encoded by
    pydicom's own encode_string (escape sequences, replacement characters and warnings alike)."""
    ds = _base(ts=ImplicitVRLittleEndian if case == "implicit" else ExplicitVRLittleEndian)
    ds.PatientName = "Doe^Jane"
    if case == "ambiguous":
        ds.add_new(0x00283002, "US or SS", [256, 0, 16])
    elif case == "iso2022":
        ds.SpecificCharacterSet = ["ISO 2022 IR 6", "ISO 2022 IR 87"]
        ds.PatientName = "Yamada^Tarou=山田^太郎"
    elif case == "raw":
        ds._dict[Tag(0x00100020)] = RawDataElement(Tag(0x00100020), "LO", 4, b"ID01", 0, False, True)
    elif case == "too_long":
        ds.add_new(0x00091000, "LO", "PRIVATE")
        ds.add_new(0x00091010, "OB", b"\x00" * 10)
        ds.add_new(0x00091011, "LT", "x" * 70000)  # pydicom writes it as UN, with a warning
    elif case == "charset_fail":
        ds.PatientName = "Doe^Jane"
        ds.StudyDescription = "Ω"  # not in the default character repertoire
    if case in ("ambiguous", "implicit", "raw", "too_long"):
        assert encode_file(ds) is None
    with pytest.warns() if case in ("too_long", "charset_fail") else _no_warning():
        expected = pydicom_bytes(ds)
    with pytest.warns() if case in ("too_long", "charset_fail") else _no_warning():
        out = io.BytesIO()
        write_dicom(out, ds)
    assert out.getvalue() == expected


class _no_warning:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_vr_tables_match_pydicom():
    from pydicom.filewriter import writers
    from pydicom.valuerep import EXPLICIT_VR_LENGTH_32

    assert set(encode._KIND) == {vr for vr in writers if " or " not in vr}
    assert {vr for vr in EXPLICIT_VR_LENGTH_32 if vr in encode._KIND} == encode._LONG_LENGTH
    for vr, fmt in encode._STRUCT_FORMAT.items():
        assert writers[vr][1] == fmt


def test_element_helper_builds_the_same_element_as_keyword_assignment():
    from dcmspec_compiler.iods.common.codes import set_element
    from dcmspec_compiler.iods.common.vr import InvalidValue

    # values LO forbids (PS3.5 6.2: 64 characters, no backslash in a VM 1 attribute) are refused
    with pytest.raises(InvalidValue, match="70 characters, more than the 64 LO allows"):
        set_element(Dataset(), Tag(0x00080104), "LO", "x" * 70)
    with pytest.raises(InvalidValue, match="backslash"):
        set_element(Dataset(), Tag(0x00080104), "LO", "a\\b")
    for value in ("Finding", "Finding", "Liver and spleen"):
        c, d = Dataset(), Dataset()
        c.CodeMeaning = value
        set_element(d, Tag(0x00080104), "LO", value)
        assert c == d and c[0x00080104].value == d[0x00080104].value
    e = DataElement(Tag(0x00080104), "LO", "Finding")
    assert set_element(Dataset(), Tag(0x00080104), "LO", "Finding").__dict__ == e.__dict__


@pytest.mark.parametrize(
    "keyword, vr, value",
    [
        ("CodeMeaning", "LO", "Finding"),
        ("ImageType", "CS", ["DERIVED", "PRIMARY"]),
        ("SeriesDescription", "LO", ""),
        ("RetrieveURL", "UR", "https://example.org/x"),
        ("TextValue", "UT", "line 1\r\nline 2"),
        ("Rows", "US", 7),
        ("PixelSpacing", "DS", ["0.5", "0.5"]),
    ],
)
def test_set_element_equals_keyword_assignment_new_and_replaced(keyword, vr, value):
    # (a string holding a backslash is refused by set_element: several values are given as a list, see
    # test_set_element_refuses_backslash_strings)
    """The oracle is pydicom's own keyword assignment: same element (value, VR, multiplicity), whether the
    element is new or replaces one, and whatever was cached by an earlier call."""
    from pydicom.datadict import tag_for_keyword

    from dcmspec_compiler.iods.common.codes import set_element

    tag = Tag(tag_for_keyword(keyword))
    for _ in range(2):  # the second call may take the cached (already validated) path
        expected, ours = Dataset(), Dataset()
        setattr(expected, keyword, value)
        set_element(ours, tag, vr, value)
        assert ours[tag].VR == expected[tag].VR and ours[tag].VM == expected[tag].VM
        assert ours[tag].value == expected[tag].value and type(ours[tag].value) is type(expected[tag].value)
        setattr(expected, keyword, value)  # replace an existing element
        elem = set_element(ours, tag, vr, value)
        assert ours[tag].value == expected[tag].value and elem is ours[tag]


@pytest.mark.parametrize("tag, vr, value", [(0x00080104, "LO", "a\\b"), (0x00080008, "CS", "DERIVED\\PRIMARY")])
def test_set_element_refuses_backslash_strings(tag, vr, value):
    """A backslash would split one value into several (PS3.5 6.4): the builder layer takes several values
    as a list, so text from a spec can never add values."""
    from dcmspec_compiler.iods.common.codes import set_element
    from dcmspec_compiler.iods.common.vr import InvalidValue

    with pytest.raises(InvalidValue, match="backslash"):
        set_element(Dataset(), Tag(tag), vr, value)


def test_set_element_passes_pixel_representation_to_sequence_items():
    """A sequence set in a dataset with Pixel Representation gets it passed on to its items, as keyword
    assignment does (pydicom uses it to read US or SS values inside)."""
    from dcmspec_compiler.iods.common.codes import set_element

    item = Dataset()
    ours, expected = Dataset(), Dataset()
    ours.PixelRepresentation = expected.PixelRepresentation = 1
    expected.ReferencedImageSequence = [item]
    set_element(ours, Tag(0x00081140), "SQ", [Dataset()])
    assert (
        getattr(ours.ReferencedImageSequence[0], "_pixel_rep", None)
        == getattr(expected.ReferencedImageSequence[0], "_pixel_rep", None)
        == 1
    )
    plain = Dataset()
    set_element(plain, Tag(0x00081140), "SQ", [Dataset()])
    assert not hasattr(plain.ReferencedImageSequence[0], "_pixel_rep")


@pytest.mark.parametrize(
    "value, keyword",
    [
        ("1234567890123456", "CodeValue"),  # 16 characters: SH (PS3.3 8.8.1.1)
        ("12345678901234567", "LongCodeValue"),  # 17: Long Code Value, UC (8.8.1.2)
        ("urn:oid:1.2.3", "URNCodeValue"),  # URN or URL: URN Code Value, UR (8.8.1.3)
        ("http://snomed.info/id/1", "URNCodeValue"),
        ("https://snomed.info/id/1", "URNCodeValue"),
    ],
)
def test_code_item_chooses_the_code_value_attribute(value, keyword):
    from pydicom.sr.coding import Code

    from dcmspec_compiler.iods.common.codes import code_from_item, code_item

    item = code_item(Code(value, "99X", "meaning", "v1"))
    assert getattr(item, keyword) == value
    assert {"CodeValue", "LongCodeValue", "URNCodeValue"} & set(item.dir()) == {keyword}
    assert item.CodingSchemeDesignator == "99X" and item.CodingSchemeVersion == "v1"
    assert (
        item.CodeMeaning == "meaning"
        and {"CodeValue": "SH", "LongCodeValue": "UC", "URNCodeValue": "UR"}[keyword] == item[keyword].VR
    )
    # read back from a dataset made by pydicom alone
    plain = Dataset()
    setattr(plain, keyword, value)
    plain.CodingSchemeDesignator, plain.CodeMeaning = "99X", "meaning"
    back = code_from_item(plain)
    assert (back.value, back.scheme_designator, back.meaning) == (value, "99X", "meaning")
    assert "CodingSchemeVersion" not in code_item(Code(value, "99X", "meaning"))


def test_code_from_item_and_codes_equal():
    """PS3.3 8.8: scheme version is read back when present; two codes are one concept when value and scheme
    agree (PS3.16 8: meanings may differ in wording), never when either differs."""
    from dcmspec_compiler.iods.common.codes import code_from_item, codes_equal
    from dcmspec_compiler.iods.common.concept import Code

    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = "T-1", "SRT", "x"
    item.CodingSchemeVersion = "1.1"
    assert code_from_item(item).scheme_version == "1.1"
    del item.CodingSchemeVersion
    assert code_from_item(item).scheme_version is None
    liver = Code("10200004", "SCT", "Liver")
    assert codes_equal(liver, Code("10200004", "SCT", "Liver structure"))
    assert not codes_equal(liver, Code("10200005", "SCT", "Liver"))
    assert not codes_equal(liver, Code("10200004", "SRT", "Liver"))
    assert not codes_equal(liver, Code("1", "DCM", "Liver"))


def test_code_meaning_too_long_message():
    from dcmspec_compiler.errors import DicomConformanceError
    from dcmspec_compiler.iods.common.codes import code_item
    from dcmspec_compiler.iods.common.concept import Code

    with pytest.raises(DicomConformanceError) as err:
        code_item(Code("1", "99X", "m" * 65))
    assert str(err.value).startswith("Code Meaning 'mmm") and str(err.value).endswith("(LO, PS3.5 6.2)")


def test_set_element_in_a_sequence_item_passes_pixel_representation_on():
    """An item of a sequence of a dataset with Pixel Representation carries it (pydicom's _pixel_rep) and
    passes it on to a sequence set inside it, as keyword assignment does."""
    from dcmspec_compiler.iods.common.codes import set_element

    expected, ours = Dataset(), Dataset()
    expected.PixelRepresentation = ours.PixelRepresentation = 1
    expected.ReferencedImageSequence = [Dataset()]
    ours.ReferencedImageSequence = [Dataset()]
    outer_expected, outer_ours = expected.ReferencedImageSequence[0], ours.ReferencedImageSequence[0]
    assert getattr(outer_ours, "_pixel_rep", None) == 1 and "PixelRepresentation" not in outer_ours
    outer_expected.ReferencedSeriesSequence = [Dataset()]
    set_element(outer_ours, Tag(0x00081115), "SQ", [Dataset()])
    assert (
        getattr(outer_ours.ReferencedSeriesSequence[0], "_pixel_rep", None)
        == getattr(outer_expected.ReferencedSeriesSequence[0], "_pixel_rep", None)
        == 1
    )
