"""Reading Parametric Maps back: stored frames, real-world values, a Volume (files by dcmspec or others)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
from pydicom.dataset import Dataset

from ...errors import DicomConformanceError
from ..common.functional_groups import frame_group
from .mapping import RealWorldValueMapping, mapping_from_item

if TYPE_CHECKING:
    import os

    from numpy.typing import NDArray

    from ...spatial.volume import Volume
    from .parametric_map import ParametricMap

PARAMETRIC_MAP_STORAGE = "1.2.840.10008.5.1.4.1.1.30"
_Reader = TypeVar("_Reader", bound="ParametricMapReader")


class ParametricMapReader:
    """Read-back methods shared by built and loaded Parametric Maps (mixed into ``ParametricMap``)."""

    @classmethod
    def from_dataset(cls: type[_Reader], ds: Dataset) -> _Reader:
        """Wrap a Parametric Map dataset (as read by pydicom); the dataset's elements are shared."""
        if str(ds.get("SOPClassUID", "")) != PARAMETRIC_MAP_STORAGE:
            raise DicomConformanceError(f"SOP Class UID {ds.get('SOPClassUID')!r} is not Parametric Map Storage")
        obj = cls.__new__(cls)
        obj.__dict__.update(ds.__dict__)
        return obj

    @property
    def number_of_frames(self) -> int:
        return int(self.get("NumberOfFrames", 1) or 1)  # type: ignore[attr-defined]

    def get_stored_frames(self) -> np.ndarray:
        """The stored values, shape (frames, rows, columns), in the stored dtype (a read-only view)."""
        ds: Dataset = self  # type: ignore[assignment]
        n, rows, cols = self.number_of_frames, int(ds.Rows), int(ds.Columns)
        dtype: np.dtype[Any]
        if "FloatPixelData" in ds:
            data, dtype = ds.FloatPixelData, np.dtype("<f4")
        elif "DoubleFloatPixelData" in ds:
            data, dtype = ds.DoubleFloatPixelData, np.dtype("<f8")
        elif "PixelData" in ds:
            if int(ds.BitsAllocated) != 16:
                raise DicomConformanceError(f"integer Parametric Maps have 16-bit pixels, not {ds.BitsAllocated}")
            data, dtype = ds.PixelData, np.dtype("<i2" if int(ds.PixelRepresentation) else "<u2")
        else:
            raise DicomConformanceError("the Parametric Map has no pixel data")
        return np.frombuffer(data, dtype, count=n * rows * cols).reshape(n, rows, cols)

    def _frame_item(self, f: int, keyword: str) -> Dataset | None:
        ds: Dataset = self  # type: ignore[assignment]
        per_frame = ds.get("PerFrameFunctionalGroupsSequence") or []
        shared = ds.get("SharedFunctionalGroupsSequence")
        return frame_group(per_frame[f] if per_frame else None, shared[0] if shared else None, keyword)

    def get_mappings(self, frame: int = 0) -> list[RealWorldValueMapping]:
        """The Real World Value Mapping items of frame ``frame`` (0-based)."""
        ds: Dataset = self  # type: ignore[assignment]
        per_frame = ds.get("PerFrameFunctionalGroupsSequence") or []
        shared = ds.get("SharedFunctionalGroupsSequence")
        for group in (per_frame[frame] if per_frame else None, shared[0] if shared else None):
            if group is not None and group.get("RealWorldValueMappingSequence"):
                return [mapping_from_item(item) for item in group.RealWorldValueMappingSequence]
        raise DicomConformanceError(f"frame {frame + 1} has no Real World Value Mapping Sequence")

    def _first_mapped(self, frame: int) -> int:
        ds: Dataset = self  # type: ignore[assignment]
        per_frame = ds.get("PerFrameFunctionalGroupsSequence") or []
        shared = ds.get("SharedFunctionalGroupsSequence")
        for group in (per_frame[frame] if per_frame else None, shared[0] if shared else None):
            if group is not None and group.get("RealWorldValueMappingSequence"):
                return int(group.RealWorldValueMappingSequence[0].get("RealWorldValueFirstValueMapped", 0))
        return 0

    def get_frames(self, mapping: int = 0) -> NDArray[np.float64]:
        """Real-world values of every stored frame (float64), with Real World Value Mapping ``mapping``."""
        stored = self.get_stored_frames()
        n = len(stored)
        shared_map = self.get_mappings(0)[mapping]
        per_frame = self.get("PerFrameFunctionalGroupsSequence") or []  # type: ignore[attr-defined]
        if not per_frame or "RealWorldValueMappingSequence" not in per_frame[0]:
            return shared_map.apply(stored, self._first_mapped(0))
        out = np.empty(stored.shape, np.float64)
        for f in range(n):
            out[f] = self.get_mappings(f)[mapping].apply(stored[f], self._first_mapped(f))
        return out

    def frame_positions(self) -> NDArray[np.float64]:
        """Image Position (Patient) of every stored frame, (frames, 3)."""
        from ..common.stack import frame_geometry

        ds: Dataset = self  # type: ignore[assignment]  # mixed into a Dataset subclass
        value = frame_geometry(ds, "Parametric Map")
        return np.array(
            [value(f, "PlanePositionSequence", "ImagePositionPatient") for f in range(self.number_of_frames)]
        )

    def source_references(self) -> list[tuple[str, int | None]]:
        """(SOP Instance UID, frame number or None) of the source frame each stored frame derives from."""
        out = []
        for f in range(self.number_of_frames):
            deriv = self._frame_item(f, "DerivationImageSequence")
            src = deriv.SourceImageSequence[0] if deriv is not None and deriv.get("SourceImageSequence") else None
            if src is None:
                raise DicomConformanceError(f"frame {f + 1} has no Source Image Sequence")
            fn = src.get("ReferencedFrameNumber")
            out.append((str(src.ReferencedSOPInstanceUID), None if fn is None else int(fn)))
        return out

    def get_volume(self, mapping: int = 0, *, tolerance_mm: float = 1e-3) -> Volume:
        """Real-world values as a :class:`~dcmspec_compiler.spatial.Volume` on the grid of the stored frames
        (from the first to the last plane along the normal; planes without a frame are NaN)."""
        from ...spatial.volume import Volume
        from ..common.stack import frame_stack

        values = self.get_frames(mapping)
        ds: Dataset = self  # type: ignore[assignment]  # mixed into a Dataset subclass
        stack = frame_stack(ds, len(values), "Parametric Map", tolerance_mm)
        array = np.full((stack.n_planes,) + values.shape[1:], np.nan)
        array[stack.index] = values
        return Volume(array, stack.affine, frame_of_reference_uid=self.get("FrameOfReferenceUID"))  # type: ignore[attr-defined]


def pmread(path: str | os.PathLike[str]) -> ParametricMap:
    """Read a Parametric Map file."""
    from pydicom import dcmread

    from .parametric_map import ParametricMap

    return ParametricMap.from_dataset(dcmread(path))
