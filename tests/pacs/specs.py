"""Specs over the shared CT and MR series, with ``sources.images`` given as files or as a DICOMweb origin."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import yaml
from click.testing import CliRunner

from dcmspec_compiler.cli import main

from conftest import shared

CT, MR = "ct_dcmqi_ct-3slice", "mr_dcmqi_701-ADCb500"


def series_uids(name: str) -> tuple[str, str]:
    """(Study, Series Instance UID) of a shared series."""
    ds = pydicom.dcmread(sorted(shared("series", name).iterdir())[0], stop_before_pixels=True)
    return str(ds.StudyInstanceUID), str(ds.SeriesInstanceUID)


def images(name: str, dicomweb: str | None) -> Any:
    """``sources.images`` for a shared series: its folder, or its place in the PACS at ``dicomweb``."""
    if dicomweb is None:
        return str(shared("series", name))
    study, series = series_uids(name)
    return {"dicomweb": dicomweb, "study": study, "series": series}


def write_specs(folder: Path, dicomweb: str | None = None) -> list[Path]:
    """A Segmentation and a Grayscale Softcopy Presentation State of the CT, a Comprehensive SR and a Key
    Object Selection of the MR."""
    folder.mkdir(parents=True, exist_ok=True)
    mask = np.zeros((3, 512, 512), np.uint8)
    mask[1, 200:260, 180:250] = 1
    np.save(folder / "mask.npy", mask)
    specs = {
        "seg-ct": {
            "dcmspec": 1,
            "kind": "Segmentation",
            "id": "seg-ct",
            "sources": {"images": images(CT, dicomweb)},
            "segmentation": {"type": "BINARY", "mask": "mask.npy"},
            "segments": [
                {
                    "number": 1,
                    "label": "Lesion",
                    "category": 'SCT:49755003 "Morphologically Abnormal Structure"',
                    "type": 'SCT:4147007 "Mass"',
                    "algorithm": {"type": "MANUAL"},
                }
            ],
        },
        "sr-mr": {
            "dcmspec": 1,
            "kind": "StructuredReport",
            "id": "sr-mr",
            "document_class": "Comprehensive",
            "sources": {"images": images(MR, dicomweb)},
            "content": {
                "type": "CONTAINER",
                "name": 'LN:18748-4 "Diagnostic Imaging Report"',
                "children": [
                    {
                        "type": "TEXT",
                        "relationship": "CONTAINS",
                        "name": 'DCM:121071 "Finding"',
                        "value": "Nothing seen.",
                        "children": [{"type": "IMAGE", "relationship": "INFERRED FROM", "reference": 5}],
                    }
                ],
            },
        },
        "kos-mr": {
            "dcmspec": 1,
            "kind": "KeyObjectSelection",
            "id": "kos-mr",
            "sources": {"images": images(MR, dicomweb)},
            "title": 'DCM:113000 "Of Interest"',
            "selection": [{"image": 2}, {"image": 7}],
        },
        "pr-ct": {
            "dcmspec": 1,
            "kind": "PresentationState",
            "id": "pr-ct",
            "type": "grayscale",
            "sources": {"images": images(CT, dicomweb)},
            "window": "ct-abdomen",
            "layers": [{"name": "MARKS", "order": 1}],
            "annotations": [
                {"from_segmentation": {"spec": "seg-ct"}},
                {
                    "layer": "MARKS",
                    "image": 2,
                    "graphics": [{"type": "CIRCLE", "points": [[215.5, 230.5], [215.5, 250.5]]}],
                },
            ],
        },
    }
    paths = []
    for name, spec in specs.items():
        path = folder / f"{name}.yaml"
        path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
        paths.append(path)
    return paths


def dcmspec(*args: str | Path, env: dict[str, str] | None = None):
    """Run ``dcmspec`` in this process; the click result (exit_code, stdout, stderr)."""
    return CliRunner().invoke(main, [str(a) for a in args], env=env)
