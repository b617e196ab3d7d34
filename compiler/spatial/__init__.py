"""Spatial part of the builder layer: :class:`Volume` and the coordinate transformers (PS3.3 C.7.6.2)."""

from .transforms import (
    ImageToReferenceTransformer,
    PixelToReferenceTransformer,
    ReferenceToImageTransformer,
    ReferenceToPixelTransformer,
    ReferenceToVolumeTransformer,
    VolumeToReferenceTransformer,
)
from .volume import Volume

__all__ = [
    "ImageToReferenceTransformer",
    "PixelToReferenceTransformer",
    "ReferenceToImageTransformer",
    "ReferenceToPixelTransformer",
    "ReferenceToVolumeTransformer",
    "Volume",
    "VolumeToReferenceTransformer",
]
