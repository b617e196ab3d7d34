"""Microscopy Bulk Simple Annotations (PS3.3 A.87): many simple annotations of a slide image, in arrays.

Modules written: Patient, Clinical Trial Subject, General Study, Patient Study (copied from the slide
image), Microscopy Bulk Simple Annotations Series (C.37.1.1, Modality ANN), Frame of Reference (3D
coordinates, the slide's), General and Enhanced General Equipment, Specimen (C.7.6.22, copied from the
slide image), Microscopy Bulk Simple Annotations (C.37.1.2), Common Instance Reference and SOP Common.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import pydicom
from pydicom.dataset import Dataset

from ...errors import DicomConformanceError
from ..common.concept import Code
from ..common.modules import (
    ContentIdentification,
    Equipment,
    InstanceReference,
    copy_patient_study,
    set_common_instance_reference,
    set_content_date_time,
    set_frame_of_reference,
    set_general_series,
    set_sop_common,
)
from ..common.native import set_native_encoding
from ..common.vr import check_object
from ..common.wrap import wrap_file_of_class
from .group import AnnotationGroup, annotation_problems

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["ANN_SOP_CLASS_UID", "WSI_SOP_CLASS_UID", "MicroscopyBulkSimpleAnnotations", "annread", "image_bounds"]

ANN_SOP_CLASS_UID = "1.2.840.10008.5.1.4.1.1.91.1"
WSI_SOP_CLASS_UID = "1.2.840.10008.5.1.4.1.1.77.1.6"
#: Specimen module (PS3.3 C.7.6.22) attributes copied from the slide image
SPECIMEN_MODULE = (
    "ContainerIdentifier",
    "IssuerOfTheContainerIdentifierSequence",
    "AlternateContainerIdentifierSequence",
    "ContainerTypeCodeSequence",
    "ContainerDescription",
    "ContainerComponentSequence",
    "SpecimenDescriptionSequence",
)
COORDINATE_TYPES = ("2D", "3D")


def _total_matrix(image: Dataset) -> tuple[int, int]:
    """(columns, rows) of the image's Total Pixel Matrix (its Columns/Rows when it has none)."""
    return (
        int(image.get("TotalPixelMatrixColumns") or image.Columns),
        int(image.get("TotalPixelMatrixRows") or image.Rows),
    )


def image_bounds(image: Dataset, coordinate_type: str) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(lowest, highest) coordinates inside the image: 2D (column, row) on the Total Pixel Matrix, 0,0 its
    top left corner (C.10.4); 3D slide (X, Y) mm of the matrix's footprint (C.8.12.2.1.1)."""
    columns, rows = _total_matrix(image)
    if coordinate_type == "2D":
        return np.array([0.0, 0.0]), np.array([float(columns), float(rows)])
    origin = image.TotalPixelMatrixOriginSequence[0]
    x0, y0 = float(origin.XOffsetInSlideCoordinateSystem), float(origin.YOffsetInSlideCoordinateSystem)
    orientation = [float(v) for v in image.get("ImageOrientationSlide") or (0, -1, 0, -1, 0, 0)]
    spacing = image.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0].PixelSpacing
    row_spacing, column_spacing = float(spacing[0]), float(spacing[1])
    along_row, along_column = np.array(orientation[:2]), np.array(orientation[3:5])
    corners = np.array([[c, r] for c in (0, columns) for r in (0, rows)], dtype=np.float64)
    xy = np.array([x0, y0]) + corners[:, :1] * column_spacing * along_row + corners[:, 1:] * row_spacing * along_column
    return xy.min(axis=0), xy.max(axis=0)


class MicroscopyBulkSimpleAnnotations(Dataset):
    """Microscopy Bulk Simple Annotations Storage (PS3.3 A.87) of one slide ``image``.

    ``groups`` are numbered 1, 2, ... in order; ``coordinate_type`` 2D (image pixels, relative to the Total
    Pixel Matrix) or 3D (slide mm). Points outside the image are refused.

    >>> import datetime, numpy as np
    >>> from pydicom.dataset import Dataset
    >>> from dcmspec_compiler.iods.ann import AnnotationGroup, Measurement, MicroscopyBulkSimpleAnnotations
    >>> from dcmspec_compiler.iods.common.concept import Code
    >>> from dcmspec_compiler.iods.common.modules import ContentIdentification, Equipment
    >>> slide = Dataset()
    >>> slide.update(dict(SOPClassUID="1.2.840.10008.5.1.4.1.1.77.1.6", SOPInstanceUID="2.25.10",
    ...     StudyInstanceUID="2.25.11", SeriesInstanceUID="2.25.12", FrameOfReferenceUID="2.25.13",
    ...     PatientID="P1", Rows=256, Columns=256, TotalPixelMatrixColumns=1024, TotalPixelMatrixRows=768))
    >>> nuclei = AnnotationGroup(number=1, uid="2.25.20", label="nuclei",
    ...     property_category=Code("91723000", "SCT", "Anatomical structure"),
    ...     property_type=Code("84640000", "SCT", "Nucleus"), graphic_type="POLYGON",
    ...     coordinates=np.array([[10, 10], [20, 10], [15, 18], [100, 50], [110, 55], [104, 62], [98, 58]]),
    ...     counts=[3, 4], measurements=[Measurement(Code("42798000", "SCT", "Area"),
    ...                                              Code("um2", "UCUM", "square micrometer"), [40.0, np.nan])])
    >>> ann = MicroscopyBulkSimpleAnnotations(slide, [nuclei], series_instance_uid="2.25.30", series_number=20,
    ...     sop_instance_uid="2.25.31", content=ContentIdentification(content_label="NUCLEI"),
    ...     created=datetime.datetime(2024, 1, 5, 12), equipment=Equipment("Lab", "Net", "1", "1"))
    >>> group = ann.groups(label="nuclei")[0]
    >>> group.counts().tolist(), group.coordinates()[1][0].tolist()
    ([3, 4], [100.0, 50.0])
    >>> group.measurements()[0].values.tolist()
    [40.0, nan]
    """

    SOP_CLASS_UID: ClassVar[str] = ANN_SOP_CLASS_UID

    def __init__(
        self,
        image: Dataset,
        groups: Sequence[AnnotationGroup],
        *,
        series_instance_uid: str,
        series_number: int,
        sop_instance_uid: str,
        content: ContentIdentification,
        created: _dt.datetime,
        equipment: Equipment,
        coordinate_type: str = "2D",
        series_description: str | None = None,
        check_bounds: bool = True,
        specific_character_set: str = "ISO_IR 192",
    ) -> None:
        super().__init__()
        if coordinate_type not in COORDINATE_TYPES:
            raise DicomConformanceError(f"Annotation Coordinate Type must be 2D or 3D, got {coordinate_type!r}")
        if "Rows" not in image or "SOPInstanceUID" not in image:
            raise DicomConformanceError("the annotations' image must be an image (it has no Rows or SOP Instance UID)")
        if not groups:
            raise DicomConformanceError("Annotation Group Sequence needs at least one group (PS3.3 C.37.1.2)")
        if coordinate_type == "3D" and not image.get("FrameOfReferenceUID"):
            raise DicomConformanceError("3D (slide) coordinates need the image's Frame of Reference UID")
        dims = 2 if coordinate_type == "2D" else 3
        bounds = image_bounds(image, coordinate_type) if check_bounds else None
        uids = set()
        for i, group in enumerate(groups):
            if group.number != i + 1:
                raise DicomConformanceError(
                    f"group {group.label!r} has number {group.number}; Annotation Group"
                    f" Numbers start at 1 and increase by 1 (it should be {i + 1})"
                )
            if group.uid in uids:
                raise DicomConformanceError(f"Annotation Group UID {group.uid} is used twice")
            uids.add(group.uid)
            points = group.points()
            if points.shape[1] != dims:
                raise DicomConformanceError(
                    f"group {group.label!r} has {points.shape[1]} coordinates per point;"
                    f" {coordinate_type} annotations have {dims}"
                )
            if bounds is not None:
                problems = annotation_problems(group.graphic_type, points, group.counts(), bounds)
                if problems:
                    index, message = problems[0]
                    raise DicomConformanceError(f"annotation {index + 1} of group {group.label!r}: {message}")
        # --- SOP Common, Patient, Study, Series, Frame of Reference, Equipment, Specimen --------------
        set_sop_common(
            self,
            sop_class_uid=self.SOP_CLASS_UID,
            sop_instance_uid=sop_instance_uid,
            created=created,
            specific_character_set=specific_character_set,
        )
        copy_patient_study(self, image)
        set_general_series(
            self,
            modality="ANN",
            series_instance_uid=series_instance_uid,
            series_number=series_number,
            series_description=series_description,
        )
        if coordinate_type == "3D":
            set_frame_of_reference(self, str(image.FrameOfReferenceUID), image.get("PositionReferenceIndicator"))
        equipment.apply(self, enhanced=True)
        for keyword in SPECIMEN_MODULE:
            if keyword in image:
                self[keyword] = image[keyword]
        if "ContainerIdentifier" not in self:
            self.ContainerIdentifier = None  # Type 2 (C.7.6.22)
        for keyword in ("IssuerOfTheContainerIdentifierSequence", "SpecimenDescriptionSequence"):
            if keyword not in self:
                setattr(self, keyword, [])
        # --- Microscopy Bulk Simple Annotations (C.37.1.2) ---------------------------------------
        content.apply(self)
        set_content_date_time(self, created)
        self.AnnotationCoordinateType = coordinate_type
        if coordinate_type == "2D":
            self.PixelOriginInterpretation = "VOLUME"
        reference = Dataset()
        reference.ReferencedSOPClassUID = str(image.SOPClassUID)
        reference.ReferencedSOPInstanceUID = str(image.SOPInstanceUID)
        self.ReferencedImageSequence = [reference]
        self.AnnotationGroupSequence = list(groups)
        # --- Common Instance Reference (C.12.2) ---------------------------------------------------
        set_common_instance_reference(
            self,
            [
                InstanceReference(
                    str(image.StudyInstanceUID),
                    str(image.SeriesInstanceUID),
                    str(image.SOPClassUID),
                    str(image.SOPInstanceUID),
                )
            ],
        )
        _decode_copied(self)
        check_object(self)
        set_native_encoding(self)

    # -- reading -------------------------------------------------------------------------------------
    @classmethod
    def from_dataset(cls, ds: Dataset) -> MicroscopyBulkSimpleAnnotations:
        """Wrap a dataset read from a file (an ANN object of any writer) for the read-side methods."""
        return wrap_file_of_class(cls, ds, ANN_SOP_CLASS_UID, "Microscopy Bulk Simple Annotations Storage")

    @property
    def coordinate_type(self) -> str:
        return str(self.AnnotationCoordinateType)

    @property
    def referenced_image_uid(self) -> str | None:
        seq = self.get("ReferencedImageSequence")
        return str(seq[0].ReferencedSOPInstanceUID) if seq else None

    def groups(
        self,
        *,
        label: str | None = None,
        property_type: Code | None = None,
        property_category: Code | None = None,
        graphic_type: str | None = None,
    ) -> list[AnnotationGroup]:
        """The annotation groups, those matching every criterion given."""
        out = []
        for item in self.get("AnnotationGroupSequence", []):
            group = item if isinstance(item, AnnotationGroup) else AnnotationGroup.from_dataset(item)
            if label is not None and group.label != label:
                continue
            if property_type is not None and group.property_type != property_type:
                continue
            if property_category is not None and group.property_category != property_category:
                continue
            if graphic_type is not None and group.graphic_type != graphic_type:
                continue
            out.append(group)
        return out

    def group(self, number: int) -> AnnotationGroup:
        for group in self.groups():
            if group.number == number:
                return group
        raise KeyError(f"no annotation group number {number}")


def _decode_copied(ds: Dataset) -> None:
    """Decode the elements of sequence items copied from the image header, which a header read may leave
    encoded (raw): the writer then sees plain values, as in everything else this class builds."""
    for elem in ds:  # iterating a Dataset decodes each element it yields
        if elem.VR == "SQ":
            for item in elem.value:
                _decode_copied(item)


def annread(source: str | Path | Dataset) -> MicroscopyBulkSimpleAnnotations:
    """Read a Microscopy Bulk Simple Annotations object (path or dataset); other SOP classes are refused."""
    ds = source if isinstance(source, Dataset) else pydicom.dcmread(str(source))
    return MicroscopyBulkSimpleAnnotations.from_dataset(ds)
