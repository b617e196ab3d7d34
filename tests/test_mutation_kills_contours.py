"""Outlines of masks (``spatial/contours.py``) against oracles independent of the tracer.

Pixel coordinates as PS3.3 C.10.5.1.2 (Graphic Data of a presentation state) and C.18.6.1.2 (SCOORD) define
them: 0.0\\0.0 is the top left corner of the top left pixel, so pixel (row r, column c) is the square
[c, c+1] x [r, r+1] with its centre at (c + 0.5, r + 0.5). The oracles: vertex lists worked out by hand; the
shoelace area (an outer boundary clockwise on screen, with rows growing downwards, has a positive area in
(x, y) = (column, row), a hole a negative one: the areas add up to the number of pixels); the even-odd fill
of the outlines at the pixel centres; and the number of outlines counted by a flood fill written here
(4-connected pieces of the mask, and 8-connected pieces of the background that do not reach the border).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from dcmspec_compiler.spatial.contours import frame_outlines, mask_outlines


def _area(poly: np.ndarray) -> float:
    """Signed shoelace area in (column, row): positive when clockwise on screen (rows grow downwards)."""
    x, y = poly[:-1, 0], poly[:-1, 1]
    xn, yn = poly[1:, 0], poly[1:, 1]
    return float(np.sum(x * yn - xn * y) / 2)


def _even_odd_fill(outlines: list[np.ndarray], shape: tuple[int, int]) -> np.ndarray:
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]]
    px, py = cols + 0.5, rows + 0.5
    inside = np.zeros(shape, bool)
    for poly in outlines:
        for (x0, y0), (x1, y1) in itertools.pairwise(poly):
            if y0 == y1:
                continue
            crosses = (y0 > py) != (y1 > py)
            inside ^= crosses & (px < (x1 - x0) * (py - y0) / (y1 - y0) + x0)
    return inside


def _components(mask: np.ndarray, diagonal: bool) -> list[set[tuple[int, int]]]:
    """Connected pieces of the set pixels, by a plain flood fill (4- or 8-connectivity)."""
    steps = [(0, 1), (1, 0), (0, -1), (-1, 0)]
    if diagonal:
        steps += [(1, 1), (1, -1), (-1, 1), (-1, -1)]
    todo = {(int(r), int(c)) for r, c in zip(*np.nonzero(mask))}
    out = []
    while todo:
        stack = [todo.pop()]
        piece = set(stack)
        while stack:
            r, c = stack.pop()
            for dr, dc in steps:
                n = (r + dr, c + dc)
                if n in todo:
                    todo.remove(n)
                    piece.add(n)
                    stack.append(n)
        out.append(piece)
    return out


def _expected_counts(mask: np.ndarray) -> tuple[int, int]:
    """(outer boundaries, holes): 4-connected pieces of the mask; 8-connected background pieces inside it."""
    outer = len(_components(mask, diagonal=False))
    padded = np.pad(~mask, 1, constant_values=True)
    holes = len(_components(padded, diagonal=True)) - 1
    return outer, holes


def _check(mask: np.ndarray, outlines: list[np.ndarray]) -> None:
    areas = [_area(p) for p in outlines]
    assert sum(areas) == mask.sum()
    outer, holes = _expected_counts(mask)
    assert (sum(a > 0 for a in areas), sum(a < 0 for a in areas)) == (outer, holes)
    np.testing.assert_array_equal(_even_odd_fill(outlines, mask.shape), mask)
    for poly in outlines:
        assert poly.dtype == np.float64 and poly.ndim == 2 and poly.shape[1] == 2
        assert (poly[0] == poly[-1]).all()
        steps = np.diff(poly, axis=0)
        # along pixel edges, and only corners kept: the steps alternate between horizontal and vertical
        horizontal = steps[:, 1] == 0
        assert ((steps[:, 0] == 0) ^ horizontal).all()
        assert (horizontal != np.roll(horizontal, 1)).all()


def test_single_pixel_and_l_shape_by_hand():
    """Pixel (2, 3) of a 5x6 image is the square x 3..4, y 2..3; outlines start at the end of the first top
    edge and run clockwise on screen: right, down, left, up."""
    mask = np.zeros((5, 6), bool)
    mask[2, 3] = True
    (square,) = mask_outlines(mask)
    assert square.tolist() == [[4, 2], [4, 3], [3, 3], [3, 2], [4, 2]]
    assert _area(square) == 1.0
    ell = np.zeros((4, 4), bool)
    ell[1, 1] = ell[2, 1] = ell[2, 2] = True  # X . / X X at row 1, column 1
    (poly,) = mask_outlines(ell)
    assert poly.tolist() == [[2, 1], [2, 2], [3, 2], [3, 3], [1, 3], [1, 1], [2, 1]]
    assert _area(poly) == 3.0


def test_a_row_and_a_column_keep_only_their_corners():
    bar = np.zeros((3, 9), bool)
    bar[1, 1:8] = True
    assert [p.tolist() for p in mask_outlines(bar)] == [[[8, 1], [8, 2], [1, 2], [1, 1], [8, 1]]]
    column = np.zeros((9, 2), bool)
    column[2:9, 1] = True  # reaches the last row and the last column
    assert [p.tolist() for p in mask_outlines(column)] == [[[2, 2], [2, 9], [1, 9], [1, 2], [2, 2]]]


def test_pixels_touching_at_a_corner_are_separate_outlines():
    """4-connectivity: both diagonals of a 2x2 block give two squares; a hole touching the outside at a
    corner is no hole (one outline through that corner twice)."""
    assert [p.tolist() for p in mask_outlines(np.array([[1, 0], [0, 1]]))] == [
        [[1, 0], [1, 1], [0, 1], [0, 0], [1, 0]],
        [[2, 1], [2, 2], [1, 2], [1, 1], [2, 1]],
    ]
    assert [p.tolist() for p in mask_outlines(np.array([[0, 1], [1, 0]]))] == [
        [[2, 0], [2, 1], [1, 1], [1, 0], [2, 0]],
        [[1, 1], [1, 2], [0, 2], [0, 1], [1, 1]],
    ]
    notch = np.array([[1, 1, 1], [1, 0, 1], [1, 1, 0]], bool)
    (poly,) = mask_outlines(notch)
    assert poly.tolist() == [[3, 0], [3, 2], [2, 2], [2, 1], [1, 1], [1, 2], [2, 2], [2, 3], [0, 3], [0, 0], [3, 0]]
    assert _area(poly) == 7.0


def test_a_ring_with_two_holes_by_hand():
    mask = np.ones((3, 5), bool)
    mask[1, 1] = mask[1, 3] = False
    outer, first, second = mask_outlines(mask)
    assert outer.tolist() == [[5, 0], [5, 3], [0, 3], [0, 0], [5, 0]]
    assert first.tolist() == [[2, 2], [2, 1], [1, 1], [1, 2], [2, 2]]
    assert second.tolist() == [[4, 2], [4, 1], [3, 1], [3, 2], [4, 2]]
    assert [_area(p) for p in (outer, first, second)] == [15.0, -1.0, -1.0]


def test_frames_keep_their_own_outlines():
    masks = np.zeros((4, 3, 4), np.uint8)
    masks[1, 0, 0] = 1
    masks[3, 1:3, 2:4] = 2  # any non-zero value is set
    out = frame_outlines(masks)
    assert [len(f) for f in out] == [0, 1, 0, 1]
    assert out[1][0].tolist() == [[1, 0], [1, 1], [0, 1], [0, 0], [1, 0]]
    assert out[3][0].tolist() == [[4, 1], [4, 3], [2, 3], [2, 1], [4, 1]]
    for f in range(4):
        assert [p.tolist() for p in out[f]] == [p.tolist() for p in mask_outlines(masks[f])]


def test_random_masks_against_area_fill_and_component_count():
    rng = np.random.default_rng(2026)
    for size in [(1, 1), (1, 7), (6, 1)] + [tuple(int(v) for v in rng.integers(2, 18, 2)) for _ in range(150)]:
        mask = rng.random(size) < rng.uniform(0.2, 0.8)
        _check(mask, mask_outlines(mask))
    for shape in ((5, 9, 11), (4, 11, 3), (3, 7, 1)):  # wide and tall frames: vertex numbers of frames apart
        stack = rng.random(shape) < 0.5
        for mask, outlines in zip(stack, frame_outlines(stack)):
            _check(mask, outlines)


def test_tall_frames_stay_apart():
    """Frames of 5 rows by 2 columns: the bottom pixel of frame 0 and the top pixel of frame 1 each give their
    own unit square (a frame's vertices are numbered (rows + 1) x (columns + 1) apart)."""
    masks = np.zeros((2, 5, 2), bool)
    masks[0, 4, 0] = masks[1, 0, 0] = True
    masks[0, 3, 0] = masks[1, 1, 1] = True
    out = frame_outlines(masks)
    assert [[p.tolist() for p in f] for f in out] == [
        [[[1, 3], [1, 5], [0, 5], [0, 3], [1, 3]]],
        [[[1, 0], [1, 1], [0, 1], [0, 0], [1, 0]], [[2, 1], [2, 2], [1, 2], [1, 1], [2, 1]]],
    ]


def test_long_outlines_need_many_pointer_jumps():
    """A comb (one outline of 4 * 40 + 4 corners) and a spiral: cycles far longer than 2**k for small k."""
    comb = np.zeros((6, 81), bool)
    comb[4, :] = True
    comb[0:4, ::2] = True
    (poly,) = mask_outlines(comb)
    assert len(poly) == 2 * 41 + 2 * 40 + 2 + 1
    _check(comb, [poly])
    spiral = np.zeros((31, 31), bool)
    r, c, d, n = 0, 0, 0, 30
    moves = [(0, 1), (1, 0), (0, -1), (-1, 0)]
    while n > 0:
        for _ in range(2):
            for _ in range(n):
                spiral[r, c] = True
                r, c = r + moves[d][0], c + moves[d][1]
            d = (d + 1) % 4
        n -= 2
    _check(spiral, mask_outlines(spiral))
    assert len(mask_outlines(spiral)) == 1


def test_empty_masks_and_wrong_shapes():
    assert mask_outlines(np.zeros((3, 4), bool)) == []
    assert frame_outlines(np.zeros((2, 3, 3), bool)) == [[], []]
    with pytest.raises(ValueError, match=r"^masks must be \(frames, rows, columns\)$"):
        frame_outlines(np.zeros((3, 3), bool))
    with pytest.raises(ValueError, match=r"^mask must be 2D \(rows, columns\)$"):
        mask_outlines(np.zeros((1, 3, 3), bool))
