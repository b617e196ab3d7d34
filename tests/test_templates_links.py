"""Templates (typed parameters), extends, and references between specs, on Segmentation specs."""

from __future__ import annotations

from pathlib import Path

import pytest

from dcmspec_compiler.errors import ErrorList, SpecError
from dcmspec_compiler.load.extends import load_with_extends
from dcmspec_compiler.load.parse import parse_text
from dcmspec_compiler.load.templates import instantiate, rows_from_csv, values_from_set
from dcmspec_compiler.pipeline import Parameters, build_specs, compile_specs
from dcmspec_compiler.resolve.links import build_order, spec_id

from conftest import ROOT

PHANTOM = ROOT / "specs_examples" / "phantom"

TEMPLATE = f"""dcmspec: 1
kind: Segmentation
parameters:
  organ_label: {{type: string, description: label of the organ}}
  series_number: {{type: integer, minimum: 1, default: 400}}
  color_red: {{type: integer, minimum: 0, maximum: 255, default: 200}}
sources: {{images: {PHANTOM / "ct"}}}
segmentation: {{type: BINARY, mask: {PHANTOM / "organs_labelmap.npy"}}}
segments:
  - label: "${{organ_label}}"
    description: "Segmented ${{organ_label}} ($${{not a parameter}})"
    category: AnatomicalStructure
    type: Liver
    color: ["${{color_red}}", 100, 100]
series: {{number: "${{series_number}}"}}
"""


def template(tmp_path: Path, text: str = TEMPLATE, name: str = "tpl.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def messages(result) -> str:
    return "\n".join(e.format() for e in result.errors)


def test_set_values_are_typed_and_substituted(tmp_path):
    doc = load_with_extends(template(tmp_path))
    filled = instantiate(doc, values_from_set(["organ_label=Liver", "series_number=12"]))
    seg = filled.data["segments"][0]
    assert seg["label"] == "Liver"
    assert seg["description"] == "Segmented Liver (${not a parameter})"
    assert seg["color"] == [200, 100, 100]  # default, typed
    assert filled.data["series"]["number"] == 12  # "12" from the command line read as the declared integer
    # positions are kept for substituted values
    assert filled.loc(("segments", 0, "label")).line == 10


def test_missing_value_is_reported_at_the_declaration(tmp_path):
    doc = load_with_extends(template(tmp_path))
    with pytest.raises(ErrorList) as err:
        instantiate(doc, {})
    (e,) = err.value.errors
    assert e.location.line == 4 and "organ_label" in e.message and "--set organ_label=" in e.hint


def test_ill_typed_value_points_at_its_source_and_the_declaration(tmp_path):
    doc = load_with_extends(template(tmp_path))
    with pytest.raises(ErrorList) as err:
        instantiate(doc, values_from_set(["organ_label=Liver", "series_number=twelve"]))
    (e,) = err.value.errors
    assert str(e.location) == "--set series_number"
    assert "'twelve' is not of type 'integer'" in e.message and f"{tmp_path / 'tpl.yaml'}:5:" in e.hint


def test_unknown_parameter_and_placeholder(tmp_path):
    doc = load_with_extends(template(tmp_path))
    with pytest.raises(ErrorList) as err:
        instantiate(doc, values_from_set(["organ_label=Liver", "colour=1"]))
    assert "unknown parameter 'colour'" in err.value.errors[0].message
    bad = template(
        tmp_path, TEMPLATE.replace('${organ_label}"\n    description', '${organ}"\n    description'), "bad.yaml"
    )
    with pytest.raises(ErrorList) as err:
        instantiate(load_with_extends(bad), values_from_set(["organ_label=Liver"]))
    assert err.value.errors[0].location.line == 10 and "${organ}" in err.value.errors[0].message


def test_csv_builds_one_object_per_row_and_locates_bad_cells(tmp_path):
    tpl = template(tmp_path)
    rows = tmp_path / "cases.csv"
    rows.write_text("organ_label,series_number\nLiver,10\nSpleen,11\nKidney,\n")
    result = build_specs([tpl], tmp_path / "out", params=Parameters(csv=rows))
    assert not result.errors, messages(result)
    files = sorted(p.name for p in (tmp_path / "out").glob("*.dcm"))
    assert files == ["tpl-2.dcm", "tpl-3.dcm", "tpl-4.dcm"]
    numbers = [o.dataset.SeriesNumber for o in result.objects]
    assert numbers == [10, 11, 400]  # empty cell -> default
    assert len({o.dataset.SOPInstanceUID for o in result.objects}) == 3
    rows.write_text("organ_label,series_number\nLiver,10\nSpleen,-3\n")
    result = compile_specs([tpl], params=Parameters(csv=rows))
    (e,) = result.errors
    assert (e.location.file, e.location.line, e.location.column) == (str(rows), 3, 2)
    assert "minimum" in e.message


def test_csv_header_and_row_shape_errors(tmp_path):
    rows = tmp_path / "r.csv"
    rows.write_text("organ label\nx\n")
    with pytest.raises(SpecError) as err:
        list(rows_from_csv(rows))
    assert err.value.location.line == 1
    rows.write_text("a,b\n1\n")
    with pytest.raises(SpecError) as err:
        list(rows_from_csv(rows))
    assert err.value.location.line == 2 and "1 cells" in err.value.message


SITE = """dcmspec: 1
kind: Segmentation
sources: {images: phantom/ct}
segmentation: {type: BINARY, mask: phantom/organs_labelmap.npy}
segments:
  - {label: Liver, category: AnatomicalStructure, type: Liver}
series: {number: 500, description: Site default}
equipment: {manufacturer: Site Lab, model: SiteNet, software_versions: "1"}
"""


def test_extends_merges_and_keeps_positions_and_relative_paths(tmp_path):
    site_dir = tmp_path / "site"
    site_dir.mkdir()
    (site_dir / "phantom").symlink_to(PHANTOM)
    (site_dir / "site.yaml").write_text(SITE)
    case = tmp_path / "case.yaml"
    case.write_text("extends: site/site.yaml\nseries: {number: 501}\nid: case-1\n")
    doc = load_with_extends(case)
    assert doc.data["series"] == {"number": 501, "description": "Site default"}
    assert doc.loc(("series", "number")).file == str(case)
    assert doc.loc(("series", "description")).file == str(site_dir / "site.yaml")
    # the template's relative paths resolve against the template's folder
    result = build_specs([case], tmp_path / "out")
    assert not result.errors, messages(result)
    assert result.objects[0].dataset.SeriesNumber == 501
    assert result.objects[0].dataset.Manufacturer == "Site Lab"


def test_extends_cycle_and_missing_base(tmp_path):
    (tmp_path / "a.yaml").write_text("extends: b.yaml\ndcmspec: 1\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\ndcmspec: 1\n")
    with pytest.raises(SpecError) as err:
        load_with_extends(tmp_path / "a.yaml")
    assert "cycle" in err.value.message and "a.yaml" in err.value.message and "b.yaml" in err.value.message
    (tmp_path / "c.yaml").write_text("dcmspec: 1\nextends: nowhere.yaml\n")
    with pytest.raises(SpecError) as err:
        load_with_extends(tmp_path / "c.yaml")
    assert err.value.location.line == 2 and "not found" in err.value.message


def _doc(tmp_path: Path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text)
    return parse_text(text, path)


def test_build_order_follows_references(tmp_path):
    a = _doc(tmp_path, "a.yaml", "id: a\nref: {spec: b}\n")
    b = _doc(tmp_path, "b.yaml", "id: b\nref: {spec: c.yaml}\n")
    c = _doc(tmp_path, "c.yaml", "id: c\n")
    assert [d.data["id"] for d in build_order([a, b, c])] == ["c", "b", "a"]


def test_dangling_reference_and_cycle_name_both_ends(tmp_path):
    a = _doc(tmp_path, "a.yaml", "id: a\nref: {spec: nothere}\n")
    with pytest.raises(ErrorList) as err:
        build_order([a])
    e = err.value.errors[0]
    assert e.location.line == 2 and "no spec 'nothere'" in e.message and "a" in e.hint
    a = _doc(tmp_path, "a.yaml", "id: a\nref: {spec: b}\n")
    b = _doc(tmp_path, "b.yaml", "id: b\nback:\n  ref: {spec: a}\n")
    with pytest.raises(SpecError) as err:
        build_order([a, b])
    text = err.value.format()
    assert "cycle" in text and "'a'" in text and "'b'" in text and "b.yaml:3" in text


def test_duplicate_ids(tmp_path):
    a = _doc(tmp_path, "a.yaml", "id: same\n")
    b = _doc(tmp_path, "b.yaml", "id: same\n")
    with pytest.raises(ErrorList) as err:
        build_order([a, b])
    assert "two specs have the id 'same'" in err.value.errors[0].message


def test_cli_values_file_and_set_override(tmp_path):
    from click.testing import CliRunner

    from dcmspec_compiler.cli import main

    tpl = template(tmp_path)
    values = tmp_path / "values.yaml"
    values.write_text("organ_label: Liver\nseries_number: 21\n")
    out = tmp_path / "out"
    res = CliRunner().invoke(
        main, ["build", str(tpl), "-o", str(out), "--values", str(values), "--set", "series_number=22"]
    )
    assert res.exit_code == 0, res.stderr
    import pydicom

    ds = pydicom.dcmread(out / "tpl.dcm", stop_before_pixels=True)
    assert ds.SeriesNumber == 22 and ds.SegmentSequence[0].SegmentLabel == "Liver"
    values.write_text("organ_label: Liver\nseries_number: 2.5\n")
    res = CliRunner().invoke(main, ["validate", str(tpl), "--values", str(values)])
    assert res.exit_code == 1 and f"{values}:2:16: parameter 'series_number'" in res.stderr


def test_many_rows_build_in_workers_with_the_same_bytes_and_located_errors(tmp_path, monkeypatch):
    from dcmspec_compiler import pipeline
    from dcmspec_compiler.assemble import batch

    template = ROOT / "specs_examples" / "report-template.yaml"
    rows = tmp_path / "rows.csv"
    lines = ["lesion_id,volume_ml"] + [f"L{i},{i / 10:.1f}" for i in range(batch.MIN_BATCH + 6)]
    rows.write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(pipeline, "worker_count", lambda n: 2)
    parallel = build_specs([template], tmp_path / "par", params=Parameters(csv=rows))
    assert not parallel.errors, messages(parallel)
    assert all(o.encoded is not None for o in parallel.objects)  # came back from the workers
    monkeypatch.setattr(pipeline, "worker_count", lambda n: 1)
    serial = build_specs([template], tmp_path / "ser", params=Parameters(csv=rows))
    assert all(o.encoded is None for o in serial.objects)
    manifest = lambda d: (tmp_path / d / "dcmspec-manifest.json").read_text()
    assert manifest("par") == manifest("ser").replace(str(tmp_path / "ser"), str(tmp_path / "par"))
    for obj in serial.objects:
        assert (tmp_path / "par" / obj.filename).read_bytes() == (tmp_path / "ser" / obj.filename).read_bytes()
    # an error inside a worker comes back with its location (a value the schema refuses)
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        template.read_text()
        .replace("extends: report-site.yaml", f"extends: {ROOT / 'specs_examples' / 'report-site.yaml'}")
        .replace("graphic_type: ELLIPSE", "graphic_type: OVAL")
    )
    monkeypatch.setattr(pipeline, "worker_count", lambda n: 2)
    result = build_specs([bad], tmp_path / "bad-out", params=Parameters(csv=rows))
    assert len(result.errors) == batch.MIN_BATCH + 6
    assert all(e.location.file == str(bad) and "OVAL" in e.format() for e in result.errors)
    # the build that failed wrote nothing into its output folder (the good builds above did write theirs)
    assert not (tmp_path / "bad-out").exists() or not any((tmp_path / "bad-out").iterdir())


def test_reference_to_a_missing_spec_file_is_located_at_the_reference(tmp_path):
    spec = tmp_path / "report.yaml"
    spec.write_text(
        "dcmspec: 1\nkind: MeasurementReport\nfindings:\n  - {tracking_id: a, segment: {spec: gone.yaml, number: 1}}\n"
    )
    result = compile_specs([spec])
    (error,) = result.errors
    assert (error.location.file, error.location.line) == (str(spec), 4)
    assert "gone.yaml" in error.message and error.path == ("findings", 0, "segment", "spec")


def test_malformed_set_is_a_usage_error():
    from click.testing import CliRunner

    from dcmspec_compiler.cli import main

    res = CliRunner().invoke(
        main, ["validate", str(ROOT / "specs_examples" / "report-template.yaml"), "--set", "lesion_id"]
    )
    assert res.exit_code == 2 and "--set 'lesion_id' is not name=value" in res.stderr


def _copy_example(name: str, folder: Path, new_name: str | None = None) -> Path:
    """An example spec copied into ``folder``, its relative paths pointing back at specs_examples/."""
    examples = ROOT / "specs_examples"
    text = (examples / name).read_text()
    text = text.replace(" phantom/", f" {examples / 'phantom'}/")
    target = folder / (new_name or name)
    target.write_text(text)
    return target


def test_an_id_no_named_spec_has_is_found_beside_the_referring_spec(tmp_path):
    # A pre-commit hook passes only the changed report; the SEG it links to by id is beside it, unchanged.
    report = _copy_example("report-organs.yaml", tmp_path)
    _copy_example("organs-binary.yaml", tmp_path)
    result = compile_specs([report])
    assert not result.errors, messages(result)
    assert sorted(spec_id(d) for d in result.documents) == ["organs-binary", "report-organs"]


def test_an_id_is_found_in_a_file_of_another_name_and_bases_and_other_files_are_left_alone(tmp_path):
    report = _copy_example("report-organs.yaml", tmp_path)
    seg = _copy_example("organs-binary.yaml", tmp_path, "a-segmentation.yaml")
    assert "\nid: organs-binary\n" in seg.read_text()  # its id, not its file name, is what is referred to
    (tmp_path / "notes.yaml").write_text("just: [a, yaml, file]\n")
    (tmp_path / "broken.yaml").write_text("dcmspec: 1\nkind: [\n")
    base = tmp_path / "organs-binary-base.yaml"
    base.write_text("dcmspec: 1\nabstract: true\nid: organs-binary\nkind: Segmentation\n")
    result = compile_specs([report])
    assert not result.errors, messages(result)
    assert {d.path.name for d in result.documents} == {"report-organs.yaml", "a-segmentation.yaml"}


def test_an_id_found_nowhere_is_still_an_error_at_the_reference(tmp_path):
    report = _copy_example("report-organs.yaml", tmp_path)
    (tmp_path / "organs-other.yaml").write_text(
        (ROOT / "specs_examples" / "organs-binary.yaml").read_text().replace("id: organs-binary", "id: organs-other")
    )
    result = compile_specs([report])
    assert result.errors and all("no spec 'organs-binary' in this build" in e.message for e in result.errors)
    assert {e.location.file for e in result.errors} == {str(report)}
