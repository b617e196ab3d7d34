"""Color, Pseudo-Color and Advanced Blending presentation states, palettes, bitmap shutters, graphic groups.

Oracles: dciodvfy (IOD and module rules: no Error on every state built here), dcmtk's dcmpschk, dcmtk's
dcmp2pgm (renders a GSPS with a bitmap shutter: the hidden pixels show the shutter value; re-encodes the
shutter from its own model), pydicom's bundled copies of the standard's well-known Color Palette instances
and pydicom's own palette decoder (``apply_color_lut``) reading the palettes we write, Pillow's littlecms
(``ImageCms``) reading the ICC profile, and palette values computed by hand from the standard's table.
"""

from __future__ import annotations

import doctest
import re
import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.pixels import apply_color_lut

from dcmspec_compiler.assemble.context import BuildOptions
from dcmspec_compiler.errors import DicomConformanceError
from dcmspec_compiler.iods.common.icc import srgb_icc_profile
from dcmspec_compiler.iods.pr import (
    WELL_KNOWN_PALETTES,
    AdvancedBlendingPresentationState,
    BlendingInput,
    ColorSoftcopyPresentationState,
    DisplayShutter,
    GraphicAnnotation,
    GraphicGroup,
    GraphicLayer,
    GraphicObject,
    GrayscaleSoftcopyPresentationState,
    PaletteColorLUT,
    PseudoColorSoftcopyPresentationState,
    SoftcopyVOI,
    TextObject,
    prread,
)
from dcmspec_compiler.pipeline import build_specs
from dcmspec_compiler.testing.examples import ct_header, identity, pet_header, rgb_header

from conftest import DCMTK_INSTALL, ROOT, dciodvfy_findings, require_tool

EXAMPLES = ROOT / "specs_examples"
PHANTOM = EXAMPLES / "phantom"
LATERALITY_WARNING = "attribute <Laterality>"  # General Series Laterality written empty: see test_presentation_state


def _assert_valid(path: Path) -> None:
    errors, warnings = dciodvfy_findings(path)
    assert errors == []
    assert all(LATERALITY_WARNING in w for w in warnings), warnings
    exe = require_tool("dcmpschk", DCMTK_INSTALL)
    proc = subprocess.run([exe, str(path)], capture_output=True, text=True)
    out = proc.stdout + proc.stderr
    assert "Test failed" not in out and "E:" not in out, out


def _save(ds, tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.dcm"
    ds.save_as(path, enforce_file_format=True)
    return path


# --- palettes -----------------------------------------------------------------------------------------
def test_well_known_palettes_equal_the_standards_values_computed_by_hand():
    i = np.arange(256)
    hot_iron = PaletteColorLUT.well_known("hot-iron").rgb.astype(int)
    # PS3.6 Annex B Hot Iron: red rises 2 per entry to 255 at 128; green 2 per entry from 128; blue 4 per entry
    # from 192; the last entry is white
    for k, rgb in {
        0: (0, 0, 0),
        64: (128, 0, 0),
        127: (254, 0, 0),
        128: (255, 0, 0),
        160: (255, 64, 0),
        200: (255, 144, 36),
        255: (255, 255, 255),
    }.items():
        assert tuple(hot_iron[k]) == rgb, k
    spring = PaletteColorLUT.well_known("SPRING").rgb.astype(int)  # magenta to yellow: (255, i, 255 - i)
    assert (spring == np.stack([np.full(256, 255), i, 255 - i], axis=1)).all()
    pet20 = PaletteColorLUT.well_known("pet-20-step").rgb.astype(int)  # 20 steps: runs of equal colours
    assert len({tuple(c) for c in pet20}) == 20 and tuple(pet20[255]) == (255, 255, 255)


@pytest.mark.parametrize("name", list(WELL_KNOWN_PALETTES))
def test_well_known_palettes_equal_the_standards_color_palette_instances(name):
    """pydicom ships the standard's Color Palette instances; its decoder (segmented ones too) is the oracle."""
    ours = PaletteColorLUT.well_known(name)
    theirs = apply_color_lut(np.arange(256, dtype=np.uint8), palette=WELL_KNOWN_PALETTES[name])
    assert (ours.rgb == theirs).all()
    assert ours.uid == WELL_KNOWN_PALETTES[name]


#: dciodvfy reports "LookupTableData bad ... maximum LUT Data value is ..." for a palette channel whose values
#: all lie in the lower half of the range (a heuristic for LUTs written with the wrong number of bits). Three of
#: the standard's own palettes have such a channel (Summer red is 0 throughout, Fall blue 0, Winter red at
#: most 127): for them, and only for those channels, that Error is the tool's, not ours.
DCIODVFY_LOW_CHANNEL = re.compile(
    r"LookupTableData bad - (Red|Green|Blue) Palette Color LUT - LUT Descriptor number"
    r" of bits = 16 but maximum LUT Data value is (0x[0-9a-f]+|0)$"
)


@pytest.mark.parametrize("name", list(WELL_KNOWN_PALETTES))
def test_every_well_known_palette_in_a_pseudocolor_state_passes_dciodvfy(tmp_path, name):
    palette = PaletteColorLUT.well_known(name)
    pr = PseudoColorSoftcopyPresentationState([ct_header()], palette=palette, **identity())
    path = _save(pr, tmp_path, name)
    errors, _ = dciodvfy_findings(path)
    low = {c for i, c in enumerate(("Red", "Green", "Blue")) if palette.rgb[:, i].max() < 128}
    flagged = {}
    for e in errors:
        if e == "dciodvfy exited with status 1" and len(errors) > 1:  # its status follows its findings here
            continue
        m = DCIODVFY_LOW_CHANNEL.search(e)
        assert m, e  # nothing else
        flagged[m.group(1)] = int(m.group(2), 0)
    assert set(flagged) == low  # exactly the standard's low channels
    assert all(flagged[c] == int(palette.rgb[:, ("Red", "Green", "Blue").index(c)].max()) * 257 for c in flagged)
    assert (name in ("SUMMER", "FALL", "WINTER")) == bool(low)


def test_pseudocolor_palette_written_is_read_by_pydicom(tmp_path):
    pr = PseudoColorSoftcopyPresentationState(
        [ct_header()], voi=[SoftcopyVOI(40, 400)], palette=PaletteColorLUT.well_known("PET"), **identity()
    )
    path = _save(pr, tmp_path, "pet")
    _assert_valid(path)
    ds = pydicom.dcmread(path)
    assert ds.PaletteColorLookupTableUID == "1.2.840.10008.1.5.2"
    assert "SegmentedRedPaletteColorLookupTableData" not in ds  # C.7.9: expanded in a presentation state
    colours = apply_color_lut(np.arange(256, dtype=np.uint16), ds)  # 16-bit entries, v * 257
    standard = (
        apply_color_lut(np.arange(256, dtype=np.uint8), palette=WELL_KNOWN_PALETTES["PET"]).astype(np.uint32) * 257
    )
    assert (colours == standard).all()
    back = prread(path).palette()
    assert back.label == "PET" and (back.rgb == PaletteColorLUT.well_known("PET").rgb).all()


def test_custom_palette_with_a_first_mapped_value(tmp_path):
    palette = PaletteColorLUT([[0, 0, 0], [255, 0, 128], [255, 255, 255]], first_mapped=100)
    pr = PseudoColorSoftcopyPresentationState([ct_header()], palette=palette, **identity())
    path = _save(pr, tmp_path, "custom")
    _assert_valid(path)
    ds = pydicom.dcmread(path)
    assert list(ds.RedPaletteColorLookupTableDescriptor) == [3, 100, 16] and "PaletteColorLookupTableUID" not in ds
    # pydicom applies it: values below the first mapped take the first colour, above the last the last one
    rgb = apply_color_lut(np.array([50, 100, 101, 102, 300], dtype=np.uint16), ds) // 257
    assert rgb.tolist() == [[0, 0, 0], [0, 0, 0], [255, 0, 128], [255, 255, 255], [255, 255, 255]]


@pytest.mark.parametrize(
    "rgb, message",
    [([[1, 2, 3]], "2 to 65536 entries"), ([[1, 2]], "red, green, blue"), ([[0, 0, 0], [256, 0, 0]], "0..255")],
)
def test_bad_palettes_are_refused(rgb, message):
    with pytest.raises(DicomConformanceError, match=message):
        PaletteColorLUT(rgb)
    with pytest.raises(DicomConformanceError, match="not a well-known colour palette"):
        PaletteColorLUT.well_known("rainbow")


# --- ICC profile ----------------------------------------------------------------------------------------
def test_icc_profile_is_an_srgb_profile_for_littlecms():
    import io

    from PIL import Image, ImageCms

    ours = ImageCms.ImageCmsProfile(io.BytesIO(srgb_icc_profile()))
    transform = ImageCms.buildTransform(ImageCms.createProfile("sRGB"), ours, "RGB", "RGB")
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (10, 128, 200), (255, 255, 255), (0, 0, 0)]
    image = Image.new("RGB", (len(colours), 1))
    image.putdata(colours)
    mapped = np.asarray(ImageCms.applyTransform(image, transform)).reshape(-1, 3).astype(int)
    assert np.abs(mapped - np.array(colours)).max() <= 1  # lcms's own sRGB and ours agree


# --- colour and pseudo-colour states -----------------------------------------------------------------------
def test_color_state_has_icc_no_window_and_a_coloured_shutter(tmp_path):
    pr = ColorSoftcopyPresentationState(
        [rgb_header()], shutter=DisplayShutter(circle=((32, 32), 20), color=(255, 0, 0)), **identity()
    )
    path = _save(pr, tmp_path, "color")
    _assert_valid(path)
    ds = pydicom.dcmread(path)
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.11.2"
    assert bytes(ds.ICCProfile) == srgb_icc_profile()
    for absent in ("SoftcopyVOILUTSequence", "PresentationLUTShape", "RescaleSlope"):
        assert absent not in ds
    shutter = prread(path).shutter()
    assert shutter["circle"] == ((32, 32), 20) and shutter["color"] == (255, 0, 0)


def test_color_state_refuses_grey_images_a_window_and_inversion():
    with pytest.raises(DicomConformanceError, match="applies to colour images"):
        ColorSoftcopyPresentationState([ct_header()], **identity())
    with pytest.raises(DicomConformanceError, match="no window"):
        ColorSoftcopyPresentationState([rgb_header()], voi=[SoftcopyVOI(40, 400)], **identity())
    with pytest.raises(DicomConformanceError, match="cannot invert"):
        ColorSoftcopyPresentationState([rgb_header()], presentation_lut_shape="INVERSE", **identity())
    with pytest.raises(DicomConformanceError, match="needs a palette"):
        PseudoColorSoftcopyPresentationState([ct_header()], **identity())
    with pytest.raises(DicomConformanceError, match="has no palette"):
        GrayscaleSoftcopyPresentationState([ct_header()], palette=PaletteColorLUT.well_known("PET"), **identity())


# --- bitmap shutter, graphic groups -------------------------------------------------------------------------
def _render(pr: Path, image: Path, tmp_path: Path, save_state: Path | None = None) -> np.ndarray:
    exe = require_tool("dcmp2pgm", DCMTK_INSTALL)
    out = tmp_path / f"{pr.stem}.pgm"
    cmd = [exe, "-p", str(pr)] + (["+S", str(save_state)] if save_state else []) + [str(image), str(out)]
    subprocess.run(cmd, check=True, capture_output=True)
    data = out.read_bytes()
    header = re.match(rb"P5\s+(?:#[^\n]*\s+)*(\d+)\s+(\d+)\s+(\d+)\s", data)
    return np.frombuffer(data[header.end() :], np.uint8).reshape(int(header.group(2)), int(header.group(1)))


def test_bitmap_shutter_is_rendered_by_dcmtk(tmp_path):
    image = sorted((PHANTOM / "ct").iterdir())[7]
    bitmap = np.zeros((64, 64), bool)
    bitmap[:10] = True
    bitmap[:, 60:] = True
    bitmap[40:44, 20:24] = True
    pr = GrayscaleSoftcopyPresentationState(
        [pydicom.dcmread(image, stop_before_pixels=True)],
        voi=[SoftcopyVOI(40, 400)],
        shutter=DisplayShutter(bitmap=bitmap, presentation_value=65535),
        **identity(),
    )
    path = _save(pr, tmp_path, "bitmap")
    _assert_valid(path)
    ds = pydicom.dcmread(path)
    assert ds.ShutterShape == "BITMAP" and ds.ShutterOverlayGroup == 0x6000 and ds[0x60000040].value == "G"
    resaved = tmp_path / "dcmtk.dcm"
    rendered = _render(path, image, tmp_path, resaved)
    assert (rendered[bitmap] == 255).all()  # P-value 65535: white
    hu = pydicom.dcmread(image).pixel_array
    visible = ~bitmap & (hu == 40)  # soft tissue at the window centre: mid grey
    assert visible.any() and (np.abs(rendered[visible].astype(int) - 127) <= 1).all()
    # dcmtk's own model of the state, re-encoded, holds the same bitmap
    assert (prread(resaved).shutter()["bitmap"] == bitmap).all()
    assert (prread(path).shutter()["bitmap"] == bitmap).all()


def test_bitmap_shutter_refusals():
    with pytest.raises(DicomConformanceError, match="size of the images"):
        GrayscaleSoftcopyPresentationState(
            [ct_header()], shutter=DisplayShutter(bitmap=np.ones((8, 8), bool)), **identity()
        )
    with pytest.raises(DicomConformanceError, match="goes alone"):
        GrayscaleSoftcopyPresentationState(
            [ct_header()], shutter=DisplayShutter(bitmap=np.ones((64, 64), bool), rectangle=(1, 2, 1, 2)), **identity()
        )


def test_graphic_groups_tie_graphics_and_texts(tmp_path):
    layer = GraphicLayer("M", 1)
    line = GraphicObject("POLYLINE", [[10, 10], [30, 10]], group_id=7)
    text = TextObject("20 px", anchor=(20, 8), group_id=7)
    pr = GrayscaleSoftcopyPresentationState(
        [ct_header()],
        layers=[layer],
        groups=[GraphicGroup(7, "Width")],
        annotations=[GraphicAnnotation("M", [line], [text])],
        **identity(),
    )
    path = _save(pr, tmp_path, "groups")
    _assert_valid(path)
    ds = pydicom.dcmread(path)
    assert ds.GraphicGroupSequence[0].GraphicGroupID == 7
    item = ds.GraphicAnnotationSequence[0]
    assert item.GraphicObjectSequence[0].GraphicGroupID == 7 and item.TextObjectSequence[0].GraphicGroupID == 7
    assert prread(path).groups() == {7: "Width"}
    with pytest.raises(DicomConformanceError, match="names graphic group 8"):
        GrayscaleSoftcopyPresentationState(
            [ct_header()],
            layers=[layer],
            groups=[GraphicGroup(7, "Width")],
            annotations=[GraphicAnnotation("M", [GraphicObject("POINT", [[1, 1]], group_id=8)])],
            **identity(),
        )
    with pytest.raises(DicomConformanceError, match="unique"):
        GrayscaleSoftcopyPresentationState(
            [ct_header()], groups=[GraphicGroup(1, "a"), GraphicGroup(1, "b")], **identity()
        )


# --- advanced blending ----------------------------------------------------------------------------------------
def test_blending_state_reads_back_and_validates(tmp_path):
    pr = AdvancedBlendingPresentationState(
        [
            BlendingInput([ct_header()], [SoftcopyVOI(40, 400)]),
            BlendingInput([pet_header()], [SoftcopyVOI(5000, 10000)], PaletteColorLUT.well_known("HOT_IRON")),
        ],
        mode="FOREGROUND",
        opacity=0.3,
        **identity(),
    )
    path = _save(pr, tmp_path, "blend")
    _assert_valid(path)
    back = prread(path)
    inputs = back.inputs()
    assert [(i.input_number, i.window) for i in inputs] == [(1, (40.0, 400.0)), (2, (5000.0, 10000.0))]
    assert (inputs[1].palette.rgb == PaletteColorLUT.well_known("HOT_IRON").rgb).all()
    assert (inputs[0].palette.rgb[:, 0] == np.arange(256)).all()  # a grey input without palette: a grey ramp
    assert back.blending() == [("FOREGROUND", [1, 2], 0.3)]
    ds = pydicom.dcmread(path)
    assert ds.PixelPresentation == "TRUE_COLOR" and bytes(ds.ICCProfile) == srgb_icc_profile()


def test_blending_of_three_inputs_chains_the_operations():
    ops = AdvancedBlendingPresentationState._operations(3, "FOREGROUND", 0.5)
    assert [
        (int(o.get("BlendingInputNumber", 0)), [int(i.BlendingInputNumber) for i in o.BlendingDisplayInputSequence])
        for o in ops
    ] == [(4, [1, 2]), (0, [4, 3])]
    equal = AdvancedBlendingPresentationState._operations(3, "EQUAL", None)
    assert len(equal) == 1 and "BlendingInputNumber" not in equal[0]


def test_blending_refusals():
    pet_elsewhere = pet_header()
    pet_elsewhere.FrameOfReferenceUID = "2.25.99"
    with pytest.raises(DicomConformanceError, match="one Frame of Reference"):
        AdvancedBlendingPresentationState([BlendingInput([ct_header()]), BlendingInput([pet_elsewhere])], **identity())
    with pytest.raises(DicomConformanceError, match="two or more"):
        AdvancedBlendingPresentationState([BlendingInput([ct_header()])], **identity())
    with pytest.raises(DicomConformanceError, match="Relative Opacity"):
        AdvancedBlendingPresentationState(
            [BlendingInput([ct_header()]), BlendingInput([pet_header()])], opacity=1.5, **identity()
        )


# --- spec kind: examples and errors ---------------------------------------------------------------------------
def _build(specs, out: Path):
    return build_specs([Path(s) for s in specs], out, options=BuildOptions())


def test_examples_of_each_type_build_valid(tmp_path):
    specs = [EXAMPLES / f"presentation-{t}.yaml" for t in ("color", "pseudocolor", "blending")]
    result = _build(specs + [EXAMPLES / "organs-binary.yaml", EXAMPLES / "report-organs.yaml"], tmp_path)
    assert not result.errors, "\n".join(e.format() for e in result.errors)
    classes = {}
    for spec in specs:
        path = tmp_path / f"{spec.stem}.dcm"
        _assert_valid(path)
        classes[spec.stem] = type(prread(path)).__name__
    assert classes == {
        "presentation-color": "ColorSoftcopyPresentationState",
        "presentation-pseudocolor": "PseudoColorSoftcopyPresentationState",
        "presentation-blending": "AdvancedBlendingPresentationState",
    }
    pseudo = prread(tmp_path / "presentation-pseudocolor.dcm")
    uid = pseudo.referenced_images()[7][1]
    assert pseudo.palette().label == "HOT_IRON" and pseudo.window(uid) == (60.0, 120.0)
    assert {g.points.shape for g in pseudo.graphics(uid)} == {(2, 2)} and pseudo.groups() == {1: "Liver width"}
    blend = prread(tmp_path / "presentation-blending.dcm")
    assert [i.palette.label for i in blend.inputs()] == [None, "PET"] and blend.blending()[0][2] == 0.4


def _spec(tmp_path: Path, body: str, images: str = "ct") -> Path:
    path = tmp_path / "pr.yaml"
    path.write_text(f"dcmspec: 1\nkind: PresentationState\nsources: {{images: {PHANTOM / images}}}\n{body}")
    return path


@pytest.mark.parametrize(
    "body, images, line, message",
    [
        ("type: pseudocolor\n", "ct", 4, "needs a `palette`"),
        ("type: grayscale\npalette: pet\n", "ct", 5, "has no palette"),
        ("type: color\nwindow: ct-abdomen\n", "rgb", 5, "has no window"),
        ("type: color\n", "ct", 4, "applies to colour images"),
        ("type: pseudocolor\npalette: {colors: [[0, 0, 0]]}\n", "ct", 5, "2 to 65536 entries"),
        ("type: pseudocolor\npalette: rainbow\n", "ct", 5, ""),
        (
            "layers: [{name: A}]\ngroups: [{id: 1, label: G}]\nannotations:\n  - layer: A\n"
            "    graphics: [{type: POINT, points: [[1, 1]], group: 2}]\n",
            "ct",
            8,
            "group 2 is not one",
        ),
        ("shutter: {bitmap: {file: missing.npy}}\n", "ct", 4, "bitmap shutter file not found"),
        ("type: blending\n", "ct", 4, "two or more inputs"),
    ],
)
def test_spec_errors_are_located(tmp_path, body, images, line, message):
    result = _build([_spec(tmp_path, body, images)], tmp_path / "out")
    assert result.errors, "built"
    text = "\n".join(e.format() for e in result.errors)
    assert any(e.location.line == line for e in result.errors), text
    assert message in text
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").glob("*.dcm"))


def test_spec_bitmap_shutter_and_colour(tmp_path):
    bitmap = np.zeros((64, 64), np.uint8)
    bitmap[:4] = 1
    np.save(tmp_path / "shutter.npy", bitmap)
    spec = _spec(
        tmp_path, "type: pseudocolor\npalette: spring\nshutter: {bitmap: {file: shutter.npy}, color: [0, 0, 255]}\n"
    )
    result = _build([spec], tmp_path / "out")
    assert not result.errors, "\n".join(e.format() for e in result.errors)
    path = next((tmp_path / "out").glob("*.dcm"))
    _assert_valid(path)
    shutter = prread(path).shutter()
    assert (shutter["bitmap"] == bitmap.astype(bool)).all() and shutter["color"] == (0, 0, 255)


def test_blending_spec_refuses_inputs_in_another_frame_of_reference(tmp_path, shared_data):
    pet = shared_data("series", "pt_nist_IDS-DEPT024-a")
    spec = _spec(tmp_path, f"type: blending\ninputs:\n  - sources: {{images: {pet}}}\n    palette: pet\n")
    result = _build([spec], tmp_path / "out")
    text = "\n".join(e.format() for e in result.errors)
    assert "Patient IDs" in text or "Frame of Reference" in text, text


def test_docstring_examples_run():
    """The builder layer's public classes carry >>> examples (the docs site runs them): they must hold."""
    import dcmspec_compiler.iods.pr.blending as blending
    import dcmspec_compiler.iods.pr.presentation_state as presentation_state

    for module in (presentation_state, blending):
        failed, attempted = doctest.testmod(module)
        assert attempted >= 3 and failed == 0, module.__name__


# --- regions from a report ------------------------------------------------------------------------------------
def test_report_regions_are_drawn_where_the_report_puts_them(tmp_path):
    specs = [EXAMPLES / n for n in ("organs-binary.yaml", "report-organs.yaml", "presentation-pseudocolor.yaml")]
    result = _build(specs, tmp_path)
    assert not result.errors, "\n".join(e.format() for e in result.errors)
    path = tmp_path / "presentation-pseudocolor.dcm"
    _assert_valid(path)
    report = pydicom.dcmread(tmp_path / "report-organs.dcm")
    # the oracle: the report's own SCOORD, found by walking its content tree here (not with our SR reader)
    scoords = []

    def walk(item):
        for child in item.get("ContentSequence", []):
            if child.ValueType == "SCOORD":
                image = child.ContentSequence[0].ReferencedSOPSequence[0].ReferencedSOPInstanceUID
                scoords.append((str(image), str(child.GraphicType), [float(v) for v in child.GraphicData]))
            walk(child)

    walk(report)
    assert scoords == [(scoords[0][0], "CIRCLE", [20.5, 18.5, 20.5, 22.5])]
    pr = prread(path)
    (drawn,) = [g for g in pr.graphics(scoords[0][0]) if g.layer == "REPORT"]
    assert drawn.graphic_type == "CIRCLE" and drawn.points.ravel().tolist() == scoords[0][2]
    (text,) = [t for t in pr.texts(scoords[0][0]) if t.layer == "REPORT"]
    assert text.text == "lesion-1: Diameter 6 mm" and text.anchor == (20.5, 18.5)
    others = [u for _, u, _ in pr.referenced_images() if u != scoords[0][0]]
    assert not [g for u in others for g in pr.graphics(u) if g.layer == "REPORT"]


def test_report_without_regions_on_the_images_is_refused(tmp_path):
    (tmp_path / "phantom").symlink_to(PHANTOM)
    for name in ("organs-binary.yaml", "report-organs.yaml"):
        (tmp_path / name).write_text((EXAMPLES / name).read_text())
    spec = tmp_path / "pr.yaml"
    spec.write_text(
        "dcmspec: 1\nkind: PresentationState\nsources: {images: phantom/ct/}\nimages: [1, 2]\n"
        "annotations:\n  - from_report: {spec: report-organs}\n"
    )
    result = _build([tmp_path / "organs-binary.yaml", tmp_path / "report-organs.yaml", spec], tmp_path / "out")
    (error,) = [e for e in result.errors if e.location and Path(e.location.file).name == "pr.yaml"]
    assert error.location.line == 6 and "no planar region" in str(error) and "1 on other images" in str(error)


# --- read side: annotations back in pixel coordinates ------------------------------------------------------------
@pytest.mark.parametrize(
    "rotation, flip, area, display, pixel",
    [
        # whole 64 x 64 image, no transformation: fractions times the size
        (0, False, None, (0.25, 0.5), (16.0, 32.0)),
        # a displayed area of pixels 9..56: its edges are 8 and 56
        (0, False, ((9, 9), (56, 56)), (0.5, 0.0), (32.0, 8.0)),
        # flipped: the display's left edge is the area's right edge
        (0, True, ((9, 9), (56, 56)), (0.0, 0.0), (56.0, 8.0)),
        # 90 degrees clockwise: the image's left column is shown as the top row, from bottom to top
        (90, False, None, (0.25, 0.5), (32.0, 48.0)),
        (90, False, None, (1.0, 0.0), (0.0, 0.0)),
        (180, False, None, (0.0, 0.0), (64.0, 64.0)),
    ],
)
def test_display_annotations_come_back_in_pixel_coordinates(tmp_path, rotation, flip, area, display, pixel):
    from dcmspec_compiler.iods.pr import DisplayedArea

    areas = [DisplayedArea(*area)] if area else None
    pr = GrayscaleSoftcopyPresentationState(
        [ct_header()],
        layers=[GraphicLayer("L", 1)],
        rotation=rotation,
        horizontal_flip=flip,
        displayed_areas=areas,
        annotations=[
            GraphicAnnotation(
                "L",
                [GraphicObject("POINT", [display], units="DISPLAY"), GraphicObject("POINT", [[3.5, 4.5]])],
                [TextObject("t", anchor=display, units="DISPLAY")],
            )
        ],
        **identity(),
    )
    path = _save(pr, tmp_path, "display")
    _assert_valid(path)  # dciodvfy checks the displayed area's corners against rotation and flip
    back = prread(path)
    uid = back.referenced_images()[0][1]
    drawn, in_pixels = back.graphics(uid)
    assert drawn.units == "DISPLAY" and tuple(drawn.pixel_points[0]) == pytest.approx(pixel)
    assert tuple(in_pixels.pixel_points[0]) == (3.5, 4.5)  # PIXEL points stay as written
    assert back.texts(uid)[0].pixel_anchor == pytest.approx(pixel)
    assert back.spatial() == (rotation, flip)


# --- outlines from a SEG file: the fast frame index and the lazy frame reading ----------------------------------
SEG_FILES = sorted(p for p in (ROOT / "tests" / "data" / "seg").rglob("*") if p.is_file())


@pytest.mark.parametrize("path", SEG_FILES, ids=lambda p: p.name)
def test_frame_index_scan_equals_pydicoms_parse_of_other_writers_segs(path):
    """The byte scan of the per-frame items either gives what pydicom's item by item parse gives (the
    oracle), or declines (then the parse is used)."""
    from dcmspec_compiler.io.frames import FrameReader
    from dcmspec_compiler.iods.seg.frame_index import PER_FRAME, _parse, _raw_value, _scan

    try:
        reader = FrameReader(path)
    except Exception:
        pytest.fail(f"{path.name} is not readable")  # every file of tests/data/seg is
    with reader:
        header = reader.header
        if str(header.get("SOPClassUID")) not in ("1.2.840.10008.5.1.4.1.1.66.4", "1.2.840.10008.5.1.4.1.1.66.7"):
            return
        n = int(header.get("NumberOfFrames", 1) or 1)
        labelmap = str(header.get("SegmentationType", "")) == "LABELMAP"
        raw = _raw_value(reader, header._dict.get(PER_FRAME))
        scanned = _scan(raw, n, labelmap) if raw is not None else None
        if scanned is None:
            return
        parsed = _parse(pydicom.dcmread(path, stop_before_pixels=True), n, labelmap)
        assert scanned.sources == parsed.sources
        assert (scanned.segments is None) == (parsed.segments is None)
        if scanned.segments is not None:
            assert scanned.segments.tolist() == parsed.segments.tolist()


def test_outlines_from_a_seg_file_equal_those_from_the_seg_built_alongside(tmp_path):
    """The file is read through the frame index and cropped packed frames; the spec's SEG through the
    Segmentation reader's get_pixels: both must draw the same outlines."""
    result = _build([EXAMPLES / "organs-binary.yaml", EXAMPLES / "presentation-outlines.yaml"], tmp_path / "a")
    assert not result.errors, "\n".join(e.format() for e in result.errors)
    (tmp_path / "phantom").symlink_to(PHANTOM)
    spec = tmp_path / "from-file.yaml"
    spec.write_text(
        "dcmspec: 1\nkind: PresentationState\nsources: {images: phantom/ct/}\nannotations:\n"
        f"  - from_segmentation: {{file: {tmp_path / 'a' / 'organs-binary.dcm'}}}\n"
    )
    result = _build([spec], tmp_path / "b")
    assert not result.errors, "\n".join(e.format() for e in result.errors)
    _assert_valid(tmp_path / "b" / "from-file.dcm")
    a, b = prread(tmp_path / "a" / "presentation-outlines.dcm"), prread(tmp_path / "b" / "from-file.dcm")

    def outlines(pr):
        return sorted(
            (uid, g.layer, g.points.round(3).tobytes())
            for _, uid, _ in pr.referenced_images()
            for g in pr.graphics(uid)
            if g.layer != "LESIONS"
        )

    drawn = outlines(b)
    assert drawn and drawn == outlines(a)


def test_read_frames_reads_runs_as_frame_by_frame(tmp_path):
    from dcmspec_compiler.io.frames import FrameReader

    result = _build([EXAMPLES / "organs-binary.yaml"], tmp_path)
    with FrameReader(tmp_path / "organs-binary.dcm") as reader:
        indices = [0, 1, 2, 5, 7, 8, reader.number_of_frames - 1]
        frames = reader.read_frames(indices)
        assert (frames == np.stack([reader.read_frame(i) for i in indices])).all()
    assert not result.errors
