"""Outlines of 2D masks along pixel edges, for drawing segments as graphics (PS3.3 C.10.5.1.2).

Pixel (row r, column c) covers the square [c, c+1] x [r, r+1] of the image's pixel coordinates, in which
0.0\\0.0 is the top left corner of the top left pixel: the outlines here are exact, and filling them with
the even-odd rule gives back the mask. Every outline is closed (its first vertex repeats at the end) and
keeps only its corners. Outer boundaries run clockwise on screen (rows grow downwards), holes the other
way; pixels that touch only at a corner get separate outlines (4-connectivity).

The work is vectorised over every frame at once: boundary edges, their successors and their order along
each outline are found with array operations (pointer jumping), with no Python loop over edges.
"""

from __future__ import annotations

import numpy as np

__all__ = ["frame_outlines", "mask_outlines"]

# Directions, clockwise on screen: +x, +y (down), -x, -y. A right turn is d + 1 (mod 4).
_DX = np.array([1, 0, -1, 0], dtype=np.int64)
_DY = np.array([0, 1, 0, -1], dtype=np.int64)


def _edges(masks: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Directed boundary edges (frame, x, y of the start vertex, direction), inside on the right.

    Only the bounding box of what is set is scanned, with flat indices (cheaper than 3D ``nonzero``).
    """
    masks = masks.astype(bool, copy=False)
    rows = np.flatnonzero(masks.any(axis=(0, 2)))
    cols = np.flatnonzero(masks.any(axis=(0, 1)))
    if rows.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, empty
    r0, c0 = int(rows[0]), int(cols[0])
    box = masks[:, r0 : int(rows[-1]) + 1, c0 : int(cols[-1]) + 1]
    m = np.pad(box, ((0, 0), (1, 1), (1, 1)))
    inside = m[:, 1:-1, 1:-1]
    h, w = inside.shape[1:]
    frames, xs, ys, ds = [], [], [], []
    # (outside neighbour, dx, dy of the start vertex from the pixel's top left corner, direction)
    for neighbour, ox, oy, d in (
        (m[:, :-2, 1:-1], 0, 0, 0),  # above: top edge, +x
        (m[:, 1:-1, 2:], 1, 0, 1),  # right: right edge, +y
        (m[:, 2:, 1:-1], 1, 1, 2),  # below: bottom edge, -x
        (m[:, 1:-1, :-2], 0, 1, 3),
    ):  # left: left edge, -y
        flat = np.flatnonzero(inside & ~neighbour)
        f, rest = np.divmod(flat, h * w)
        r, c = np.divmod(rest, w)
        frames.append(f)
        xs.append(c + (c0 + ox))
        ys.append(r + (r0 + oy))
        ds.append(np.full(flat.size, d, dtype=np.int64))
    return (np.concatenate(frames), np.concatenate(xs), np.concatenate(ys), np.concatenate(ds))


def _successors(vertex_start: np.ndarray, vertex_end: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """Index of the edge that follows each edge: the one leaving its end vertex; at a vertex two
    outlines touch (two edges leave it) the right turn, which keeps corner-touching pixels apart."""
    order = np.argsort(vertex_start, kind="stable")
    starts = vertex_start[order]
    first = np.searchsorted(starts, vertex_end, side="left")
    count = np.searchsorted(starts, vertex_end, side="right") - first
    if (count < 1).any() or (count > 2).any():  # pragma: no cover - impossible for a pixel mask
        raise AssertionError("broken boundary: every vertex has one or two leaving edges")
    succ = order[first]
    two = np.nonzero(count == 2)[0]
    if two.size:
        alternative = order[first[two] + 1]
        wanted = (direction[two] + 1) % 4
        use_alt = direction[alternative] == wanted
        succ[two[use_alt]] = alternative[use_alt]
    return succ


def _cycle_order(succ: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(cycle label, sort key along the cycle) of every edge of the permutation ``succ``.

    The label is the smallest edge index on the cycle, found by pointer jumping: after a round with jump
    length 2**k changes nothing, no cycle is longer than 2**k and every label is final. The key is minus
    the number of steps to the edge before the cycle's head, found by list ranking (pointer jumping again)
    once each cycle is cut there.
    """
    n = len(succ)
    label = np.arange(n)
    nxt = succ.copy()
    while True:
        new = np.minimum(label, label[nxt])
        if np.array_equal(new, label):
            break
        label = new
        nxt = nxt[nxt]
    head = label == np.arange(n)
    into_head = head[succ]  # the edge whose successor is its cycle's head ends the cut list
    nxt = np.where(into_head, -1, succ)
    dist = (~into_head).astype(np.int64)
    live = np.flatnonzero(nxt >= 0)
    while live.size:
        target = nxt[live]
        dist[live] += dist[target]
        nxt[live] = nxt[target]
        live = live[nxt[live] >= 0]
    return label, -dist


def frame_outlines(masks: np.ndarray) -> list[list[np.ndarray]]:
    """Outlines of each frame of ``masks`` (frames, rows, columns): per frame, a list of closed (n, 2)
    float arrays of (column, row) vertices."""
    masks = np.asarray(masks)
    if masks.ndim != 3:
        raise ValueError("masks must be (frames, rows, columns)")
    out: list[list[np.ndarray]] = [[] for _ in range(masks.shape[0])]
    frames, xs, ys, ds = _edges(masks)
    if frames.size == 0:
        return out
    width = masks.shape[2] + 1
    plane = (masks.shape[1] + 1) * width
    start = frames * plane + ys * width + xs
    end = frames * plane + (ys + _DY[ds]) * width + (xs + _DX[ds])
    succ = _successors(start, end, ds)
    label, rank = _cycle_order(succ)
    order = np.lexsort((rank, label))  # edges in cycle order, cycles by label
    label_o = label[order]
    corner = ds[order] != ds[succ[order]]  # the vertex where an edge ends is a corner if the direction turns
    # keep the end vertex of every edge that turns: these are an outline's corners, in order
    keep = order[corner]
    keep_label = label_o[corner]
    end_x = xs[keep] + _DX[ds[keep]]
    end_y = ys[keep] + _DY[ds[keep]]
    bounds = np.flatnonzero(np.diff(keep_label)) + 1
    for idx in np.split(np.arange(len(keep)), bounds):
        pts = np.stack([end_x[idx], end_y[idx]], axis=1).astype(np.float64)
        pts = np.vstack([pts, pts[:1]])
        out[int(frames[keep[idx[0]]])].append(pts)
    return out


def mask_outlines(mask: np.ndarray) -> list[np.ndarray]:
    """Outlines of a 2D mask (rows, columns): closed (n, 2) arrays of (column, row) vertices."""
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError("mask must be 2D (rows, columns)")
    return frame_outlines(mask[None])[0]
