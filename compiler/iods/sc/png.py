"""A small PNG codec (ISO/IEC 15948, W3C PNG 2nd edition) for Secondary Capture pictures, on zlib alone.

Reads 8/16-bit greyscale, 8-bit RGB and 8-bit palette images (and their alpha variants when every pixel
is opaque), non-interlaced; writes 8/16-bit greyscale and 8-bit RGB with the Up filter. dcmspec keeps no
image library as a dependency for this: a screenshot or QC picture needs these few forms only, and the
chunk layout and the five filters (PNG 9.2) are short to implement. Errors are :class:`PNGError`.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Iterator

    from numpy.typing import NDArray

__all__ = ["SIGNATURE", "PNGError", "decode_png", "encode_png", "read_png"]

SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # colour type -> samples per pixel (PNG 6.1)
_COLOUR_NAMES = {0: "greyscale", 2: "RGB", 3: "palette", 4: "greyscale+alpha", 6: "RGBA"}
MAX_PIXELS = 1 << 28  # refuse absurd IHDR sizes before allocating


class PNGError(ValueError):
    """The bytes are not a PNG this codec reads (the message says why)."""


def _chunks(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    if not data.startswith(SIGNATURE):
        raise PNGError("not a PNG file (no PNG signature)")
    pos = len(SIGNATURE)
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        crc = data[pos + 8 + length : pos + 12 + length]
        if len(body) != length or len(crc) != 4:
            raise PNGError(f"truncated {kind.decode('latin-1')} chunk")
        if zlib.crc32(kind + body) != struct.unpack(">I", crc)[0]:
            raise PNGError(f"{kind.decode('latin-1')} chunk fails its CRC check (damaged file)")
        yield kind, body
        if kind == b"IEND":
            return
        pos += 12 + length
    raise PNGError("truncated PNG (no IEND chunk)")


def _unfilter(raw: bytes, height: int, stride: int, bpp: int) -> np.ndarray:
    """Undo the per-row filters (PNG 9.2): rows of ``stride`` bytes, ``bpp`` bytes per pixel."""
    if len(raw) < height * (stride + 1):
        raise PNGError("the image data are shorter than the image size says")
    rows = np.frombuffer(raw, dtype=np.uint8, count=height * (stride + 1)).reshape(height, stride + 1)
    kinds, filtered = rows[:, 0], rows[:, 1:]
    if kinds.max(initial=0) > 4:
        raise PNGError(f"unknown filter type {int(kinds.max())}")
    if (kinds >= 3).any():
        return _wavefront(kinds, filtered, bpp)
    out = np.zeros((height, stride), dtype=np.uint8)
    prior = np.zeros(stride, dtype=np.uint8)
    for y in range(height):
        f, line = int(kinds[y]), filtered[y]
        if f == 0:
            out[y] = line
        elif f == 2:
            out[y] = line + prior
        else:  # Sub: a running sum per byte lane, modulo 256
            out[y] = (np.cumsum(line.reshape(-1, bpp), axis=0, dtype=np.uint64) % 256).astype(np.uint8).reshape(-1)
        prior = out[y]
    return out


def _wavefront(kinds: np.ndarray, filtered: np.ndarray, bpp: int) -> NDArray[np.uint8]:
    """All five filters at once, one anti-diagonal of pixels at a time: pixel (y, x) needs (y, x-1), (y-1, x)
    and (y-1, x-1) only, all on earlier diagonals, so each diagonal is one vectorised step (Average and
    Paeth make a row sequential, which a row-by-row loop would do byte by byte). The pixels are stored
    sheared, ``s[y + 1, x + y + 2]``, so that a diagonal is a column and every step takes plain slices;
    row 0 and the columns left of each row stay zero (the borders PNG 9.2 defines)."""
    height, stride = filtered.shape
    width = stride // bpp
    ys, xs = np.mgrid[0:height, 0:width]
    f = np.zeros((height, width + height + 2, bpp), dtype=np.int16)
    f[ys, xs + ys + 2] = filtered.reshape(height, width, bpp)
    s = np.zeros((height + 1, width + height + 2, bpp), dtype=np.int16)
    is_paeth, is_average, is_up, is_sub = ((kinds == k)[:, None] for k in (4, 3, 2, 1))
    for t in range(height + width - 1):
        y0, y1 = max(0, t - width + 1), min(height, t + 1)
        a, b, c = s[y0 + 1 : y1 + 1, t + 1], s[y0:y1, t + 1], s[y0:y1, t]
        pa, pb, pc = np.abs(b - c), np.abs(a - c), np.abs(a + b - 2 * c)
        paeth = np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, c))
        pred = np.where(
            is_paeth[y0:y1],
            paeth,
            np.where(is_average[y0:y1], (a + b) >> 1, np.where(is_up[y0:y1], b, np.where(is_sub[y0:y1], a, 0))),
        )
        s[y0 + 1 : y1 + 1, t + 2] = (f[y0:y1, t + 2] + pred) & 0xFF
    rows: NDArray[np.uint8] = s[ys + 1, xs + ys + 2].astype(np.uint8).reshape(height, stride)
    return rows


def decode_png(data: bytes) -> np.ndarray:
    """Pixels of a PNG: (rows, columns) uint8/uint16 for greyscale, (rows, columns, 3) uint8 for colour."""
    header = palette = None
    idat = []
    transparency = False
    for kind, body in _chunks(bytes(data)):
        if kind == b"IHDR":
            if len(body) != 13:
                raise PNGError("IHDR chunk of the wrong size")
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"PLTE":
            palette = np.frombuffer(body, dtype=np.uint8).reshape(-1, 3)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"tRNS":
            transparency = True
    if header is None:
        raise PNGError("no IHDR chunk")
    width, height, depth, colour, compression, filtering, interlace = header
    if colour not in _CHANNELS:
        raise PNGError(f"colour type {colour} does not exist")
    name = _COLOUR_NAMES[colour]
    if interlace:
        raise PNGError("interlaced (Adam7) PNG is not read; save it without interlacing")
    if depth not in (8, 16) or (depth == 16 and colour == 3):
        raise PNGError(f"{depth}-bit {name} PNG is not read: 8 or 16 bits per sample are")
    if compression or filtering:
        raise PNGError("unknown compression or filter method")
    if not 0 < width * height <= MAX_PIXELS:
        raise PNGError(f"image size {width}x{height} is empty or too large")
    if not idat:
        raise PNGError("no image data (IDAT chunk)")
    channels = _CHANNELS[colour]
    bpp = channels * depth // 8
    expected = height * (width * bpp + 1)
    try:  # never more than the image needs: a small file cannot expand to gigabytes
        raw = zlib.decompressobj().decompress(b"".join(idat), expected)
    except zlib.error as exc:
        raise PNGError(f"the image data do not decompress: {exc}") from None
    rows = _unfilter(raw, height, width * bpp, bpp)
    if depth == 16:
        pixels = rows.view(">u2").astype(np.uint16).reshape(height, width, channels)
    else:
        pixels = rows.reshape(height, width, channels)
    if colour == 3:
        if palette is None:
            raise PNGError("palette PNG without a PLTE chunk")
        if transparency:
            raise PNGError("palette PNG with transparency is not read; save it without alpha")
        index = pixels[..., 0]
        if int(index.max()) >= len(palette):
            raise PNGError("a pixel names a palette entry that does not exist")
        return palette[index]
    if colour in (4, 6):
        alpha = pixels[..., -1]
        if int(alpha.min()) != (1 << depth) - 1:
            raise PNGError(f"{name} PNG with transparent pixels: DICOM pictures have no alpha; flatten it first")
        pixels = pixels[..., :-1]
    elif transparency:
        raise PNGError(f"{name} PNG with a transparent colour (tRNS) is not read; save it without alpha")
    if pixels.shape[-1] == 1:
        return np.ascontiguousarray(pixels[..., 0])
    if depth == 16:
        raise PNGError("16-bit RGB PNG is not read: DICOM true colour pictures have 8 bits per sample")
    return np.ascontiguousarray(pixels)


def read_png(path: str | Path) -> np.ndarray:
    """:func:`decode_png` of a file."""
    return decode_png(Path(path).read_bytes())


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def encode_png(pixels: np.ndarray, *, level: int = 6) -> bytes:
    """A PNG of (rows, columns) uint8/uint16 greyscale or (rows, columns, 3) uint8 RGB pixels."""
    a = np.asarray(pixels)
    if a.ndim == 2 and a.dtype in (np.uint8, np.uint16):
        colour, depth = 0, a.dtype.itemsize * 8
    elif a.ndim == 3 and a.shape[2] == 3 and a.dtype == np.uint8:
        colour, depth = 2, 8
    else:
        raise PNGError(
            f"cannot write a PNG of a {a.dtype} array of shape {a.shape}: give (rows, columns) uint8 or"
            " uint16, or (rows, columns, 3) uint8"
        )
    height, width = a.shape[:2]
    if height == 0 or width == 0:
        raise PNGError("cannot write an empty image")
    rows = a.astype(">u2").view(np.uint8) if depth == 16 else a
    rows = np.ascontiguousarray(rows).reshape(height, -1)
    up = rows.copy()
    up[1:] -= rows[:-1]  # the Up filter (type 2): modulo 256 by uint8 arithmetic
    filtered = np.empty((height, rows.shape[1] + 1), dtype=np.uint8)
    filtered[:, 0] = 2
    filtered[0, 0] = 0
    filtered[0, 1:] = rows[0]
    filtered[1:, 1:] = up[1:]
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    return (
        SIGNATURE
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"IDAT", zlib.compress(filtered.tobytes(), level))
        + _chunk(b"IEND", b"")
    )
