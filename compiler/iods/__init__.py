"""The builder layer: one class per IOD, each a :class:`pydicom.dataset.Dataset` subclass whose constructor
refuses what the standard forbids, and a reader for each (PS3.3 Annex A).

- :mod:`.seg`: Segmentation and Label Map Segmentation (A.51)
- :mod:`.sr`: SR documents (A.35) and the TID 1500 Measurement Report (PS3.16)
- :mod:`.kos`: Key Object Selection Document (A.35.4)
- :mod:`.pr`: Grayscale, Color, Pseudo-Color Softcopy and Advanced Blending Presentation States (A.33)
- :mod:`.pm`: Parametric Map (A.75)
- :mod:`.sc`: Secondary Capture Image and the multi-frame SC images (A.8)
- :mod:`.ann`: Microscopy Bulk Simple Annotations (A.87)
- :mod:`.common`: modules, codes, UIDs and the VR rules they share

The names below are imported on first use (``import dcmspec_compiler.iods`` loads no IOD package).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

#: name -> the subpackage that defines it: the IOD classes and their readers (add a new IOD's here)
_LAZY = {
    "Segmentation": "dcmspec_compiler.iods.seg",
    "segread": "dcmspec_compiler.iods.seg",
    "BasicTextSR": "dcmspec_compiler.iods.sr",
    "EnhancedSR": "dcmspec_compiler.iods.sr",
    "ComprehensiveSR": "dcmspec_compiler.iods.sr",
    "Comprehensive3DSR": "dcmspec_compiler.iods.sr",
    "MeasurementReport": "dcmspec_compiler.iods.sr",
    "read_document": "dcmspec_compiler.iods.sr",
    "KeyObjectSelectionDocument": "dcmspec_compiler.iods.kos",
    "kosread": "dcmspec_compiler.iods.kos",
    "GrayscaleSoftcopyPresentationState": "dcmspec_compiler.iods.pr",
    "ColorSoftcopyPresentationState": "dcmspec_compiler.iods.pr",
    "PseudoColorSoftcopyPresentationState": "dcmspec_compiler.iods.pr",
    "AdvancedBlendingPresentationState": "dcmspec_compiler.iods.pr",
    "prread": "dcmspec_compiler.iods.pr",
    "ParametricMap": "dcmspec_compiler.iods.pm",
    "pmread": "dcmspec_compiler.iods.pm",
    "SCImage": "dcmspec_compiler.iods.sc",
    "MultiFrameSCImage": "dcmspec_compiler.iods.sc",
    "scread": "dcmspec_compiler.iods.sc",
    "MicroscopyBulkSimpleAnnotations": "dcmspec_compiler.iods.ann",
    "annread": "dcmspec_compiler.iods.ann",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'dcmspec_compiler.iods' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = list(_LAZY)
