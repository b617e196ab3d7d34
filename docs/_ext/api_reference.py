"""The API reference pages, generated from the packages' ``__all__`` at docs build time.

- ``dcmspec_compiler`` and ``dcmspec_compiler.iods``: a table of their names, each linked to its entry;
- every subpackage of ``dcmspec_compiler.iods`` (found with :mod:`pkgutil`, so a new IOD package gets its page
  with no change here) and ``dcmspec_compiler.spatial``: one autodoc entry per name of its ``__all__``; a
  subpackage without ``__all__`` (``iods.common``) gets every public member of each of its modules.

``tests/test_docs.py`` checks that every public name has an entry and that every IOD class has an example.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path
from types import ModuleType
from typing import Any

import pydicom

TOP = "dcmspec_compiler"
IODS = "dcmspec_compiler.iods"
#: the other builder-layer modules, and those the public names' signatures use
EXTRA_PACKAGES = (
    "dcmspec_compiler.spatial",
    "dcmspec_compiler.io",
    "dcmspec_compiler.pipeline",
    "dcmspec_compiler.assemble.context",
    "dcmspec_compiler.load.document",
    "dcmspec_compiler.load.templates:ParameterValue",
    "dcmspec_compiler.write.output:BuiltObject",
    "dcmspec_compiler.assemble.executors:ExecutorChoice",
    "dcmspec_compiler.errors",
)


def iod_packages() -> list[str]:
    package = importlib.import_module(IODS)
    return [f"{IODS}.{info.name}" for info in pkgutil.iter_modules(package.__path__) if info.ispkg]


def documented_modules() -> list[str]:
    """Module pages: the IOD subpackages, then the other builder-layer packages."""
    return [*iod_packages(), *EXTRA_PACKAGES]


def public_names(module: ModuleType) -> list[str]:
    """``__all__``, or the classes and functions a module defines and the constants it documents (``#:``)."""
    names = getattr(module, "__all__", None)
    if names is not None:
        return list(names)
    constants = _documented_constants(module)
    constants |= set(vars(module).get("__annotations__", {}))  # annotated module-level names
    return [
        name
        for name, obj in vars(module).items()
        if not name.startswith("_")
        and (
            name in constants
            or (
                getattr(obj, "__module__", None) == module.__name__
                and (inspect.isclass(obj) or inspect.isfunction(obj))
            )
        )
    ]


def _documented_constants(module: ModuleType) -> set[str]:
    """Module-level names with a doc comment (``#:`` above) or a docstring (a string right below), as
    autodoc reads them."""
    try:
        source = inspect.getsource(module)
    except (OSError, TypeError):  # no source (a compiled module)
        return set()
    lines = source.splitlines()
    body = ast.parse(source).body
    names = set()
    for i, node in enumerate(body):
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            nxt = body[i + 1] if i + 1 < len(body) else None
            documented = (node.lineno >= 2 and lines[node.lineno - 2].lstrip().startswith("#:")) or (
                isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant) and isinstance(nxt.value.value, str)
            )
            if documented:
                names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def _directive(obj: Any) -> str:
    if inspect.isclass(obj):
        return "autoclass"
    if inspect.isfunction(obj) or inspect.isbuiltin(obj):
        return "autofunction"
    return "autodata"


def _submodules(module: ModuleType) -> list[ModuleType]:
    return [
        importlib.import_module(f"{module.__name__}.{info.name}")
        for info in pkgutil.iter_modules(getattr(module, "__path__", []))
    ]


def _entries(module_name: str) -> list[tuple[str, Any]]:
    """(documented dotted name, object) of one module page: its ``__all__``, then the public members of its
    modules that ``__all__`` does not re-export (or of the module itself, for a plain module). ``module:A,B``
    is a module of which only A and B are documented (types that public signatures use)."""
    module_name, _, only = module_name.partition(":")
    module = importlib.import_module(module_name)
    if only:
        return [(f"{module_name}.{name}", getattr(module, name)) for name in only.split(",")]
    out = [(f"{module_name}.{name}", getattr(module, name)) for name in getattr(module, "__all__", [])]
    exported = {id(obj) for _, obj in out}
    for sub in _submodules(module) if hasattr(module, "__path__") else [module]:
        if sub is module and out:
            break
        out += [
            (f"{sub.__name__}.{name}", getattr(sub, name))
            for name in public_names(sub)
            if id(getattr(sub, name)) not in exported
        ]
    return out


def registry() -> dict[str, Any]:
    """Every documented dotted name -> its object, over all module pages."""
    return {name: obj for module in documented_modules() for name, obj in _entries(module)}


def _title(module: ModuleType) -> str:
    doc = inspect.getdoc(module) or ""
    return doc.splitlines()[0].rstrip(".") if doc else module.__name__


def _options(obj: Any) -> list[str]:
    if not inspect.isclass(obj):
        return []
    options = ["   :members:", "   :undoc-members:", "   :show-inheritance:"]
    if issubclass(obj, pydicom.Dataset):  # what it inherits from our classes, not pydicom's hundreds
        options.append("   :inherited-members: Dataset")
    return options


def render_module(module_name: str) -> str:
    """One page: the module's docstring, its ``__all__`` (documented under the package's name), then each
    of its modules with the public members ``__all__`` does not name."""
    if ":" in module_name:
        lines = [f"# `{module_name.partition(':')[0]}`\n", "```{eval-rst}"]
        for name, obj in _entries(module_name):
            lines += [f".. {_directive(obj)}:: {name}", *_options(obj), ""]
        return "\n".join([*lines, "```\n"])
    module = importlib.import_module(module_name)
    lines = [f"# `{module_name}`\n", "```{eval-rst}", f".. automodule:: {module_name}", "   :no-members:", ""]
    exported = set()
    for name in getattr(module, "__all__", []):
        obj = getattr(module, name)
        exported.add(id(obj))
        lines += [f".. {_directive(obj)}:: {module_name}.{name}", *_options(obj), ""]
    lines.append("```\n")
    if not hasattr(module, "__all__") and not hasattr(module, "__path__"):
        lines[4:4] = []
        lines.insert(3, "   :members:")
        lines.remove("   :no-members:")
        return "\n".join(lines)
    for sub in _submodules(module):
        names = [n for n in public_names(sub) if id(getattr(sub, n)) not in exported]
        lines += [f"## `{sub.__name__}`\n", "```{eval-rst}", f".. automodule:: {sub.__name__}", "   :no-members:", ""]
        for name in names:
            obj = getattr(sub, name)
            lines += [f".. {_directive(obj)}:: {sub.__name__}.{name}", *_options(obj), ""]
        lines.append("```\n")
    return "\n".join(lines)


def _table(package: str, documented: dict[str, Any]) -> str:
    module = importlib.import_module(package)
    rows = ["| name | documented as |", "|---|---|"]
    for name in module.__all__:
        obj = getattr(module, name)
        where = next((path for path, other in documented.items() if other is obj), None)
        rows.append(
            f"| `{package}.{name}` | {{py:obj}}`{where}` |"
            if where
            else f"| `{package}.{name}` | {{py:obj}}`{package}.{name}` (below) |"
        )
    return "\n".join(rows)


def render_index(documented: dict[str, Any]) -> str:
    top = importlib.import_module(TOP)
    iods = importlib.import_module(IODS)
    own = [n for n in top.__all__ if not any(o is getattr(top, n) for o in documented.values())]
    own_iods = [n for n in iods.__all__ if not any(o is getattr(iods, n) for o in documented.values())]
    lines = [
        "# API reference\n",
        "The builder layer: one class per IOD (a {py:class}`pydicom.dataset.Dataset` subclass whose "
        "constructor refuses what the standard forbids, with read-side methods), the shared modules, "
        "{py:class}`~dcmspec_compiler.spatial.Volume` and the transformers. Each entry cites the section "
        "of the standard it implements; each IOD class has an example that the docs build runs.\n",
        f"## `{TOP}`\n",
        "```{eval-rst}",
        f".. automodule:: {TOP}",
        "   :no-members:",
        "```\n",
        _table(TOP, documented),
        "",
    ]
    if own:
        lines += ["```{eval-rst}", *[f".. {_directive(getattr(top, n))}:: {TOP}.{n}\n" for n in own], "```\n"]
    lines += [
        f"## `{IODS}`\n",
        "```{eval-rst}",
        f".. automodule:: {IODS}",
        "   :no-members:",
        "```\n",
        _table(IODS, documented),
        "",
    ]
    if own_iods:
        lines += ["```{eval-rst}", *[f".. {_directive(getattr(iods, n))}:: {IODS}.{n}\n" for n in own_iods], "```\n"]
    lines += [
        "## Modules\n",
        "```{toctree}",
        ":maxdepth: 1",
        "",
        *(m.partition(":")[0] for m in documented_modules()),
        "```\n",
    ]
    return "\n".join(lines)


def write_pages(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    documented = registry()
    written = [folder / "index.md"]
    written[0].write_text(render_index(documented), encoding="utf-8")
    for module in documented_modules():
        path = folder / f"{module.partition(':')[0]}.md"
        path.write_text(render_module(module), encoding="utf-8")
        written.append(path)
    return written
