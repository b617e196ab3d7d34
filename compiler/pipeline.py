"""The compiler pipeline: load -> validate -> resolve -> build -> write.

:func:`compile_specs` runs everything short of writing (what ``dcmspec validate`` does);
:func:`build_specs` writes too (``dcmspec build``). Both collect every error of a spec before giving up
on it, and report errors of several specs together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from .build import builder_for
from .build.context import BuildContext, BuildOptions
from .errors import DcmspecError, ErrorList, InputError, Location, SpecError, flatten
from .load.document import SpecDocument
from .load.parse import load_file
from .validate.schemas import validate_document
from .write.output import BuiltObject, write_outputs

SPEC_SUFFIXES = (".yaml", ".yml", ".json")


def collect_spec_files(paths: Iterable[str | Path]) -> list[Path]:
    """Spec files named on the command line; a folder stands for the spec files directly inside it."""
    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in SPEC_SUFFIXES and p.is_file()
                           and not p.name.startswith("."))
            found = [p for p in found if _looks_like_spec(p)]
            if not found:
                raise InputError("no spec files (*.yaml, *.yml, *.json with `dcmspec: 1`) in this folder",
                                 location=Location(str(path)))
            out.extend(found)
        elif path.exists():
            out.append(path)
        else:
            raise InputError("spec file not found", location=Location(str(path)))
    return out


def _looks_like_spec(path: Path) -> bool:
    try:
        head = path.read_text(encoding="utf-8", errors="replace")[:4096]
    except OSError:
        return False
    return "dcmspec" in head


@dataclass
class CompileResult:
    objects: list[BuiltObject] = field(default_factory=list)
    errors: list[DcmspecError] = field(default_factory=list)
    context: BuildContext = field(default_factory=BuildContext)
    documents: list[SpecDocument] = field(default_factory=list)


def load_and_validate(path: Path) -> tuple[SpecDocument, str]:
    doc = load_file(path)
    kind = validate_document(doc)
    return doc, kind


def compile_specs(paths: Iterable[Path], options: BuildOptions | None = None,
                  progress: Callable[[str], None] | None = None) -> CompileResult:
    """Load, validate, resolve and build every spec; errors are collected, not raised."""
    result = CompileResult(context=BuildContext(options or BuildOptions()))
    for path in paths:
        try:
            doc, kind = load_and_validate(path)
            result.documents.append(doc)
            if progress:
                progress(f"building {path} ({kind})")
            result.objects.extend(builder_for(kind)(doc, result.context))
        except DcmspecError as exc:
            result.errors.extend(flatten(exc))
    return result


def build_specs(paths: Iterable[Path], out_dir: Path, *, options: BuildOptions | None = None,
                force: bool = False, progress: Callable[[str], None] | None = None) -> CompileResult:
    """Compile every spec and, when all succeeded, write the objects and the manifest."""
    result = compile_specs(paths, options, progress)
    if result.errors:
        return result
    try:
        write_outputs(result.objects, out_dir, force=force, progress=progress)
    except DcmspecError as exc:
        result.errors.extend(flatten(exc))
    return result


def raise_errors(errors: list[DcmspecError]) -> None:
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ErrorList(errors)


__all__ = ["collect_spec_files", "compile_specs", "build_specs", "CompileResult", "SpecError"]
