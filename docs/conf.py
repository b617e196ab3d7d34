"""Sphinx configuration of the dcmspec documentation (build: see docs/about.md)."""

from __future__ import annotations

import inspect
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

import api_reference  # noqa: E402  (docs/_ext)
import spec_reference  # noqa: E402

import dcmspec_compiler  # noqa: E402

project = "dcmspec"
author = "the dcmspec authors"
copyright = "the dcmspec authors"
release = version = dcmspec_compiler.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.doctest",
    "sphinx.ext.viewcode",
    "sphinx_click",
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build", "_ext"]
html_theme = "furo"
html_title = f"dcmspec {release}"

# MyST: GitHub-style heading anchors, so links between the guide's pages (docs/guide/) work here as on GitHub
myst_heading_anchors = 4
myst_enable_extensions = ["colon_fence"]
suppress_warnings: list[str] = []

# autodoc: signatures with their types; members in source order
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_typehints_format = "short"
autodoc_default_options = {"show-inheritance": False}

# Strict: a cross-reference that resolves to nothing is an error (with -W). References into other projects'
# documentation (pydicom, numpy, the standard library) are not checked here (no network at build time).
nitpicky = True
nitpick_ignore_regex = [
    (
        r"py:.*",
        r"(pydicom|numpy|np|click|jsonschema|yaml|datetime|_dt|pathlib|collections|typing|enum|"
        r"concurrent|contextlib|dataclasses|re|io|os)(\..*)?",
    ),
    (
        r"py:.*",
        r"(Path|Any|Callable|Iterable|Iterator|Sequence|Mapping|ClassVar|NamedTuple|Enum|IntEnum|"
        r"Dataset|FileDataset|DataElement|ndarray|NDArray|DTypeLike|ArrayLike|UID|PersonName|"
        r"MultiValue|BinaryIO|Literal|TypeVar|T|Self|DSfloat|IS|datetime|date|time|timedelta|"
        r"float|int|str|bytes|bool|object|tuple|list|dict|set|frozenset|type|None|"
        r"Exception|ValueError|TypeError|KeyError)",
    ),
    (r"py:.*", r"(dict|list|tuple|set|type|Sequence|Iterable|Mapping)\[.*"),  # sphinx splitting a generic
]

# private names (a leading underscore) and type variables are not part of the API
nitpick_ignore_regex.append((r"py:.*", r"(.*\.)?(_[A-Za-z]\w*|T)"))

# doctest: the examples in the IOD classes' docstrings run with the package imported
doctest_global_setup = "import dcmspec_compiler"


def _generate() -> None:
    """Write the generated pages (gitignored): the spec reference from schemas/, the API reference from the
    packages' __all__. Each folder is wholly generated: emptied first. (The user guide, docs/guide/, is
    written by hand.)"""
    for name, writer in (
        ("spec", spec_reference.write_pages),
        ("api", api_reference.write_pages),
    ):
        folder = HERE / name
        shutil.rmtree(folder, ignore_errors=True)
        writer(folder)


def _no_type_docstring(app, what, name, obj, options, lines) -> None:
    """A constant without a doc comment of its own would show its type's docstring (``dict``'s)."""
    doc = type(obj).__doc__
    if what in ("data", "attribute") and lines and isinstance(doc, str) and "\n".join(lines).strip() == doc.strip():
        lines.clear()


_DOCUMENTED: dict[int, str] = {}


def _documented_name(obj: object) -> str | None:
    if not _DOCUMENTED:
        _DOCUMENTED.update((id(o), name) for name, o in api_reference.registry().items())
    return _DOCUMENTED.get(id(obj))


def _python_target(module: str | None, klass: str | None, target: str) -> object | None:
    """The object a docstring's reference names, as Python would find it from the docstring's module (and
    class, and the modules of its bases): ``DicomConformanceError`` imported there, ``...io.bits`` relative to
    the module, ``.sr.read.measurement_groups`` re-exported elsewhere."""
    import contextlib
    import importlib
    import importlib.util
    import inspect

    target = target.lstrip("~")
    scopes: list[object] = []
    if module:
        if target.startswith(".."):  # Python's relative form
            try:
                target = importlib.util.resolve_name(target, module.rpartition(".")[0] or module)
            except ImportError:
                return None
        with contextlib.suppress(ImportError):
            scopes.append(importlib.import_module(module))
        if klass and scopes:
            cls = scopes[0]
            for part in klass.split("."):
                cls = getattr(cls, part, None)
            if inspect.isclass(cls):
                scopes[:0] = [cls, *filter(None, (inspect.getmodule(base) for base in cls.__mro__))]
    target = target.lstrip(".")
    for scope in scopes:
        obj: object | None = scope
        for part in target.split("."):
            obj = getattr(obj, part, None)
        if obj is not None:
            return obj
    head, _, tail = target.rpartition(".")
    try:
        return getattr(importlib.import_module(head), tail, None) if head else importlib.import_module(tail)
    except ImportError:
        return None


def _resolve_by_object(app, env, node, contnode):
    """A Python reference that names no documented path, but an object documented under another path (where
    the API exports it), is pointed there. A name that is no object (a typo, a removed function) still fails."""
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"]
    if node.get("refspecific") and target.startswith("."):  # Sphinx took the first dot of ``...io.bits``
        target = "." + target
    obj = _python_target(node.get("py:module"), node.get("py:class"), target)
    if inspect.ismodule(obj):
        name = obj.__name__ if obj.__name__ in env.get_domain("py").modules else None
    else:
        name = _documented_name(obj) if obj is not None else None
    if name is None:
        return None
    return env.get_domain("py").resolve_xref(env, node["refdoc"], app.builder, node["reftype"], name, node, contnode)


def setup(app) -> None:
    app.connect("autodoc-process-docstring", _no_type_docstring)
    app.connect("missing-reference", _resolve_by_object)


_generate()
