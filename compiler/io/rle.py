"""RLE Lossless (PS3.5 Annex G): the one encoder and the one (strict) decoder.

Each frame is one fragment holding a 64-byte header (the number of segments and their offsets) and one
RLE segment per byte plane, most significant plane first (G.2). Each segment is a PackBits stream (G.3.1)
padded to even length. The encoder encodes every image row separately; for 1-bit frames each frame is
first packed to bytes on its own (padded to a whole byte, :mod:`.bits`) and that byte string is encoded as
one row. It is vectorised with numpy over all rows of all frames at once. The decoder refuses a segment
that decodes to fewer bytes than the frame needs: short data is an error, never padded.
"""

from __future__ import annotations

import struct

import numpy as np

from .bits import unpack_bits


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
            planes = [
                np.ascontiguousarray(as_bytes[..., 1]).reshape(n * rows_per_frame, -1),
                np.ascontiguousarray(as_bytes[..., 0]).reshape(n * rows_per_frame, -1),
            ]
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


def rle_decode_frame(
    data: bytes, rows: int, columns: int, bits_allocated: int, samples_per_pixel: int = 1
) -> np.ndarray:
    """Decode one RLE Lossless frame (PS3.5 G.3, G.5) to rows x columns [x samples].

    The RLE header lists up to 15 segment offsets; each segment holds one byte of one sample of
    every pixel, most significant byte first, samples in order (PS3.5 G.2). Bits Allocated must
    be 1 (one segment of the frame's pixels packed to bytes, as :func:`rle_encode_frames` writes them
    with ``packed_binary``; returns bool), 8, 16, 32 or 64 (PS3.5 8.2.2). Raises :class:`ValueError`
    for a malformed frame.
    """
    if len(data) < 64:
        raise ValueError("RLE frame shorter than its 64-byte header")
    header = struct.unpack("<16L", data[:64])
    n_segments = header[0]
    if bits_allocated not in (1, 8, 16, 32, 64):
        raise ValueError(f"RLE Lossless with Bits Allocated {bits_allocated} is not supported")
    if bits_allocated == 1:
        if n_segments != 1 or samples_per_pixel != 1:
            raise ValueError(f"1-bit RLE frame has {n_segments} segments, expected 1")
        n_px = rows * columns
        packed = rle_decode_segment(data[header[1] :], (n_px + 7) // 8)
        return unpack_bits(packed, n_px).reshape(rows, columns)
    bytes_per_sample, plane = bits_allocated // 8, rows * columns
    expected = bytes_per_sample * samples_per_pixel
    if n_segments != expected:
        raise ValueError(f"RLE frame has {n_segments} segments, expected {expected}")
    offsets = list(header[1 : 1 + n_segments]) + [len(data)]
    segments = [rle_decode_segment(data[offsets[i] : offsets[i + 1]], plane) for i in range(n_segments)]
    planes = np.frombuffer(b"".join(segments), dtype=np.uint8).reshape(
        samples_per_pixel, bytes_per_sample, rows * columns
    )
    # Byte k of a sample is segment k (most significant first): reassemble little-endian words.
    words = np.ascontiguousarray(planes[:, ::-1, :].transpose(0, 2, 1))
    dtype = np.dtype(f"<u{bytes_per_sample}") if bytes_per_sample > 1 else np.dtype("u1")
    values = words.view(dtype).reshape(samples_per_pixel, rows, columns)
    values = values.astype(dtype.newbyteorder("="))
    # (numpy's stubs type indexing and transpose() as Any)
    pixels: np.ndarray = values[0] if samples_per_pixel == 1 else np.ascontiguousarray(values.transpose(1, 2, 0))
    return pixels


def rle_decode_segment(segment: bytes, length: int) -> bytes:
    """Decode one PackBits segment (PS3.5 G.3.2) to exactly ``length`` bytes."""
    out = bytearray()
    pos = 0
    end = len(segment)
    while pos < end and len(out) < length:
        n = segment[pos]
        pos += 1
        if n < 128:  # literal run of n + 1 bytes
            out += segment[pos : pos + n + 1]
            pos += n + 1
        elif n > 128:  # replicate the next byte 257 - n times
            if pos < end:
                out += bytes((segment[pos],)) * (257 - n)
            pos += 1
        # n == 128: no operation
    if len(out) < length:
        raise ValueError(f"RLE segment decodes to {len(out)} bytes, expected {length}")
    return bytes(out[:length])
