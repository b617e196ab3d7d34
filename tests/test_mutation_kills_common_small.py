"""Small shared modules of the builder layer: ``dimensions.py``, ``wrap.py``, ``concept.py``,
``algorithm.py``, ``color.py`` and ``native.py``.

Oracles: PS3.3 C.7.6.17 (Multi-frame Dimension module) and Table 10-19 (Algorithm Identification) by hand,
pydicom's reading of the written dataset and pydicom's writer (bytes), pydicom's ``Code`` (equality, hash,
SNOMED-RT to SNOMED CT), highdicom's ``CIELabColor`` (PS3.3 C.10.7.1.1 scaling, used as a reader of values),
and the sRGB/CIELab values of IEC 61966-2-1 with the D65 white point (red = L* 53.24, a* 80.09, b* 67.20).
"""

from __future__ import annotations

from io import BytesIO

import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.sr.coding import Code as PydicomCode

from dcmspec_compiler.errors import DicomConformanceError
from dcmspec_compiler.iods.common.algorithm import AlgorithmIdentification
from dcmspec_compiler.iods.common.color import (
    check_rgb,
    dicom_lab_to_rgb,
    dicom_to_lab,
    lab_to_dicom,
    lab_to_srgb,
    rgb_to_dicom_lab,
    srgb_to_lab,
)
from dcmspec_compiler.iods.common.concept import Code, is_code
from dcmspec_compiler.iods.common.dimensions import set_multi_frame_dimension
from dcmspec_compiler.iods.common.native import set_native_encoding
from dcmspec_compiler.iods.common.wrap import wrap_dataset, wrap_file_dataset, wrap_file_of_class


def written(ds: Dataset) -> Dataset:
    buf = BytesIO()
    ds.save_as(buf, implicit_vr=False, little_endian=True)
    buf.seek(0)
    return dcmread(buf, force=True)


def test_multi_frame_dimension():
    """C.7.6.17: one Dimension Organization item; one Dimension Index item per dimension, in order, each
    with the organization UID, the index and group pointers (AT) and the label."""
    ds = Dataset()
    dims = [(0x0062000B, 0x0062000A, "ReferencedSegmentNumber"), (0x00200032, 0x00209113, "ImagePositionPatient")]
    set_multi_frame_dimension(ds, "1.2.3", dims, "3D")
    back = written(ds)
    assert [o.DimensionOrganizationUID for o in back.DimensionOrganizationSequence] == ["1.2.3"]
    assert back.DimensionOrganizationType == "3D"
    got = [
        (
            i.DimensionOrganizationUID,
            int(i.DimensionIndexPointer),
            int(i.FunctionalGroupPointer),
            i.DimensionDescriptionLabel,
        )
        for i in back.DimensionIndexSequence
    ]
    assert got == [("1.2.3", *d) for d in dims]
    ds = Dataset()
    set_multi_frame_dimension(ds, "1.2", iter(dims[:1]))
    assert "DimensionOrganizationType" not in ds and len(ds.DimensionIndexSequence) == 1


def test_wrap():
    item = Dataset()
    item.AlgorithmName = "a"
    item.AlgorithmVersion = "1"
    obj = wrap_dataset(AlgorithmIdentification, item)
    assert type(obj) is AlgorithmIdentification and obj.name == "a" and obj.version == "1"
    assert obj is not item and sorted(obj.keys()) == sorted(item.keys())
    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.88.59"
    ds.file_meta = Dataset()
    ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.1"

    class Kos(Dataset):
        pass

    kos = wrap_file_of_class(Kos, ds, "1.2.840.10008.5.1.4.1.1.88.59", "Key Object Selection Document Storage")
    assert type(kos) is Kos and kos.file_meta is ds.file_meta and kos.SOPClassUID == ds.SOPClassUID
    no_meta = Dataset()
    no_meta.PatientID = "x"
    assert not hasattr(wrap_file_dataset(Kos, no_meta), "file_meta")
    with pytest.raises(DicomConformanceError) as info:
        wrap_file_of_class(Kos, ds, "1.2.3", "Something Storage")
    assert str(info.value) == "SOP Class 1.2.840.10008.5.1.4.1.1.88.59 is not Something Storage"
    with pytest.raises(DicomConformanceError, match=r"^SOP Class None is not X$"):
        wrap_file_of_class(Kos, Dataset(), "1.2.3", "X")


def test_code_equals_pydicoms_code():
    """Code compares and hashes as pydicom.sr.coding.Code: value, scheme (SRT mapped to SCT) and version
    count, the meaning does not."""
    ours = Code("10200004", "SCT", "Liver")
    theirs = PydicomCode("10200004", "SCT", "Liver (organ)")
    assert ours == theirs and theirs == ours
    assert ours.__ne__(theirs) is False
    assert hash(ours) == hash(theirs)
    assert {ours: 1}[theirs] == 1
    assert ours != Code("10200004", "SCT", "Liver", "2020")
    assert ours != Code("10200005", "SCT", "Liver")
    assert ours != Code("10200004", "DCM", "Liver")
    srt, sct = Code("T-62000", "SRT", "Liver"), Code("10200004", "SCT", "Liver")
    assert (srt == sct) == (PydicomCode("T-62000", "SRT", "Liver") == PydicomCode("10200004", "SCT", "Liver")) is True
    assert Code("T-XXXXX", "SRT", "x") != Code("T-XXXXX", "SCT", "x")
    assert Code("T-XXXXX", "SRT", "x") == Code("T-XXXXX", "SRT", "y")
    assert ours.__eq__(5) is NotImplemented and ours.__ne__(5) is NotImplemented
    assert is_code(theirs) and is_code(ours) and not is_code(("a", "b", "c", None)) and not is_code("a")
    assert ours.scheme_version is None


def test_algorithm_identification():
    """Table 10-19: family, name, version Type 1; parameters, source, name code Type 3; LO 64 characters."""
    family = Code("123109", "DCM", "Manual Processing")
    alg = AlgorithmIdentification(name="n" * 64, version="v" * 64, family=family)
    back = written(alg)
    assert [e.keyword for e in back] == [
        "AlgorithmFamilyCodeSequence",
        "AlgorithmVersion",
        "AlgorithmName",
    ]
    assert back.AlgorithmFamilyCodeSequence[0].CodeValue == "123109"
    assert alg.family == family and alg.parameters is None and alg.source is None
    assert (alg.name, alg.version) == ("n" * 64, "v" * 64)
    assert (back.AlgorithmName, back.AlgorithmVersion) == ("n" * 64, "v" * 64)
    again = AlgorithmIdentification.from_dataset(back)
    assert type(again) is AlgorithmIdentification and again.name == "n" * 64 and again.family == family
    full = AlgorithmIdentification(
        name="n", version="1", family=family, parameters="t=3", source="ACME", name_code=Code("1", "99X", "alg")
    )
    assert full.parameters == "t=3" and full.source == "ACME"
    assert full.AlgorithmNameCodeSequence[0].CodeMeaning == "alg"
    assert AlgorithmIdentification(name="n", version="1", family=family, parameters="", source="").source is None
    assert "AlgorithmSource" not in AlgorithmIdentification(name="n", version="1", family=family, source="")
    AlgorithmIdentification(name="n", version="1", family=family, source="s" * 64)
    for kw, message in (
        ({"name": ""}, "Algorithm Name (0066,0036) must be a non-empty LO of at most 64 characters, got ''"),
        (
            {"name": "n" * 65},
            f"Algorithm Name (0066,0036) must be a non-empty LO of at most 64 characters, got {'n' * 65!r}",
        ),
        ({"version": ""}, "Algorithm Version (0066,0031) must be a non-empty LO of at most 64 characters, got ''"),
        (
            {"version": "v" * 65},
            f"Algorithm Version (0066,0031) must be a non-empty LO of at most 64 characters, got {'v' * 65!r}",
        ),
        ({"family": ("123109", "DCM", "x")}, "Algorithm Family Code Sequence (0066,002F) needs a Code"),
        ({"source": "s" * 65}, "Algorithm Source (0024,0202) is an LO of at most 64 characters"),
    ):
        args = {"name": "n", "version": "1", "family": family} | kw
        with pytest.raises(DicomConformanceError) as info:
            AlgorithmIdentification(**args)
        assert str(info.value) == message


def test_colours_against_iec_61966_2_1_and_highdicom():
    hd = pytest.importorskip("highdicom")
    red = srgb_to_lab((255, 0, 0))
    assert red == pytest.approx((53.2408, 80.0925, 67.2032), abs=1e-3)
    assert srgb_to_lab((255, 255, 255)) == pytest.approx((100, 0, 0), abs=1e-3)
    assert srgb_to_lab((0, 0, 0)) == pytest.approx((0, 0, 0), abs=1e-9)
    assert srgb_to_lab((1, 1, 1)) == pytest.approx((0.2742, 0, 0), abs=1e-3)  # the linear segment
    # (10,10,10): Y = (10/255)/12.92 = 0.0030353, below (6/29)^3 = 0.008856: L* = 903.3 Y = 2.7418
    assert srgb_to_lab((10, 10, 10)) == pytest.approx((2.7418, 0, 0), abs=1e-3)
    assert srgb_to_lab((128, 128, 128)) == pytest.approx((53.585, 0, 0), abs=1e-3)
    for lab in (red, (100, 0, 0), (0, -128, -128), (0, 127, 127), (50, 20, -30)):
        assert lab_to_dicom(lab) == tuple(hd.color.CIELabColor(*lab).value)
    assert lab_to_dicom((101, -129, 128)) == (0xFFFF, 0, 0xFFFF)  # clipped
    assert dicom_to_lab((0xFFFF, 32896, 0)) == pytest.approx((100, 0, -128), abs=1e-9)
    assert dicom_to_lab((0, 0xFFFF, 1)) == pytest.approx((0, 127, -127.9961), abs=1e-4)
    assert dicom_to_lab((0, 0, 0xFFFF)) == pytest.approx((0, -128, 127), abs=1e-9)
    assert lab_to_srgb(red) == (255, 0, 0)
    assert lab_to_srgb((0.2742, 0, 0)) == (1, 1, 1)
    assert lab_to_srgb((100, 0, 0)) == (255, 255, 255)
    assert lab_to_srgb((50, 100, -100)) == (200, 0, 255) or max(lab_to_srgb((50, 100, -100))) == 255
    for rgb in ((10, 200, 30), (0, 0, 0), (255, 255, 255), (1, 2, 3), (250, 5, 128)):
        assert dicom_lab_to_rgb(rgb_to_dicom_lab(rgb)) == rgb
    assert rgb_to_dicom_lab((255, 0, 0)) == (34891, 53480, 50167)


@pytest.mark.parametrize("bad", [(0, 0), (0, 0, 0, 0), (0, 0, 256), (-1, 0, 0), (0.5, 0, 0), (True, 0, 0)])
def test_rgb_refused(bad):
    with pytest.raises(DicomConformanceError) as info:
        check_rgb(bad)
    assert str(info.value) == f"a display colour must be three integers 0-255 (red, green, blue), got {bad!r}"


def test_rgb_allowed():
    assert check_rgb([0, 128, 255]) == (0, 128, 255)


def test_native_encoding_marks_every_item_and_keeps_the_bytes():
    """Every dataset and nested item is marked Explicit VR Little Endian with its character set; the
    bytes pydicom writes are those of the same dataset unmarked."""

    def build():
        ds = Dataset()
        ds.SpecificCharacterSet = "ISO_IR 100"
        ds.PatientName = "M\u00fcller"
        inner = Dataset()
        inner.CodeMeaning = "\u00e9"
        deeper = Dataset()
        deeper.CodeValue = "1"
        inner.ConceptNameCodeSequence = [deeper]
        ds.ContentSequence = [inner]
        return ds

    ds = build()
    set_native_encoding(ds)
    inner = ds.ContentSequence[0]
    deeper = inner.ConceptNameCodeSequence[0]
    for item in (ds, inner, deeper):
        assert item.original_encoding == (False, True)
        assert item.original_character_set == item._character_set
    a, b = BytesIO(), BytesIO()
    ds.save_as(a, implicit_vr=False, little_endian=True)
    build().save_as(b, implicit_vr=False, little_endian=True)
    assert a.getvalue() == b.getvalue()
    plain = Dataset()
    plain.PatientID = "1"
    set_native_encoding(plain)
    assert plain.original_encoding == (False, True)


def test_icc_profile_read_by_littlecms():
    """The sRGB profile (ICC.1 v2.1, PS3.3 C.11.15) as LittleCMS (Pillow's ImageCms) reads it: header
    fields, tags, D50 white point and primaries (s15Fixed16), and colours through it equal to LittleCMS's own
    sRGB profile (the tone curve of IEC 61966-2-1)."""
    ImageCms = pytest.importorskip("PIL.ImageCms")
    from PIL import Image

    from dcmspec_compiler.iods.common.icc import srgb_icc_profile

    data = srgb_icc_profile()
    assert int.from_bytes(data[:4], "big") == len(data) and len(data) % 4 == 0
    assert data[36:40] == b"acsp"
    prof = ImageCms.ImageCmsProfile(BytesIO(data)).profile
    assert prof.version == 2.1
    assert (prof.device_class, prof.xcolor_space, prof.connection_space) == ("mntr", "RGB ", "XYZ ")
    assert prof.profile_description == "sRGB (dcmspec)" and prof.copyright == "No copyright"
    assert prof.rendering_intent == 0
    assert prof.media_white_point[0] == pytest.approx((0.9642, 1.0, 0.8249), abs=2e-5)
    assert prof.red_colorant[0] == pytest.approx((0.4361, 0.2225, 0.0139), abs=2e-5)
    assert prof.green_colorant[0] == pytest.approx((0.3851, 0.7169, 0.0971), abs=2e-5)
    assert prof.blue_colorant[0] == pytest.approx((0.1431, 0.0606, 0.7141), abs=2e-5)
    ramp = Image.frombytes("RGB", (256, 1), bytes(v for i in range(256) for v in (i, 255 - i, (7 * i) % 256)))
    ours = ImageCms.ImageCmsProfile(BytesIO(data))
    lab = ImageCms.createProfile("LAB")
    a = ImageCms.applyTransform(ramp, ImageCms.buildTransform(ours, lab, "RGB", "LAB"))
    b = ImageCms.applyTransform(ramp, ImageCms.buildTransform(ImageCms.createProfile("sRGB"), lab, "RGB", "LAB"))
    diff = max(abs(x - y) for x, y in zip(a.tobytes(), b.tobytes()))
    assert diff <= 1
    assert srgb_icc_profile() is data


def test_icc_profile_tags_by_hand():
    """ICC.1 v2 layout read by hand: 128-byte header, tag count, (signature, offset, size) entries on
    4-byte boundaries; the rTRC/gTRC/bTRC tags share one 1024-point 'curv' of the IEC 61966-2-1 sRGB
    decoding (x/12.92 up to 0.04045, else ((x+0.055)/1.055)^2.4), scaled to 0..65535."""
    import struct

    from dcmspec_compiler.iods.common.icc import srgb_icc_profile

    data = srgb_icc_profile()
    assert data[8:12] == bytes([2, 0x10, 0, 0]) and data[12:16] == b"mntr"
    assert data[80:128] == bytes(48)  # creator and reserved bytes: zero
    assert [struct.unpack(">i", data[68 + 4 * k : 72 + 4 * k])[0] for k in range(3)] == [63190, 65536, 54061]
    (count,) = struct.unpack(">I", data[128:132])
    tags = {}
    for k in range(count):
        sig, offset, size = struct.unpack(">4sII", data[132 + 12 * k : 144 + 12 * k])
        assert offset % 4 == 0 and offset + size <= len(data)
        tags[sig] = (offset, size)
    assert list(tags) == [b"desc", b"cprt", b"wtpt", b"rXYZ", b"gXYZ", b"bXYZ", b"rTRC", b"gTRC", b"bTRC"]
    assert tags[b"rTRC"] == tags[b"gTRC"] == tags[b"bTRC"]
    offset, size = tags[b"rTRC"]
    assert size == 12 + 2 * 1024 and data[offset : offset + 4] == b"curv"
    assert struct.unpack(">I", data[offset + 8 : offset + 12])[0] == 1024
    curve = struct.unpack(">1024H", data[offset + 12 : offset + size])
    for i in (0, 1, 10, 41, 42, 100, 512, 1000, 1023):
        x = i / 1023
        y = x / 12.92 if x <= 0.04045 else ((x + 0.055) / 1.055) ** 2.4
        assert curve[i] == round(y * 65535), i
    offset, size = tags[b"wtpt"]
    assert data[offset : offset + size] == b"XYZ \0\0\0\0" + struct.pack(">3i", 63190, 65536, 54061)
    offset, size = tags[b"desc"]
    assert data[offset : offset + 12] == b"desc\0\0\0\0" + struct.pack(">I", 15)
    assert data[offset + 12 : offset + 27] == b"sRGB (dcmspec)\0"
    assert size == 12 + 15 + 8 + 3 + 67


def test_native_encoding_reads_deferred_values():
    """A file read with deferred values (pydicom's defer_size) is handled as Dataset.elements() does."""
    ds = Dataset()
    ds.PatientName = "A" * 40
    inner = Dataset()
    inner.CodeValue = "1"
    ds.ContentSequence = [inner]
    buf = BytesIO()
    ds.save_as(buf, implicit_vr=False, little_endian=True)
    buf.seek(0)
    back = dcmread(buf, force=True, defer_size=10)
    set_native_encoding(back)
    assert back.ContentSequence[0].original_encoding == (False, True)
    assert back.PatientName == "A" * 40


def test_copied_modules_are_frozen():
    import dataclasses

    from dcmspec_compiler.iods.common.patient_study import PATIENT

    with pytest.raises(dataclasses.FrozenInstanceError):
        PATIENT.usage = "U"  # type: ignore[misc]


def test_native_encoding_leaves_raw_sequences_raw():
    """A sequence the builder encoded itself (a raw element) is not decoded to mark its items."""
    from pydicom.dataelem import RawDataElement
    from pydicom.tag import Tag

    from dcmspec_compiler.iods.common import encoding as enc

    ds = Dataset()
    enc.raw_sequence(ds, 0x0062000A, enc.sequence(0x0062000A, [enc.us(0x0062000B, 7)]))
    set_native_encoding(ds)
    assert type(ds._dict[Tag(0x0062000A)]) is RawDataElement
