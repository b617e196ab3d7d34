"""Pixel values of a Parametric Map: checking, value range, empty frames, encoding (PS3.3 C.8.32.2).

Float32 maps are stored as Float Pixel Data (7FE0,0008, OF), float64 as Double Float Pixel Data
(7FE0,0009, OD), integers as 16-bit Pixel Data (unsigned or two's complement). The map is read in
chunks of frames: one pass finds non-finite values, the value range and the empty frames, a second
copies the kept frames into the one output buffer (no whole-volume temporaries).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import DicomConformanceError

CHUNK_BYTES = 8 << 20

FLOAT_PIXEL_DATA = 0x7FE00008
DOUBLE_FLOAT_PIXEL_DATA = 0x7FE00009
PIXEL_DATA = 0x7FE00010


@dataclass(frozen=True)
class Storage:
    """How stored values are encoded: bits allocated, pixel data tag and VR, dtype, signedness."""

    bits: int
    tag: int
    vr: str
    dtype: np.dtype
    signed: bool

    @property
    def floating(self) -> bool:
        return self.dtype.kind == "f"


@dataclass
class PreparedMap:
    """The checked map: storage, kept frame indices, value range (finite, over kept frames)."""

    array: np.ndarray
    storage: Storage
    kept: np.ndarray
    first: float
    last: float
    has_nan: bool


def _storage(arr: np.ndarray) -> Storage:
    kind, size = arr.dtype.kind, arr.dtype.itemsize
    if kind == "f" and size == 4:
        return Storage(32, FLOAT_PIXEL_DATA, "OF", np.dtype("<f4"), True)
    if kind == "f" and size == 8:
        return Storage(64, DOUBLE_FLOAT_PIXEL_DATA, "OD", np.dtype("<f8"), True)
    if kind == "f":
        raise DicomConformanceError(f"a Parametric Map holds float32 or float64 values, got {arr.dtype}")
    if kind in "bu":
        return Storage(16, PIXEL_DATA, "OW", np.dtype("<u2"), False)
    if kind == "i":
        return Storage(16, PIXEL_DATA, "OW", np.dtype("<i2"), True)
    raise DicomConformanceError(f"a Parametric Map holds numbers (float32, float64 or integers), got {arr.dtype}")


def _frames_per_chunk(arr: np.ndarray) -> int:
    return max(1, CHUNK_BYTES // max(1, arr[0].nbytes if len(arr) else 1))


def prepare_map(arr: np.ndarray, *, allow_nan: bool, omit_empty_frames: bool, empty_value: float | None) -> PreparedMap:
    """Check the map (frames, rows, columns) and plan its frames (see the module docstring).

    Infinite values are refused; NaN is refused unless ``allow_nan``. A frame is empty when all its
    values are NaN, or all equal ``empty_value``; empty frames are left out with ``omit_empty_frames``.
    """
    storage = _storage(arr)
    n = arr.shape[0]
    lo = np.empty(n, np.float64)
    hi = np.empty(n, np.float64)
    nan_frames = np.zeros(n, bool)
    step = _frames_per_chunk(arr)
    for a in range(0, n, step):
        block = arr[a : a + step]
        flat = block.reshape(len(block), -1)
        lo[a : a + step] = flat.min(axis=1)
        hi[a : a + step] = flat.max(axis=1)
    if storage.floating:
        nan_frames = np.isnan(lo) | np.isnan(hi)
        if nan_frames.any():
            if not allow_nan:
                f = int(np.flatnonzero(nan_frames)[0])
                raise DicomConformanceError(
                    f"the map holds NaN (not a number) values, first in frame {f} (0-based), and NaN is"
                    f" not allowed in this map ({int(nan_frames.sum())} frame(s) affected)"
                )
            for f in np.flatnonzero(nan_frames).tolist():
                frame = arr[f]
                if np.isnan(frame).all():
                    lo[f] = hi[f] = np.nan
                else:
                    lo[f], hi[f] = float(np.nanmin(frame)), float(np.nanmax(frame))
        if np.isinf(lo).any() or np.isinf(hi).any():
            f = int(np.flatnonzero(np.isinf(lo) | np.isinf(hi))[0])
            raise DicomConformanceError(
                f"the map holds infinite values, first in frame {f} (0-based); real-world values must be finite"
            )
    else:
        limits = (0, 0xFFFF) if not storage.signed else (-0x8000, 0x7FFF)
        if n and (lo.min() < limits[0] or hi.max() > limits[1]):
            raise DicomConformanceError(
                f"integer map values {int(lo.min())}..{int(hi.max())} do not fit 16-bit"
                f" {'signed' if storage.signed else 'unsigned'} pixels ({limits[0]}..{limits[1]});"
                " give a float map, or scale it and say how with the real world value slope/intercept"
            )
    empty = np.isnan(lo)
    if empty_value is not None:
        empty |= (lo == empty_value) & (hi == empty_value)
    kept = np.flatnonzero(~empty) if omit_empty_frames else np.arange(n)
    if kept.size == 0:
        raise DicomConformanceError("the map is empty: every frame is NaN or the empty value, nothing to store")
    valid = kept[~np.isnan(lo[kept])]
    first = float(lo[valid].min()) if valid.size else 0.0
    last = float(hi[valid].max()) if valid.size else 0.0
    return PreparedMap(arr, storage, kept, first, last, bool(nan_frames[kept].any()))


def encode(prepared: PreparedMap, *, copy: bool = True) -> bytearray | memoryview:
    """The kept frames as one little-endian buffer of even length, filled chunk by chunk; with
    ``copy=False`` a byte view of the input itself when it is already exactly that (every frame kept,
    stored type and byte order, contiguous): no second copy of the volume."""
    arr, storage, kept = prepared.array, prepared.storage, prepared.kept
    if (
        not copy
        and kept.size == arr.shape[0]
        and arr.dtype == storage.dtype
        and arr.flags.c_contiguous
        and arr.nbytes % 2 == 0
    ):
        # an ndarray is a buffer: numpy declares __buffer__ for Python >= 3.12 only
        return memoryview(arr.reshape(-1)).cast("B")  # type: ignore[arg-type]
    rows, cols = arr.shape[1:3]
    n_px = int(kept.size) * rows * cols
    size = n_px * storage.dtype.itemsize
    data = bytearray(size + size % 2)
    out = np.frombuffer(data, storage.dtype, count=n_px).reshape(kept.size, rows, cols)
    step = _frames_per_chunk(arr)
    if kept.size == arr.shape[0]:
        for a in range(0, kept.size, step):
            out[a : a + step] = arr[a : a + step]
    else:
        for a in range(0, kept.size, step):
            out[a : a + step] = arr[kept[a : a + step]]
    del out
    return data
