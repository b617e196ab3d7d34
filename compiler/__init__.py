"""dcmspec: a declarative compiler for DICOM derived objects.

The builder layer (``dcmspec.iods``), ``dcmspec.spatial.Volume`` and the transformers are the Python
API; the pipeline stages are ``load`` -> ``validate`` -> ``resolve`` -> ``build`` -> ``write``.
The names below are imported on first use, so ``dcmspec --help`` starts fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "Segmentation": "dcmspec.iods.seg",
    "SegmentDescription": "dcmspec.iods.seg",
    "segread": "dcmspec.iods.seg",
    "MeasurementReport": "dcmspec.iods.sr",
    "read_document": "dcmspec.iods.sr",
    "Volume": "dcmspec.spatial",
    "FrameReader": "dcmspec.io.frames",
    "build_specs": "dcmspec.pipeline",
    "compile_specs": "dcmspec.pipeline",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'dcmspec' has no attribute {name!r}")


__all__ = ["__version__", *_LAZY]
