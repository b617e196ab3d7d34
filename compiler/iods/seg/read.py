"""Reading Segmentations back: segments, frames and pixels, for files written by dcmspec or others."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeVar

import numpy as np
from pydicom.dataset import Dataset
from pydicom.encaps import generate_frames
from pydicom.uid import RLELossless

from ...errors import DicomConformanceError
from ...io.bits import unpack_bits
from ...io.rle import rle_decode_frame
from ..common.codes import codes_equal
from ..common.concept import Code
from ..common.functional_groups import frame_group
from ..common.source_frame import SourceFrame
from ..common.sources import analyze_sources
from .segment import SegmentDescription

if TYPE_CHECKING:
    from ...spatial.volume import Volume

SourceKey = tuple[str, "int | None"]  # SourceFrame.key
_Reader = TypeVar("_Reader", bound="SegmentationReader")


def _first(ds: Dataset | None, keyword: str) -> Dataset | None:
    if ds is None:
        return None
    seq = ds.get(keyword)
    return seq[0] if seq else None


class SegmentationReader:
    """Read-back methods shared by built and loaded Segmentations (mixed into ``Segmentation``)."""

    _decoded: np.ndarray | None  # the stored frames once decoded

    def _init_reader_state(self) -> None:
        object.__setattr__(self, "_frame_sources", None)
        object.__setattr__(self, "_frame_segments", None)
        object.__setattr__(self, "_source_frames", None)
        object.__setattr__(self, "_decoded", None)

    # construction from existing data ------------------------------------------------------------
    @classmethod
    def from_dataset(cls: type[_Reader], ds: Dataset, *, source_images: Sequence[Dataset] | None = None) -> _Reader:
        """Wrap a Segmentation dataset (as read by pydicom). The dataset's elements are shared.

        ``source_images`` (optional) gives the full list of source frames in order, so that
        :meth:`get_pixels` can place frames the Segmentation omits; without it the source frames are
        the referenced instances in Common Instance Reference order (frames of a multi-frame source:
        1 .. the highest referenced frame number).
        """
        sop_class = str(ds.get("SOPClassUID", ""))
        if sop_class not in ("1.2.840.10008.5.1.4.1.1.66.4", "1.2.840.10008.5.1.4.1.1.66.7"):
            raise DicomConformanceError(
                f"SOP Class UID {sop_class!r} is not Segmentation Storage or Label Map Segmentation Storage"
            )
        obj = cls.__new__(cls)
        obj.__dict__.update(ds.__dict__)
        obj._init_reader_state()
        obj._index_frames()
        if source_images is not None:
            sources = analyze_sources(source_images)
            obj._source_frames = list(sources.frames)
        return obj

    def _index_frames(self) -> None:
        ds: Dataset = self  # type: ignore[assignment]
        n = int(ds.get("NumberOfFrames", 1) or 1)
        shared = _first(ds, "SharedFunctionalGroupsSequence")
        per_frame = ds.get("PerFrameFunctionalGroupsSequence") or []
        if per_frame and len(per_frame) != n:
            raise DicomConformanceError(
                f"Per-frame Functional Groups Sequence has {len(per_frame)} items for {n} frames"
            )
        if not per_frame and str(ds.get("DimensionOrganizationType", "")) == "TILED_FULL":
            raise DicomConformanceError(
                "TILED_FULL Segmentations (no per-frame functional groups) are not supported for reading"
            )
        labelmap = str(ds.get("SegmentationType", "")) == "LABELMAP"
        sources: list[SourceFrame] = []
        segments: list[int] | None = None if labelmap else []
        for f in range(n):
            pf = per_frame[f] if per_frame else None
            deriv = frame_group(pf, shared, "DerivationImageSequence")
            src = _first(deriv, "SourceImageSequence")
            if src is None:
                raise DicomConformanceError(
                    f"frame {f + 1} has no Source Image Sequence; cannot map it to a source frame"
                )
            fn = src.get("ReferencedFrameNumber")
            if fn is not None and not isinstance(fn, int):
                fn = int(next(iter(fn))) if len(fn) else None
            sources.append(
                SourceFrame(
                    str(src.ReferencedSOPClassUID),
                    str(src.ReferencedSOPInstanceUID),
                    int(fn) if fn is not None else None,
                )
            )
            if segments is not None:
                ident = frame_group(pf, shared, "SegmentIdentificationSequence")
                if ident is None:
                    raise DicomConformanceError(f"frame {f + 1} has no Segment Identification Sequence")
                segments.append(int(ident.ReferencedSegmentNumber))
        self._frame_sources = sources
        self._frame_segments = segments
        # source frame list from Common Instance Reference, then anything referenced by frames only
        all_frames: list[SourceFrame] = []
        max_frame: dict[str, int] = {}
        for s in sources:
            if s.frame_number is not None:
                max_frame[s.sop_instance_uid] = max(max_frame.get(s.sop_instance_uid, 0), s.frame_number)
        seen: set[str] = set()
        refs = [
            (str(i.get("ReferencedSOPClassUID", "")), str(i.ReferencedSOPInstanceUID))
            for series in ds.get("ReferencedSeriesSequence", [])
            for i in series.get("ReferencedInstanceSequence", [])
        ]
        refs += [(s.sop_class_uid, s.sop_instance_uid) for s in sources]
        for sop_class, uid in refs:
            if uid in seen:
                continue
            seen.add(uid)
            if uid in max_frame:
                all_frames.extend(SourceFrame(sop_class, uid, k) for k in range(1, max_frame[uid] + 1))
            else:
                all_frames.append(SourceFrame(sop_class, uid, None))
        self._source_frames = all_frames

    # segments -----------------------------------------------------------------------------------
    @property
    def segmentation_type(self) -> str:
        return str(self.SegmentationType)  # type: ignore[attr-defined]

    @property
    def segment_numbers(self) -> list[int]:
        return [int(item.SegmentNumber) for item in self.SegmentSequence]  # type: ignore[attr-defined]

    def get_segment(self, number: int) -> SegmentDescription:
        for item in self.SegmentSequence:  # type: ignore[attr-defined]
            if int(item.SegmentNumber) == int(number):
                return item if isinstance(item, SegmentDescription) else SegmentDescription.from_dataset(item)
        raise KeyError(f"no segment with Segment Number {number}")

    def find_segments(
        self,
        label: str | None = None,
        property_type: Code | None = None,
        property_category: Code | None = None,
        algorithm_type: str | None = None,
        tracking_id: str | None = None,
        tracking_uid: str | None = None,
    ) -> list[SegmentDescription]:
        """Segments matching every criterion given (codes compare by scheme and value)."""
        out = []
        for number in self.segment_numbers:
            seg = self.get_segment(number)
            if label is not None and seg.segment_label != label:
                continue
            if property_type is not None and not codes_equal(seg.segmented_property_type, property_type):
                continue
            if property_category is not None and not codes_equal(seg.segmented_property_category, property_category):
                continue
            if algorithm_type is not None and seg.algorithm_type != str(algorithm_type).upper():
                continue
            if tracking_id is not None and seg.tracking_id != tracking_id:
                continue
            if tracking_uid is not None and seg.tracking_uid != tracking_uid:
                continue
            out.append(seg)
        return out

    # sources ------------------------------------------------------------------------------------
    def source_instance_uids(self) -> list[str]:
        """SOP Instance UIDs of the source images, in source order."""
        out: list[str] = []
        for frame in self._source_frames or []:
            if frame.sop_instance_uid not in out:
                out.append(frame.sop_instance_uid)
        return out

    @property
    def source_frames(self) -> list[SourceFrame]:
        """Every source frame (SOP Class and Instance UID, frame number or None), in order."""
        return list(self._source_frames or [])

    # pixels -------------------------------------------------------------------------------------
    def _stored_frames(self) -> np.ndarray:
        if self._decoded is not None:
            return self._decoded
        ds: Dataset = self  # type: ignore[assignment]
        n = int(ds.get("NumberOfFrames", 1) or 1)
        rows, cols, bits = int(ds.Rows), int(ds.Columns), int(ds.BitsAllocated)
        ts = str(ds.file_meta.TransferSyntaxUID) if "file_meta" in ds.__dict__ and ds.file_meta else ""
        try:
            out = self._decode_frames(ds, ts, n, rows, cols, bits)
        except ValueError as exc:
            raise DicomConformanceError(f"cannot decode the Pixel Data: {exc}") from exc
        self._decoded = out
        return out

    @staticmethod
    def _decode_frames(ds: Dataset, ts: str, n: int, rows: int, cols: int, bits: int) -> np.ndarray:
        if ts == RLELossless:
            frames = [
                rle_decode_frame(fr, rows, cols, bits) for fr in generate_frames(ds.PixelData, number_of_frames=n)
            ]
            out = np.stack(frames)
        elif ds["PixelData"].VR in ("OB", "OW") and not ds["PixelData"].is_undefined_length:
            data = ds.PixelData
            if bits == 1:
                out = unpack_bits(data, n * rows * cols).reshape(n, rows, cols)
            elif bits == 8:
                out = np.frombuffer(data, np.uint8, count=n * rows * cols).reshape(n, rows, cols)
            elif bits == 16:
                out = np.frombuffer(data, "<u2", count=n * rows * cols).reshape(n, rows, cols)
            else:
                raise DicomConformanceError(f"Bits Allocated {bits} is not valid for a Segmentation")
        else:
            out = np.asarray(ds.pixel_array).reshape(n, rows, cols)
        return out

    def _numbers(self, segment_numbers: Sequence[int] | None) -> list[int]:
        described = self.segment_numbers
        if segment_numbers is None:
            return described
        numbers = [int(n) for n in segment_numbers]
        for n in numbers:
            if n not in described:
                raise KeyError(f"no segment with Segment Number {n}")
        return numbers

    def _assemble(self, targets: dict[SourceKey, int], n_out: int, numbers: list[int], combine: str) -> np.ndarray:
        ds: Dataset = self  # type: ignore[assignment]
        rows, cols = int(ds.Rows), int(ds.Columns)
        stored = self._stored_frames()
        seg_type = self.segmentation_type
        col = {n: i for i, n in enumerate(numbers)}
        if combine not in ("stack", "labelmap"):
            raise ValueError("combine must be 'stack' or 'labelmap'")
        if combine == "labelmap" and seg_type == "FRACTIONAL":
            raise DicomConformanceError("FRACTIONAL segments cannot be combined into a label map")
        frame_keys = [s.key for s in self._frame_sources or []]
        if combine == "stack":
            dtype = np.float32 if seg_type == "FRACTIONAL" else bool
            out = np.zeros((n_out, rows, cols, len(numbers)), dtype)
        else:
            out = np.zeros((n_out, rows, cols), np.uint16 if max(numbers) > 255 else np.uint8)
        max_frac = float(ds.get("MaximumFractionalValue", 1) or 1)
        for k, key in enumerate(frame_keys):
            t = targets.get(key)
            if t is None and key[1] == 1:
                t = targets.get((key[0], None))
            if t is None:
                continue
            frame = stored[k]
            if seg_type == "LABELMAP":
                if combine == "stack":
                    for n, i in col.items():
                        out[t, :, :, i] |= frame == n
                else:
                    keep = np.isin(frame, numbers)
                    out[t][keep] = frame[keep]
                continue
            s = self._frame_segments[k]  # type: ignore[index]
            if s not in col:
                continue
            if combine == "stack":
                if seg_type == "FRACTIONAL":
                    out[t, :, :, col[s]] = frame.astype(np.float32) / max_frac
                else:
                    out[t, :, :, col[s]] |= frame.astype(bool)
            else:
                mask = frame.astype(bool)
                if (out[t][mask] != 0).any():
                    raise DicomConformanceError(
                        "segments overlap and cannot be combined into a label map; use combine='stack'"
                    )
                out[t][mask] = s
        return out

    def get_pixels(self, segment_numbers: Sequence[int] | None = None, *, combine: str = "stack") -> np.ndarray:
        """Pixels over all source frames: (n_source_frames, rows, cols, n_segments) with
        ``combine="stack"`` (bool; float 0..1 for FRACTIONAL) or (n_source_frames, rows, cols) segment
        numbers with ``combine="labelmap"``. Frames the Segmentation omits are zeros."""
        numbers = self._numbers(segment_numbers)
        keys = [s.key for s in self._source_frames or []]
        targets = {key: i for i, key in enumerate(keys)}
        return self._assemble(targets, len(keys), numbers, combine)

    def get_pixels_by_source_instance(
        self,
        sop_instance_uid: str,
        frame_number: int | None = None,
        segment_numbers: Sequence[int] | None = None,
        *,
        combine: str = "stack",
    ) -> np.ndarray:
        """Pixels for one source frame: (rows, cols, n_segments) or (rows, cols) with ``labelmap``."""
        numbers = self._numbers(segment_numbers)
        key = (str(sop_instance_uid), int(frame_number) if frame_number is not None else None)
        known = {s.key for s in (self._source_frames or []) + (self._frame_sources or [])}
        if key not in known and not (frame_number in (None, 1) and ((key[0], None) in known or (key[0], 1) in known)):
            raise KeyError(f"source instance {sop_instance_uid} frame {frame_number} is not referenced")
        targets = {key: 0}
        if frame_number in (None, 1):
            targets[(key[0], None)] = 0
            targets[(key[0], 1)] = 0
        pixels: np.ndarray = self._assemble(targets, 1, numbers, combine)[0]
        return pixels

    def get_volume(
        self, segment_numbers: Sequence[int] | None = None, *, combine: str = "stack", tolerance_mm: float = 1e-3
    ) -> Volume:
        """The segments as a :class:`~dcmspec_compiler.spatial.Volume` on the grid of the stored frames.

        The volume runs from the first to the last stored plane along the slice normal, with the
        smallest step between stored planes as slice spacing; planes the Segmentation omits are zeros.
        Frames must form one stack (same orientation and pixel spacing, positions on one line along the
        normal, steps that are whole multiples of the spacing): otherwise :class:`DicomConformanceError`
        says which frame is off, by how many mm. Array layout as :meth:`get_pixels`.
        """
        from ...spatial.volume import Volume
        from ..common.stack import frame_stack

        ds: Dataset = self  # type: ignore[assignment]
        n = len(self._frame_sources or [])
        try:
            stack = frame_stack(ds, n, "Segmentation", tolerance_mm)
        except DicomConformanceError as exc:
            hint = "use get_pixels" if "no geometry" in str(exc) else "use get_pixels_by_source_instance"
            raise DicomConformanceError(f"{exc}; {hint}") from None
        index = stack.index
        keys = [(s.sop_instance_uid, s.frame_number) for s in self._frame_sources or []]
        targets = {key: int(k) for key, k in zip(keys, index)}
        array = self._assemble(targets, stack.n_planes, self._numbers(segment_numbers), combine)
        return Volume(array, stack.affine, frame_of_reference_uid=ds.get("FrameOfReferenceUID"))
