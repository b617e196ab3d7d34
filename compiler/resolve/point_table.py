"""Annotations from a CSV file: one row per point.

Columns ``x``, ``y`` (and ``z`` for slide coordinates) hold the point; an ``annotation`` column groups
consecutive rows into one annotation (without it every row is one annotation: points); any other column
may hold a measurement, read from each annotation's first row (an empty cell = no value). Problems are
:class:`~dcmspec_compiler.errors.InputError` at the row's line.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError, Location

__all__ = ["PointTable", "read_point_table"]


@dataclass
class PointTable:
    path: Path
    points: np.ndarray     # (points, 2|3) float64
    counts: np.ndarray     # points per annotation
    lines: np.ndarray      # line of each annotation's first row
    columns: dict[str, list[str]]  # every column, one cell per annotation (its first row)

    def location(self, annotation: int) -> Location:
        return Location(str(self.path), int(self.lines[annotation]))

    def values(self, column: str, location: Location | None = None) -> np.ndarray:
        if column not in self.columns:
            raise InputError(f"{self.path.name} has no column {column!r} (columns: {', '.join(self.columns)})",
                             location=location or Location(str(self.path), 1))
        out = np.full(len(self.columns[column]), np.nan)
        for i, cell in enumerate(self.columns[column]):
            if cell.strip():
                try:
                    out[i] = float(cell)
                except ValueError:
                    raise InputError(f"{column} = {cell!r} is not a number", location=self.location(i),
                                     hint="leave the cell empty where an annotation has no value") from None
        return out


def read_point_table(path: Path, *, x: str = "x", y: str = "y", z: str | None = None,
                     annotation: str | None = None, location: Location | None = None) -> PointTable:
    """Read the CSV at ``path`` (UTF-8, a header row). ``z``/``annotation``: column names, or None to use
    ``z``/``annotation`` when the file has them."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read CSV {path}: {exc}", location=location) from None
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    where = Location(str(path), 1)
    if not header:
        raise InputError(f"{Path(path).name} is empty: it needs a header row with x and y columns", location=where)
    header = [h.strip() for h in header]
    index = {name: i for i, name in enumerate(header)}
    z = z if z is not None else ("z" if "z" in index else None)
    annotation = annotation if annotation is not None else ("annotation" if "annotation" in index else None)
    for name in (x, y, z, annotation):
        if name is not None and name not in index:
            raise InputError(f"{Path(path).name} has no column {name!r} (columns: {', '.join(header)})",
                             location=where, hint="name the columns in the spec's csv: {x, y, z, annotation}")
    axes = [index[x], index[y]] + ([index[z]] if z else [])
    key = index.get(annotation) if annotation else None
    coords: list[list[float]] = []
    firsts: list[int] = []
    lines: list[int] = []
    seen: dict[str, int] = {}
    rows: list[list[str]] = []
    last = object()
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        try:
            point = [float(row[a]) for a in axes]
        except (ValueError, IndexError):
            raise InputError(f"row {line} does not have numbers in {', '.join(header[a] for a in axes)}",
                             location=Location(str(path), line)) from None
        if not all(math.isfinite(v) for v in point):
            raise InputError("a coordinate is not a finite number", location=Location(str(path), line))
        name = row[key] if key is not None and key < len(row) else None
        if key is None or name != last:
            if name is not None and name in seen:
                raise InputError(f"the rows of annotation {name!r} are not together (it also starts at line"
                                 f" {seen[name]})", location=Location(str(path), line),
                                 hint="sort the file by the annotation column: one annotation's points are consecutive")
            if name is not None:
                seen[name] = line
            firsts.append(len(coords))
            lines.append(line)
            rows.append(row)
            last = name
        coords.append(point)
    if not coords:
        raise InputError(f"{Path(path).name} has no rows", location=where)
    points = np.asarray(coords, dtype=np.float64)
    starts = np.asarray(firsts, dtype=np.int64)
    counts = np.diff(np.append(starts, len(coords)))
    columns = {name: [r[i] if i < len(r) else "" for r in rows] for name, i in index.items()}
    return PointTable(Path(path), points, counts, np.asarray(lines), columns)
