"""The RLE codec and the bit packing (compiler/io/rle.py, compiler/io/bits.py) against independent oracles:
pydicom's own RLE decoder and encoder and its bit packing (written apart from ours), and PackBits streams
worked out by hand from PS3.5 G.3.1. Fast, so that mutation testing can run it once per mutant."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.encaps import generate_frames
from pydicom.pixels.decoders.rle import _rle_decode_frame, _rle_decode_segment
from pydicom.pixels.utils import pack_bits as pydicom_pack_bits
from pydicom.pixels.utils import unpack_bits as pydicom_unpack_bits
from pydicom.uid import ExplicitVRLittleEndian, RLELossless

from dcmspec_compiler.io.bits import BitWriter, pack_bits, pack_frames_separately, unpack_bits
from dcmspec_compiler.io.rle import packbits_rows, rle_decode_frame, rle_decode_segment, rle_encode_frames


def _pydicom_decode(fragment: bytes, rows: int, cols: int, bits: int) -> np.ndarray:
    """pydicom's RLE decoder: segments most significant byte first, to a little-endian array."""
    raw = _rle_decode_frame(fragment, rows, cols, 1, bits)
    if bits == 8:
        return np.frombuffer(bytes(raw), np.uint8).reshape(rows, cols)
    # pydicom returns the planes interleaved little-endian (segment_order '>' is the file's order)
    return np.frombuffer(bytes(raw), "<u2").reshape(rows, cols)


def _runs_frame(rows: int, cols: int, dtype, seed: int) -> np.ndarray:
    """Rows with every run length PackBits treats differently: 1, 2, 127-130, 255-257 equal values, and
    literal stretches of 127-130 different values."""
    rng = np.random.default_rng(seed)
    frame = np.zeros((rows, cols), dtype)
    hi = 0x0301 if dtype == np.uint16 else 250
    for r in range(rows):
        c = 0
        while c < cols:
            kind = rng.integers(0, 3)
            n = int(rng.choice([1, 2, 3, 127, 128, 129, 130, 255, 256, 257]))
            n = min(n, cols - c)
            if kind == 0:  # run of one value
                frame[r, c : c + n] = rng.integers(0, hi)
            else:  # literal: neighbours always differ
                frame[r, c : c + n] = (np.arange(n) % 2) * 7 + rng.integers(1, 5) + (np.arange(n) // 2 % 3)
            c += n
    return frame


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("cols", [1, 2, 127, 128, 129, 130, 257, 300])
def test_rle_encoder_decoded_by_pydicom(dtype, cols):
    frames = np.stack([_runs_frame(5, cols, dtype, seed) for seed in range(3)])
    if dtype == np.uint16:
        frames[1, 2, :] = 0x0102  # high and low bytes differ: a swapped plane shows
    fragments = rle_encode_frames(frames)
    assert len(fragments) == 3
    for f, fragment in enumerate(fragments):
        np.testing.assert_array_equal(_pydicom_decode(fragment, 5, cols, frames.itemsize * 8), frames[f])
        np.testing.assert_array_equal(rle_decode_frame(fragment, 5, cols, frames.itemsize * 8), frames[f])


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_our_decoder_reads_pydicoms_rle_encoder(dtype):
    """pydicom's RLE Lossless encoder (its own PackBits) written, our decoder reads it back."""
    rows, cols = 6, 261
    frames = np.stack([_runs_frame(rows, cols, dtype, seed) for seed in (7, 8)])
    ds = Dataset()
    ds.file_meta = Dataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.Rows, ds.Columns, ds.NumberOfFrames = rows, cols, len(frames)
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PixelRepresentation = 1, "MONOCHROME2", 0
    bits = frames.itemsize * 8
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = bits, bits, bits - 1
    ds.compress(RLELossless, frames, encoding_plugin="pydicom")
    for f, fragment in enumerate(generate_frames(ds.PixelData, number_of_frames=len(frames))):
        np.testing.assert_array_equal(rle_decode_frame(fragment, rows, cols, bits), frames[f])


def test_packbits_by_hand():
    """PS3.5 G.3.1: n in 0..127 copies the next n+1 bytes; n in 129..255 repeats the next byte 257-n times;
    a run never crosses a row; at most 128 bytes per packet."""
    rows = np.array([[5, 5, 5, 1, 2, 3]], np.uint8)
    out, off = packbits_rows(rows)
    assert out.tobytes() == bytes([254, 5, 2, 1, 2, 3]) and off.tolist() == [0, 6]
    two = np.array([[9, 9], [9, 9]], np.uint8)  # two rows: two runs, not one of 4
    out, off = packbits_rows(two)
    assert out.tobytes() == bytes([255, 9, 255, 9]) and off.tolist() == [0, 2, 4]
    long = np.full((1, 130), 4, np.uint8)  # 128 + 2
    assert packbits_rows(long)[0].tobytes() == bytes([129, 4, 255, 4])
    lit = (np.arange(130) % 2).astype(np.uint8)[None, :]  # 130 literal bytes: 128 + 2
    expect = bytes([127]) + bytes(i % 2 for i in range(128)) + bytes([1, 0, 1])
    assert packbits_rows(lit)[0].tobytes() == expect
    empty, offsets = packbits_rows(np.zeros((3, 0), np.uint8))  # rows of no pixels: nothing to write
    assert empty.size == 0 and offsets.tolist() == [0, 0, 0, 0]


def test_rle_fragment_header_by_hand():
    """PS3.5 G.5: 16 little-endian 32-bit words, the number of segments then their offsets (the first
    at 64), the rest zero; segments padded to even length."""
    (fragment,) = rle_encode_frames(np.array([[[1, 2, 3]]], np.uint16))
    header = struct.unpack("<16I", fragment[:64])
    # high bytes 0,0,0 -> [254, 0]; low bytes 1,2,3 -> [2, 1, 2, 3]
    assert header == (2, 64, 66) + (0,) * 13
    assert fragment[64:] == bytes([254, 0, 2, 1, 2, 3])
    (odd,) = rle_encode_frames(np.array([[[1, 2]]], np.uint8))
    assert struct.unpack("<16I", odd[:64]) == (1, 64) + (0,) * 14 and odd[64:] == bytes([1, 1, 2, 0])


def test_rle_decoder_by_hand_and_strict():
    seg = bytes([2, 1, 2, 3, 256 - 3, 7, 128, 0, 9])  # literal 3, replicate 4, no-op, literal 1
    assert rle_decode_segment(seg, 8) == bytes([1, 2, 3, 7, 7, 7, 7, 9])
    assert rle_decode_segment(seg, 5) == bytes([1, 2, 3, 7, 7])
    assert rle_decode_segment(bytes([129, 6]), 128) == bytes([6]) * 128
    assert rle_decode_segment(bytes([127]) + bytes(range(128)), 128) == bytes(range(128))
    with pytest.raises(ValueError, match=r"^RLE segment decodes to 8 bytes, expected 9$"):
        rle_decode_segment(seg, 9)
    with pytest.raises(ValueError, match=r"^RLE segment decodes to 0 bytes, expected 3$"):
        rle_decode_segment(bytes([254]), 3)  # a replicate run cut before its byte: short, not an IndexError
    header = struct.pack("<16I", 2, 64, 66, *[0] * 13)
    frame = header + bytes([254, 0, 2, 1, 2, 3])
    np.testing.assert_array_equal(rle_decode_frame(frame, 1, 3, 16), [[1, 2, 3]])
    assert rle_decode_frame(frame, 1, 3, 16).dtype == np.uint16
    with pytest.raises(ValueError, match=r"^RLE frame shorter than its 64-byte header$"):
        rle_decode_frame(frame[:63], 1, 3, 16)
    with pytest.raises(ValueError, match=r"^RLE Lossless with Bits Allocated 12 is not supported$"):
        rle_decode_frame(frame, 1, 3, 12)
    with pytest.raises(ValueError, match=r"^1-bit RLE frame has 2 segments, expected 1$"):
        rle_decode_frame(frame, 1, 3, 1)
    with pytest.raises(ValueError, match=r"^RLE frame has 2 segments, expected 1$"):
        rle_decode_frame(frame, 1, 3, 8)
    # two samples of 8 bits: segment k is sample k (PS3.5 G.2)
    rgb = struct.pack("<16I", 2, 64, 68, *[0] * 13) + bytes([1, 10, 20, 0]) + bytes([1, 30, 40, 0])
    np.testing.assert_array_equal(rle_decode_frame(rgb, 1, 2, 8, samples_per_pixel=2), [[[10, 30], [20, 40]]])


@pytest.mark.parametrize("shape", [(1, 1, 1), (2, 3, 5), (3, 4, 4), (5, 7, 9)])
def test_bit_packing_equals_pydicoms(shape):
    rng = np.random.default_rng(sum(shape))
    frames = rng.integers(0, 2, shape).astype(bool)
    packed = pack_bits(frames)
    assert packed == pydicom_pack_bits(frames.astype(np.uint8).reshape(-1), pad=True)
    assert len(packed) % 2 == 0
    n = frames.size
    np.testing.assert_array_equal(unpack_bits(packed, n), frames.reshape(-1))
    np.testing.assert_array_equal(unpack_bits(packed, n).astype(np.uint8), pydicom_unpack_bits(packed)[:n])
    per_frame = frames[0].size
    for f in range(shape[0]):  # frames follow one another with no padding between them
        np.testing.assert_array_equal(unpack_bits(packed, per_frame, f * per_frame), frames[f].reshape(-1))
    separate = pack_frames_separately(frames)
    for f in range(shape[0]):
        assert separate[f].tobytes() == pydicom_pack_bits(frames[f].astype(np.uint8).reshape(-1), pad=False)


def test_bit_packing_by_hand():
    assert pack_bits(np.array([1, 0, 0, 0, 0, 0, 0, 0, 1], bool)) == bytes([0b00000001, 0b00000001])
    assert pack_bits(np.array([0, 1, 1], bool)) == bytes([0b00000110, 0])
    np.testing.assert_array_equal(unpack_bits(bytes([0b10100000]), 3, 5), [True, False, True])
    with pytest.raises(ValueError, match=r"^Pixel Data holds 3 bits, fewer than the 4 needed$"):
        unpack_bits(bytes([0xFF]), 4, 5)
    with pytest.raises(ValueError, match=r"^Pixel Data holds 0 bits, fewer than the 1 needed$"):
        unpack_bits(b"", 1, 3)


@pytest.mark.parametrize("frame_shape", [(3, 5), (2, 4), (1, 1), (4, 6)])
@pytest.mark.parametrize("chunks", [[1] * 11, [3, 8], [11], [2, 0, 5, 4], [3, 20, 5], [1, 26, 1]])
def test_bit_writer_in_chunks_equals_one_bit_stream(frame_shape, chunks):
    rng = np.random.default_rng(len(chunks))
    total = sum(chunks)
    frames = rng.integers(0, 2, (total,) + frame_shape).astype(bool)
    expected = pydicom_pack_bits(frames.astype(np.uint8).reshape(-1), pad=False)
    out = np.zeros(len(expected) + 4, np.uint8)
    writer = BitWriter(out, frame_shape[0] * frame_shape[1])
    start = 0
    buffer = np.empty((total,) + frame_shape, bool)
    for size in chunks:
        buffer[:size] = frames[start : start + size]  # a reused buffer, as the builder passes
        writer.write(buffer[:size])
        buffer[:] = True
        start += size
    writer.close()
    assert writer.pos == len(expected)
    assert out[: writer.pos].tobytes() == expected
    assert not out[writer.pos :].any()


def _literal_frame(words: np.ndarray) -> bytes:
    """An RLE frame written by hand: one literal packet per byte plane, most significant plane first."""
    planes = words.astype(words.dtype.newbyteorder(">")).view(np.uint8).reshape(words.size, -1).T
    segments = [bytes([words.size - 1]) + plane.tobytes() for plane in planes]
    segments = [s + b"\x00" * (len(s) % 2) for s in segments]
    offsets = np.cumsum([64] + [len(s) for s in segments[:-1]]).tolist()
    return struct.pack("<16I", len(segments), *offsets, *[0] * (15 - len(segments))) + b"".join(segments)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.uint32, np.uint64])
def test_rle_decoder_every_bits_allocated(dtype):
    words = np.array(
        [[1, 0x0102, 2**31 + 5], [7, 0, 2**32 - 1 if dtype != np.uint64 else 2**63 + 9]], dtype=np.uint64
    ).astype(dtype)
    frame = _literal_frame(words.reshape(-1))
    bits = np.dtype(dtype).itemsize * 8
    np.testing.assert_array_equal(rle_decode_frame(frame, 2, 3, bits), words)
    np.testing.assert_array_equal(
        np.frombuffer(bytes(_rle_decode_frame(frame, 2, 3, 1, bits)), f"<u{bits // 8}"), words.reshape(-1)
    )


def test_rle_frame_of_header_only():
    """A frame of no pixels is its 64-byte header; nothing is missing."""
    assert rle_decode_frame(struct.pack("<16I", 1, 64, *[0] * 14), 0, 5, 8).shape == (0, 5)


@pytest.mark.parametrize("shape", [(1, 1), (9, 11), (8, 8), (3, 7)])
def test_1bit_rle_frames_against_pydicoms_segment_decoder_and_bit_unpacking(shape):
    """1-bit frames (pydicom 3 has no 1-bit RLE decoder): each segment decoded by pydicom's PackBits decoder and
    unpacked by pydicom's bit unpacking equals the mask, and so does our decoder."""
    rng = np.random.default_rng(shape[0] * shape[1])
    masks = rng.integers(0, 2, (4,) + shape).astype(bool)
    masks[1] = True
    masks[2] = False
    fragments = rle_encode_frames(pack_frames_separately(masks), packed_binary=True)
    n_px = shape[0] * shape[1]
    for f, fragment in enumerate(fragments):
        header = struct.unpack("<16I", fragment[:64])
        assert header[:2] == (1, 64) and not any(header[2:])
        packed = bytes(_rle_decode_segment(fragment[64:]))[: (n_px + 7) // 8]
        assert len(packed) == (n_px + 7) // 8
        np.testing.assert_array_equal(pydicom_unpack_bits(packed)[:n_px].astype(bool), masks[f].reshape(-1))
        np.testing.assert_array_equal(rle_decode_frame(fragment, *shape, 1), masks[f])
