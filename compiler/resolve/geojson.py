"""GeoJSON FeatureCollections (RFC 7946) as QuPath exports them, read into annotation arrays.

Each feature's geometry becomes one annotation per part: Point/MultiPoint -> POINT, LineString/
MultiLineString -> POLYLINE, Polygon/MultiPolygon -> POLYGON (the exterior ring without its closing point;
holes cannot be written in an ANN group and are counted so that the caller can warn). QuPath's class is
``properties.classification.name``; its measurements are ``properties.measurements``, a mapping (QuPath
0.4+) or a list of ``{name, value}`` (earlier versions). Everything is gathered into flat arrays, with one
numpy conversion per file, so that 100,000 cells read in about the time ``json`` takes to parse them; the
cyclic garbage collector is paused meanwhile (the parse makes millions of containers and no cycles: with
it running, parsing takes about five times as long).
A file that cannot be read is an :class:`~dcmspec_compiler.errors.InputError`; a bad feature (no geometry,
an unsupported one, coordinates that are not finite numbers nested as RFC 7946 says) is one of ``issues``
(feature, message, hint), located at the feature's line by :meth:`FeatureTable.location`, and gives no
annotation, so that the caller reports every bad feature in one run. With 3-D positions in the file, a
2-D position has Z = NaN (the caller decides whether that is allowed).
"""

from __future__ import annotations

import gc
import json
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, Location

__all__ = ["GRAPHIC_OF_GEOMETRY", "FeatureTable", "collector_paused", "feature_line", "read_geojson"]

#: GeoJSON geometry type -> (ANN Graphic Type, parts are nested one level deeper)
GRAPHIC_OF_GEOMETRY: dict[str, tuple[str, bool]] = {
    "Point": ("POINT", False),
    "MultiPoint": ("POINT", True),
    "LineString": ("POLYLINE", False),
    "MultiLineString": ("POLYLINE", True),
    "Polygon": ("POLYGON", False),
    "MultiPolygon": ("POLYGON", True),
}
_HINT = "QuPath: File > Export objects as GeoJSON (a FeatureCollection of Point, LineString, Polygon features)"


@dataclass
class FeatureTable:
    """The annotations of one GeoJSON file, as arrays over annotations (a feature may give several)."""

    path: Path
    text: str
    points: np.ndarray  # (points, 2|3) float64
    counts: np.ndarray  # points per annotation
    feature: np.ndarray  # index of the feature each annotation comes from
    graphic: list[str]  # Graphic Type of each feature
    classification: list[str | None]  # class name of each feature
    holes: int  # interior rings dropped
    _measurements: list[Any] = field(default_factory=list, repr=False)  # each feature's measurements
    _properties: list[dict[str, Any]] = field(default_factory=list, repr=False)
    issues: list[tuple[int, str, str | None]] = field(default_factory=list)  # (feature, message, hint)

    def location(self, feature: int) -> Location:
        return Location(str(self.path), feature_line(self.text, feature))

    def values(
        self, key: str, features: np.ndarray, issues: list[tuple[int, str, Location | None, str | None]] | None = None
    ) -> np.ndarray:
        """float64 value of measurement ``key`` for each feature in ``features`` (NaN where it has none, null or
        NaN): from ``properties.measurements`` (mapping or list of {name, value}), else a top-level property. A
        value that is not a finite number is appended to ``issues`` as (index in ``features``, message, location,
        hint), or raised without it."""
        measured, properties = self._measurements, self._properties
        raw: list[Any] = [
            measured[f].get(key, _MISSING) if type(measured[f]) is dict else _MISSING for f in features.tolist()
        ]
        for j, value in enumerate(raw):
            if value is _MISSING:
                raw[j] = _listed(measured[int(features[j])], key, properties[int(features[j])].get(key))
        if set(map(type, raw)) <= {int, float, type(None)}:
            out = np.array(raw, dtype=np.float64)  # None -> NaN
            if not np.isinf(out).any():
                return out
        out = np.full(len(raw), np.nan)
        for j, value in enumerate(raw):
            if type(value) in (int, float) and not math.isinf(value):
                out[j] = value
            elif not (value is None or (isinstance(value, str) and value.strip().lower() == "nan")):
                f = int(features[j])
                what = "not a finite number" if type(value) is float else "not a number"
                issue = (
                    j,
                    f"feature {f}: measurement {key!r} is {value!r}, {what}",
                    self.location(f),
                    "measurements are numbers (or null/NaN for none)",
                )
                if issues is None:
                    raise InputError(issue[1], location=issue[2], hint=issue[3])
                issues.append(issue)
        return out


_MISSING = object()


def _listed(measured: Any, key: str, default: Any) -> Any:
    """QuPath before 0.4 writes measurements as a list of {name, value}."""
    if isinstance(measured, list):
        for m in measured:
            if isinstance(m, dict) and m.get("name") == key:
                return m.get("value")
    return default


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector (reference counting still frees everything): callers that keep the
    parsed features until they are done pause it for that whole time, else it rescans them again and again."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def feature_line(text: str, index: int) -> int | None:
    """1-based line where feature ``index`` of the FeatureCollection in ``text`` starts (None if not found).
    Only used on the error path: finds the top-level object's ``features`` member (skipping the values of
    the members before it, which may hold a ``"features"`` of their own) and walks that array with the
    JSON scanner, element by element."""
    decoder = json.JSONDecoder()
    pos = _blank(text, 0)
    if not text.startswith("{", pos):
        return None
    pos += 1
    while True:  # the members of the top-level object, up to "features"
        pos = _blank(text, pos, ",")
        try:
            key, pos = decoder.raw_decode(text, pos)
        except ValueError:  # "}" (no features member) or not JSON
            return None
        pos = _blank(text, pos)
        if not text.startswith(":", pos):
            return None
        pos = _blank(text, pos + 1)
        if key == "features":
            break
        try:
            _, pos = decoder.raw_decode(text, pos)
        except ValueError:
            return None
    if not text.startswith("[", pos):
        return None
    pos += 1
    n = 0
    while pos < len(text):
        pos = _blank(text, pos, ",")
        if pos >= len(text) or text[pos] == "]":
            return None
        if n == index:
            return text.count("\n", 0, pos) + 1
        try:
            _, pos = decoder.raw_decode(text, pos)
        except ValueError:
            return None
        n += 1
    return None


def _blank(text: str, pos: int, also: str = "") -> int:
    """The first position from ``pos`` that is not JSON white space (or one of ``also``)."""
    while pos < len(text) and (text[pos] in " \t\r\n" or text[pos] in also):
        pos += 1
    return pos


def _class_name(properties: dict[str, Any]) -> str | None:
    classification = properties.get("classification")
    if isinstance(classification, dict):
        if classification.get("name") is not None:
            return str(classification["name"])
        if isinstance(classification.get("names"), list):
            return ": ".join(str(n) for n in classification["names"])
        return None
    return str(classification) if classification is not None else None


def read_geojson(path: Path, location: Location | None = None) -> FeatureTable:
    """Read ``path``; an unreadable or malformed file is refused at the line where the problem is."""
    with collector_paused():
        return _read(Path(path), location)


def _read(path: Path, location: Location | None) -> FeatureTable:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read GeoJSON {path}: {exc}", location=location) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{path.name} is not valid JSON: {exc.msg}", location=Location(str(path), exc.lineno, exc.colno), hint=_HINT
        ) from None
    if isinstance(data, dict) and data.get("type") == "Feature":
        data = {"type": "FeatureCollection", "features": [data]}
    if (
        not isinstance(data, dict)
        or data.get("type") != "FeatureCollection"
        or not isinstance(data.get("features"), list)
    ):
        raise InputError(
            f"{path.name} is not a GeoJSON FeatureCollection (a top-level object with"
            ' "type": "FeatureCollection" and a "features" list)',
            location=Location(str(path), 1, 1),
            hint=_HINT,
        )
    features = data["features"]
    parts: list[list[Any]] = []  # one list of [x, y(, z)] per annotation
    owner: list[int] = []
    graphic: list[str] = []
    classes: list[str | None] = []
    measurements: list[Any] = []
    properties_of: list[dict[str, Any]] = []
    holes = 0
    issues: list[tuple[int, str, str | None]] = []
    for i, feature in enumerate(features):
        problem = _feature_parts(feature, parts, owner, i)
        if isinstance(problem, int):
            holes += problem
            graphic.append(GRAPHIC_OF_GEOMETRY[feature["geometry"]["type"]][0])
        else:
            issues.append((i, *problem))
            kind = (
                feature["geometry"].get("type")
                if isinstance(feature, dict) and isinstance(feature.get("geometry"), dict)
                else None
            )
            graphic.append(GRAPHIC_OF_GEOMETRY[kind][0] if kind in GRAPHIC_OF_GEOMETRY else "")
        properties = (feature.get("properties") if isinstance(feature, dict) else None) or {}
        if not isinstance(properties, dict):
            properties = {}
        classes.append(_class_name(properties))
        measurements.append(properties.get("measurements"))
        properties_of.append(properties)
    counts = np.fromiter(map(len, parts), dtype=np.int64, count=len(parts))
    points = _points(parts)
    if points is None:  # a position that is not 2 numbers: each checked, 3-D ones kept
        points = _points_one_by_one(parts, owner, issues)
    return FeatureTable(
        Path(path),
        text,
        points,
        counts,
        np.asarray(owner, dtype=np.int64),
        graphic,
        classes,
        holes,
        measurements,
        properties_of,
        sorted(issues),
    )


def _feature_parts(feature: Any, parts: list[list[Any]], owner: list[int], i: int) -> int | tuple[str, str | None]:
    """Append the annotations of ``feature`` (one list of positions each) to ``parts``: the number of holes
    dropped, or (what is wrong, hint) and nothing appended."""
    geometry = feature.get("geometry") if isinstance(feature, dict) else None
    if not isinstance(geometry, dict):
        return "has no geometry object", _HINT
    kind = geometry.get("type")
    if kind not in GRAPHIC_OF_GEOMETRY:
        return (
            f"geometry type {kind!r} is not supported",
            "use Point, MultiPoint, LineString, MultiLineString, Polygon or MultiPolygon features"
            " (split a GeometryCollection into features)",
        )
    coordinates = geometry.get("coordinates")
    if not isinstance(coordinates, list):
        return f"{kind} has no coordinates list", _HINT
    graphic_type, multi = GRAPHIC_OF_GEOMETRY[kind]
    rings, holes = [], 0
    nested = f"the coordinates of this {kind} are not nested as RFC 7946 3.1 says", _HINT
    for part in coordinates if multi else [coordinates]:
        if graphic_type == "POINT":
            ring: Any = [part]
        elif graphic_type == "POLYLINE":
            ring = part
        else:
            if not isinstance(part, list) or not part:
                return nested
            holes += len(part) - 1
            ring = part[0]
            if isinstance(ring, list) and len(ring) > 1 and ring[0] == ring[-1]:
                ring = ring[:-1]  # GeoJSON repeats the first position; ANN polygons close themselves
        if not isinstance(ring, list):
            return nested  # its positions are checked with all the others
        rings.append(ring)
    parts.extend(rings)
    owner.extend([i] * len(rings))
    return holes


def _points(parts: Sequence[list[Any]]) -> np.ndarray | None:
    """All positions as (n, 2) float64 when each is two finite numbers (the usual file: one numpy conversion,
    type checks at C speed), else None."""
    positions = list(chain.from_iterable(parts))
    try:
        if positions and set(map(len, positions)) != {2}:
            return None
        if not set(map(type, chain.from_iterable(positions))) <= {int, float}:  # so positions are lists
            return None
    except TypeError:  # a position without a length, or not iterable: a number where a list should be
        return None
    flat = np.fromiter(chain.from_iterable(positions), dtype=np.float64, count=2 * len(positions))
    if not np.isfinite(flat).all():
        return None
    return flat.reshape(len(positions), 2)


def _position_problem(position: Any) -> str | None:
    if type(position) is not list:
        return f"position {position!r} is not a list of numbers: the coordinates are not nested as RFC 7946 3.1 says"
    for value in position:
        if type(value) not in (int, float):
            return f"coordinate {value!r} is not a number"
        if not math.isfinite(value):
            return f"coordinate {value!r} is not a finite number"
    if len(position) not in (2, 3):
        return f"position {position!r} has {len(position)} numbers: a position has 2 (x, y) or 3 (x, y, z)"
    return None


def _points_one_by_one(
    parts: Sequence[list[Any]], owner: Sequence[int], issues: list[tuple[int, str, str | None]]
) -> np.ndarray:
    """(n, 3) with Z = NaN for 2-D positions when some have 3 numbers, else (n, 2); a position that is not 2 or
    3 finite numbers is an issue of its feature (once) and NaN."""
    wide = any(type(p) is list and len(p) == 3 for part in parts for p in part)
    out = np.full((sum(map(len, parts)), 3 if wide else 2), np.nan)
    n = 0
    flagged = {i for i, *_ in issues}
    for ring, i in zip(parts, owner):
        for position in ring:
            problem = _position_problem(position)
            if problem is None:
                out[n, : len(position)] = position
            elif i not in flagged:
                flagged.add(i)
                issues.append((i, problem, _HINT))
            n += 1
    return out
