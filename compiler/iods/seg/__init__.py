"""Segmentation IODs (PS3.3 A.51): Segmentation Storage and Label Map Segmentation Storage."""

from ..common.algorithm import AlgorithmIdentification
from .segment import SegmentDescription
from .segmentation import LABEL_MAP_SEGMENTATION_STORAGE, SEGMENTATION_STORAGE, Segmentation, segread

__all__ = [
    "LABEL_MAP_SEGMENTATION_STORAGE",
    "SEGMENTATION_STORAGE",
    "AlgorithmIdentification",
    "SegmentDescription",
    "Segmentation",
    "segread",
]
