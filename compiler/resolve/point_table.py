"""Annotations from a CSV file: one row per point.

Columns ``x``, ``y`` (and ``z`` for slide coordinates) hold the point; an ``annotation`` column groups
consecutive rows into one annotation (without it every row is one annotation: points); any other column
may hold a measurement, read from each annotation's first row (an empty cell = no value). A file that
cannot be read is an :class:`~dcmspec_compiler.errors.InputError`; a bad row (a coordinate that is not a
finite number, an annotation's rows apart) is one of ``issues``, at its line, with NaN coordinates, so
that the caller reports every row in one run. An empty ``z`` cell is a point without Z (NaN).
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError, Location

__all__ = ["PointTable", "read_point_table"]


@dataclass
class PointTable:
    path: Path
    points: np.ndarray  # (points, 2|3) float64
    counts: np.ndarray  # points per annotation
    lines: np.ndarray  # line of each annotation's first row
    columns: dict[str, list[str]]  # every column, one cell per annotation (its first row)
    point_lines: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))  # line of each point
    issues: list[tuple[int, str, Location | None, str | None]] = field(default_factory=list)  # (annotation, ...)

    def location(self, annotation: int) -> Location:
        return Location(str(self.path), int(self.lines[annotation]))

    def values(
        self,
        column: str,
        location: Location | None = None,
        issues: list[tuple[int, str, Location | None, str | None]] | None = None,
    ) -> np.ndarray:
        """The column's number for each annotation (NaN for an empty cell); a cell that is not a number or is
        infinite is appended to ``issues`` as (annotation, message, location, hint), or raised without it."""
        if column not in self.columns:
            raise InputError(
                f"{self.path.name} has no column {column!r} (columns: {', '.join(self.columns)})",
                location=location or Location(str(self.path), 1),
            )
        out = np.full(len(self.columns[column]), np.nan)
        for i, cell in enumerate(self.columns[column]):
            if cell.strip():
                value, problem = number(cell)
                if problem is None and math.isinf(value):
                    problem = "is not a finite number"
                if problem is not None:
                    issue = (
                        i,
                        f"{column} = {cell!r} {problem}",
                        self.location(i),
                        "leave the cell empty where an annotation has no value",
                    )
                    if issues is None:
                        raise InputError(issue[1], location=issue[2], hint=issue[3])
                    issues.append(issue)
                else:
                    out[i] = value
        return out


def number(cell: str) -> tuple[float, str | None]:
    """(value, None) for a cell holding a number, else (NaN, what is wrong)."""
    try:
        return float(cell), None
    except ValueError:
        return math.nan, "is not a number"


def read_point_table(
    path: Path,
    *,
    x: str = "x",
    y: str = "y",
    z: str | None = None,
    annotation: str | None = None,
    location: Location | None = None,
) -> PointTable:
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
            raise InputError(
                f"{Path(path).name} has no column {name!r} (columns: {', '.join(header)})",
                location=where,
                hint="name the columns in the spec's csv: {x, y, z, annotation}",
            )
    axes = [index[x], index[y]] + ([index[z]] if z else [])
    key = index.get(annotation) if annotation else None
    coords: list[list[float]] = []
    point_lines: list[int] = []
    issues: list[tuple[int, str, Location | None, str | None]] = []
    firsts: list[int] = []
    lines: list[int] = []
    seen: dict[str, int] = {}
    rows: list[list[str]] = []
    last = object()
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        name = row[key] if key is not None and key < len(row) else None
        problem = None
        if key is not None and not (name or "").strip():  # which annotation? never guessed from the rows around
            problem = (
                f"{header[key]} = '' is empty" if name is not None else f"the row has no {header[key]} cell",
                f"name the annotation of every row in the {header[key]} column (consecutive rows with one name"
                " are one annotation)",
            )
        if name != last or key is None:
            if name is not None and name in seen:
                problem = (
                    f"the rows of annotation {name!r} are not together (it also starts at line {seen[name]})",
                    "sort the file by the annotation column: one annotation's points are consecutive",
                )
            if name is not None:
                seen[name] = line
            firsts.append(len(coords))
            lines.append(line)
            rows.append(row)
            last = name
        point = []
        for n, a in enumerate(axes):
            cell = row[a] if a < len(row) else ""
            if n == 2 and not cell.strip():
                point.append(math.nan)  # no Z
                continue
            value, wrong = number(cell) if cell.strip() else (math.nan, "is empty")
            if wrong is None and not math.isfinite(value):
                wrong = "is not a finite number"
            if wrong is not None and problem is None:
                problem = (f"{header[a]} = {cell!r} {wrong}", "x and y (and z) are numbers in every row")
            point.append(value if wrong is None else math.nan)
        if problem is not None:
            issues.append((len(firsts) - 1, problem[0], Location(str(path), line), problem[1]))
        coords.append(point)
        point_lines.append(line)
    if not coords:
        raise InputError(f"{Path(path).name} has no rows", location=where)
    points = np.asarray(coords, dtype=np.float64)
    starts = np.asarray(firsts, dtype=np.int64)
    counts = np.diff(np.append(starts, len(coords)))
    columns = {name: [r[i] if i < len(r) else "" for r in rows] for name, i in index.items()}
    return PointTable(Path(path), points, counts, np.asarray(lines), columns, np.asarray(point_lines), issues)
