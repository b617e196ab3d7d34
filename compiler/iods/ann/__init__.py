"""Microscopy Bulk Simple Annotations (PS3.3 A.87): cell detections and tissue outlines on slide images.

- :mod:`.annotations`: :class:`MicroscopyBulkSimpleAnnotations`, :func:`annread`, :func:`image_bounds`
- :mod:`.group`: :class:`AnnotationGroup`, :class:`Measurement`, :func:`annotation_problems`
"""

from .annotations import MicroscopyBulkSimpleAnnotations, annread, image_bounds
from .group import GENERATION_TYPES, GRAPHIC_TYPES, AnnotationGroup, Measurement, annotation_problems

__all__ = [
    "GENERATION_TYPES",
    "GRAPHIC_TYPES",
    "AnnotationGroup",
    "Measurement",
    "MicroscopyBulkSimpleAnnotations",
    "annotation_problems",
    "annread",
    "image_bounds",
]
