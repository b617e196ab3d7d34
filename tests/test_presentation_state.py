"""Grayscale Softcopy Presentation States (PS3.3 A.33.1): builder layer, outlines, spec kind.

Oracles: dciodvfy (IOD and module rules, including the displayed-area/rotation consistency it checks),
dcmtk's dcmpschk (GSPS semantics), dcmtk's dcmp2pgm (renders the image through the presentation state:
grey levels of known HU values under the window, the shutter, inversion, rotation; and re-saves the state
from dcmtk's own model, whose annotations must equal ours), an even-odd polygon fill written here (the
outlines filled give back the segment's pixels, read by highdicom), and values computed by hand.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import subprocess
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import pytest

from dcmspec_compiler.assemble.context import BuildOptions
from dcmspec_compiler.errors import DicomConformanceError
from dcmspec_compiler.iods.common.modules import ContentIdentification, Equipment
from dcmspec_compiler.iods.pr import (
    DisplayedArea,
    DisplayShutter,
    GraphicAnnotation,
    GraphicLayer,
    GraphicObject,
    GrayscaleSoftcopyPresentationState,
    SoftcopyVOI,
    TextObject,
    prread,
)
from dcmspec_compiler.iods.pr.display import displayed_corners
from dcmspec_compiler.pipeline import build_specs
from dcmspec_compiler.spatial.contours import frame_outlines, mask_outlines

from conftest import DCMTK_INSTALL, ROOT, dciodvfy_findings, require_tool

EXAMPLES = ROOT / "specs_examples"
PHANTOM = EXAMPLES / "phantom" / "ct"
#: The Laterality warning dciodvfy gives every PR: General Series Laterality is Type 2C and we write it empty
#: because it is unknown (../shared/CONFORMANCE.md: absent is an Error for PR, empty a Warning).
LATERALITY_WARNING = "attribute <Laterality>"


def _phantom() -> list[pydicom.Dataset]:
    return sorted((pydicom.dcmread(p) for p in PHANTOM.iterdir()), key=lambda d: float(d.ImagePositionPatient[2]))


def _gsps(images, **kwargs) -> GrayscaleSoftcopyPresentationState:
    args = {
        "series_instance_uid": "2.25.31",
        "series_number": 1200,
        "sop_instance_uid": "2.25.32",
        "content": ContentIdentification(1, "TEST", "test view", "Doe^Jane"),
        "presentation_datetime": dt.datetime(2024, 1, 3, 9),
        "equipment": Equipment("Lab", "Tool", "1", "SN"),
    }
    args.update(kwargs)
    return GrayscaleSoftcopyPresentationState(images, **args)


def _assert_valid(path: Path) -> None:
    errors, warnings = dciodvfy_findings(path)
    assert errors == []
    assert all(LATERALITY_WARNING in w for w in warnings), warnings
    exe = require_tool("dcmpschk", DCMTK_INSTALL)
    proc = subprocess.run([exe, str(path)], capture_output=True, text=True)
    out = proc.stdout + proc.stderr
    assert "Test passed" in out and "Test failed" not in out, out


def _render(
    pr: Path, image: Path, tmp_path: Path, save_state: Path | None = None, log: list[str] | None = None
) -> np.ndarray:
    """dcmp2pgm's rendering of ``image`` through ``pr`` (8-bit PGM). dcmtk 3.6.7 applies the modality LUT,
    VOI, presentation LUT, rotation and flip to the bitmap; it parses shutters and graphics (``log`` gets its
    verbose report, ``save_state`` its re-encoding of the state) but does not burn them in."""
    exe = require_tool("dcmp2pgm", DCMTK_INSTALL)
    out = tmp_path / f"{pr.stem}-{image.stem}.pgm"
    cmd = [exe, "-v", "-p", str(pr)] + (["+S", str(save_state)] if save_state else []) + [str(image), str(out)]
    proc = subprocess.run(cmd, check=True, capture_output=True, text=True)
    if log is not None:
        log.extend((proc.stdout + proc.stderr).splitlines())
    data = out.read_bytes()
    header = re.match(rb"P5\s+(?:#[^\n]*\s+)*(\d+)\s+(\d+)\s+(\d+)\s", data)
    width, height, maxval = (int(header.group(i)) for i in (1, 2, 3))
    assert maxval == 255
    return np.frombuffer(data[header.end() :], np.uint8).reshape(height, width)


def _hu(ds: pydicom.Dataset) -> np.ndarray:
    return ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept)


def _window_grey(hu: np.ndarray, center: float, width: float) -> np.ndarray:
    """PS3.3 C.11.2.1.2.1 (LINEAR) to 8 bits, computed by hand."""
    y = np.where(
        hu <= center - 0.5 - (width - 1) / 2,
        0.0,
        np.where(hu > center - 0.5 + (width - 1) / 2, 1.0, (hu - (center - 0.5)) / (width - 1) + 0.5),
    )
    return np.floor(y * 255 + 1e-9).astype(np.int64)


def _even_odd_fill(outlines: list[np.ndarray], shape: tuple[int, int]) -> np.ndarray:
    """Pixels whose centres lie inside the outlines by the even-odd rule (independent of the tracer)."""
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


# --- builder layer, rendered by dcmtk -------------------------------------------------------------------
def test_window_renders_and_shutter_is_read_as_asked(tmp_path):
    images = _phantom()
    image = images[7]
    image_path = tmp_path / "img.dcm"
    image.save_as(image_path, enforce_file_format=True)
    pr = tmp_path / "pr.dcm"
    _gsps(
        [image], voi=[SoftcopyVOI(40, 400)], shutter=DisplayShutter(rectangle=(5, 60, 8, 50), presentation_value=65535)
    ).save_as(pr, enforce_file_format=True)
    _assert_valid(pr)
    log: list[str] = []
    shown = _render(pr, image_path, tmp_path, log=log)
    expected = _window_grey(_hu(image), 40, 400)
    np.testing.assert_array_equal(shown, expected)
    # the hand computation is not vacuous: the phantom has several HU values in the window
    assert len(np.unique(expected)) >= 4
    assert "I: Rectangular shutter: LV=5 RV=60 UH=8 LH=50" in log
    assert "I: Shutter presentation value: 0xffff" in log
    assert 'I: VOI transformation: window center=40 width=400 description="(none)"' in log


def test_inverse_and_rotation_render_as_asked(tmp_path):
    image = _phantom()[7]
    image_path = tmp_path / "img.dcm"
    image.save_as(image_path, enforce_file_format=True)
    plain, turned = tmp_path / "plain.dcm", tmp_path / "turned.dcm"
    _gsps([image], voi=[SoftcopyVOI(40, 400)]).save_as(plain, enforce_file_format=True)
    _gsps(
        [image], voi=[SoftcopyVOI(40, 400)], presentation_lut_shape="INVERSE", rotation=90, horizontal_flip=True
    ).save_as(turned, enforce_file_format=True)
    _assert_valid(turned)
    a = _render(plain, image_path, tmp_path)
    b = _render(turned, image_path, tmp_path)
    # rotate 90 degrees clockwise, then flip horizontally: the transpose; INVERSE: 255 - value (dcmtk
    # inverts before it quantises to 8 bits, so a level may differ by one)
    assert np.abs(b.astype(int) - (255 - a.T.astype(int))).max() <= 1
    assert np.abs(b.astype(int) - (255 - a.astype(int))).max() > 1  # the phantom is not symmetric


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
@pytest.mark.parametrize("flip", [False, True])
def test_displayed_area_corners_follow_rotation_and_flip(rotation, flip, tmp_path):
    """dciodvfy checks that the corners written match the rotation and flip (C.10.4)."""
    images = _phantom()[6:9]
    path = tmp_path / "pr.dcm"
    _gsps(
        images,
        displayed_areas=[DisplayedArea((5, 10), (40, 60), pixel_spacing=(0.75, 0.75))],
        rotation=rotation,
        horizontal_flip=flip,
    ).save_as(path, enforce_file_format=True)
    assert dciodvfy_findings(path)[0] == []
    # by hand: the stored corner shown top left after the transformation
    expected_tl = {
        (0, False): [5, 10],
        (90, False): [5, 60],
        (180, False): [40, 60],
        (270, False): [40, 10],
        (0, True): [40, 10],
        (90, True): [5, 10],
        (180, True): [5, 60],
        (270, True): [40, 60],
    }
    item = pydicom.dcmread(path).DisplayedAreaSelectionSequence[0]
    assert list(item.DisplayedAreaTopLeftHandCorner) == expected_tl[(rotation, flip)]
    assert displayed_corners((5, 10), (40, 60), rotation, flip)[0] == expected_tl[(rotation, flip)]


def test_annotations_are_read_by_dcmtk_as_written(tmp_path):
    images = _phantom()
    image = images[7]
    image_path = tmp_path / "img.dcm"
    image.save_as(image_path, enforce_file_format=True)
    layers = [GraphicLayer("FINDINGS", 1, "findings", 65535, (255, 0, 0)), GraphicLayer("NOTES", 2)]
    annotations = [
        GraphicAnnotation(
            "FINDINGS",
            graphics=[
                GraphicObject("CIRCLE", [[20.5, 18.5], [20.5, 22.5]]),
                GraphicObject("POLYLINE", [[10, 10], [30, 10], [30, 30], [10, 10]], filled=True),
                GraphicObject("ELLIPSE", [[5, 5], [15, 5], [10, 3], [10, 7]]),
                GraphicObject("POINT", [[0.5, 0.5]], units="DISPLAY"),
            ],
            images=[image.SOPInstanceUID],
        ),
        GraphicAnnotation("NOTES", texts=[TextObject("Lesion", ((30, 5), (50, 12)), (20.5, 18.5))]),
    ]
    pr = tmp_path / "pr.dcm"
    _gsps(images[6:9], layers=layers, annotations=annotations).save_as(pr, enforce_file_format=True)
    _assert_valid(pr)
    resaved = tmp_path / "dcmtk.dcm"
    _render(pr, image_path, tmp_path, save_state=resaved)
    theirs = pydicom.dcmread(resaved)
    drawn = [
        (a.GraphicLayer, g.GraphicType, [round(float(v), 3) for v in g.GraphicData], g.get("GraphicFilled"))
        for a in theirs.GraphicAnnotationSequence
        for g in a.get("GraphicObjectSequence", [])
    ]
    assert drawn == [
        ("FINDINGS", "CIRCLE", [20.5, 18.5, 20.5, 22.5], "N"),
        ("FINDINGS", "POLYLINE", [10, 10, 30, 10, 30, 30, 10, 10], "Y"),
        ("FINDINGS", "ELLIPSE", [5, 5, 15, 5, 10, 3, 10, 7], "N"),
        ("FINDINGS", "POINT", [0.5, 0.5], None),
    ]
    text = next(t for a in theirs.GraphicAnnotationSequence for t in a.get("TextObjectSequence", []))
    assert (text.UnformattedTextValue, list(text.AnchorPoint)) == ("Lesion", [20.5, 18.5])
    # our read side agrees with what we wrote
    ours = prread(pr)
    assert [g.graphic_type for g in ours.graphics(image.SOPInstanceUID)] == ["CIRCLE", "POLYLINE", "ELLIPSE", "POINT"]
    assert ours.graphics(images[6].SOPInstanceUID) == []  # FINDINGS is on image 8 only
    assert [t.text for t in ours.texts(images[6].SOPInstanceUID)] == ["Lesion"]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            {"annotations": [GraphicAnnotation("NOPE", graphics=[GraphicObject("POINT", [[1, 1]])])]},
            "not one of the graphic",
        ),
        (
            {"annotations": [GraphicAnnotation("L", graphics=[GraphicObject("POLYLINE", [[1, 1]])])]},
            "at least 2 points",
        ),
        ({"annotations": [GraphicAnnotation("L", graphics=[GraphicObject("POINT", [[70, 1]])])]}, "outside the image"),
        (
            {
                "annotations": [
                    GraphicAnnotation("L", graphics=[GraphicObject("POLYLINE", [[1, 1], [5, 5]], filled=True)])
                ]
            },
            "only closed graphics",
        ),
        (
            {
                "annotations": [
                    GraphicAnnotation("L", graphics=[GraphicObject("ELLIPSE", [[0, 0], [4, 0], [0, 1], [4, 3]])])
                ]
            },
            "perpendicular",
        ),
        ({"annotations": [GraphicAnnotation("L", texts=[TextObject("x")])]}, "bounding box, an anchor point or both"),
        (
            {"annotations": [GraphicAnnotation("L", graphics=[GraphicObject("POINT", [[1, 1]])], images=["2.25.9"])]},
            "does not reference",
        ),
        ({"voi": [SoftcopyVOI(40, 0)]}, "Window Width"),
        ({"rotation": 45}, "Image Rotation"),
        ({"shutter": DisplayShutter(polygon=[(1, 1), (2, 2)])}, "at least 3 vertices"),
        ({"presentation_lut_shape": "LOG"}, "IDENTITY or INVERSE"),
    ],
)
def test_builder_refuses_what_the_standard_forbids(kwargs, message):
    layers = [GraphicLayer("L", 1)] if "annotations" in kwargs else []
    with pytest.raises(DicomConformanceError, match=message):
        _gsps(_phantom()[:2], layers=layers, **kwargs)


def test_layer_names_are_cs_values():
    with pytest.raises(DicomConformanceError, match=r"GraphicLayer 'lower case' is not upper-case .*\(CS"):
        GraphicLayer("lower case", 1).item()
    with pytest.raises(DicomConformanceError, match="17 characters, more than the 16 CS allows"):
        GraphicLayer("A" * 17, 1).item()
    with pytest.raises(DicomConformanceError, match="non-empty CS"):
        GraphicLayer(" ", 1).item()
    with pytest.raises(DicomConformanceError, match=r"TextValue|UnformattedTextValue"):
        TextObject("x" * 1025, anchor=(1, 1)).item()


# --- outlines -----------------------------------------------------------------------------------------
def test_outlines_fill_back_to_the_mask_on_random_masks():
    rng = np.random.default_rng(7)
    for _ in range(300):
        shape = tuple(int(v) for v in rng.integers(1, 14, size=2))
        mask = rng.random(shape) < rng.random()
        outlines = mask_outlines(mask)
        np.testing.assert_array_equal(_even_odd_fill(outlines, shape), mask)
        for poly in outlines:
            assert (poly[0] == poly[-1]).all() and len(poly) >= 5
            steps = np.diff(poly, axis=0)
            assert ((steps[:, 0] == 0) | (steps[:, 1] == 0)).all()  # along pixel edges only


def test_outlines_by_hand():
    mask = np.zeros((4, 5), bool)
    mask[1, 1] = mask[2, 2] = True  # touching at a corner: two squares
    assert [p.tolist() for p in mask_outlines(mask)] == [
        [[2, 1], [2, 2], [1, 2], [1, 1], [2, 1]],
        [[3, 2], [3, 3], [2, 3], [2, 2], [3, 2]],
    ]
    ring = np.ones((3, 3), bool)
    ring[1, 1] = False  # a hole: outer boundary clockwise, hole counter-clockwise
    outer, hole = mask_outlines(ring)
    assert outer.tolist() == [[3, 0], [3, 3], [0, 3], [0, 0], [3, 0]]
    assert hole.tolist() == [[2, 2], [2, 1], [1, 1], [1, 2], [2, 2]]
    assert frame_outlines(np.zeros((2, 3, 3), bool)) == [[], []]


def _build(specs, out: Path):
    return build_specs([Path(s) for s in specs], out, options=BuildOptions())


def test_example_outlines_follow_the_segments_pixels(tmp_path):
    out = tmp_path / "out"
    result = _build([EXAMPLES / "organs-binary.yaml", EXAMPLES / "presentation-outlines.yaml"], out)
    assert not result.errors, "\n".join(e.format() for e in result.errors)
    pr_path = out / "presentation-outlines.dcm"
    _assert_valid(pr_path)
    labels = np.load(EXAMPLES / "phantom" / "organs_labelmap.npy")  # the SEG's input: [frame, row, column]
    pr = prread(pr_path)
    layer_of = {1: "LIVER", 2: "SPLEEN", 3: "LEFT KIDNEY"}
    ds = pydicom.dcmread(pr_path)
    colours = {
        layer.GraphicLayer: list(layer.GraphicLayerRecommendedDisplayCIELabValue)
        for layer in ds.GraphicLayerSequence
        if "GraphicLayerRecommendedDisplayCIELabValue" in layer
    }
    checked = 0
    for k, image in enumerate(_phantom()):
        uid = image.SOPInstanceUID
        for number, layer in layer_of.items():
            mask = labels[k] == number
            drawn = [g for g in pr.graphics(uid) if g.layer == layer]
            assert all(g.graphic_type == "POLYLINE" and g.units == "PIXEL" for g in drawn)
            np.testing.assert_array_equal(_even_odd_fill([g.points for g in drawn], mask.shape), mask)
            checked += int(mask.any())
        assert pr.window(uid) == (40.0, 400.0)
    assert checked > 10
    seg = hd.seg.segread(str(out / "organs-binary.dcm"))  # the layers take the segments' colours
    segment_colour = {s.SegmentLabel.upper(): list(s.RecommendedDisplayCIELabValue) for s in seg.SegmentSequence}
    assert {k: colours[k] for k in layer_of.values()} == segment_colour


def _spec(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "pr.yaml"
    path.write_text(f"dcmspec: 1\nkind: PresentationState\nsources: {{images: {PHANTOM}}}\n{body}")
    return path


def test_bad_annotations_are_reported_together_at_their_lines(tmp_path):
    spec = _spec(
        tmp_path,
        "layers: [{name: A}]\n"  # line 4
        "annotations:\n"  # 5
        "  - layer: B\n"  # 6
        "    graphics: [{type: POINT, points: [[1, 1]]}]\n"
        "  - layer: C\n"  # 8: an undefined layer, and image 99
        "    image: 99\n"  # 9
        "    graphics: [{type: POINT, points: [[1, 1]]}]\n"
        "  - layer: A\n"  # 11
        "    graphics:\n"
        "      - {type: POINT, points: [[1, 1]]}\n"
        "      - {type: POLYLINE, points: [[1, 1]]}\n"  # 14
        "  - layer: A\n"  # 15
        "    texts: [{text: far, anchor: [100, 1]}]\n",
    )  # 16
    out = tmp_path / "out"
    result = _build([spec], out)
    by_line = {e.location.line: e for e in result.errors}
    assert set(by_line) == {6, 8, 9, 14, 16}, {k: v.message for k, v in by_line.items()}
    assert "not one of the graphic layers" in by_line[6].message and by_line[6].hint
    assert "not one of the graphic layers" in by_line[8].message
    assert "image 99 is not in the source series" in by_line[9].message
    assert "at least 2 points" in by_line[14].message
    assert "outside the image" in by_line[16].message and "64 columns x 64 rows" in by_line[16].hint
    assert not out.exists() or not any(out.iterdir())


def test_the_starter_builds_on_the_phantom(tmp_path):
    from dcmspec_compiler.starters import starter_text

    spec = tmp_path / "pr.yaml"
    spec.write_text(starter_text("PresentationState").replace("images: ct/", f"images: {PHANTOM}"))
    result = _build([spec], tmp_path / "out")
    assert not result.errors, "\n".join(e.format() for e in result.errors)
    _assert_valid(tmp_path / "out" / "pr.dcm")


def test_an_annotation_on_an_image_the_state_does_not_apply_to_is_refused(tmp_path):
    spec = _spec(
        tmp_path,
        "images: [1, 2]\nlayers: [{name: A}]\nannotations:\n"
        "  - {layer: A, image: 5, graphics: [{type: POINT, points: [[1, 1]]}]}\n",
    )
    (error,) = _build([spec], tmp_path / "out").errors
    assert error.location.line == 7 and "not one of the images" in error.message


def test_schema_refuses_unknown_window_preset_and_bad_layer_name(tmp_path):
    spec = _spec(tmp_path, "window: ct-lungs\nlayers: [{name: lower}]\n")
    result = _build([spec], tmp_path / "out")
    assert sorted(e.location.line for e in result.errors) == [4, 5]


# --- other writers' presentation states -----------------------------------------------------------------
def test_reads_the_shared_gsps_files(shared_data):
    pr = prread(shared_data("pr", "prLUTs.dcm"))
    ((_series_uid, uid, _frames),) = pr.referenced_images()[:1]
    assert uid == pydicom.dcmread(shared_data("pr", "imageForPrLUTs.dcm"), stop_before_pixels=True).SOPInstanceUID
    overlay = prread(shared_data("pr", "prOverlay.dcm"))
    assert overlay.referenced_images()
    with pytest.raises(DicomConformanceError, match="not a softcopy presentation state this reader knows"):
        prread(shared_data("pr", "imageForPrLUTs.dcm"))
