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


def starter_text(kind: str) -> str:
    return (Path(__file__).parent / STARTERS[kind]).read_text(encoding="utf-8")
