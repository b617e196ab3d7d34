"""Source-series geometry checks (resolve/source_geometry.py), every problem and warning word for word, on
frames made by hand whose positions, steps and medians are worked out by hand (tests/MUTATION.md: the
mutants these kill survived the focused tests before)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np

from dcmspec_compiler.iods.common.source_frame import SourceFrame
from dcmspec_compiler.resolve.source_geometry import (
    format_number,
    format_vector,
    geometry_problems,
    geometry_warnings,
    order_frames,
    short_list,
)
from dcmspec_compiler.resolve.source_series import SourceSeries


def _frame(
    name,
    z=None,
    *,
    spacing=("0.5", "0.5"),
    thickness=None,
    instance_number=None,
    frame_number=None,
    position=None,
    orientation=("1", "0", "0", "0", "1", "0"),
) -> SourceFrame:
    if position is None and z is not None:
        position = ("0", "0", str(z))
    return SourceFrame(
        instance=SimpleNamespace(path=Path(name)),
        sop_class_uid="1.2",
        sop_instance_uid=name,
        frame_number=frame_number,
        position=position,
        orientation=orientation,
        spacing=spacing,
        thickness=thickness,
        rows=2,
        columns=2,
        instance_number=instance_number,
    )


def _warnings(*frames: SourceFrame) -> list[str]:
    return geometry_warnings(SourceSeries("1.2.3", [], list(frames)))


def test_short_list_by_hand():
    assert short_list([]) == ""
    assert short_list(["a"]) == "a"
    assert short_list(["a", "b", "c", "d"]) == "a, b, c, d"
    assert short_list(["a", "b", "c", "d", "e"]) == "a, b, c, d and 1 more"
    assert short_list(["a", "b", "c", "d", "e", "f", "g"]) == "a, b, c, d and 3 more"
    assert short_list(["a", "b", "c"], limit=2) == "a, b and 1 more"
    assert short_list(iter(["a", "b"]), limit=2) == "a, b"


def test_format_number_and_vector_by_hand():
    assert format_number(-0.0) == "0" and format_number(-1e-12) == "0" and format_number(1e-9) == "1e-09"
    assert format_number(1234567.0) == "1.23457e+06" and format_number(-2.5) == "-2.5"
    assert format_vector(np.array([1.0, -0.0, 0.5])) == "[1, 0, 0.5]"


def test_warnings_of_one_and_two_frame_series():
    assert _warnings(_frame("a", 0)) == []
    assert _warnings(_frame("a", 0), _frame("b", 1)) == []
    # two frames are enough to compare their pixel spacings (0.5 against 0.52: more than 0.01 mm apart)
    assert _warnings(_frame("a", 0), _frame("b", 1, spacing=("0.52", "0.5"))) == [
        "source frames have different Pixel Spacing"
    ]
    # 0.505 is within 0.01 mm: no warning
    assert _warnings(_frame("a", 0), _frame("b", 1, spacing=("0.505", "0.5"))) == []
    # two frames at one position: step 0, median 0
    assert _warnings(_frame("a", 0), _frame("b", 0)) == ["1 source frames share a position with another frame: b"]
    # a series without geometry has no geometry warnings
    assert _warnings(_frame("a", 0), _frame("b", None)) == []


def test_duplicate_gap_uneven_and_overlap_warnings_word_for_word():
    # steps 0, 1, 1: median 1; frame b repeats a's position (the uneven step 0 is the duplicate's)
    assert _warnings(_frame("a", 0), _frame("b", 0), _frame("c", 1), _frame("d", 2)) == [
        "1 source frames share a position with another frame: b"
    ]
    # steps 0, 0, 1, 0: three duplicates, named in order; median 0, so the step of 1 is a gap
    assert _warnings(_frame("a", 0), _frame("b", 0), _frame("c", 0), _frame("d", 1), _frame("e", 1)) == [
        "3 source frames share a position with another frame: b, c, e",
        "source slices have 1 gap(s) larger than the usual spacing 0 mm, e.g. 1 mm between c and d",
    ]
    # steps 1, 1, 2, 1, 3: median 1; two gaps, the first named
    assert _warnings(*[_frame(n, z) for n, z in zip("abcdef", (0, 1, 2, 4, 5, 8))]) == [
        "source slices have 2 gap(s) larger than the usual spacing 1 mm, e.g. 2 mm between c and d"
    ]
    # steps 1, 0.5, 1: median 1, no gap, a step of 0.5 (more than 0.01 from the median)
    assert _warnings(*[_frame(n, z) for n, z in zip("abcd", (0, 1, 1.5, 2.5))]) == [
        "source slices are unevenly spaced (0.5 to 1 mm)"
    ]
    # steps 1, 1.005, 0.995: within 0.01 mm of the median 1, even
    assert _warnings(*[_frame(n, z) for n, z in zip("abcd", (0, 1, 2.005, 3))]) == []
    # Slice Thickness 2.5 mm on 1 mm steps overlap; 1.005 mm does not (within 0.01 mm)
    assert _warnings(_frame("a", 0, thickness="1.0"), _frame("b", 1, thickness="2.5"), _frame("c", 2)) == [
        "source slices overlap: Slice Thickness 2.5 mm is larger than the spacing 1 mm"
    ]
    assert _warnings(_frame("a", 0, thickness="1.005"), _frame("b", 1), _frame("c", 2)) == []
    # duplicates: median step 0, no overlap warning even with a thickness
    assert _warnings(_frame("a", 0, thickness="2"), _frame("b", 0), _frame("c", 0)) == [
        "2 source frames share a position with another frame: b, c"
    ]


def test_every_warning_at_once():
    frames = [_frame(n, z, thickness="3") for n, z in zip("abcde", (0, 1, 1, 2, 4))]
    frames[4] = _frame("e", 4, spacing=("0.6", "0.5"))
    # steps 1, 0, 1, 2: median 1; a duplicate (c), a gap (d to e) and a thickness of 3 mm
    assert _warnings(*frames) == [
        "source frames have different Pixel Spacing",
        "1 source frames share a position with another frame: c",
        "source slices have 1 gap(s) larger than the usual spacing 1 mm, e.g. 2 mm between d and e",
        "source slices overlap: Slice Thickness 3 mm is larger than the spacing 1 mm",
    ]


def test_geometry_problems_count_duplicates_by_hand():
    # steps 0, 1, 0, 0 (tolerance 0.01 mm): three frames share a position
    frames = [_frame(n, z) for n, z in zip("abcde", (0, 0, 1, 1, 1))]
    assert geometry_problems(frames, 0.01) == ["3 frames share a position with another frame"]
    # a step equal to the tolerance is a duplicate (<=), one just above it is not
    assert geometry_problems([_frame("a", 0), _frame("b", 0.25), _frame("c", 1.25)], 0.25) == [
        "1 frames share a position with another frame"
    ]
    assert geometry_problems([_frame("a", 0), _frame("b", 0.25), _frame("c", 0.5)], 0.25) == [
        "2 frames share a position with another frame"
    ]
    assert geometry_problems([_frame("a", 0), _frame("b", 0.5), _frame("c", 1.0)], 0.25) == []


def test_geometry_problems_word_for_word():
    names = [f"f{i}" for i in range(6)]
    frames = [_frame(n, None) for n in names]
    assert geometry_problems(frames, 0.01) == [
        "6 frames have no position, orientation or pixel spacing (f0, f1, f2, f3 and 2 more)"
    ]
    assert geometry_problems([_frame("a", 0)], 0.01) == []
    # one frame: size and spacing are still compared with the first (nothing to compare: no problem)
    steps = [_frame(n, z) for n, z in zip("abcd", (0, 1, 3, 3.5))]
    assert geometry_problems(steps, 0.01) == ["slices are not evenly spaced: steps from 0.5 to 2 mm"]
    sheared = [_frame("a", position=("0", "0", "0")), _frame("b", position=("0", "0.02", "1"))]
    assert geometry_problems(sheared, 0.01) == [
        "slice positions are not stacked along the slice normal (sheared or shifted in-plane)"
    ]
    assert geometry_problems(sheared, 0.02) == []  # a 0.02 mm shift is within a 0.02 mm tolerance
    # different sizes and different spacings: both reported, in that order
    odd = SourceFrame(
        instance=None,
        sop_class_uid="1.2",
        sop_instance_uid="x",
        position=("0", "0", "1"),
        orientation=("1", "0", "0", "0", "1", "0"),
        spacing=("0.6", "0.5"),
        rows=3,
        columns=2,
    )
    assert geometry_problems([_frame("a", 0), odd], 0.01) == [
        "frames have different Rows/Columns: [(2, 2), (3, 2)]",
        "frames have different pixel spacings",
    ]


def test_order_along_a_tilted_normal_by_hand():
    # row (0, 1, 0), column (0, 0, -1): normal (-1, 0, 0); projections of x = 3, 1, 2 are -3, -1, -2
    sag = ("0", "1", "0", "0", "0", "-1")
    frames = [_frame(n, position=(str(x), "0", "0"), orientation=sag) for n, x in (("p", 3), ("q", 1), ("r", 2))]
    assert [f.sop_instance_uid for f in order_frames(frames)] == ["p", "r", "q"]
    # frames without Instance Number sort after those with one (in the fallback order)
    bare = [_frame("n1", None, instance_number=None), _frame("n2", None, instance_number=2_147_483_647)]
    assert [f.sop_instance_uid for f in order_frames(bare)] == ["n2", "n1"]


def test_a_difference_equal_to_the_tolerance_is_still_equal():
    """POSITION_TOLERANCE_MM and ORIENTATION_TOLERANCE are the largest differences "still taken as equal":
    a difference of exactly the tolerance (exact in binary floating point here) is no problem."""
    a = _frame("a", 0)
    # pixel spacings 0.5 and 0.75 differ by exactly 0.25
    assert geometry_problems([a, _frame("b", 1, spacing=("0.75", "0.5"))], 0.25) == []
    assert geometry_problems([a, _frame("b", 1, spacing=("0.75", "0.5"))], 0.125) == [
        "frames have different pixel spacings"
    ]
    # orientations differing by exactly 1e-4 (0 against 0.0001) are one orientation
    tilted = _frame("b", 1, orientation=("1", "0", "0", "0", "1", "0.0001"))
    assert geometry_problems([a, tilted], 0.01) == []
    tilted_more = _frame("b", 1, orientation=("1", "0", "0", "0", "1", "0.0002"))
    assert geometry_problems([a, tilted_more], 0.01) == ["frames have different orientations"]
    # steps 0, 0, 0.01: all three within 0.01 mm of the next frame (duplicates); median 0, so a step of
    # exactly 0.01 is no gap either
    assert _warnings(*[_frame(n, z) for n, z in zip("abcd", ("0", "0", "0", "0.01"))]) == [
        "3 source frames share a position with another frame: b, c, d"
    ]
    # steps of exactly 0.01 mm: duplicates, and a median of 0.01 mm is too small to compare a thickness with
    frames = [_frame("a", "0", thickness="1"), _frame("b", "0.01"), _frame("c", "0.02")]
    assert _warnings(*frames) == ["2 source frames share a position with another frame: b, c"]


def test_spacing_compared_with_the_first_frame_and_order_along_the_first_normal():
    # 0.5, 0.509, 0.518: each within 0.01 mm of the next, the last 0.018 mm from the first frame's
    frames = [_frame(n, z, spacing=(s, "0.5")) for n, z, s in zip("abc", (0, 1, 2), ("0.5", "0.509", "0.518"))]
    assert _warnings(*frames) == ["source frames have different Pixel Spacing"]
    # sorted along the FIRST frame's normal (0, 0, 1): z = -1, 0, 1 (the sagittal b's normal is (-1, 0, 0))
    a = _frame("a", position=("0", "0", "0"))
    b = _frame("b", position=("5", "0", "1"), orientation=("0", "1", "0", "0", "0", "-1"))
    c = _frame("c", position=("0", "0", "-1"))
    assert [f.sop_instance_uid for f in order_frames([a, b, c])] == ["c", "a", "b"]


def test_more_differences_equal_to_the_tolerance():
    # steps 1, 1, 1.5: 0.5 from the median 1, exactly a tolerance of 0.5 (binary fractions): even enough
    frames = [_frame(n, z) for n, z in zip("abcd", ("0", "1", "2", "3.5"))]
    assert geometry_problems(frames, 0.5) == []
    assert geometry_problems(frames, 0.25) == ["slices are not evenly spaced: steps from 1 to 1.5 mm"]
    # Slice Thickness 1.01 on 1 mm steps: exactly the spacing plus the tolerance (1.0 + 0.01 == 1.01 in
    # binary floating point), no overlap; 1.02 overlaps
    assert _warnings(_frame("a", 0, thickness="1.01"), _frame("b", 1), _frame("c", 2)) == []
    assert _warnings(_frame("a", 0, thickness="1.02"), _frame("b", 1), _frame("c", 2)) == [
        "source slices overlap: Slice Thickness 1.02 mm is larger than the spacing 1 mm"
    ]
    # pixel spacings 0.01 and 0.02 mm differ by exactly 0.01 (0.02 - 0.01 == 0.01): the same spacing
    assert _warnings(_frame("a", 0, spacing=("0.01", "0.01")), _frame("b", 1, spacing=("0.02", "0.01"))) == []
