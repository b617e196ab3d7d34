"""Build a ParametricMap spec: sources + a map file + Real World Value Mappings -> ``iods.pm.ParametricMap``.

The map is placed on the source frames by its affine exactly as a Segmentation mask is
(:mod:`.voxels`, ``resolve.masks``); numpy maps must already be ``[frame, row, column]`` in source order.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ErrorAt, InputError, SpecError
from ..load.document import SpecDocument
from ..write.output import BuiltObject
from .common import (
    Errors,
    NodePath,
    built_object,
    code_at,
    codes_at,
    conformance_at,
    object_identity,
    resolve_path,
    source_series,
    start_file_digest,
)
from .context import BuildContext

if TYPE_CHECKING:
    from ..iods.common.concept import Code
    from ..iods.pm import RealWorldValueMapping
    from ..resolve.source_series import SourceSeries

MAP_FILE: NodePath = ("map", "file")


def build(doc: SpecDocument, ctx: BuildContext) -> list[BuiltObject]:
    start_file_digest(resolve_path(doc, MAP_FILE))
    from ..iods.pm import ParametricMap
    from .voxels import in_source_order, spacing_summary

    data = doc.data
    spec = data["map"]
    errors = Errors()  # sources, codes, units and the map file are checked independently
    series = errors.run(source_series, doc, ctx)
    mappings = [errors.run(_mapping, doc, ctx, i) for i in range(len(data["mappings"]))]
    region = errors.run(code_at, doc, ctx, ("map", "anatomic_region"))
    derivation = errors.run(codes_at, doc, ctx, ("map", "derivation"))
    errors.run(_transfer_syntax, doc)
    placed = errors.run(_values, doc, series) if series is not None else None
    errors.raise_if_any()
    # every check passed: none of these is None (the schema requires map.anatomic_region)
    assert series is not None and placed is not None and region is not None and derivation is not None
    values, file = placed
    values, checked = _encode(doc, values, [m for m in mappings if m is not None])

    ident = object_identity(
        doc,
        ctx,
        header=series.header,
        files=[file],
        inputs=[f.sop_instance_uid + str(f.frame_number) for f in series.frames],
        default_label="MAP",
        default_series_number=400,
    )
    images, values, _ = in_source_order(series, values)
    window = spec.get("window")
    # mappings, codes and options were checked above: what the builder layer refuses now is in the values
    with conformance_at(doc, MAP_FILE):
        pm = ParametricMap(
            source_images=images,
            pixel_array=values,
            mappings=checked,
            anatomic_region=region,
            **ident.image_arguments(),
            derivation_codes=tuple(derivation) or _default_derivation(),
            derivation_description=spec.get("derivation_description"),
            frame_laterality=spec.get("laterality", "U"),
            allow_nan=spec.get("allow_nan", False),
            omit_empty_frames=spec.get("omit_empty_frames", False),
            empty_value=spec.get("empty_value"),
            window=(window["center"], window["width"]) if window else None,
            copy_pixel_data=False,  # the map was loaded for this build: its bytes are written as they are
        )
    units = pm.get_mappings()[0].units
    spacing = pm.slice_spacing
    assert not isinstance(units, str) and spacing is not None  # read back as a Code; set by the constructor
    summary = {
        "frames": int(pm.NumberOfFrames),
        "bits": int(pm.BitsAllocated),
        "units": units.value,
        **spacing_summary(doc, ctx, spacing, len(series.frames)),
    }
    return [built_object(doc, pm, "ParametricMap", summary)]


def _default_derivation() -> tuple[Code, ...]:
    from ..iods.pm.parametric_map import DERIVATION_PARAMETRIC_MAP

    return (DERIVATION_PARAMETRIC_MAP,)


def _transfer_syntax(doc: SpecDocument) -> None:
    name = (doc.data.get("output") or {}).get("transfer_syntax", "ExplicitVRLittleEndian")
    if name != "ExplicitVRLittleEndian":
        path = ("output", "transfer_syntax")
        raise SpecError(
            f"a Parametric Map is written in Explicit VR Little Endian; {name} is not offered",
            location=doc.loc(path),
            path=path,
            hint="float pixel data has no compressed transfer syntax (PS3.5 A.4); remove the key",
        )


def _mapping(doc: SpecDocument, ctx: BuildContext, index: int) -> RealWorldValueMapping:
    from ..iods.common.concept import is_code
    from ..iods.common.ucum import UcumSyntaxError, check_ucum
    from ..iods.pm import RealWorldValueMapping

    base: NodePath = ("mappings", index)
    spec = doc.get(base)
    errors = Errors()
    units_path = base + ("units",)
    units: Any = spec["units"]
    if isinstance(units, int):  # `units: 1` in YAML
        units = str(units)
    if not isinstance(units, str):  # a code object; a string is a UCUM expression
        units = errors.run(code_at, doc, ctx, units_path)
    if units is not None:
        text = units.value if is_code(units) else units
        try:
            if is_code(units) and units.scheme_designator != "UCUM":
                raise UcumSyntaxError(f"units must be in UCUM, not {units.scheme_designator}")
            check_ucum(text)
        except UcumSyntaxError as exc:
            errors.add(
                SpecError(
                    str(exc),
                    location=doc.loc(units_path),
                    path=units_path,
                    hint="write the unit in UCUM (https://ucum.org), e.g. um2/s, mm2/s, ms, s-1,"
                    " {SUVbw}g/ml, or 1 for a ratio",
                )
            )
    quantity = errors.run(code_at, doc, ctx, base + ("quantity",))
    method = errors.run(code_at, doc, ctx, base + ("method",))
    if "lut" in spec and ("slope" in spec or "intercept" in spec):
        path = base + ("lut",)
        errors.add(
            SpecError("a mapping has either a LUT or slope/intercept, not both", location=doc.loc(path), path=path)
        )
    errors.raise_if_any()
    with conformance_at(doc, base):
        return RealWorldValueMapping(
            lut_label=spec["label"],
            units=units,
            lut_explanation=spec.get("explanation"),
            quantity=quantity,
            measurement_method=method,
            slope=float(spec.get("slope", 1.0)),
            intercept=float(spec.get("intercept", 0.0)),
            lut=spec.get("lut"),
        ).checked()


def _values(doc: SpecDocument, series: SourceSeries) -> tuple[np.ndarray, Path]:
    """The map on the source frames (series frame order), checked: one value per voxel, numbers, NaN
    only where allowed."""
    from .voxels import place_file

    spec = doc.data["map"]
    first = series.frames[0]
    assert first.rows is not None and first.columns is not None  # a source frame is made only with both
    bound = len(series.frames) * first.rows * first.columns  # one value per source pixel
    array, file = place_file(
        doc, MAP_FILE, series, key=spec.get("key"), max_values=bound, tolerance_path=("map", "tolerance_mm"), what="map"
    )
    where: ErrorAt = {"location": doc.loc(MAP_FILE), "path": MAP_FILE}
    if array.ndim != 3:
        raise InputError(
            f"the map has {array.shape[-1]} values per voxel (shape {array.shape}); a Parametric Map holds one",
            hint="give one 3D map (frame, row, column); one spec per quantity",
            **where,
        )
    if array.dtype.kind not in "biuf":
        raise InputError(f"the map holds {array.dtype} values; expected numbers", **where)
    if array.dtype.kind == "f" and array.dtype.itemsize < 4:
        array = array.astype(np.float32)
    if array.dtype.kind == "f" and not spec.get("allow_nan", False):
        _refuse_nan(array, where)  # infinite values are refused by the builder layer (one pass there)
    return array, file


def _frame_chunks(array: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
    step = max(1, (8 << 20) // max(1, array[0].nbytes))
    for a in range(0, len(array), step):
        yield a, array[a : a + step].reshape(min(step, len(array) - a), -1)


def _refuse_nan(array: np.ndarray, where: ErrorAt) -> None:
    for a, block in _frame_chunks(array):
        frames = np.isnan(block.max(axis=1))  # NaN propagates into the maximum
        if frames.any():
            f = a + int(np.flatnonzero(frames)[0])
            total = sum(int(np.isnan(b.max(axis=1)).sum()) for _, b in _frame_chunks(array))
            raise InputError(
                f"the map holds NaN (not a number) values, first in frame {f} (0-based, source order);"
                f" {total} frame(s) hold NaN",
                hint="set map.allow_nan: true if NaN marks voxels without a"
                " value (a Parametric Map may hold NaN), or replace them",
                **where,
            )


def _encode(
    doc: SpecDocument, values: np.ndarray, mappings: list[RealWorldValueMapping]
) -> tuple[np.ndarray, list[RealWorldValueMapping]]:
    """Apply ``map.encoding``: a float cast, or integers (16-bit) with a mapping scaled to the range."""
    import dataclasses

    encoding = doc.data["map"].get("encoding")
    path: NodePath = ("map", "encoding")
    where: ErrorAt = {"location": doc.loc(path), "path": path}
    if encoding is None:
        return values, mappings
    if encoding in ("float32", "float64"):
        return values.astype(encoding, copy=False), mappings
    dtype = np.dtype(encoding)
    info = np.iinfo(dtype)
    lo: float  # the map's range: ints for an integer map
    hi: float
    if values.dtype.kind in "biu":
        lo, hi = (int(values.min()), int(values.max())) if values.size else (0, 0)
        if lo < info.min or hi > info.max:
            raise InputError(
                f"the map's values {lo}..{hi} do not fit {encoding} ({info.min}..{info.max})",
                hint="use float32, or the other 16-bit encoding",
                **where,
            )
        return values.astype(dtype, copy=False), mappings
    # a float map stored as integers: the first mapping's slope/intercept span its range
    if len(mappings) != 1 or any(k in doc.data["mappings"][0] for k in ("slope", "intercept", "lut")):
        raise SpecError(
            f"a float map stored as {encoding} gets its slope and intercept from its range:"
            " give exactly one mapping, without slope, intercept or lut",
            hint="or store it as float32",
            **where,
        )
    if np.isnan(values).any():
        raise InputError(f"a map stored as {encoding} cannot hold NaN", hint="store it as float32", **where)
    lo, hi = float(values.min()), float(values.max())
    steps = float(info.max) - float(info.min)
    slope = (hi - lo) / steps if hi > lo else 1.0
    intercept = lo - float(info.min) * slope
    stored = np.empty(values.shape, dtype)
    for a in range(0, len(values), 16):
        block = (values[a : a + 16].astype(np.float64) - intercept) / slope
        stored[a : a + 16] = np.clip(np.rint(block), info.min, info.max)
    return stored, [dataclasses.replace(mappings[0], slope=slope, intercept=intercept)]


__all__: list[Any] = ["build"]
