"""What every spec builder gets: options, the UID factory, the clock, and a place for warnings."""

from __future__ import annotations

import datetime as _dt
import os
from dataclasses import dataclass, field
from typing import Any

from ..errors import Location, PathPart, SpecError, format_path
from ..iods.common.uid import UUID_ROOT, UIDFactory
from ..load.document import SpecDocument


@dataclass(frozen=True)
class BuildOptions:
    """Command-line choices that change what is built.

    ``fresh_uids`` gives random UIDs instead of content-derived ones; ``now`` stamps the current time
    instead of a reproducible one (see :meth:`BuildContext.content_datetime`).
    """

    uid_root: str = UUID_ROOT
    fresh_uids: bool = False
    now: bool = False


@dataclass
class Warning_:
    message: str
    location: Location | None
    path: tuple[PathPart, ...] = ()
    row: Location | None = None  # the ``--csv`` row being built, when the location is a template's line

    def format(self) -> str:
        where = f"{format_path(self.path)}: " if self.path else ""
        row = f" (CSV row {self.row})" if self.row else ""
        return f"{self.location or '<input>'}: warning: {where}{self.message}{row}"

    def to_json(self) -> dict[str, Any]:
        loc = self.location or Location()
        return {
            "file": loc.file,
            "line": loc.line,
            "column": loc.column,
            "path": format_path(self.path),
            "message": self.message,
            **({"csv_row": {"file": self.row.file, "line": self.row.line}} if self.row else {}),
        }


@dataclass
class BuildContext:
    """State shared by the builders of one ``dcmspec build`` or ``validate`` run."""

    options: BuildOptions = field(default_factory=BuildOptions)
    warnings: list[Warning_] = field(default_factory=list)
    #: spec id -> the objects that spec built (filled in build order, see dcmspec_compiler.resolve.links)
    built: dict[str, list[Any]] = field(default_factory=dict)
    #: resolved spec file -> spec id
    ids_by_file: dict[Any, str] = field(default_factory=dict)
    #: spec id -> file of each spec of this build that failed to build (its errors are reported)
    failed: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.uids = UIDFactory(self.options.uid_root, "random" if self.options.fresh_uids else "derived")

    def referenced_objects(self, doc: SpecDocument, path: tuple[PathPart, ...]) -> list[Any]:
        """The objects built by the spec that the ``spec:`` mapping at ``path`` of ``doc`` names."""
        from ..resolve.links import SpecRef

        ref = SpecRef(doc, tuple(path), str(doc.get(tuple(path) + ("spec",))))
        sid = self.ids_by_file.get(ref.file()) if ref.is_file else ref.target
        if sid is not None and sid in self.failed:
            raise SpecError(
                f"spec {ref.target!r} failed to build (see its errors above)",
                location=ref.location,
                path=ref.path + ("spec",),
                hint=f"fix the errors of {self.failed[sid]}; this spec is built from what it builds",
            )
        if sid is None or sid not in self.built:
            raise SpecError(
                f"spec {ref.target!r} has not been built",
                location=ref.location,
                path=ref.path + ("spec",),
                hint="name it in the same build",
            )
        return self.built[sid]

    def warn(self, message: str, location: Location | None, path: tuple[PathPart, ...] = ()) -> None:
        self.warnings.append(Warning_(message, location, tuple(path)))

    def content_datetime(
        self, doc: SpecDocument, path: tuple[PathPart, ...], source_header: Any | None
    ) -> _dt.datetime:
        """When the content was made, reproducibly.

        In order: the spec's value at ``path``; ``--now``; the ``SOURCE_DATE_EPOCH`` environment variable
        (seconds since 1970, UTC); the source study's date and time; 1970-01-01 00:00.
        """
        value = doc.get(path)
        if value:
            try:
                return _dt.datetime.fromisoformat(str(value).replace(" ", "T"))
            except ValueError:
                raise SpecError(
                    f"{value!r} is not a valid date and time",
                    location=doc.loc(path),
                    path=path,
                    hint="write YYYY-MM-DDTHH:MM:SS",
                ) from None
        if self.options.now:
            return _dt.datetime.now().replace(microsecond=0)
        epoch = os.environ.get("SOURCE_DATE_EPOCH")
        if epoch:
            try:
                return _dt.datetime.fromtimestamp(int(epoch), _dt.timezone.utc).replace(tzinfo=None)
            except (ValueError, OverflowError):
                raise SpecError(
                    f"SOURCE_DATE_EPOCH={epoch!r} is not a number of seconds", location=Location("<environment>")
                ) from None
        if source_header is not None:
            date = str(source_header.get("StudyDate") or "")
            time = str(source_header.get("StudyTime") or "").split(".")[0].ljust(6, "0")
            if len(date) == 8 and date.isdigit():
                try:
                    return _dt.datetime.strptime(date + (time if time.isdigit() else "000000"), "%Y%m%d%H%M%S")
                except ValueError:
                    pass
        return _dt.datetime(1970, 1, 1)
