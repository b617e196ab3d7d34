"""SR content items, one class per value type (PS3.3 C.17.3, C.18).

Each class is a :class:`pydicom.Dataset` holding one Content Sequence item: Relationship Type, Value Type,
Concept Name Code Sequence, the value attributes of its value type and, for its children, a Content
Sequence. Constructors check what the value-type macros require and raise
:class:`~dcmspec_compiler.errors.DicomConformanceError` otherwise. Which value types and relationships a document
accepts is checked by the document (:mod:`.relationships`).
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, cast

import numpy as np
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag
from pydicom.valuerep import format_number_as_ds

from ...errors import DicomConformanceError
from ..common.codes import code_from_item, code_item, set_element
from ..common.concept import Code, is_code
from ..common.ucum import UcumSyntaxError, check_ucum
from ..common.uid import is_valid_uid
from . import codes
from .references import Reference

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = [
    "RELATIONSHIP_TYPES",
    "SCOORD3D_GRAPHIC_TYPES",
    "SCOORD_GRAPHIC_TYPES",
    "TEMPORAL_RANGE_TYPES",
    "VALUE_TYPES",
    "CodeItem",
    "CompositeItem",
    "ContainerItem",
    "ContentItem",
    "DateItem",
    "DateTimeItem",
    "ImageItem",
    "NumItem",
    "PNameItem",
    "Scoord3DItem",
    "ScoordItem",
    "TcoordItem",
    "TextItem",
    "TimeItem",
    "UIDRefItem",
    "WaveformItem",
    "check_graphic",
]

# PS3.3 Table C.17.3-8 (Relationship Type) and C.17.3.2.1 (Value Type)
RELATIONSHIP_TYPES = (
    "CONTAINS",
    "HAS PROPERTIES",
    "HAS OBS CONTEXT",
    "HAS ACQ CONTEXT",
    "INFERRED FROM",
    "SELECTED FROM",
    "HAS CONCEPT MOD",
)
VALUE_TYPES = (
    "CONTAINER",
    "CODE",
    "NUM",
    "TEXT",
    "DATE",
    "TIME",
    "DATETIME",
    "PNAME",
    "UIDREF",
    "COMPOSITE",
    "IMAGE",
    "WAVEFORM",
    "SCOORD",
    "SCOORD3D",
    "TCOORD",
)
# value types whose Concept Name Code Sequence may be absent when not the root (PS3.3 C.17.3, 1C)
_NAME_OPTIONAL = ("CONTAINER", "COMPOSITE", "IMAGE", "WAVEFORM")

# PS3.3 C.18.6.1.2: number of (column,row) pairs per SCOORD graphic type: (minimum, exact or None)
SCOORD_GRAPHIC_TYPES = {
    "POINT": (1, 1),
    "MULTIPOINT": (1, None),
    "POLYLINE": (2, None),
    "CIRCLE": (2, 2),
    "ELLIPSE": (4, 4),
}
# PS3.3 C.18.9.1.2: number of (x,y,z) triplets per SCOORD3D graphic type
SCOORD3D_GRAPHIC_TYPES = {
    "POINT": (1, 1),
    "MULTIPOINT": (1, None),
    "POLYLINE": (2, None),
    "POLYGON": (4, None),
    "ELLIPSE": (4, 4),
    "ELLIPSOID": (6, 6),
}
# PS3.3 C.18.7.1.1
TEMPORAL_RANGE_TYPES = ("POINT", "MULTIPOINT", "SEGMENT", "MULTISEGMENT", "BEGIN", "END")


# tags of the elements the constructors set (VRs as in pydicom's dictionary; checked by the tests)
T = BaseTag
RELATIONSHIP_TYPE, VALUE_TYPE = T(0x0040A010), T(0x0040A040)
CONCEPT_NAME_CODE_SEQUENCE, CONCEPT_CODE_SEQUENCE = T(0x0040A043), T(0x0040A168)
CONTENT_SEQUENCE, CONTINUITY_OF_CONTENT = T(0x0040A730), T(0x0040A050)
CONTENT_TEMPLATE_SEQUENCE, MAPPING_RESOURCE, TEMPLATE_IDENTIFIER = T(0x0040A504), T(0x00080105), T(0x0040DB00)
MEASURED_VALUE_SEQUENCE, MEASUREMENT_UNITS_CODE_SEQUENCE = T(0x0040A300), T(0x004008EA)
NUMERIC_VALUE, FLOATING_POINT_VALUE = T(0x0040A30A), T(0x0040A161)
NUMERIC_VALUE_QUALIFIER_CODE_SEQUENCE, TEXT_VALUE = T(0x0040A301), T(0x0040A160)
DATE, TIME, DATETIME, PERSON_NAME, UID_VALUE = T(0x0040A121), T(0x0040A122), T(0x0040A120), T(0x0040A123), T(0x0040A124)
REFERENCED_SOP_SEQUENCE, GRAPHIC_TYPE, GRAPHIC_DATA = T(0x00081199), T(0x00700023), T(0x00700022)
PIXEL_ORIGIN_INTERPRETATION, FIDUCIAL_UID = T(0x00480301), T(0x0070031A)
REFERENCED_FRAME_OF_REFERENCE_UID, TEMPORAL_RANGE_TYPE = T(0x30060024), T(0x0040A130)
REFERENCED_SAMPLE_POSITIONS, REFERENCED_TIME_OFFSETS = T(0x0040A132), T(0x0040A138)
REFERENCED_DATETIME, REFERENCED_WAVEFORM_CHANNELS = T(0x0040A13A), T(0x0040A0B0)
del T


class ContentItem(Dataset):
    """One SR content item; subclasses fill the value of their value type."""

    value_type: str = ""

    def __init__(
        self, name: Code | None, relationship_type: str | None, children: Iterable[ContentItem | Dataset] = ()
    ) -> None:
        super().__init__()
        if relationship_type is not None:
            relationship_type = str(relationship_type).upper()
            if relationship_type not in RELATIONSHIP_TYPES:
                raise DicomConformanceError(
                    f"Relationship Type {relationship_type!r} is not one of {', '.join(RELATIONSHIP_TYPES)}"
                    " (PS3.3 C.17.3.2.4)"
                )
            set_element(self, RELATIONSHIP_TYPE, "CS", relationship_type)
        set_element(self, VALUE_TYPE, "CS", self.value_type)
        if name is None:
            if self.value_type not in _NAME_OPTIONAL:
                raise DicomConformanceError(
                    f"a {self.value_type} content item needs a concept name (PS3.3 C.17.3, Concept Name"
                    " Code Sequence is required for this value type)"
                )
        else:
            if not is_code(name):
                raise DicomConformanceError(f"concept name must be a Code, got {type(name).__name__}")
            set_element(self, CONCEPT_NAME_CODE_SEQUENCE, "SQ", [code_item(name)])
        for child in children:
            self.append(child)

    # -- tree ------------------------------------------------------------------------------------
    def append(self, child: ContentItem | Dataset) -> ContentItem | Dataset:
        """Add ``child`` (a by-value relationship) as the last item of the Content Sequence."""
        if not isinstance(child, Dataset):
            raise DicomConformanceError(f"a content item child must be a content item, got {child!r}")
        if RELATIONSHIP_TYPE not in child._dict:
            raise DicomConformanceError(f"child {_describe(child)} of {_describe(self)} has no relationship type")
        elem = self._dict.get(CONTENT_SEQUENCE)
        if type(elem) is not DataElement:
            if elem is None:
                elem = set_element(self, CONTENT_SEQUENCE, "SQ", [])
            else:
                elem = self[CONTENT_SEQUENCE]
        elem.value.append(child)
        return child

    def extend(self, children: Iterable[ContentItem | Dataset]) -> None:
        for child in children:
            self.append(child)

    @property
    def children(self) -> list[Dataset]:
        return list(self.get("ContentSequence", []))

    @property
    def name(self) -> Code | None:
        seq = self.get("ConceptNameCodeSequence")
        return code_from_item(seq[0]) if seq else None

    @property
    def relationship_type(self) -> str | None:
        relationship: str | None = self.get("RelationshipType")
        return relationship


def _describe(item: Dataset) -> str:
    seq = item.get("ConceptNameCodeSequence")
    name = f" {seq[0].get('CodeMeaning', '')!r}" if seq else ""
    return f"{item.get('ValueType', '?')}{name}"


class ContainerItem(ContentItem):
    """CONTAINER (C.18.8): a heading, with Continuity of Content and an optional template id."""

    value_type = "CONTAINER"

    def __init__(
        self,
        name: Code | None,
        relationship_type: str | None = "CONTAINS",
        *,
        continuity: str = "SEPARATE",
        template_id: str | None = None,
        children: Iterable[ContentItem | Dataset] = (),
    ) -> None:
        super().__init__(name, relationship_type)
        continuity = str(continuity).upper()
        if continuity not in ("SEPARATE", "CONTINUOUS"):
            raise DicomConformanceError(
                f"Continuity Of Content {continuity!r} must be SEPARATE or CONTINUOUS (PS3.3 C.18.8)"
            )
        set_element(self, CONTINUITY_OF_CONTENT, "CS", continuity)
        if template_id is not None:
            tpl = Dataset()
            set_element(tpl, MAPPING_RESOURCE, "CS", "DCMR")
            set_element(tpl, TEMPLATE_IDENTIFIER, "CS", str(template_id))
            set_element(self, CONTENT_TEMPLATE_SEQUENCE, "SQ", [tpl])
        self.extend(children)

    @property
    def template_id(self) -> str | None:
        seq = self.get("ContentTemplateSequence")
        return str(seq[0].TemplateIdentifier) if seq else None


class CodeItem(ContentItem):
    """CODE (C.18.2)."""

    value_type = "CODE"

    def __init__(
        self,
        name: Code,
        value: Code,
        relationship_type: str | None = "CONTAINS",
        *,
        children: Iterable[ContentItem | Dataset] = (),
    ) -> None:
        super().__init__(name, relationship_type, children)
        if not is_code(value):
            raise DicomConformanceError(f"CODE {name.meaning!r}: the value must be a Code, got {value!r}")
        set_element(self, CONCEPT_CODE_SEQUENCE, "SQ", [code_item(value)])

    @property
    def value(self) -> Code:
        return code_from_item(self.ConceptCodeSequence[0])


class NumItem(ContentItem):
    """NUM (C.18.1 Numeric Measurement Macro).

    A unit whose scheme is UCUM must be a UCUM expression (``mL``, ``mm2``, ``[hnsf'U]``, ``1``).
    ``value`` NaN or infinite, or None with a ``qualifier``, gives an empty Measured Value Sequence and a
    Numeric Value Qualifier (CID 42). Floating Point Value is written when the DS string loses precision
    or ``floating_point=True``.
    """

    value_type = "NUM"

    def __init__(
        self,
        name: Code,
        value: float | None,
        unit: Code | None,
        relationship_type: str | None = "CONTAINS",
        *,
        qualifier: Code | None = None,
        floating_point: bool | None = None,
        children: Iterable[ContentItem | Dataset] = (),
    ) -> None:
        super().__init__(name, relationship_type, children)
        if value is not None:
            value = float(value)
            if math.isnan(value):
                qualifier = qualifier or codes.NOT_A_NUMBER
                value = None
            elif math.isinf(value):
                qualifier = qualifier or (codes.POSITIVE_INFINITY if value > 0 else codes.NEGATIVE_INFINITY)
                value = None
        if value is None:
            if qualifier is None:
                raise DicomConformanceError(
                    f"NUM {name.meaning!r} has no value: give a Numeric Value Qualifier (CID 42, e.g."
                    " 114000 DCM 'Not a number') saying why (PS3.3 C.18.1)"
                )
            set_element(self, MEASURED_VALUE_SEQUENCE, "SQ", [])
        else:
            if unit is None:
                raise DicomConformanceError(
                    f"NUM {name.meaning!r} has no unit: Measurement Units Code Sequence is required"
                    " (PS3.3 C.18.1); use a UCUM code, '1' for unitless"
                )
            if not is_code(unit):
                raise DicomConformanceError(f"NUM {name.meaning!r}: the unit must be a Code, got {unit!r}")
            if unit.scheme_designator == "UCUM":  # PS3.16 "UCUM": the code value is a UCUM expression
                try:
                    check_ucum(str(unit.value))
                except UcumSyntaxError as exc:
                    raise DicomConformanceError(f"NUM {name.meaning!r}: {exc}") from None
            mv = Dataset()
            set_element(mv, MEASUREMENT_UNITS_CODE_SEQUENCE, "SQ", [code_item(unit)])
            ds_text = format_number_as_ds(value)
            set_element(mv, NUMERIC_VALUE, "DS", ds_text)
            if floating_point or (floating_point is None and float(ds_text) != value):
                set_element(mv, FLOATING_POINT_VALUE, "FD", value)
            set_element(self, MEASURED_VALUE_SEQUENCE, "SQ", [mv])
        if qualifier is not None:
            if not is_code(qualifier):
                raise DicomConformanceError(f"NUM {name.meaning!r}: the qualifier must be a Code")
            set_element(self, NUMERIC_VALUE_QUALIFIER_CODE_SEQUENCE, "SQ", [code_item(qualifier)])

    @property
    def value(self) -> float | None:
        return num_value(self)

    @property
    def unit(self) -> Code | None:
        return num_unit(self)

    @property
    def qualifier(self) -> Code | None:
        seq = self.get("NumericValueQualifierCodeSequence")
        return code_from_item(seq[0]) if seq else None


def num_value(item: Dataset) -> float | None:
    """The numeric value of a NUM item (Floating Point Value when present), None when absent."""
    seq = item.get("MeasuredValueSequence")
    if not seq:
        return None
    mv = seq[0]
    if "FloatingPointValue" in mv:
        return float(mv.FloatingPointValue)
    return float(mv.NumericValue)


def num_unit(item: Dataset) -> Code | None:
    seq = item.get("MeasuredValueSequence")
    if not seq or not seq[0].get("MeasurementUnitsCodeSequence"):
        return None
    return code_from_item(seq[0].MeasurementUnitsCodeSequence[0])


class TextItem(ContentItem):
    """TEXT (C.17.3, Text Value UT)."""

    value_type = "TEXT"

    def __init__(
        self,
        name: Code,
        value: str,
        relationship_type: str | None = "CONTAINS",
        *,
        children: Iterable[ContentItem | Dataset] = (),
    ) -> None:
        super().__init__(name, relationship_type, children)
        if not isinstance(value, str) or not value:
            raise DicomConformanceError(f"TEXT {name.meaning!r}: Text Value must be a non-empty string")
        set_element(self, TEXT_VALUE, "UT", value)


def _da(value: _dt.date | str) -> str:
    if isinstance(value, _dt.datetime):
        value = value.date()
    if isinstance(value, _dt.date):
        return value.strftime("%Y%m%d")
    text = str(value)
    try:
        _dt.datetime.strptime(text, "%Y%m%d")
    except ValueError:
        raise DicomConformanceError(f"date {text!r} is not a DA value YYYYMMDD (PS3.5 6.2)") from None
    return text


def _tm(value: _dt.time | str) -> str:
    if isinstance(value, _dt.time):
        return value.strftime("%H%M%S") + (f".{value.microsecond:06d}" if value.microsecond else "")
    text = str(value)
    if not text or not text.split(".")[0].isdigit() or len(text.split(".")[0]) not in (2, 4, 6):
        raise DicomConformanceError(f"time {text!r} is not a TM value HHMMSS.FFFFFF (PS3.5 6.2)")
    return text


def _dtv(value: _dt.datetime | str) -> str:
    if isinstance(value, _dt.datetime):
        text = value.strftime("%Y%m%d%H%M%S") + (f".{value.microsecond:06d}" if value.microsecond else "")
        if value.utcoffset() is not None:
            text += value.strftime("%z")
        return text
    text = str(value)
    if not text[:4].isdigit():
        raise DicomConformanceError(f"date-time {text!r} is not a DT value (PS3.5 6.2)")
    return text


class DateItem(ContentItem):
    value_type = "DATE"

    def __init__(
        self,
        name: Code,
        value: _dt.date | str,
        relationship_type: str | None = "CONTAINS",
        *,
        children: Iterable[ContentItem | Dataset] = (),
    ) -> None:
        super().__init__(name, relationship_type, children)
        set_element(self, DATE, "DA", _da(value))


class TimeItem(ContentItem):
    value_type = "TIME"

    def __init__(
        self,
        name: Code,
        value: _dt.time | str,
        relationship_type: str | None = "CONTAINS",
        *,
        children: Iterable[ContentItem | Dataset] = (),
    ) -> None:
        super().__init__(name, relationship_type, children)
        set_element(self, TIME, "TM", _tm(value))


class DateTimeItem(ContentItem):
    value_type = "DATETIME"

    def __init__(
        self,
        name: Code,
        value: _dt.datetime | str,
        relationship_type: str | None = "CONTAINS",
        *,
        children: Iterable[ContentItem | Dataset] = (),
    ) -> None:
        super().__init__(name, relationship_type, children)
        set_element(self, DATETIME, "DT", _dtv(value))


class PNameItem(ContentItem):
    value_type = "PNAME"

    def __init__(
        self,
        name: Code,
        value: str,
        relationship_type: str | None = "CONTAINS",
        *,
        children: Iterable[ContentItem | Dataset] = (),
    ) -> None:
        super().__init__(name, relationship_type, children)
        if not value or any(len(c) > 64 for c in str(value).split("=")):
            raise DicomConformanceError(
                f"PNAME {name.meaning!r}: {value!r} is not a PN value (non-empty, 64 characters per"
                " component group, PS3.5 6.2)"
            )
        set_element(self, PERSON_NAME, "PN", str(value))


class UIDRefItem(ContentItem):
    value_type = "UIDREF"

    def __init__(
        self,
        name: Code,
        value: str,
        relationship_type: str | None = "CONTAINS",
        *,
        children: Iterable[ContentItem | Dataset] = (),
    ) -> None:
        super().__init__(name, relationship_type, children)
        if not is_valid_uid(str(value)):
            raise DicomConformanceError(f"UIDREF {name.meaning!r}: {value!r} is not a valid UID (PS3.5 9.1)")
        set_element(self, UID_VALUE, "UI", str(value))


class _ReferenceItem(ContentItem):
    """COMPOSITE, IMAGE, WAVEFORM: Referenced SOP Sequence with exactly one item (C.18.3-C.18.5)."""

    def __init__(
        self,
        name: Code | None,
        reference: Reference,
        relationship_type: str | None,
        children: Iterable[ContentItem | Dataset],
    ) -> None:
        super().__init__(name, relationship_type, children)
        if not isinstance(reference, Reference):
            raise DicomConformanceError(
                f"{self.value_type} item needs a Reference (SOP class, instance, series and study UIDs),"
                f" got {type(reference).__name__}"
            )
        self._reference = reference
        set_element(self, REFERENCED_SOP_SEQUENCE, "SQ", [reference.sop_item()])

    @property
    def reference(self) -> Reference:
        return self._reference


class CompositeItem(_ReferenceItem):
    value_type = "COMPOSITE"

    def __init__(
        self,
        name: Code | None,
        reference: Reference,
        relationship_type: str | None = "CONTAINS",
        *,
        children: Iterable[ContentItem | Dataset] = (),
    ) -> None:
        if reference.frame_numbers or reference.segment_numbers:
            raise DicomConformanceError(
                "a COMPOSITE item references a whole instance: no frame or segment numbers (PS3.3 C.18.3)"
            )
        super().__init__(name, reference, relationship_type, children)


class ImageItem(_ReferenceItem):
    """IMAGE (C.18.4): frame numbers or segment numbers come with the reference."""

    value_type = "IMAGE"

    def __init__(
        self,
        name: Code | None,
        reference: Reference,
        relationship_type: str | None = "CONTAINS",
        *,
        presentation_state: Reference | None = None,
        children: Iterable[ContentItem | Dataset] = (),
    ) -> None:
        super().__init__(name, reference, relationship_type, children)
        if presentation_state is not None:
            self.ReferencedSOPSequence[0].ReferencedSOPSequence = [presentation_state.sop_item()]


class WaveformItem(_ReferenceItem):
    """WAVEFORM (C.18.5): optional channel pairs (multiplex group, channel)."""

    value_type = "WAVEFORM"

    def __init__(
        self,
        name: Code | None,
        reference: Reference,
        relationship_type: str | None = "CONTAINS",
        *,
        channels: Sequence[tuple[int, int]] = (),
        children: Iterable[ContentItem | Dataset] = (),
    ) -> None:
        if reference.frame_numbers or reference.segment_numbers:
            raise DicomConformanceError("a WAVEFORM reference has no frame or segment numbers (PS3.3 C.18.5)")
        super().__init__(name, reference, relationship_type, children)
        if channels:
            flat = [int(v) for pair in channels for v in pair]
            if len(flat) != 2 * len(channels):
                raise DicomConformanceError("waveform channels are (multiplex group, channel) pairs")
            set_element(self[REFERENCED_SOP_SEQUENCE].value[0], REFERENCED_WAVEFORM_CHANNELS, "US", flat)


def check_graphic(value_type: str, graphic_type: str, points: np.ndarray) -> None:
    """Check point count and shape rules of PS3.3 C.18.6.1.2 (SCOORD) and C.18.9.1.2 (SCOORD3D)."""
    table = SCOORD_GRAPHIC_TYPES if value_type == "SCOORD" else SCOORD3D_GRAPHIC_TYPES
    section = "C.18.6.1.2" if value_type == "SCOORD" else "C.18.9.1.2"
    if graphic_type not in table:
        extra = (
            " (a closed 2D polygon is a POLYLINE whose last point equals the first)"
            if value_type == "SCOORD" and graphic_type == "POLYGON"
            else ""
        )
        raise DicomConformanceError(
            f"{value_type} Graphic Type {graphic_type!r} is not one of {', '.join(table)} (PS3.3 {section}){extra}"
        )
    n = len(points)
    low, exact = table[graphic_type]
    if exact is not None and n != exact:
        raise DicomConformanceError(
            f"{value_type} {graphic_type} needs exactly {exact} point(s), got {n} (PS3.3 {section})"
        )
    if n < low:
        raise DicomConformanceError(
            f"{value_type} {graphic_type} needs at least {low} points, got {n} (PS3.3 {section})"
        )
    if not np.all(np.isfinite(points)):
        raise DicomConformanceError(f"{value_type} coordinates must be finite numbers")
    scale = max(1.0, float(np.abs(points).max()))
    tol = 1e-3 * scale
    if graphic_type == "POLYGON":
        if not np.allclose(points[0], points[-1], atol=tol, rtol=0):
            raise DicomConformanceError(
                f"SCOORD3D POLYGON must be closed: its last point must equal the first (PS3.3 {section})"
            )
        if len(np.unique(np.round(points[:-1], 6), axis=0)) < 3:
            raise DicomConformanceError("SCOORD3D POLYGON needs at least 3 distinct vertices")
        centered = points - points.mean(axis=0)
        sv = np.linalg.svd(centered, compute_uv=False)
        if sv[-1] > tol * max(1.0, len(points)) ** 0.5:
            raise DicomConformanceError(f"SCOORD3D POLYGON vertices must be coplanar (PS3.3 {section})")
    if graphic_type in ("ELLIPSE", "ELLIPSOID"):
        axes = [(points[i], points[i + 1]) for i in range(0, n, 2)]
        centers = [(a + b) / 2 for a, b in axes]
        if any(not np.allclose(c, centers[0], atol=tol, rtol=0) for c in centers[1:]):
            raise DicomConformanceError(
                f"{value_type} {graphic_type}: the axis end points must share one center (PS3.3 {section})"
            )
        vectors = [b - a for a, b in axes]
        for i in range(len(vectors)):
            for j in range(i + 1, len(vectors)):
                u, v = vectors[i], vectors[j]
                norm = float(np.linalg.norm(u) * np.linalg.norm(v))
                if norm == 0 or abs(float(np.dot(u, v))) > 1e-3 * norm:
                    raise DicomConformanceError(
                        f"{value_type} {graphic_type}: the axes must be non-degenerate and perpendicular"
                        f" (PS3.3 {section})"
                    )


def _points(points: Sequence[Sequence[float]] | np.ndarray, dims: int, value_type: str) -> np.ndarray:
    arr = np.asarray(points, dtype=np.float64)
    if arr.ndim == 1 and arr.size % dims == 0:
        arr = arr.reshape(-1, dims)
    if arr.ndim != 2 or arr.shape[1] != dims:
        raise DicomConformanceError(
            f"{value_type} coordinates must be {'(column, row) pairs' if dims == 2 else '(x, y, z) triplets'}"
        )
    return arr


class ScoordItem(ContentItem):
    """SCOORD (C.18.6): image-relative (column, row) coordinates, selected from one IMAGE.

    ``source`` gives the image the coordinates are selected from; it becomes the SELECTED FROM IMAGE
    child the value type requires.
    """

    value_type = "SCOORD"

    def __init__(
        self,
        name: Code,
        graphic_type: str,
        points: Sequence[Sequence[float]] | np.ndarray,
        source: Reference | ImageItem | None,
        relationship_type: str | None = "CONTAINS",
        *,
        pixel_origin_interpretation: str | None = None,
        fiducial_uid: str | None = None,
        source_name: Code | None = None,
        children: Iterable[ContentItem | Dataset] = (),
    ) -> None:
        super().__init__(name, relationship_type)
        graphic_type = str(graphic_type).upper()
        arr = _points(points, 2, "SCOORD")
        check_graphic("SCOORD", graphic_type, arr)
        set_element(self, GRAPHIC_TYPE, "CS", graphic_type)
        set_element(self, GRAPHIC_DATA, "FL", [float(v) for v in arr.astype(np.float32).ravel()])
        if pixel_origin_interpretation is not None:
            if pixel_origin_interpretation not in ("FRAME", "VOLUME"):
                raise DicomConformanceError("Pixel Origin Interpretation must be FRAME or VOLUME")
            set_element(self, PIXEL_ORIGIN_INTERPRETATION, "CS", pixel_origin_interpretation)
        if fiducial_uid is not None:
            if not is_valid_uid(fiducial_uid):
                raise DicomConformanceError(f"Fiducial UID {fiducial_uid!r} is not a valid UID")
            set_element(self, FIDUCIAL_UID, "UI", fiducial_uid)
        if source is None:
            raise DicomConformanceError(
                f"SCOORD {name.meaning!r} needs the image its coordinates are selected from"
                " (a SELECTED FROM IMAGE child, PS3.3 C.18.6)"
            )
        if isinstance(source, Reference):
            source = ImageItem(source_name, source, "SELECTED FROM")
        elif source.get("RelationshipType") != "SELECTED FROM":
            raise DicomConformanceError("the source IMAGE of a SCOORD has relationship SELECTED FROM")
        self.append(source)
        self.extend(children)

    @property
    def graphic_type(self) -> str:
        return str(self.GraphicType)

    @property
    def points(self) -> NDArray[np.float64]:
        return np.asarray(self.GraphicData, dtype=np.float64).reshape(-1, 2)


class Scoord3DItem(ContentItem):
    """SCOORD3D (C.18.9): patient-based (x, y, z) coordinates in a Frame of Reference."""

    value_type = "SCOORD3D"

    def __init__(
        self,
        name: Code,
        graphic_type: str,
        points: Sequence[Sequence[float]] | np.ndarray,
        frame_of_reference_uid: str | None,
        relationship_type: str | None = "CONTAINS",
        *,
        fiducial_uid: str | None = None,
        children: Iterable[ContentItem | Dataset] = (),
    ) -> None:
        super().__init__(name, relationship_type, children)
        graphic_type = str(graphic_type).upper()
        arr = _points(points, 3, "SCOORD3D")
        check_graphic("SCOORD3D", graphic_type, arr)
        if not frame_of_reference_uid:
            raise DicomConformanceError(
                f"SCOORD3D {name.meaning!r} needs a Referenced Frame of Reference UID (PS3.3 C.18.9)"
            )
        if not is_valid_uid(str(frame_of_reference_uid)):
            raise DicomConformanceError(
                f"SCOORD3D Referenced Frame of Reference UID {frame_of_reference_uid!r} is not a valid UID"
            )
        set_element(self, GRAPHIC_TYPE, "CS", graphic_type)
        set_element(self, GRAPHIC_DATA, "FL", [float(v) for v in arr.astype(np.float32).ravel()])
        set_element(self, REFERENCED_FRAME_OF_REFERENCE_UID, "UI", str(frame_of_reference_uid))
        if fiducial_uid is not None:
            if not is_valid_uid(fiducial_uid):
                raise DicomConformanceError(f"Fiducial UID {fiducial_uid!r} is not a valid UID")
            set_element(self, FIDUCIAL_UID, "UI", fiducial_uid)

    @property
    def graphic_type(self) -> str:
        return str(self.GraphicType)

    @property
    def points(self) -> NDArray[np.float64]:
        return np.asarray(self.GraphicData, dtype=np.float64).reshape(-1, 3)

    @property
    def frame_of_reference_uid(self) -> str:
        return str(self.ReferencedFrameOfReferenceUID)


class TcoordItem(ContentItem):
    """TCOORD (C.18.7): one of sample positions, time offsets or date-times; SELECTED FROM children."""

    value_type = "TCOORD"

    def __init__(
        self,
        name: Code,
        temporal_range_type: str,
        *,
        sample_positions: Sequence[int] | None = None,
        time_offsets: Sequence[float] | None = None,
        datetimes: Sequence[_dt.datetime | str] | None = None,
        relationship_type: str | None = "CONTAINS",
        children: Iterable[ContentItem | Dataset] = (),
    ) -> None:
        super().__init__(name, relationship_type, children)
        trt = str(temporal_range_type).upper()
        if trt not in TEMPORAL_RANGE_TYPES:
            raise DicomConformanceError(
                f"Temporal Range Type {trt!r} is not one of {', '.join(TEMPORAL_RANGE_TYPES)} (PS3.3 C.18.7.1.1)"
            )
        given = [v for v in (sample_positions, time_offsets, datetimes) if v is not None]
        if len(given) != 1:
            raise DicomConformanceError(
                "TCOORD takes exactly one of sample positions, time offsets or date-times (PS3.3 C.18.7)"
            )
        values = list(given[0])
        n = len(values)
        need = {"POINT": (1, 1), "BEGIN": (1, 1), "END": (1, 1), "SEGMENT": (2, 2)}.get(trt)
        if (need and n != need[0]) or (trt == "MULTIPOINT" and n < 1) or (trt == "MULTISEGMENT" and (n < 2 or n % 2)):
            raise DicomConformanceError(f"TCOORD {trt} cannot have {n} value(s) (PS3.3 C.18.7.1.1)")
        set_element(self, TEMPORAL_RANGE_TYPE, "CS", trt)
        if sample_positions is not None:
            set_element(self, REFERENCED_SAMPLE_POSITIONS, "UL", [int(v) for v in cast("list[int]", values)])
        elif time_offsets is not None:
            set_element(
                self,
                REFERENCED_TIME_OFFSETS,
                "DS",
                [format_number_as_ds(float(v)) for v in cast("list[float]", values)],
            )
        else:
            set_element(self, REFERENCED_DATETIME, "DT", [_dtv(v) for v in cast("list[_dt.datetime | str]", values)])
