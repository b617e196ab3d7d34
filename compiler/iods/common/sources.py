"""What a derived image (Segmentation, Parametric Map) needs to know about its source images: frames, geometry,
references."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydicom.charset import default_encoding
from pydicom.datadict import keyword_dict as keyword_tags
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag

from ...errors import DicomConformanceError
from .functional_groups import frame_group, frame_items
from .modules import InstanceReference
from .source_frame import SourceFrame, ds_strings
from .vr import canonical_ds

if TYPE_CHECKING:
    from pydicom.dataelem import DataElement


@dataclass
class SourceSet:
    frames: list[SourceFrame]
    rows: int
    columns: int
    frame_of_reference_uid: str | None
    position_reference_indicator: str | None
    study_instance_uid: str
    datasets: list[Dataset]
    multi_frame: bool

    @property
    def has_geometry(self) -> bool:
        return self.frame_of_reference_uid is not None and all(f.has_geometry for f in self.frames)

    def instance_references(self) -> list[InstanceReference]:
        """Every source instance, in source order, for the Common Instance Reference module (C.12.2); the
        UIDs are read from the raw header values (no pydicom conversion per source)."""
        return [
            InstanceReference(
                _uid(ds, "StudyInstanceUID"),
                _uid(ds, "SeriesInstanceUID"),
                _uid(ds, "SOPClassUID"),
                _uid(ds, "SOPInstanceUID"),
            )
            for ds in self.datasets
        ]


_REQUIRED = tuple(
    (kw, BaseTag(keyword_tags[kw]))
    for kw in ("SOPClassUID", "SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID", "Rows", "Columns")
)
#: Tags of the keywords read per source, as the ``BaseTag`` keys of ``Dataset._dict``: looked up with an
#: ``int`` (or through ``Dataset.get_item``) each lookup converted the key with pydicom's ``Tag()``, some
#: 4000 times for a 300-slice series.
_TAGS = {
    kw: BaseTag(keyword_tags[kw])
    for kw in (
        "SOPClassUID",
        "SOPInstanceUID",
        "StudyInstanceUID",
        "SeriesInstanceUID",
        "FrameOfReferenceUID",
        "Rows",
        "Columns",
        "ImagePositionPatient",
        "ImageOrientationPatient",
        "PixelSpacing",
        "SliceThickness",
        "SpacingBetweenSlices",
    )
}


def _element(ds: Dataset, keyword: str) -> DataElement | RawDataElement | None:
    """``ds.get_item(keyword)`` without its key conversion: the element as stored, raw until read (a
    deferred value not yet read is left to the callers' pydicom fallback, which reads it)."""
    tag = _TAGS.get(keyword)
    return ds.get_item(keyword_tags[keyword]) if tag is None else ds._dict.get(tag)


def _raw_text(ds: Dataset, keyword: str) -> tuple[str, ...] | Literal[False] | None:
    """The values of a not yet converted text element straight from its bytes (stripped, split on
    backslashes), ``None`` when absent, ``False`` when pydicom has to convert it (already converted, empty,
    not ASCII). Reading 300 headers this way skips ~4000 value conversions."""
    elem = _element(ds, keyword)  # raw until read
    if elem is None:
        return None
    if not isinstance(elem, RawDataElement) or not isinstance(elem.value, bytes) or not elem.value.strip(b" \0"):
        return False
    try:
        text = elem.value.decode("ascii")
    except UnicodeDecodeError:
        return False
    return tuple(v.strip(" \0") for v in text.rstrip(" \0").split("\\"))


def _strings(ds: Dataset, keyword: str) -> tuple[str, ...] | None:
    raw = _raw_text(ds, keyword)
    return _canonical(ds.get(keyword)) if raw is False else raw and tuple(canonical_ds(v) for v in raw)


def _first(ds: Dataset, keyword: str) -> str | None:
    raw = _raw_text(ds, keyword)
    return _single(ds.get(keyword)) if raw is False else (canonical_ds(raw[0]) if raw else None)


def _canonical(value: object) -> tuple[str, ...] | None:
    """The DS values of an element in their shortest form (``vr.canonical_ds``): the same strings whether the
    header came from a file or as DICOM JSON numbers from a PACS."""
    strings = ds_strings(value)
    return None if strings is None else tuple(canonical_ds(v) for v in strings)


def _single(value: object) -> str | None:
    t = _canonical(value)
    return t[0] if t else None


def _uid(ds: Dataset, keyword: str) -> str:
    """``str(ds.<keyword>)`` of a UI element, decoded from its raw bytes as pydicom's ``convert_UI`` does
    (default character set, trailing NULs and spaces removed) while pydicom has not converted it."""
    elem = _element(ds, keyword)  # raw until read
    if (
        type(elem) is RawDataElement
        and elem.VR in ("UI", None)
        and isinstance(elem.value, bytes)
        and b"\\" not in elem.value
    ):
        return elem.value.decode(default_encoding).rstrip("\0 ")
    return str(ds[keyword].value)


def _optional_uid(ds: Dataset, keyword: str) -> str | None:
    """``ds.get(keyword) or None`` of a UI element, from its raw bytes (as :func:`_uid`) while unconverted."""
    elem = _element(ds, keyword)  # raw until read
    if elem is None:
        return None
    if type(elem) is RawDataElement and isinstance(elem.value, bytes):
        return _uid(ds, keyword) or None
    return ds.get(keyword) or None


def _us(ds: Dataset, keyword: str) -> int:
    """``int(ds.<keyword>)`` of a single US value, from its raw bytes while pydicom has not converted it."""
    elem = _element(ds, keyword)  # raw until read
    if (
        type(elem) is RawDataElement
        and elem.VR in ("US", None)
        and elem.is_little_endian
        and isinstance(elem.value, bytes)
        and len(elem.value) == 2
    ):
        return int.from_bytes(elem.value, "little")
    return int(ds[keyword].value)


def analyze_sources(source_images: Dataset | Sequence[Dataset]) -> SourceSet:
    """Check and describe the source images: one multi-frame image or single-frame images in frame order."""
    if isinstance(source_images, Dataset):
        source_images = [source_images]
    sources = list(source_images)
    if not sources:
        raise DicomConformanceError("a Segmentation needs at least one source image")
    for i, ds in enumerate(sources):
        if not isinstance(ds, Dataset):
            raise DicomConformanceError(f"source image {i} is not a pydicom Dataset")
        for kw, tag in _REQUIRED:
            if tag not in ds._dict:  # ``kw in ds`` without pydicom's keyword lookup per source
                raise DicomConformanceError(f"source image {i} has no {kw}")
    n_frames = [int(ds.get("NumberOfFrames", 1) or 1) for ds in sources]
    multi = len(sources) == 1 and ("PerFrameFunctionalGroupsSequence" in sources[0] or n_frames[0] > 1)
    if len(sources) > 1 and any(n > 1 for n in n_frames):
        raise DicomConformanceError("source images must be either single-frame images or one multi-frame image")
    uids = [_uid(ds, "SOPInstanceUID") for ds in sources]
    if len(set(uids)) != len(uids):
        raise DicomConformanceError("source images contain the same SOP Instance UID more than once")
    rows, cols = _us(sources[0], "Rows"), _us(sources[0], "Columns")
    for ds in sources[1:]:
        if (_us(ds, "Rows"), _us(ds, "Columns")) != (rows, cols):
            raise DicomConformanceError(
                f"source images differ in size: {rows}x{cols} and {int(ds.Rows)}x{int(ds.Columns)}"
                " (Rows x Columns); a Segmentation frame matches its source frame"
            )
    studies = {_uid(ds, "StudyInstanceUID") for ds in sources}
    if len(studies) > 1:
        raise DicomConformanceError("source images belong to different studies (Study Instance UID)")
    fors = {_optional_uid(ds, "FrameOfReferenceUID") for ds in sources}
    if len(fors) > 1:
        raise DicomConformanceError(
            "source images have different Frame of Reference UIDs (0020,0052); a Segmentation has one"
            " frame of reference"
        )
    for_uid = fors.pop()
    pri = None
    for ds in sources:
        if ds.get("PositionReferenceIndicator"):
            pri = str(ds.PositionReferenceIndicator)
            break

    frames: list[SourceFrame] = []
    if not multi:
        for ds, uid in zip(sources, uids):
            frames.append(
                SourceFrame(
                    sop_class_uid=_uid(ds, "SOPClassUID"),
                    sop_instance_uid=uid,
                    frame_number=None,
                    position=_strings(ds, "ImagePositionPatient"),
                    orientation=_strings(ds, "ImageOrientationPatient"),
                    spacing=_strings(ds, "PixelSpacing"),
                    thickness=_first(ds, "SliceThickness"),
                    spacing_between_slices=_first(ds, "SpacingBetweenSlices"),
                )
            )
    else:
        ds = sources[0]
        per_frame = ds.get("PerFrameFunctionalGroupsSequence") or []
        shared = frame_items(ds, None)[1]
        n = n_frames[0]
        if per_frame and len(per_frame) != n:
            raise DicomConformanceError(
                f"source image has {len(per_frame)} Per-frame Functional Groups items for {n} frames"
            )
        for f in range(n):
            pf = per_frame[f] if per_frame else None

            def look(group_kw: str, attr: str, pf: Dataset | None = pf) -> Any:
                g = frame_group(pf, shared, group_kw, attr)
                return ds.get(attr) if g is None else g.get(attr)

            frames.append(
                SourceFrame(
                    sop_class_uid=str(ds.SOPClassUID),
                    sop_instance_uid=str(ds.SOPInstanceUID),
                    frame_number=f + 1,
                    position=_canonical(look("PlanePositionSequence", "ImagePositionPatient")),
                    orientation=_canonical(look("PlaneOrientationSequence", "ImageOrientationPatient")),
                    spacing=_canonical(look("PixelMeasuresSequence", "PixelSpacing")),
                    thickness=_single(look("PixelMeasuresSequence", "SliceThickness")),
                    spacing_between_slices=_single(look("PixelMeasuresSequence", "SpacingBetweenSlices")),
                )
            )
    return SourceSet(
        frames=frames,
        rows=rows,
        columns=cols,
        frame_of_reference_uid=for_uid,
        position_reference_indicator=pri,
        study_instance_uid=studies.pop(),
        datasets=sources,
        multi_frame=multi,
    )
