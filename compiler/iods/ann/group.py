"""One item of the Annotation Group Sequence (PS3.3 C.37.1.2, Table C.37.1-2) and its measurements.

Coordinates are held as the standard holds them: all points of the group in one float array (Point
Coordinates Data, OF, or Double Point Coordinates Data, OD), with the start of each POLYLINE/POLYGON in
Long Primitive Point Index List (OL, 1-based index of the annotation's first value in that array). The
constructor takes the same compact form, ``points`` (all points, in order) and ``counts`` (points per
annotation), or a list of one array per annotation, and works on whole arrays: no Python loop per
annotation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from pydicom.dataset import Dataset

from ...errors import DicomConformanceError
from ..common.algorithm import AlgorithmIdentification
from ..common.codes import code_from_item, code_item
from ..common.concept import Code, is_code
from ..common.ucum import UcumSyntaxError, check_ucum
from ..common.uid import is_valid_uid
from ..common.wrap import wrap_dataset

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["GENERATION_TYPES", "GRAPHIC_TYPES", "AnnotationGroup", "Measurement", "annotation_problems"]

#: Graphic Type (0070,0023) of an annotation group -> (fewest points, most points) per annotation (C.37.1.2.1.1)
GRAPHIC_TYPES: dict[str, tuple[int, int | None]] = {
    "POINT": (1, 1),
    "POLYLINE": (2, None),
    "POLYGON": (3, None),
    "ELLIPSE": (4, 4),
    "RECTANGLE": (4, 4),
}
#: Annotation Group Generation Type (006A,0007)
GENERATION_TYPES = ("MANUAL", "SEMIAUTOMATIC", "AUTOMATIC")


@dataclass(frozen=True)
class Measurement:
    """One Measurements Sequence item (C.37.1.2): a named quantity with one value per annotation of the
    group; NaN where an annotation has none (then Annotation Index List names those that do). Values are
    stored as 32-bit floats (Floating Point Values is OF)."""

    name: Code
    unit: Code
    values: np.ndarray

    def check_unit(self) -> None:
        """The unit is a UCUM code (Measurement Units Code Sequence, PS3.3 C.37.1.2; CID 7181 units are
        UCUM) whose value is a valid UCUM expression (``dcmspec_compiler.iods.common.ucum.check_ucum``)."""
        if not is_code(self.unit):
            raise DicomConformanceError("a measurement needs a unit Code (PS3.3 C.37.1.2)")
        if self.unit.scheme_designator != "UCUM":
            raise DicomConformanceError(
                f"measurement units are UCUM codes, not {self.unit.scheme_designator} {self.unit.value!r}"
            )
        try:
            check_ucum(self.unit.value)
        except UcumSyntaxError as exc:
            raise DicomConformanceError(f"measurement unit {self.unit.value!r}: {exc}") from None

    def item(self, number_of_annotations: int) -> Dataset:
        if not is_code(self.name) or not is_code(self.unit):
            raise DicomConformanceError("a measurement needs a name Code and a unit Code (PS3.3 C.37.1.2)")
        self.check_unit()
        values = np.asarray(self.values, dtype=np.float64).ravel()
        if values.shape[0] != number_of_annotations:
            raise DicomConformanceError(
                f"measurement {self.name.meaning!r} has {values.shape[0]} values for {number_of_annotations}"
                " annotations: give one per annotation, NaN where there is none"
            )
        if np.isinf(values).any():
            raise DicomConformanceError(f"measurement {self.name.meaning!r} has an infinite value")
        present = ~np.isnan(values)
        if not present.any():
            raise DicomConformanceError(f"measurement {self.name.meaning!r} has no value for any annotation")
        item = Dataset()
        item.ConceptNameCodeSequence = [code_item(self.name)]
        item.MeasurementUnitsCodeSequence = [code_item(self.unit)]
        values_item = Dataset()
        values_item.FloatingPointValues = values[present].astype("<f4").tobytes()
        if not present.all():
            values_item.AnnotationIndexList = (np.flatnonzero(present) + 1).astype("<i4").tobytes()
        item.MeasurementValuesSequence = [values_item]
        return item

    @classmethod
    def from_item(cls, item: Dataset, number_of_annotations: int) -> Measurement:
        values_item = item.MeasurementValuesSequence[0]
        stored = np.frombuffer(values_item.FloatingPointValues, dtype="<f4")
        values = np.full(number_of_annotations, np.nan, dtype=np.float32)
        if "AnnotationIndexList" in values_item:
            values[np.frombuffer(values_item.AnnotationIndexList, dtype="<i4") - 1] = stored
        else:
            values[:] = stored
        return cls(
            code_from_item(item.ConceptNameCodeSequence[0]),
            code_from_item(item.MeasurementUnitsCodeSequence[0]),
            values,
        )


def _compact(
    coordinates: np.ndarray | Sequence[np.ndarray], counts: Sequence[int] | np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """(points (n, 2|3) float64, counts (annotations,) int64) from either accepted form."""
    if counts is None:
        arrays = [
            np.asarray(a, dtype=np.float64).reshape(-1, np.shape(a)[-1] if np.ndim(a) > 1 else 2) for a in coordinates
        ]
        if not arrays:
            raise DicomConformanceError("an annotation group holds at least one annotation (PS3.3 C.37.1.2)")
        if len({a.shape[1] for a in arrays}) != 1:
            raise DicomConformanceError("all annotations of a group have the same number of coordinates per point")
        return np.concatenate(arrays), np.fromiter((len(a) for a in arrays), dtype=np.int64, count=len(arrays))
    points = np.asarray(coordinates, dtype=np.float64)
    counts = np.asarray(counts, dtype=np.int64).ravel()
    if points.ndim != 2:
        raise DicomConformanceError("points must be an (n, 2) or (n, 3) array")
    if counts.size == 0:
        raise DicomConformanceError("an annotation group holds at least one annotation (PS3.3 C.37.1.2)")
    if (counts < 0).any() or counts.sum() != points.shape[0]:
        raise DicomConformanceError(f"counts add up to {int(counts.sum())} points, the array has {points.shape[0]}")
    return points, counts


def annotation_problems(
    graphic_type: str, points: np.ndarray, counts: np.ndarray, bounds: tuple[np.ndarray, np.ndarray] | None = None
) -> list[tuple[int, str]]:
    """(0-based annotation index, what is wrong) for every annotation the standard does not allow:
    too few or too many points for the graphic type (C.37.1.2.1.1), a POLYGON repeating its first point
    as its last (ANN polygons are closed implicitly), coordinates that are not finite or lie outside
    ``bounds`` = (lowest, highest) per axis. Array operations throughout; the list is empty when all is well."""
    fewest, most = GRAPHIC_TYPES[graphic_type]
    out: list[tuple[int, str]] = []
    name = {"POINT": "a POINT", "ELLIPSE": "an ELLIPSE", "RECTANGLE": "a RECTANGLE"}.get(
        graphic_type, f"a {graphic_type}"
    )
    needs = f"exactly {fewest}" if fewest == most else f"at least {fewest}"
    for i in np.flatnonzero((counts < fewest) | ((counts > most) if most is not None else False)):
        out.append((int(i), f"{name} needs {needs} points, this annotation has {int(counts[i])}"))
    owner = np.repeat(np.arange(counts.size), counts)
    bad = ~np.isfinite(points).all(axis=1)
    for i in np.unique(owner[bad]):
        out.append((int(i), "a coordinate is not a finite number"))
    if bounds is not None and points.size:
        low, high = bounds
        dims = len(low)
        outside = ((points[:, :dims] < low) | (points[:, :dims] > high)).any(axis=1) & ~bad
        at = np.flatnonzero(outside)
        owners, firsts = np.unique(owner[at], return_index=True)  # the first point outside of each annotation
        for i, first in zip(owners, points[at[firsts]]):
            out.append(
                (
                    int(i),
                    f"point {tuple(round(float(v), 6) for v in first)} lies outside the image"
                    f" ({', '.join(f'{lo:g}..{hi:g}' for lo, hi in zip(low, high))})",
                )
            )
    if graphic_type == "POLYGON":
        ok = counts >= 3
        starts = np.cumsum(counts) - counts
        ends = starts + counts - 1
        closed = np.zeros(counts.size, dtype=bool)
        closed[ok] = (points[starts[ok]] == points[ends[ok]]).all(axis=1)
        for i in np.flatnonzero(closed):
            out.append(
                (
                    int(i),
                    "a POLYGON's last point repeats its first: ANN polygons close themselves"
                    " (PS3.3 C.37.1.2.1.1); leave the last point out",
                )
            )
    return sorted(out)


class AnnotationGroup(Dataset):
    """An Annotation Group Sequence item (PS3.3 C.37.1.2): annotations of one graphic type and one
    annotated property, with their measurements.

    ``coordinates``: all points (n, 2) or (n, 3) with ``counts`` (points per annotation), or a list of one
    (k, 2|3) array per annotation. 2D points are (column, row) of the image's Total Pixel Matrix; 3D
    points are (X, Y, Z) mm in the Slide Coordinate System. ``double``: Double Point Coordinates Data (OD,
    the default, keeps float64 input exactly) or Point Coordinates Data (OF, half the size).
    ``algorithm`` is required unless ``generation_type`` is MANUAL.
    """

    def __init__(
        self,
        *,
        number: int,
        uid: str,
        label: str,
        property_category: Code,
        property_type: Code,
        graphic_type: str,
        coordinates: np.ndarray | Sequence[np.ndarray],
        counts: Sequence[int] | np.ndarray | None = None,
        generation_type: str = "MANUAL",
        algorithm: AlgorithmIdentification | None = None,
        description: str | None = None,
        measurements: Sequence[Measurement] = (),
        property_modifiers: Sequence[Code] = (),
        double: bool = True,
    ) -> None:
        super().__init__()
        if graphic_type not in GRAPHIC_TYPES:
            raise DicomConformanceError(
                f"Graphic Type {graphic_type!r} is not one of {', '.join(GRAPHIC_TYPES)} (PS3.3 C.37.1.2)"
            )
        if generation_type not in GENERATION_TYPES:
            raise DicomConformanceError(
                f"Annotation Group Generation Type {generation_type!r} is not one of {', '.join(GENERATION_TYPES)}"
            )
        if generation_type == "MANUAL" and algorithm is not None:
            raise DicomConformanceError("a MANUAL annotation group names no algorithm (PS3.3 C.37.1.2)")
        if generation_type != "MANUAL" and algorithm is None:
            raise DicomConformanceError(
                f"a {generation_type} annotation group needs its algorithm"
                " (Annotation Group Algorithm Identification Sequence, PS3.3 C.37.1.2)"
            )
        if not isinstance(number, int) or not 1 <= number <= 65535:
            raise DicomConformanceError(f"Annotation Group Number {number!r} must be 1..65535")
        if not is_valid_uid(uid):
            raise DicomConformanceError(f"Annotation Group UID {uid!r} is not a valid UID")
        if not label or len(label) > 64:
            raise DicomConformanceError(f"Annotation Group Label must be 1 to 64 characters, got {label!r}")
        if not is_code(property_category) or not is_code(property_type):
            raise DicomConformanceError("an annotation group needs its property category and type Codes")
        points, counts_ = _compact(coordinates, counts)
        if points.shape[1] not in (2, 3):
            raise DicomConformanceError("points have 2 (image) or 3 (slide) coordinates each")
        problems = annotation_problems(graphic_type, points, counts_)
        if problems:
            index, message = problems[0]
            raise DicomConformanceError(f"annotation {index + 1} of group {label!r}: {message}")
        self.AnnotationGroupNumber = number
        self.AnnotationGroupUID = uid
        self.AnnotationGroupLabel = label
        if description:
            self.AnnotationGroupDescription = description
        self.AnnotationGroupGenerationType = generation_type
        if algorithm is not None:
            self.AnnotationGroupAlgorithmIdentificationSequence = [algorithm]
        self.AnnotationPropertyCategoryCodeSequence = [code_item(property_category)]
        self.AnnotationPropertyTypeCodeSequence = [code_item(property_type)]
        if property_modifiers:
            self.AnnotationPropertyTypeModifierCodeSequence = [code_item(c) for c in property_modifiers]
        self.NumberOfAnnotations = int(counts_.size)
        self.AnnotationAppliesToAllOpticalPaths = "YES"
        dims = points.shape[1]
        if dims == 3:
            self.AnnotationAppliesToAllZPlanes = "NO"
            z = points[:, 2]
            if (z == z[0]).all():  # C.37.1.2.1.1: a common Z is factored out, never repeated
                self.CommonZCoordinateValue = float(z[0])
                points, dims = points[:, :2], 2
        self.GraphicType = graphic_type
        flat = np.ascontiguousarray(points, dtype="<f8" if double else "<f4").ravel()
        if double:
            self.DoublePointCoordinatesData = flat.tobytes()
        else:
            self.PointCoordinatesData = flat.tobytes()
        if graphic_type in ("POLYLINE", "POLYGON"):
            starts = (np.cumsum(counts_) - counts_) * dims + 1
            self.LongPrimitivePointIndexList = starts.astype("<i4").tobytes()
        if measurements:
            self.MeasurementsSequence = [m.item(int(counts_.size)) for m in measurements]

    # -- reading -----------------------------------------------------------------------------------
    @classmethod
    def from_dataset(cls, item: Dataset) -> AnnotationGroup:
        """Wrap an Annotation Group Sequence item read from a file, for the read-side methods."""
        return wrap_dataset(cls, item)

    @property
    def number(self) -> int:
        return int(self.AnnotationGroupNumber)

    @property
    def uid(self) -> str:
        return str(self.AnnotationGroupUID)

    @property
    def label(self) -> str:
        return str(self.AnnotationGroupLabel)

    @property
    def graphic_type(self) -> str:
        return str(self.GraphicType)

    @property
    def generation_type(self) -> str:
        return str(self.AnnotationGroupGenerationType)

    @property
    def property_category(self) -> Code:
        return code_from_item(self.AnnotationPropertyCategoryCodeSequence[0])

    @property
    def property_type(self) -> Code:
        return code_from_item(self.AnnotationPropertyTypeCodeSequence[0])

    @property
    def algorithm(self) -> AlgorithmIdentification | None:
        seq = self.get("AnnotationGroupAlgorithmIdentificationSequence")
        return AlgorithmIdentification.from_dataset(seq[0]) if seq else None

    @property
    def number_of_annotations(self) -> int:
        return int(self.NumberOfAnnotations)

    def points(self) -> NDArray[np.float64]:
        """All points of the group, (n, 2) or (n, 3) float64 (a common Z put back as the third column)."""
        if "DoublePointCoordinatesData" in self:
            flat = np.frombuffer(self.DoublePointCoordinatesData, dtype="<f8")
        else:
            flat = np.frombuffer(self.PointCoordinatesData, dtype="<f4").astype(np.float64)
        common_z = self.get("CommonZCoordinateValue")
        dims = 2 if common_z is not None or self.get("AnnotationAppliesToAllZPlanes") is None else 3
        points = flat.reshape(-1, dims)
        if common_z is not None:
            points = np.column_stack([points, np.full(points.shape[0], float(common_z))])
        return points

    def counts(self) -> NDArray[np.int64]:
        """Points per annotation (int64), from the graphic type or the Long Primitive Point Index List."""
        n = self.number_of_annotations
        _fewest, most = GRAPHIC_TYPES[self.graphic_type]
        if most is not None:
            return np.full(n, most, dtype=np.int64)
        dims = (
            2
            if (self.get("CommonZCoordinateValue") is not None or self.get("AnnotationAppliesToAllZPlanes") is None)
            else 3
        )
        total = (
            len(self.DoublePointCoordinatesData) // 8
            if "DoublePointCoordinatesData" in self
            else len(self.PointCoordinatesData) // 4
        )
        starts = (np.frombuffer(self.LongPrimitivePointIndexList, dtype="<i4").astype(np.int64) - 1) // dims
        return np.diff(np.append(starts, total // dims))

    def coordinates(self) -> list[NDArray[np.float64]]:
        """One (k, 2|3) array per annotation."""
        counts = self.counts()
        return np.split(self.points(), np.cumsum(counts)[:-1])

    def measurements(self) -> list[Measurement]:
        """The group's measurements, each with one value per annotation (NaN where there is none)."""
        n = self.number_of_annotations
        return [Measurement.from_item(item, n) for item in self.get("MeasurementsSequence", [])]
