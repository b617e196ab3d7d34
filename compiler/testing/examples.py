"""Tiny image headers and identity arguments for the builder layer's docstring examples (>>> lines).

Each call gives the same values: a 64 x 64 CT slice, a 64 x 64 RGB secondary capture and a 32 x 32 PET slice
of one patient and study; :func:`identity` the series, instance, content and equipment arguments every
presentation state needs.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from pydicom.dataset import Dataset

from ..iods.common.uid import derive_uid

__all__ = ["ct_header", "identity", "pet_header", "rgb_header"]

_STUDY = derive_uid("examples", "study")


def _header(name: str, sop_class_uid: str, modality: str, size: int, samples: int = 1) -> Dataset:
    ds = Dataset()
    ds.SOPClassUID = sop_class_uid
    ds.SOPInstanceUID = derive_uid("examples", name, "instance")
    ds.StudyInstanceUID = _STUDY
    ds.SeriesInstanceUID = derive_uid("examples", name, "series")
    ds.FrameOfReferenceUID = derive_uid("examples", "frame-of-reference")
    ds.PatientName, ds.PatientID, ds.PatientBirthDate, ds.PatientSex = "Example^Patient", "EX1", "", ""
    ds.StudyDate, ds.StudyTime, ds.StudyID, ds.AccessionNumber = "20240103", "090000", "1", ""
    ds.ReferringPhysicianName = ""
    ds.Modality = modality
    ds.Rows = ds.Columns = size
    ds.SamplesPerPixel = samples
    ds.PhotometricInterpretation = "RGB" if samples == 3 else "MONOCHROME2"
    return ds


def ct_header() -> Dataset:
    """A 64 x 64 CT slice header (rescale to HU, a 40/400 window)."""
    ds = _header("ct", "1.2.840.10008.5.1.4.1.1.2", "CT", 64)
    ds.RescaleSlope, ds.RescaleIntercept, ds.RescaleType = 1, -1024, "HU"
    ds.WindowCenter, ds.WindowWidth = 40, 400
    ds.PixelSpacing = [0.75, 0.75]
    return ds


def pet_header() -> Dataset:
    """A 32 x 32 PET slice header of the same study (rescale to Bq/ml)."""
    ds = _header("pet", "1.2.840.10008.5.1.4.1.1.128", "PT", 32)
    ds.RescaleSlope, ds.RescaleIntercept = 2, 0
    ds.PixelSpacing = [1.5, 1.5]
    return ds


def rgb_header() -> Dataset:
    """A 64 x 64 RGB secondary capture header."""
    return _header("rgb", "1.2.840.10008.5.1.4.1.1.7", "OT", 64, samples=3)


def identity(**overrides: Any) -> dict[str, Any]:
    """Series, instance, content, date and equipment arguments of a presentation state."""
    from ..iods.common.modules import ContentIdentification, Equipment

    args: dict[str, Any] = {
        "series_instance_uid": derive_uid("examples", "pr-series"),
        "series_number": 1200,
        "sop_instance_uid": derive_uid("examples", "pr-instance"),
        "content": ContentIdentification(1, "EXAMPLE", "an example", "Doe^Jane"),
        "presentation_datetime": _dt.datetime(2024, 1, 3, 9, 30),
        "equipment": Equipment("Example Lab", "dcmspec", "1", "1"),
    }
    args.update(overrides)
    return args
