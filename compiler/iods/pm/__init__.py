"""Parametric Map IOD (PS3.3 A.75): Parametric Map Storage."""

from .mapping import RealWorldValueMapping
from .parametric_map import ParametricMap
from .read import PARAMETRIC_MAP_STORAGE, pmread

__all__ = ["PARAMETRIC_MAP_STORAGE", "ParametricMap", "RealWorldValueMapping", "pmread"]
