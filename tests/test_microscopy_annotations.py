"""Microscopy Bulk Simple Annotations (PS3.3 A.87): builder layer, slide phantom, spec kind, bad input.

Oracles: dciodvfy (2026 tables: IOD, modules, conditions of the annotation group attributes) on every object
built, on the third-party slide image (tests/data/sm/sm_image.dcm) and on the phantom; highdicom 0.28.2 as an
independent READER (``MicroscopyBulkSimpleAnnotations.from_dataset``, ``get_annotation_groups``,
``get_coordinates``, ``get_measurements``) whose coordinates and measurements must equal the input; GeoJSON
fixtures written here by hand in QuPath's export shape, whose expected arrays are written out by hand too.
"""

from __future__ import annotations

import datetime as dt
import doctest
import json
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import pytest

from dcmspec_compiler.assemble.context import BuildOptions
from dcmspec_compiler.errors import DicomConformanceError
from dcmspec_compiler.iods import ann as ann_module
from dcmspec_compiler.iods.ann import (
    AnnotationGroup,
    Measurement,
    MicroscopyBulkSimpleAnnotations,
    annread,
    image_bounds,
)
from dcmspec_compiler.iods.common.algorithm import AlgorithmIdentification
from dcmspec_compiler.iods.common.concept import Code
from dcmspec_compiler.iods.common.modules import ContentIdentification, Equipment
from dcmspec_compiler.pipeline import build_specs
from dcmspec_compiler.testing.slide import Slide, nucleus_centres, write_slide_image

from conftest import ROOT, dciodvfy_findings, shared

EXAMPLES = ROOT / "specs_examples"
PHANTOM = EXAMPLES / "phantom" / "slide" / "slide.dcm"
NUCLEUS = Code("84640000", "SCT", "Nucleus")
STRUCTURE = Code("91723000", "SCT", "Anatomical Structure")
AREA = Code("42798000", "SCT", "Area")
UM2 = Code("um2", "UCUM", "square micrometer")
AI = Code("123110", "DCM", "Artificial Intelligence")
SCOORD = hd.ann.AnnotationCoordinateTypeValues.SCOORD
SCOORD3D = hd.ann.AnnotationCoordinateTypeValues.SCOORD3D


def _header(path: Path) -> pydicom.Dataset:
    return pydicom.dcmread(path, stop_before_pixels=True)


def _ann(image, groups, coordinate_type="2D") -> MicroscopyBulkSimpleAnnotations:
    return MicroscopyBulkSimpleAnnotations(
        image,
        groups,
        series_instance_uid="2.25.30",
        series_number=1300,
        sop_instance_uid="2.25.31",
        content=ContentIdentification(content_label="NUCLEI"),
        created=dt.datetime(2024, 1, 5, 12),
        equipment=Equipment("Lab", "Net", "1", "SN1"),
        coordinate_type=coordinate_type,
    )


def _group(number, graphic_type, points, counts, **kwargs) -> AnnotationGroup:
    return AnnotationGroup(
        number=number,
        uid=f"2.25.{100 + number}",
        label=f"group {number}",
        property_category=STRUCTURE,
        property_type=NUCLEUS,
        graphic_type=graphic_type,
        coordinates=points,
        counts=counts,
        **kwargs,
    )


def _assert_conformant(path: Path) -> None:
    errors, warnings = dciodvfy_findings(path)
    assert errors == [], "\n".join(errors)
    assert warnings == [], "\n".join(warnings)


def _hd_groups(path: Path):
    return hd.ann.MicroscopyBulkSimpleAnnotations.from_dataset(pydicom.dcmread(path)).get_annotation_groups()


def _assert_read_back(
    path: Path, expected: list[tuple[list[np.ndarray], dict[str, np.ndarray]]], coordinate_type=SCOORD
) -> None:
    """highdicom's coordinates and measurements of each group equal the expected ones (exactly)."""
    groups = _hd_groups(path)
    assert len(groups) == len(expected)
    for group, (group_annotations, measured) in zip(groups, expected):
        assert group.number_of_annotations == len(group_annotations)
        for i, points in enumerate(group_annotations):
            got = group.get_coordinates(i + 1, coordinate_type)
            np.testing.assert_array_equal(got, np.asarray(points, dtype=got.dtype))
        names, values, _units = group.get_measurements()
        assert [n.meaning for n in names] == list(measured)
        for k, want in enumerate(measured.values()):
            np.testing.assert_array_equal(values[:, k], np.asarray(want, dtype=np.float32))


def _random_groups(image, coordinate_type: str, seed: int = 0, common_z: bool = True):
    """One group per graphic type inside the image, with a measurement missing for some annotations."""
    low, high = image_bounds(image, coordinate_type)
    rng = np.random.default_rng(seed)

    def points(n):
        p = low + rng.uniform(0.05, 0.95, (n, 2)) * (high - low)
        if coordinate_type == "3D":
            z = np.zeros(n) if common_z else rng.uniform(0, 0.01, n)
            p = np.column_stack([p, z])
        return p

    algorithm = AlgorithmIdentification(name="CellNet", version="2", family=AI)
    specs = [("POLYGON", [3, 5, 4]), ("POINT", [1] * 6), ("POLYLINE", [2, 4]), ("ELLIPSE", [4, 4]), ("RECTANGLE", [4])]
    groups, expected = [], []
    for n, (graphic_type, counts) in enumerate(specs, start=1):
        p = points(sum(counts))
        values = rng.uniform(10, 50, len(counts))
        values[::2] = np.nan
        if np.isnan(values).all():
            values[0] = 12.5
        groups.append(
            _group(
                n,
                graphic_type,
                p,
                counts,
                generation_type="AUTOMATIC",
                algorithm=algorithm,
                measurements=[Measurement(AREA, UM2, values)],
                double=n != 2,
            )
        )
        split = np.split(p, np.cumsum(counts)[:-1])
        expected.append(([s.astype(np.float32) if n == 2 else s for s in split], {"Area": values}))
    return groups, expected


# --- the slide phantom ----------------------------------------------------------------------------


def test_the_slide_phantom_is_conformant_and_reproducible(tmp_path):
    path = write_slide_image(tmp_path / "slide.dcm")
    _assert_conformant(path)
    assert path.read_bytes() == PHANTOM.read_bytes()  # the committed example is the phantom as made now
    ds = pydicom.dcmread(path)
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.77.1.6"
    frames = ds.pixel_array  # pydicom's own decoder: (tiles, rows, columns)
    assert frames.shape == (4, 128, 128)
    whole = frames.reshape(2, 2, 128, 128).transpose(0, 2, 1, 3).reshape(256, 256)
    for column, row in nucleus_centres():  # a dark nucleus at each centre, bright tissue between
        assert whole[int(row), int(column)] == 70
    assert whole[0, 0] == 220


def test_phantom_slide_coordinates_follow_its_orientation():
    slide = Slide()
    # column runs along -Y, row along -X (Image Orientation (Slide) 0\-1\0\-1\0\0), origin at 0,0
    np.testing.assert_allclose(
        slide.to_slide([[0, 0], [10, 0], [0, 10]]), [[20.0, 40.0], [20.0, 39.995], [19.995, 40.0]]
    )
    low, high = image_bounds(_header(PHANTOM), "3D")
    np.testing.assert_allclose(low, [19.872, 39.872])
    np.testing.assert_allclose(high, [20.0, 40.0])


# --- builder layer ----------------------------------------------------------------------------


def test_class_docstring_example_runs():
    result = doctest.testmod(ann_module.annotations, raise_on_error=False, verbose=False)
    assert result.attempted >= 5 and result.failed == 0


@pytest.mark.parametrize("source", ["sm_image", "phantom"])
@pytest.mark.parametrize("coordinate_type,common_z", [("2D", True), ("3D", True), ("3D", False)])
def test_every_graphic_type_is_conformant_and_reads_back_in_highdicom(tmp_path, source, coordinate_type, common_z):
    image = _header(shared("sm", "sm_image.dcm") if source == "sm_image" else PHANTOM)
    groups, expected = _random_groups(image, coordinate_type, common_z=common_z)
    ann = _ann(image, groups, coordinate_type)
    path = tmp_path / "ann.dcm"
    ann.save_as(path, enforce_file_format=True)
    _assert_conformant(path)
    _assert_read_back(path, expected, SCOORD if coordinate_type == "2D" else SCOORD3D)
    ds = pydicom.dcmread(path)
    assert ds.PatientID == image.PatientID and ds.StudyInstanceUID == image.StudyInstanceUID
    assert ds.SpecimenDescriptionSequence[0].SpecimenUID == image.SpecimenDescriptionSequence[0].SpecimenUID
    assert ds.ReferencedImageSequence[0].ReferencedSOPInstanceUID == image.SOPInstanceUID
    first = ds.AnnotationGroupSequence[0]
    assert ("CommonZCoordinateValue" in first) == (coordinate_type == "3D" and common_z)
    # our own read side agrees with highdicom's
    mine = annread(path)
    for group, (group_annotations, measured) in zip(mine.groups(), expected):
        for got, want in zip(group.coordinates(), group_annotations):
            np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(group.measurements()[0].values, np.asarray(measured["Area"], np.float32))


def test_long_primitive_point_index_list_is_computed_by_hand():
    image = _header(PHANTOM)
    points = np.array([[1, 1], [2, 1], [2, 2], [10, 10], [11, 10], [11, 11], [10, 11]], dtype=float)
    group = _group(1, "POLYGON", points, [3, 4])
    # 1-based index of each annotation's first value in the flat (X, Y, X, Y, ...) array: 1 and 3*2+1
    assert np.frombuffer(group.LongPrimitivePointIndexList, "<i4").tolist() == [1, 7]
    assert np.frombuffer(group.DoublePointCoordinatesData, "<f8").tolist() == points.ravel().tolist()
    _ann(image, [group])


def test_groups_are_found_by_label_and_property():
    image = _header(PHANTOM)
    neoplasm = Code("108369006", "SCT", "Neoplasm")
    a = _group(1, "POINT", [[5, 5]], [1])
    b = AnnotationGroup(
        number=2,
        uid="2.25.202",
        label="tumour",
        property_category=STRUCTURE,
        property_type=neoplasm,
        graphic_type="POINT",
        coordinates=[[[6, 6]], [[7, 7]]],
    )
    ann = annread(_ann(image, [a, b]))
    assert [g.number for g in ann.groups(label="tumour")] == [2]
    assert [g.number for g in ann.groups(property_type=neoplasm)] == [2]
    assert [g.number for g in ann.groups(property_type=NUCLEUS)] == [1]
    assert ann.group(2).points().tolist() == [[6, 6], [7, 7]]


@pytest.mark.parametrize(
    "graphic_type,counts,message",
    [
        ("POLYGON", [2], "at least 3 points"),
        ("POLYLINE", [1], "at least 2 points"),
        ("ELLIPSE", [3], "exactly 4 points"),
        ("POINT", [2], "exactly 1 points"),
    ],
)
def test_too_few_or_too_many_points_are_refused(graphic_type, counts, message):
    with pytest.raises(DicomConformanceError, match=message):
        _group(1, graphic_type, np.ones((sum(counts), 2)), counts)


def test_other_refusals():
    image = _header(PHANTOM)
    closed = [[1, 1], [5, 1], [5, 5], [1, 1]]
    with pytest.raises(DicomConformanceError, match="repeats its first"):
        _group(1, "POLYGON", closed, [4])
    with pytest.raises(DicomConformanceError, match="outside the image"):
        _ann(image, [_group(1, "POINT", [[300, 5]], [1])])
    with pytest.raises(DicomConformanceError, match="needs its algorithm"):
        _group(1, "POINT", [[3, 3]], [1], generation_type="AUTOMATIC")
    with pytest.raises(DicomConformanceError, match="2 values for 3 annotations"):
        _group(1, "POINT", [[3, 3]] * 3, [1, 1, 1], measurements=[Measurement(AREA, UM2, [1, 2])])
    with pytest.raises(DicomConformanceError, match="start at 1"):
        _ann(image, [_group(2, "POINT", [[3, 3]], [1])])
    with pytest.raises(DicomConformanceError, match="3 coordinates per point"):
        _ann(image, [_group(1, "POINT", [[3, 3, 0]], [1])])


# --- the spec kind ----------------------------------------------------------------------------


def _spec(tmp_path: Path, body: str, name: str = "ann.yaml", image: Path = PHANTOM) -> Path:
    path = tmp_path / name
    path.write_text(f"dcmspec: 1\nkind: MicroscopyAnnotations\nsources: {{images: {image}}}\n{body}", encoding="utf-8")
    return path


def _build(spec: Path, out: Path):
    return build_specs([spec], out, options=BuildOptions())


def _built(spec: Path, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    result = _build(spec, out)
    assert not result.errors, "\n".join(e.format() for e in result.errors)
    path = out / f"{spec.stem}.dcm"
    _assert_conformant(path)
    return path


GROUP = '  - label: Nuclei\n    category: SCT:91723000 "Anatomical Structure"\n    type: SCT:84640000 "Nucleus"\n'


def test_inline_annotations_build_on_the_third_party_slide(tmp_path):
    spec = _spec(
        tmp_path,
        "groups:\n" + GROUP + "    graphic_type: POLYGON\n"
        "    algorithm: {type: SEMIAUTOMATIC, name: Wand, version: '1'}\n"
        "    annotations:\n"
        "      - points: [[1.5, 2.25], [10, 2], [6, 9.125]]\n"
        "        measurements: {area: 31.5}\n"
        "      - [[20, 20], [30, 20], [30, 30], [20, 30]]\n"
        "    measurements:\n"
        '      - {key: area, name: SCT:42798000 "Area", unit: um2}\n',
        image=shared("sm", "sm_image.dcm"),
    )
    path = _built(spec, tmp_path)
    _assert_read_back(
        path,
        [([[[1.5, 2.25], [10, 2], [6, 9.125]], [[20, 20], [30, 20], [30, 30], [20, 30]]], {"Area": [31.5, np.nan]})],
    )
    group = _hd_groups(path)[0]
    assert group.algorithm_type.value == "SEMIAUTOMATIC"
    assert group.algorithm_identification[0].AlgorithmName == "Wand"


def test_slide_coordinates_build_in_3d(tmp_path):
    spec = _spec(
        tmp_path,
        "coordinates: slide\nprecision: single\ngroups:\n" + GROUP + "    graphic_type: POINT\n"
        "    annotations: [[[19.95, 39.9]], [[19.9, 39.95]]]\n",
    )
    path = _built(spec, tmp_path)
    ds = pydicom.dcmread(path)
    assert ds.AnnotationCoordinateType == "3D" and ds.FrameOfReferenceUID == _header(PHANTOM).FrameOfReferenceUID
    assert "PointCoordinatesData" in ds.AnnotationGroupSequence[0]  # 32-bit floats
    _assert_read_back(path, [([[[19.95, 39.9, 0.0]], [[19.9, 39.95, 0.0]]], {})], SCOORD3D)


def test_csv_one_row_per_point(tmp_path):
    (tmp_path / "cells.csv").write_text(
        "annotation,x,y,area\na,10,10,12.5\na,20,10,\na,15,18,\nb,100,50,\nb,110,55,\nb,104,62,\nb,98,58,\n",
        encoding="utf-8",
    )
    (tmp_path / "points.csv").write_text("x,y\n1,2\n3.5,4.25\n", encoding="utf-8")
    spec = _spec(
        tmp_path,
        "groups:\n" + GROUP + "    graphic_type: POLYGON\n"
        "    csv: cells.csv\n"
        '    measurements: [{key: area, name: SCT:42798000 "Area", unit: um2}]\n' + GROUP + "    graphic_type: POINT\n"
        "    csv: {file: points.csv}\n",
    )
    path = _built(spec, tmp_path)
    _assert_read_back(
        path,
        [
            ([[[10, 10], [20, 10], [15, 18]], [[100, 50], [110, 55], [104, 62], [98, 58]]], {"Area": [12.5, np.nan]}),
            ([[[1, 2]], [[3.5, 4.25]]], {}),
        ],
    )


QUPATH = """{
  "type": "FeatureCollection",
  "features": [
    {
      "type": "Feature",
      "id": "7c4a0ea6-5e5f-4b1c-9c7a-1b2f7a10c001",
      "geometry": {"type": "Polygon", "coordinates": [[[10.5, 10.0], [20.0, 10.0], [15.0, 18.25], [10.5, 10.0]]]},
      "properties": {"objectType": "detection", "classification": {"name": "Tumor", "color": [200, 0, 0]},
                     "measurements": {"Nucleus: Area µm^2": 21.75, "Nucleus: Circularity": 0.5}}
    },
    {
      "type": "Feature",
      "id": "7c4a0ea6-5e5f-4b1c-9c7a-1b2f7a10c002",
      "geometry": {"type": "MultiPolygon", "coordinates": [
        [[[100, 50], [110, 55], [104, 62], [98, 58], [100, 50]]],
        [[[200, 200], [210, 200], [210, 210], [200, 200]], [[202, 202], [203, 202], [203, 203], [202, 202]]]]},
      "properties": {"objectType": "annotation", "classification": {"name": "Tumor", "color": [200, 0, 0]},
                     "measurements": [{"name": "Nucleus: Area µm^2", "value": 40.0}]}
    },
    {
      "type": "Feature",
      "id": "7c4a0ea6-5e5f-4b1c-9c7a-1b2f7a10c003",
      "geometry": {"type": "Polygon", "coordinates": [[[50, 50], [60, 50], [55, 58], [50, 50]]]},
      "properties": {"objectType": "detection", "classification": {"name": "Tumor", "color": [200, 0, 0]},
                     "measurements": {"Nucleus: Area µm^2": null}}
    },
    {
      "type": "Feature",
      "geometry": {"type": "Point", "coordinates": [120.5, 80.25]},
      "properties": {"objectType": "detection", "classification": {"name": "Lymphocyte", "color": [0, 0, 255]}}
    },
    {
      "type": "Feature",
      "geometry": {"type": "LineString", "coordinates": [[5, 5], [250, 250], [250, 5]]},
      "properties": {"objectType": "annotation"}
    }
  ]
}
"""
GEOJSON_GROUPS = (
    "groups:\n"
    "  - label: Tumor nuclei\n"
    '    category: SCT:49755003 "Morphologically Abnormal Structure"\n'
    '    type: SCT:108369006 "Neoplasm"\n'
    "    algorithm: {type: AUTOMATIC, name: StarDist, version: '0.8.5'}\n"
    "    geojson: {file: cells.geojson, classification: Tumor}\n"
    "    measurements:\n"
    '      - {key: "Nucleus: Area µm^2", name: SCT:42798000 "Area", unit: um2}\n'
    "  - label: Lymphocytes\n"
    '    category: SCT:91723000 "Anatomical Structure"\n'
    '    type: SCT:56972008 "Lymphocyte"\n'
    "    geojson: {file: cells.geojson, classification: Lymphocyte}\n"
    "  - label: Margin\n"
    '    category: SCT:91723000 "Anatomical Structure"\n'
    "    type: SCT:85756007\n"
    "    geojson: {file: cells.geojson, classification: null}\n"
)


def test_qupath_geojson_builds_and_reads_back(tmp_path):
    (tmp_path / "cells.geojson").write_text(QUPATH, encoding="utf-8")
    out = tmp_path / "out"
    result = _build(_spec(tmp_path, GEOJSON_GROUPS), out)
    assert not result.errors, "\n".join(e.format() for e in result.errors)
    assert any("1 hole(s)" in w.message for w in result.context.warnings)
    path = out / "ann.dcm"
    _assert_conformant(path)
    # by hand: closing points dropped, the MultiPolygon gives two annotations (its hole dropped) sharing
    # the feature's measurement (QuPath 0.2's list form), a null measurement is missing
    _assert_read_back(
        path,
        [
            (
                [
                    [[10.5, 10], [20, 10], [15, 18.25]],
                    [[100, 50], [110, 55], [104, 62], [98, 58]],
                    [[200, 200], [210, 200], [210, 210]],
                    [[50, 50], [60, 50], [55, 58]],
                ],
                {"Area": [21.75, 40, 40, np.nan]},
            ),
            ([[[120.5, 80.25]]], {}),
            ([[[5, 5], [250, 250], [250, 5]]], {}),
        ],
    )
    graphic = [g.graphic_type.value for g in _hd_groups(path)]
    assert graphic == ["POLYGON", "POINT", "POLYLINE"]


def test_the_example_reads_back(tmp_path):
    path = _built(EXAMPLES / "slide-annotations.yaml", tmp_path)
    features = json.loads((EXAMPLES / "slide-cells.geojson").read_text(encoding="utf-8"))["features"]
    tumour = [f for f in features if f["properties"]["classification"]["name"] == "Tumor"]
    groups = _hd_groups(path)
    assert [g.label for g in groups] == ["Tumor nuclei", "Lymphocytes", "Tissue"]
    for i, feature in enumerate(tumour):
        ring = feature["geometry"]["coordinates"][0][:-1]
        np.testing.assert_array_equal(groups[0].get_coordinates(i + 1, SCOORD), ring)
    _names, values, _units = groups[0].get_measurements()
    want = [f["properties"]["measurements"]["Nucleus: Area µm^2"] for f in tumour]
    np.testing.assert_array_equal(values[:, 0], np.array([np.nan if v is None else v for v in want], np.float32))


# --- bad input: located, nothing written ----------------------------------------------------------


def _errors(spec: Path, tmp_path: Path) -> list:
    out = tmp_path / "out"
    result = _build(spec, out)
    assert result.errors
    assert not out.exists() or not any(out.iterdir())
    return result.errors


def test_inline_problems_are_reported_together_at_their_lines(tmp_path):
    spec = _spec(
        tmp_path,
        "groups:\n"
        + GROUP  # 4..7
        + "    graphic_type: POLYGON\n"  # 8
        "    annotations:\n"  # 9
        "      - [[1, 1], [5, 1]]\n"  # 10: two points
        "      - [[1, 1], [5, 1], [5, 5]]\n"  # 11: fine
        "      - [[1, 1], [500, 1], [5, 5]]\n",
    )  # 12: outside the 256 x 256 matrix
    errors = _errors(spec, tmp_path)
    by_line = {e.location.line: e for e in errors}
    assert set(by_line) == {10, 12}, [e.format() for e in errors]
    assert "at least 3 points" in by_line[10].message and "POLYGON 3 or more" in by_line[10].hint
    assert "outside the image" in by_line[12].message and "(column, row)" in by_line[12].hint


def test_a_missing_graphic_type_and_ragged_points_are_located(tmp_path):
    spec = _spec(
        tmp_path,
        "groups:\n"
        + GROUP  # 4, group at 5..7
        + "    annotations: [[[1, 1], [2, 2]]]\n"
        + GROUP  # 8; next group 9..11
        + "    graphic_type: POLYLINE\n"  # 12
        "    annotations:\n"  # 13
        "      - [[1, 1], [2, 2, 0]]\n",
    )  # 14
    errors = _errors(spec, tmp_path)
    by_line = {e.location.line: e for e in errors}
    assert set(by_line) == {5, 14}, [e.format() for e in errors]
    assert "graphic type" in by_line[5].message and "POLYGON" in by_line[5].hint
    assert "same number of coordinates" in by_line[14].message


def test_csv_problems_are_at_the_row(tmp_path):
    (tmp_path / "cells.csv").write_text(
        "annotation,x,y\na,1,1\na,2,1\na,2,2\nb,1,1\nb,900,1\nb,3,3\n", encoding="utf-8"
    )
    spec = _spec(tmp_path, "groups:\n" + GROUP + "    graphic_type: POLYGON\n    csv: cells.csv\n")
    (error,) = _errors(spec, tmp_path)
    assert error.location.file.endswith("cells.csv") and error.location.line == 5  # annotation b starts there
    assert "outside the image" in error.message


def _feature_line(text: str, index: int) -> int:
    """1-based line of the ``{`` opening feature ``index`` in the fixtures (one feature object per block)."""
    lines = text.splitlines()
    starts = [n for n, line in enumerate(lines, start=1) if '"type": "Feature"' in line and "Collection" not in line]
    return starts[index] - 1 if lines[starts[index] - 2].strip() == "{" else starts[index]


def _geojson_errors(tmp_path: Path, text: str) -> list:
    (tmp_path / "cells.geojson").write_text(text, encoding="utf-8")
    return _errors(_spec(tmp_path, GEOJSON_GROUPS), tmp_path)


def test_unsupported_geojson_geometry_is_reported_at_the_feature(tmp_path):
    bad = QUPATH.replace(
        '"geometry": {"type": "Point", "coordinates": [120.5, 80.25]}',
        '"geometry": {"type": "GeometryCollection", "geometries": []}',
    )
    (error,) = _geojson_errors(tmp_path, bad)
    assert error.location.file.endswith("cells.geojson")
    assert error.location.line == _feature_line(bad, 3)  # the line where that feature's object starts
    assert "GeometryCollection" in error.message and error.hint


def test_unknown_classification_is_reported_at_the_feature(tmp_path):
    bad = QUPATH.replace('"name": "Lymphocyte"', '"name": "Plasma cell"')
    mapped, unknown = sorted(_geojson_errors(tmp_path, bad), key=lambda e: e.location.file.endswith("geojson"))
    assert "no feature of cells.geojson has classification 'Lymphocyte'" in mapped.message  # the group's class
    assert mapped.location.file.endswith("ann.yaml") and mapped.location.line == 15 and "Plasma cell" in mapped.hint
    assert "'Plasma cell'" in unknown.message and unknown.location.line == _feature_line(bad, 3)
    more = GEOJSON_GROUPS.replace("classification: Lymphocyte", "classification: Stroma")
    (tmp_path / "cells.geojson").write_text(
        QUPATH.replace('"Lymphocyte"', '"Stroma"').replace(
            '"objectType": "annotation"}', '"objectType": "annotation", "classification": {"name": "Necrosis"}}'
        ),
        encoding="utf-8",
    )
    margin, error = sorted(_errors(_spec(tmp_path, more), tmp_path), key=lambda e: e.location.file.endswith("geojson"))
    assert "has classification None" in margin.message  # the Margin group's unclassified features are gone
    assert "'Necrosis'" in error.message and error.location.file.endswith("cells.geojson")
    assert error.location.line == _feature_line(QUPATH, 4) and "classification: Necrosis" in error.hint


def test_malformed_geojson_is_reported_at_its_line_and_column(tmp_path):
    (error,) = _geojson_errors(tmp_path, QUPATH.replace('"id": "7c4a0ea6-5e5f-4b1c-9c7a-1b2f7a10c002",', '"id": ,'))
    assert error.location.file.endswith("cells.geojson") and error.location.line == 13  # "id": , at 13:13
    assert error.location.column == 13 and "not valid JSON" in error.message
    (error,) = _geojson_errors(tmp_path, '{"type": "Feature"}')
    assert "no geometry" in error.message


def test_a_two_point_geojson_polygon_is_refused_at_its_feature(tmp_path):
    bad = QUPATH.replace("[[[50, 50], [60, 50], [55, 58], [50, 50]]]", "[[[50, 50], [60, 50], [50, 50]]]")
    (error,) = _geojson_errors(tmp_path, bad)
    assert error.location.file.endswith("cells.geojson") and error.location.line == _feature_line(bad, 2)
    assert "at least 3 points" in error.message


def test_the_starter_builds_on_the_phantom(tmp_path):
    from dcmspec_compiler.starters import starter_text

    spec = tmp_path / "ann.yaml"
    spec.write_text(
        starter_text("MicroscopyAnnotations").replace("images: slide/", f"images: {PHANTOM}"), encoding="utf-8"
    )
    _built(spec, tmp_path)


# --- numbers, units, errors together, 2-D points among 3-D ones (new-user trial) ------------------


@pytest.mark.parametrize(
    "before, after, message",
    [
        ('"coordinates": [120.5, 80.25]', '"coordinates": ["1", "2"]', "not a number"),
        ('"coordinates": [120.5, 80.25]', '"coordinates": [true, 2]', "not a number"),
        ('"coordinates": [120.5, 80.25]', '"coordinates": [NaN, 2]', "not a finite number"),
        ('"coordinates": [120.5, 80.25]', '"coordinates": [1, Infinity]', "not a finite number"),
        ('"coordinates": [120.5, 80.25]', '"coordinates": [[1, 2]]', "not a number"),
        ('"coordinates": [120.5, 80.25]', '"coordinates": [1, 2, 3, 4]', "2 (x, y) or 3 (x, y, z)"),
        ("[[[50, 50], [60, 50], [55, 58], [50, 50]]]", "[[50, 50], [60, 50], [55, 58], [50, 50]]", "nested"),
        ("[[[50, 50], [60, 50], [55, 58], [50, 50]]]", '[[[50, 50], [60, "50"], [55, 58], [50, 50]]]', "not a number"),
    ],
)
def test_geojson_coordinates_must_be_numbers_at_the_right_depth(tmp_path, before, after, message):
    bad = QUPATH.replace(before, after)
    assert bad != QUPATH
    feature = 3 if "120.5" in before else 2
    (error,) = _geojson_errors(tmp_path, bad)
    assert error.location.file.endswith("cells.geojson") and error.location.line == _feature_line(bad, feature)
    assert message in error.message, error.format()


@pytest.mark.parametrize("value", ['"21.75"', "true", "Infinity", "[21.75]"])
def test_geojson_measurements_must_be_numbers(tmp_path, value):
    bad = QUPATH.replace('"Nucleus: Area µm^2": 21.75', f'"Nucleus: Area µm^2": {value}')
    (error,) = _geojson_errors(tmp_path, bad)
    assert error.location.file.endswith("cells.geojson") and error.location.line == _feature_line(bad, 0)
    assert "not a" in error.message and "Nucleus: Area" in error.message, error.format()


@pytest.mark.parametrize(
    "cell, message", [("abc", "not a number"), ("inf", "not a finite number"), ("true", "not a number")]
)
def test_csv_numbers_are_checked_in_coordinates_and_measurements(tmp_path, cell, message):
    (tmp_path / "p.csv").write_text(f"x,y,area\n1,2,3\n{cell},4,5\n6,7,{cell}\n", encoding="utf-8")
    spec = _spec(
        tmp_path,
        "groups:\n" + GROUP + "    graphic_type: POINT\n    csv: p.csv\n"
        '    measurements: [{key: area, name: SCT:42798000 "Area", unit: um2}]\n',
    )
    errors = _errors(spec, tmp_path)
    assert sorted(e.location.line for e in errors) == [3, 4], [e.format() for e in errors]
    assert all(message in e.message and e.location.file.endswith("p.csv") for e in errors), [e.format() for e in errors]


def test_inline_infinite_coordinates_and_measurements_are_located(tmp_path):
    spec = _spec(
        tmp_path,
        "groups:\n"
        + GROUP  # 4..7
        + "    graphic_type: POINT\n"  # 8
        "    annotations:\n"  # 9
        "      - [[.inf, 1]]\n"  # 10
        "      - points: [[1, 1]]\n"  # 11
        "        measurements: {area: .inf}\n"  # 12
        '    measurements: [{key: area, name: SCT:42798000 "Area", unit: um2}]\n',
    )
    errors = _errors(spec, tmp_path)
    assert sorted(e.location.line for e in errors) == [10, 12], [e.format() for e in errors]


def test_measurement_units_must_be_ucum_at_their_line(tmp_path):
    spec = _spec(
        tmp_path,
        "groups:\n"
        + GROUP  # 4..7
        + "    graphic_type: POINT\n"  # 8
        "    annotations:\n"  # 9
        "      - points: [[1, 1]]\n"  # 10
        "        measurements: {area: 2, d: 1}\n"  # 11
        "    measurements:\n"  # 12
        "      - key: area\n"  # 13
        '        name: SCT:42798000 "Area"\n'  # 14
        "        unit: parsecs\n"  # 15
        '      - {key: d, name: SCT:42798000 "Area", unit: um2}\n',
    )
    (error,) = _errors(spec, tmp_path)
    assert error.location.line == 15 and "parsecs" in error.message and "UCUM" in (error.hint or ""), error.format()
    with pytest.raises(DicomConformanceError, match="parsecs"):
        Measurement(AREA, Code("parsecs", "UCUM", "parsecs"), np.array([1.0])).item(1)
    with pytest.raises(DicomConformanceError, match="UCUM"):
        Measurement(AREA, Code("mm", "DCM", "mm"), np.array([1.0])).item(1)


def test_csv_errors_of_every_kind_are_reported_together(tmp_path):
    (tmp_path / "cells.csv").write_text(
        "annotation,x,y,area\n"  # 1
        "a,1,1,abc\n"  # 2: not a number
        "a,2,1,\n"  # 3
        "a,2,2,\n"  # 4
        "b,900,1,\n"  # 5: outside
        "b,3,1,\n"  # 6
        "b,3,3,\n"  # 7
        "c,1,1,\n"  # 8: 2 points
        "c,3,3,\n",
        encoding="utf-8",
    )  # 9
    spec = _spec(
        tmp_path,
        "groups:\n" + GROUP + "    graphic_type: POLYGON\n    csv: cells.csv\n"
        '    measurements: [{key: area, name: SCT:42798000 "Area", unit: um2}]\n',
    )
    errors = _errors(spec, tmp_path)
    by_line = {e.location.line: e.message for e in errors}
    assert set(by_line) == {2, 5, 8}, [e.format() for e in errors]
    assert "not a number" in by_line[2] and "outside" in by_line[5] and "at least 3" in by_line[8]


def test_a_point_with_three_coordinates_does_not_hide_the_others(tmp_path):
    spec = _spec(
        tmp_path,
        "groups:\n"
        + GROUP  # 4..7
        + "    graphic_type: POINT\n"  # 8
        "    annotations:\n"  # 9
        "      - [[1, 1, 1]]\n"  # 10: 3 numbers in image coordinates
        "      - [[1, 1]]\n"  # 11
        "      - [[900, 1]]\n"  # 12: outside
        "      - [[1, 1], [2, 2]]\n",
    )  # 13: 2 points
    errors = _errors(spec, tmp_path)
    by_line = {e.location.line: e for e in errors}
    assert set(by_line) == {10, 12, 13}, [e.format() for e in errors]
    assert "2 numbers per point" in by_line[10].message


def test_a_flood_of_errors_is_cut_short(tmp_path):
    rows = "".join(f"{i},-1\n" for i in range(100_000))
    (tmp_path / "p.csv").write_text("x,y\n" + rows, encoding="utf-8")
    spec = _spec(tmp_path, "groups:\n" + GROUP + "    graphic_type: POINT\n    csv: p.csv\n")
    errors = _errors(spec, tmp_path)
    assert len(errors) == 51, len(errors)
    assert [e.location.line for e in errors[:50]] == list(range(2, 52))
    assert "99950 more" in errors[-1].message


def test_two_d_points_among_three_d_ones_are_refused_at_the_point(tmp_path):
    spec = _spec(
        tmp_path,
        "coordinates: slide\ngroups:\n"
        + GROUP  # 5..8
        + "    graphic_type: POINT\n"  # 9
        "    annotations:\n"  # 10
        "      - [[19.9, 39.95, 0.002]]\n"  # 11
        "      - [[19.95, 39.9]]\n",
    )  # 12
    (error,) = _errors(spec, tmp_path)
    assert error.location.line == 12 and "no Z" in error.message and "z" in error.hint, error.format()
    (tmp_path / "p.csv").write_text("x,y,z\n19.9,39.95,0.002\n19.95,39.9,\n", encoding="utf-8")
    (error,) = _errors(
        _spec(tmp_path, "coordinates: slide\ngroups:\n" + GROUP + "    graphic_type: POINT\n    csv: p.csv\n"), tmp_path
    )
    assert error.location.line == 3 and error.location.file.endswith("p.csv"), error.format()


def test_bad_geojson_features_and_the_others_problems_are_reported_together(tmp_path):
    bad = (
        QUPATH.replace('"coordinates": [120.5, 80.25]', '"coordinates": ["1", "2"]')
        .replace("[[[50, 50], [60, 50], [55, 58], [50, 50]]]", "[[[50, 50], [60, 50], [50, 50]]]")
        .replace('"Nucleus: Area µm^2": 21.75', '"Nucleus: Area µm^2": "21.75"')
    )
    errors = _geojson_errors(tmp_path, bad)
    lines = sorted(e.location.line for e in errors)
    assert lines == sorted([_feature_line(bad, 3), _feature_line(bad, 2), _feature_line(bad, 0)]), [
        e.format() for e in errors
    ]


def test_csv_slide_coordinates_with_z_read_back_in_highdicom(tmp_path):
    (tmp_path / "p.csv").write_text("x,y,z,area\n19.95,39.9,0.001,2.5\n19.9,39.95,0.002,\n", encoding="utf-8")
    spec = _spec(
        tmp_path,
        "coordinates: slide\ngroups:\n" + GROUP + "    graphic_type: POINT\n    csv: p.csv\n"
        '    measurements: [{key: area, name: SCT:42798000 "Area", unit: um2}]\n',
    )
    path = _built(spec, tmp_path)
    _assert_read_back(path, [([[[19.95, 39.9, 0.001]], [[19.9, 39.95, 0.002]]], {"Area": [2.5, np.nan]})], SCOORD3D)


def test_the_error_collector_keeps_the_first_errors_and_counts_the_rest():
    from dcmspec_compiler.assemble.common import Errors
    from dcmspec_compiler.errors import ErrorList, InputError, Location

    errors = Errors(limit=2)
    for line in (1, 2, 3):
        errors.add(InputError(f"row {line}", location=Location("a.csv", line)))
    errors.skip(4)
    assert errors.room() == 0
    with pytest.raises(ErrorList) as raised:
        errors.raise_if_any()
    assert [e.message for e in raised.value.errors[:2]] == ["row 1", "row 2"]
    assert "5 more" in raised.value.errors[2].message and raised.value.errors[2].location == Location("a.csv")


def test_two_d_geojson_positions_among_three_d_ones_are_refused_at_the_feature(tmp_path):
    text = (
        '{"type": "FeatureCollection", "features": [\n'
        '{"type": "Feature", "geometry": {"type": "Point", "coordinates": [19.9, 39.95, 0.002]}},\n'
        '{"type": "Feature", "geometry": {"type": "Point", "coordinates": [19.95, 39.9]}}\n]}\n'
    )
    (tmp_path / "cells.geojson").write_text(text, encoding="utf-8")
    spec = _spec(tmp_path, "coordinates: slide\ngroups:\n" + GROUP + "    geojson: cells.geojson\n")
    (error,) = _errors(spec, tmp_path)
    assert error.location.file.endswith("cells.geojson") and error.location.line == 3 and "no Z" in error.message
    (tmp_path / "cells.geojson").write_text(text.replace("[19.95, 39.9]", "[19.95, 39.9, 0.001]"), encoding="utf-8")
    path = _built(spec, tmp_path)
    _assert_read_back(path, [([[[19.9, 39.95, 0.002]], [[19.95, 39.9, 0.001]]], {})], SCOORD3D)
