"""Write built objects: all or nothing, never over a file unless asked, with a JSON manifest.

The files are staged and committed together (:mod:`.commit`). The manifest ``dcmspec-manifest.json``
lists what was written (file, kind, SOP Class/Instance UID, Series UID, spec, size, SHA-256).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from ..errors import DcmspecError, ErrorList, Location, OutputError
from .commit import INTERRUPTS, BuildInterrupted, Notice, Staging, recover_folder
from .targets import MANIFEST_NAME, Target, check_names, existing_targets

STREAM_BYTES = 1 << 20  # Pixel Data from this size on is streamed to the file, not copied first


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
    previews: dict[str, bytes] = field(default_factory=dict)  # ``--preview``: PNG file name -> bytes

    def uid(self, keyword: str) -> str:
        return self.uids[keyword] if self.encoded is not None else str(self.dataset[keyword].value)

    def write(self, fh: Any) -> None:
        if self.encoded is not None:
            fh.write(self.encoded)
        else:
            write_dicom(fh, self.dataset)


class _HashingWriter:
    """Write-only file object for ``dcmwrite``: forwards to ``fh`` and feeds SHA-256 on the way, so
    the written file is never read back. Large blocks are hashed on ``pool``'s thread while this
    thread writes them (both release the GIL); the digest still sees the blocks in order.
    Only sequential writing is supported (pydicom encodes each element in memory before writing it).
    """

    LARGE = 1 << 20

    def __init__(self, fh: Any, pool: ThreadPoolExecutor | None = None) -> None:
        self._fh = fh
        self._pool = pool
        self.sha256 = hashlib.sha256()
        self._pos = 0
        self.name = getattr(fh, "name", None)

    def write(self, data: Any) -> int:
        n = memoryview(data).nbytes
        if self._pool is not None and n >= self.LARGE:
            pending = self._pool.submit(self.sha256.update, data)
            try:
                self._fh.write(data)
            finally:
                pending.result()
        else:
            self.sha256.update(data)
            self._fh.write(data)
        self._pos += n
        return n

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        target = offset if whence == io.SEEK_SET else self._pos + offset if whence == io.SEEK_CUR else None
        if target != self._pos:
            raise io.UnsupportedOperation("the output is written sequentially")
        return self._pos


class _BytesReader(io.BufferedIOBase):
    """A read-only, seekable file over a bytes-like value, without copying it: reads return
    memoryview slices. Lets pydicom stream a large Pixel Data value straight into the output."""

    def __init__(self, data: bytes | bytearray) -> None:
        super().__init__()
        self._view = memoryview(data).cast("B")
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: len(self._view)}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def read(self, size: int | None = -1) -> Any:
        end = len(self._view) if size is None or size < 0 else min(len(self._view), self._pos + size)
        start, self._pos = self._pos, max(self._pos, end)
        return self._view[start : self._pos]


@contextmanager
def _streamed_pixel_data(dataset: Any) -> Iterator[None]:
    """While writing, give a large native Pixel Data value to pydicom as a buffer: pydicom then writes
    it straight to the file instead of first copying it into an in-memory element buffer (same bytes)."""
    from pydicom.config import settings
    from pydicom.dataelem import DataElement

    tag = 0x7FE00010
    elem = dataset.get(tag, None)
    if (
        elem is None
        or elem.is_undefined_length
        or elem.VR not in ("OB", "OW")
        or not isinstance(elem.value, (bytes, bytearray))
        or len(elem.value) < STREAM_BYTES
        or len(elem.value) % 2
    ):
        yield
        return
    read_size = settings.buffered_read_size
    dataset[tag] = DataElement(tag, elem.VR, _BytesReader(elem.value))
    settings.buffered_read_size = 16 << 20
    try:
        yield
    finally:
        settings.buffered_read_size = read_size
        dataset[tag] = elem


def _prepare_folder(out_dir: Path) -> None:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the output folder: {exc.strerror}", location=Location(str(out_dir))) from None
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise OutputError(
            "the output folder is not writable", location=Location(str(out_dir)), hint="choose another folder with -o"
        )


def write_dicom(fh: Any, dataset: Any) -> None:
    """Encode ``dataset`` as a DICOM file (PS3.10) into ``fh``.

    The fast encoder (:mod:`.encode`) writes the bytes pydicom's ``dcmwrite`` would; datasets it does
    not handle go to ``dcmwrite``.
    """
    from pydicom.filewriter import dcmwrite

    from .encode import encode_file

    parts = encode_file(dataset)
    if parts is not None:
        for part in parts:
            fh.write(part)
        return
    with _streamed_pixel_data(dataset):
        dcmwrite(fh, dataset, enforce_file_format=True)


def _merge_manifest(out_dir: Path, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Earlier entries of the folder's manifest whose files still exist (or that were only sent to a
    PACS: ``written: false``), then this build's entries. What a PACS answered for an object
    (``stored``, :mod:`.send`) stays with it while its bytes are the same."""
    written = {e["file"] for e in entries}
    try:
        old = json.loads((out_dir / MANIFEST_NAME).read_text(encoding="utf-8")).get("objects", [])
    except (OSError, ValueError, AttributeError):
        old = []
    old = [e for e in old if isinstance(e, dict)]
    for entry in entries:
        for before in old:
            if (
                before.get("file") == entry["file"]
                and before.get("sha256") == entry["sha256"]
                and isinstance(before.get("stored"), dict)
            ):
                entry["stored"] = {**before["stored"], **entry.get("stored", {})}
    kept = [
        e
        for e in old
        if e.get("file") not in written and (e.get("written") is False or (out_dir / str(e.get("file"))).is_file())
    ]
    return kept + entries


def manifest_entry(obj: BuiltObject, nbytes: int, sha256: str) -> dict[str, Any]:
    """The manifest entry of an object whose file has ``nbytes`` bytes with digest ``sha256``."""
    return {
        "file": obj.filename,
        "kind": obj.kind,
        "spec": str(obj.spec),
        "id": obj.spec_id,
        "sop_class_uid": obj.uid("SOPClassUID"),
        "sop_instance_uid": obj.uid("SOPInstanceUID"),
        "series_instance_uid": obj.uid("SeriesInstanceUID"),
        "study_instance_uid": obj.uid("StudyInstanceUID"),
        "bytes": nbytes,
        "sha256": sha256,
        **obj.summary,
    }


def record_unwritten(objects: Iterable[BuiltObject], out_dir: Path) -> tuple[list[dict[str, Any]], dict[str, bytes]]:
    """For objects sent to a PACS without being written (``--stow-only``): their manifest entries
    (``written: false``), merged into the folder's manifest, and their bytes by file name."""
    from .commit import folder_lock
    from .send import write_manifest

    entries, data = [], {}
    for obj in objects:
        buffer = io.BytesIO()
        obj.write(buffer)
        data[obj.filename] = buffer.getvalue()
        entries.append(
            {
                **manifest_entry(obj, len(data[obj.filename]), hashlib.sha256(data[obj.filename]).hexdigest()),
                "written": False,
            }
        )
    _prepare_folder(out_dir)
    with folder_lock(out_dir):
        write_manifest(out_dir, {"dcmspec_manifest": 1, "objects": _merge_manifest(out_dir, entries)})
    return entries, data


def _stage_objects(
    staging: Staging, objects: list[BuiltObject], out_dir: Path, progress: Callable[[str], None] | None
) -> list[dict[str, Any]]:
    """Write every object into the staging folder; return their manifest entries."""
    entries = []
    pool = ThreadPoolExecutor(max_workers=1) if (os.cpu_count() or 1) > 1 else None  # hashes while writing
    try:
        for index, obj in enumerate(objects):
            staged = f"{index:06d}.dcm"
            writer: list[_HashingWriter] = []

            def write(fh: Any, obj: BuiltObject = obj, writer: list[_HashingWriter] = writer) -> None:
                writer.append(_HashingWriter(fh, pool))
                obj.write(writer[0])

            try:
                staging.write(staged, write)
            except OSError as exc:
                raise OutputError(
                    f"cannot write the file: {exc.strerror}; nothing was written",
                    location=Location(str(out_dir / obj.filename)),
                ) from None
            previews: list[tuple[str, str]] = []
            for name, data in obj.previews.items():
                staged_png = f"{index:06d}-{len(previews):04d}.png"

                def write_png(fh: BinaryIO, data: bytes = data) -> None:
                    fh.write(data)

                try:
                    staging.write(staged_png, write_png)
                except OSError as exc:
                    raise OutputError(
                        f"cannot write the file: {exc.strerror}; nothing was written",
                        location=Location(str(out_dir / name)),
                    ) from None
                previews.append((staged_png, name))
            entries.append(
                {
                    **manifest_entry(obj, writer[0].tell(), writer[0].sha256.hexdigest()),
                    **({"previews": [name for _, name in previews]} if previews else {}),
                    "staged": staged,
                    "staged_previews": previews,
                }
            )
            if progress:
                progress(f"writing {out_dir / obj.filename} ({writer[0].tell()} bytes)")
    finally:
        if pool is not None:
            pool.shutdown()
    return entries


def _raise(errors: list[DcmspecError]) -> None:
    if errors:
        raise errors[0] if len(errors) == 1 else ErrorList(errors)


def write_outputs(
    objects: Iterable[BuiltObject],
    out_dir: Path,
    *,
    force: bool = False,
    progress: Callable[[str], None] | None = None,
    notice: Notice | None = None,
) -> dict[str, Any]:
    """Write every object and the manifest, all or nothing (:mod:`.commit`); return the manifest.

    Without ``force`` no file is replaced. ``notice(message, path)`` hears what was done to the leftovers
    of killed builds in the folder. SIGINT/SIGTERM/SIGHUP raise :class:`.commit.BuildInterrupted` once
    the folder is clean.
    """
    objects = list(objects)
    _raise(
        check_names(
            [Target(name, Location(str(o.spec)), o.spec_id) for o in objects for name in (o.filename, *o.previews)],
            OutputError,
        )
    )
    _prepare_folder(out_dir)
    staging: Staging | None = None
    try:
        with INTERRUPTS.handled():
            try:
                recover_folder(out_dir, notice)
                if not force:
                    _raise(
                        [
                            e
                            for e in [
                                existing_targets([n for o in objects for n in (o.filename, *o.previews)], out_dir)
                            ]
                            if e
                        ]
                    )
            except OSError as exc:
                raise _unwritable(out_dir, exc) from None
            try:
                # a stop signal waits while the staging folder is made and while it is removed, so that
                # it is never left behind half made or half removed
                with INTERRUPTS.deferred():
                    try:
                        staging = Staging(out_dir)
                    except OSError as exc:
                        raise _unwritable(out_dir, exc) from None
                return _stage_and_commit(staging, objects, out_dir, force, progress, notice)
            finally:
                if staging is not None:
                    with INTERRUPTS.deferred():
                        staging.remove()
    except BuildInterrupted as exc:
        exc.committed = exc.committed or (staging is not None and staging.committed)
        raise


def _unwritable(out_dir: Path, exc: OSError) -> OutputError:
    return OutputError(f"cannot write into the output folder: {exc.strerror}", location=Location(str(out_dir)))


def _stage_and_commit(
    staging: Staging,
    objects: list[BuiltObject],
    out_dir: Path,
    force: bool,
    progress: Callable[[str], None] | None,
    notice: Notice | None,
) -> dict[str, Any]:
    entries = _stage_objects(staging, objects, out_dir, progress)
    files = []
    for entry in entries:
        files.append((entry.pop("staged"), entry["file"]))
        files.extend(entry.pop("staged_previews"))
    try:
        return staging.commit(
            files,
            lambda: {"dcmspec_manifest": 1, "objects": _merge_manifest(out_dir, entries)},
            force=force,
            notice=notice,
        )
    except OSError as exc:
        raise OutputError(
            f"cannot write the manifest or commit the build: {exc.strerror}; nothing was written",
            location=Location(str(out_dir)),
        ) from None
