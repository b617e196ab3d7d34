"""Functional groups of multi-frame images (PS3.3 C.7.6.16): which macro item describes a frame."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydicom.dataset import Dataset

if TYPE_CHECKING:
    from collections.abc import Sequence


def frame_group(
    per_frame_item: Dataset | None, shared_item: Dataset | None, keyword: str, attribute: str | None = None
) -> Dataset | None:
    """The item of the functional group macro ``keyword`` (e.g. ``PlanePositionSequence``) that applies
    to one frame: the frame's Per-frame Functional Groups item first, then the Shared one (PS3.3
    C.7.6.16.1). With ``attribute``, only a macro item holding that attribute counts. ``None`` if neither
    has it."""
    for source in (per_frame_item, shared_item):
        if source is None:
            continue
        seq: Sequence[Dataset] | None = source.get(keyword)
        if seq and (attribute is None or attribute in seq[0]):
            return seq[0]
    return None


def frame_items(ds: Dataset, frame_index: int | None) -> tuple[Dataset | None, Dataset | None]:
    """The Per-frame Functional Groups item of frame ``frame_index`` (0-based; ``None`` when the file has
    none for it) and the Shared Functional Groups item (``None`` when absent) of ``ds``."""
    per_frame = ds.get("PerFrameFunctionalGroupsSequence")
    item = (
        per_frame[frame_index]
        if per_frame is not None and frame_index is not None and frame_index < len(per_frame)
        else None
    )
    shared = ds.get("SharedFunctionalGroupsSequence")
    return item, (shared[0] if shared else None)
