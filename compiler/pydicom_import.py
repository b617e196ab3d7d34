"""Importing pydicom without its test-data downloader's optional dependencies.

``import pydicom`` imports ``requests`` and ``tqdm`` when they are installed, only for
``pydicom.data.download`` (fetching pydicom's own test files, which dcmspec never does; pydicom falls
back to ``urllib`` without them). In an environment that has requests that is about 0.05-0.1 s of every
start (``bench/README.md``, "Start-up"). :func:`without_downloader` hides the two from that first import
and nothing else: they import normally afterwards.

The downloader also imports ``urllib.request`` (with ``http.client``, ``email``, ``ssl``, ``socket``: about
0.015-0.02 s of CPU) and uses it only inside its download functions. During pydicom's first import that
module is made lazy (:class:`importlib.util.LazyLoader`): created at once, run on its first use or the
next ``import urllib.request``, so whoever needs it gets the same module.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from types import ModuleType

_DOWNLOADER_ONLY = ("requests", "tqdm")
#: Modules pydicom imports for its downloader only: loaded lazily (on first use) while pydicom loads.
_DEFERRED = ("urllib.request",)


class _DeferredFinder:
    """A meta path finder that returns the modules of ``_DEFERRED`` with a lazy loader, once each."""

    def __init__(self) -> None:
        self.pending = {name for name in _DEFERRED if name not in sys.modules}

    def find_spec(self, name: str, path: object = None, target: object = None) -> importlib.machinery.ModuleSpec | None:
        if name not in self.pending:
            return None
        self.pending.discard(name)  # importlib.util.find_spec below asks this finder again
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader = importlib.util.LazyLoader(spec.loader)
        return spec


@contextmanager
def without_downloader() -> Iterator[None]:
    """Run the block (a command that may import pydicom first) with requests and tqdm unimportable,
    unless pydicom is imported already (then nothing changes)."""
    if "pydicom" in sys.modules:
        yield
        return
    hidden = [name for name in _DOWNLOADER_ONLY if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # "import name" raises ImportError
    deferred = _DeferredFinder()
    sys.meta_path.insert(0, deferred)
    try:
        yield
    finally:
        if deferred in sys.meta_path:
            sys.meta_path.remove(deferred)
        for name in hidden:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]


def import_requests() -> ModuleType:
    """``requests`` for the PACS clients (DICOMweb sources, STOW-RS): pydicom is imported first (so it
    still skips its downloader), then the placeholder :func:`without_downloader` left is removed."""
    import pydicom  # noqa: F401

    for name in _DOWNLOADER_ONLY:
        if name in sys.modules and sys.modules[name] is None:
            del sys.modules[name]
    import requests

    return requests
