"""Pictures of a source image as a viewer shows it: windowed, with segment outlines or a presentation
state's graphics burnt in (for Secondary Capture and ``--preview``).

Grey levels follow the VOI LUT's linear function (PS3.3 C.11.2.1.2.1) on the modality values (rescaled,
C.11.1), to 8 bits. Coordinates are the presentation state's (C.10.5.1.2): (column, row), 0,0 the top
left corner of the top left pixel, so pixel (r, c) covers [c, c+1) x [r, r+1).

Segment outlines are those of :mod:`~dcmspec_compiler.spatial.contours` (closed polylines along pixel
edges, the inside on the right): each edge is drawn as the pixel on its inside, so an outline drawn is
exactly the segment's pixels that have a 4-neighbour outside it. Graphics (POINT, POLYLINE,
INTERPOLATED, CIRCLE, ELLIPSE; filled or not) are rasterised here with numpy: lines sampled at under half
a pixel, fills by pixel centres. Texts (C.10.5.1.1) are drawn with the 5 x 7 font of
:mod:`~dcmspec_compiler.iods.sc.font` upright on the picture as shown, after the displayed area (C.10.4),
rotation and flip (C.10.6) are applied by :class:`View`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np

from ...errors import DicomConformanceError
from ...spatial.contours import frame_outlines
from .font import CELL_HEIGHT, line_bitmap, text_lines

__all__ = [
    "View",
    "apply_palette",
    "default_window",
    "graphic_mask",
    "grey_to_rgb",
    "modality_values",
    "outline_mask",
    "paint",
    "segment_outlines",
    "shutter_mask",
    "text_mask",
    "window_to_bytes",
]


def modality_values(stored: np.ndarray, slope: float = 1.0, intercept: float = 0.0) -> np.ndarray:
    """Stored values through the Modality LUT's rescale (C.11.1): slope * value + intercept, float64."""
    return np.asarray(stored, dtype=np.float64) * float(slope) + float(intercept)


def default_window(values: np.ndarray) -> tuple[float, float]:
    """(centre, width) spanning the image's range, for images without a window."""
    low, high = float(values.min()), float(values.max())
    return (low + high + 1) / 2, max(high - low + 1, 1.0)


def window_to_bytes(values: np.ndarray, center: float, width: float, *, invert: bool = False) -> np.ndarray:
    """8-bit grey levels of ``values`` through the LINEAR window (C.11.2.1.2.1); ``invert``: the
    presentation LUT INVERSE (C.11.6)."""
    if not width >= 1:
        raise DicomConformanceError(f"Window Width {width} must be at least 1 (C.11.2.1.2)")
    x = np.asarray(values, dtype=np.float64)
    if width == 1:  # the step the formula tends to
        out = np.where(x <= center - 0.5, 0.0, 255.0)
    else:
        out = np.clip(((x - (center - 0.5)) / (width - 1) + 0.5) * 255.0, 0.0, 255.0)
    out = np.rint(out).astype(np.uint8)
    return 255 - out if invert else out


def grey_to_rgb(grey: np.ndarray) -> np.ndarray:
    """(rows, columns) uint8 -> (rows, columns, 3) uint8."""
    return np.repeat(np.asarray(grey, dtype=np.uint8)[..., None], 3, axis=2)


def outline_mask(outlines: Sequence[np.ndarray], shape: tuple[int, int]) -> np.ndarray:
    """The pixels drawn for pixel-edge outlines (closed (n, 2) arrays of (column, row) corners, inside on
    the right, as :func:`~dcmspec_compiler.spatial.contours.frame_outlines` gives): the inside pixel of
    every unit edge, all edges at once."""
    out = np.zeros(shape, dtype=bool)
    if not outlines:
        return out
    starts = np.concatenate([np.asarray(p, dtype=np.int64)[:-1] for p in outlines])
    ends = np.concatenate([np.asarray(p, dtype=np.int64)[1:] for p in outlines])
    delta = ends - starts
    length = np.abs(delta).sum(axis=1)
    keep = length > 0
    starts, delta, length = starts[keep], delta[keep], length[keep]
    unit = delta // length[:, None]
    if (np.abs(unit).sum(axis=1) != 1).any() or (unit * length[:, None] != delta).any():
        raise ValueError("pixel-edge outlines run along rows and columns")
    which = np.repeat(np.arange(len(length)), length)
    step = np.arange(int(length.sum())) - np.repeat(np.cumsum(length) - length, length)
    ux, uy = unit[which, 0], unit[which, 1]
    # the inside (right-hand) pixel of a unit edge from corner (x, y): +x (y, x), +y (y, x-1),
    # -x (y-1, x-1), -y (y-1, x)
    cols = starts[which, 0] + ux * step - ((uy == 1) | (ux == -1))
    rows = starts[which, 1] + uy * step - ((ux == -1) | (uy == -1))
    out[rows, cols] = True
    return out


def segment_outlines(masks: np.ndarray) -> np.ndarray:
    """The outline pixels of a 2D mask, or of each frame of a (frames, rows, columns) stack: its outlines
    (:func:`~dcmspec_compiler.spatial.contours.frame_outlines`, all frames traced at once) drawn."""
    masks = np.asarray(masks, dtype=bool)
    stack = masks if masks.ndim == 3 else masks[None]
    out = np.stack([outline_mask(polys, stack.shape[1:]) for polys in frame_outlines(stack)])
    return out if masks.ndim == 3 else out[0]


def _line_pixels(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) samples along a polyline, at most half a pixel apart."""
    xs, ys = [points[:1, 0]], [points[:1, 1]]
    for a, b in pairwise(points):
        n = max(int(math.ceil(float(np.hypot(*(b - a))) * 2)), 1)
        t = np.arange(1, n + 1) / n
        xs.append(a[0] + (b[0] - a[0]) * t)
        ys.append(a[1] + (b[1] - a[1]) * t)
    return np.concatenate(xs), np.concatenate(ys)


def _ellipse(points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centre, major and minor semi-axis vectors of an ELLIPSE (major axis end points, then minor's)."""
    centre = (points[0] + points[1]) / 2
    return centre, (points[1] - points[0]) / 2, (points[3] - points[2]) / 2


def _inside_polygon(points: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Even-odd rule at (x, y), vectorised over the polygon's edges."""
    inside = np.zeros(x.shape, dtype=bool)
    for (x0, y0), (x1, y1) in zip(points[:-1], np.roll(points, -1, axis=0)[:-1]):
        crosses = (y0 > y) != (y1 > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            at = x0 + (y - y0) * (x1 - x0) / (y1 - y0)
        inside ^= crosses & (x < at)
    return inside


def graphic_mask(graphic_type: str, points: np.ndarray, shape: tuple[int, int], *, filled: bool = False) -> np.ndarray:
    """The pixels a graphic covers on an image of ``shape`` (rows, columns); ``points`` (n, 2) of
    (column, row) in PIXEL units."""
    rows, cols = shape
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    out = np.zeros(shape, dtype=bool)
    if filled and graphic_type in ("POLYLINE", "INTERPOLATED", "CIRCLE", "ELLIPSE"):
        yy, xx = np.mgrid[0:rows, 0:cols].astype(np.float64) + 0.5
        if graphic_type == "CIRCLE":
            r = np.hypot(*(pts[1] - pts[0]))
            out |= (xx - pts[0, 0]) ** 2 + (yy - pts[0, 1]) ** 2 <= r * r
        elif graphic_type == "ELLIPSE":
            centre, major, minor = _ellipse(pts)
            d = np.stack([xx - centre[0], yy - centre[1]], axis=-1)
            a2, b2 = float(major @ major), float(minor @ minor)
            if a2 > 0 and b2 > 0:
                out |= (d @ major) ** 2 / a2**2 + (d @ minor) ** 2 / b2**2 <= 1
        else:
            out |= _inside_polygon(pts, xx, yy)
    if graphic_type == "POINT":
        x, y = pts[:, 0], pts[:, 1]
        xs = np.concatenate([x + dx for dx in (-1, 0, 1, 0, 0)])
        ys = np.concatenate([y + dy for dy in (0, 0, 0, -1, 1)])
    elif graphic_type in ("POLYLINE", "INTERPOLATED"):
        xs, ys = _line_pixels(pts)
    elif graphic_type == "CIRCLE":
        r = float(np.hypot(*(pts[1] - pts[0])))
        t = np.linspace(0, 2 * np.pi, max(int(math.ceil(4 * np.pi * r)), 8) + 1)
        xs, ys = pts[0, 0] + r * np.cos(t), pts[0, 1] + r * np.sin(t)
    elif graphic_type == "ELLIPSE":
        centre, major, minor = _ellipse(pts)
        n = max(int(math.ceil(4 * np.pi * max(np.hypot(*major), np.hypot(*minor)))), 8) + 1
        t = np.linspace(0, 2 * np.pi, n)
        xs = centre[0] + major[0] * np.cos(t) + minor[0] * np.sin(t)
        ys = centre[1] + major[1] * np.cos(t) + minor[1] * np.sin(t)
    else:
        raise DicomConformanceError(
            f"graphic type {graphic_type!r} is not one of POINT, POLYLINE, INTERPOLATED, CIRCLE, ELLIPSE (C.10.5.1.2)"
        )
    c, r = np.floor(xs).astype(np.int64), np.floor(ys).astype(np.int64)
    ok = (c >= 0) & (c < cols) & (r >= 0) & (r < rows)
    out[r[ok], c[ok]] = True
    return out


def shutter_mask(shutter: dict[str, Any], shape: tuple[int, int]) -> np.ndarray:
    """The pixels a display shutter leaves visible (C.7.6.11): inside every shape it has. ``shutter`` as
    :meth:`~dcmspec_compiler.iods.pr.GrayscaleSoftcopyPresentationState.shutter` gives it (edges, centre and
    vertices in pixel numbers counted from 1)."""
    rows, cols = shape
    r, c = np.mgrid[1 : rows + 1, 1 : cols + 1]
    visible = np.ones(shape, dtype=bool)
    if "rectangle" in shutter:
        left, right, upper, lower = shutter["rectangle"]
        visible &= (c >= left) & (c <= right) & (r >= upper) & (r <= lower)
    if "circle" in shutter:
        (column, row), radius = shutter["circle"]
        visible &= (c - column) ** 2 + (r - row) ** 2 <= radius**2
    if "polygon" in shutter:
        vertices = np.asarray(shutter["polygon"] + shutter["polygon"][:1], dtype=np.float64)
        visible &= _inside_polygon(vertices, c.astype(np.float64), r.astype(np.float64))
    if "bitmap" in shutter:  # Bitmap Display Shutter (C.7.6.15): a set bit hides the pixel
        bitmap = np.asarray(shutter["bitmap"], dtype=bool)
        if bitmap.shape != shape:
            raise DicomConformanceError(
                f"the bitmap shutter is {bitmap.shape[1]} x {bitmap.shape[0]} but the image {cols} x {rows} pixels"
            )
        visible &= ~bitmap
    return visible


def apply_palette(grey: np.ndarray, rgb: np.ndarray) -> np.ndarray:
    """8-bit VOI output ``grey`` through a palette colour LUT of ``rgb`` (entries x 3): the VOI output range
    scaled to the palette's whole input range (PS3.4 N.2.4.2), so 0 -> the first entry, 255 -> the last."""
    table = np.asarray(rgb, dtype=np.uint8)
    index = np.rint(np.asarray(grey, dtype=np.float64) * ((len(table) - 1) / 255.0)).astype(np.intp)
    return np.ascontiguousarray(table[index])


def paint(rgb: np.ndarray, mask: np.ndarray, color: Sequence[int]) -> None:
    """Set the pixels of ``mask`` in ``rgb`` (rows, columns, 3) to ``color``, in place."""
    rgb[np.asarray(mask, dtype=bool)] = np.asarray(color, dtype=np.uint8)


@dataclass(frozen=True)
class View:
    """How a stored image is shown (PS3.3 C.10.4, C.10.6): the displayed area, a rectangle of the stored image
    (``left``..``right``, ``top``..``bottom``: pixel numbers counted from 1, inclusive, possibly beyond the
    image), cut out (what lies outside the image is black), rotated clockwise, flipped horizontally, then
    scaled by ``scale`` (nearest neighbour)."""

    left: int
    top: int
    right: int
    bottom: int
    rotation: int = 0
    flip: bool = False
    scale: float = 1.0

    def picture(self, rgb: np.ndarray) -> np.ndarray:
        """The (rows, columns, 3) stored picture ``rgb`` as shown."""
        rows, cols = rgb.shape[:2]
        out = np.zeros((self.bottom - self.top + 1, self.right - self.left + 1) + rgb.shape[2:], dtype=rgb.dtype)
        r0, r1 = max(self.top - 1, 0), min(self.bottom, rows)
        c0, c1 = max(self.left - 1, 0), min(self.right, cols)
        if r0 < r1 and c0 < c1:
            out[r0 - self.top + 1 : r1 - self.top + 1, c0 - self.left + 1 : c1 - self.left + 1] = rgb[r0:r1, c0:c1]
        out = np.rot90(out, k=-((self.rotation // 90) % 4))
        if self.flip:
            out = out[:, ::-1]
        if self.scale != 1:
            h, w = out.shape[:2]
            out_h, out_w = max(int(round(h * self.scale)), 1), max(int(round(w * self.scale)), 1)
            ys = np.minimum(((np.arange(out_h) + 0.5) / self.scale).astype(np.int64), h - 1)
            xs = np.minimum(((np.arange(out_w) + 0.5) / self.scale).astype(np.int64), w - 1)
            out = out[ys][:, xs]
        return np.ascontiguousarray(out)

    def points(self, points: np.ndarray) -> np.ndarray:
        """(column, row) points of the stored image (0,0 its top left corner) -> points of the picture shown."""
        p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        x, y = p[:, 0] - (self.left - 1), p[:, 1] - (self.top - 1)
        w, h = self.right - self.left + 1, self.bottom - self.top + 1
        steps = (self.rotation // 90) % 4
        x, y, w = ((x, y, w), (h - y, x, h), (w - x, h - y, w), (y, w - x, h))[steps]
        if self.flip:
            x = w - x
        return np.stack([x, y], axis=1) * self.scale


def text_mask(
    text: str,
    shape: tuple[int, int],
    *,
    box: tuple[Sequence[float], Sequence[float]] | None = None,
    anchor: Sequence[float] | None = None,
    justification: str = "LEFT",
    anchor_visible: bool = True,
) -> np.ndarray:
    """The pixels of a text object (C.10.5.1.1) on a picture of ``shape``, clipped to it; ``box`` (two
    opposite corners) and ``anchor`` in the picture's (column, row) coordinates. In a box: the lines from its
    top, each LEFT, RIGHT or CENTER justified between its sides (text longer than the box runs over it); a
    visible anchor is joined to the box's nearest point by a line. Without a box: the anchor point drawn
    (when visible) as a POINT is, the lines beside it, to its right (to its left where the right has no
    room), centred on it vertically."""
    lines = [line_bitmap(line) for line in text_lines(text)]
    out = np.zeros(shape, dtype=bool)
    widest = max(b.shape[1] for b in lines)
    if box is not None:
        (x0, x1), (y0, y1) = sorted((box[0][0], box[1][0])), sorted((box[0][1], box[1][1]))
        top = int(math.floor(y0))
        lefts = [
            int(math.floor(x0))
            if justification == "LEFT"
            else int(math.ceil(x1)) - b.shape[1]
            if justification == "RIGHT"
            else int(math.floor((x0 + x1 - b.shape[1]) / 2))
            for b in lines
        ]
        if anchor is not None and anchor_visible:
            near = [min(max(anchor[0], x0), x1), min(max(anchor[1], y0), y1)]
            out |= graphic_mask("POLYLINE", np.array([anchor, near], dtype=np.float64), shape)
    else:
        assert anchor is not None, "a text needs a box or an anchor"
        ax, ay = int(math.floor(anchor[0])), int(math.floor(anchor[1]))
        left = ax + 3 if ax + 3 + widest <= shape[1] or ax - 2 - widest < 0 else ax - 2 - widest
        lefts = [left] * len(lines)
        top = ay - (len(lines) * CELL_HEIGHT - 1) // 2
        if anchor_visible:
            out |= graphic_mask("POINT", np.array([anchor], dtype=np.float64), shape)
    for i, (bitmap, left) in enumerate(zip(lines, lefts)):
        _stamp(out, bitmap, top + i * CELL_HEIGHT, left)
    return out


def _stamp(out: np.ndarray, bitmap: np.ndarray, top: int, left: int) -> None:
    """OR ``bitmap`` into ``out`` with its top left pixel at (``top``, ``left``), clipped to ``out``."""
    rows, cols = out.shape
    h, w = bitmap.shape
    r0, r1, c0, c1 = max(top, 0), min(top + h, rows), max(left, 0), min(left + w, cols)
    if r0 < r1 and c0 < c1:
        out[r0:r1, c0:c1] |= bitmap[r0 - top : r1 - top, c0 - left : c1 - left]
