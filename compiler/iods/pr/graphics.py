"""Graphic layers, graphic objects and text objects of a presentation state (PS3.3 C.10.5, C.10.7).

Coordinates in PIXEL units are image-relative with sub-pixel resolution: (column, row) with 0.0\\0.0 the
top left corner of the top left pixel and Columns\\Rows the bottom right corner of the bottom right pixel
(C.10.5.1.2). DISPLAY units are fractions 0.0..1.0 of the displayed area. Every value is checked here, so
an object that reaches a file is one the standard allows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag

from ...errors import DicomConformanceError
from ..common.codes import set_element
from ..common.color import rgb_to_dicom_lab
from ..common.vr import check_text

__all__ = [
    "GRAPHIC_TYPES",
    "GraphicAnnotation",
    "GraphicGroup",
    "GraphicLayer",
    "GraphicObject",
    "TextObject",
    "check_groups",
    "check_layer_name",
    "finite",
]

#: Graphic Type (C.10.5.1.2) -> (minimum, exact) number of points; exact None means "at least minimum".
GRAPHIC_TYPES: dict[str, tuple[int, int | None]] = {
    "POINT": (1, 1),
    "POLYLINE": (2, None),
    "INTERPOLATED": (2, None),
    "CIRCLE": (2, 2),
    "ELLIPSE": (4, 4),
}
UNITS = ("PIXEL", "DISPLAY")
JUSTIFICATIONS = ("LEFT", "RIGHT", "CENTER")
# Graphic Object Sequence item attributes (C.10.5), set by tag: outlines make thousands of items
GRAPHIC_ANNOTATION_UNITS, GRAPHIC_DIMENSIONS = BaseTag(0x00700005), BaseTag(0x00700020)
NUMBER_OF_GRAPHIC_POINTS, GRAPHIC_DATA = BaseTag(0x00700021), BaseTag(0x00700022)
GRAPHIC_TYPE, GRAPHIC_FILLED, GRAPHIC_GROUP_ID = BaseTag(0x00700023), BaseTag(0x00700024), BaseTag(0x00700295)
GRAPHIC_LAYER, UNFORMATTED_TEXT_VALUE = BaseTag(0x00700002), BaseTag(0x00700006)
GRAPHIC_GROUP_LABEL, GRAPHIC_GROUP_DESCRIPTION = BaseTag(0x00700207), BaseTag(0x00700208)


def check_layer_name(name: str) -> str:
    """Graphic Layer (0070,0002) is a CS (PS3.5 6.2): checked by the one VR table, and not empty."""
    if not isinstance(name, str) or not name.strip():
        raise DicomConformanceError(f"graphic layer name {name!r} must be a non-empty CS value")
    check_text(GRAPHIC_LAYER, "CS", name)
    return name


@dataclass(frozen=True)
class GraphicLayer:
    """One item of Graphic Layer Sequence (C.10.7): name, order, recommended grey level and colour."""

    name: str
    order: int
    description: str | None = None
    grayscale: int | None = None  # 0..0xFFFF P-value
    color: tuple[int, int, int] | None = None  # sRGB, written as CIELab

    def item(self) -> Dataset:
        check_layer_name(self.name)
        if isinstance(self.order, bool) or not isinstance(self.order, int) or not -(2**31) <= self.order < 2**31:
            raise DicomConformanceError(f"Graphic Layer Order of {self.name!r} must be an integer (IS)")
        item = Dataset()
        item.GraphicLayer = self.name
        item.GraphicLayerOrder = self.order
        if self.grayscale is not None:
            if not 0 <= int(self.grayscale) <= 0xFFFF:
                raise DicomConformanceError(
                    f"recommended grey level of layer {self.name!r} must be 0..65535 (US), got {self.grayscale}"
                )
            item.GraphicLayerRecommendedDisplayGrayscaleValue = int(self.grayscale)
        if self.color is not None:
            item.GraphicLayerRecommendedDisplayCIELabValue = list(rgb_to_dicom_lab(self.color))
        if self.description:
            if len(self.description) > 64:
                raise DicomConformanceError(f"Graphic Layer Description of {self.name!r} exceeds 64 characters")
            item.GraphicLayerDescription = self.description
        return item


@dataclass(frozen=True)
class GraphicGroup:
    """One item of Graphic Group Sequence (Graphic Group Module, PS3.3 C.10.x): graphics and texts that
    belong together (e.g. a measurement line and its value) name it by ``group_id``."""

    group_id: int
    label: str
    description: str | None = None

    def item(self) -> Dataset:
        if isinstance(self.group_id, bool) or not isinstance(self.group_id, int) or not 1 <= self.group_id < 2**32:
            raise DicomConformanceError(f"Graphic Group ID must be a positive integer (UL), got {self.group_id!r}")
        if not isinstance(self.label, str) or not self.label.strip():
            raise DicomConformanceError(f"graphic group {self.group_id} needs a label (Graphic Group Label, Type 1)")
        item = Dataset()
        set_element(item, GRAPHIC_GROUP_ID, "UL", self.group_id)
        set_element(item, GRAPHIC_GROUP_LABEL, "LO", self.label)
        if self.description:
            set_element(item, GRAPHIC_GROUP_DESCRIPTION, "ST", self.description)
        return item


def check_groups(groups: Sequence[GraphicGroup]) -> list[int]:
    """The IDs of ``groups``, refused when two share one."""
    ids = [g.group_id for g in groups]
    if len(set(ids)) != len(ids):
        raise DicomConformanceError(f"Graphic Group IDs must be unique: {ids}")
    return ids


def _points(points: Sequence[Sequence[float]] | np.ndarray, what: str) -> np.ndarray:
    try:
        array = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError):
        raise DicomConformanceError(f"{what}: points must be (column, row) pairs of numbers") from None
    if array.ndim != 2 or array.shape[1] != 2:
        raise DicomConformanceError(f"{what}: points must be (column, row) pairs, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise DicomConformanceError(f"{what}: coordinates must be finite numbers")
    if (np.abs(array) > 3.4e38).any():
        raise DicomConformanceError(f"{what}: coordinates exceed the range of FL")
    return array


def _check_inside(points: np.ndarray, units: str, bounds: tuple[int, int] | None, what: str) -> None:
    """PIXEL points lie within 0..Columns, 0..Rows; DISPLAY points within 0..1 (C.10.5.1.2)."""
    if units == "DISPLAY":
        limit = np.array([1.0, 1.0])
    elif bounds is None:
        return
    else:
        limit = np.array([float(bounds[0]), float(bounds[1])])
    bad = np.nonzero(((points < 0) | (points > limit)).any(axis=1))[0]
    if bad.size:
        p = points[bad[0]]
        where = (
            "the displayed area (0..1)"
            if units == "DISPLAY" or bounds is None  # (not None for PIXEL points here)
            else f"the image (0..{bounds[0]} columns, 0..{bounds[1]} rows)"
        )
        raise DicomConformanceError(f"{what}: point {bad[0] + 1} ({p[0]:g}, {p[1]:g}) lies outside {where}")


_ELEMENTS: dict[tuple[int, str, object], DataElement] = {}


def _element(tag: BaseTag, vr: str, value: object) -> DataElement:
    """The element ``tag`` = ``value``, made and checked (by the VR table) once, then shared by every item
    that holds the same value (elements are not changed once in an item; outlines make thousands)."""
    key = (tag, vr, value)
    elem = _ELEMENTS.get(key)
    if elem is None:
        elem = set_element(Dataset(), tag, vr, value)
        if len(_ELEMENTS) > 10_000:
            _ELEMENTS.clear()
        _ELEMENTS[key] = elem
    return elem


@dataclass(frozen=True)
class GraphicObject:
    """One item of Graphic Object Sequence (C.10.5): a POINT, POLYLINE, INTERPOLATED, CIRCLE or ELLIPSE.

    CIRCLE: centre, then a point on the circle. ELLIPSE: the two ends of the major axis, then of the minor
    axis (perpendicular). A POLYLINE or INTERPOLATED curve is closed when its last point repeats its first.
    """

    graphic_type: str
    points: Sequence[Sequence[float]] | np.ndarray
    units: str = "PIXEL"
    filled: bool = False
    group_id: int | None = None

    def item(self, bounds: tuple[int, int] | None = None) -> Dataset:
        """The item; ``bounds`` = (Columns, Rows) of the images it is drawn on, to check PIXEL points."""
        gtype = str(self.graphic_type).upper()
        if gtype not in GRAPHIC_TYPES:
            raise DicomConformanceError(
                f"Graphic Type {self.graphic_type!r} must be one of {', '.join(GRAPHIC_TYPES)} (PS3.3 C.10.5.1.2)"
            )
        what = f"{gtype} graphic"
        if self.units not in UNITS:
            raise DicomConformanceError(f"{what}: Graphic Annotation Units must be PIXEL or DISPLAY")
        points = _points(self.points, what)
        least, exact = GRAPHIC_TYPES[gtype]
        n = len(points)
        if (exact is not None and n != exact) or n < least:
            need = f"exactly {exact}" if exact is not None else f"at least {least}"
            raise DicomConformanceError(f"{what} needs {need} points, got {n} (PS3.3 C.10.5.1.2)")
        _check_inside(points, self.units, bounds, what)
        if gtype == "CIRCLE" and np.allclose(points[0], points[1]):
            raise DicomConformanceError(f"{what}: the point on the circle equals the centre (radius 0)")
        if gtype == "ELLIPSE":
            major, minor = points[1] - points[0], points[3] - points[2]
            if np.linalg.norm(major) == 0 or np.linalg.norm(minor) == 0:
                raise DicomConformanceError(f"{what}: an axis has length 0")
            if abs(float(np.dot(major, minor))) > 1e-3 * np.linalg.norm(major) * np.linalg.norm(minor):
                raise DicomConformanceError(f"{what}: the minor axis must be perpendicular to the major axis")
        closed = gtype in ("CIRCLE", "ELLIPSE") or (
            gtype in ("POLYLINE", "INTERPOLATED") and n > 2 and bool(np.array_equal(points[0], points[-1]))
        )
        if self.filled and not closed:
            raise DicomConformanceError(
                f"{what}: only closed graphics can be filled (a POLYLINE or INTERPOLATED curve whose last point"
                " repeats the first, a CIRCLE or an ELLIPSE; PS3.3 C.10.5.1.2)"
            )
        item = Dataset()
        elements = item._dict
        elements[GRAPHIC_ANNOTATION_UNITS] = _element(GRAPHIC_ANNOTATION_UNITS, "CS", self.units)
        elements[GRAPHIC_DIMENSIONS] = _element(GRAPHIC_DIMENSIONS, "US", 2)
        elements[NUMBER_OF_GRAPHIC_POINTS] = _element(NUMBER_OF_GRAPHIC_POINTS, "US", n)
        # FL values as Python floats of float32 precision: the element is made as converted (outlines have
        # thousands of points, and pydicom's per-value conversion would dominate the build)
        elements[GRAPHIC_DATA] = DataElement(
            GRAPHIC_DATA, "FL", points.astype(np.float32).ravel().tolist(), already_converted=True
        )
        elements[GRAPHIC_TYPE] = _element(GRAPHIC_TYPE, "CS", gtype)
        if closed:
            elements[GRAPHIC_FILLED] = _element(GRAPHIC_FILLED, "CS", "Y" if self.filled else "N")
        if self.group_id is not None:
            set_element(item, GRAPHIC_GROUP_ID, "UL", int(self.group_id))
        return item


@dataclass(frozen=True)
class TextObject:
    """One item of Text Object Sequence (C.10.5): text in a bounding box and/or tied to an anchor point."""

    text: str
    bounding_box: tuple[tuple[float, float], tuple[float, float]] | None = None  # top left, bottom right
    anchor: tuple[float, float] | None = None
    units: str = "PIXEL"
    justification: str = "LEFT"
    anchor_visible: bool = True
    group_id: int | None = None

    def item(self, bounds: tuple[int, int] | None = None) -> Dataset:
        if not isinstance(self.text, str) or not self.text:
            raise DicomConformanceError("a text object needs a text (Unformatted Text Value, Type 1)")
        check_text(UNFORMATTED_TEXT_VALUE, "ST", self.text)
        if self.bounding_box is None and self.anchor is None:
            raise DicomConformanceError(
                f"text {self.text!r} needs a bounding box, an anchor point or both (PS3.3 C.10.5.1.1)"
            )
        if self.units not in UNITS:
            raise DicomConformanceError("text annotation units must be PIXEL or DISPLAY")
        item = Dataset()
        if self.bounding_box is not None:
            box = _points(self.bounding_box, f"bounding box of {self.text!r}")
            if box.shape != (2, 2):
                raise DicomConformanceError(f"bounding box of {self.text!r}: give top left and bottom right")
            _check_inside(box, self.units, bounds, f"bounding box of {self.text!r}")
            if self.justification not in JUSTIFICATIONS:
                raise DicomConformanceError(
                    f"Bounding Box Text Horizontal Justification must be LEFT, RIGHT or CENTER, got"
                    f" {self.justification!r}"
                )
            item.BoundingBoxAnnotationUnits = self.units
        if self.anchor is not None:
            anchor = _points([self.anchor], f"anchor of {self.text!r}")
            _check_inside(anchor, self.units, bounds, f"anchor of {self.text!r}")
            item.AnchorPointAnnotationUnits = self.units
        item.UnformattedTextValue = self.text
        if self.bounding_box is not None:
            item.BoundingBoxTopLeftHandCorner = [float(v) for v in box[0].astype(np.float32)]
            item.BoundingBoxBottomRightHandCorner = [float(v) for v in box[1].astype(np.float32)]
            item.BoundingBoxTextHorizontalJustification = self.justification
        if self.anchor is not None:
            item.AnchorPoint = [float(v) for v in anchor[0].astype(np.float32)]
            item.AnchorPointVisibility = "Y" if self.anchor_visible else "N"
        if self.group_id is not None:
            item.GraphicGroupID = int(self.group_id)
        return item


@dataclass(frozen=True)
class GraphicAnnotation:
    """One item of Graphic Annotation Sequence (C.10.5): graphics and texts of one layer, drawn on the
    images whose SOP Instance UIDs are given (all images of the presentation state when empty)."""

    layer: str
    graphics: Sequence[GraphicObject] = ()
    texts: Sequence[TextObject] = ()
    images: Sequence[str] = field(default_factory=tuple)


def finite(value: float, what: str) -> float:
    value = float(value)
    if not math.isfinite(value):
        raise DicomConformanceError(f"{what} must be a finite number")
    return value
