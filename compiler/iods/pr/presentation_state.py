"""Softcopy presentation states: Grayscale (PS3.3 A.33.1), Color (A.33.2) and Pseudo-Color (A.33.3); how to
show a set of images, and what to draw on them.

Modules written: Patient and General Study (copied from the first image), General Series and Presentation
Series (Modality PR; Laterality empty, as dciodvfy asks), General Equipment, Presentation State
Identification (C.11.10), Presentation State Relationship (C.11.11), Presentation State Shutter (C.11.12),
Display Shutter (C.7.6.11), Displayed Area (C.10.4), Graphic Annotation (C.10.5), Spatial Transformation
(C.10.6), Graphic Layer (C.10.7), Modality LUT (C.11.1, the images' rescale), Softcopy VOI LUT (C.11.8),
Softcopy Presentation LUT (C.11.6) and SOP Common. A Color Softcopy Presentation State has no Modality,
VOI or Presentation LUT but an ICC Profile (C.11.15); a Pseudo-Color one has Modality and VOI LUT, a Palette
Color Lookup Table (C.7.9) and an ICC Profile, and no Presentation LUT. The shutter of both is shown in a
colour (Shutter Presentation Color CIELab Value). Each reference (annotation, window, displayed area) must
name an image the presentation state references.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, cast

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag

from ...errors import DicomConformanceError
from ..common.codes import set_element
from ..common.color import dicom_lab_to_rgb
from ..common.icc import srgb_icc_profile
from ..common.modules import (
    ContentIdentification,
    Equipment,
    copy_patient_study,
    dicom_date_time,
    set_general_series,
    set_sop_common,
)
from ..common.native import set_native_encoding
from ..common.vr import canonical_ds, check_object
from ..common.wrap import wrap_file_of_class
from .display import DisplayedArea, DisplayShutter, SoftcopyVOI, read_overlay
from .graphics import GraphicAnnotation, GraphicGroup, GraphicLayer, check_groups
from .palettes import PaletteColorLUT

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

__all__ = [
    "ColorSoftcopyPresentationState",
    "DrawnGraphic",
    "DrawnText",
    "GrayscaleSoftcopyPresentationState",
    "PseudoColorSoftcopyPresentationState",
    "ReferencedImage",
    "SoftcopyPresentationState",
    "annotation_item",
    "common_size",
    "prread",
]

GSPS_SOP_CLASS_UID = "1.2.840.10008.5.1.4.1.1.11.1"
COLOR_PS_SOP_CLASS_UID = "1.2.840.10008.5.1.4.1.1.11.2"
PSEUDO_COLOR_PS_SOP_CLASS_UID = "1.2.840.10008.5.1.4.1.1.11.3"
ROTATIONS = (0, 90, 180, 270)
REFERENCED_SOP_CLASS_UID, REFERENCED_SOP_INSTANCE_UID = BaseTag(0x00081150), BaseTag(0x00081155)
REFERENCED_FRAME_NUMBER, REFERENCED_IMAGE_SEQUENCE = BaseTag(0x00081160), BaseTag(0x00081140)
GRAPHIC_LAYER, TEXT_OBJECT_SEQUENCE, GRAPHIC_OBJECT_SEQUENCE = (
    BaseTag(0x00700002),
    BaseTag(0x00700008),
    BaseTag(0x00700009),
)


@dataclass(frozen=True)
class ReferencedImage:
    """An image the presentation state applies to: its header, and frames (all when empty)."""

    header: Dataset
    frames: tuple[int, ...] = ()
    sop_instance_uid: str = field(init=False)
    sop_class_uid: str = field(init=False)
    size: tuple[int, int] = field(init=False)  # (Columns, Rows)

    def __post_init__(self) -> None:
        header = self.header
        if "Rows" not in header or "Columns" not in header:
            raise DicomConformanceError(f"{header.get('SOPInstanceUID')} is not an image (no Rows/Columns)")
        object.__setattr__(self, "sop_instance_uid", str(header.SOPInstanceUID))
        object.__setattr__(self, "sop_class_uid", str(header.SOPClassUID))
        object.__setattr__(self, "size", (int(header.Columns), int(header.Rows)))


def _as_reference(image: Dataset | ReferencedImage) -> ReferencedImage:
    return image if isinstance(image, ReferencedImage) else ReferencedImage(image)


_IMAGE_ITEMS: dict[tuple[str, str, tuple[int, ...]], Dataset] = {}  # checked and converted once


def _image_item(ref: ReferencedImage) -> Dataset:
    """A Referenced Image Sequence item of ``ref``: a new item holding the elements made (and checked) the
    first time (outlines reference the same images thousands of times)."""
    key = (ref.sop_class_uid, ref.sop_instance_uid, ref.frames)
    template = _IMAGE_ITEMS.get(key)
    if template is None:
        template = Dataset()
        set_element(template, REFERENCED_SOP_CLASS_UID, "UI", ref.sop_class_uid)
        set_element(template, REFERENCED_SOP_INSTANCE_UID, "UI", ref.sop_instance_uid)
        if ref.frames:
            set_element(
                template, REFERENCED_FRAME_NUMBER, "IS", list(ref.frames) if len(ref.frames) > 1 else ref.frames[0]
            )
        if len(_IMAGE_ITEMS) > 100_000:
            _IMAGE_ITEMS.clear()
        _IMAGE_ITEMS[key] = template
    item = Dataset()
    item._dict.update(template._dict)  # the elements are not changed afterwards: shared
    return item


def set_presentation_header(
    ds: Dataset,
    first: Dataset,
    *,
    sop_instance_uid: str,
    series_instance_uid: str,
    series_number: int,
    series_description: str | None,
    content: ContentIdentification,
    presentation_datetime: _dt.datetime,
    equipment: Equipment,
    specific_character_set: str,
) -> None:
    """What every presentation state starts with: SOP Common (of ``ds.SOP_CLASS_UID``), Patient and General
    Study copied from ``first``, General Series and Presentation Series (Modality PR, PS3.3 C.11.9), General
    Equipment (C.7.5.1) and Presentation State Identification (C.11.10)."""
    if not isinstance(presentation_datetime, _dt.datetime):
        raise DicomConformanceError("Presentation Creation Date and Time are required (PS3.3 C.11.10)")
    set_sop_common(
        ds,
        sop_class_uid=ds.SOP_CLASS_UID,
        sop_instance_uid=sop_instance_uid,
        created=presentation_datetime,
        specific_character_set=specific_character_set,
    )
    copy_patient_study(ds, first)
    set_general_series(
        ds,
        modality="PR",
        series_instance_uid=series_instance_uid,
        series_number=series_number,
        series_description=series_description,
        laterality_empty=True,
    )
    equipment.apply(ds, enhanced=False)
    content.apply(ds)
    ds.PresentationCreationDate, ds.PresentationCreationTime = dicom_date_time(presentation_datetime)


def common_size(images: Sequence[ReferencedImage]) -> tuple[int, int] | None:
    """(Columns, Rows) shared by all ``images``, or None when they differ (then PIXEL points are not
    checked against a size)."""
    sizes = {i.size for i in images}
    return sizes.pop() if len(sizes) == 1 else None


def annotation_item(
    annotation: GraphicAnnotation,
    images: Sequence[ReferencedImage],
    layer_names: Sequence[str],
    by_uid: dict[str, ReferencedImage] | None = None,
    group_ids: Sequence[int] = (),
) -> Dataset:
    """The Graphic Annotation Sequence item (C.10.5) of ``annotation`` in a presentation state that
    references ``images`` (``by_uid``: the same, by SOP Instance UID) and defines ``layer_names`` and the
    graphic groups ``group_ids``; refuses what C.10.5 does not allow."""
    if by_uid is None:
        by_uid = {i.sop_instance_uid: i for i in images}
    if annotation.layer not in layer_names:
        raise DicomConformanceError(
            f"annotation on layer {annotation.layer!r}, which is not one of the graphic layers"
            f" ({', '.join(layer_names) or 'none defined'}; PS3.3 C.10.5.1)"
        )
    if not annotation.graphics and not annotation.texts:
        raise DicomConformanceError(f"annotation on layer {annotation.layer!r} draws nothing")
    missing = [u for u in annotation.images if u not in by_uid]
    if missing:
        raise DicomConformanceError(
            f"an annotation on layer {annotation.layer!r} names image {missing[0]},"
            " which the presentation state does not reference"
        )
    for obj in list(annotation.graphics) + list(annotation.texts):
        if obj.group_id is not None and obj.group_id not in group_ids:
            raise DicomConformanceError(
                f"an annotation on layer {annotation.layer!r} names graphic group"
                f" {obj.group_id}, which is not one of the graphic groups (C.10.x)"
            )
    targets = [by_uid[u] for u in annotation.images] or list(images)
    bounds = common_size(targets)
    item = Dataset()
    if len(targets) < len(images):
        set_element(item, REFERENCED_IMAGE_SEQUENCE, "SQ", [_image_item(t) for t in targets])
    set_element(item, GRAPHIC_LAYER, "CS", annotation.layer)
    if annotation.texts:
        set_element(item, TEXT_OBJECT_SEQUENCE, "SQ", [t.item(bounds) for t in annotation.texts])
    if annotation.graphics:
        set_element(item, GRAPHIC_OBJECT_SEQUENCE, "SQ", [g.item(bounds) for g in annotation.graphics])
    return item


@dataclass(frozen=True)
class DrawnGraphic:
    """A graphic read back: its layer, type, (column, row) points as written, units and fill, its graphic
    group, and its points in the image's pixel coordinates (DISPLAY units converted through the displayed
    area, rotation and flip)."""

    layer: str
    graphic_type: str
    points: np.ndarray
    units: str
    filled: bool
    group_id: int | None = None
    pixel_points: np.ndarray | None = None


@dataclass(frozen=True)
class DrawnText:
    """A text read back, as written, with its anchor and box in the image's pixel coordinates."""

    layer: str
    text: str
    anchor: tuple[float, float] | None
    bounding_box: tuple[tuple[float, float], tuple[float, float]] | None
    units: str
    group_id: int | None = None
    pixel_anchor: tuple[float, float] | None = None
    pixel_box: tuple[tuple[float, float], tuple[float, float]] | None = None
    justification: str = "LEFT"
    anchor_visible: bool = True


class SoftcopyPresentationState(Dataset):
    """What the softcopy presentation states share (PS3.3 A.33.1-3); use one of the subclasses.

    ``voi``: windows; ``None`` copies each image's first Window Center/Width (images without one get none).
    ``presentation_lut_shape``: IDENTITY, or INVERSE to show the images inverted (grayscale only).
    ``shutter``: its ``color`` is used by the colour classes (black when not given).
    ``groups``: graphic groups (C.10.x Graphic Group Module) that graphics and texts name by ``group_id``.
    ``palette``: the Palette Color LUT (pseudo-colour only). ``icc_profile``: the ICC profile the colours
    are in (colour classes; default: the images' own, else sRGB).

    Example: a window and a circle with a label on a slice of a small synthetic CT, written and read back.

    >>> import datetime, tempfile
    >>> from pathlib import Path
    >>> import pydicom
    >>> from dcmspec_compiler.testing.phantom import Grid, write_ct_series
    >>> from dcmspec_compiler.iods.common.modules import ContentIdentification, Equipment
    >>> from dcmspec_compiler.iods.pr import (GraphicAnnotation, GraphicLayer, GraphicObject,
    ...     GrayscaleSoftcopyPresentationState, SoftcopyVOI, TextObject, prread)
    >>> folder = tempfile.TemporaryDirectory()
    >>> ct = [pydicom.dcmread(p) for p in write_ct_series(Path(folder.name), Grid(shape=(4, 16, 16)))]
    >>> uid = ct[2].SOPInstanceUID
    >>> gsps = GrayscaleSoftcopyPresentationState(
    ...     [ct[2]], series_instance_uid="2.25.21", series_number=1200, sop_instance_uid="2.25.22",
    ...     content=ContentIdentification(content_label="LESION"),
    ...     presentation_datetime=datetime.datetime(2024, 1, 3, 9, 0),
    ...     equipment=Equipment("Example Lab", "Example tool", "1.0", "0001"),
    ...     voi=[SoftcopyVOI(center=40, width=400)],
    ...     layers=[GraphicLayer("LESIONS", 1)],
    ...     annotations=[GraphicAnnotation("LESIONS", graphics=[GraphicObject("CIRCLE", [[8, 8], [12, 8]])],
    ...                                    texts=[TextObject("lesion", anchor=(8, 3))])])
    >>> gsps.save_as(Path(folder.name) / "pr.dcm", enforce_file_format=True)
    >>> back = prread(Path(folder.name) / "pr.dcm")
    >>> back.window(uid)
    (40.0, 400.0)
    >>> [(g.graphic_type, g.points.tolist()) for g in back.graphics(uid)]
    [('CIRCLE', [[8.0, 8.0], [12.0, 8.0]])]
    >>> [t.text for t in back.texts(uid)]
    ['lesion']
    >>> folder.cleanup()
    """

    SOP_CLASS_UID: ClassVar[str] = ""
    SOP_CLASS_NAME: ClassVar[str] = ""
    GRAYSCALE_PIPELINE: ClassVar[bool] = True  # Modality LUT and Softcopy VOI LUT modules
    PRESENTATION_LUT: ClassVar[bool] = True  # Softcopy Presentation LUT module
    COLOR: ClassVar[bool] = False  # ICC Profile module, shutter colour
    PALETTE: ClassVar[bool] = False  # Palette Color Lookup Table module

    def __init__(
        self,
        images: Sequence[Dataset | ReferencedImage],
        *,
        series_instance_uid: str,
        series_number: int,
        sop_instance_uid: str,
        content: ContentIdentification,
        presentation_datetime: _dt.datetime,
        equipment: Equipment,
        voi: Sequence[SoftcopyVOI] | None = None,
        presentation_lut_shape: str = "IDENTITY",
        layers: Sequence[GraphicLayer] = (),
        annotations: Sequence[GraphicAnnotation] = (),
        displayed_areas: Sequence[DisplayedArea] | None = None,
        rotation: int = 0,
        horizontal_flip: bool = False,
        shutter: DisplayShutter | None = None,
        series_description: str | None = None,
        specific_character_set: str = "ISO_IR 192",
        groups: Sequence[GraphicGroup] = (),
        palette: PaletteColorLUT | None = None,
        icc_profile: bytes | None = None,
    ) -> None:
        super().__init__()
        if not self.SOP_CLASS_UID:
            raise TypeError("use one of the SoftcopyPresentationState subclasses")
        refs = [_as_reference(i) for i in images]
        if not refs:
            raise DicomConformanceError("a presentation state applies to at least one image (PS3.3 C.11.11)")
        by_uid: dict[str, ReferencedImage] = {}
        for ref in refs:
            if ref.sop_instance_uid in by_uid:
                raise DicomConformanceError(f"image {ref.sop_instance_uid} is referenced twice")
            by_uid[ref.sop_instance_uid] = ref
        if len({str(r.header.StudyInstanceUID) for r in refs}) != 1:
            raise DicomConformanceError("a presentation state's images belong to one study (PS3.3 A.33.1.3)")
        first = refs[0].header

        def subset(uids: Sequence[str], what: str) -> list[ReferencedImage]:
            missing = [u for u in uids if u not in by_uid]
            if missing:
                raise DicomConformanceError(
                    f"{what} names image {missing[0]}, which the presentation state does not reference"
                )
            return [by_uid[u] for u in uids]

        # --- SOP Common, Patient, General Study, Presentation Series, Equipment, Identification ----------
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
        # --- Presentation State Relationship (C.11.11) ----------------------------------------------
        series: dict[str, list[Dataset]] = {}
        for ref in refs:
            series.setdefault(str(ref.header.SeriesInstanceUID), []).append(_image_item(ref))
        self.ReferencedSeriesSequence = []
        for uid, items in series.items():
            s = Dataset()
            s.ReferencedImageSequence = items
            s.SeriesInstanceUID = uid
            self.ReferencedSeriesSequence.append(s)
        # --- Display Shutter (C.7.6.11) and Presentation State Shutter (C.11.12) --------------------
        if shutter is not None:
            shutter.fill(self, common_size(refs), color=self.COLOR)
        if rotation not in ROTATIONS:
            raise DicomConformanceError(f"Image Rotation must be 0, 90, 180 or 270 degrees, got {rotation}")
        # --- Displayed Area (C.10.4) ----------------------------------------------------------------
        if displayed_areas is None:
            displayed_areas = self._default_areas(refs)
        self.DisplayedAreaSelectionSequence = []
        for area in displayed_areas:
            item = Dataset()
            targets = subset(area.images, "a displayed area")
            if targets and len(targets) < len(refs):
                item.ReferencedImageSequence = [_image_item(t) for t in targets]
            area.fill(item, rotation, horizontal_flip)
            self.DisplayedAreaSelectionSequence.append(item)
        if not self.DisplayedAreaSelectionSequence:
            raise DicomConformanceError("Displayed Area Selection Sequence needs at least one item (C.10.4)")
        # --- Graphic Annotation (C.10.5) and Graphic Layer (C.10.7) ---------------------------------
        names = [layer.name for layer in layers]
        if len(set(names)) != len(names):
            raise DicomConformanceError(f"graphic layer names must be unique: {names}")
        group_ids = check_groups(groups)
        annotation_items = [annotation_item(a, refs, names, by_uid, group_ids) for a in annotations]
        if groups:
            self.GraphicGroupSequence = [g.item() for g in groups]
        if annotation_items:
            self.GraphicAnnotationSequence = annotation_items
        if layers:
            self.GraphicLayerSequence = [layer.item() for layer in layers]
        # --- Spatial Transformation (C.10.6) --------------------------------------------------------
        if rotation or horizontal_flip:
            self.ImageRotation = int(rotation)
            self.ImageHorizontalFlip = "Y" if horizontal_flip else "N"
        if not self.GRAYSCALE_PIPELINE:
            if voi:
                raise DicomConformanceError(f"a {self.SOP_CLASS_NAME} has no window (no Softcopy VOI LUT module)")
            voi = []
        else:
            # --- Modality LUT (C.11.1): the images' rescale, when they have one ----------------------
            self._modality_lut(refs)
        # --- Softcopy VOI LUT (C.11.8) --------------------------------------------------------------
        if voi is None:
            voi = self._voi_from_images(refs)
        voi_items = []
        for window in voi:
            item = Dataset()
            targets = subset(window.images, "a window")
            if targets and len(targets) < len(refs):
                item.ReferencedImageSequence = [_image_item(t) for t in targets]
            window.fill(item)
            voi_items.append(item)
        if voi_items:
            self.SoftcopyVOILUTSequence = voi_items
        # --- Softcopy Presentation LUT (C.11.6) -----------------------------------------------------
        if presentation_lut_shape not in ("IDENTITY", "INVERSE"):
            raise DicomConformanceError(
                f"Presentation LUT Shape must be IDENTITY or INVERSE, got {presentation_lut_shape!r} (C.11.6)"
            )
        if self.PRESENTATION_LUT:
            self.PresentationLUTShape = presentation_lut_shape
        elif presentation_lut_shape != "IDENTITY":
            raise DicomConformanceError(f"a {self.SOP_CLASS_NAME} cannot invert the images (no Presentation LUT)")
        if self.COLOR and not self.PALETTE and any(int(r.header.get("SamplesPerPixel", 1)) != 3 for r in refs):
            raise DicomConformanceError(
                f"a {self.SOP_CLASS_NAME} applies to colour images (PS3.3 A.33.2); an image"
                " has one sample per pixel: use a grayscale or pseudo-colour one"
            )
        # --- Palette Color Lookup Table (C.7.9) -----------------------------------------------------
        if self.PALETTE:
            if not isinstance(palette, PaletteColorLUT):
                raise DicomConformanceError(f"a {self.SOP_CLASS_NAME} needs a palette colour LUT (PS3.3 A.33.3)")
            if any(int(r.header.get("SamplesPerPixel", 1)) != 1 for r in refs):
                raise DicomConformanceError("a palette colours grey images: an image has more than one sample")
            palette.fill(self)
        elif palette is not None:
            raise DicomConformanceError(f"a {self.SOP_CLASS_NAME} has no palette (use a pseudo-colour one)")
        # --- ICC Profile (C.11.15) ------------------------------------------------------------------
        if self.COLOR:
            self.ICCProfile = icc_profile if icc_profile is not None else _image_icc(refs)
        elif icc_profile is not None:
            raise DicomConformanceError(f"a {self.SOP_CLASS_NAME} has no ICC profile")
        check_object(self)
        set_native_encoding(self)

    @staticmethod
    def _default_areas(refs: list[ReferencedImage]) -> list[DisplayedArea]:
        """One displayed area per distinct (size, spacing): the whole image, scaled to fit."""
        groups: dict[tuple[tuple[int, int], tuple[float, float] | None], list[str]] = {}
        for ref in refs:
            spacing = ref.header.get("PixelSpacing")  # VM 2
            key = (ref.size, cast("tuple[float, float]", tuple(float(v) for v in spacing)) if spacing else None)
            groups.setdefault(key, []).append(ref.sop_instance_uid)
        out = []
        for ((columns, rows), spacing), uids in groups.items():
            out.append(
                DisplayedArea((1, 1), (columns, rows), pixel_spacing=spacing, images=uids if len(groups) > 1 else ())
            )
        return out

    def _modality_lut(self, refs: list[ReferencedImage]) -> None:
        def ds(value: Any) -> str | None:  # the spelling of a source's DS is not kept (see canonical_ds)
            return None if value is None or value == "" else canonical_ds(str(value))

        rescales = {
            (
                ds(r.header.get("RescaleSlope")),
                ds(r.header.get("RescaleIntercept")),
                r.header.get("RescaleType"),
                r.header.get("Modality"),
            )
            for r in refs
        }
        with_rescale = {x for x in rescales if x[1] is not None}
        if not with_rescale:
            return
        if len(rescales) > 1:
            raise DicomConformanceError(
                "the images have different rescale slopes/intercepts; one presentation state has one Modality"
                " LUT (C.11.1): make one presentation state per group of images"
            )
        slope, intercept, rescale_type, modality = with_rescale.pop()
        self.RescaleIntercept = intercept
        self.RescaleSlope = slope if slope is not None else 1
        self.RescaleType = rescale_type or ("HU" if modality == "CT" else "US")

    @staticmethod
    def _voi_from_images(refs: list[ReferencedImage]) -> list[SoftcopyVOI]:
        """Each image's first window, grouped: images with the same window share one item."""
        groups: dict[tuple[float, float], list[str]] = {}

        def first(v: Any) -> float:
            return float(v[0]) if isinstance(v, (list, pydicom.multival.MultiValue)) else float(v)

        for ref in refs:
            center, width = ref.header.get("WindowCenter"), ref.header.get("WindowWidth")
            if center is None or width is None:
                continue
            groups.setdefault((first(center), first(width)), []).append(ref.sop_instance_uid)
        everyone = len(groups) == 1 and sum(len(u) for u in groups.values()) == len(refs)
        return [SoftcopyVOI(c, w, images=() if everyone else uids) for (c, w), uids in groups.items()]

    # -- reading ---------------------------------------------------------------------------------
    @classmethod
    def from_dataset(cls, ds: Dataset) -> SoftcopyPresentationState:
        """Wrap a dataset read from a file (a presentation state of this class, of any writer) for the
        read-side methods."""
        return wrap_file_of_class(cls, ds, cls.SOP_CLASS_UID, f"{cls.SOP_CLASS_NAME} Storage")

    def palette(self) -> PaletteColorLUT | None:
        """The palette colour LUT (a pseudo-colour state), named when it is a well-known one, or None."""
        if "RedPaletteColorLookupTableDescriptor" not in self:
            return None
        return PaletteColorLUT.from_dataset(self)

    def groups(self) -> dict[int, str]:
        """Graphic Group ID -> label of the graphic groups."""
        return {int(g.GraphicGroupID): str(g.GraphicGroupLabel) for g in self.get("GraphicGroupSequence", [])}

    def referenced_images(self) -> list[tuple[str, str, tuple[int, ...]]]:
        """(Series Instance UID, SOP Instance UID, frames) of every image the state applies to."""
        out = []
        for series in self.get("ReferencedSeriesSequence", []):
            for item in series.get("ReferencedImageSequence", []):
                out.append(
                    (
                        str(series.SeriesInstanceUID),
                        str(item.ReferencedSOPInstanceUID),
                        _ints(item.get("ReferencedFrameNumber")),
                    )
                )
        return out

    def _applies(self, item: Dataset, sop_instance_uid: str) -> bool:
        refs = item.get("ReferencedImageSequence")
        return not refs or any(str(r.ReferencedSOPInstanceUID) == sop_instance_uid for r in refs)

    def window(self, sop_instance_uid: str) -> tuple[float, float] | None:
        """(centre, width) of the window applied to the image, or None."""
        self._check_referenced(sop_instance_uid)
        for item in self.get("SoftcopyVOILUTSequence", []):
            if self._applies(item, sop_instance_uid) and "WindowCenter" in item:
                return float(_first(item.WindowCenter)), float(_first(item.WindowWidth))
        return None

    def graphics(self, sop_instance_uid: str) -> list[DrawnGraphic]:
        """Graphics drawn on the image, with (column, row) points as written."""
        self._check_referenced(sop_instance_uid)
        out = []
        for item in self.get("GraphicAnnotationSequence", []):
            if not self._applies(item, sop_instance_uid):
                continue
            for g in item.get("GraphicObjectSequence", []):
                points = np.asarray([float(v) for v in g.GraphicData], dtype=np.float64).reshape(-1, 2)
                units = str(g.GraphicAnnotationUnits)
                out.append(
                    DrawnGraphic(
                        str(item.GraphicLayer),
                        str(g.GraphicType),
                        points,
                        units,
                        g.get("GraphicFilled") == "Y",
                        _group(g),
                        self._to_pixels(sop_instance_uid, points, units),
                    )
                )
        return out

    def texts(self, sop_instance_uid: str) -> list[DrawnText]:
        self._check_referenced(sop_instance_uid)
        out = []
        for item in self.get("GraphicAnnotationSequence", []):
            if not self._applies(item, sop_instance_uid):
                continue
            for t in item.get("TextObjectSequence", []):
                # Anchor Point and the Bounding Box corners have VM 2 (PS3.3 C.10.5)
                anchor = cast(
                    "tuple[float, float] | None",
                    tuple(float(v) for v in t.AnchorPoint) if "AnchorPoint" in t else None,
                )
                box = cast(
                    "tuple[tuple[float, float], tuple[float, float]] | None",
                    (
                        tuple(float(v) for v in t.BoundingBoxTopLeftHandCorner),
                        tuple(float(v) for v in t.BoundingBoxBottomRightHandCorner),
                    )
                    if "BoundingBoxTopLeftHandCorner" in t
                    else None,
                )
                units = str(t.get("AnchorPointAnnotationUnits") or t.get("BoundingBoxAnnotationUnits"))
                pixel_anchor = pixel_box = None
                if anchor is not None:
                    pixel_anchor = tuple(
                        self._to_pixels(sop_instance_uid, np.array([anchor]), str(t.AnchorPointAnnotationUnits))[
                            0
                        ].tolist()
                    )
                if box is not None:
                    corners = self._to_pixels(sop_instance_uid, np.array(box), str(t.BoundingBoxAnnotationUnits))
                    pixel_box = (tuple(corners[0].tolist()), tuple(corners[1].tolist()))
                out.append(
                    DrawnText(
                        str(item.GraphicLayer),
                        str(t.UnformattedTextValue),
                        anchor,
                        box,
                        units,
                        _group(t),
                        pixel_anchor,
                        pixel_box,
                        str(t.get("BoundingBoxTextHorizontalJustification") or "LEFT"),
                        t.get("AnchorPointVisibility") != "N",
                    )
                )
        return out

    def spatial(self) -> tuple[int, bool]:
        """(Image Rotation clockwise in degrees, horizontal flip) of the Spatial Transformation (C.10.6)."""
        return int(self.get("ImageRotation", 0) or 0), self.get("ImageHorizontalFlip") == "Y"

    def displayed_area(self, sop_instance_uid: str) -> tuple[tuple[int, int], tuple[int, int], str]:
        """(top left, bottom right, Presentation Size Mode) of the image's displayed area, as written: the
        (column, row) pixel numbers shown at the top left and bottom right corners (C.10.4)."""
        self._check_referenced(sop_instance_uid)
        for item in self.get("DisplayedAreaSelectionSequence", []):
            if self._applies(item, sop_instance_uid):
                tl = tuple(int(v) for v in item.DisplayedAreaTopLeftHandCorner)
                br = tuple(int(v) for v in item.DisplayedAreaBottomRightHandCorner)
                return tl, br, str(item.PresentationSizeMode)  # type: ignore[return-value]
        raise KeyError(f"no displayed area applies to image {sop_instance_uid}")

    def display_to_pixel(self, sop_instance_uid: str, points: ArrayLike) -> NDArray[np.float64]:
        """DISPLAY points (fractions 0..1 of the displayed area, x to the right, y down as shown) to the
        image's pixel coordinates (column, row; 0,0 the top left corner of the top left pixel; C.10.5.1.2),
        through the displayed area, the rotation and the flip (C.10.4, C.10.6)."""
        (a, b), (c, d), _ = self.displayed_area(sop_instance_uid)
        # the edges of the shown corner pixels: the corner of pixel (a, b) that is outermost towards (c, d)
        left, top = (a - 1 if a <= c else a), (b - 1 if b <= d else b)
        right, bottom = (c if c >= a else c - 1), (d if d >= b else d - 1)
        rotation, _ = self.spatial()
        p = np.asarray(points, dtype=np.float64)
        fx, fy = p[:, 0], p[:, 1]
        if rotation in (90, 270):  # display x runs along the image's rows
            return np.stack([left + fy * (right - left), top + fx * (bottom - top)], axis=1)
        return np.stack([left + fx * (right - left), top + fy * (bottom - top)], axis=1)

    def _to_pixels(self, sop_instance_uid: str, points: np.ndarray, units: str) -> np.ndarray:
        return self.display_to_pixel(sop_instance_uid, points) if units == "DISPLAY" else points

    def shutter(self) -> dict[str, Any] | None:
        """The display shutter as {'rectangle': (left, right, upper, lower), 'circle': ((column, row), radius),
        'polygon': [(column, row), ...], 'presentation_value': int}, or None."""
        if "ShutterShape" not in self:
            return None
        shapes = set(_strs(self.ShutterShape))
        out: dict[str, Any] = {"presentation_value": self.get("ShutterPresentationValue")}
        if "ShutterPresentationColorCIELabValue" in self:
            out["color"] = dicom_lab_to_rgb([int(v) for v in self.ShutterPresentationColorCIELabValue])
        if "BITMAP" in shapes:
            out["bitmap"] = read_overlay(self, int(self.ShutterOverlayGroup))
        if "RECTANGULAR" in shapes:
            out["rectangle"] = (
                int(self.ShutterLeftVerticalEdge),
                int(self.ShutterRightVerticalEdge),
                int(self.ShutterUpperHorizontalEdge),
                int(self.ShutterLowerHorizontalEdge),
            )
        if "CIRCULAR" in shapes:
            row, column = (int(v) for v in self.CenterOfCircularShutter)
            out["circle"] = ((column, row), int(self.RadiusOfCircularShutter))
        if "POLYGONAL" in shapes:
            flat = [int(v) for v in self.VerticesOfThePolygonalShutter]
            out["polygon"] = [(flat[i + 1], flat[i]) for i in range(0, len(flat), 2)]
        return out

    def _check_referenced(self, sop_instance_uid: str) -> None:
        if sop_instance_uid not in {uid for _, uid, _ in self.referenced_images()}:
            raise KeyError(f"the presentation state does not apply to image {sop_instance_uid}")


def _group(item: Dataset) -> int | None:
    return int(item.GraphicGroupID) if "GraphicGroupID" in item else None


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, (list, tuple, pydicom.multival.MultiValue)) else value


def _ints(value: Any) -> tuple[int, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, (list, tuple, pydicom.multival.MultiValue)):
        return tuple(int(v) for v in value)
    return (int(value),)


def _strs(value: Any) -> list[str]:
    if isinstance(value, (list, tuple, pydicom.multival.MultiValue)):
        return [str(v) for v in value]
    return [str(value)]


class GrayscaleSoftcopyPresentationState(SoftcopyPresentationState):
    """Grayscale Softcopy Presentation State Storage (PS3.3 A.33.1): window, presentation LUT, shutters,
    displayed area, rotation, graphic layers, groups and annotations for grey images.

    >>> from dcmspec_compiler.iods.pr import GrayscaleSoftcopyPresentationState, SoftcopyVOI
    >>> from dcmspec_compiler.testing.examples import ct_header, identity
    >>> pr = GrayscaleSoftcopyPresentationState([ct_header()], voi=[SoftcopyVOI(40, 400)], **identity())
    >>> pr.window(pr.referenced_images()[0][1])
    (40.0, 400.0)
    >>> import pathlib, tempfile
    >>> from dcmspec_compiler.iods.pr import prread
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     pr.save_as(pathlib.Path(folder) / "pr.dcm", enforce_file_format=True)
    ...     type(prread(pathlib.Path(folder) / "pr.dcm")).__name__
    'GrayscaleSoftcopyPresentationState'
    """

    SOP_CLASS_UID: ClassVar[str] = GSPS_SOP_CLASS_UID
    SOP_CLASS_NAME: ClassVar[str] = "Grayscale Softcopy Presentation State"


class ColorSoftcopyPresentationState(SoftcopyPresentationState):
    """Color Softcopy Presentation State Storage (PS3.3 A.33.2): for colour images, with their ICC profile;
    shutters, displayed area, rotation, graphic layers, groups and annotations; no window.

    >>> from dcmspec_compiler.iods.pr import ColorSoftcopyPresentationState
    >>> from dcmspec_compiler.testing.examples import rgb_header, identity
    >>> pr = ColorSoftcopyPresentationState([rgb_header()], **identity())
    >>> len(pr.ICCProfile) > 128, "SoftcopyVOILUTSequence" in pr
    (True, False)
    >>> import pathlib, tempfile
    >>> from dcmspec_compiler.iods.pr import prread
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     pr.save_as(pathlib.Path(folder) / "pr.dcm", enforce_file_format=True)
    ...     type(prread(pathlib.Path(folder) / "pr.dcm")).__name__
    'ColorSoftcopyPresentationState'
    """

    SOP_CLASS_UID: ClassVar[str] = COLOR_PS_SOP_CLASS_UID
    SOP_CLASS_NAME: ClassVar[str] = "Color Softcopy Presentation State"
    GRAYSCALE_PIPELINE: ClassVar[bool] = False
    PRESENTATION_LUT: ClassVar[bool] = False
    COLOR: ClassVar[bool] = True


class PseudoColorSoftcopyPresentationState(SoftcopyPresentationState):
    """Pseudo-Color Softcopy Presentation State Storage (PS3.3 A.33.3): grey images shown through a window
    and a palette colour LUT (a well-known palette, referenced by UID and embedded, or a custom one).

    >>> from dcmspec_compiler.testing.examples import ct_header, identity
    >>> from dcmspec_compiler.iods.pr import PaletteColorLUT, PseudoColorSoftcopyPresentationState, SoftcopyVOI
    >>> pr = PseudoColorSoftcopyPresentationState([ct_header()], voi=[SoftcopyVOI(40, 400)],
    ...                                           palette=PaletteColorLUT.well_known("HOT_IRON"), **identity())
    >>> pr.palette().label, pr.PaletteColorLookupTableUID, pr.palette().rgb[200].tolist()
    ('HOT_IRON', '1.2.840.10008.1.5.1', [255, 144, 36])
    >>> import pathlib, tempfile
    >>> from dcmspec_compiler.iods.pr import prread
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     pr.save_as(pathlib.Path(folder) / "pr.dcm", enforce_file_format=True)
    ...     type(prread(pathlib.Path(folder) / "pr.dcm")).__name__
    'PseudoColorSoftcopyPresentationState'
    """

    SOP_CLASS_UID: ClassVar[str] = PSEUDO_COLOR_PS_SOP_CLASS_UID
    SOP_CLASS_NAME: ClassVar[str] = "Pseudo-Color Softcopy Presentation State"
    PRESENTATION_LUT: ClassVar[bool] = False
    COLOR: ClassVar[bool] = True
    PALETTE: ClassVar[bool] = True


PRESENTATION_STATE_CLASSES: dict[str, type[SoftcopyPresentationState]] = {
    c.SOP_CLASS_UID: c
    for c in (GrayscaleSoftcopyPresentationState, ColorSoftcopyPresentationState, PseudoColorSoftcopyPresentationState)
}


def _image_icc(refs: Sequence[ReferencedImage]) -> bytes:
    """The images' ICC profile (C.11.15) when the first has one, else an sRGB profile."""
    profile = refs[0].header.get("ICCProfile")
    return bytes(profile) if profile else srgb_icc_profile()


def prread(source: str | Path | Dataset) -> SoftcopyPresentationState:
    """Read a Grayscale, Color or Pseudo-Color Softcopy or an Advanced Blending Presentation State (path or
    dataset) as its class; other SOP classes are refused."""
    ds = source if isinstance(source, Dataset) else pydicom.dcmread(str(source))
    from .blending import ABPS_SOP_CLASS_UID, AdvancedBlendingPresentationState

    if str(ds.get("SOPClassUID", "")) == ABPS_SOP_CLASS_UID:
        return AdvancedBlendingPresentationState.from_dataset(ds)  # type: ignore[return-value]
    cls = PRESENTATION_STATE_CLASSES.get(str(ds.get("SOPClassUID", "")))
    if cls is None:
        raise DicomConformanceError(
            f"SOP Class {ds.get('SOPClassUID')} is not a softcopy presentation state"
            " this reader knows"
            f" ({', '.join(c.SOP_CLASS_NAME for c in PRESENTATION_STATE_CLASSES.values())})"
        )
    return cls.from_dataset(ds)
