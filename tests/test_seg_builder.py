"""Segmentation builder layer (dcmspec_compiler.iods.seg): conformance, read-back, refusals (speed is measured by
bench/, never asserted here)."""

from __future__ import annotations

import datetime
import glob
import hashlib
import io
import itertools
import sys
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.sr.coding import Code
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, RLELossless

from dcmspec_compiler.errors import DicomConformanceError
from dcmspec_compiler.io.bits import pack_bits, pack_frames_separately
from dcmspec_compiler.io.rle import rle_decode_frame, rle_encode_frames
from dcmspec_compiler.iods.common import encoding as enc
from dcmspec_compiler.iods.common.color import dicom_lab_to_rgb, rgb_to_dicom_lab
from dcmspec_compiler.iods.common.modules import Equipment
from dcmspec_compiler.iods.seg import AlgorithmIdentification, Segmentation, SegmentDescription, prepare, segread
from dcmspec_compiler.iods.seg.pixels import native_pixel_data
from dcmspec_compiler.write.output import BuiltObject, write_dicom, write_outputs

from conftest import dciodvfy_findings, shared

hd = pytest.importorskip("highdicom")

WHEN = datetime.datetime(2024, 5, 6, 7, 8, 9)
EQUIPMENT = Equipment("ACME", "dcmspec", "0.1", "SN1")
CATEGORY = Code("91723000", "SCT", "Anatomical Structure")
LIVER = Code("10200004", "SCT", "Liver")
SPINE = Code("421060004", "SCT", "Spine")
ALGORITHM = AlgorithmIdentification(name="threshold", version="1.0", family=Code("123109", "DCM", "Manual Processing"))


def describe(n: int, **kw) -> SegmentDescription:
    args = {
        "segment_number": n,
        "segment_label": f"segment {n}",
        "segmented_property_category": CATEGORY,
        "segmented_property_type": LIVER if n % 2 else SPINE,
        "algorithm_type": "AUTOMATIC",
        "algorithm": ALGORITHM,
        "display_color": (20 * n % 256, 100, 200),
    }
    args.update(kw)
    return SegmentDescription(**args)


def tiny_ct_series(
    n: int = 4, rows: int = 10, cols: int = 13, for_uid: str = "1.2.826.0.1.3680043.10.9.4"
) -> list[Dataset]:
    """A small CT series (headers only) with parallel slices 2 mm apart."""
    out = []
    for i in range(n):
        ds = Dataset()
        ds.SOPClassUID = CTImageStorage
        ds.SOPInstanceUID = f"1.2.826.0.1.3680043.10.9.1.{i + 1}"
        ds.StudyInstanceUID = "1.2.826.0.1.3680043.10.9.2"
        ds.SeriesInstanceUID = "1.2.826.0.1.3680043.10.9.3"
        ds.FrameOfReferenceUID = for_uid
        ds.PatientName = "Test^Patient"
        ds.PatientID = "P1"
        ds.Rows, ds.Columns = rows, cols
        ds.ImagePositionPatient = [-10, -20, 2.0 * i]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.PixelSpacing = [0.5, 0.5]
        ds.SliceThickness = 2
        out.append(ds)
    return out


def series(folder: str) -> list[Dataset]:
    return [pydicom.dcmread(f) for f in sorted(glob.glob(str(shared("series", folder) / "*")))]


def build(sources, pixels, seg_type="BINARY", n_segments=None, **kw) -> Segmentation:
    if n_segments is None:
        n_segments = pixels.shape[3] if pixels.ndim == 4 else int(pixels.max())
    if seg_type == "FRACTIONAL":
        kw.setdefault("fractional_type", "PROBABILITY")
    return Segmentation(
        source_images=sources,
        pixel_array=pixels,
        segmentation_type=seg_type,
        segment_descriptions=kw.pop("descriptions", [describe(i) for i in range(1, n_segments + 1)]),
        series_instance_uid="1.2.826.0.1.3680043.10.9.10",
        series_number=99,
        sop_instance_uid="1.2.826.0.1.3680043.10.9.11",
        instance_number=1,
        equipment=EQUIPMENT,
        content_datetime=WHEN,
        content_label="TEST",
        **kw,
    )


def label_map(n: int, rows: int, cols: int) -> np.ndarray:
    lab = np.zeros((n, rows, cols), np.uint8)
    lab[0, 1:4, 2:7] = 1
    if n > 1:
        lab[n - 1, rows // 2 :, : cols // 2] = 2
        lab[n - 1, 0, cols - 1] = 1
    return lab


def write(seg: Segmentation, tmp_path: Path, name: str = "seg.dcm") -> Path:
    path = tmp_path / name
    seg.save_as(path, enforce_file_format=True)
    return path


def assert_conformant(path: Path) -> list[str]:
    errors, warnings = dciodvfy_findings(path)
    assert errors == []
    return warnings


def source_pixels_hd(path: Path, sources: list[Dataset], numbers: list[int]) -> np.ndarray:
    """What highdicom reads back, per source frame, as (frames, rows, cols, segments)."""
    h = hd.seg.segread(path)
    if len(sources) == 1 and int(sources[0].get("NumberOfFrames", 1)) > 1:
        n = int(sources[0].NumberOfFrames)
        return h.get_pixels_by_source_frame(
            sources[0].SOPInstanceUID, list(range(1, n + 1)), segment_numbers=numbers, rescale_fractional=True
        )
    return np.concatenate(
        [
            h.get_pixels_by_source_instance([ds.SOPInstanceUID], segment_numbers=numbers, rescale_fractional=True)
            for ds in sources
        ]
    )


# --- variants: conformance and round trip -----------------------------------------------------------

SOURCES = {
    "synthetic": lambda: tiny_ct_series(),
    "ct-3slice": lambda: series("ct_dcmqi_ct-3slice"),
    "CT2": lambda: series("ct_pydicom_CT2"),
    "cr-2d": lambda: [pydicom.dcmread(shared("single", "6154"))],
    "multiframe": lambda: [pydicom.dcmread(shared("enhanced", "dcmqi_23x38x3", "mf.dcm"))],
}


def n_frames(sources):
    return int(sources[0].get("NumberOfFrames", 1)) if len(sources) == 1 else len(sources)


@pytest.mark.parametrize("source", list(SOURCES))
@pytest.mark.parametrize("seg_type", ["BINARY", "FRACTIONAL", "LABELMAP"])
@pytest.mark.parametrize("ts", [ExplicitVRLittleEndian, RLELossless], ids=["native", "rle"])
def test_variant_conformant_and_read_back(source, seg_type, ts, tmp_path):
    sources = SOURCES[source]()
    rows, cols = int(sources[0].Rows), int(sources[0].Columns)
    lab = label_map(n_frames(sources), rows, cols)
    if seg_type == "FRACTIONAL":
        pixels = np.stack([(lab == 1) * 0.5, (lab == 2) * 1.0], axis=-1)
        expected = np.round(pixels * 255) / 255
    else:
        pixels = lab
        expected = np.stack([lab == 1, lab == 2], axis=-1)
    if seg_type == "BINARY" and ts == RLELossless:
        with pytest.raises(DicomConformanceError, match="RLE Lossless is not offered for BINARY"):
            build(sources, pixels, seg_type, n_segments=2, transfer_syntax_uid=ts)
        return
    seg = build(sources, pixels, seg_type, n_segments=2, transfer_syntax_uid=ts)
    path = write(seg, tmp_path)
    assert_conformant(path)

    # our own reader, in memory and from the file
    for obj in (seg, segread(path)):
        assert obj.segment_numbers == [1, 2]
        got = obj.get_pixels()
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, atol=1e-6)
        if seg_type != "FRACTIONAL":
            np.testing.assert_array_equal(obj.get_pixels(combine="labelmap"), lab)
    # highdicom reads the same content
    np.testing.assert_allclose(source_pixels_hd(path, sources, [1, 2]), expected, atol=1e-6)


def test_binary_volume_matches_highdicom_get_volume(tmp_path):
    sources = series("ct_dcmqi_ct-3slice")
    lab = np.zeros((3, 512, 512), np.uint8)
    lab[:, 200:300, 150:260] = 1
    lab[1:, 10:30, 10:30] = 2
    path = write(build(sources, lab), tmp_path)
    h = hd.seg.segread(path)
    vol = h.get_volume(combine_segments=True)
    arr, affine = np.asarray(vol.array), np.asarray(vol.affine)
    assert arr.shape == lab.shape
    # highdicom's own affine places every voxel: its in-plane axes must be the source's (no flip or
    # transpose) and each of its slices must lie on one source slice, whose labels it must hold exactly
    orientation = np.array(sources[0].ImageOrientationPatient, float)
    spacing = np.array(sources[0].PixelSpacing, float)
    np.testing.assert_allclose(affine[:3, 1], orientation[3:] * spacing[0], atol=1e-6)
    np.testing.assert_allclose(affine[:3, 2], orientation[:3] * spacing[1], atol=1e-6)
    positions = np.array([ds.ImagePositionPatient for ds in sources], float)
    for k in range(arr.shape[0]):
        where = affine[:3, 0] * k + affine[:3, 3]
        distance = np.linalg.norm(positions - where, axis=1)
        assert distance.min() < 1e-3, f"volume slice {k} lies on no source slice"
        np.testing.assert_array_equal(arr[k], lab[int(np.argmin(distance))])


def test_dimensions_and_functional_groups():
    sources = tiny_ct_series()
    seg = build(sources, label_map(4, 10, 13))
    pffg = seg.PerFrameFunctionalGroupsSequence  # decodes the raw element
    assert len(pffg) == seg.NumberOfFrames == 3
    first = pffg[0]
    src = first.DerivationImageSequence[0].SourceImageSequence[0]
    assert src.PurposeOfReferenceCodeSequence[0].CodeValue == "121322"
    assert first.DerivationImageSequence[0].DerivationCodeSequence[0].CodeValue == "113076"
    assert first.SegmentIdentificationSequence[0].ReferencedSegmentNumber == 1
    assert list(first.FrameContentSequence[0].DimensionIndexValues) == [1, 1]
    assert list(pffg[2].FrameContentSequence[0].DimensionIndexValues) == [2, 4]
    assert [float(v) for v in pffg[2].PlanePositionSequence[0].ImagePositionPatient] == [-10, -20, 6]
    dims = seg.DimensionIndexSequence
    assert [d.DimensionIndexPointer for d in dims] == [0x0062000B, 0x00200032]
    shared_fg = seg.SharedFunctionalGroupsSequence[0]
    assert [float(v) for v in shared_fg.PixelMeasuresSequence[0].PixelSpacing] == [0.5, 0.5]
    assert seg.SegmentsOverlap == "NO"


def test_raw_per_frame_sequence_written_verbatim(tmp_path):
    sources = tiny_ct_series()
    seg = build(sources, label_map(4, 10, 13))
    raw = seg.get_item(0x52009230)
    assert raw.is_raw
    raw_bytes = raw.value
    data = io.BytesIO()
    seg.save_as(data, enforce_file_format=True)
    assert raw_bytes in data.getvalue()
    assert seg.get_item(0x52009230).is_raw  # writing did not decode it
    back = pydicom.dcmread(io.BytesIO(data.getvalue()))
    assert len(back.PerFrameFunctionalGroupsSequence) == 3
    assert back.PerFrameFunctionalGroupsSequence[2].SegmentIdentificationSequence[0].ReferencedSegmentNumber == 2


@pytest.mark.parametrize("ts", [ExplicitVRLittleEndian, RLELossless])
def test_byte_identical_builds(ts):
    outputs = []
    for _ in range(2):
        seg = build(
            tiny_ct_series(),
            label_map(4, 10, 13),
            "LABELMAP" if ts == RLELossless else "BINARY",
            transfer_syntax_uid=ts,
        )
        data = io.BytesIO()
        seg.save_as(data, enforce_file_format=True)
        outputs.append(data.getvalue())
    assert outputs[0] == outputs[1]


def test_binary_frames_not_padded_between_frames():
    # 10 x 13 = 130 bits per frame: frame 2 starts at bit 130 (PS3.5 8.1.1)
    seg = build(tiny_ct_series(), label_map(4, 10, 13))
    assert len(seg.PixelData) == (3 * 130 + 7) // 8 + ((3 * 130 + 7) // 8) % 2
    bits = np.unpackbits(np.frombuffer(seg.PixelData, np.uint8), bitorder="little")
    lab = label_map(4, 10, 13)
    np.testing.assert_array_equal(bits[130:260].reshape(10, 13), lab[3] == 1)


def test_omit_empty_frames_false_keeps_all():
    seg = build(tiny_ct_series(), label_map(4, 10, 13), omit_empty_frames=False)
    assert seg.NumberOfFrames == 8
    seg = build(tiny_ct_series(), label_map(4, 10, 13), "LABELMAP", omit_empty_frames=False)
    assert seg.NumberOfFrames == 4


def test_labelmap_16bit_and_sparse_numbers(tmp_path):
    lab = label_map(4, 10, 13).astype(np.uint16)
    lab[lab == 2] = 300
    seg = build(tiny_ct_series(), lab, "LABELMAP", descriptions=[describe(1), describe(300)])
    assert seg.BitsAllocated == 16 and seg.SOPClassUID == "1.2.840.10008.5.1.4.1.1.66.7"
    assert seg.PixelPaddingValue == 0
    path = write(seg, tmp_path)
    assert_conformant(path)
    np.testing.assert_array_equal(segread(path).get_pixels(combine="labelmap"), lab)


def test_four_dimensional_binary_with_overlap(tmp_path):
    masks = np.zeros((4, 10, 13, 2), bool)
    masks[1, 2:6, 2:6, 0] = True
    masks[1, 4:8, 4:8, 1] = True
    seg = build(tiny_ct_series(), masks)
    assert seg.SegmentsOverlap == "YES"
    path = write(seg, tmp_path)
    assert_conformant(path)
    np.testing.assert_array_equal(segread(path).get_pixels(), masks)
    with pytest.raises(DicomConformanceError, match="overlap"):
        segread(path).get_pixels(combine="labelmap")


# --- segment descriptions --------------------------------------------------------------------------


def test_segment_description_read_back():
    d = describe(
        3,
        tracking_id="lesion 1",
        tracking_uid="1.2.826.0.1.3680043.10.9.77",
        anatomic_region=LIVER,
        anatomic_region_modifiers=[Code("7771000", "SCT", "Left")],
        property_type_modifiers=[Code("7771000", "SCT", "Left")],
        description="a lesion",
    )
    assert d.segment_number == 3 and d.segment_label == "segment 3"
    assert d.segmented_property_type == LIVER and d.algorithm.name == "threshold"
    assert d.tracking_id == "lesion 1" and d.anatomic_region.value == "10200004"
    assert d.display_color == (60, 100, 200)
    assert d.SegmentAlgorithmName == "threshold"


def test_find_segments_and_get_segment():
    seg = build(
        tiny_ct_series(),
        label_map(4, 10, 13),
        descriptions=[
            describe(1),
            describe(2, algorithm_type="MANUAL", algorithm=None, tracking_id="t2", tracking_uid="1.2.3.4.5"),
        ],
    )
    assert seg.get_segment(2).segment_label == "segment 2"
    assert [s.segment_number for s in seg.find_segments(property_type=SPINE)] == [2]
    assert [s.segment_number for s in seg.find_segments(algorithm_type="manual")] == [2]
    assert [s.segment_number for s in seg.find_segments(tracking_uid="1.2.3.4.5")] == [2]
    assert [s.segment_number for s in seg.find_segments(label="segment 1")] == [1]
    assert seg.source_instance_uids() == [ds.SOPInstanceUID for ds in tiny_ct_series()]
    uid = tiny_ct_series()[3].SOPInstanceUID
    np.testing.assert_array_equal(seg.get_pixels_by_source_instance(uid, combine="labelmap"), label_map(4, 10, 13)[3])


def test_cielab_conversion():
    assert rgb_to_dicom_lab((255, 255, 255)) == (65535, 32896, 32896)
    assert rgb_to_dicom_lab((255, 0, 0)) == (34891, 53480, 50167)
    for rgb in [(0, 0, 0), (12, 200, 99), (255, 128, 0)]:
        assert dicom_lab_to_rgb(rgb_to_dicom_lab(rgb)) == rgb


# --- refusals ----------------------------------------------------------------------------------------


def _refuse(match, **kw):
    with pytest.raises(DicomConformanceError, match=match):
        kw.setdefault("sources", tiny_ct_series())
        kw.setdefault("pixels", label_map(4, 10, 13))
        kw.setdefault("n_segments", 2)
        build(kw.pop("sources"), kw.pop("pixels"), **kw)


def test_refusals():
    _refuse(r"does not match the source images", pixels=np.zeros((3, 10, 13), np.uint8))
    _refuse(r"does not match the source images", pixels=np.zeros((4, 10, 12), np.uint8))
    _refuse(r"unique", descriptions=[describe(1), describe(1)])
    _refuse(r"start at 1 and increase by 1", descriptions=[describe(1), describe(3)])
    _refuse(r"label values \[2\] appear", descriptions=[describe(1)])
    _refuse(r"between 0 and 1", seg_type="FRACTIONAL", pixels=np.full((4, 10, 13, 1), 1.5), n_segments=1)
    _refuse(r"boolean-like", pixels=np.full((4, 10, 13, 1), 2, np.uint8), n_segments=1)
    _refuse(r"empty", pixels=np.zeros((4, 10, 13), np.uint8), n_segments=1)
    _refuse(
        r"Fractional Type",
        seg_type="FRACTIONAL",
        fractional_type="SOMETIMES",
        pixels=np.zeros((4, 10, 13, 1)),
        n_segments=1,
    )
    _refuse(r"transfer syntax", transfer_syntax_uid="1.2.840.10008.1.2.4.50")
    _refuse(r"Segmentation Type", seg_type="HEIGHTMAP")
    other_for = tiny_ct_series()
    other_for[2].FrameOfReferenceUID = "1.2.826.0.1.3680043.10.9.99"
    _refuse(r"different Frame of Reference", sources=other_for)
    _refuse(r"overlap", seg_type="LABELMAP", pixels=np.ones((4, 10, 13, 2), bool))
    with pytest.raises(DicomConformanceError, match="required when Segment Algorithm Type"):
        describe(1, algorithm=None)
    with pytest.raises(DicomConformanceError, match="Tracking ID"):
        describe(1, tracking_id="x")
    with pytest.raises(DicomConformanceError, match="Segment Algorithm Type"):
        describe(1, algorithm_type="GUESSED")
    with pytest.raises(DicomConformanceError, match="0-255"):
        describe(1, display_color=(0, 0, 300))
    with pytest.raises(DicomConformanceError, match="Segment Number"):
        describe(0)


# --- pixels and encoder ------------------------------------------------------------------------------


def _pydicom_rle_frames(fragments: list[bytes], rows: int, cols: int, bits: int) -> np.ndarray:
    """pydicom's own RLE Lossless decoder (not ours) on encapsulated fragments."""
    from pydicom.dataset import FileMetaDataset
    from pydicom.encaps import encapsulate

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = RLELossless
    ds.Rows, ds.Columns, ds.NumberOfFrames = rows, cols, len(fragments)
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PixelRepresentation = 1, "MONOCHROME2", 0
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = bits, bits, bits - 1
    ds.PixelData = encapsulate(fragments)
    return ds.pixel_array.reshape(len(fragments), rows, cols)


def test_rle_encoder_output_decoded_by_pydicom_and_by_our_decoder():
    rng = np.random.default_rng(1)
    for dtype in (np.uint8, np.uint16):
        frames = (rng.integers(0, 3, (3, 17, 301)) * rng.integers(0, 2, (3, 17, 301))).astype(dtype)
        frames[1, :, :200] = 7
        if dtype == np.uint16:
            frames[2, 3:9, 40:300] = 0x0102  # high and low bytes differ: a byte-plane swap shows
            frames[0, 0, :] = np.arange(301) * 217
        fragments = rle_encode_frames(frames)
        np.testing.assert_array_equal(_pydicom_rle_frames(fragments, 17, 301, frames.itemsize * 8), frames)
        for f, fragment in enumerate(fragments):
            np.testing.assert_array_equal(rle_decode_frame(fragment, 17, 301, frames.itemsize * 8), frames[f])
    # 1-bit frames packed one by one (pydicom 3 has no 1-bit RLE decoder): the benchmark's own checker
    # (bench/verify.py, written apart from io/rle.py) and ours
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    import verify

    masks = rng.integers(0, 2, (3, 9, 11)).astype(bool)
    for f, fragment in enumerate(rle_encode_frames(pack_frames_separately(masks), packed_binary=True)):
        np.testing.assert_array_equal(verify.rle_frame(fragment, 1, 99, 1).reshape(9, 11), masks[f])
        np.testing.assert_array_equal(rle_decode_frame(fragment, 9, 11, 1), masks[f])


def test_rle_decoder_refuses_short_segments():
    """A segment that decodes to fewer bytes than the frame needs is an error, never zero padding."""
    (fragment,) = rle_encode_frames(np.full((1, 4, 6), 9, np.uint8))
    with pytest.raises(ValueError, match="expected 24"):
        rle_decode_frame(fragment[:-2], 4, 6, 8)
    with pytest.raises(ValueError, match="segments, expected 2"):
        rle_decode_frame(fragment, 4, 6, 16)


def test_rle_labelmap_decoded_by_pydicom(tmp_path):
    lab = label_map(4, 10, 13)
    path = write(build(tiny_ct_series(), lab, "LABELMAP", transfer_syntax_uid=RLELossless), tmp_path)
    ds = pydicom.dcmread(path)
    np.testing.assert_array_equal(ds.pixel_array, lab[[0, 3]])


def test_encoder_element_layout():
    assert enc.us(0x0062000B, 3) == bytes.fromhex("62000b00") + b"US" + bytes.fromhex("02000300")
    assert enc.uid(0x00081150, "1.2.3") == bytes.fromhex("08005011") + b"UI\x06\x001.2.3\x00"


# --- others' files ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "liver.dcm",
        "partial_overlaps.dcm",
        "seg_image_ct_binary.dcm",
        "seg_image_ct_true_fractional.dcm",
        "seg_image_ct_binary_overlap.dcm",
        "seg_image_cr_binary.dcm",
        "seg_image_sm_control.dcm",
        "sparse-labelmap-ppv5.dcm",
        "seg_image_sm_control_labelmap.dcm",
        "dcmqi_23x38x3/label.seg",
    ],
)
def test_read_foreign_segmentations(name):
    path = shared("seg", *name.split("/"))
    seg = segread(path)
    h = hd.seg.segread(path)
    numbers = [n for n in seg.segment_numbers if n != 0]
    for uid, frame in (f.key for f in seg.source_frames):
        mine = seg.get_pixels_by_source_instance(uid, frame, numbers)
        if frame is None:
            ref = h.get_pixels_by_source_instance(
                [uid], segment_numbers=numbers, ignore_spatial_locations=True, rescale_fractional=True
            )
        else:
            ref = h.get_pixels_by_source_frame(
                uid, [frame], segment_numbers=numbers, ignore_spatial_locations=True, rescale_fractional=True
            )
        np.testing.assert_allclose(mine.astype(float), ref[0].astype(float), atol=1 / 255)


def test_read_foreign_by_label():
    seg = segread(shared("seg", "liver.dcm"))
    assert [s.segment_number for s in seg.find_segments(label=seg.get_segment(1).segment_label)] == [1]
    assert len(seg.source_instance_uids()) == 3


# --- chunked encoding: frames are encoded a few at a time into one buffer ----------------------------


def odd_label_map(n_segments: int = 40, n: int = 9, rows: int = 23, cols: int = 38) -> np.ndarray:
    """23 x 38 = 874 bits per frame: BINARY frames end inside a byte (2 bits over), so only every 4th
    frame starts on a byte boundary. Frame 4 and value 7 are empty."""
    rng = np.random.default_rng(3)
    lab = rng.integers(0, n_segments + 1, (n, rows, cols)).astype(np.uint8)
    lab[4] = 0
    lab[lab == 7] = 0
    return lab


def expected_binary(lab: np.ndarray, numbers, omit: bool) -> bytes:
    """PS3.5 8.1.1 by hand: every stored frame's bits, one stream, LSB first, padded to even length."""
    frames = [lab[f] == s for s in numbers for f in range(len(lab)) if not omit or (lab[f] == s).any()]
    packed = np.packbits(np.stack(frames).reshape(-1), bitorder="little").tobytes()
    return packed + b"\0" * (len(packed) % 2)


@pytest.mark.parametrize("chunk_bytes", [1, 2000, 2700, 1 << 23])  # 1, 2, 3 frames per chunk, all
@pytest.mark.parametrize("omit", [True, False])
def test_binary_bit_stream_continues_across_chunks(monkeypatch, chunk_bytes, omit):
    monkeypatch.setattr(prepare, "CHUNK_BYTES", chunk_bytes)
    lab = odd_label_map()
    seg = build(tiny_ct_series(9, 23, 38), lab, n_segments=40, omit_empty_frames=omit)
    assert bytes(seg.PixelData) == expected_binary(lab, range(1, 41), omit)
    back = seg.get_pixels()
    np.testing.assert_array_equal(back, np.stack([lab == s for s in range(1, 41)], axis=-1))


def test_native_pixel_data_over_uneven_chunks():
    frames = np.random.default_rng(5).random((13, 3, 5)) < 0.5  # 15 bits per frame: a group is 8 frames
    cuts = [0, 1, 2, 5, 6, 7, 10, 13]
    data = native_pixel_data((frames[a:b] for a, b in itertools.pairwise(cuts)), 13, 3, 5, 1)
    assert isinstance(data, bytearray) and bytes(data) == pack_bits(frames)
    with pytest.raises(RuntimeError):
        native_pixel_data(iter([frames[:3]]), 13, 3, 5, 1)


@pytest.mark.parametrize(
    "seg_type,channels,ts",
    [
        ("BINARY", True, ExplicitVRLittleEndian),
        ("LABELMAP", False, ExplicitVRLittleEndian),
        ("LABELMAP", False, RLELossless),
        ("LABELMAP", True, ExplicitVRLittleEndian),
        ("FRACTIONAL", False, ExplicitVRLittleEndian),
        ("FRACTIONAL", True, ExplicitVRLittleEndian),
        ("FRACTIONAL", True, RLELossless),
    ],
)
def test_chunk_size_does_not_change_the_object(monkeypatch, seg_type, channels, ts):
    """Every way of feeding frames (label map, channels; bit, byte, RLE) gives the same bytes whether
    frames are encoded one at a time or all at once."""
    lab = odd_label_map(12)
    pixels = lab
    if channels:
        pixels = np.stack([lab == s for s in range(1, 13)], axis=-1)
        if seg_type == "FRACTIONAL":
            pixels = pixels * np.random.default_rng(1).random(pixels.shape).astype(np.float32)
        elif seg_type == "BINARY":
            pixels[..., 0] |= lab == 2  # overlapping segments
    sources = tiny_ct_series(9, 23, 38)
    written = []
    for chunk_bytes in (1, 2700, 1 << 23):
        monkeypatch.setattr(prepare, "CHUNK_BYTES", chunk_bytes)
        out = io.BytesIO()
        write_dicom(out, build(sources, pixels, seg_type, n_segments=12, transfer_syntax_uid=ts))
        written.append(out.getvalue())
    assert written[0] == written[1] == written[2]


def test_label_presence_given_or_computed():
    lab = odd_label_map(12)
    sources = tiny_ct_series(9, 23, 38)
    presence = prepare.label_presence(lab)
    assert presence.shape == (9, 13) and not presence[:, 0].any() and not presence[4].any()
    assert not presence[:, 7].any() and presence[0, 1:].sum() == 11
    for seg_type in ("BINARY", "LABELMAP", "FRACTIONAL"):
        a = build(sources, lab, seg_type, n_segments=12)
        b = build(sources, lab, seg_type, n_segments=12, label_presence=presence)
        assert bytes(a.PixelData) == bytes(b.PixelData) and a.NumberOfFrames == b.NumberOfFrames


@pytest.mark.parametrize("dtype", [bool, np.uint8, np.uint16])
@pytest.mark.parametrize("top", [0, 1, 2])
def test_label_presence_is_each_frames_values(dtype, top):
    """label_presence against np.unique per frame, for binary masks (the frames' maxima alone) and
    label maps; an all-background volume too."""
    rng = np.random.default_rng(top)
    lab = (rng.random((7, 5, 6)) < 0.1) * rng.integers(1, top + 1, (7, 5, 6)) if top else np.zeros((7, 5, 6), int)
    lab[2] = 0
    lab = lab.astype(dtype)
    presence = prepare.label_presence(lab)
    assert presence.shape == (7, int(lab.max()) + 1)
    for f in range(7):
        assert set(np.flatnonzero(presence[f]).tolist()) == set(np.unique(lab[f]).tolist()) - {0}, f


def test_large_pixel_data_is_streamed_to_the_file_with_the_same_bytes(tmp_path):
    """write_dicom hands Pixel Data over 1 MiB to pydicom as a buffer (no in-memory copy) and the
    manifest digest is computed while writing: both must give what pydicom writes by itself."""
    lab = np.zeros((24, 256, 256), np.uint8)
    lab[:, 10:200, 20:90] = 3
    seg = build(tiny_ct_series(24, 256, 256), lab, "LABELMAP", n_segments=3)
    assert len(seg.PixelData) > 1 << 20
    plain = io.BytesIO()
    seg.save_as(plain, enforce_file_format=True)
    obj = BuiltObject(dataset=seg, filename="seg.dcm", kind="Segmentation", spec=tmp_path / "seg.yaml", spec_id="seg")
    (entry,) = write_outputs([obj], tmp_path / "out")["objects"]
    data = (tmp_path / "out" / "seg.dcm").read_bytes()
    assert data == plain.getvalue()
    assert entry["sha256"] == hashlib.sha256(data).hexdigest() and entry["bytes"] == len(data)
    assert isinstance(seg.PixelData, bytearray)  # the dataset is left as it was


@pytest.mark.parametrize(
    "folder", ["ct_dcmqi_ct-3slice", "mr_dcmqi_701-ADCb500", "ct_nist_IDS-DEPT003-a", "pt_nist_IDS-DEPT024-a"]
)
def test_source_geometry_from_raw_bytes_equals_pydicom_values(folder):
    from dcmspec_compiler.iods.common.sources import analyze_sources
    from dcmspec_compiler.resolve.source_headers import read_source_headers

    paths = sorted(p for p in shared("series", folder).iterdir())
    raw = [i.header for i in read_source_headers(paths)]
    converted = [pydicom.dcmread(p, stop_before_pixels=True) for p in paths]
    for ds in converted:
        for elem in ds:  # force every value through pydicom's conversion
            _ = elem.value
    series_uid = str(converted[0].SeriesInstanceUID)
    pick = lambda headers: [h for h in headers if str(h.SeriesInstanceUID) == series_uid]
    fast, oracle = analyze_sources(pick(raw)), analyze_sources(pick(converted))
    assert fast.frames == oracle.frames
    # UIDs, Rows and Columns are read from the raw bytes too (iods/common/sources.py _uid, _us)
    assert (fast.rows, fast.columns, fast.study_instance_uid) == (
        oracle.rows,
        oracle.columns,
        oracle.study_instance_uid,
    )
    assert all(type(v) is str for f in fast.frames for v in (f.sop_class_uid, f.sop_instance_uid))


def test_single_slice_segmentation_volume():
    """A Segmentation of one source slice is a one-plane volume whose step is the Slice Thickness of its
    shared Pixel Measures (a VM 1 value: read as one number, it raised TypeError before)."""
    src = tiny_ct_series(1)
    pixels = np.zeros((1, 10, 13), np.uint8)
    pixels[0, 2:5, 3:6] = 1
    seg = build(src, pixels)
    volume = seg.get_volume()
    assert volume.array.shape == (1, 10, 13, 1)
    np.testing.assert_array_equal(volume.array[..., 0], pixels)
    np.testing.assert_allclose(volume.affine[:3, 0], [0, 0, 2])  # Slice Thickness 2 along the normal
    np.testing.assert_allclose(volume.affine[:3, 3], [-10, -20, 0])
