"""A loaded spec: plain data plus the source position of every node."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import Location, PathPart

NodePath = tuple[PathPart, ...]


@dataclass(frozen=True)
class CsvRow:
    """The ``--csv`` row a template instance was filled from: file, the line the row starts on, and
    its number among the data rows (from 1)."""

    file: str
    line: int
    number: int

    @property
    def location(self) -> Location:
        return Location(self.file, self.line)

    def manifest(self) -> dict[str, Any]:
        """What the manifest entry of an object built from this row says about the row."""
        return {"csv": {"file": self.file, "line": self.line, "row": self.number}}

    def __str__(self) -> str:
        return f"row {self.number} ({self.file}:{self.line})"


@dataclass
class SpecDocument:
    """The data of one spec file (dicts, lists, scalars) and where each node came from.

    ``positions`` maps a node path (``("segments", 0, "type")``) to the :class:`Location` of its value;
    ``key_positions`` maps a mapping entry's path to the location of its key. Values merged from other
    files (templates, includes) keep their own file in their location.
    """

    path: Path
    data: Any
    positions: dict[NodePath, Location] = field(default_factory=dict)
    key_positions: dict[NodePath, Location] = field(default_factory=dict)
    #: the ``--csv`` row this document is an instance of (None for other documents)
    csv_row: CsvRow | None = None

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def loc(self, path: Sequence[PathPart] = (), *, key: bool = False) -> Location:
        """Location of the node at ``path``, or of its nearest ancestor that has one."""
        p = tuple(path)
        if key and p in self.key_positions:
            return self.key_positions[p]
        while p:
            if p in self.positions:
                return self.positions[p]
            p = p[:-1]
        return self.positions.get((), Location(str(self.path), 1, 1))

    def get(self, path: Sequence[PathPart], default: Any = None) -> Any:
        node = self.data
        for part in path:
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                return default
        return node
