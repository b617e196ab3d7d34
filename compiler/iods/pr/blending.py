"""Advanced Blending Presentation State (PS3.3 A.33.9): two or more series, each through its own window
and palette colour LUT, blended into one true-colour display.

Modules written: Patient and General Study (from the first input's first image), General Series and
Presentation Series (Modality PR), General Equipment, Presentation State Identification (C.11.10), Advanced
Blending Presentation State (C.11.28: one item per input with its images, Softcopy VOI LUT and Palette Color
Lookup Table), Advanced Blending Presentation State Display (C.11.29: Pixel Presentation TRUE_COLOR and the
blending operations), Common Instance Reference (C.12.2), Displayed Area (C.10.4), ICC Profile (C.11.15) and
SOP Common. The blending: FOREGROUND puts each further input over the result so far with ``opacity``
(Relative Opacity: opacity x foreground + (1 - opacity) x background; default 0.5); EQUAL weighs all inputs
alike and has no opacity (Relative Opacity is Type 1C: FOREGROUND only).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from pydicom.dataset import Dataset

from ...errors import DicomConformanceError
from ..common.icc import srgb_icc_profile
from ..common.modules import (
    ContentIdentification,
    Equipment,
)
from ..common.native import set_native_encoding
from ..common.vr import check_object
from ..common.wrap import wrap_file_of_class
from .display import SoftcopyVOI
from .graphics import finite
from .palettes import PaletteColorLUT
from .presentation_state import (
    ReferencedImage,
    SoftcopyPresentationState,
    _as_reference,
    _first,
    _image_item,
    set_presentation_header,
)

__all__ = ["BLENDING_MODES", "AdvancedBlendingPresentationState", "BlendingInput", "grey_ramp"]

ABPS_SOP_CLASS_UID = "1.2.840.10008.5.1.4.1.1.11.8"
BLENDING_MODES = ("FOREGROUND", "EQUAL")


def grey_ramp() -> PaletteColorLUT:
    """A 256-entry grey palette (black to white): how a grey input is shown when no palette is given."""
    import numpy as np

    ramp = np.arange(256)
    return PaletteColorLUT(np.stack([ramp] * 3, axis=1))


@dataclass(frozen=True)
class BlendingInput:
    """One input of the blending: images of one series, their window (``None``: the images' own) and
    the palette that colours them (grey images need one; ``None``: a grey ramp)."""

    images: Sequence[Dataset | ReferencedImage]
    voi: Sequence[SoftcopyVOI] | None = None
    palette: PaletteColorLUT | None = None


class AdvancedBlendingPresentationState(Dataset):
    """Advanced Blending Presentation State Storage (PS3.3 A.33.9).

    >>> from dcmspec_compiler.testing.examples import ct_header, pet_header, identity
    >>> from dcmspec_compiler.iods.pr import (AdvancedBlendingPresentationState, BlendingInput, PaletteColorLUT,
    ...     SoftcopyVOI)
    >>> pr = AdvancedBlendingPresentationState(
    ...     [BlendingInput([ct_header()], [SoftcopyVOI(40, 400)]),
    ...      BlendingInput([pet_header()], [SoftcopyVOI(5000, 10000)], PaletteColorLUT.well_known("HOT_IRON"))],
    ...     mode="FOREGROUND", opacity=0.4, **identity())
    >>> [(i.input_number, i.palette.label, i.window) for i in pr.inputs()]
    [(1, None, (40.0, 400.0)), (2, 'HOT_IRON', (5000.0, 10000.0))]
    >>> pr.blending()
    [('FOREGROUND', [1, 2], 0.4)]
    """

    SOP_CLASS_UID: ClassVar[str] = ABPS_SOP_CLASS_UID

    def __init__(
        self,
        inputs: Sequence[BlendingInput],
        *,
        mode: str = "FOREGROUND",
        opacity: float | None = None,
        series_instance_uid: str,
        series_number: int,
        sop_instance_uid: str,
        content: ContentIdentification,
        presentation_datetime: _dt.datetime,
        equipment: Equipment,
        series_description: str | None = None,
        icc_profile: bytes | None = None,
        specific_character_set: str = "ISO_IR 192",
    ) -> None:
        super().__init__()
        if len(inputs) < 2:
            raise DicomConformanceError("a blending presentation state blends two or more inputs (PS3.3 C.11.28)")
        refs_per_input: list[list[ReferencedImage]] = []
        seen: set[str] = set()
        for n, inp in enumerate(inputs, 1):
            refs = [_as_reference(i) for i in inp.images]
            if not refs:
                raise DicomConformanceError(f"blending input {n} has no image")
            if len({str(r.header.SeriesInstanceUID) for r in refs}) != 1:
                raise DicomConformanceError(f"the images of blending input {n} belong to one series (C.11.28)")
            for r in refs:
                if r.sop_instance_uid in seen:
                    raise DicomConformanceError(f"image {r.sop_instance_uid} is in two blending inputs")
                seen.add(r.sop_instance_uid)
            refs_per_input.append(refs)
        first = refs_per_input[0][0].header
        patients = {str(r[0].header.get("PatientID", "")) for r in refs_per_input}
        if len(patients) != 1:
            raise DicomConformanceError(
                f"the blending inputs belong to one patient, got Patient IDs {sorted(patients)}"
            )
        frames = {str(r[0].header.get("FrameOfReferenceUID", "")) for r in refs_per_input}
        if len(frames) != 1 or "" in frames:
            raise DicomConformanceError(
                "the blending inputs share one Frame of Reference (their images are blended where they lie in"
                " space; inputs in different frames need a registration, which this builder does not write)"
            )
        if mode not in BLENDING_MODES:
            raise DicomConformanceError(f"Blending Mode {mode!r} is not one of {', '.join(BLENDING_MODES)} (C.11.29)")
        if mode == "FOREGROUND":
            opacity = 0.5 if opacity is None else opacity
            if not 0.0 <= finite(opacity, "Relative Opacity") <= 1.0:
                raise DicomConformanceError("FOREGROUND blending needs a Relative Opacity 0..1 (C.11.29)")
        elif opacity is not None:
            raise DicomConformanceError(
                "Relative Opacity is written for FOREGROUND blending only (Type 1C, C.11.29):"
                " EQUAL weighs all inputs alike"
            )
        set_presentation_header(
            self,
            first,
            sop_instance_uid=sop_instance_uid,
            series_instance_uid=series_instance_uid,
            series_number=series_number,
            series_description=series_description,
            content=content,
            presentation_datetime=presentation_datetime,
            equipment=equipment,
            specific_character_set=specific_character_set,
        )
        # --- Advanced Blending Presentation State (C.11.28) ------------------------------------------
        items = []
        for n, (inp, refs) in enumerate(zip(inputs, refs_per_input), 1):
            item = Dataset()
            item.BlendingInputNumber = n
            item.ReferencedImageSequence = [_image_item(r) for r in refs]
            item.StudyInstanceUID = str(refs[0].header.StudyInstanceUID)
            item.SeriesInstanceUID = str(refs[0].header.SeriesInstanceUID)
            voi = inp.voi if inp.voi is not None else SoftcopyPresentationState._voi_from_images(refs)
            voi_items = []
            by_uid = {r.sop_instance_uid: r for r in refs}
            for window in voi:
                v = Dataset()
                missing = [u for u in window.images if u not in by_uid]
                if missing:
                    raise DicomConformanceError(
                        f"a window of blending input {n} names image {missing[0]}, which is not one of its images"
                    )
                if window.images and len(window.images) < len(refs):
                    v.ReferencedImageSequence = [_image_item(by_uid[u]) for u in window.images]
                window.fill(v)
                voi_items.append(v)
            if voi_items:
                item.SoftcopyVOILUTSequence = voi_items
            samples = {int(r.header.get("SamplesPerPixel", 1)) for r in refs}
            palette = inp.palette
            if samples == {1}:
                palette = palette or grey_ramp()
            elif palette is not None:
                raise DicomConformanceError(f"blending input {n} is in colour: a palette colours grey images only")
            if palette is not None:
                p = Dataset()
                palette.fill(p)
                item.PaletteColorLookupTableSequence = [p]
            items.append(item)
        self.AdvancedBlendingSequence = items
        # --- Advanced Blending Presentation State Display (C.11.29) ----------------------------------
        self.PixelPresentation = "TRUE_COLOR"
        self.BlendingDisplaySequence = self._operations(len(inputs), mode, opacity)
        # --- Common Instance Reference (C.12.2) ------------------------------------------------------
        self._common_instance_reference([r for refs in refs_per_input for r in refs], str(first.StudyInstanceUID))
        # --- Displayed Area (C.10.4) -----------------------------------------------------------------
        self.DisplayedAreaSelectionSequence = []
        all_refs = [r for refs in refs_per_input for r in refs]
        by_uid = {r.sop_instance_uid: r for r in all_refs}
        for area in SoftcopyPresentationState._default_areas(all_refs):
            item = Dataset()
            if area.images and len(area.images) < len(all_refs):
                item.ReferencedImageSequence = [_image_item(by_uid[u]) for u in area.images]
            area.fill(item)
            self.DisplayedAreaSelectionSequence.append(item)
        # --- ICC Profile (C.11.15) -------------------------------------------------------------------
        self.ICCProfile = icc_profile if icc_profile is not None else srgb_icc_profile()
        check_object(self)
        set_native_encoding(self)

    @staticmethod
    def _operations(n: int, mode: str, opacity: float | None) -> list[Dataset]:
        """Blending Display Sequence: EQUAL blends all inputs at once; FOREGROUND blends input 2 over 1,
        then each further input over that result (intermediate results numbered n+1, n+2, ...); the last
        operation has no Blending Input Number: it is what is displayed."""

        def operation(inputs: list[int], number: int | None) -> Dataset:
            item = Dataset()
            item.BlendingMode = mode
            item.BlendingDisplayInputSequence = []
            for k in inputs:
                i = Dataset()
                i.BlendingInputNumber = k
                item.BlendingDisplayInputSequence.append(i)
            if number is not None:
                item.BlendingInputNumber = number
            if mode == "FOREGROUND":  # Type 1C: required for FOREGROUND, absent otherwise (C.11.29)
                assert opacity is not None  # FOREGROUND defaults it to 0.5
                item.RelativeOpacity = float(opacity)
            return item

        if mode == "EQUAL":
            return [operation(list(range(1, n + 1)), None)]
        out, background = [], 1
        for k in range(2, n + 1):
            number = None if k == n else n + k - 1
            out.append(operation([background, k], number))
            background = number or 0
        return out

    def _common_instance_reference(self, refs: list[ReferencedImage], study_uid: str) -> None:
        by_study: dict[str, dict[str, list[Dataset]]] = {}
        for r in refs:
            series = by_study.setdefault(str(r.header.StudyInstanceUID), {})
            item = Dataset()
            item.ReferencedSOPClassUID = r.sop_class_uid
            item.ReferencedSOPInstanceUID = r.sop_instance_uid
            series.setdefault(str(r.header.SeriesInstanceUID), []).append(item)

        def series_items(series: dict[str, list[Dataset]]) -> list[Dataset]:
            out = []
            for uid, instances in series.items():
                s = Dataset()
                s.ReferencedInstanceSequence = instances
                s.SeriesInstanceUID = uid
                out.append(s)
            return out

        if study_uid in by_study:
            self.ReferencedSeriesSequence = series_items(by_study.pop(study_uid))
        if by_study:
            others = []
            for uid, series in by_study.items():
                s = Dataset()
                s.ReferencedSeriesSequence = series_items(series)
                s.StudyInstanceUID = uid
                others.append(s)
            self.StudiesContainingOtherReferencedInstancesSequence = others

    # -- reading ---------------------------------------------------------------------------------
    @classmethod
    def from_dataset(cls, ds: Dataset) -> AdvancedBlendingPresentationState:
        """Wrap a dataset read from a file for the read-side methods."""
        return wrap_file_of_class(cls, ds, ABPS_SOP_CLASS_UID, "Advanced Blending Presentation State Storage")

    def inputs(self) -> list[BlendingInputRead]:
        """Each input as read back: number, series, images, window (first) and palette."""
        out = []
        for item in self.get("AdvancedBlendingSequence", []):
            window = None
            for v in item.get("SoftcopyVOILUTSequence", []):
                if "WindowCenter" in v:
                    window = (float(_first(v.WindowCenter)), float(_first(v.WindowWidth)))
                    break
            palettes = item.get("PaletteColorLookupTableSequence", [])
            out.append(
                BlendingInputRead(
                    int(item.BlendingInputNumber),
                    str(item.SeriesInstanceUID),
                    [str(r.ReferencedSOPInstanceUID) for r in item.ReferencedImageSequence],
                    window,
                    PaletteColorLUT.from_dataset(palettes[0]) if palettes else None,
                )
            )
        return out

    def blending(self) -> list[tuple[str, list[int], float | None]]:
        """The blending operations in order: (mode, input numbers, relative opacity)."""
        return [
            (
                str(item.BlendingMode),
                [int(i.BlendingInputNumber) for i in item.BlendingDisplayInputSequence],
                float(f"{float(item.RelativeOpacity):.7g}") if "RelativeOpacity" in item else None,
            )  # FL
            for item in self.get("BlendingDisplaySequence", [])
        ]


@dataclass(frozen=True)
class BlendingInputRead:
    input_number: int
    series_instance_uid: str
    images: list[str]
    window: tuple[float, float] | None
    palette: PaletteColorLUT | None
