"""Content shared by the SR templates and the SR reader: dataclasses that are neither a document
(:mod:`.documents`) nor one template (:mod:`.tid1500`), so that both sides import them without a circle."""

from __future__ import annotations

from dataclasses import dataclass

from ..common.concept import Code
from . import codes as C
from .value_types import CodeItem

HAS_MOD = "HAS CONCEPT MOD"


@dataclass(frozen=True)
class FindingSite:
    """Finding Site with optional Laterality and Topographical modifier (TID 1419 / TID 300)."""

    site: Code
    laterality: Code | None = None
    topographical_modifier: Code | None = None

    def item(self) -> CodeItem:
        item = CodeItem(C.FINDING_SITE, self.site, HAS_MOD)
        if self.laterality:
            item.append(CodeItem(C.LATERALITY, self.laterality, HAS_MOD))
        if self.topographical_modifier:
            item.append(CodeItem(C.TOPOGRAPHICAL_MODIFIER, self.topographical_modifier, HAS_MOD))
        return item
