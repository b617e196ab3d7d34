"""Turning a plain pydicom Dataset (read from a file) into one of our Dataset subclasses."""

from __future__ import annotations

from typing import TypeVar

from pydicom.dataset import Dataset

from ...errors import DicomConformanceError

T = TypeVar("T", bound=Dataset)


def wrap_dataset(cls: type[T], item: Dataset) -> T:
    """An instance of ``cls`` holding ``item``'s elements, without running ``cls``'s checks.

    Used by the ``from_dataset`` class methods of the builder layer for the read side.
    """
    obj = cls.__new__(cls)
    Dataset.__init__(obj)
    for elem in item:
        obj.add(elem)
    return obj


def wrap_file_dataset(cls: type[T], ds: Dataset) -> T:
    """An instance of ``cls`` sharing ``ds``'s elements (not copied, not decoded) and file meta, without
    running ``cls``'s checks: the read side of whole objects (SR, KOS, presentation states)."""
    obj = cls.__new__(cls)
    Dataset.__init__(obj, ds)
    if hasattr(ds, "file_meta"):
        obj.file_meta = ds.file_meta
    return obj


def wrap_file_of_class(cls: type[T], ds: Dataset, sop_class_uid: str, storage: str) -> T:
    """:func:`wrap_file_dataset` of a file that must be of SOP Class ``sop_class_uid`` (named ``storage``, e.g.
    "Key Object Selection Document Storage"); another SOP Class is refused."""
    if str(ds.get("SOPClassUID", "")) != sop_class_uid:
        raise DicomConformanceError(f"SOP Class {ds.get('SOPClassUID')} is not {storage}")
    return wrap_file_dataset(cls, ds)
