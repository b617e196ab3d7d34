"""Building many independent specs in worker processes (e.g. the rows of a ``--csv`` template build).

Each worker validates, builds and encodes its share of the documents and sends back the encoded files,
their manifest facts, warnings and errors; the parent writes them exactly as a one-process build would
(same bytes: UIDs and dates do not depend on the process). Only documents that neither refer to other
specs nor are referred to go to workers, and only when there are enough of them to pay for the start.
"""

from __future__ import annotations

import io
import os
import sys
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import DcmspecError, ErrorList, InputError, Location, OutputError, PathPart, SpecError, flatten, in_row
from ..load.document import SpecDocument
from .context import BuildContext, BuildOptions, Warning_
from .executors import LOST, ExecutorChoice, open_executor

MIN_BATCH = 64
"""Fewer eligible documents than this are built in the main process."""

_ERROR_KINDS = {cls.__name__: cls for cls in (SpecError, InputError, OutputError, DcmspecError)}


@dataclass
class Encoded:
    """One object built in a worker: its file bytes and the facts the manifest needs."""

    filename: str
    kind: str
    spec: str
    spec_id: str
    data: bytes
    summary: dict[str, Any]
    uids: dict[str, str]


def worker_count(n_docs: int) -> int:
    """How many worker processes to use for ``n_docs`` eligible documents (1 = none)."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if n_docs < MIN_BATCH or cpus < 2 or os.environ.get("DCMSPEC_WORKERS") == "1":
        return 1
    wanted = int(os.environ.get("DCMSPEC_WORKERS", cpus))
    return max(1, min(wanted, cpus, n_docs // (MIN_BATCH // 2)))


def _error_to_dict(error: DcmspecError) -> dict[str, Any]:
    loc = error.location or Location()
    row = (error.row.file, error.row.line) if error.row else None
    return {
        "cls": type(error).__name__,
        "message": error.message,
        "file": loc.file,
        "line": loc.line,
        "column": loc.column,
        "path": list(error.path),
        "hint": error.hint,
        "row": row,
    }


def _error_from_dict(d: dict[str, Any]) -> DcmspecError:
    cls = _ERROR_KINDS.get(d["cls"], SpecError)
    error = cls(
        d["message"], location=Location(d["file"], d["line"], d["column"]), path=tuple(d["path"]), hint=d["hint"]
    )
    error.row = Location(*d["row"]) if d.get("row") else None
    return error


def _encode(dataset: Any) -> bytes:
    from pydicom.filewriter import dcmwrite

    from ..write.encode import encode_file

    parts = encode_file(dataset)
    if parts is not None:
        return b"".join(parts)
    buffer = io.BytesIO()  # what write_dicom does for datasets the fast encoder does not handle
    dcmwrite(buffer, dataset, enforce_file_format=True)
    return buffer.getvalue()


WarningTuple = tuple[str, Location | None, tuple[PathPart, ...], Location | None]
"""A warning sent back by a worker: (message, location, path, CSV row)."""
DocumentResult = tuple[list[Encoded], list[dict[str, Any]], list[WarningTuple]]
"""What a worker sends back per document: (encoded objects, errors as dicts, warnings)."""
WorkArgs = (
    tuple[Sequence[tuple[SpecDocument, str]], BuildOptions, bool]
    | tuple[Sequence[tuple[SpecDocument, str]], BuildOptions, bool, str | None]
)
"""What a worker is given: (documents with their kinds, options, encode[, build token])."""

_contexts: dict[tuple[str, int], BuildContext] = {}
"""On a Dask worker: the build context of each build (token) and thread, so that the rows of one build
share its caches (source headers) as the rows of a local share do."""


def _context(options: BuildOptions, token: str | None) -> BuildContext:
    if token is None:
        return BuildContext(options)
    key = (token, threading.get_ident())
    if key not in _contexts:
        while len(_contexts) >= 4:  # older builds
            _contexts.pop(next(iter(_contexts)))
        _contexts[key] = BuildContext(options)
    return _contexts[key]


def _work(args: WorkArgs) -> list[DocumentResult]:
    """Worker: validate, build (and encode) each document; return per document (encoded, errors,
    warnings). A document gives all its objects or none (its errors). ``args`` is (documents, options,
    encode[, build token])."""
    from ..validate.schemas import validate_document
    from . import builder_for

    docs, options, encode = args[:3]
    ctx = _context(options, args[3] if len(args) > 3 else None)
    out: list[DocumentResult] = []
    for doc, kind in docs:
        first_warning = len(ctx.warnings)
        done: list[Encoded] = []
        errors: list[dict[str, Any]] = []
        try:
            validate_document(doc)
            for obj in builder_for(kind)(doc, ctx):
                if doc.csv_row is not None:
                    obj.summary.update(doc.csv_row.manifest())
                ds = obj.dataset
                done.append(
                    Encoded(
                        obj.filename,
                        obj.kind,
                        str(obj.spec),
                        obj.spec_id,
                        _encode(ds) if encode else b"",
                        obj.summary,
                        {
                            k: str(ds.get(k, ""))
                            for k in ("SOPClassUID", "SOPInstanceUID", "SeriesInstanceUID", "StudyInstanceUID")
                        },
                    )
                )
        except DcmspecError as exc:
            row = doc.csv_row.location if doc.csv_row else None
            errors.extend(_error_to_dict(e) for e in in_row(flatten(exc), row))
            done = []
        if doc.csv_row is not None:
            for warning in ctx.warnings[first_warning:]:
                warning.row = doc.csv_row.location
        warnings = [(w.message, w.location, w.path, w.row) for w in ctx.warnings[first_warning:]]
        del ctx.warnings[first_warning:]
        out.append((done, errors, warnings))
    return out


@dataclass
class BatchResult:
    """What came back from the workers: the objects of each document that was built, by ``id()`` of the
    caller's document (the caller puts them in its documents' order), and the errors in that order."""

    by_document: dict[int, list[Encoded]]
    errors: list[DcmspecError]
    #: the documents that failed (each gave errors and no object), and whether the build stopped early
    failed: list[SpecDocument]
    stopped: bool = False


def build_in_workers(
    docs: Sequence[tuple[SpecDocument, str]],
    ctx: BuildContext,
    *,
    encode: bool,
    workers: int,
    on_done: Callable[[int, int], None] | None = None,
    executor: ExecutorChoice | None = None,
    fail_fast: bool = False,
) -> BatchResult:
    """Build ``docs`` on ``executor`` (default: ``workers`` forked processes), keeping their order;
    ``on_done(n, failed)`` is called as each task of ``n`` documents (``failed`` of them failed) comes
    back. With ``fail_fast`` the first failed document cancels the tasks not yet done.

    A local worker that dies (killed by a signal, the OOM killer) breaks the pool: every share not yet
    returned becomes an error naming the documents it held, so the build fails instead of waiting. A Dask
    worker that dies has its task run on another worker by the scheduler.
    """
    choice = executor or ExecutorChoice()
    if choice.remote:
        parts = [[d] for d in docs]  # one task per row: the scheduler balances and retries them one by one
    else:
        chunk = max(1, -(-len(docs) // (workers * 4)))
        parts = [list(docs[i : i + chunk]) for i in range(0, len(docs), chunk)]
    results: list[Any] = [None] * len(parts)
    stopped = False
    with open_executor(choice, workers) as pool:
        token = uuid.uuid4().hex if choice.remote else None
        for i, result in pool.run(_work, [(p, ctx.options, encode, token) for p in parts]):
            results[i] = result
            failed = len(parts[i]) if result is LOST else sum(1 for _, errs, _ in result if errs)
            if on_done is not None:
                on_done(len(parts[i]), failed)
            if fail_fast and failed:
                stopped = True
                break
    out = BatchResult({}, [], [], stopped)
    for part, result in zip(parts, results):
        if result is None:  # cancelled by --fail-fast
            continue
        if result is LOST:
            out.errors.extend(_lost(part))
            out.failed.extend(doc for doc, _ in part)
            continue
        for (doc, _), (done, errs, warns) in zip(part, result):
            out.by_document[id(doc)] = done
            out.errors.extend(_error_from_dict(e) for e in errs)
            if errs:
                out.failed.append(doc)
            for message, location, path, row in warns:
                ctx.warnings.append(Warning_(message, location, tuple(path), row))
    return out


def _lost(part: list[tuple[SpecDocument, str]]) -> list[DcmspecError]:
    """One error per spec file of ``part``, naming the instances (CSV rows ``cases.csv:7``, else spec
    ids) a dead worker held."""
    from .common import spec_id

    by_file: dict[str, list[str]] = {}
    for doc, _ in part:
        by_file.setdefault(str(doc.path), []).append(str(doc.csv_row.location) if doc.csv_row else spec_id(doc))

    def shown(ids: list[str]) -> str:
        return ", ".join(ids[:10]) + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")

    return [
        InputError(
            f"a worker process died (killed, or out of memory) while building {shown(ids)}; they were not built",
            location=Location(file),
            hint="free memory, or build in one process with --workers 1",
        )
        for file, ids in by_file.items()
    ]


def can_fork() -> bool:
    """Whether worker processes can be forked (``"fork" in multiprocessing.get_all_start_methods()``,
    without importing multiprocessing, about 10 ms, for a build that has one document)."""
    return sys.platform != "win32" and hasattr(os, "fork")


__all__ = ["BatchResult", "Encoded", "ErrorList", "build_in_workers", "can_fork", "worker_count"]
