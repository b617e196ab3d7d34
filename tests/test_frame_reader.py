"""Lazy frame reader: every frame equals pydicom's pixel_array, read one at a time."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from pydicom.encaps import encapsulate, encapsulate_extended, generate_frames
from pydicom.uid import RLELossless

from dcmspec_compiler.errors import InputError
from dcmspec_compiler.io.frames import FrameReader
from dcmspec_compiler.io.rle import rle_decode_segment

from conftest import shared


def reference_frames(path) -> np.ndarray:
    ds = pydicom.dcmread(path)
    arr = ds.pixel_array
    n = int(ds.get("NumberOfFrames", 1) or 1)
    return arr[None] if n == 1 else arr


def assert_same_frames(path) -> FrameReader:
    expected = reference_frames(path)
    with FrameReader(path) as reader:
        assert reader.number_of_frames == len(expected)
        for i in reversed(range(reader.number_of_frames)):  # random access, not sequential
            frame = reader.read_frame(i)
            assert frame.shape == reader.shape == expected.shape[1:]
            assert frame.dtype == expected.dtype
            np.testing.assert_array_equal(frame, expected[i], err_msg=f"frame {i}")
        np.testing.assert_array_equal(reader.read_frames([0, len(expected) - 1]), expected[[0, len(expected) - 1]])
    return reader


@pytest.mark.parametrize(
    "parts",
    [
        ("seg", "seg_image_ct_binary.dcm"),
        ("seg", "dcmqi_23x38x3", "label.seg"),
        ("seg", "dcmqi_24x38x3", "label.seg"),
        ("seg", "seg_image_sm_dots_tiled_full.dcm"),
        ("seg", "sparse-labelmap-ppv5.dcm"),
        ("enhanced", "emri_small.dcm"),
        ("enhanced", "dcmqi_23x38x3", "mf.dcm"),
        ("sm", "sm_image.dcm"),
        ("series", "ct_dcmqi_ct-3slice", "01.dcm"),
        ("pm", "parametric_map_float.dcm"),
        ("pm", "parametric_map_double_float.dcm"),
    ],
)
def test_native_frames_equal_pixel_array(parts):
    assert_same_frames(shared(*parts))


def test_unaligned_binary_frames():
    path = shared("seg", "dcmqi_23x38x3", "label.seg")
    with FrameReader(path) as reader:
        assert reader.bits_allocated == 1
        assert (reader.rows * reader.columns) % 8 != 0  # frames 2 and 3 start mid-byte
        assert reader.read_frame(1).any() or reader.read_frame(2).any()
    assert_same_frames(path)


def test_rgb_shape():
    with FrameReader(shared("sm", "sm_image.dcm")) as reader:
        assert reader.shape == (10, 10, 3)
        assert reader.transfer_syntax_uid == "1.2.840.10008.1.2.1"


class CountingFile:
    """File wrapper counting the bytes read."""

    def __init__(self, fp):
        self.fp, self.count = fp, 0

    def read(self, n=-1):
        data = self.fp.read(n)
        self.count += len(data)
        return data

    def __getattr__(self, name):
        return getattr(self.fp, name)


def test_reads_only_the_frame():
    path = shared("seg", "seg_image_sm_dots_tiled_full.dcm")  # 1250 frames
    with FrameReader(path) as reader:
        counter = CountingFile(reader._fp)
        reader._fp = counter
        reader.read_frame(1000)
        assert counter.count <= (reader.frame_bits + 7) // 8 + 1
        counter.fp.seek(0, 2)
        assert counter.count < counter.fp.tell() / 100


# -- encapsulated ----------------------------------------------------------------------------------


def _rle_copy(src, out, *, layout="bot", fragments_per_frame=1):
    """``src`` RLE-compressed by pydicom into ``out`` with the given offset table layout."""
    ds = pydicom.dcmread(src)
    ds.compress(RLELossless)
    n = int(ds.get("NumberOfFrames", 1) or 1)
    frames = list(generate_frames(ds.PixelData, number_of_frames=n))
    if layout == "eot":
        data, eot, lengths = encapsulate_extended(frames)
        ds.PixelData = data
        ds.ExtendedOffsetTable = eot
        ds.ExtendedOffsetTableLengths = lengths
    else:
        ds.PixelData = encapsulate(frames, fragments_per_frame=fragments_per_frame, has_bot=(layout == "bot"))
    ds.save_as(out)
    return frames


@pytest.mark.parametrize("layout", ["bot", "none", "eot"])
@pytest.mark.parametrize(
    "parts",
    [
        ("series", "ct_dcmqi_ct-3slice", "01.dcm"),  # signed 16-bit
        ("enhanced", "emri_small.dcm"),  # 10 frames, 16-bit
        ("sm", "sm_image.dcm"),  # RGB, 25 frames
        ("pr", "imageForPrLUTs.dcm"),  # 8-bit 512x512
    ],
)
def test_rle_frames_equal_pixel_array(tmp_path, parts, layout):
    out = tmp_path / "rle.dcm"
    encoded = _rle_copy(shared(*parts), out, layout=layout)
    expected = reference_frames(shared(*parts))
    np.testing.assert_array_equal(reference_frames(out), expected)  # pydicom agrees
    reader = assert_same_frames(out)
    assert reader.transfer_syntax_uid == RLELossless
    with FrameReader(out) as reader:
        assert reader.read_encoded_frame(len(encoded) - 1) == encoded[-1]


def test_multi_fragment_frames_with_bot(tmp_path):
    out = tmp_path / "rle.dcm"
    encoded = _rle_copy(shared("enhanced", "emri_small.dcm"), out, fragments_per_frame=2)
    with FrameReader(out) as reader:
        assert [reader.read_encoded_frame(i) for i in range(10)] == encoded
        assert all(len(reader._frame_fragments(i)) == 2 for i in range(10))
    assert_same_frames(out)


def test_multi_fragment_jpeg_without_offset_table(tmp_path):
    src = shared("sm", "sm_image_jpegls.dcm")
    ds = pydicom.dcmread(src)
    frames = list(generate_frames(ds.PixelData, number_of_frames=25))
    ds.PixelData = encapsulate(frames, fragments_per_frame=3, has_bot=False)
    ds.save_as(tmp_path / "jls.dcm")
    with FrameReader(tmp_path / "jls.dcm") as reader:
        assert [reader.read_encoded_frame(i) for i in (24, 0, 7)] == [frames[24], frames[0], frames[7]]


def test_multi_fragment_rle_without_offset_table_is_an_error(tmp_path):
    out = tmp_path / "rle.dcm"
    _rle_copy(shared("enhanced", "emri_small.dcm"), out, layout="none", fragments_per_frame=2)
    with FrameReader(out) as reader, pytest.raises(InputError, match="fragments"):
        reader.read_frame(3)


def test_codec_frame_via_pydicom():
    path = shared("sm", "sm_image_jpegls.dcm")
    try:
        expected = reference_frames(path)
    except Exception as exc:  # no JPEG-LS plugin installed
        pytest.skip(f"pydicom cannot decode JPEG-LS here: {exc}")
    with FrameReader(path) as reader:
        np.testing.assert_array_equal(reader.read_frame(13), expected[13])


def test_rle_segment_runs():
    # literal 3 bytes, replicate 0x07 four times, no-op, literal 1 byte
    seg = bytes([2, 1, 2, 3, 256 - 3, 7, 128, 0, 9])
    assert rle_decode_segment(seg, 8) == bytes([1, 2, 3, 7, 7, 7, 7, 9])
    with pytest.raises(ValueError):
        rle_decode_segment(seg, 12)


# -- errors ----------------------------------------------------------------------------------------


def test_errors(tmp_path):
    with FrameReader(shared("seg", "seg_image_ct_binary.dcm")) as reader:
        with pytest.raises(IndexError):
            reader.read_frame(3)
        with pytest.raises(IndexError):
            reader.read_frame(-1)
    with pytest.raises(ValueError, match="closed"):
        reader.read_frame(0)
    bad = tmp_path / "x.dcm"
    bad.write_bytes(b"hello" * 40)
    with pytest.raises(InputError, match=r"x\.dcm"):
        FrameReader(bad)
    with pytest.raises(InputError, match="no Pixel Data"):
        FrameReader(shared("sr", "sr_document.dcm"))


@pytest.mark.parametrize("layout, headers_read", [("eot", 2), ("bot", 2), ("none", 10 + 2)])
def test_offset_tables_avoid_scanning(tmp_path, monkeypatch, layout, headers_read):
    out = tmp_path / "rle.dcm"
    _rle_copy(shared("enhanced", "emri_small.dcm"), out, layout=layout)
    calls = []
    original = FrameReader._read_item_header
    monkeypatch.setattr(
        FrameReader, "_read_item_header", lambda self, offset: calls.append(offset) or original(self, offset)
    )
    with FrameReader(out) as reader:
        if layout == "eot":
            assert len(reader.header.ExtendedOffsetTable) == 8 * 10
        reader.read_frame(0)
        assert len(calls) == headers_read
        reader.read_frame(0)  # offsets are remembered
        assert len(calls) == headers_read
