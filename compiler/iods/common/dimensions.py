"""Multi-frame Dimension module (PS3.3 C.7.6.17): which attributes index the frames of a multi-frame image."""

from __future__ import annotations

from collections.abc import Iterable

from pydicom.dataset import Dataset

#: One dimension: (Dimension Index Pointer, Functional Group Pointer, Dimension Description Label)
Dimension = tuple[int, int, str]


def set_multi_frame_dimension(
    ds: Dataset,
    organization_uid: str,
    dimensions: Iterable[Dimension],
    organization_type: str | None = None,
) -> None:
    """Dimension Organization Sequence (one organization, ``organization_uid``), Dimension Index Sequence
    (one item per dimension, in index order) and, when given, Dimension Organization Type (C.7.6.17.3)."""
    org = Dataset()
    org.DimensionOrganizationUID = organization_uid
    ds.DimensionOrganizationSequence = [org]
    if organization_type is not None:
        ds.DimensionOrganizationType = organization_type
    items = []
    for index_pointer, group_pointer, label in dimensions:
        item = Dataset()
        item.DimensionOrganizationUID = organization_uid
        item.DimensionIndexPointer = index_pointer
        item.FunctionalGroupPointer = group_pointer
        item.DimensionDescriptionLabel = label
        items.append(item)
    ds.DimensionIndexSequence = items
