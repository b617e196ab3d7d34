"""Palette Color Lookup Tables of presentation states (PS3.3 C.7.9, C.7.6.3.1.5-6) and the standard's
well-known colour palettes (PS3.6 Annex B).

``palettes.csv`` holds the eight well-known palettes as the standard defines them (256 entries, first
mapped value 0, 8-bit values; the segmented ones expanded): one row per entry, three columns (R, G, B) per
palette. The values were taken from the standard's Color Palette instances (the well-known SOP Instance
UIDs 1.2.840.10008.1.5.1-8, as distributed with pydicom in ``pydicom/data/palettes``), expanded once; the
tests compare them with pydicom's decoding of those instances and with entries computed by hand. In a presentation state
the data are written expanded (segmented data shall not be present,
C.7.9) with 16 bits per entry, each 8-bit value v written as v * 257 (its byte replicated, C.7.6.3.1.6).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import numpy as np
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag

from ...errors import DicomConformanceError
from ..common.codes import set_element

__all__ = ["WELL_KNOWN_PALETTES", "PaletteColorLUT", "well_known_palette"]

#: Content Label (PS3.6 Annex B) -> well-known SOP Instance UID, also the Palette Color Lookup Table UID.
WELL_KNOWN_PALETTES: dict[str, str] = {
    "HOT_IRON": "1.2.840.10008.1.5.1",
    "PET": "1.2.840.10008.1.5.2",
    "HOT_METAL_BLUE": "1.2.840.10008.1.5.3",
    "PET_20_STEP": "1.2.840.10008.1.5.4",
    "SPRING": "1.2.840.10008.1.5.5",
    "SUMMER": "1.2.840.10008.1.5.6",
    "FALL": "1.2.840.10008.1.5.7",
    "WINTER": "1.2.840.10008.1.5.8",
}
_COLORS = ("Red", "Green", "Blue")


@lru_cache(maxsize=1)
def _table() -> dict[str, np.ndarray]:
    text = resources.files(__package__).joinpath("palettes.csv").read_text(encoding="ascii")
    rows = list(csv.reader(text.splitlines()))
    values = np.asarray(rows[1:], dtype=np.int64)[:, 1:]
    return {name: values[:, 3 * i : 3 * i + 3].astype(np.uint8) for i, name in enumerate(WELL_KNOWN_PALETTES)}


def _palette_name(name: str) -> str:
    key = str(name).strip().upper().replace("-", "_").replace(" ", "_")
    if key not in WELL_KNOWN_PALETTES:
        raise DicomConformanceError(
            f"{name!r} is not a well-known colour palette (PS3.6 Annex B): {', '.join(WELL_KNOWN_PALETTES)}"
        )
    return key


@dataclass(frozen=True, eq=False)
class PaletteColorLUT:
    """A palette colour LUT: ``rgb`` (entries x 3) of 8-bit values, the stored value mapped to the first
    entry, and for a well-known palette its Content Label and UID."""

    rgb: np.ndarray
    first_mapped: int = 0
    label: str | None = None
    uid: str | None = field(default=None)

    def __post_init__(self) -> None:
        try:
            rgb = np.asarray(self.rgb, dtype=np.float64)
        except (TypeError, ValueError):
            raise DicomConformanceError("a palette is a list of (red, green, blue) colours") from None
        if rgb.ndim != 2 or rgb.shape[1] != 3:
            raise DicomConformanceError(f"a palette is a list of (red, green, blue) colours, got shape {rgb.shape}")
        if not 2 <= len(rgb) <= 65536:
            raise DicomConformanceError(
                f"a palette has 2 to 65536 entries (Number of Table Entries, C.7.6.3.1.5), got {len(rgb)}"
            )
        bad = ~np.isfinite(rgb) | (rgb < 0) | (rgb > 255)
        bad[~bad] |= rgb[~bad] != np.round(rgb[~bad])
        if bad.any():
            entry = int(np.argwhere(bad)[0][0])
            raise DicomConformanceError(
                f"palette colours are integers 0..255; entry {entry} is"
                " [" + ", ".join(f"{v:g}" for v in rgb[entry]) + "]"
            )
        if isinstance(self.first_mapped, bool) or not -32768 <= int(self.first_mapped) <= 65535:
            raise DicomConformanceError(
                f"the first value mapped by a palette is an integer -32768..65535 (US/SS), got {self.first_mapped}"
            )
        object.__setattr__(self, "rgb", rgb.astype(np.uint8))

    @classmethod
    def well_known(cls, name: str) -> PaletteColorLUT:
        """One of the standard's palettes by its Content Label (HOT_IRON, PET, ...; case and - / _ free)."""
        key = _palette_name(name)
        return cls(_table()[key], 0, key, WELL_KNOWN_PALETTES[key])

    def fill(self, item: Dataset) -> None:
        """Palette Color Lookup Table Module attributes (C.7.9) in ``item``: descriptors, expanded 16-bit
        data, and the well-known palette's UID."""
        n = len(self.rgb)
        descriptor = [n % 65536, int(self.first_mapped), 16]
        words = self.rgb.astype("<u2") * 257
        vr = "SS" if self.first_mapped < 0 else "US"  # C.7.6.3.1.5: SS when the first value mapped is signed
        for i, _color in enumerate(_COLORS):
            set_element(item, BaseTag(0x00281101 + i), vr, descriptor)
        if self.uid:
            item.PaletteColorLookupTableUID = self.uid
        for i, _color in enumerate(_COLORS):
            item.add_new(BaseTag(0x00281201 + i), "OW", np.ascontiguousarray(words[:, i]).tobytes())

    @classmethod
    def from_dataset(cls, item: Dataset) -> PaletteColorLUT:
        """The palette written in ``item`` (8- or 16-bit entries), named when its UID is a well-known one."""
        channels = []
        first = 0
        for color in _COLORS:
            n, first, bits = (int(v) for v in item[f"{color}PaletteColorLookupTableDescriptor"].value)
            n = n or 65536
            raw = bytes(item[f"{color}PaletteColorLookupTableData"].value)
            data = np.frombuffer(raw, "<u1" if bits == 8 else "<u2")[:n].astype(np.int64)
            channels.append(data if bits == 8 else np.round(data / 257.0).astype(np.int64))
        uid = str(item.get("PaletteColorLookupTableUID", "")) or None
        label = next((k for k, v in WELL_KNOWN_PALETTES.items() if v == uid), None)
        return cls(np.stack(channels, axis=1), first, label, uid)


def well_known_palette(name: str) -> PaletteColorLUT:
    """Shorthand for :meth:`~dcmspec_compiler.iods.pr.PaletteColorLUT.well_known`."""
    return PaletteColorLUT.well_known(name)
