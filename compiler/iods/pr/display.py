"""How referenced images are displayed: VOI window, displayed area, shutters (PS3.3 C.11.8, C.10.4, C.7.6.11).

Shutter positions are pixel numbers counted from 1 (column 1 is the left-most, row 1 the top row), as the
Display Shutter module defines them; this API takes (column, row) like the annotations and writes the
row\\column order the module uses for circular and polygonal shutters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from pydicom.dataset import Dataset
from pydicom.tag import Tag

from ...errors import DicomConformanceError
from ...io.bits import pack_bits, unpack_bits
from ..common.codes import set_element
from ..common.color import check_rgb, rgb_to_dicom_lab
from ..common.vr import check_value
from .graphics import finite

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = [
    "PRESENTATION_SIZE_MODES",
    "VOI_LUT_FUNCTIONS",
    "WINDOW_PRESETS",
    "DisplayShutter",
    "DisplayedArea",
    "SoftcopyVOI",
    "displayed_corners",
    "read_overlay",
    "write_overlay",
]

PRESENTATION_SIZE_MODES = ("SCALE TO FIT", "TRUE SIZE", "MAGNIFY")
VOI_LUT_FUNCTIONS = ("LINEAR", "LINEAR_EXACT", "SIGMOID")
#: Common CT windows (centre, width) in HU, usable by name in specs.
WINDOW_PRESETS: dict[str, tuple[float, float]] = {
    "ct-abdomen": (40.0, 400.0),
    "ct-lung": (-600.0, 1500.0),
    "ct-bone": (400.0, 1800.0),
    "ct-brain": (40.0, 80.0),
    "ct-mediastinum": (50.0, 350.0),
    "ct-liver": (60.0, 160.0),
}


@dataclass(frozen=True)
class SoftcopyVOI:
    """One item of Softcopy VOI LUT Sequence (C.11.8): a window for the images given (all when empty)."""

    center: float
    width: float
    explanation: str | None = None
    function: str | None = None
    images: Sequence[str] = ()

    def fill(self, item: Dataset) -> None:
        center = finite(self.center, "Window Center")
        width = finite(self.width, "Window Width")
        function = self.function or "LINEAR"
        if function not in VOI_LUT_FUNCTIONS:
            raise DicomConformanceError(f"VOI LUT Function {function!r} is not one of {', '.join(VOI_LUT_FUNCTIONS)}")
        if function == "LINEAR_EXACT" and width <= 0:
            raise DicomConformanceError(f"Window Width {width:g} must be > 0 for LINEAR_EXACT (PS3.3 C.11.2.1.3)")
        if function != "LINEAR_EXACT" and width < 1:
            raise DicomConformanceError(f"Window Width {width:g} must be >= 1 (PS3.3 C.11.2.1.2)")
        for keyword, value in (("WindowCenter", center), ("WindowWidth", width)):
            text = f"{value:.10g}"
            check_value(keyword, "DS", text)  # finite, 16 characters, in range (PS3.5 6.2)
            setattr(item, keyword, text)
        if self.explanation:
            if len(self.explanation) > 64:
                raise DicomConformanceError("Window Center & Width Explanation exceeds 64 characters (LO)")
            item.WindowCenterWidthExplanation = self.explanation
        if self.function:
            item.VOILUTFunction = function


@dataclass(frozen=True)
class DisplayedArea:
    """One item of Displayed Area Selection Sequence (C.10.4) for the images given (all when empty).

    ``top_left``/``bottom_right``: the area as a rectangle of the image as stored, (column, row) pixel numbers
    counted from 1 (they may lie outside the image). With a rotation or flip the corners written are those
    that end up top left and bottom right on display (C.10.4, C.10.6), which :meth:`fill` works out.
    ``pixel_spacing``: (row, column) mm of the displayed pixels (TRUE SIZE needs it); without it the aspect
    ratio is written.
    """

    top_left: tuple[int, int]
    bottom_right: tuple[int, int]
    size_mode: str = "SCALE TO FIT"
    pixel_spacing: tuple[float, float] | None = None
    aspect_ratio: tuple[int, int] = (1, 1)
    magnification: float | None = None
    images: Sequence[str] = ()

    def fill(self, item: Dataset, rotation: int = 0, horizontal_flip: bool = False) -> None:
        tl = [int(v) for v in self.top_left]
        br = [int(v) for v in self.bottom_right]
        if len(tl) != 2 or len(br) != 2 or any(not -(2**31) <= v < 2**31 for v in tl + br):
            raise DicomConformanceError("displayed area corners are (column, row) pairs of SL integers")
        if br[0] < tl[0] or br[1] < tl[1]:
            raise DicomConformanceError(
                f"displayed area: bottom right {tuple(br)} must not lie left of or above top left {tuple(tl)}"
            )
        if self.size_mode not in PRESENTATION_SIZE_MODES:
            raise DicomConformanceError(
                f"Presentation Size Mode {self.size_mode!r} is not one of {', '.join(PRESENTATION_SIZE_MODES)}"
            )
        shown_tl, shown_br = displayed_corners(tl, br, rotation, horizontal_flip)
        item.DisplayedAreaTopLeftHandCorner = shown_tl
        item.DisplayedAreaBottomRightHandCorner = shown_br
        item.PresentationSizeMode = self.size_mode
        if self.pixel_spacing is not None:
            spacing = [finite(v, "Presentation Pixel Spacing") for v in self.pixel_spacing]
            if len(spacing) != 2 or min(spacing) <= 0:
                raise DicomConformanceError("Presentation Pixel Spacing is (row, column) mm, both > 0")
            item.PresentationPixelSpacing = [f"{v:.10g}" for v in spacing]
        else:
            if self.size_mode == "TRUE SIZE":
                raise DicomConformanceError(
                    "TRUE SIZE needs the pixel spacing of the images (Presentation Pixel Spacing, C.10.4)"
                )
            ratio = [int(v) for v in self.aspect_ratio]
            if len(ratio) != 2 or min(ratio) < 1:
                raise DicomConformanceError("Presentation Pixel Aspect Ratio is two positive integers")
            item.PresentationPixelAspectRatio = ratio
        if self.size_mode == "MAGNIFY":
            if self.magnification is None or finite(self.magnification, "magnification") <= 0:
                raise DicomConformanceError("MAGNIFY needs a positive magnification ratio (C.10.4)")
            item.PresentationPixelMagnificationRatio = float(self.magnification)
        elif self.magnification is not None:
            raise DicomConformanceError("a magnification ratio goes with Presentation Size Mode MAGNIFY only")


_CORNERS = ("TL", "TR", "BR", "BL")  # clockwise


def displayed_corners(
    top_left: Sequence[int], bottom_right: Sequence[int], rotation: int, horizontal_flip: bool
) -> tuple[list[int], list[int]]:
    """The image corners of a rectangle that are shown top left and bottom right after rotating it
    ``rotation`` degrees clockwise and then flipping it horizontally (PS3.3 C.10.6)."""
    (left, top), (right, bottom) = top_left, bottom_right
    stored = {"TL": [left, top], "TR": [right, top], "BR": [right, bottom], "BL": [left, bottom]}
    steps = (rotation // 90) % 4

    def shown(corner: str) -> list[int]:  # the stored corner a clockwise rotation brings to ``corner``
        return stored[_CORNERS[(_CORNERS.index(corner) - steps) % 4]]

    if horizontal_flip:
        return shown("TR"), shown("BL")
    return shown("TL"), shown("BR")


#: The overlay group a bitmap shutter is written in (PS3.3 C.9.2: groups 6000-601E, even).
SHUTTER_OVERLAY_GROUP = 0x6000


def write_overlay(ds: Dataset, group: int, bitmap: np.ndarray, overlay_type: str = "G") -> None:
    """An Overlay Plane (PS3.3 C.9.2) in ``group`` holding ``bitmap`` (rows x columns, True = bit set),
    origin at pixel (1, 1) of the image."""
    rows, columns = bitmap.shape
    for element, vr, value in (
        (0x0010, "US", rows),
        (0x0011, "US", columns),
        (0x0040, "CS", overlay_type),
        (0x0050, "SS", [1, 1]),
        (0x0100, "US", 1),
        (0x0102, "US", 0),
    ):
        set_element(ds, Tag(group, element), vr, value)
    ds.add_new(Tag(group, 0x3000), "OW", pack_bits(bitmap.astype(bool)))


def read_overlay(ds: Dataset, group: int) -> NDArray[np.bool_]:
    """The bitmap of the Overlay Plane in ``group`` (rows x columns, True = bit set)."""
    rows, columns = int(ds[Tag(group, 0x0010)].value), int(ds[Tag(group, 0x0011)].value)
    bits = unpack_bits(bytes(ds[Tag(group, 0x3000)].value), rows * columns)
    return bits.reshape(rows, columns).astype(bool)


@dataclass(frozen=True)
class DisplayShutter:
    """Display Shutter module (C.7.6.11): any of a rectangle, a circle and a polygon; or a Bitmap Display
    Shutter (C.7.6.15): ``bitmap`` (rows x columns, True = hidden) written as an Overlay Plane (C.9.2). The
    grey level (P-value 0..65535) shown outside them; in a colour presentation state ``color`` (sRGB,
    written as CIELab; black when not given)."""

    rectangle: tuple[int, int, int, int] | None = None  # left, right (columns), upper, lower (rows)
    circle: tuple[tuple[int, int], int] | None = None  # (column, row) centre, radius in pixels
    polygon: Sequence[tuple[int, int]] | None = None  # (column, row) vertices
    presentation_value: int = 0
    bitmap: NDArray[np.bool_] | None = None  # (rows, columns)
    color: tuple[int, int, int] | None = None

    def fill(self, ds: Dataset, bounds: tuple[int, int] | None, color: bool = False) -> None:
        """``bounds``: (Columns, Rows) of the images, to refuse shutters that lie wholly outside them;
        ``color``: the presentation state shows the shutter in a colour (Color, Pseudo-Color)."""
        if color:
            lab = list(rgb_to_dicom_lab(check_rgb(self.color or (0, 0, 0))))
        elif self.color is not None:
            raise DicomConformanceError(
                "a grayscale presentation state shows the shutter in a grey level, not a"
                " colour (Shutter Presentation Value)"
            )
        if self.bitmap is not None:
            if any(v is not None for v in (self.rectangle, self.circle, self.polygon)):
                raise DicomConformanceError(
                    "a bitmap shutter goes alone: the Display Shutter (rectangle, circle,"
                    " polygon) and Bitmap Display Shutter modules are not both present"
                )
            bitmap = np.asarray(self.bitmap)
            if bitmap.ndim != 2 or bitmap.dtype != bool:
                raise DicomConformanceError("a bitmap shutter is a 2-D array of booleans (rows x columns)")
            if bounds is None or bitmap.shape != (bounds[1], bounds[0]):
                raise DicomConformanceError(
                    f"a bitmap shutter has the size of the images (rows x columns): got {bitmap.shape[0]} x"
                    f" {bitmap.shape[1]}, images {f'{bounds[1]} x {bounds[0]}' if bounds else 'of several sizes'}"
                )
            if not bitmap.any():
                raise DicomConformanceError("the bitmap shutter hides no pixel")
            ds.ShutterShape = "BITMAP"
            ds.ShutterOverlayGroup = SHUTTER_OVERLAY_GROUP
            write_overlay(ds, SHUTTER_OVERLAY_GROUP, bitmap)
            self._presentation(ds, lab if color else None)
            return
        shapes = []
        if self.rectangle is not None:
            left, right, upper, lower = (int(v) for v in self.rectangle)
            if right < left or lower < upper:
                raise DicomConformanceError("rectangular shutter: right must be >= left and lower >= upper")
            if bounds and (right < 1 or lower < 1 or left > bounds[0] or upper > bounds[1]):
                raise DicomConformanceError("rectangular shutter lies wholly outside the image")
            shapes.append("RECTANGULAR")
            ds.ShutterLeftVerticalEdge, ds.ShutterRightVerticalEdge = left, right
            ds.ShutterUpperHorizontalEdge, ds.ShutterLowerHorizontalEdge = upper, lower
        if self.circle is not None:
            (column, row), radius = self.circle
            if int(radius) < 1:
                raise DicomConformanceError("circular shutter: the radius must be at least 1 pixel")
            shapes.append("CIRCULAR")
            ds.CenterOfCircularShutter = [int(row), int(column)]
            ds.RadiusOfCircularShutter = int(radius)
        if self.polygon is not None:
            vertices = [(int(c), int(r)) for c, r in self.polygon]
            if len(vertices) < 3:
                raise DicomConformanceError("polygonal shutter needs at least 3 vertices")
            shapes.append("POLYGONAL")
            ds.VerticesOfThePolygonalShutter = [v for c, r in vertices for v in (r, c)]
        if not shapes:
            raise DicomConformanceError("a display shutter needs a rectangle, a circle or a polygon")
        ds.ShutterShape = shapes if len(shapes) > 1 else shapes[0]
        self._presentation(ds, lab if color else None)

    def _presentation(self, ds: Dataset, lab: list[int] | None) -> None:
        """Presentation State Shutter (C.11.12): the grey level, or the colour of a colour state."""
        if not 0 <= int(self.presentation_value) <= 0xFFFF:
            raise DicomConformanceError("Shutter Presentation Value is a P-value 0..65535 (US)")
        ds.ShutterPresentationValue = int(self.presentation_value)
        if lab is not None:
            ds.ShutterPresentationColorCIELabValue = lab
