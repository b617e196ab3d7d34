"""Segmentation Pixel Data, native encoding (iods/seg/pixels.py), against pydicom's own bit packing and
little-endian bytes worked out by numpy (tests/MUTATION.md): 1-bit frames run on without byte padding, the
value is padded to an even length."""

from __future__ import annotations

import numpy as np
import pytest
from pydicom.pixels.utils import pack_bits, unpack_bits

from dcmspec_compiler.iods.seg.pixels import native_pixel_data


def _chunks(frames: np.ndarray, sizes: list[int]):
    start = 0
    for n in sizes:
        yield frames[start : start + n]
        start += n


@pytest.mark.parametrize(
    "n_frames, rows, cols, sizes",
    [(3, 3, 5, [1, 2]), (2, 4, 4, [2]), (5, 1, 3, [2, 1, 2]), (1, 1, 1, [1]), (4, 2, 7, [4]), (7, 3, 3, [3, 4])],
)
def test_one_bit_frames_as_pydicom_packs_them(n_frames, rows, cols, sizes):
    rng = np.random.default_rng(n_frames * 100 + rows * 10 + cols)
    frames = rng.random((n_frames, rows, cols)) > 0.5
    data = native_pixel_data(_chunks(frames, sizes), n_frames, rows, cols, 1)
    expected = pack_bits(frames.astype(np.uint8).ravel(), pad=True)  # one bit stream, padded to even
    assert bytes(data) == expected
    assert len(data) % 2 == 0 and len(data) == len(expected)
    n_px = n_frames * rows * cols
    np.testing.assert_array_equal(unpack_bits(bytes(data), as_array=True)[:n_px], frames.ravel())


@pytest.mark.parametrize("bits", [8, 16])
@pytest.mark.parametrize("n_frames, rows, cols, sizes", [(3, 3, 5, [1, 2]), (1, 1, 1, [1]), (2, 2, 3, [2])])
def test_eight_and_sixteen_bit_frames_little_endian(bits, n_frames, rows, cols, sizes):
    top = 255 if bits == 8 else 65535
    frames = np.arange(n_frames * rows * cols).reshape(n_frames, rows, cols) * 977 % (top + 1)
    data = native_pixel_data(_chunks(frames, sizes), n_frames, rows, cols, bits)
    raw = frames.astype("<u2" if bits == 16 else "u1").tobytes()
    assert bytes(data) == raw + b"\x00" * (len(raw) % 2)
    if bits == 16:
        assert data[:2] == bytes([frames.flat[0] & 0xFF, frames.flat[0] >> 8])


def test_frames_missing_or_extra_are_an_internal_error():
    frames = np.ones((3, 2, 2), np.uint8)
    for bits in (1, 8, 16):
        with pytest.raises(RuntimeError, match=r"^internal error: 2 frames encoded for 3 planned$"):
            native_pixel_data(_chunks(frames.astype(bool) if bits == 1 else frames, [1, 1]), 3, 2, 2, bits)
    with pytest.raises(RuntimeError, match=r"^internal error: 0 frames encoded for 1 planned$"):
        native_pixel_data(iter(()), 1, 2, 2, 8)
