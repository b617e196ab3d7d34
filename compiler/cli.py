"""The ``dcmspec`` command line.

Exit codes: 0 success; 1 the spec or its inputs are invalid; 2 wrong command-line usage;
3 the output cannot be written; 4 internal error (a bug: please report it, ``--debug`` shows the
traceback). Errors and progress go to stderr; ``validate --format json`` prints its report on stdout.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from . import __version__

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TypeVar

    from .assemble.context import BuildOptions
    from .pipeline import CompileResult, Parameters
    from .progress import Progress
    from .write.send import Destination, SendReport

    _F = TypeVar("_F", bound=Callable[..., Any])

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_OUTPUT, EXIT_INTERNAL = 0, 1, 2, 3, 4


def _echo_err(text: str) -> None:
    click.echo(text, err=True)


def _internal_error(exc: BaseException, debug: bool) -> None:
    if debug:
        raise exc
    _echo_err(
        f"dcmspec: internal error: {type(exc).__name__}: {exc}\n"
        "  this is a bug in dcmspec; run again with --debug for the traceback"
    )
    sys.exit(EXIT_INTERNAL)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dcmspec")
@click.option("--debug", is_flag=True, help="Show tracebacks of internal errors.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """dcmspec: compile YAML/JSON specs into DICOM derived objects.

    \b
    Exit codes: 0 ok, 1 invalid spec or inputs, 2 usage error,
    3 output not writable, exists (see --force) or its PACS package is missing, 4 internal error.
    """
    ctx.obj = {"debug": debug}
    from .pydicom_import import without_downloader

    ctx.with_resource(without_downloader())  # until the command ends: see pydicom_import.py


def _options(uid_root: str | None, fresh_uids: bool, now: bool) -> BuildOptions:
    from .assemble.context import BuildOptions
    from .iods.common.uid import UUID_ROOT

    return BuildOptions(uid_root=uid_root or UUID_ROOT, fresh_uids=fresh_uids, now=now)


def _report(result: CompileResult, *, quiet: bool, writes: bool = True) -> int:
    code = _report_errors(result, quiet=quiet)
    if result.failed_rows:
        failed = sorted(result.failed_rows, key=lambda row: (row.file or "", row.line or 0))
        rows = ", ".join(str(row) for row in failed[:20])
        more = f" and {len(result.failed_rows) - 20} more" if len(result.failed_rows) > 20 else ""
        if not writes:
            done = "the other rows are valid" if result.only_rows_failed else "see the errors above"
        elif result.stopped:
            done = "stopped at the first failure (--fail-fast); nothing was written"
        elif result.only_rows_failed and result.objects and code != EXIT_OUTPUT:
            done = f"the other rows' {len(result.objects)} object(s) were written"
        else:
            done = "nothing was written"
        _echo_err(f"dcmspec: {len(result.failed_rows)} of {result.instances} CSV row(s) failed: {rows}{more}; {done}")
    return code


def _report_errors(result: CompileResult, *, quiet: bool) -> int:
    if not quiet:
        for base in result.bases:
            _echo_err(f"{base}: a base for `extends` (abstract: true): checked, not built")
    for warning in result.context.warnings:
        _echo_err(warning.format())
    for error in result.errors:
        _echo_err(error.format())
    if result.errors:
        code = max(e.exit_code for e in result.errors)
        _echo_err(f"dcmspec: {len(result.errors)} error(s)")
        return code
    return EXIT_OK


_uid_root_option = click.option(
    "--uid-root",
    metavar="ROOT",
    help="Root for generated UIDs (default 2.25.: a UUID-form UID, PS3.5 B.2, whose "
    "128 bits come from a SHA-256 digest of the content).",
)
_fresh_option = click.option("--fresh-uids", is_flag=True, help="Random UIDs instead of UIDs derived from the content.")
_now_option = click.option("--now", is_flag=True, help="Stamp the current date and time instead of a reproducible one.")


def _template_options(func: _F) -> _F:
    func = click.option(
        "--csv",
        "csv_file",
        type=click.Path(path_type=Path, dir_okay=False),
        help="Template values, one case per row (header = parameter names): one object per row and template.",
    )(func)
    func = click.option(
        "--values",
        "values_file",
        type=click.Path(path_type=Path, dir_okay=False),
        help="Template values from a YAML or JSON file.",
    )(func)
    func = click.option(
        "--set", "set_values", multiple=True, metavar="NAME=VALUE", help="A template value (repeatable)."
    )(func)
    return func


def _parameters(set_values: tuple[str, ...], values_file: Path | None, csv_file: Path | None) -> Parameters:
    from .errors import DcmspecError, SpecError
    from .load.templates import values_from_file, values_from_set
    from .pipeline import Parameters

    try:
        values = values_from_file(values_file) if values_file else {}
    except DcmspecError as exc:  # a bad --values file: located like any spec error
        _echo_err(exc.format())
        sys.exit(exc.exit_code)
    try:
        values.update(values_from_set(list(set_values)))
    except SpecError as exc:
        raise click.BadParameter(exc.message, param_hint="--set") from None
    return Parameters(values=values, csv=csv_file)


def _check_uid_root(uid_root: str | None) -> None:
    if uid_root is None:
        return
    from .iods.common.uid import is_valid_uid

    root = uid_root.rstrip(".")
    if not is_valid_uid(root):
        raise click.BadParameter(
            f"{uid_root!r} is not a UID root: digits in components separated by dots, no"
            " leading zeros (PS3.5 9.1), e.g. 1.2.826.0.1.3680043.10.999",
            param_hint="--uid-root",
        )
    if len(root) > 39:
        raise click.BadParameter(
            f"{uid_root!r} has {len(root)} characters; a UID root may have at most 39, so that derived UIDs fit 64",
            param_hint="--uid-root",
        )


def _stopped(exc: KeyboardInterrupt) -> None:
    from .entry import stopped

    stopped(exc)


@main.command()
@click.argument("specs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    "out_dir",
    required=True,
    type=click.Path(path_type=Path),
    help="Output folder (created if missing).",
)
@click.option("--force", is_flag=True, help="Overwrite files that exist already.")
@click.option(
    "--preview",
    is_flag=True,
    help="Also write PNG pictures beside the DICOM files: each Secondary Capture's pixels, each "
    "Segmentation's and presentation state's images with the outlines or graphics drawn.",
)
@_uid_root_option
@_fresh_option
@_now_option
@_template_options
@click.option(
    "--executor",
    default="local",
    show_default=True,
    metavar="local|dask-local|dask://HOST:PORT",
    help="Where the rows of a --csv build run: local worker processes, a Dask LocalCluster, or a "
    "running Dask scheduler (the Dask extra); the files are written here, with the same bytes.",
)
@click.option(
    "--workers", type=int, metavar="N", help="Worker processes for local and dask-local (default: one per core)."
)
@click.option(
    "--fail-fast",
    is_flag=True,
    help="Stop at the first failed row and write nothing (default: build every row, write the good "
    "ones, report the failed ones, exit 1).",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress messages.")
@click.option(
    "--stow",
    metavar="URL",
    help="Send every object to this DICOMweb root with STOW-RS after writing it; "
    "the manifest records the answer per instance.",
)
@click.option(
    "--stow-only",
    is_flag=True,
    help="With --stow: send without writing the DICOM files (the manifest in OUTPUT still records what was sent).",
)
@click.option(
    "--store",
    metavar="HOST:PORT:AET",
    help="Send every object with DIMSE C-STORE to this node, in the "
    "transfer syntax it was written in; the manifest records the answer per instance.",
)
@click.option("--calling-aet", default="DCMSPEC", show_default=True, metavar="AET", help="Our AE title for --store.")
@click.pass_context
def build(
    ctx: click.Context,
    specs: tuple[Path, ...],
    out_dir: Path,
    force: bool,
    preview: bool,
    uid_root: str | None,
    fresh_uids: bool,
    now: bool,
    set_values: tuple[str, ...],
    values_file: Path | None,
    csv_file: Path | None,
    executor: str,
    workers: int | None,
    fail_fast: bool,
    quiet: bool,
    stow: str | None,
    stow_only: bool,
    store: str | None,
    calling_aet: str,
) -> None:
    """Build SPECS (files, or folders of spec files) into DICOM files in OUTPUT."""
    _check_uid_root(uid_root)
    destinations = _destinations(stow, stow_only, store, calling_aet, fresh_uids)
    from .assemble.executors import parse_executor

    try:
        choice = parse_executor(executor, workers)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--executor") from None
    from .errors import DcmspecError

    try:  # like an existing output file: refused before anything is built or written
        for destination in destinations:
            destination.require()
    except DcmspecError as exc:
        _echo_err(exc.format())
        sys.exit(exc.exit_code)
    from .pipeline import build_specs, collect_spec_files
    from .progress import Progress

    progress = None if quiet else Progress(sys.stderr)
    start = time.perf_counter()
    params = _parameters(set_values, values_file, csv_file)
    try:
        paths = collect_spec_files(specs)
        if stow_only:
            from .pipeline import compile_specs

            result = compile_specs(
                paths,
                _options(uid_root, fresh_uids, now),
                progress,
                params,
                encode=True,
                executor=choice,
                fail_fast=fail_fast,
            )
        else:
            result = build_specs(
                paths,
                out_dir,
                options=_options(uid_root, fresh_uids, now),
                force=force,
                progress=progress,
                params=params,
                preview=preview,
                executor=choice,
                fail_fast=fail_fast,
            )
        sent = _send(result, out_dir, destinations, written=not stow_only, progress=progress)
    except DcmspecError as exc:
        _echo_err(exc.format())
        sys.exit(exc.exit_code)
    except KeyboardInterrupt as exc:  # SIGINT, or SIGTERM/SIGHUP while writing (write/commit.py)
        _stopped(exc)
    except Exception as exc:  # last line of defence
        _internal_error(exc, ctx.obj["debug"])
        return
    code = _report(result, quiet=quiet)
    if code == EXIT_OK and progress:
        progress(f"dcmspec: built {len(result.objects)} object(s) in {time.perf_counter() - start:.2f} s")
    if code == EXIT_OK and sent is not None:
        from .write.send import report_lines

        lines, ok = report_lines(sent, out_dir)
        for line in lines:
            _echo_err(line)
        code = EXIT_OK if ok else EXIT_OUTPUT
    sys.exit(code)


def _destinations(
    stow: str | None, stow_only: bool, store: str | None, calling_aet: str, fresh_uids: bool
) -> list[Destination]:
    """The PACS destinations of ``build`` (--stow, --store), checked."""
    from .write.send import Destination, parse_store

    destinations: list[Destination] = []
    if stow is not None:
        if not stow.startswith(("http://", "https://")) or any(c.isspace() for c in stow):
            raise click.BadParameter(
                f"{stow!r} is not an http(s) URL (the DICOMweb root of the PACS)", param_hint="--stow"
            )
        destinations.append(Destination(url=stow))
    elif stow_only:
        raise click.BadParameter("--stow-only needs --stow URL", param_hint="--stow-only")
    if store is not None:
        try:
            destinations.append(parse_store(store, calling_aet))
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--store/--calling-aet") from None
    if destinations and fresh_uids:
        raise click.BadParameter(
            "--fresh-uids would store every rerun as new instances in the PACS; with --stow"
            " or --store the UIDs derive from the content",
            param_hint="--fresh-uids",
        )
    return destinations


def _send(
    result: CompileResult,
    out_dir: Path,
    destinations: list[Destination],
    *,
    written: bool,
    progress: Progress | None,
) -> list[SendReport] | None:
    """Send what the build made to the PACS destinations (None when there are none or the build failed)."""
    if not destinations or result.errors or not result.objects:
        return None
    from .write.send import send_objects

    return send_objects(
        result.objects,
        out_dir,
        destinations,
        written=written,
        progress=(lambda line: progress(line)) if progress is not None else None,
    )


def _github_escape(text: str, *, prop: bool = False) -> str:
    """GitHub Actions workflow-command escaping (data: % CR LF; properties also : and ,)."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def _github_line(level: str, item: dict[str, Any]) -> str:
    """``::error file=F,line=L,col=C,title=T::message`` for an error or a warning (to_json form)."""
    props = [
        f"{name}={_github_escape(str(item[key]), prop=True)}"
        for name, key in (("file", "file"), ("line", "line"), ("col", "column"))
        if item.get(key) is not None
    ]
    title = f"dcmspec: {item['path']}" if item.get("path") else "dcmspec"
    props.append(f"title={_github_escape(title, prop=True)}")
    message = item["message"]
    if item.get("csv_row"):
        message += f" (CSV row {item['csv_row']['file']}:{item['csv_row']['line']})"
    if item.get("hint"):
        message += f"\nhint: {item['hint']}"
    return f"::{level} {','.join(props)}::{_github_escape(message)}"


@main.command()
@click.argument("specs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="Report format; json goes to stdout for CI tools; github prints GitHub Actions annotations "
    "(::error file=...,line=...::) on stdout, which mark the spec line in a pull request.",
)
@click.option(
    "--ignore-other-files",
    is_flag=True,
    help="Skip named files that are not dcmspec specs (no `dcmspec` key near the top), as a "
    "pre-commit hook passes every changed YAML/JSON file.",
)
@click.option(
    "--fast",
    is_flag=True,
    help="Check only what needs no DICOM object, in about a third of the time (for editors and pre-commit "
    "hooks): schema, references, codes, units, output names, source and mask files, .npy headers. It builds "
    "no object, so it misses what only a build finds (source headers and geometry, mask shape, missing "
    "units, DICOM rules); without --fast the check is complete.",
)
@_uid_root_option
@_template_options
@click.pass_context
def validate(
    ctx: click.Context,
    specs: tuple[Path, ...],
    fmt: str,
    ignore_other_files: bool,
    fast: bool,
    uid_root: str | None,
    set_values: tuple[str, ...],
    values_file: Path | None,
    csv_file: Path | None,
) -> None:
    """Check SPECS completely (schema, references, sources, masks, DICOM rules) without writing;
    with --fast, only the checks that need no DICOM object."""
    _check_uid_root(uid_root)
    from .errors import DcmspecError
    from .pipeline import CompileResult, collect_spec_files, compile_specs, looks_like_spec
    from .progress import Progress

    params = _parameters(set_values, values_file, csv_file)
    if ignore_other_files:
        specs = tuple(p for p in specs if p.is_dir() or not p.is_file() or looks_like_spec(p))
        if not specs:
            sys.exit(EXIT_OK)
    try:
        try:
            paths = collect_spec_files(specs)
            result = compile_specs(
                paths,
                _options(uid_root, False, False),
                params=params,
                progress=Progress(sys.stderr, messages=False),
                fast=fast,
            )
        except DcmspecError as exc:
            result = CompileResult(errors=[exc])
            paths = []
    except Exception as exc:
        _internal_error(exc, ctx.obj["debug"])
        return
    if fmt == "json":
        report = {
            "ok": not result.errors,
            "complete": not fast,  # --fast builds no object: "ok" then says less
            "specs": [str(p) for p in paths],
            "objects": [
                {"spec": str(o.spec), "id": o.spec_id, "kind": o.kind, "file": o.filename, **o.summary}
                for o in result.objects
            ],
            "errors": [e.to_json() for e in result.errors],
            "warnings": [w.to_json() for w in result.context.warnings],
            "bases": [str(p) for p in result.bases],
        }
        click.echo(json.dumps(report, indent=2))
        sys.exit(max([e.exit_code for e in result.errors], default=EXIT_OK))
    if fmt == "github":  # the annotations are the report: stderr says only how many (GitHub logs both)
        for warning in result.context.warnings:
            click.echo(_github_line("warning", warning.to_json()))
        for error in result.errors:
            click.echo(_github_line("error", error.to_json()))
        if result.errors:
            _echo_err(f"dcmspec: {len(result.errors)} error(s), {len(result.context.warnings)} warning(s)")
            sys.exit(max(e.exit_code for e in result.errors))
        code = EXIT_OK
    else:
        code = _report(result, quiet=False, writes=False)
    if code == EXIT_OK and fast:
        _echo_err(
            f"dcmspec: {len(paths)} spec(s) pass the fast check (objects not built: `dcmspec validate`"
            " without --fast checks completely)"
        )
    elif code == EXIT_OK:
        _echo_err(f"dcmspec: {len(paths)} spec(s) valid, {len(result.objects)} object(s) would be written")
    sys.exit(code)


@main.command()
@click.argument("kind", required=False)
@click.option("--list", "list_kinds", is_flag=True, help="List the spec kinds.")
@click.option(
    "--bundle",
    is_flag=True,
    help="One self-contained schema (the shared definitions copied in): the form to give editors.",
)
def schema(kind: str | None, list_kinds: bool, bundle: bool) -> None:
    """Print the JSON Schema of spec KIND (or `definitions`)."""
    from .validate.schemas import KINDS, bundled_schema, schema_text

    if list_kinds or not kind:
        for name in KINDS:
            click.echo(name)
        return
    match = {k.lower(): k for k in [*KINDS, "definitions"]}.get(kind.lower())
    if match is None:
        raise click.BadParameter(f"unknown kind {kind!r}; known: {', '.join(KINDS)}, definitions", param_hint="KIND")
    if bundle and match != "definitions":
        click.echo(json.dumps(bundled_schema(match), indent=2, ensure_ascii=False))
        return
    click.echo(schema_text(match), nl=False)


@main.command()
@click.argument("kind")
@click.option(
    "-o",
    "--output",
    "target",
    type=click.Path(path_type=Path),
    help="Write the starter spec to this file (refuses to overwrite) instead of stdout.",
)
@click.option(
    "--type",
    "type_",
    metavar="TYPE",
    help="The starter of one type of the kind (PresentationState: grayscale, color, pseudocolor, blending).",
)
def new(kind: str, target: Path | None, type_: str | None) -> None:
    """Print a commented starter spec of KIND."""
    from .starters import STARTER_TYPES, STARTERS, starter_text

    match = {k.lower(): k for k in STARTERS}.get(kind.lower())
    if match is None:
        raise click.BadParameter(f"unknown kind {kind!r}; known: {', '.join(STARTERS)}", param_hint="KIND")
    types = STARTER_TYPES.get(match, {})
    if type_ is not None and type_.lower() not in types:
        known = f"its types: {', '.join(types)}" if types else f"{match} has no types"
        raise click.BadParameter(f"no starter of type {type_!r} for {match}; {known}", param_hint="--type")
    text = starter_text(match, type_.lower() if type_ is not None else None)
    if target is None:
        click.echo(text, nl=False)
        return
    try:
        with open(target, "x", encoding="utf-8") as fh:
            fh.write(text)
    except FileExistsError:
        _echo_err(f"{target}: exists already; choose another name")
        sys.exit(EXIT_OUTPUT)
    except OSError as exc:
        _echo_err(f"{target}: cannot write: {exc.strerror}")
        sys.exit(EXIT_OUTPUT)
    _echo_err(f"wrote {target}")


if __name__ == "__main__":  # pragma: no cover
    main()
