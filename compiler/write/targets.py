"""The files a build will write: their names, checked before anything is built.

A name is one file name inside the output folder (``output.file``, or the spec id plus ``.dcm``).
It must be usable on the file systems users copy output folders to: no path separator, no control
character, not ``.``/``..``, at most 255 bytes, and not a name dcmspec itself uses in the folder
(the manifest, staging folders). Names are compared without regard to case, so that an output folder
holds the same files on a case-insensitive file system (macOS, Windows).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..errors import DcmspecError, Location, OutputError, SpecError
from ..load.document import SpecDocument
from ..resolve.links import spec_id

MANIFEST_NAME = "dcmspec-manifest.json"
STAGING_PREFIX = ".dcmspec-staging-"  # our staging folders in an output folder (see commit.py)
NAME_MAX_BYTES = 255  # the file-name limit of ext4, XFS, btrfs, APFS, NTFS (in UTF-16 units there)


@dataclass(frozen=True)
class Target:
    """One file a build will write, and the spec line that named it."""

    name: str
    location: Location
    spec: str  # the spec id, for messages


def output_filename(doc: SpecDocument) -> str | None:
    """``output.file`` of ``doc``, else its id plus ``.dcm``; None when ``output.file`` is not a string
    (the schema reports that)."""
    name = doc.get(("output", "file"))
    if name is None:
        return f"{spec_id(doc)}.dcm"
    return name if isinstance(name, str) else None


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be an output file name, or None when it can."""
    if name in ("", ".", ".."):
        return f"{name!r} is not a file name"
    if "/" in name or "\\" in name:
        return f"{name!r} is a path; give a file name (the file goes into the output folder)"
    bad = sorted({c for c in name if ord(c) < 0x20 or ord(c) == 0x7F})
    if bad:
        shown = ", ".join(f"U+{ord(c):04X}" for c in bad)
        return f"the file name holds control characters ({shown}), e.g. a NUL or a line break"
    try:
        size = len(os.fsencode(name))
    except UnicodeError:
        return "the file name cannot be encoded for this file system"
    if size > NAME_MAX_BYTES:
        return f"the file name is {size} bytes long; file systems allow at most {NAME_MAX_BYTES}"
    if name.casefold() == MANIFEST_NAME or name.casefold().startswith(STAGING_PREFIX):
        return f"{name!r} is a name dcmspec uses for itself in the output folder"
    return None


def spec_targets(docs: Iterable[SpecDocument]) -> list[Target]:
    """The target of every document (in order); documents whose ``output.file`` is not a string are left
    out."""
    out = []
    for doc in docs:
        name = output_filename(doc)
        if name is None:
            continue
        named = doc.get(("output", "file")) is not None
        location = doc.loc(("output", "file") if named else ("id",))
        out.append(Target(name, location, spec_id(doc)))
    return out


def check_names(targets: list[Target], error: type[DcmspecError] = SpecError) -> list[DcmspecError]:
    """One error per unusable name and one per group of targets that share a name, at the spec's line."""
    errors: list[DcmspecError] = []
    groups: dict[str, list[Target]] = {}
    for target in targets:
        problem = name_problem(target.name)
        if problem:
            errors.append(
                error(
                    problem,
                    location=target.location,
                    path=("output", "file"),
                    hint="set output.file to a plain file name such as organs.dcm",
                )
            )
            continue
        groups.setdefault(target.name.casefold(), []).append(target)
    for group in groups.values():
        if len(group) < 2:
            continue
        first, others = group[0], group[1:]
        where = ", ".join(f"{t.spec} ({t.location})" for t in others[:10])
        more = f" and {len(others) - 10} more" if len(others) > 10 else ""
        errors.append(
            error(
                f"{len(group)} specs write the same file {first.name!r}: {first.spec} and {where}{more}",
                location=first.location,
                path=("output", "file"),
                hint="give each its own output.file (in a template, build the name from a parameter)",
            )
        )
    return errors


def existing_targets(names: Iterable[str], out_dir: Path) -> OutputError | None:
    """The error listing every target that exists already in ``out_dir``, or None."""
    existing = [name for name in names if os.path.lexists(out_dir / name)]
    if not existing:
        return None
    return OutputError(
        f"{len(existing)} output file(s) exist already: {', '.join(existing)}",
        location=Location(str(out_dir)),
        hint="pass --force to overwrite them, or choose another folder with -o",
    )


def folder_problem(out_dir: Path) -> OutputError | None:
    """Why files cannot be written into ``out_dir`` (or the folder cannot be made), or None; checks
    without creating anything, so that a build can stop before any work."""
    path = out_dir
    while not path.exists() and path != path.parent:
        path = path.parent
    if not path.is_dir():
        return OutputError(
            f"{path} is not a folder, so the output folder cannot be there",
            location=Location(str(out_dir)),
            hint="choose another folder with -o",
        )
    if not os.access(path, os.W_OK | os.X_OK):
        what = "the output folder is not writable" if path == out_dir else f"cannot create the output folder in {path}"
        return OutputError(what, location=Location(str(out_dir)), hint="choose another folder with -o")
    return None
