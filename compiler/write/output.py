"""Write built objects: atomically, never over a file unless asked, with a JSON manifest.

Every target is checked before anything is written, so a build either writes all its files or none
of them. Each file is written to a temporary name in the output folder and renamed into place, so a
crash never leaves a half-written ``.dcm``. The manifest ``dcmspec-manifest.json`` lists what was
written (file, kind, SOP Class/Instance UID, Series UID, spec, SHA-256).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from ..errors import Location, OutputError

MANIFEST_NAME = "dcmspec-manifest.json"


@dataclass
class BuiltObject:
    """One object a spec produced, ready to write."""

    dataset: Any  # a pydicom Dataset (our IOD classes subclass it), or None when ``encoded`` is given
    filename: str
    kind: str
    spec: Path
    spec_id: str
    summary: dict[str, Any] = field(default_factory=dict)
    encoded: bytes | None = None  # the file, already encoded (built in a worker process)
    uids: dict[str, str] = field(default_factory=dict)  # SOP Class/Instance, Series, Study UIDs

    def uid(self, keyword: str) -> str:
        return self.uids[keyword] if self.encoded is not None else str(self.dataset[keyword].value)

    def write(self, fh: Any) -> None:
        if self.encoded is not None:
            fh.write(self.encoded)
        else:
            write_dicom(fh, self.dataset)


def _atomic_write(target: Path, write: Callable[[Any], None]) -> str:
    """Write through ``write(fileobj)`` to a temporary file, then rename it to ``target``; return SHA-256."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        digest = hashlib.sha256()
        with open(tmp, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
        return digest.hexdigest()
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _prepare_folder(out_dir: Path) -> None:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the output folder: {exc.strerror}",
                          location=Location(str(out_dir))) from None
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise OutputError("the output folder is not writable", location=Location(str(out_dir)),
                          hint="choose another folder with -o")


def check_targets(objects: list[BuiltObject], out_dir: Path, force: bool) -> None:
    """Refuse clashing names and existing files (unless ``force``) before anything is written."""
    seen: dict[str, BuiltObject] = {}
    for obj in objects:
        if obj.filename in seen:
            other = seen[obj.filename]
            raise OutputError(f"two specs write the same file {obj.filename!r}: {other.spec} and {obj.spec}",
                              location=Location(str(obj.spec)), hint="set output.file in one of them")
        seen[obj.filename] = obj
    if force:
        return
    existing = [name for name in seen if (out_dir / name).exists()]
    if existing:
        raise OutputError(
            f"{len(existing)} output file(s) exist already: {', '.join(existing[:5])}",
            location=Location(str(out_dir / existing[0])),
            hint="pass --force to overwrite them, or choose another folder with -o")


def write_dicom(fh: Any, dataset: Any) -> None:
    """Encode ``dataset`` as a DICOM file (PS3.10) into ``fh``."""
    from pydicom.filewriter import dcmwrite

    dcmwrite(fh, dataset, enforce_file_format=True)


def _merge_manifest(out_dir: Path, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Earlier entries of the folder's manifest whose files still exist, then this build's entries."""
    written = {e["file"] for e in entries}
    try:
        old = json.loads((out_dir / MANIFEST_NAME).read_text(encoding="utf-8")).get("objects", [])
    except (OSError, ValueError, AttributeError):
        old = []
    kept = [e for e in old if isinstance(e, dict) and e.get("file") not in written
            and (out_dir / str(e.get("file"))).is_file()]
    return kept + entries


def write_outputs(objects: Iterable[BuiltObject], out_dir: Path, *, force: bool = False,
                  progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Write every object and the manifest; return the manifest."""
    objects = list(objects)
    _prepare_folder(out_dir)
    check_targets(objects, out_dir, force)
    entries = []
    for obj in objects:
        target = out_dir / obj.filename
        try:
            digest = _atomic_write(target, obj.write)
        except OSError as exc:
            raise OutputError(f"cannot write the file: {exc.strerror}", location=Location(str(target))) from None
        entry = {
            "file": obj.filename,
            "kind": obj.kind,
            "spec": str(obj.spec),
            "id": obj.spec_id,
            "sop_class_uid": obj.uid("SOPClassUID"),
            "sop_instance_uid": obj.uid("SOPInstanceUID"),
            "series_instance_uid": obj.uid("SeriesInstanceUID"),
            "study_instance_uid": obj.uid("StudyInstanceUID"),
            "bytes": target.stat().st_size,
            "sha256": digest,
            **obj.summary,
        }
        entries.append(entry)
        if progress:
            progress(f"wrote {target} ({entry['bytes']} bytes)")
    manifest = {"dcmspec_manifest": 1, "objects": _merge_manifest(out_dir, entries)}
    text = json.dumps(manifest, indent=2, sort_keys=False) + "\n"
    _atomic_write(out_dir / MANIFEST_NAME, lambda fh: fh.write(text.encode("utf-8")))
    return manifest
