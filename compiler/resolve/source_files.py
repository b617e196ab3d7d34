"""Finding the files a spec's ``sources.images`` names: a file, a folder, a glob, or a list of those."""

from __future__ import annotations

import glob as _glob
import os
from collections.abc import Sequence
from pathlib import Path

from ..errors import InputError, Location, PathPart
from ..io.files import file_kind, is_regular_file, open_regular

_GLOB_CHARS = set("*?[")


def find_source_files(
    specs: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    base_dir: Path,
    *,
    location: Location | None = None,
    spec_path: Sequence[PathPart] = (),
) -> list[Path]:
    """The files named by a file, folder or glob (relative to ``base_dir``, ``**`` allowed), or a list.

    A file named explicitly is returned as is (its header is checked later). Folders are walked
    recursively and globs expanded; from those, hidden entries, ``DICOMDIR`` and files that do not
    look like DICOM (no ``DICM`` at offset 128, no group 0002/0008 element at offset 0; PS3.10 7.1)
    are skipped. The result is sorted, without duplicates.
    """
    items = [specs] if isinstance(specs, (str, os.PathLike)) else list(specs)
    base_dir = Path(base_dir)
    found: dict[Path, None] = {}
    for i, item in enumerate(items):
        sub_path = tuple(spec_path) + ((i,) if not isinstance(specs, (str, os.PathLike)) else ())
        text = os.path.expanduser(str(item))
        target = Path(text) if os.path.isabs(text) else base_dir / text
        try:
            hits, skipped, what = _expand(text, target)
        except InputError as exc:
            raise InputError(exc.message, location=location, path=sub_path, hint=exc.hint) from None
        except _TooManyFiles as exc:
            raise InputError(
                f"more than {MAX_FILES_SCANNED} files under {Path(str(exc)).absolute()}: not a series folder",
                location=location,
                path=sub_path,
                hint="point 'sources.images' at the folder of the series (or a glob such as 'ct/*.dcm')",
            ) from None
        if hits is None:
            raise InputError(
                f"source images not found: {target.absolute()} does not exist",
                location=location,
                path=sub_path,
                hint=f"paths are relative to the spec's folder ({base_dir.absolute()})",
            )
        if not hits:
            extra = f" ({skipped} non-DICOM or hidden files skipped)" if skipped else ""
            raise InputError(
                what + extra,
                location=location,
                path=sub_path,
                hint="point 'sources.images' at a DICOM file, a folder of DICOM files or a glob "
                f"such as 'ct/*.dcm'; relative paths start at {base_dir.absolute()}",
            )
        cwd = Path.cwd()  # once: Path.absolute() asks the system for it per file
        for hit in hits:
            found.setdefault(hit if hit.is_absolute() else cwd / hit, None)
    return sorted(found)


def _expand(text: str, target: Path) -> tuple[list[Path] | None, int, str]:
    """(files, skipped count, what-was-searched) for one entry of ``sources.images``; None when absent."""
    skipped = 0
    if any(c in text for c in _GLOB_CHARS):
        matches = []
        for p in _glob.iglob(str(target), recursive=True):
            matches.append(Path(p))
            if len(matches) > MAX_FILES_SCANNED:
                raise _TooManyFiles(target.parent)
        matches.sort()
        hits: list[Path] = []
        for m in matches:
            if m.is_dir():
                files, n = _walk(m)
                hits += files
                skipped += n
            elif not _is_hidden(m) and m.name != "DICOMDIR" and looks_like_dicom(m):
                hits.append(m)
            else:  # counted as a folder's walk counts them
                skipped += 1
        what = f"no DICOM files match the pattern {target.absolute()}"
    elif target.is_dir():
        hits, skipped = _walk(target)
        what = f"no DICOM files in the folder {target.absolute()}"
    elif is_regular_file(target):
        hits = [target]
        what = ""
    elif target.exists():
        raise InputError(
            f"{target.absolute()} is {file_kind(target)}, not a DICOM file or folder",
            hint="source images are read from regular files only",
        )
    else:
        return None, 0, ""
    return hits, skipped, what


def looks_like_dicom(path: Path) -> bool:
    """Cheap test: ``DICM`` at offset 128 (PS3.10 7.1), or a preamble-less file starting with
    a group 0002 or 0008 element (little endian)."""
    try:
        with open_regular(path) as fp:  # FIFOs and devices are skipped, never read
            head = fp.read(132)
    except OSError:
        return False
    if len(head) >= 132 and head[128:132] == b"DICM":
        return True
    if len(head) < 8 or head[0:2] not in (b"\x02\x00", b"\x08\x00"):
        return False
    # Explicit VR: two upper-case letters follow the tag; implicit VR: a plausible 32-bit length.
    if head[4:6].isalpha() and head[4:6].isupper():
        return True
    return int.from_bytes(head[4:8], "little") < (1 << 24)


def _is_hidden(path: Path) -> bool:
    return path.name.startswith(".")


MAX_FILES_SCANNED = 200_000
"""A folder or glob that reaches more files than this is an error (a typo such as ``/`` would
otherwise scan a whole disk)."""


class _TooManyFiles(Exception):
    pass


def _walk(folder: Path) -> tuple[list[Path], int]:
    """DICOM-looking files below ``folder`` (hidden entries skipped) and the number skipped."""
    files: list[Path] = []
    skipped = 0
    seen = 0
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        seen += len(names)
        if seen > MAX_FILES_SCANNED:
            raise _TooManyFiles(folder)
        for name in sorted(names):
            if name.startswith(".") or name == "DICOMDIR":
                skipped += 1
                continue
            p = Path(root) / name
            if looks_like_dicom(p):
                files.append(p)
            else:
                skipped += 1
    return files, skipped
