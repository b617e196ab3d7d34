"""Presentation states (PS3.3 A.33): how images are shown and what is drawn on them.

- :mod:`.presentation_state`: :class:`GrayscaleSoftcopyPresentationState`, :class:`ReferencedImage`, :func:`prread`
- :mod:`.graphics`: :class:`GraphicLayer`, :class:`GraphicObject`, :class:`TextObject`, :class:`GraphicAnnotation`
- :mod:`.display`: :class:`SoftcopyVOI`, :class:`DisplayedArea`, :class:`DisplayShutter`, window presets
"""

from .display import WINDOW_PRESETS, DisplayedArea, DisplayShutter, SoftcopyVOI
from .graphics import GraphicAnnotation, GraphicLayer, GraphicObject, TextObject
from .presentation_state import GrayscaleSoftcopyPresentationState, ReferencedImage, prread

__all__ = ["GrayscaleSoftcopyPresentationState", "ReferencedImage", "prread", "GraphicLayer", "GraphicObject",
           "TextObject", "GraphicAnnotation", "SoftcopyVOI", "DisplayedArea", "DisplayShutter", "WINDOW_PRESETS"]
