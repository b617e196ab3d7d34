"""Pixel Data of Segmentation objects: bit packing and RLE Lossless.

Native encoding (PS3.5 8.1.1): 1-bit BINARY pixels are packed 8 to a byte, least significant bit first,
and frames follow one another without padding to byte boundaries; only the whole value is padded to
an even length. 8- and 16-bit values are little endian.

RLE Lossless (PS3.5 Annex G): each frame is one fragment holding a 64-byte header (the number of
segments and their offsets) and one RLE segment per byte plane, most significant plane first. Each
segment is a PackBits stream (G.3.1) padded to even length. Every image row is encoded separately; for
BINARY each frame is first packed to bytes on its own (padded to a whole byte) and that byte string is
encoded as one row. The encoder here is vectorised with numpy over all rows of all frames at once.
"""

from __future__ import annotations

import struct
from math import gcd
from typing import Iterable

import numpy as np

from ...errors import DicomConformanceError


# --- bit packing ----------------------------------------------------------------------------------

def pack_bits(frames: np.ndarray) -> bytes:
    """Native BINARY Pixel Data of ``frames`` (bool-like, any shape): one bit stream, even length."""
    packed = np.packbits(np.asarray(frames, dtype=bool).reshape(-1), bitorder="little")
    data = packed.tobytes()
    return data + b"\x00" if len(data) % 2 else data


def unpack_bits(data: bytes, n_frames: int, rows: int, cols: int) -> np.ndarray:
    """Inverse of :func:`pack_bits`: a bool array (n_frames, rows, cols)."""
    n = n_frames * rows * cols
    if len(data) * 8 < n:
        raise DicomConformanceError(
            f"Pixel Data holds {len(data) * 8} bits, fewer than the {n} of {n_frames} frames of"
            f" {rows}x{cols}")
    bits = np.unpackbits(np.frombuffer(data, np.uint8), count=n, bitorder="little")
    return bits.reshape(n_frames, rows, cols).view(bool)


class _BitWriter:
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
        self.out[self.pos:self.pos + packed.size] = packed
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


def native_pixel_data(chunks: Iterable[np.ndarray], n_frames: int, rows: int, cols: int,
                      bits: int) -> bytearray:
    """Native Pixel Data of ``n_frames`` frames given in order as chunks (n, rows, cols), written into
    one preallocated buffer of even length (zero padded): 1-bit (bool chunks, one continuous bit
    stream), 8-bit or 16-bit little endian (chunks are cast to the stored type)."""
    n_px = n_frames * rows * cols
    size = (n_px + 7) // 8 if bits == 1 else n_px * (bits // 8)
    data = bytearray(size + size % 2)
    done = 0
    if bits == 1:
        writer = _BitWriter(np.frombuffer(data, np.uint8, count=size), rows * cols)
        for chunk in chunks:
            writer.write(chunk)
            done += len(chunk)
        writer.close()
    else:
        dtype = np.dtype("<u2") if bits == 16 else np.dtype(np.uint8)
        frames = np.frombuffer(data, dtype, count=n_px).reshape(n_frames, rows, cols)
        for chunk in chunks:
            frames[done:done + len(chunk)] = chunk
            done += len(chunk)
        del frames
    if done != n_frames:
        raise RuntimeError(f"internal error: {done} frames encoded for {n_frames} planned")
    return data


def pack_frames_separately(frames: np.ndarray) -> np.ndarray:
    """Each frame of a bool array (n, rows, cols) packed to bytes on its own: (n, ceil(rows*cols/8))."""
    n = frames.shape[0]
    return np.packbits(np.asarray(frames, dtype=bool).reshape(n, -1), axis=1, bitorder="little")


# --- PackBits (PS3.5 G.3.1) -----------------------------------------------------------------------

def packbits_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """PackBits-encode every row of a 2D uint8 array separately.

    Returns the encoded bytes (uint8 array) and the output offset of each row (length ``n_rows + 1``).
    Runs of two or more equal bytes become replicate runs (up to 128 bytes each); the remaining bytes
    are grouped into literal runs of up to 128 bytes. No run crosses a row boundary.
    """
    rows = np.ascontiguousarray(rows, dtype=np.uint8)
    n_rows, width = rows.shape
    x = rows.reshape(-1)
    n = x.size
    if n == 0:
        return np.zeros(0, np.uint8), np.zeros(n_rows + 1, np.int64)
    brk = np.empty(n, bool)
    brk[0] = True
    np.not_equal(x[1:], x[:-1], out=brk[1:])
    brk[::width] = True
    starts = np.flatnonzero(brk)
    lens = np.diff(np.append(starts, n))
    rep = lens >= 2
    # literal runs (length 1) grouped: a group starts at a row start or after a replicate run
    row_start = (starts % width) == 0
    prev_rep = np.empty_like(rep)
    prev_rep[0] = True
    prev_rep[1:] = rep[:-1]
    lit = ~rep
    group_start = lit & (row_start | prev_rep)
    # tokens: replicate runs and literal groups, in input order
    token = rep | group_start
    tok_idx = np.flatnonzero(token)
    tok_start = starts[tok_idx]
    # literal group sizes: number of literal runs until the next token
    tok_end = np.append(tok_start[1:], n)
    tok_len = np.where(rep[tok_idx], lens[tok_idx], tok_end - tok_start)
    tok_rep = rep[tok_idx]
    n_pk = (tok_len + 127) // 128
    size = np.where(tok_rep, 2 * n_pk, tok_len + n_pk)
    out_off = np.zeros(size.size + 1, np.int64)
    np.cumsum(size, out=out_off[1:])
    out = np.empty(int(out_off[-1]), np.uint8)

    # replicate packets
    r_len, r_off, r_pk = tok_len[tok_rep], out_off[:-1][tok_rep], n_pk[tok_rep]
    r_val = x[tok_start[tok_rep]]
    total = int(r_pk.sum())
    if total:
        first = np.repeat(np.cumsum(r_pk) - r_pk, r_pk)
        k = np.arange(total) - first
        chunk = np.minimum(128, np.repeat(r_len, r_pk) - 128 * k)
        pos = np.repeat(r_off, r_pk) + 2 * k
        out[pos] = ((257 - chunk) & 0xFF).astype(np.uint8)
        out[pos + 1] = np.repeat(r_val, r_pk)
    # literal packets
    l_mask = ~tok_rep
    l_len, l_off, l_pk, l_start = tok_len[l_mask], out_off[:-1][l_mask], n_pk[l_mask], tok_start[l_mask]
    total = int(l_pk.sum())
    if total:
        first = np.repeat(np.cumsum(l_pk) - l_pk, l_pk)
        k = np.arange(total) - first
        chunk = np.minimum(128, np.repeat(l_len, l_pk) - 128 * k)
        out[np.repeat(l_off, l_pk) + 129 * k] = (chunk - 1).astype(np.uint8)
        nbytes = int(l_len.sum())
        firstb = np.repeat(np.cumsum(l_len) - l_len, l_len)
        j = np.arange(nbytes) - firstb
        src = np.repeat(l_start, l_len) + j
        out[np.repeat(l_off, l_len) + j + j // 128 + 1] = x[src]
    # output offset of each row: rows start tokens
    row_tok = np.searchsorted(tok_start, np.arange(n_rows) * width)
    row_off = np.append(out_off[row_tok], out_off[-1])
    return out, row_off


def rle_encode_frames(frames: np.ndarray, *, packed_binary: bool = False) -> list[bytes]:
    """RLE Lossless fragments (one per frame) of ``frames``.

    ``frames`` is (n, rows, cols) uint8 or uint16; with ``packed_binary`` it is (n, n_bytes) of frames
    already packed to bytes, each encoded as a single row.
    """
    frames = np.asarray(frames)
    n = frames.shape[0]
    if packed_binary:
        planes = [frames.astype(np.uint8, copy=False)]
        rows_per_frame = 1
    else:
        rows_per_frame = frames.shape[1]
        if frames.dtype.itemsize == 1:
            planes = [frames.astype(np.uint8, copy=False).reshape(n * rows_per_frame, -1)]
        else:
            le = frames.astype("<u2", copy=False)
            as_bytes = le.view(np.uint8).reshape(frames.shape + (2,))
            # most significant byte plane first (PS3.5 G.2)
            planes = [np.ascontiguousarray(as_bytes[..., 1]).reshape(n * rows_per_frame, -1),
                      np.ascontiguousarray(as_bytes[..., 0]).reshape(n * rows_per_frame, -1)]
    encoded = [packbits_rows(p) for p in planes]
    n_seg = len(planes)
    fragments = []
    for f in range(n):
        segments = []
        for data, row_off in encoded:
            a, b = row_off[f * rows_per_frame], row_off[(f + 1) * rows_per_frame]
            seg = data[a:b].tobytes()
            if len(seg) % 2:
                seg += b"\x00"
            segments.append(seg)
        offsets = [0] * 15
        pos = 64
        for i, seg in enumerate(segments):
            offsets[i] = pos
            pos += len(seg)
        fragments.append(struct.pack("<16I", n_seg, *offsets) + b"".join(segments))
    return fragments


def packbits_decode(data: bytes, expected: int) -> bytes:
    """Decode one PackBits segment (PS3.5 G.3.2) to ``expected`` bytes (extra output is dropped)."""
    out = bytearray()
    i, n = 0, len(data)
    while i < n and len(out) < expected:
        h = data[i]
        i += 1
        if h < 128:
            out += data[i:i + h + 1]
            i += h + 1
        elif h > 128:
            out += bytes([data[i]]) * (257 - h)
            i += 1
        # h == 128: no operation
    if len(out) < expected:
        out += bytes(expected - len(out))
    return bytes(out[:expected])


def rle_decode_frame(fragment: bytes, rows: int, cols: int, bits_allocated: int) -> np.ndarray:
    """One RLE Lossless frame as (rows, cols): bool for 1-bit, uint8 or uint16 otherwise."""
    n_seg = struct.unpack("<I", fragment[:4])[0]
    offsets = list(struct.unpack("<15I", fragment[4:64]))[:n_seg] + [len(fragment)]
    if bits_allocated == 1:
        nbytes = (rows * cols + 7) // 8
        seg = packbits_decode(fragment[offsets[0]:offsets[1]], nbytes)
        bits = np.unpackbits(np.frombuffer(seg, np.uint8), count=rows * cols, bitorder="little")
        return bits.reshape(rows, cols).view(bool)
    n_bytes = bits_allocated // 8
    if n_seg != n_bytes:
        raise DicomConformanceError(
            f"RLE frame has {n_seg} segments, expected {n_bytes} for {bits_allocated}-bit pixels")
    planes = [np.frombuffer(packbits_decode(fragment[offsets[i]:offsets[i + 1]], rows * cols), np.uint8)
              for i in range(n_seg)]
    if n_bytes == 1:
        return planes[0].reshape(rows, cols)
    value = planes[0].astype(np.uint16) << 8 | planes[1]
    return value.reshape(rows, cols)
