"""Presentation states (PS3.3 A.33): how images are shown and what is drawn on them.

- :mod:`.presentation_state`: :class:`GrayscaleSoftcopyPresentationState`, :class:`ColorSoftcopyPresentationState`,
  :class:`PseudoColorSoftcopyPresentationState`, :class:`ReferencedImage`, :func:`prread`
- :mod:`.blending`: :class:`AdvancedBlendingPresentationState`, :class:`BlendingInput`
- :mod:`.graphics`: :class:`GraphicLayer`, :class:`GraphicGroup`, :class:`GraphicObject`, :class:`TextObject`,
  :class:`GraphicAnnotation`
- :mod:`.display`: :class:`SoftcopyVOI`, :class:`DisplayedArea`, :class:`DisplayShutter`, window presets
- :mod:`.palettes`: :class:`PaletteColorLUT`, the standard's well-known palettes
"""

from .blending import AdvancedBlendingPresentationState, BlendingInput, BlendingInputRead
from .display import WINDOW_PRESETS, DisplayedArea, DisplayShutter, SoftcopyVOI
from .graphics import GraphicAnnotation, GraphicGroup, GraphicLayer, GraphicObject, TextObject
from .palettes import WELL_KNOWN_PALETTES, PaletteColorLUT
from .presentation_state import (
    ColorSoftcopyPresentationState,
    GrayscaleSoftcopyPresentationState,
    PseudoColorSoftcopyPresentationState,
    ReferencedImage,
    SoftcopyPresentationState,
    prread,
)

__all__ = [
    "WELL_KNOWN_PALETTES",
    "WINDOW_PRESETS",
    "AdvancedBlendingPresentationState",
    "BlendingInput",
    "BlendingInputRead",
    "ColorSoftcopyPresentationState",
    "DisplayShutter",
    "DisplayedArea",
    "GraphicAnnotation",
    "GraphicGroup",
    "GraphicLayer",
    "GraphicObject",
    "GrayscaleSoftcopyPresentationState",
    "PaletteColorLUT",
    "PseudoColorSoftcopyPresentationState",
    "ReferencedImage",
    "SoftcopyPresentationState",
    "SoftcopyVOI",
    "TextObject",
    "prread",
]
