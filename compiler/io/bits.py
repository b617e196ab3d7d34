"""Bit packing of 1-bit pixels (PS3.5 8.1.1): 8 pixels to a byte, least significant bit first.

Frames follow one another without padding to byte boundaries; only the whole value is padded to an
even length. The one place where bits are packed and unpacked (Segmentation Pixel Data, the frame
reader, the RLE codec's 1-bit frames).
"""

from __future__ import annotations

from math import gcd

import numpy as np


def pack_bits(frames: np.ndarray) -> bytes:
    """Native 1-bit Pixel Data of ``frames`` (bool-like, any shape): one bit stream, even length."""
    packed = np.packbits(np.asarray(frames, dtype=bool).reshape(-1), bitorder="little")
    data = packed.tobytes()
    return data + b"\x00" if len(data) % 2 else data


def unpack_bits(data: bytes, count: int, offset: int = 0) -> np.ndarray:
    """``count`` pixels (bool, 1-D) of a bit stream, starting ``offset`` bits into ``data``.

    Raises :class:`ValueError` when ``data`` holds fewer bits: a short value is never padded.
    """
    have = len(data) * 8 - offset
    if have < count:
        raise ValueError(f"Pixel Data holds {max(have, 0)} bits, fewer than the {count} needed")
    bits = np.unpackbits(np.frombuffer(data, np.uint8), count=offset + count, bitorder="little")
    return bits[offset:].view(bool)


def pack_frames_separately(frames: np.ndarray) -> np.ndarray:
    """Each frame of a bool array (n, rows, cols) packed to bytes on its own: (n, ceil(rows*cols/8))."""
    n = frames.shape[0]
    return np.packbits(np.asarray(frames, dtype=bool).reshape(n, -1), axis=1, bitorder="little")


class BitWriter:
    """Packs bool frames, chunk by chunk, into ``out`` as one bit stream (LSB first, PS3.5 8.1.1).

    A frame of ``rows * cols`` bits may end inside a byte; frames are therefore packed in groups of
    ``group`` frames (a whole number of bytes) and the few frames left over at the end of a chunk are
    carried (copied) into the next one, so the stream continues exactly across chunk boundaries.
    """

    def __init__(self, out: np.ndarray, frame_bits: int) -> None:
        self.out = out
        self.pos = 0  # bytes written
        self.group = 8 // gcd(frame_bits, 8)
        self.carry: np.ndarray | None = None

    def _pack(self, frames: np.ndarray) -> None:
        packed = np.packbits(frames.reshape(-1), bitorder="little")
        self.out[self.pos : self.pos + packed.size] = packed
        self.pos += packed.size

    def write(self, frames: np.ndarray) -> None:
        frames = np.asarray(frames, dtype=bool)
        if self.carry is not None:
            need = self.group - len(self.carry)
            if len(frames) < need:
                self.carry = np.concatenate([self.carry, frames])
                return
            self._pack(np.concatenate([self.carry, frames[:need]]))
            frames, self.carry = frames[need:], None
        aligned = len(frames) - len(frames) % self.group
        if aligned:
            self._pack(frames[:aligned])
        if aligned < len(frames):
            self.carry = frames[aligned:].copy()  # the chunk may be a reused buffer

    def close(self) -> None:
        if self.carry is not None:
            self._pack(self.carry)  # the last byte is padded with zero bits
            self.carry = None
