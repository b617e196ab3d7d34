"""Real World Value Mapping of a Parametric Map (PS3.3 C.7.6.16.2.11, Table C.7.6.16-12).

A mapping turns stored pixel values into real-world values in UCUM units: ``slope * stored + intercept``
or a lookup table indexed by the stored value. Units are checked against the UCUM grammar
(:mod:`..common.ucum`); the quantity (CID 7180) and measurement method go into the Quantity Definition
Sequence (PS3.3 C.7.6.16.2.11.1.2, TID 1419-like content items of value type CODE).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from pydicom.dataset import Dataset

from ...errors import DicomConformanceError
from ..common.codes import code_item
from ..common.concept import Code, is_code
from ..common.ucum import UcumSyntaxError, check_ucum

if TYPE_CHECKING:
    from numpy.typing import NDArray

#: Concept names of the Quantity Definition Sequence items (PS3.16: SCT 246205007 "Quantity",
#: SCT 370129005 "Measurement Method")
QUANTITY = Code("246205007", "SCT", "Quantity")
MEASUREMENT_METHOD = Code("370129005", "SCT", "Measurement Method")


def ucum_code(unit: str | Code) -> Code:
    """A units code in UCUM: a UCUM expression (the meaning is the expression) or a Code whose scheme is
    UCUM; the expression is checked against the UCUM grammar."""
    if is_code(unit):
        if unit.scheme_designator != "UCUM":
            raise DicomConformanceError(
                f"Measurement Units Code Sequence takes UCUM units (PS3.3 C.7.6.16.2.11.1.1), got coding"
                f" scheme {unit.scheme_designator!r}"
            )
        text = unit.value
    else:
        text = str(unit)
    try:
        check_ucum(text)
    except UcumSyntaxError as exc:
        raise DicomConformanceError(str(exc)) from None
    return unit if is_code(unit) else Code(text, "UCUM", text)


@dataclass(frozen=True)
class RealWorldValueMapping:
    """One Real World Value Mapping item: what stored values mean.

    ``units`` is a UCUM expression (e.g. ``"um2/s"``) or a UCUM Code; ``quantity`` the quantity being
    mapped (e.g. ``Code("113041", "DCM", "Apparent Diffusion Coefficient")``); give ``slope``/``intercept``
    (default identity) or ``lut`` (one real-world value per stored value from the first value mapped on,
    integer pixel data only).
    """

    lut_label: str
    units: str | Code
    lut_explanation: str | None = None
    quantity: Code | None = None
    measurement_method: Code | None = None
    slope: float = 1.0
    intercept: float = 0.0
    lut: Sequence[float] | np.ndarray | None = None

    def checked(self) -> RealWorldValueMapping:
        """Refuse what the standard forbids; the units as a UCUM code."""
        if not self.lut_label or len(self.lut_label) > 16:
            raise DicomConformanceError(f"LUT Label (0040,9210) must be 1-16 characters (SH), got {self.lut_label!r}")
        for name in ("slope", "intercept"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise DicomConformanceError(f"Real World Value {name.title()} must be a finite number, got {value!r}")
        if self.lut is not None and (self.slope != 1.0 or self.intercept != 0.0):
            raise DicomConformanceError(
                "a Real World Value Mapping has either slope/intercept or a LUT (Real World Value LUT Data),"
                " not both (PS3.3 C.7.6.16.2.11)"
            )
        for name in ("quantity", "measurement_method"):
            value = getattr(self, name)
            if value is not None and not is_code(value):
                raise DicomConformanceError(f"{name} must be a Code")
        object.__setattr__(self, "units", ucum_code(self.units))
        return self

    def item(self, first: float | int, last: float | int, *, floating: bool, signed: bool) -> Dataset:
        """The mapping item for stored values ``first``..``last`` (float pixel data uses the Double
        Float First/Last Value Mapped attributes)."""
        ds = Dataset()
        if floating:
            ds.DoubleFloatRealWorldValueFirstValueMapped = float(first)
            ds.DoubleFloatRealWorldValueLastValueMapped = float(last)
        else:
            vr = "SS" if signed else "US"
            ds.add_new(0x00409216, vr, int(first))  # Real World Value First Value Mapped
            ds.add_new(0x00409211, vr, int(last))  # Real World Value Last Value Mapped
        if self.lut is not None:
            lut = np.asarray(self.lut, dtype=np.float64).ravel()
            if floating:
                raise DicomConformanceError(
                    "a Real World Value LUT indexes integer stored values; float pixel data takes slope/intercept"
                )
            if lut.size != int(last) - int(first) + 1:
                raise DicomConformanceError(
                    f"the Real World Value LUT has {lut.size} entries but stored values {int(first)}..{int(last)}"
                    f" need {int(last) - int(first) + 1} (one per value, PS3.3 C.7.6.16.2.11.1.3)"
                )
            if not np.isfinite(lut).all():
                raise DicomConformanceError("Real World Value LUT Data must be finite numbers")
            ds.RealWorldValueLUTData = lut.tolist()
        else:
            ds.RealWorldValueIntercept = float(self.intercept)
            ds.RealWorldValueSlope = float(self.slope)
        ds.LUTExplanation = self.lut_explanation or self.lut_label
        ds.LUTLabel = self.lut_label
        ds.MeasurementUnitsCodeSequence = [code_item(self.units)]  # type: ignore[arg-type]
        quantities = []
        for name, value in ((QUANTITY, self.quantity), (MEASUREMENT_METHOD, self.measurement_method)):
            if value is None:
                continue
            q = Dataset()
            q.ValueType = "CODE"
            q.ConceptNameCodeSequence = [code_item(name)]
            q.ConceptCodeSequence = [code_item(value)]
            quantities.append(q)
        if quantities:
            ds.QuantityDefinitionSequence = quantities
        return ds

    def apply(self, stored: np.ndarray, first: int = 0) -> NDArray[np.float64]:
        """Real-world values of ``stored`` (float64; float32 input with an identity mapping is exact)."""
        if self.lut is not None:
            lut = np.asarray(self.lut, dtype=np.float64)
            return lut[np.clip(stored.astype(np.int64) - int(first), 0, lut.size - 1)]
        values = stored.astype(np.float64)
        if self.slope != 1.0:
            values *= self.slope
        if self.intercept != 0.0:
            values += self.intercept
        return values


def mapping_from_item(item: Dataset) -> RealWorldValueMapping:
    """Read one Real World Value Mapping item back."""
    from ..common.codes import code_from_item

    units = code_from_item(item.MeasurementUnitsCodeSequence[0])
    quantity = method = None
    for q in item.get("QuantityDefinitionSequence") or []:
        name = code_from_item(q.ConceptNameCodeSequence[0])
        value = code_from_item(q.ConceptCodeSequence[0]) if q.get("ConceptCodeSequence") else None
        if name == QUANTITY:
            quantity = value
        elif name == MEASUREMENT_METHOD:
            method = value
    lut = item.get("RealWorldValueLUTData")
    return RealWorldValueMapping(
        lut_label=str(item.get("LUTLabel", "")),
        units=units,
        lut_explanation=str(item.get("LUTExplanation", "")) or None,
        quantity=quantity,
        measurement_method=method,
        slope=float(item.get("RealWorldValueSlope", 1.0)) if lut is None else 1.0,
        intercept=float(item.get("RealWorldValueIntercept", 0.0)) if lut is None else 0.0,
        lut=None if lut is None else np.asarray(lut, dtype=np.float64),
    )
