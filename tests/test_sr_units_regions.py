"""SR measurement units are UCUM expressions; a TID 1410 planar region is a closed area.

Oracles: the unit strings are hand-picked from the UCUM specification (ucum-essence.xml, UCUM 2.2): ``mL``
is the prefix m on the metric atom L, ``mm2`` a prefixed atom with exponent 2, ``[hnsf'U]`` an atom of the
clinical table, ``{ratio}`` an annotation (unity), ``1`` unity; ``millilitre`` is no atom and ``mm^2`` uses
an exponent syntax UCUM does not have. The closed-outline rule is PS3.3 C.18.6.1.2 (POLYLINE closed when
its first and last vertices are the same) with TID 1410's Image Region being an area. dciodvfy judges
the written files; pydicom reads the units back.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pydicom
import pytest

from dcmspec_compiler.errors import DicomConformanceError
from dcmspec_compiler.iods.common.concept import Code
from dcmspec_compiler.iods.sr import ImageRegion, ImageRegion3D, NumItem, PlanarROIGroup, Reference
from dcmspec_compiler.pipeline import build_specs

from conftest import ROOT, dciodvfy_findings, dsrdump_errors

PHANTOM = ROOT / "specs_examples" / "phantom" / "ct"

HEAD = f"""\
dcmspec: 1
kind: MeasurementReport
id: report
sources: {{images: {PHANTOM}}}
document: {{procedure_reported: LN:25045-6}}
findings:
"""


def _spec(tmp_path: Path, findings: str, head: str = HEAD) -> Path:
    path = tmp_path / "report.yaml"
    path.write_text(head + textwrap.dedent(findings))
    return path


def _errors(spec: Path, out: Path) -> list:
    result = build_specs([spec], out)
    assert result.errors, "expected errors"
    assert not out.exists() or not any(out.rglob("*.dcm")), "a refused spec writes nothing"
    return result.errors


def _where(error) -> tuple[int, int]:
    return error.location.line, error.location.column


def _at(spec: Path, needle: str, nth: int = 0) -> tuple[int, int]:
    """(line, column), 1-based, of the ``nth`` occurrence of ``needle`` in the spec's text."""
    hits = [(i + 1, line.index(needle) + 1) for i, line in enumerate(spec.read_text().splitlines()) if needle in line]
    return hits[nth]


def _items(ds):
    """Every content item of the tree, depth first."""
    for item in ds.get("ContentSequence", []):
        yield item
        yield from _items(item)


# --- units ------------------------------------------------------------------------------------------------
def test_units_that_are_not_ucum_are_refused_at_their_line(tmp_path):
    spec = _spec(
        tmp_path,
        """\
          - tracking_id: a
            measurements:
              - {name: Volume, value: 2.18, unit: millilitre}
              - {name: Area, value: 2, unit: "mm^2"}
              - {name: Area, value: 2, unit: mm^2 "square millimeter"}
              - {name: Area, value: 2, unit: UCUM:sqmm "square millimeter"}
              - name: Area
                value: 2
                unit: {scheme: UCUM, value: cm 3, meaning: cubic centimeter}
              - {name: Volume, value: 2.18, unit: ml}
        """,
    )
    errors = _errors(spec, tmp_path / "out")
    assert len(errors) == 5  # all at once, in one run
    by_row = {e.path[3]: e for e in errors}
    assert "'millilitre' is not a UCUM unit" in by_row[0].message and _where(by_row[0]) == _at(spec, "millilitre")
    assert "did you mean 'mL'?" in by_row[0].hint
    assert "'mm^2' is not a UCUM unit" in by_row[1].message and _where(by_row[1]) == _at(spec, '"mm^2"')
    assert "did you mean 'mm2'?" in by_row[1].hint
    assert "'mm^2'" in by_row[2].message and "did you mean 'mm2'?" in by_row[2].hint
    assert "'sqmm'" in by_row[3].message and by_row[3].path[-1] == "unit"
    assert "no spaces" in by_row[4].message and by_row[4].path[-1] == "value" and _where(by_row[4]) == _at(spec, "cm 3")
    assert "did you mean 'cm3'?" in by_row[4].hint
    assert 5 not in by_row  # ml: UCUM has both l and L for the litre


def test_ucum_units_are_written_as_ucum_codes(tmp_path):
    spec = _spec(
        tmp_path,
        """\
          - tracking_id: a
            measurements:
              - {name: Volume, value: 2.18, unit: mL}
              - {name: Area, value: 2.5, unit: mm2}
              - {name: DCM:112031 "Attenuation Coefficient", value: 61.2, unit: "[hnsf'U]"}
              - {name: DCM:121401 "Derivation", value: 0.5, unit: "{ratio}"}
              - {name: DCM:121402 "Count", value: 3, unit: "1"}
              - {name: DCM:121403 "Level", value: 4, unit: 1}
              - {name: Diameter, value: 7, unit: DCM:112031 "Attenuation Coefficient"}
        """,
    )
    out = tmp_path / "out"
    result = build_specs([spec], out)
    assert not result.errors, [e.format() for e in result.errors]
    (path,) = out.glob("*.dcm")
    ds = pydicom.dcmread(path)
    units = []
    for item in _items(ds):
        if item.ValueType == "NUM" and item.ConceptNameCodeSequence[0].CodeValue != "126072":  # not time point
            code = item.MeasuredValueSequence[0].MeasurementUnitsCodeSequence[0]
            units.append((code.CodingSchemeDesignator, code.CodeValue))
    assert units == [
        ("UCUM", "mL"),
        ("UCUM", "mm2"),
        ("UCUM", "[hnsf'U]"),
        ("UCUM", "{ratio}"),
        ("UCUM", "1"),
        ("UCUM", "1"),
        ("DCM", "112031"),  # a code of another scheme is left as it is
    ]
    errors, _ = dciodvfy_findings(path)
    assert errors == []
    assert dsrdump_errors(path) == []


def test_structured_report_num_unit_is_checked(tmp_path):
    head = f"""\
dcmspec: 1
kind: StructuredReport
id: sr
document_class: Comprehensive
sources: {{images: {PHANTOM}}}
content:
  type: CONTAINER
  name: DCM:126000 "Imaging Measurement Report"
  children:
"""
    spec = tmp_path / "sr.yaml"
    spec.write_text(head + "    - {type: NUM, relationship: CONTAINS, name: Diameter, value: 3, unit: millimetre}\n")
    (error,) = _errors(spec, tmp_path / "out")
    assert "'millimetre' is not a UCUM unit" in error.message and "did you mean 'mm'?" in error.hint
    assert error.path == ("content", "children", 0, "unit") and _where(error) == _at(spec, "millimetre")


def test_num_item_refuses_a_ucum_code_that_is_not_ucum():
    name = Code("81827009", "SCT", "Diameter")
    with pytest.raises(DicomConformanceError, match="'millilitre' is not a UCUM unit"):
        NumItem(name, 2.0, Code("millilitre", "UCUM", "millilitre"))
    with pytest.raises(DicomConformanceError, match="'mm\\^2'"):
        NumItem(name, 2.0, Code("mm^2", "UCUM", "square millimeter"))
    assert NumItem(name, 2.0, Code("mm2", "UCUM", "square millimeter")).unit == Code("mm2", "UCUM", "x")
    NumItem(name, 2.0, Code("112031", "DCM", "Attenuation Coefficient"))  # not UCUM: not checked


# --- TID 1410 planar region -------------------------------------------------------------------------------
def test_open_polyline_is_refused_at_its_points(tmp_path):
    spec = _spec(
        tmp_path,
        """\
          - tracking_id: a
            region: {image: 8, graphic_type: POLYLINE, points: [[20, 18], [22, 18], [22, 20]]}
          - tracking_id: b
            region:
              image: 8
              graphic_type: POLYLINE
              coordinates: 3d
              points: [[20, 18], [22, 18], [22, 20]]
          - tracking_id: c
            region: {image: 8, graphic_type: POLYLINE, points: [[20, 18], [22, 18], [20, 18]]}
        """,
    )
    errors = _errors(spec, tmp_path / "out")
    assert len(errors) == 3
    first, second, third = sorted(errors, key=lambda e: e.path[1])
    assert "POLYLINE is open" in first.message and "[22, 20] is not its first [20, 18]" in first.message
    assert first.path == ("findings", 0, "region", "points") and _where(first) == _at(spec, "[[20, 18]")
    assert first.hint == "repeat the first point at the end to close the outline"
    assert "POLYLINE is open" in second.message and second.path == ("findings", 1, "region", "points")
    assert "at least 3 distinct points" in third.message


def test_closed_polyline_builds_and_is_written_closed(tmp_path):
    spec = _spec(
        tmp_path,
        """\
          - tracking_id: a
            region: {image: 8, graphic_type: POLYLINE, points: [[20, 18], [22, 18], [22, 20], [20, 18]]}
            measurements: [{name: Area, value: 2, unit: mm2}]
        """,
    )
    out = tmp_path / "out"
    result = build_specs([spec], out)
    assert not result.errors, [e.format() for e in result.errors]
    (path,) = out.glob("*.dcm")
    ds = pydicom.dcmread(path)
    (scoord,) = [c for c in _items(ds) if c.ValueType == "SCOORD"]
    data = [float(v) for v in scoord.GraphicData]
    assert scoord.GraphicType == "POLYLINE" and data[:2] == data[-2:] == [20.0, 18.0]
    assert dciodvfy_findings(path)[0] == []


def test_points_go_to_a_measurements_regions_as_the_hint_says(tmp_path):
    spec = _spec(
        tmp_path,
        """\
          - tracking_id: a
            region: {image: 8, graphic_type: MULTIPOINT, points: [[20, 18], [22, 18]]}
        """,
    )
    (error,) = _errors(spec, tmp_path / "out")
    assert "MULTIPOINT is not allowed" in error.message and error.path[-1] == "graphic_type"
    assert "measurement's `regions:`" in error.hint
    spec = _spec(  # what the hint says, done: it builds and is conformant
        tmp_path,
        """\
          - tracking_id: a
            measurements:
              - name: Diameter
                value: 2
                unit: mm
                regions: [{image: 8, graphic_type: MULTIPOINT, points: [[20, 18], [22, 18]]}]
        """,
    )
    out = tmp_path / "ok"
    result = build_specs([spec], out)
    assert not result.errors, [e.format() for e in result.errors]
    (path,) = out.glob("*.dcm")
    assert dciodvfy_findings(path)[0] == [] and dsrdump_errors(path) == []


def test_planar_group_refuses_an_open_outline_for_python_users():
    ref = Reference("1.2.840.10008.5.1.4.1.1.2", "2.25.1", "2.25.2", "2.25.3")
    common = {"tracking_id": "a", "tracking_uid": "2.25.4"}
    with pytest.raises(DicomConformanceError, match="POLYLINE is open"):
        PlanarROIGroup(**common, region=ImageRegion("POLYLINE", [[1, 1], [4, 1], [4, 4]], ref)).item()
    with pytest.raises(DicomConformanceError, match="POLYLINE is open"):
        PlanarROIGroup(**common, region=ImageRegion3D("POLYLINE", [[0, 0, 0], [1, 0, 0], [1, 1, 0]], "2.25.5")).item()
    closed = PlanarROIGroup(**common, region=ImageRegion("POLYLINE", [[1, 1], [4, 1], [4, 4], [1, 1]], ref)).item()
    assert [c.GraphicType for c in closed.ContentSequence if c.ValueType == "SCOORD"] == ["POLYLINE"]
