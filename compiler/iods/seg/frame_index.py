"""A Segmentation file's frames, indexed without parsing its per-frame functional groups item by item.

For outlines (and anything else that needs, per frame, only the segment and the source image) the
Per-frame Functional Groups Sequence (PS3.3 C.7.6.16) is scanned as bytes: in Explicit VR Little Endian
each frame's item holds one Referenced Segment Number (0062,000B, in Segment Identification) and one
Referenced SOP Instance UID (0008,1155, in Derivation Image > Source Image), in frame order. When that does
not hold (another transfer syntax, several UIDs per frame, referenced frame numbers of a multi-frame
source, a label map) :func:`index_segmentation` parses the items with pydicom instead. Pixel frames are then
read one segment at a time with :class:`~dcmspec_compiler.io.frames.FrameReader`, never the whole file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from os import PathLike
from typing import TYPE_CHECKING

import numpy as np
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag

from ...errors import DicomConformanceError
from ...io.frames import FrameReader

if TYPE_CHECKING:
    from pydicom.dataelem import DataElement

__all__ = ["FrameIndex", "index_segmentation", "segment_masks"]

PER_FRAME = BaseTag(0x52009230)
_SEGMENT_NUMBER = re.compile(rb"\x62\x00\x0b\x00US\x02\x00(..)", re.S)
_SOURCE_UID = re.compile(rb"\x08\x00\x55\x11UI(..)", re.S)
_FRAME_NUMBER = b"\x08\x00\x60\x11"  # Referenced Frame Number (0008,1160)


@dataclass(frozen=True)
class FrameIndex:
    """Per frame (0-based): the segment it belongs to (None for a label map) and its source image's
    SOP Instance UID."""

    segments: np.ndarray | None
    sources: list[str]


def _raw_value(reader: FrameReader, element: DataElement | RawDataElement | None) -> bytes | None:
    if not isinstance(element, RawDataElement):
        return None
    if element.value is not None:
        return bytes(element.value)
    if element.length == 0xFFFFFFFF or element.value_tell is None:
        return None
    with open(reader.path, "rb") as fp:  # deferred by the reader: read it here
        fp.seek(element.value_tell)
        return fp.read(element.length)


def _scan(raw: bytes, n: int, labelmap: bool) -> FrameIndex | None:
    """The index from the bytes of the per-frame sequence, or None when they are not as expected."""
    if _FRAME_NUMBER in raw:
        return None
    uids = []
    for m in _SOURCE_UID.finditer(raw):
        length = int.from_bytes(m.group(1), "little")
        uids.append(raw[m.end() : m.end() + length].rstrip(b"\x00 ").decode("ascii"))
    if len(uids) != n:
        return None
    if labelmap:
        return FrameIndex(None, uids)
    numbers = [int.from_bytes(m.group(1), "little") for m in _SEGMENT_NUMBER.finditer(raw)]
    if len(numbers) != n:
        return None
    return FrameIndex(np.asarray(numbers, dtype=np.int64), uids)


def _parse(header: Dataset, n: int, labelmap: bool) -> FrameIndex:
    """The index from the per-frame items parsed one by one (any transfer syntax, any layout)."""
    from ..common.functional_groups import frame_group

    shared = header.get("SharedFunctionalGroupsSequence")
    shared = shared[0] if shared else None
    per_frame = header.get("PerFrameFunctionalGroupsSequence") or []
    if len(per_frame) != n:
        raise DicomConformanceError(f"Per-frame Functional Groups Sequence has {len(per_frame)} items for {n} frames")
    segments, uids = [], []
    for f, item in enumerate(per_frame):
        deriv = frame_group(item, shared, "DerivationImageSequence")
        src = deriv.get("SourceImageSequence") if deriv is not None else None
        if not src:
            raise DicomConformanceError(f"frame {f + 1} has no Source Image Sequence; cannot map it to a source")
        uids.append(str(src[0].ReferencedSOPInstanceUID))
        if not labelmap:
            ident = frame_group(item, shared, "SegmentIdentificationSequence")
            if ident is None:
                raise DicomConformanceError(f"frame {f + 1} has no Segment Identification Sequence")
            segments.append(int(ident.ReferencedSegmentNumber))
    return FrameIndex(None if labelmap else np.asarray(segments, dtype=np.int64), uids)


def index_segmentation(reader: FrameReader) -> FrameIndex:
    """The frame index of the Segmentation ``reader`` has open."""
    header = reader.header
    n = int(header.get("NumberOfFrames", 1) or 1)
    labelmap = str(header.get("SegmentationType", "")) == "LABELMAP"
    if str(header.get("DimensionOrganizationType", "")) == "TILED_FULL" and PER_FRAME not in header:
        raise DicomConformanceError("TILED_FULL Segmentations (no per-frame functional groups) are not supported")
    ts = reader.transfer_syntax_uid  # the encoding of the dataset, hence of the per-frame items
    if ts.is_little_endian and not ts.is_implicit_VR and not ts.is_deflated:
        raw = _raw_value(reader, header._dict.get(PER_FRAME))
        found = _scan(raw, n, labelmap) if raw is not None else None
        if found is not None:
            return found
    return _parse(header, n, labelmap)


def _runs(frames: np.ndarray) -> list[tuple[int, int]]:
    """(first, count) of each run of consecutive frame indices."""
    breaks = np.flatnonzero(np.diff(frames) != 1) + 1
    return [(int(r[0]), len(r)) for r in np.split(frames, breaks)] if frames.size else []


def _binary_masks(reader: FrameReader, frames: np.ndarray) -> tuple[np.ndarray, int, int]:
    """Masks of 1-bit ``frames`` cropped to the box of what is set in any of them: (masks, first row,
    first column). The packed bytes are scanned for the box and only the box is unpacked."""
    rows, columns = reader.rows, reader.columns
    width = columns // 8
    packed = np.concatenate(
        [
            np.frombuffer(reader.read_native_bytes(first, count), np.uint8).reshape(count, rows, width)
            for first, count in _runs(frames)
        ]
    )
    any_row = packed.any(axis=(0, 2))
    any_byte = packed.any(axis=(0, 1))
    if not any_row.any():
        return np.zeros((len(frames), 0, 0), dtype=bool), 0, 0
    r = np.flatnonzero(any_row)
    b = np.flatnonzero(any_byte)
    box = np.ascontiguousarray(packed[:, r[0] : r[-1] + 1, b[0] : b[-1] + 1])
    bits = np.unpackbits(box, axis=2, bitorder="little").view(bool)  # first pixel in the lowest bit
    return bits, int(r[0]), int(b[0]) * 8


def segment_masks(
    path: str | PathLike[str], numbers: list[int]
) -> Iterator[tuple[int, list[str], np.ndarray, tuple[int, int]]]:
    """For each segment of ``numbers``: (number, source SOP Instance UIDs, masks (k, rows, columns) bool,
    (first row, first column) of the masks in the image), one mask per source image the segment has a
    frame on (frames on the same image are joined). 1-bit frames are cropped to the segment's box (the
    offset says where it lies); a FRACTIONAL segment is in where it is at least half of Maximum
    Fractional Value."""
    with FrameReader(path) as reader:
        index = index_segmentation(reader)
        header = reader.header
        kind = str(header.get("SegmentationType", "BINARY"))
        maximum = float(header.get("MaximumFractionalValue", 1) or 1)
        every = np.arange(len(index.sources))
        labels = reader.read_frames(every) if kind == "LABELMAP" else None
        packed = reader.bits_allocated == 1 and not reader.encapsulated and reader.columns % 8 == 0
        for number in numbers:
            offset = (0, 0)
            if labels is not None:
                frames = every
                masks = labels == number
            else:
                frames = np.flatnonzero(index.segments == number)
                if packed:
                    masks, row0, col0 = _binary_masks(reader, frames)
                    offset = (row0, col0)
                else:
                    masks = reader.read_frames(frames)
                    masks = masks >= maximum / 2 if kind == "FRACTIONAL" else masks != 0
            order: dict[str, int] = {}
            keep: list[int] = []
            uids: list[str] = []
            for j, f in enumerate(frames):
                uid = index.sources[int(f)]
                if uid in order:
                    masks[order[uid]] |= masks[j]
                    continue
                order[uid] = len(uids)
                keep.append(j)
                uids.append(uid)
            yield number, uids, (masks[keep] if len(keep) < len(frames) else masks), offset
