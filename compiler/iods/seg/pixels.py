"""Pixel Data of Segmentation objects, native encoding (PS3.5 8.1.1).

1-bit BINARY pixels are packed 8 to a byte, least significant bit first (:mod:`...io.bits`), and frames
follow one another without padding to byte boundaries; only the whole value is padded to an even length.
8- and 16-bit values are little endian. RLE Lossless is :mod:`...io.rle`.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ...io.bits import BitWriter


def native_pixel_data(chunks: Iterable[np.ndarray], n_frames: int, rows: int, cols: int, bits: int) -> bytearray:
    """Native Pixel Data of ``n_frames`` frames given in order as chunks (n, rows, cols), written into
    one preallocated buffer of even length (zero padded): 1-bit (bool chunks, one continuous bit
    stream), 8-bit or 16-bit little endian (chunks are cast to the stored type)."""
    n_px = n_frames * rows * cols
    size = (n_px + 7) // 8 if bits == 1 else n_px * (bits // 8)
    data = bytearray(size + size % 2)
    done = 0
    if bits == 1:
        writer = BitWriter(np.frombuffer(data, np.uint8, count=size), rows * cols)
        for chunk in chunks:
            writer.write(chunk)
            done += len(chunk)
        writer.close()
    else:
        dtype = np.dtype("<u2") if bits == 16 else np.dtype(np.uint8)
        frames = np.frombuffer(data, dtype, count=n_px).reshape(n_frames, rows, cols)
        for chunk in chunks:
            frames[done : done + len(chunk)] = chunk
            done += len(chunk)
        del frames
    if done != n_frames:
        raise RuntimeError(f"internal error: {done} frames encoded for {n_frames} planned")
    return data
