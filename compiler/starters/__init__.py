"""Commented starter specs printed by ``dcmspec new KIND`` (one YAML file per kind)."""

from __future__ import annotations

from pathlib import Path

#: kind -> starter file in this folder
STARTERS: dict[str, str] = {
    "Segmentation": "segmentation.yaml",
    "MeasurementReport": "measurement-report.yaml",
    "StructuredReport": "structured-report.yaml",
    "PresentationState": "presentation-state.yaml",
    "KeyObjectSelection": "key-object-selection.yaml",
    "SecondaryCapture": "secondary-capture.yaml",
    "MicroscopyAnnotations": "microscopy-annotations.yaml",
    "ParametricMap": "parametric-map.yaml",
}


#: kind -> its ``type`` values that have a starter of their own -> starter file (the first: the default)
STARTER_TYPES: dict[str, dict[str, str]] = {
    "PresentationState": {
        "grayscale": "presentation-state.yaml",
        "color": "presentation-state-color.yaml",
        "pseudocolor": "presentation-state-pseudocolor.yaml",
        "blending": "presentation-state-blending.yaml",
    },
}


def starter_text(kind: str, type_: str | None = None) -> str:
    """The starter of ``kind``, or of its ``type_`` (see :data:`STARTER_TYPES`); KeyError when none."""
    name = STARTERS[kind] if type_ is None else STARTER_TYPES[kind][type_]
    return (Path(__file__).parent / name).read_text(encoding="utf-8")
