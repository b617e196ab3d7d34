"""Segment Description macro (PS3.3 C.8.20.4) as used in the Segment Sequence of the Segmentation
Image module (C.8.20.2)."""

from __future__ import annotations

from collections.abc import Sequence

from pydicom.dataset import Dataset

from ...errors import DicomConformanceError
from ..common.algorithm import AlgorithmIdentification
from ..common.codes import code_from_item, code_item
from ..common.color import check_rgb, dicom_lab_to_rgb, rgb_to_dicom_lab
from ..common.concept import Code, is_code
from ..common.uid import is_valid_uid
from ..common.wrap import wrap_dataset

ALGORITHM_TYPES = ("AUTOMATIC", "SEMIAUTOMATIC", "MANUAL")


def _lo(value: str, name: str, tag: str, *, required: bool = True) -> None:
    if required and not value:
        raise DicomConformanceError(f"{name} {tag} is Type 1 and must not be empty")
    if value and (len(value) > 64 or "\\" in value or any(ord(c) < 32 for c in value)):
        raise DicomConformanceError(
            f"{name} {tag} {value!r} is not a valid LO value: at most 64 characters, no backslash"
            " or control characters (PS3.5 6.2)"
        )


def _code(value: object, name: str) -> Code:
    if not is_code(value):
        raise DicomConformanceError(f"{name} needs a coded concept (pydicom Code), got {value!r}")
    return value


class SegmentDescription(Dataset):
    """One item of the Segment Sequence (0062,0002).

    Parameters mirror the attributes: ``segment_number`` (0062,0004), ``segment_label`` (0062,0005),
    ``segmented_property_category`` (0062,0003), ``segmented_property_type`` (0062,000F) with
    ``property_type_modifiers`` (0062,0011), ``algorithm_type`` (0062,0008) with ``algorithm``
    (Segment Algorithm Name (0062,0009) and Segmentation Algorithm Identification Sequence (0062,0007),
    both required unless the type is MANUAL, and refused for MANUAL), ``anatomic_region`` (0008,2218) with
    ``anatomic_region_modifiers`` (0008,2220), ``tracking_id`` (0062,0020) and ``tracking_uid``
    (0062,0021) (both or neither), ``display_color`` as sRGB 0-255 stored as Recommended Display
    CIELab Value (0062,000D), and ``description`` (Segment Description (0062,0006)).
    """

    def __init__(
        self,
        *,
        segment_number: int,
        segment_label: str,
        segmented_property_category: Code,
        segmented_property_type: Code,
        algorithm_type: str,
        algorithm: AlgorithmIdentification | None = None,
        property_type_modifiers: Sequence[Code] = (),
        anatomic_region: Code | None = None,
        anatomic_region_modifiers: Sequence[Code] = (),
        tracking_id: str | None = None,
        tracking_uid: str | None = None,
        display_color: Sequence[int] | None = None,
        description: str | None = None,
    ) -> None:
        super().__init__()
        if (
            isinstance(segment_number, bool)
            or not isinstance(segment_number, int)
            or not (1 <= segment_number <= 0xFFFF)
        ):
            raise DicomConformanceError(
                f"Segment Number (0062,0004) must be an integer 1-65535 (US), got {segment_number!r}"
            )
        _lo(segment_label, "Segment Label", "(0062,0005)")
        category = _code(segmented_property_category, "Segmented Property Category Code Sequence (0062,0003)")
        prop_type = _code(segmented_property_type, "Segmented Property Type Code Sequence (0062,000F)")
        algorithm_type = str(algorithm_type).upper()
        if algorithm_type not in ALGORITHM_TYPES:
            raise DicomConformanceError(
                f"Segment Algorithm Type (0062,0008) must be one of {', '.join(ALGORITHM_TYPES)},"
                f" got {algorithm_type!r}"
            )
        if algorithm_type != "MANUAL" and algorithm is None:
            raise DicomConformanceError(
                f"segment {segment_number}: Segment Algorithm Name (0062,0009) and Segmentation Algorithm"
                f" Identification Sequence (0062,0007) are required when Segment Algorithm Type is"
                f" {algorithm_type} (PS3.3 C.8.20.2); give the algorithm"
            )
        if algorithm_type == "MANUAL" and algorithm is not None:
            raise DicomConformanceError(
                f"segment {segment_number}: Segment Algorithm Name (0062,0009) is not allowed when Segment"
                " Algorithm Type is MANUAL (PS3.3 C.8.20.2); give no algorithm, or use SEMIAUTOMATIC"
            )
        if algorithm is not None and not isinstance(algorithm, AlgorithmIdentification):
            raise DicomConformanceError("algorithm must be an AlgorithmIdentification")
        if (tracking_id is None) != (tracking_uid is None):
            raise DicomConformanceError(
                f"segment {segment_number}: Tracking ID (0062,0020) and Tracking UID (0062,0021) are each"
                " required when the other is present (PS3.3 C.8.20.4); give both or neither"
            )
        if tracking_id is not None:
            _lo(tracking_id, "Tracking ID", "(0062,0020)")
            if not is_valid_uid(tracking_uid):  # type: ignore[arg-type]
                raise DicomConformanceError(f"Tracking UID (0062,0021) {tracking_uid!r} is not a valid UID")
        if description is not None and len(description) > 1024:
            raise DicomConformanceError("Segment Description (0062,0006) is an ST of at most 1024 characters")

        # elements in tag order does not matter for pydicom; set them plainly
        if anatomic_region is not None:
            region = code_item(_code(anatomic_region, "Anatomic Region Sequence (0008,2218)"))
            if anatomic_region_modifiers:
                region.AnatomicRegionModifierSequence = [
                    code_item(_code(m, "Anatomic Region Modifier Sequence (0008,2220)"))
                    for m in anatomic_region_modifiers
                ]
            self.AnatomicRegionSequence = [region]
        elif anatomic_region_modifiers:
            raise DicomConformanceError("Anatomic Region Modifier Sequence (0008,2220) needs an anatomic region")
        self.SegmentedPropertyCategoryCodeSequence = [code_item(category)]
        self.SegmentNumber = segment_number
        self.SegmentLabel = segment_label
        if description:
            self.SegmentDescription = description
        self.SegmentAlgorithmType = algorithm_type
        if algorithm is not None:
            self.SegmentAlgorithmName = algorithm.name
            self.SegmentationAlgorithmIdentificationSequence = [algorithm]
        if display_color is not None:
            self.RecommendedDisplayCIELabValue = list(rgb_to_dicom_lab(check_rgb(display_color)))
        type_item = code_item(prop_type)
        if property_type_modifiers:
            type_item.SegmentedPropertyTypeModifierCodeSequence = [
                code_item(_code(m, "Segmented Property Type Modifier Code Sequence (0062,0011)"))
                for m in property_type_modifiers
            ]
        self.SegmentedPropertyTypeCodeSequence = [type_item]
        if tracking_id is not None:
            self.TrackingID = tracking_id
            self.TrackingUID = tracking_uid

    @classmethod
    def from_dataset(cls, item: Dataset) -> SegmentDescription:
        """Wrap an existing Segment Sequence item (copying its elements) without checking it."""
        return wrap_dataset(cls, item)

    # read-back -----------------------------------------------------------------------------------
    @property
    def segment_number(self) -> int:
        return int(self.SegmentNumber)

    @property
    def segment_label(self) -> str:
        return str(self.get("SegmentLabel", ""))

    @property
    def description(self) -> str | None:
        return self.get("SegmentDescription") or None

    @property
    def segmented_property_category(self) -> Code:
        return code_from_item(self.SegmentedPropertyCategoryCodeSequence[0])

    @property
    def segmented_property_type(self) -> Code:
        return code_from_item(self.SegmentedPropertyTypeCodeSequence[0])

    @property
    def property_type_modifiers(self) -> list[Code]:
        item = self.SegmentedPropertyTypeCodeSequence[0]
        return [code_from_item(m) for m in item.get("SegmentedPropertyTypeModifierCodeSequence", [])]

    @property
    def algorithm_type(self) -> str:
        return str(self.SegmentAlgorithmType)

    @property
    def algorithm(self) -> AlgorithmIdentification | None:
        seq = self.get("SegmentationAlgorithmIdentificationSequence")
        if not seq:
            return None
        return AlgorithmIdentification.from_dataset(seq[0])

    @property
    def anatomic_region(self) -> Code | None:
        seq = self.get("AnatomicRegionSequence")
        return code_from_item(seq[0]) if seq else None

    @property
    def anatomic_region_modifiers(self) -> list[Code]:
        seq = self.get("AnatomicRegionSequence")
        if not seq:
            return []
        return [code_from_item(m) for m in seq[0].get("AnatomicRegionModifierSequence", [])]

    @property
    def tracking_id(self) -> str | None:
        return self.get("TrackingID") or None

    @property
    def tracking_uid(self) -> str | None:
        return self.get("TrackingUID") or None

    @property
    def display_color(self) -> tuple[int, int, int] | None:
        """The recommended display colour as sRGB 0-255 (converted back from CIELab)."""
        value = self.get("RecommendedDisplayCIELabValue")
        return dicom_lab_to_rgb(value) if value else None
