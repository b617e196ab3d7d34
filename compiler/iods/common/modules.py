"""Modules shared by every IOD dcmspec writes (PS3.3 C.7, C.12).

Each function fills one module of a dataset from typed arguments and checks what the module requires.
Derived objects copy the Patient, Clinical Trial Subject, General Study and Patient Study modules from
their source images (PS3.3 C.7.1.1, C.7.1.3, C.7.2.1, C.7.2.2): :func:`copy_patient_study`
(in :mod:`.patient_study`) does that, completing each module.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pydicom.dataset import Dataset
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, ExplicitVRLittleEndian

from ...errors import DicomConformanceError
from .patient_study import copy_patient_study as copy_patient_study  # defined with its module table there
from .uid import is_valid_uid


@dataclass(frozen=True)
class Equipment:
    """General Equipment (C.7.5.1) and Enhanced General Equipment (C.7.5.2) content."""

    manufacturer: str
    manufacturer_model_name: str
    software_versions: str | Sequence[str]
    device_serial_number: str
    institution_name: str | None = None
    institutional_department_name: str | None = None
    station_name: str | None = None

    def apply(self, ds: Dataset, *, enhanced: bool = True) -> None:
        """Set the equipment attributes; Enhanced General Equipment makes four of them Type 1."""
        if enhanced:
            for keyword, value in (
                ("Manufacturer", self.manufacturer),
                ("ManufacturerModelName", self.manufacturer_model_name),
                ("DeviceSerialNumber", self.device_serial_number),
                ("SoftwareVersions", self.software_versions),
            ):
                if not value:
                    raise DicomConformanceError(f"Enhanced General Equipment (PS3.3 C.7.5.2) requires {keyword}")
        ds.Manufacturer = self.manufacturer
        ds.ManufacturerModelName = self.manufacturer_model_name
        ds.DeviceSerialNumber = self.device_serial_number
        sw = self.software_versions
        ds.SoftwareVersions = list(sw) if not isinstance(sw, str) else sw
        if self.institution_name:
            ds.InstitutionName = self.institution_name
        if self.institutional_department_name:
            ds.InstitutionalDepartmentName = self.institutional_department_name
        if self.station_name:
            ds.StationName = self.station_name


def set_general_series(
    ds: Dataset,
    *,
    modality: str,
    series_instance_uid: str,
    series_number: int,
    series_description: str | None = None,
    laterality_empty: bool = False,
) -> None:
    """General Series module (C.7.3.1), with the modality fixed by the IOD."""
    _check_uid(series_instance_uid, "Series Instance UID")
    if not 0 <= int(series_number) <= 2**31 - 1:
        raise DicomConformanceError(f"Series Number {series_number} is not a valid IS value")
    ds.Modality = modality
    ds.SeriesInstanceUID = series_instance_uid
    ds.SeriesNumber = int(series_number)
    if series_description:
        ds.SeriesDescription = series_description
    if laterality_empty:
        ds.Laterality = None


def set_frame_of_reference(
    ds: Dataset, frame_of_reference_uid: str, position_reference_indicator: str | None = None
) -> None:
    """Frame of Reference module (C.7.4.1)."""
    _check_uid(frame_of_reference_uid, "Frame of Reference UID")
    ds.FrameOfReferenceUID = frame_of_reference_uid
    ds.PositionReferenceIndicator = position_reference_indicator or None


@dataclass(frozen=True)
class ContentIdentification:
    """Content Identification macro (PS3.3 Table 10-12)."""

    instance_number: int = 1
    content_label: str = "DCMSPEC"
    content_description: str | None = None
    content_creator_name: str | None = None

    def apply(self, ds: Dataset) -> None:
        label = self.content_label
        if (
            not label
            or len(label) > 16
            or label != label.upper()
            or not all(ch.isalnum() or ch in " _" for ch in label)
        ):
            raise DicomConformanceError(
                f"Content Label {label!r} must be a CS value: at most 16 upper-case letters, digits,"
                " spaces or underscores (PS3.5 6.2)"
            )
        ds.InstanceNumber = int(self.instance_number)
        ds.ContentLabel = label
        ds.ContentDescription = self.content_description or None
        ds.ContentCreatorName = self.content_creator_name or None


def dicom_date_time(moment: _dt.datetime) -> tuple[str, str]:
    """``(DA, TM)`` strings of ``moment``."""
    return moment.strftime("%Y%m%d"), moment.strftime("%H%M%S")


def set_content_date_time(ds: Dataset, moment: _dt.datetime) -> None:
    """Content Date and Content Time (e.g. General Image C.7.6.1, SR Document General C.17.2)."""
    ds.ContentDate, ds.ContentTime = dicom_date_time(moment)


def set_lossy_image_compression(ds: Dataset, sources: Iterable[Dataset]) -> None:
    """Lossy Image Compression of a derived image (General Image, PS3.3 C.7.6.1.1.5): ``01`` when any source
    image has been lossy compressed, with its Lossy Image Compression Ratio and Method each copied from the first
    source that has it; else ``00``."""
    sources = list(sources)
    lossy = any(str(src.get("LossyImageCompression", "00")) == "01" for src in sources)
    ds.LossyImageCompression = "01" if lossy else "00"
    if lossy:
        for src in sources:
            for kw in ("LossyImageCompressionRatio", "LossyImageCompressionMethod"):
                if kw in src and kw not in ds:
                    ds[kw] = src[kw]


def set_sop_common(
    ds: Dataset,
    *,
    sop_class_uid: str,
    sop_instance_uid: str,
    created: _dt.datetime | None = None,
    specific_character_set: str = "ISO_IR 192",
) -> None:
    """SOP Common module (C.12.1) and the file meta information that goes with it (PS3.10 7.1)."""
    _check_uid(sop_instance_uid, "SOP Instance UID")
    ds.SOPClassUID = sop_class_uid
    ds.SOPInstanceUID = sop_instance_uid
    ds.SpecificCharacterSet = specific_character_set
    if created is not None:
        ds.InstanceCreationDate, ds.InstanceCreationTime = dicom_date_time(created)
    meta = Dataset()
    meta.MediaStorageSOPClassUID = sop_class_uid
    meta.MediaStorageSOPInstanceUID = sop_instance_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    meta.ImplementationVersionName = "DCMSPEC_010"
    ds.file_meta = meta  # type: ignore[assignment]


def referenced_instance_item(
    sop_class_uid: str, sop_instance_uid: str, frame_numbers: Iterable[int] | None = None
) -> Dataset:
    """SOP Instance Reference macro (Table 10-11), with Referenced Frame Number when given."""
    item = Dataset()
    item.ReferencedSOPClassUID = sop_class_uid
    item.ReferencedSOPInstanceUID = sop_instance_uid
    if frame_numbers:
        item.ReferencedFrameNumber = [int(n) for n in frame_numbers]
    return item


@dataclass
class InstanceReference:
    """One referenced instance with its series and study (for hierarchical references)."""

    study_instance_uid: str
    series_instance_uid: str
    sop_class_uid: str
    sop_instance_uid: str
    frame_numbers: list[int] = field(default_factory=list)


def set_common_instance_reference(ds: Dataset, references: Iterable[InstanceReference]) -> None:
    """Common Instance Reference module (C.12.2).

    References in the object's own study go into Referenced Series Sequence; those of other studies
    into Studies Containing Other Referenced Instances Sequence. Order follows first appearance.
    """
    own_study = ds.StudyInstanceUID
    by_study: dict[str, dict[str, dict[str, InstanceReference]]] = {}
    for ref in references:
        series = by_study.setdefault(ref.study_instance_uid, {}).setdefault(ref.series_instance_uid, {})
        series.setdefault(ref.sop_instance_uid, ref)

    def series_items(series_map: dict[str, dict[str, InstanceReference]]) -> list[Dataset]:
        items = []
        for series_uid, instances in series_map.items():
            item = Dataset()
            item.ReferencedInstanceSequence = [
                referenced_instance_item(r.sop_class_uid, r.sop_instance_uid) for r in instances.values()
            ]
            item.SeriesInstanceUID = series_uid
            items.append(item)
        return items

    if own_study in by_study:
        ds.ReferencedSeriesSequence = series_items(by_study[own_study])
    others = []
    for study_uid, series_map in by_study.items():
        if study_uid == own_study:
            continue
        item = Dataset()
        item.ReferencedSeriesSequence = series_items(series_map)
        item.StudyInstanceUID = study_uid
        others.append(item)
    if others:
        ds.StudiesContainingOtherReferencedInstancesSequence = others


def _check_uid(value: str, name: str) -> None:
    if not is_valid_uid(value):
        raise DicomConformanceError(f"{name} {value!r} is not a valid UID (PS3.5 9.1)")
