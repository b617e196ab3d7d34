"""Decode a Segmentation written by any of the tools and compare it with the input mask.

Independent of dcmspec's own reader: pydicom parses the data set, numpy unpacks the pixels, and RLE
Lossless (PS3.5 Annex G) is decoded here. Frames are matched to slices by their Image Position
(Patient) and to segments by Referenced Segment Number -> Segment Label ("Organ 7" is label value 7,
"Lesion" is the single mask). Frames that a tool leaves out must be empty in the input.

Returns a list of problems (empty = correct).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pydicom
from pydicom.encaps import generate_frames

RLE_LOSSLESS = "1.2.840.10008.1.2.5"
NATIVE = {"1.2.840.10008.1.2", "1.2.840.10008.1.2.1"}


def _packbits(data: bytes, expected: int) -> bytes:
    out = bytearray()
    i, n = 0, len(data)
    while i < n and len(out) < expected:
        h = data[i]
        i += 1
        if h < 128:
            out += data[i : i + h + 1]
            i += h + 1
        elif h > 128:
            out += bytes((data[i],)) * (257 - h)
            i += 1
    return bytes(out)


def rle_frame(fragment: bytes, n_bytes_per_sample: int, n_pixels: int, bits: int) -> np.ndarray:
    header = np.frombuffer(fragment[:64], "<u4")
    n_seg = int(header[0])
    if n_seg != n_bytes_per_sample:
        raise ValueError(f"RLE frame has {n_seg} segments, expected {n_bytes_per_sample}")
    offsets = [int(o) for o in header[1 : 1 + n_seg]] + [len(fragment)]
    plane_len = (n_pixels + 7) // 8 if bits == 1 else n_pixels
    planes = []
    for s in range(n_seg):
        plane = _packbits(fragment[offsets[s] : offsets[s + 1]], plane_len)
        if len(plane) < plane_len:
            raise ValueError(f"RLE segment decodes to {len(plane)} bytes, expected {plane_len}")
        planes.append(np.frombuffer(plane[:plane_len], np.uint8))
    if bits == 1:
        return np.unpackbits(planes[0], bitorder="little")[:n_pixels]
    if bits == 8:
        return planes[0]
    # 16 bit: most significant byte plane first
    return (planes[0].astype(np.uint16) << 8) | planes[1]


def iter_frames(ds) -> Iterator[np.ndarray]:
    rows, cols = int(ds.Rows), int(ds.Columns)
    n = int(getattr(ds, "NumberOfFrames", 1))
    bits = int(ds.BitsAllocated)
    ts = str(ds.file_meta.TransferSyntaxUID)
    npx = rows * cols
    if ts in NATIVE:
        buf = ds.PixelData
        if bits == 1:
            for i in range(n):
                start = i * npx
                b0, shift = divmod(start, 8)
                chunk = np.frombuffer(buf, np.uint8, count=(shift + npx + 7) // 8, offset=b0)
                yield np.unpackbits(chunk, bitorder="little")[shift : shift + npx].reshape(rows, cols)
        else:
            dtype = np.uint8 if bits == 8 else np.dtype("<u2")
            arr = np.frombuffer(buf, dtype, count=n * npx)
            for i in range(n):
                yield arr[i * npx : (i + 1) * npx].reshape(rows, cols)
    elif ts == RLE_LOSSLESS:
        for fragment in generate_frames(ds.PixelData, number_of_frames=n):
            yield rle_frame(fragment, max(1, bits // 8), npx, bits).reshape(rows, cols)
    else:
        raise ValueError(f"transfer syntax {ts} not handled by the bench checker")


def _frame_item(ds, i, name):
    """An item of functional group ``name`` for frame i (per-frame first, then shared)."""
    pf = ds.PerFrameFunctionalGroupsSequence[i]
    if name in pf:
        return getattr(pf, name)[0]
    shared = ds.SharedFunctionalGroupsSequence[0]
    if name in shared:
        return getattr(shared, name)[0]
    return None


def check_seg(path: Path, mask: np.ndarray, grid: dict, seg_type: str, max_frac: int = 255) -> list[str]:
    try:
        return _check_seg(path, np.asarray(mask), grid, seg_type, max_frac)
    except Exception as exc:  # a malformed output is a failed check, not a crash
        return [f"cannot decode {path.name}: {type(exc).__name__}: {exc}"]


def _check_seg(path: Path, mask: np.ndarray, grid: dict, seg_type: str, max_frac: int) -> list[str]:
    problems: list[str] = []
    try:
        ds = pydicom.dcmread(path)
    except Exception as exc:
        return [f"cannot read {path}: {exc}"]
    shape, spacing, origin = grid["shape"], grid["spacing"], grid["origin"]
    if (int(ds.Rows), int(ds.Columns)) != tuple(shape[1:]):
        return [f"frame size {ds.Rows}x{ds.Columns} != {shape[1:]}"]
    if str(getattr(ds, "SegmentationType", "")) != seg_type:
        problems.append(f"SegmentationType {getattr(ds, 'SegmentationType', None)} != {seg_type}")
    # segment number -> label value in the input
    seg_to_value: dict[int, int] = {}
    for item in ds.SegmentSequence:
        label = str(item.SegmentLabel)
        if label == "Lesion":
            seg_to_value[int(item.SegmentNumber)] = 1
        elif label.startswith("Organ "):
            seg_to_value[int(item.SegmentNumber)] = int(label.split()[-1])
        elif seg_type == "LABELMAP" and int(item.SegmentNumber) == 0:
            seg_to_value[0] = 0  # an explicit background segment (highdicom, dcmqi)
        else:
            problems.append(f"unexpected segment {item.SegmentNumber} {label!r}")
    measures = _frame_item(ds, 0, "PixelMeasuresSequence")
    if measures is not None and not np.allclose([float(v) for v in measures.PixelSpacing], spacing[1:], atol=1e-4):
        problems.append(f"PixelSpacing {measures.PixelSpacing} != {spacing[1:]}")
    n_frames = int(getattr(ds, "NumberOfFrames", 1))
    labelmap = seg_type == "LABELMAP"
    seen: set[tuple[int, int]] = set()
    frac = seg_type == "FRACTIONAL"
    bad = 0
    lut = np.zeros(65536, np.int64)  # labelmap: stored value (segment number) -> input label value
    for num, v in seg_to_value.items():
        lut[num] = v
    for i, frame in enumerate(iter_frames(ds)):
        pos = [float(v) for v in _frame_item(ds, i, "PlanePositionSequence").ImagePositionPatient]
        kf = (pos[2] - origin[2]) / spacing[0]
        k = round(kf)
        if abs(kf - k) > 1e-3 or not np.allclose(pos[:2], origin[:2], atol=1e-3) or not 0 <= k < shape[0]:
            problems.append(f"frame {i + 1}: position {pos} is not on the series grid")
            bad += 1
            continue
        if labelmap:
            value = 0
            got = lut[frame]
            want = mask[k]
        else:
            num = int(_frame_item(ds, i, "SegmentIdentificationSequence").ReferencedSegmentNumber)
            value = seg_to_value.get(num)
            if value is None:
                problems.append(f"frame {i + 1}: segment {num} not in SegmentSequence")
                bad += 1
                continue
            if frac:
                got = frame.astype(np.float32) / max_frac
                want = mask[k]
            else:
                got = frame.astype(bool)
                want = mask[k] == value
        key = (value, k)
        if key in seen:
            problems.append(f"frame {i + 1}: second frame for segment value {value} slice {k}")
            bad += 1
        seen.add(key)
        if frac:
            ok = np.abs(got - want).max() <= 1.0 / max_frac + 1e-6
        else:
            ok = np.array_equal(got, want)
        if not ok:
            bad += 1
            if len(problems) < 5:
                problems.append(f"frame {i + 1} (segment value {value}, slice {k}): pixels differ")
    # frames left out must be empty in the input
    missing = 0
    for k in range(shape[0]):
        sl = mask[k]
        if labelmap:
            if (0, k) not in seen and sl.any():
                missing += 1
        elif frac:
            if (1, k) not in seen and (sl >= 0.5 / max_frac).any():
                missing += 1
        else:
            for v in np.unique(sl):
                if v and (int(v), k) not in seen:
                    missing += 1
    if missing:
        problems.append(f"{missing} non-empty (segment, slice) frames are missing")
    if bad > 5:
        problems.append(f"{bad} frames wrong in total (of {n_frames})")
    return problems
