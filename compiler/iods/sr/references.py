"""References from SR content items to other composite instances.

An IMAGE, COMPOSITE or WAVEFORM content item names only the SOP Class and SOP Instance (PS3.3 C.18.3);
the SR Document General module lists every referenced instance again, grouped by study and series
(PS3.3 C.17.2.3). :class:`Reference` carries the study and series UIDs the evidence needs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pydicom.dataset import Dataset
from pydicom.tag import BaseTag

from ...errors import DicomConformanceError
from ..common.codes import set_element
from ..common.uid import is_valid_uid

__all__ = ["Reference"]

REFERENCED_SOP_CLASS_UID, REFERENCED_SOP_INSTANCE_UID = BaseTag(0x00081150), BaseTag(0x00081155)
REFERENCED_FRAME_NUMBER, REFERENCED_SEGMENT_NUMBER = BaseTag(0x00081160), BaseTag(0x0062000B)


@dataclass(frozen=True)
class Reference:
    """One referenced composite instance, with what the evidence sequences need."""

    sop_class_uid: str
    sop_instance_uid: str
    series_instance_uid: str
    study_instance_uid: str
    frame_numbers: tuple[int, ...] = ()
    segment_numbers: tuple[int, ...] = ()
    modality: str | None = None

    def __post_init__(self) -> None:
        for name in ("sop_class_uid", "sop_instance_uid", "series_instance_uid", "study_instance_uid"):
            value = getattr(self, name)
            if not is_valid_uid(str(value)):
                raise DicomConformanceError(
                    f"reference {name.replace('_', ' ')} {value!r} is not a valid UID (PS3.5 9.1)"
                )
        object.__setattr__(self, "frame_numbers", _positive(self.frame_numbers, "Referenced Frame Number"))
        object.__setattr__(self, "segment_numbers", _positive(self.segment_numbers, "Referenced Segment Number"))
        if self.frame_numbers and self.segment_numbers:
            raise DicomConformanceError(
                "an IMAGE reference gives either Referenced Frame Number or Referenced Segment Number,"
                " not both (PS3.3 Table 10-3)"
            )

    @classmethod
    def from_dataset(
        cls, ds: Dataset, *, frame_numbers: Iterable[int] = (), segment_numbers: Iterable[int] = ()
    ) -> Reference:
        """The reference to ``ds`` (any composite instance header)."""
        missing = [
            k for k in ("SOPClassUID", "SOPInstanceUID", "SeriesInstanceUID", "StudyInstanceUID") if not ds.get(k)
        ]
        if missing:
            raise DicomConformanceError(f"cannot reference an instance without {', '.join(missing)}")
        frames = tuple(frame_numbers)
        n_frames = int(ds.get("NumberOfFrames") or 1)
        bad = [f for f in frames if int(f) > n_frames]
        if bad:
            raise DicomConformanceError(
                f"frame number(s) {bad} exceed Number of Frames {n_frames} of {ds.SOPInstanceUID}"
            )
        return cls(
            str(ds.SOPClassUID),
            str(ds.SOPInstanceUID),
            str(ds.SeriesInstanceUID),
            str(ds.StudyInstanceUID),
            frames,
            tuple(segment_numbers),
            ds.get("Modality") or None,
        )

    def with_frames(self, *frame_numbers: int) -> Reference:
        return Reference(
            self.sop_class_uid,
            self.sop_instance_uid,
            self.series_instance_uid,
            self.study_instance_uid,
            tuple(frame_numbers),
            (),
            self.modality,
        )

    def with_segments(self, *segment_numbers: int) -> Reference:
        return Reference(
            self.sop_class_uid,
            self.sop_instance_uid,
            self.series_instance_uid,
            self.study_instance_uid,
            (),
            tuple(segment_numbers),
            self.modality,
        )

    def sop_item(self) -> Dataset:
        """Referenced SOP Sequence item (PS3.3 Table 10-3 Image SOP Instance Reference Macro)."""
        item = Dataset()
        set_element(item, REFERENCED_SOP_CLASS_UID, "UI", self.sop_class_uid)
        set_element(item, REFERENCED_SOP_INSTANCE_UID, "UI", self.sop_instance_uid)
        if self.frame_numbers:
            set_element(item, REFERENCED_FRAME_NUMBER, "IS", list(self.frame_numbers))
        if self.segment_numbers:
            set_element(item, REFERENCED_SEGMENT_NUMBER, "US", list(self.segment_numbers))
        return item


def _positive(values: Iterable[int], name: str) -> tuple[int, ...]:
    out = tuple(int(v) for v in values)
    if any(v < 1 for v in out):
        raise DicomConformanceError(f"{name} values start at 1 (got {list(out)})")
    return out
