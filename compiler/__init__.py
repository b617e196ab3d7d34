"""dcmspec: a declarative compiler for DICOM derived objects.

The builder layer (``dcmspec_compiler.iods``), ``dcmspec_compiler.spatial.Volume`` and the transformers are the Python
API; the pipeline stages are ``load`` -> ``validate`` -> ``resolve`` -> ``build`` -> ``write``.
The names below are imported on first use, so ``dcmspec --help`` starts fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"  # the one source of the version (pyproject.toml reads it)

_LAZY = {
    "Segmentation": "dcmspec_compiler.iods.seg",
    "SegmentDescription": "dcmspec_compiler.iods.seg",
    "segread": "dcmspec_compiler.iods.seg",
    "MeasurementReport": "dcmspec_compiler.iods.sr",
    "read_document": "dcmspec_compiler.iods.sr",
    "Volume": "dcmspec_compiler.spatial",
    "FrameReader": "dcmspec_compiler.io.frames",
    "build_specs": "dcmspec_compiler.pipeline",
    "compile_specs": "dcmspec_compiler.pipeline",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'dcmspec_compiler' has no attribute {name!r}")


__all__ = ["__version__"] + list(_LAZY)
