"""Importing pydicom without its test-data downloader's optional dependencies.

``import pydicom`` imports ``requests`` and ``tqdm`` when they are installed, only for
``pydicom.data.download`` (fetching pydicom's own test files, which dcmspec never does; pydicom falls
back to ``urllib`` without them). In an environment that has requests that is about 0.05-0.1 s of every
start (``bench/README.md``, "Start-up"). :func:`without_downloader` hides the two from that first import
and nothing else: they import normally afterwards.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

_DOWNLOADER_ONLY = ("requests", "tqdm")


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
    try:
        yield
    finally:
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
