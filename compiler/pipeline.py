"""The compiler pipeline: load -> validate -> resolve -> build -> write.

:func:`compile_specs` runs everything short of writing (what ``dcmspec validate`` does);
:func:`build_specs` writes too (``dcmspec build``). Both collect every error of a spec before giving up
on it, and report errors of several specs together.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .assemble import builder_for
from .assemble.context import BuildContext, BuildOptions
from .assemble.executors import ExecutorChoice
from .errors import DcmspecError, ErrorList, InputError, Location, OutputError, SpecError, flatten, in_row
from .load.document import CsvRow, SpecDocument
from .load.extends import load_with_extends
from .load.parse import load_file
from .load.templates import ParameterValue, instantiate, rows_from_csv, uses_parameters
from .progress import meter_of
from .resolve.links import SpecRef, build_order, find_refs, referenced_files, spec_id
from .validate.schemas import check_kind, validate_document
from .write.targets import check_names, existing_targets, folder_problem, spec_targets

if TYPE_CHECKING:  # writing and worker processes are imported when a command uses them (start-up)
    from .write.output import BuiltObject

SPEC_SUFFIXES = (".yaml", ".yml", ".json")
VERBOSE_LIMIT = 20
"""Builds of at most this many spec instances print a line per instance; larger ones a progress meter."""


def collect_spec_files(paths: Iterable[str | Path]) -> list[Path]:
    """Spec files named on the command line; a folder stands for the spec files directly inside it."""
    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(
                p
                for p in path.iterdir()
                if p.suffix.lower() in SPEC_SUFFIXES and p.is_file() and not p.name.startswith(".")
            )
            found = [p for p in found if looks_like_spec(p)]
            if not found:
                raise InputError(
                    "no spec files (*.yaml, *.yml, *.json with `dcmspec: 1`) in this folder",
                    location=Location(str(path)),
                )
            found = [p for p in found if not is_abstract(p)]
            out.extend(found)
        elif path.exists():
            out.append(path)
        else:
            raise InputError("spec file not found", location=Location(str(path)))
    return out


def is_abstract(path: Path) -> bool:
    """True for a spec that says ``abstract: true`` (a base for ``extends``, not built on its own)."""
    try:
        return _is_base(load_file(path))
    except DcmspecError:
        return False  # reported when it is loaded for the build


def _is_base(doc: SpecDocument) -> bool:
    return isinstance(doc.data, dict) and doc.data.get("abstract") is True


_SPEC_KEY = re.compile(r'(?m)^(?:dcmspec|"dcmspec"|\'dcmspec\')\s*:|"dcmspec"\s*:')


def looks_like_spec(path: Path) -> bool:
    """Whether ``path`` looks like a spec: a top-level ``dcmspec:`` key (YAML, at the start of a line) or a
    ``"dcmspec":`` key (JSON) in its first 4 KB. A file that only mentions dcmspec (a pre-commit hook
    list, a CI file) is not one."""
    try:
        head = path.read_text(encoding="utf-8", errors="replace")[:4096]
    except OSError:
        return False
    return bool(_SPEC_KEY.search(head))


@dataclass
class CompileResult:
    objects: list[BuiltObject] = field(default_factory=list)
    errors: list[DcmspecError] = field(default_factory=list)
    context: BuildContext = field(default_factory=BuildContext)
    documents: list[SpecDocument] = field(default_factory=list)
    #: specs named in this build that are only bases (``abstract: true``): checked, not built
    bases: list[Path] = field(default_factory=list)
    #: the ``--csv`` rows that failed (each gave errors and no object), in the order found
    failed_rows: list[Location] = field(default_factory=list)
    #: how many of ``errors`` are those rows' (the others stop the whole build)
    row_errors: int = 0
    #: ``--fail-fast`` stopped the build at a failure
    stopped: bool = False
    #: spec instances of this build (rows times templates, plus the other specs)
    instances: int = 0

    def row_failed(self, row: Location, errors: list[DcmspecError]) -> None:
        """Record that the CSV ``row`` failed with ``errors``."""
        self.errors.extend(errors)
        self.row_errors += len(errors)
        self.failed_rows.append(row)

    @property
    def only_rows_failed(self) -> bool:
        """Every error belongs to a failed CSV row: the other rows' objects may be written."""
        return bool(self.failed_rows) and self.row_errors == len(self.errors)


@dataclass
class Parameters:
    """Template values for this build: ``--set``/``--values`` for every template, or ``--csv`` rows
    (each row builds one object per template)."""

    values: dict[str, ParameterValue] = field(default_factory=dict)
    csv: Path | None = None


def _instances(doc: SpecDocument, params: Parameters, result: CompileResult) -> list[SpecDocument]:
    """The documents a (template) spec stands for in this build; a CSV row whose values do not fit the
    parameters is a failed row (in ``result``), the others are built."""
    if not uses_parameters(doc):
        return [doc]
    if params.csv is None:
        return [instantiate(doc, params.values)]
    out, errors = [], []
    base = spec_id(doc)
    try:
        for number, (line, values) in enumerate(rows_from_csv(params.csv), start=1):
            row = CsvRow(str(params.csv), line, number)
            try:
                inst = instantiate(doc, {**params.values, **values})
            except DcmspecError as exc:
                result.row_failed(row.location, in_row(flatten(exc), row.location))
                continue
            inst.data = {**inst.data, "id": f"{base}-{line}"}
            inst.csv_row = row
            out.append(inst)
    except DcmspecError as exc:  # the file itself: encoding, header, quotes, row widths
        errors.extend(flatten(exc))
    if errors:
        raise ErrorList(errors)
    return out


def load_documents(paths: Iterable[Path], params: Parameters, result: CompileResult) -> list[tuple[SpecDocument, str]]:
    """Load and expand every spec (kind checked; schema validation comes with the build), following
    references to spec files that were not named."""
    queue: list[tuple[Path, SpecRef | None]] = [(Path(p), None) for p in paths]
    seen: set[Path] = set()
    loaded: list[tuple[SpecDocument, str]] = []
    while True:
        _load_queue(queue, seen, loaded, params, result)
        queue = [(file, None) for file in _folder_specs_for_ids(loaded, seen)]
        if not queue:
            break
    if params.values and not result.errors and not any(uses_parameters(doc) for doc, _ in loaded):
        name, value = next(iter(params.values.items()))
        result.errors.append(
            SpecError(
                f"parameter {name!r} given, but no spec in this build declares parameters", location=value.location
            )
        )
    return loaded


def _folder_specs_for_ids(loaded: list[tuple[SpecDocument, str]], seen: set[Path]) -> list[Path]:
    """Spec files beside a referring spec that hold an ``id`` it refers to and that are not in the build
    yet: a commit hook or a build that names one changed report still finds the SEG it links to by id.
    A file named ``<id>.yaml`` (``.yml``, ``.json``) is tried first; then the folder's other specs."""
    known = {spec_id(doc) for doc, _ in loaded}
    wanted: dict[Path, set[str]] = {}
    for doc, _ in loaded:
        for ref in find_refs(doc):
            if not ref.is_file and ref.target not in known:
                wanted.setdefault(Path(ref.location.file or doc.path).resolve().parent, set()).add(ref.target)
    found: list[Path] = []
    for folder, ids in wanted.items():
        candidates = [
            p
            for p in sorted(folder.iterdir())
            if p.suffix.lower() in SPEC_SUFFIXES
            and p.is_file()
            and not p.name.startswith(".")
            and p.resolve() not in seen
        ]
        by_stem = [p for p in candidates if p.stem in ids]
        rest = [p for p in candidates if p.stem not in ids]
        for path in by_stem + rest:
            if not ids:
                break
            if not looks_like_spec(path):
                continue
            try:
                doc = load_file(path)
            except DcmspecError:
                continue  # not this one: a broken unrelated file is not this build's business
            if not isinstance(doc.data, dict) or doc.data.get("abstract") is True:
                continue
            sid = str(doc.data.get("id") or path.stem)
            if sid in ids:
                ids.discard(sid)
                found.append(path)
    return found


def _load_queue(
    queue: list[tuple[Path, SpecRef | None]],
    seen: set[Path],
    loaded: list[tuple[SpecDocument, str]],
    params: Parameters,
    result: CompileResult,
) -> None:
    while queue:
        path, ref = queue.pop(0)
        if path.resolve() in seen:
            continue
        seen.add(path.resolve())
        try:
            if ref is not None and not path.is_file():
                raise SpecError(
                    f"the spec this refers to was not found: {path}",
                    location=ref.location,
                    path=ref.path + ("spec",),
                    hint="refer to a spec file that exists, or by id",
                )
            template = load_with_extends(path)
            if _is_base(template):
                if "kind" in template.data:
                    validate_document(template, partial=True)
                result.bases.append(path)
                continue
            for doc in _instances(template, params, result):
                loaded.append((doc, check_kind(doc)))
                result.context.ids_by_file.setdefault(doc.path.resolve(), spec_id(doc))
                queue.extend((file, r) for file, r in referenced_files(doc) if file.resolve() not in seen)
        except DcmspecError as exc:
            result.errors.extend(flatten(exc))


def compile_specs(
    paths: Iterable[Path],
    options: BuildOptions | None = None,
    progress: Callable[[str], None] | None = None,
    params: Parameters | None = None,
    *,
    encode: bool = False,
    out_dir: Path | None = None,
    force: bool = False,
    preview: bool = False,
    executor: ExecutorChoice | None = None,
    fail_fast: bool = False,
    fast: bool = False,
) -> CompileResult:
    """Load, validate, resolve and build every spec; errors are collected, not raised.

    ``fast`` runs ``dcmspec validate --fast``'s checks (``assemble/quick.py``: no pydicom, no numpy)
    instead of building: no objects, and fewer errors found than a build finds.

    A failed ``--csv`` row does not stop the other rows (``result.failed_rows``) unless ``fail_fast``,
    which stops at the first error of any kind.

    The output file names are checked before building; with ``out_dir``, also that none exists there
    (unless ``force``): that stops the build before any work.

    Many independent documents (the rows of a ``--csv`` build) are built in worker processes
    (``dcmspec_compiler.assemble.batch``) or on ``executor`` (a Dask cluster); with ``encode`` they come
    back as encoded files ready to write. ``preview`` attaches PNG pictures to the objects
    (``dcmspec_compiler.assemble.preview``); it builds in this process.
    """
    result = CompileResult(context=BuildContext(options or BuildOptions()))
    loaded = load_documents(paths, params or Parameters(), result)
    if result.errors and (fail_fast or not result.only_rows_failed):
        result.stopped = fail_fast and result.only_rows_failed
        return result
    kinds = {id(doc): kind for doc, kind in loaded}
    try:
        ordered = build_order([doc for doc, _ in loaded])
    except DcmspecError as exc:
        result.errors.extend(flatten(exc))
        return result
    result.documents = ordered
    result.instances = len(ordered) + len(result.failed_rows)
    if _check_targets(ordered, out_dir, force, result):
        return result
    independent = _independent(ordered)
    choice = executor or ExecutorChoice()
    workers = 1 if preview or fast else _workers(choice, len(independent))
    remote = choice.remote and bool(independent) and not (preview or fast)
    batch_ids = {id(d) for d in independent} if workers > 1 or remote else set()
    verbose = progress is not None and len(ordered) <= VERBOSE_LIMIT
    if batch_ids and progress is not None:
        where = f"{workers} worker processes" if choice.kind == "local" else str(choice)
        progress(f"building {len(batch_ids)} spec instance(s) on {where}")
    meter = None if verbose else meter_of(progress, result.instances, "building")
    built_by_doc: dict[int, list[BuiltObject]] = {}
    if meter is not None and result.failed_rows:
        meter.advance(len(result.failed_rows), failed=len(result.failed_rows))
    for doc in ordered:
        if id(doc) in batch_ids:
            continue
        kind = kinds[id(doc)]
        first_warning = len(result.context.warnings)
        try:
            if verbose and progress is not None:
                progress(f"building {doc.path}{f' {doc.csv_row}' if doc.csv_row else ''} ({kind})")
            validate_document(doc)
            if fast:
                from .assemble.quick import quick_check

                objects = quick_check(doc, kind, result.context)
            else:
                objects = builder_for(kind)(doc, result.context)
            if preview:
                from .assemble.preview import add_previews

                add_previews(doc, result.context, objects)  # a picture it cannot draw: a warning
            if doc.csv_row is not None:
                for obj in objects:
                    obj.summary.update(doc.csv_row.manifest())
            result.context.built[spec_id(doc)] = objects
            built_by_doc[id(doc)] = objects
            failed = False
        except DcmspecError as exc:
            failed = True
            result.context.failed[spec_id(doc)] = doc.path
            errors = in_row(flatten(exc), doc.csv_row.location if doc.csv_row else None)
            if doc.csv_row is not None:
                result.row_failed(doc.csv_row.location, errors)
            else:
                result.errors.extend(errors)
        if doc.csv_row is not None:
            for warning in result.context.warnings[first_warning:]:
                warning.row = doc.csv_row.location
        if meter is not None:
            meter.advance(failed=int(failed))
        if failed and fail_fast:
            result.stopped = True
            break
    if batch_ids and not result.stopped:
        from .assemble.batch import build_in_workers
        from .write.output import BuiltObject

        batch = build_in_workers(
            [(d, kinds[id(d)]) for d in ordered if id(d) in batch_ids],
            result.context,
            encode=encode,
            workers=workers,
            executor=choice,
            fail_fast=fail_fast,
            on_done=(lambda n, failed: meter.advance(n, failed=failed)) if meter else None,
        )
        if all(doc.csv_row is not None for doc in batch.failed):
            for doc in batch.failed:
                assert doc.csv_row is not None  # narrowed by the all() above
                result.failed_rows.append(doc.csv_row.location)
            result.row_errors += len(batch.errors)
        result.errors.extend(batch.errors)
        result.stopped = batch.stopped
        for key, encoded in batch.by_document.items():
            built_by_doc[key] = [
                BuiltObject(
                    dataset=None,
                    filename=e.filename,
                    kind=e.kind,
                    spec=Path(e.spec),
                    spec_id=e.spec_id,
                    summary=e.summary,
                    encoded=e.data,
                    uids=e.uids,
                )
                for e in encoded
            ]
    # in the order of the documents, wherever each was built: the manifest must not depend on how many
    # worker processes the machine gave the build
    result.objects = [obj for doc in ordered for obj in built_by_doc.get(id(doc), [])]
    if meter is not None:
        meter.close()
    if progress is not None and not verbose:
        progress(f"built {len(result.objects)} object(s) from {len(ordered)} spec instance(s)")
    return result


def _workers(choice: ExecutorChoice, n_docs: int) -> int:
    """Worker processes for ``n_docs`` independent documents: ``--workers``, else as many as pay."""
    if choice.remote:
        return choice.workers or 0
    if n_docs < 2:
        return 1
    from .assemble.batch import can_fork

    if not can_fork():
        return 1
    return min(choice.workers, n_docs) if choice.workers else worker_count(n_docs)


def worker_count(n_docs: int) -> int:
    """Worker processes that pay for ``n_docs`` documents (``assemble/batch.py``; tests replace this)."""
    from .assemble.batch import worker_count as count

    return count(n_docs)


def _check_targets(docs: list[SpecDocument], out_dir: Path | None, force: bool, result: CompileResult) -> bool:
    """Collect errors of the output names (each at its spec's line); True when a target exists in
    ``out_dir`` already (or the folder cannot be cleaned up): then there is no point in building."""
    targets = spec_targets(docs)
    errors = check_names(targets)
    result.errors.extend(errors)
    if out_dir is None or errors:
        return False
    problem = folder_problem(out_dir)
    if problem is not None:
        result.errors.append(problem)
        return True
    from .write.commit import recover_folder

    try:
        recover_folder(out_dir, lambda message, where: result.context.warn(message, Location(str(where))))
    except DcmspecError as exc:
        result.errors.extend(flatten(exc))
        return True
    except OSError as exc:
        result.errors.append(
            OutputError(f"cannot clean up after an interrupted build: {exc.strerror}", location=Location(str(out_dir)))
        )
        return True
    clash = None if force else existing_targets([t.name for t in targets], out_dir)
    if clash is not None:
        result.errors.append(clash)
    return clash is not None


def _independent(docs: list[SpecDocument]) -> list[SpecDocument]:
    """Documents that refer to no other spec and that no other spec refers to."""
    referred: set[str] = set()
    referring: set[int] = set()
    ids_by_file = {d.path.resolve(): spec_id(d) for d in docs}
    for doc in docs:
        for ref in find_refs(doc):
            referring.add(id(doc))
            referred.add(ids_by_file.get(ref.file(), ref.target) if ref.is_file else ref.target)
    return [d for d in docs if id(d) not in referring and spec_id(d) not in referred]


def build_specs(
    paths: Iterable[Path],
    out_dir: Path,
    *,
    options: BuildOptions | None = None,
    force: bool = False,
    progress: Callable[[str], None] | None = None,
    params: Parameters | None = None,
    preview: bool = False,
    executor: ExecutorChoice | None = None,
    fail_fast: bool = False,
) -> CompileResult:
    """Compile every spec and, when all succeeded, write the objects and the manifest (and with ``preview``
    the PNG pictures of what was built).

    When only ``--csv`` rows failed (and not ``fail_fast``), the other rows' objects are written: each
    row is all or nothing, the build still fails.
    """
    result = compile_specs(
        paths,
        options,
        progress,
        params,
        encode=True,
        out_dir=out_dir,
        force=force,
        preview=preview,
        executor=executor,
        fail_fast=fail_fast,
    )
    if result.errors and (fail_fast or not result.only_rows_failed):
        return result
    if not result.objects:  # nothing to write (e.g. only bases): the folder is not touched
        return result
    from .write.output import write_outputs

    meter = meter_of(progress, len(result.objects), "writing") if len(result.objects) > VERBOSE_LIMIT else None
    try:
        write_outputs(
            result.objects,
            out_dir,
            force=force,
            progress=progress if meter is None else lambda _line: meter.advance(),
            notice=lambda message, where: result.context.warn(message, Location(str(where))),
        )
    except DcmspecError as exc:
        result.errors.extend(flatten(exc))
    finally:
        if meter is not None:
            meter.close()
    return result


def raise_errors(errors: list[DcmspecError]) -> None:
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ErrorList(errors)


__all__ = ["CompileResult", "Parameters", "build_specs", "collect_spec_files", "compile_specs"]
