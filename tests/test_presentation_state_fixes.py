"""Defects of the presentation-state kinds found by a new-user trial, each reproduced by a test.

Oracles: dciodvfy (the Type 1C conditions of the Advanced Blending Presentation State Display module,
PS3.3 C.11.29; DS ranges), PS3.5 6.2 (DS: 16 characters, decimal) checked by hand, and the spec text itself
(file:line of the value a message must point at).
"""

from __future__ import annotations

import re
from pathlib import Path

import pydicom
import pytest

from dcmspec_compiler.assemble.context import BuildOptions
from dcmspec_compiler.errors import DicomConformanceError
from dcmspec_compiler.pipeline import build_specs

from conftest import ROOT, dciodvfy_findings

EXAMPLES = ROOT / "specs_examples"
PHANTOM = EXAMPLES / "phantom"
#: every PR gets this Warning: General Series Laterality is Type 2C, written empty (see test_presentation_state)
LATERALITY_WARNING = "attribute <Laterality>"


def _build(specs, out: Path):
    return build_specs([Path(s) for s in specs], out, options=BuildOptions())


def _spec(tmp_path: Path, body: str, name: str = "pr.yaml", images: str = "ct") -> Path:
    path = tmp_path / name
    path.write_text(f"dcmspec: 1\nkind: PresentationState\nsources: {{images: {PHANTOM / images}}}\n{body}")
    return path


def _text(result) -> str:
    return "\n".join(e.format() for e in result.errors)


def _valid(path: Path) -> pydicom.Dataset:
    errors, warnings = dciodvfy_findings(path)
    assert errors == [], errors
    assert all(LATERALITY_WARNING in w for w in warnings), warnings
    return pydicom.dcmread(path)


# --- 1. Relative Opacity (Type 1C) only for FOREGROUND ---------------------------------------------------------
@pytest.mark.parametrize("mode, inputs", [("EQUAL", 2), ("EQUAL", 3), ("FOREGROUND", 3)])
def test_blending_writes_each_1c_of_the_display_module_only_where_required(tmp_path, mode, inputs):
    # input 1: CT images 1-4; further inputs: the PET, then CT images 5-8 (an image is in one input only)
    body = (
        f"type: blending\nimages: [1, 2, 3, 4]\nblending: {{mode: {mode}}}\ninputs:\n"
        f"  - sources: {{images: {PHANTOM / 'pet'}}}\n    palette: pet\n"
    )
    if inputs == 3:
        body += f"  - sources: {{images: {PHANTOM / 'ct'}}}\n    images: [5, 6, 7, 8]\n    palette: hot-iron\n"
    result = _build([_spec(tmp_path, body)], tmp_path / "out")
    assert not result.errors, _text(result)
    ds = _valid(next((tmp_path / "out").glob("*.dcm")))
    ops = ds.BlendingDisplaySequence
    assert all(("RelativeOpacity" in op) == (mode == "FOREGROUND") for op in ops)
    if mode == "FOREGROUND":
        assert [float(op.RelativeOpacity) for op in ops] == [0.5, 0.5]


def test_equal_blending_refuses_an_opacity_at_its_line(tmp_path):
    body = (
        f"type: blending\nblending: {{mode: EQUAL,\n  opacity: 0.3}}\ninputs:\n"
        f"  - sources: {{images: {PHANTOM / 'pet'}}}\n"
    )
    result = _build([_spec(tmp_path, body)], tmp_path / "out")
    (error,) = result.errors
    assert error.location.line == 6 and "FOREGROUND blending only" in str(error), _text(result)


def test_builder_refuses_an_opacity_with_equal_blending():
    from dcmspec_compiler.iods.pr import AdvancedBlendingPresentationState, BlendingInput
    from dcmspec_compiler.testing.examples import ct_header, identity, pet_header

    with pytest.raises(DicomConformanceError, match="FOREGROUND blending only"):
        AdvancedBlendingPresentationState(
            [BlendingInput([ct_header()]), BlendingInput([pet_header()])], mode="EQUAL", opacity=0.5, **identity()
        )


# --- 3. the same images in two inputs ----------------------------------------------------------------------------
def test_an_image_in_two_blending_inputs_is_located_at_the_second_input(tmp_path):
    body = (
        f"type: blending\ninputs:\n  - sources: {{images: {PHANTOM / 'pet'}}}\n"
        f"  - sources: {{images: {PHANTOM / 'pet'}}}\n"
    )
    result = _build([_spec(tmp_path, body)], tmp_path / "out")
    (error,) = result.errors
    assert (error.location.line, error.location.column) == (7, 14), _text(result)
    assert "input 1 of `inputs`" in str(error) and error.hint, _text(result)


# --- 2. DS values: finite, 16 characters, within what readers hold --------------------------------------------
@pytest.mark.parametrize(
    "text, problem",
    [
        ("1e+20", "2^63"),
        ("-9.3e18", "2^63"),
        ("inf", "not a decimal"),
        ("1e999", "not finite"),
        ("1.2345678901234567", "16 DS allows"),
        ("12 3", "not a decimal"),
    ],
)
def test_ds_rule_refuses_values_readers_cannot_hold(text, problem):
    from dcmspec_compiler.iods.common.vr import InvalidValue, check_value

    with pytest.raises(InvalidValue, match=re.escape(problem)):
        check_value("WindowWidth", "DS", text)


@pytest.mark.parametrize("text", ["9.2e18", "-1e+18", "0.000001", "  42 ", "1.23456789012345"])
def test_ds_rule_accepts_what_ps3_5_allows(text):
    from dcmspec_compiler.iods.common.vr import check_value

    check_value("WindowWidth", "DS", text)


@pytest.mark.parametrize("value", ["1e39", "1e308", "1.0e20"])
def test_huge_window_is_refused_at_its_line(tmp_path, value):
    result = _build([_spec(tmp_path, f"window: {{center: 40,\n  width: {value}}}\n")], tmp_path / "out")
    assert result.errors and not (tmp_path / "out").exists()
    assert any(e.location.line == 5 and "2^63" in str(e) for e in result.errors), _text(result)


def test_largest_window_written_passes_dciodvfy(tmp_path):
    result = _build([_spec(tmp_path, "window: {center: -9e18, width: 9e18}\n")], tmp_path / "out")
    assert not result.errors, _text(result)
    ds = _valid(next((tmp_path / "out").glob("*.dcm")))
    assert float(ds.SoftcopyVOILUTSequence[0].WindowWidth) == 9e18


# --- 4. palette messages name the value and the range --------------------------------------------------------
@pytest.mark.parametrize(
    "palette, expected",
    [
        (
            "{colors: [[0, 0, 0], [300, -1, .nan]]}",
            [
                ("300", "300: greater than the maximum of 255"),
                ("-1", "-1: less than the minimum of 0"),
                (".nan", "expected integer, found NaN"),
            ],
        ),
        (
            "{colors: [[0, 0, 0], [1, 2, 3]], first_mapped: 70000}",
            [("70000", "70000: greater than the maximum of 65535")],
        ),
        ("{colors: [[0, 0, 0], [1, 2]]}", [("[1, 2]", "[1, 2] has 2 item(s); at least 3 allowed here")]),
    ],
)
def test_palette_errors_name_the_value_and_the_range(tmp_path, palette, expected):
    line = f"palette: {palette}"
    result = _build([_spec(tmp_path, f"{line}\ntype: pseudocolor\n")], tmp_path / "out")
    got = [((e.location.line, e.location.column), str(e)) for e in result.errors]
    assert [where for where, _ in got] == [(4, line.index(token) + 1) for token, _ in expected], _text(result)
    for (_, text), (_, message) in zip(got, expected):
        assert message in text, _text(result)


def test_schema_narrows_a_oneof_of_an_enum_and_an_object_to_the_object_branch():
    """A general rule of compiler/validate/schemas.py: an enum of strings does not take an object, so the
    object branch's own violation is reported, not 'is not a valid value here'."""
    from dcmspec_compiler.errors import ErrorList
    from dcmspec_compiler.load.parse import parse_text
    from dcmspec_compiler.validate.schemas import validate_document

    text = "dcmspec: 1\nkind: PresentationState\nsources: {images: ct/}\npalette: {colors: [[0, 0, 0], [0, 0, 256]]}\n"
    doc = parse_text(text, Path("pr.yaml"))
    with pytest.raises(ErrorList) as info:
        validate_document(doc)
    assert [str(e).split("\n")[0] for e in info.value.errors] == [
        "pr.yaml:4:38: palette.colors[1][2]: 256: greater than the maximum of 255"
    ]


@pytest.mark.parametrize(
    "colors, first, message",
    [
        ([[0, 0, 0], [300, -1, float("nan")]], 0, "entry 1 is [300, -1, nan]"),
        ([[0, 0, 0], [1, 1, 1.5]], 0, "entry 1 is [1, 1, 1.5]"),
        ([[0, 0, 0], [1, 1, 1]], 70000, "-32768..65535 (US/SS), got 70000"),
    ],
)
def test_palette_builder_names_the_bad_entry(colors, first, message):
    from dcmspec_compiler.iods.pr import PaletteColorLUT

    with pytest.raises(DicomConformanceError, match=re.escape(message)):
        PaletteColorLUT(colors, first)


# --- 5. bitmap shutter files read as masks are --------------------------------------------------------------
def test_a_bitmap_shutter_that_is_not_npy_is_refused_by_its_first_bytes(tmp_path):
    (tmp_path / "shutter.npy").write_text("0 0 1\n0 1 1\n")
    result = _build([_spec(tmp_path, "shutter: {bitmap: {file: shutter.npy}}\n")], tmp_path / "out")
    (error,) = result.errors
    assert error.location.line == 4 and "is not a .npy array: it starts with '0 0 1" in str(error), _text(result)
    assert "pickle" not in _text(result) and "numpy.save" in _text(result)


def test_a_missing_bitmap_shutter_says_where_it_looked_and_relative_to_what(tmp_path):
    (tmp_path / "specs").mkdir()
    result = _build([_spec(tmp_path / "specs", "shutter: {bitmap: {file: masks/shutter.npy}}\n")], tmp_path / "out")
    (error,) = result.errors
    text = _text(result)
    assert error.location.line == 4 and "bitmap shutter file not found" in text, text
    assert f"looked for {tmp_path / 'specs' / 'masks' / 'shutter.npy'}" in text, text
    assert f"relative to the folder of the spec file that names it ({tmp_path / 'specs'})" in text, text


# --- 6. derived layers do not clash with the spec's own ---------------------------------------------------------
def _with_examples(tmp_path: Path, names: tuple[str, ...]) -> list[Path]:
    (tmp_path / "phantom").symlink_to(PHANTOM)
    for name in names:
        (tmp_path / name).write_text((EXAMPLES / name).read_text())
    return [tmp_path / n for n in names]


def _layers(path: Path) -> list[str]:
    return [str(item.GraphicLayer) for item in pydicom.dcmread(path).GraphicLayerSequence]


def test_a_layer_named_report_moves_the_reports_default_layer(tmp_path):
    specs = _with_examples(tmp_path, ("organs-binary.yaml", "report-organs.yaml"))
    spec = tmp_path / "pr.yaml"
    spec.write_text(
        "dcmspec: 1\nkind: PresentationState\nsources: {images: phantom/ct/}\n"
        "layers: [{name: REPORT}]\nannotations:\n  - layer: REPORT\n    image: 1\n"
        "    texts: [{text: mine, anchor: [5, 5]}]\n  - from_report: {spec: report-organs}\n"
    )
    result = _build(specs + [spec], tmp_path / "out")
    assert not result.errors, _text(result)
    out = tmp_path / "out" / "pr.dcm"
    _valid(out)
    assert _layers(out) == ["REPORT", "REPORT 2"]
    ds = pydicom.dcmread(out)
    drawn = {str(item.GraphicLayer) for item in ds.GraphicAnnotationSequence if "GraphicObjectSequence" in item}
    assert drawn == {"REPORT 2"}  # the report's circle; the spec's own layer has only its text


def test_a_report_layer_named_like_one_of_the_layers_is_refused_with_a_hint(tmp_path):
    specs = _with_examples(tmp_path, ("organs-binary.yaml", "report-organs.yaml"))
    spec = tmp_path / "pr.yaml"
    spec.write_text(
        "dcmspec: 1\nkind: PresentationState\nsources: {images: phantom/ct/}\n"
        "layers: [{name: MINE}]\nannotations:\n  - layer: MINE\n    image: 1\n"
        "    texts: [{text: mine, anchor: [5, 5]}]\n  - from_report: {spec: report-organs,\n"
        "      layer: MINE}\n"
    )
    result = _build(specs + [spec], tmp_path / "out")
    (error,) = [e for e in result.errors if Path(e.location.file).name == "pr.yaml"]
    assert error.location.line == 10 and "already a graphic layer" in str(error), _text(result)
    assert "choose another `layer:`" in error.hint


def test_a_layer_named_like_a_segment_moves_the_segments_layer(tmp_path):
    specs = _with_examples(tmp_path, ("organs-binary.yaml",))
    spec = tmp_path / "pr.yaml"
    spec.write_text(
        "dcmspec: 1\nkind: PresentationState\nsources: {images: phantom/ct/}\n"
        "layers: [{name: LIVER}]\nannotations:\n  - layer: LIVER\n    image: 1\n"
        "    texts: [{text: mine, anchor: [5, 5]}]\n  - from_segmentation: {spec: organs-binary}\n"
    )
    result = _build(specs + [spec], tmp_path / "out")
    assert not result.errors, _text(result)
    out = tmp_path / "out" / "pr.dcm"
    _valid(out)
    assert _layers(out) == ["LIVER", "LIVER 1", "SPLEEN", "LEFT KIDNEY"]


# --- 7. from_report naming a spec of another kind, or one that failed ---------------------------------------------
def test_from_report_naming_a_segmentation_says_its_kind(tmp_path):
    specs = _with_examples(tmp_path, ("organs-binary.yaml",))
    spec = tmp_path / "pr.yaml"
    spec.write_text(
        "dcmspec: 1\nkind: PresentationState\nsources: {images: phantom/ct/}\n"
        "annotations:\n  - from_report: {spec: organs-binary}\n"
    )
    result = _build(specs + [spec], tmp_path / "out")
    (error,) = result.errors
    assert error.location.line == 5 and "'organs-binary' is a Segmentation spec" in str(error), _text(result)
    assert "MeasurementReport" in str(error) and "from_segmentation" in error.hint
    assert "wrote 0" not in _text(result)


def test_a_referenced_spec_that_failed_is_said_to_have_failed(tmp_path):
    specs = _with_examples(tmp_path, ("organs-binary.yaml", "report-organs.yaml"))
    report = tmp_path / "report-organs.yaml"
    report.write_text(
        report.read_text().replace("observer:", "observer_typo:", 1)
        if "observer:" in report.read_text()
        else report.read_text() + "unknown_key: 1\n"
    )
    spec = tmp_path / "pr.yaml"
    spec.write_text(
        "dcmspec: 1\nkind: PresentationState\nsources: {images: phantom/ct/}\n"
        "annotations:\n  - from_report: {spec: report-organs}\n"
    )
    result = _build(specs + [spec], tmp_path / "out")
    (error,) = [e for e in result.errors if Path(e.location.file).name == "pr.yaml"]
    assert error.location.line == 5 and "'report-organs' failed to build (see its errors above)" in str(error)
    assert "has not been built" not in _text(result) and "report-organs.yaml" in error.hint
    assert [e for e in result.errors if Path(e.location.file).name == "report-organs.yaml"]


def test_a_referenced_spec_not_named_still_says_so(tmp_path):
    spec = tmp_path / "pr.yaml"
    spec.write_text(
        f"dcmspec: 1\nkind: PresentationState\nsources: {{images: {PHANTOM / 'ct'}}}\n"
        "annotations:\n  - from_report: {spec: report-organs}\n"
    )
    result = _build([spec], tmp_path / "out")
    assert result.errors and "failed to build" not in _text(result)


# --- 8. a starter per type ------------------------------------------------------------------------------------------
TYPES = {
    "grayscale": "GrayscaleSoftcopyPresentationState",
    "color": "ColorSoftcopyPresentationState",
    "pseudocolor": "PseudoColorSoftcopyPresentationState",
    "blending": "AdvancedBlendingPresentationState",
}


def _new(*args: str):
    from click.testing import CliRunner

    from dcmspec_compiler.cli import main

    return CliRunner().invoke(main, ["new", *args])


def test_each_type_has_a_starter_that_builds_as_written_next_to_the_phantom(tmp_path):
    """Written next to specs_examples/phantom's folders, as each starter's REPLACE line says; dciodvfy judges."""
    from dcmspec_compiler.iods.pr import prread

    for folder in PHANTOM.iterdir():
        (tmp_path / folder.name).symlink_to(folder)
    specs = []
    for type_ in TYPES:
        result = _new("PresentationState", "--type", type_, "-o", str(tmp_path / f"{type_}.yaml"))
        assert result.exit_code == 0, result.output
        text = (tmp_path / f"{type_}.yaml").read_text()
        assert f"type: {type_}" in text and "REPLACE:" in text
        specs.append(tmp_path / f"{type_}.yaml")
    result = _build(specs, tmp_path / "out")
    assert not result.errors, _text(result)
    for type_, cls in TYPES.items():
        path = tmp_path / "out" / f"{type_}.dcm"
        _valid(path)
        assert type(prread(path)).__name__ == cls


def test_the_default_starter_names_the_other_types_and_a_bad_type_is_refused():
    default = _new("PresentationState")
    assert default.exit_code == 0 and "--type color|pseudocolor|blending" in default.output
    assert _new("PresentationState", "--type", "grayscale").output == default.output
    bad = _new("PresentationState", "--type", "rainbow")
    assert bad.exit_code != 0 and "grayscale, color, pseudocolor, blending" in bad.output
    other = _new("Segmentation", "--type", "binary")
    assert other.exit_code != 0 and "Segmentation has no types" in other.output
