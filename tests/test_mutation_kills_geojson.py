"""GeoJSON files read into annotation arrays (``resolve/geojson.py``), on files written by hand here.

Oracle: RFC 7946 and the values worked out by hand from each file. RFC 7946 3.1.6: a Polygon's coordinates
are linear rings, the first the exterior ring and any others interior rings (holes); a linear ring is closed
(its first and last positions are equal) and has four or more positions. 3.1.7: a MultiPolygon's coordinates
are an array of Polygon coordinate arrays. 3.1.1: a position is two or more numbers (x, y, and an optional z).
3.1.3-3.1.5: Point, MultiPoint, LineString, MultiLineString. 3.3: a FeatureCollection has a "features" array.
An ANN group's POLYGON closes itself (PS3.3 C.37.1.2), so the closing position is dropped; holes are counted.
Messages are compared word for word.
"""

from __future__ import annotations

import gc
import json
from pathlib import Path

import numpy as np
import pytest

from dcmspec_compiler.errors import InputError, Location
from dcmspec_compiler.resolve.geojson import GRAPHIC_OF_GEOMETRY, collector_paused, feature_line, read_geojson

HINT = "QuPath: File > Export objects as GeoJSON (a FeatureCollection of Point, LineString, Polygon features)"


def _feature(geometry, properties=None) -> dict:
    out = {"type": "Feature", "geometry": geometry}
    if properties is not None:
        out["properties"] = properties
    return out


def _write(tmp_path: Path, features: list, name: str = "a.geojson") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, indent=1), encoding="utf-8")
    return path


def test_every_geometry_type_by_hand(tmp_path):
    """Polygon: the exterior ring without its closing position, holes counted; MultiPolygon: one annotation
    per polygon; MultiPoint and MultiLineString: one annotation per part."""
    features = [
        _feature({"type": "Point", "coordinates": [1.5, 2]}),
        _feature({"type": "MultiPoint", "coordinates": [[3, 4], [5, 6]]}),
        _feature({"type": "LineString", "coordinates": [[0, 0], [10, 0], [10, 5]]}),
        _feature({"type": "MultiLineString", "coordinates": [[[1, 1], [2, 2]], [[3, 3], [4, 4], [5, 5]]]}),
        _feature(
            {
                "type": "Polygon",
                "coordinates": [
                    [[0, 0], [8, 0], [8, 8], [0, 8], [0, 0]],
                    [[2, 2], [2, 3], [3, 3], [2, 2]],
                    [[5, 5], [5, 6], [6, 6], [5, 5]],
                ],
            }
        ),
        _feature(
            {
                "type": "MultiPolygon",
                "coordinates": [
                    [[[20, 20], [30, 20], [25, 28], [20, 20]]],
                    [[[40, 40], [50, 40], [50, 50], [40, 50], [40, 40]], [[42, 42], [43, 42], [43, 43], [42, 42]]],
                ],
            }
        ),
    ]
    table = read_geojson(_write(tmp_path, features))
    assert table.issues == []
    assert table.graphic == ["POINT", "POINT", "POLYLINE", "POLYLINE", "POLYGON", "POLYGON"]
    assert table.counts.tolist() == [1, 1, 1, 3, 2, 3, 4, 3, 4]
    assert table.feature.tolist() == [0, 1, 1, 2, 3, 3, 4, 5, 5]
    assert table.feature.dtype == np.int64 and table.counts.dtype == np.int64
    assert table.holes == 3
    assert table.points.dtype == np.float64
    assert table.points.tolist() == [
        [1.5, 2],
        [3, 4],
        [5, 6],
        [0, 0],
        [10, 0],
        [10, 5],
        [1, 1],
        [2, 2],
        [3, 3],
        [4, 4],
        [5, 5],
        [0, 0],
        [8, 0],
        [8, 8],
        [0, 8],
        [20, 20],
        [30, 20],
        [25, 28],
        [40, 40],
        [50, 40],
        [50, 50],
        [40, 50],
    ]
    assert table.classification == [None] * 6
    assert table.location(4) == Location(str(tmp_path / "a.geojson"), feature_line(table.text, 4))


def test_open_rings_and_short_rings_are_kept_as_written(tmp_path):
    """A ring whose last position differs from its first keeps all of them; a ring of one position, or of two
    equal ones, loses only a repeated last position (the reader refuses too few points later)."""
    features = [
        _feature({"type": "Polygon", "coordinates": [[[0, 0], [4, 0], [4, 3]]]}),
        _feature({"type": "Polygon", "coordinates": [[[7, 7]]]}),
        _feature({"type": "Polygon", "coordinates": [[[1, 2], [1, 2]]]}),
        _feature({"type": "LineString", "coordinates": [[0, 0], [1, 1], [0, 0]]}),  # a line keeps its last point
    ]
    table = read_geojson(_write(tmp_path, features))
    assert table.counts.tolist() == [3, 1, 1, 3]
    assert table.points.tolist() == [[0, 0], [4, 0], [4, 3], [7, 7], [1, 2], [0, 0], [1, 1], [0, 0]]
    assert table.holes == 0


def test_a_single_feature_and_an_empty_collection(tmp_path):
    path = tmp_path / "one.geojson"
    path.write_text(json.dumps(_feature({"type": "Point", "coordinates": [1, 2]})), encoding="utf-8")
    table = read_geojson(path)
    assert table.points.tolist() == [[1, 2]] and table.graphic == ["POINT"]
    empty = read_geojson(_write(tmp_path, []))
    assert empty.points.shape == (0, 2) and empty.counts.tolist() == [] and empty.feature.tolist() == []


def test_three_dimensional_positions_give_nan_z_to_two_dimensional_ones(tmp_path):
    features = [
        _feature({"type": "Point", "coordinates": [1, 2, 3]}),
        _feature({"type": "LineString", "coordinates": [[4, 5], [6, 7, 8.5]]}),
    ]
    table = read_geojson(_write(tmp_path, features))
    assert table.issues == []
    np.testing.assert_array_equal(table.points, [[1, 2, 3], [4, 5, np.nan], [6, 7, 8.5]])


def test_bad_features_are_issues_word_for_word(tmp_path):
    features = [
        {"type": "Feature"},  # 0
        _feature({"type": "GeometryCollection", "geometries": []}),  # 1
        _feature({"type": "Polygon"}),  # 2
        _feature({"type": "Polygon", "coordinates": [[0, 0], [1, 0], [1, 1], [0, 0]]}),  # 3: one level short
        _feature({"type": "MultiPolygon", "coordinates": [[]]}),  # 4: an empty polygon
        _feature({"type": "Point", "coordinates": ["1", 2]}),  # 5
        _feature({"type": "Point", "coordinates": [1, True]}),  # 6
        _feature({"type": "MultiPoint", "coordinates": [[1, 2], [1, 2, 3, 4]]}),  # 7
        _feature({"type": "LineString", "coordinates": [[0, 0], 5]}),  # 8
        _feature({"type": "Point", "coordinates": [1, 2]}),  # 9: good
        "not a feature",  # 10
        _feature({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1]], 7]}),  # 11: the hole is no ring
        _feature({"type": "MultiLineString", "coordinates": [[[0, 0], [1, 1]], 3]}),  # 12
        _feature({"type": "Point", "coordinates": [1]}),  # 13
    ]
    table = read_geojson(_write(tmp_path, features))
    supported = (
        "use Point, MultiPoint, LineString, MultiLineString, Polygon or MultiPolygon features"
        " (split a GeometryCollection into features)"
    )
    assert table.issues == [
        (0, "has no geometry object", HINT),
        (1, "geometry type 'GeometryCollection' is not supported", supported),
        (2, "Polygon has no coordinates list", HINT),
        # one level short: the "exterior ring" is the position [0, 0], closed, so its "positions" are [0]
        (3, "position 0 is not a list of numbers: the coordinates are not nested as RFC 7946 3.1 says", HINT),
        (4, "the coordinates of this MultiPolygon are not nested as RFC 7946 3.1 says", HINT),
        (5, "coordinate '1' is not a number", HINT),
        (6, "coordinate True is not a number", HINT),
        (7, "position [1, 2, 3, 4] has 4 numbers: a position has 2 (x, y) or 3 (x, y, z)", HINT),
        (
            8,
            "position 5 is not a list of numbers: the coordinates are not nested as RFC 7946 3.1 says",
            HINT,
        ),
        (10, "has no geometry object", HINT),
        (12, "the coordinates of this MultiLineString are not nested as RFC 7946 3.1 says", HINT),
        (13, "position [1] has 1 numbers: a position has 2 (x, y) or 3 (x, y, z)", HINT),
    ]
    # bad features give no annotation (issues 5-8 and 13 are found after the parts were gathered: NaN)
    assert table.graphic == [
        "",
        "",
        "POLYGON",
        "POLYGON",
        "POLYGON",
        "POINT",
        "POINT",
        "POINT",
        "POLYLINE",
        "POINT",
        "",
        "POLYGON",
        "POLYLINE",
        "POINT",
    ]
    assert table.feature.tolist() == [3, 5, 6, 7, 7, 8, 9, 11, 13]
    assert table.counts.tolist() == [1, 1, 1, 1, 1, 2, 1, 3, 1]
    assert table.holes == 4  # feature 3's three "holes" (its other positions) and feature 11's second ring
    assert table.points.shape == (12, 2)  # no position has 3 numbers
    assert table.points[7].tolist() == [1, 2]  # feature 9, the good one
    assert table.points[9:11].tolist() == [[1, 0], [1, 1]]  # feature 11: its open ring, as written
    assert np.isnan(table.points[[0, 1, 2, 4, 6, 11]]).all()  # positions with a problem


def test_not_finite_coordinates_are_issues(tmp_path):
    path = tmp_path / "nan.geojson"
    path.write_text(
        '{"type": "FeatureCollection", "features": [\n'
        '{"type": "Feature", "geometry": {"type": "Point", "coordinates": [NaN, 1]}},\n'
        '{"type": "Feature", "geometry": {"type": "Point", "coordinates": [2, -Infinity]}},\n'
        '{"type": "Feature", "geometry": {"type": "Point", "coordinates": [3, 4]}}\n'
        "]}\n",
        encoding="utf-8",
    )
    table = read_geojson(path)
    assert table.issues == [
        (0, "coordinate nan is not a finite number", HINT),
        (1, "coordinate -inf is not a finite number", HINT),
    ]
    assert table.points.shape == (3, 2)
    assert table.points[2].tolist() == [3, 4] and np.isnan(table.points[:2]).all()  # a bad position: NaN
    assert [feature_line(table.text, i) for i in range(4)] == [2, 3, 4, None]


def test_classification_names(tmp_path):
    features = [
        _feature({"type": "Point", "coordinates": [0, 0]}, {"classification": {"name": "Tumor", "color": [1, 2, 3]}}),
        _feature({"type": "Point", "coordinates": [0, 0]}, {"classification": {"names": ["Tumor", "Positive"]}}),
        _feature({"type": "Point", "coordinates": [0, 0]}, {"classification": {"color": [1, 2, 3]}}),
        _feature({"type": "Point", "coordinates": [0, 0]}, {"classification": "Stroma"}),
        _feature({"type": "Point", "coordinates": [0, 0]}, {"classification": None}),
        _feature({"type": "Point", "coordinates": [0, 0]}, {"classification": {"name": None, "names": ["A"]}}),
        _feature({"type": "Point", "coordinates": [0, 0]}, {"classification": {"name": 7}}),
        _feature({"type": "Point", "coordinates": [0, 0]}, ["not", "a", "mapping"]),
        _feature({"type": "Point", "coordinates": [0, 0]}, {"classification": {"names": "Tumor"}}),
        _feature({"type": "Point", "coordinates": [0, 0]}),
    ]
    table = read_geojson(_write(tmp_path, features))
    assert table.classification == ["Tumor", "Tumor: Positive", None, "Stroma", None, "A", "7", None, None, None]


def test_measurements_as_a_mapping_a_list_or_a_property(tmp_path):
    """QuPath 0.4+ writes a mapping, earlier versions a list of {name, value}; else a top-level property."""
    point = {"type": "Point", "coordinates": [0, 0]}
    features = [
        _feature(point, {"measurements": {"area": 2.5, "n": 3}}),  # 0
        _feature(point, {"measurements": [{"name": "n", "value": 1}, {"name": "area", "value": 4}]}),  # 1
        _feature(point, {"area": 6, "measurements": {"n": 2}}),  # 2: no area in the mapping: the property
        _feature(point, {"measurements": {"area": None}}),  # 3
        _feature(point, {"measurements": [{"name": "other", "value": 1}, "junk"]}),  # 4
        _feature(point, {"area": 8}),  # 5
        _feature(point),  # 6
        _feature(point, {"measurements": {"area": "NaN"}}),  # 7: QuPath writes NaN as a string
        _feature(point, {"measurements": {"area": " nan "}}),  # 8
        _feature(point, {"measurements": [{"name": "area"}]}),  # 9: listed without a value
    ]
    table = read_geojson(_write(tmp_path, features))
    all_ = np.arange(10)
    np.testing.assert_array_equal(
        table.values("area", all_), [2.5, 4, 6, np.nan, np.nan, 8, np.nan, np.nan, np.nan, np.nan]
    )
    np.testing.assert_array_equal(table.values("n", np.array([2, 1, 0])), [2, 1, 3])
    assert table.values("area", np.array([0, 1, 5])).dtype == np.float64


def test_measurement_values_that_are_not_numbers(tmp_path):
    path = tmp_path / "m.geojson"
    path.write_text(
        '{"type": "FeatureCollection", "features": [\n'
        '{"type": "Feature", "geometry": {"type": "Point", "coordinates": [0, 0]},'
        ' "properties": {"measurements": {"a": 1}}},\n'
        '{"type": "Feature", "geometry": {"type": "Point", "coordinates": [0, 0]},'
        ' "properties": {"measurements": {"a": Infinity}}},\n'
        '{"type": "Feature", "geometry": {"type": "Point", "coordinates": [0, 0]},'
        ' "properties": {"measurements": {"a": "21.75"}}},\n'
        '{"type": "Feature", "geometry": {"type": "Point", "coordinates": [0, 0]},'
        ' "properties": {"measurements": {"a": true}}},\n'
        '{"type": "Feature", "geometry": {"type": "Point", "coordinates": [0, 0]},'
        ' "properties": {"measurements": {"a": 5}}}\n'
        "]}\n",
        encoding="utf-8",
    )
    table = read_geojson(path)
    hint = "measurements are numbers (or null/NaN for none)"
    issues: list = []
    values = table.values("a", np.array([4, 1, 2, 3, 0]), issues)
    np.testing.assert_array_equal(values, [5, np.nan, np.nan, np.nan, 1])
    assert issues == [
        (1, "feature 1: measurement 'a' is inf, not a finite number", Location(str(path), 3), hint),
        (2, "feature 2: measurement 'a' is '21.75', not a number", Location(str(path), 4), hint),
        (3, "feature 3: measurement 'a' is True, not a number", Location(str(path), 5), hint),
    ]
    only_inf = table.values("a", np.array([0, 1]), issues := [])
    np.testing.assert_array_equal(only_inf, [1, np.nan])
    assert [i[1] for i in issues] == ["feature 1: measurement 'a' is inf, not a finite number"]
    with pytest.raises(InputError) as raised:
        table.values("a", np.array([0, 2]))
    assert raised.value.message == "feature 2: measurement 'a' is '21.75', not a number"
    assert raised.value.location == Location(str(path), 4) and raised.value.hint == hint


def test_files_that_cannot_be_read(tmp_path):
    where = Location("spec.yaml", 3, 5)
    missing = tmp_path / "missing.geojson"
    with pytest.raises(InputError) as raised:
        read_geojson(missing, where)
    assert raised.value.message.startswith(f"cannot read GeoJSON {missing}: [Errno 2] No such file or directory")
    assert raised.value.location == where
    latin = tmp_path / "latin.geojson"
    latin.write_bytes(b'{"type": "\xe9"}')
    with pytest.raises(InputError) as raised:
        read_geojson(latin, where)
    assert raised.value.message.startswith(f"cannot read GeoJSON {latin}: 'utf-8' codec can't decode")
    assert raised.value.location == where
    broken = tmp_path / "broken.geojson"
    broken.write_text('{"type": "FeatureCollection",\n  "features": [,]}', encoding="utf-8")
    with pytest.raises(InputError) as raised:
        read_geojson(broken)
    assert raised.value.message == "broken.geojson is not valid JSON: Expecting value"
    assert raised.value.location == Location(str(broken), 2, 16) and raised.value.hint == HINT
    not_collection = (
        'broken.geojson is not a GeoJSON FeatureCollection (a top-level object with "type": "FeatureCollection"'
        ' and a "features" list)'
    )
    for text in ("[]", '{"type": "Collection", "features": []}', '{"type": "FeatureCollection", "features": {}}'):
        broken.write_text(text, encoding="utf-8")
        with pytest.raises(InputError) as raised:
            read_geojson(broken)
        assert raised.value.message == not_collection
        assert raised.value.location == Location(str(broken), 1, 1) and raised.value.hint == HINT


def test_feature_line_by_hand():
    text = '{"type": "FeatureCollection",\n "features": [\n  {"a": 1},\n\n  {"b": [1,\n 2]}, {"c": 3}\n ]\n}\n'
    assert [feature_line(text, i) for i in range(4)] == [3, 5, 6, None]
    assert feature_line('{"type": "Feature"}', 0) is None
    assert feature_line('{"features": [{"a": }]}', 1) is None  # unparseable feature: no line
    assert feature_line('{"features": []}', 0) is None
    assert feature_line('{"features": [\t{"a": 1}\r\n,\n{"b": 2}]}', 1) == 3
    assert feature_line('{"features": [1, 2', 1) == 1 and feature_line('{"features": [1, 2', 2) is None
    assert feature_line('{"features": [1, ', 1) is None  # cut short after a separator: no IndexError
    assert feature_line('{"features": {}}', 0) is None  # no array after "features"
    assert feature_line('\n{"features": [\n{"a": 1}]}', 0) == 3  # a newline at the very start counts


def test_collector_paused_restores_the_collector():
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # left as it was
    finally:
        gc.enable()
    with pytest.raises(KeyError), collector_paused():
        raise KeyError("x")
    assert gc.isenabled()


def test_graphic_of_geometry_table():
    assert GRAPHIC_OF_GEOMETRY == {
        "Point": ("POINT", False),
        "MultiPoint": ("POINT", True),
        "LineString": ("POLYLINE", False),
        "MultiLineString": ("POLYLINE", True),
        "Polygon": ("POLYGON", False),
        "MultiPolygon": ("POLYGON", True),
    }


def test_holes_of_every_polygon_of_a_multipolygon_are_counted(tmp_path):
    """RFC 7946 3.1.7: each polygon of a MultiPolygon has its own interior rings: 2 + 1 + 0 holes."""
    square = [[0, 0], [9, 0], [9, 9], [0, 9], [0, 0]]
    hole = [[1, 1], [2, 1], [2, 2], [1, 1]]
    polygons = [[square, hole, hole], [square, hole], [square]]
    table = read_geojson(_write(tmp_path, [_feature({"type": "MultiPolygon", "coordinates": polygons})]))
    assert table.holes == 3 and table.counts.tolist() == [4, 4, 4] and table.issues == []


def test_a_null_measurement_is_no_value_even_with_a_property_of_that_name(tmp_path):
    """``measurements: {"area": null}`` is the feature's measurement (none, NaN); the top-level ``area``
    property is only read when the measurements do not name it."""
    point = {"type": "Point", "coordinates": [0, 0]}
    features = [_feature(point, {"area": 6, "measurements": {"area": None}}), _feature(point, {"area": 6})]
    table = read_geojson(_write(tmp_path, features))
    np.testing.assert_array_equal(table.values("area", np.array([0, 1])), [np.nan, 6])


def test_the_repr_leaves_out_the_raw_properties(tmp_path):
    point = {"type": "Point", "coordinates": [0, 0]}
    table = read_geojson(_write(tmp_path, [_feature(point, {"secret": 1, "measurements": {"m": 2}})]))
    text = repr(table)
    assert "_measurements=" not in text and "_properties=" not in text  # the file's text is there already
    assert "holes=0" in text


def test_feature_line_skips_a_features_member_inside_another_member():
    """Only the top-level object's ``features`` array holds the features (RFC 7946 section 3.3): a member
    before it whose value has a ``"features"`` key of its own (QuPath-like metadata) does not move the lines."""
    text = '{\n"metadata": {"features": [1, 2]},\n"type": "FeatureCollection",\n"features": [\n{"a": 1},\n{"b": 2}\n]}'
    assert [feature_line(text, i) for i in range(3)] == [5, 6, None]
    assert feature_line('{"features": 3}', 0) is None  # not an array
    assert feature_line('{"metadata": {"features": [1]}}', 0) is None  # no top-level features member
    assert feature_line('[{"features": [1]}]', 0) is None  # not an object at the top
    assert feature_line('{"a" 1, "features": [1]}', 0) is None  # no colon: not JSON
    assert feature_line('{"a": }', 0) is None


def test_a_bad_feature_after_nested_features_is_reported_at_its_own_line(tmp_path):
    path = tmp_path / "cells.geojson"
    path.write_text(
        '{\n"metadata": {"features": [{"x": 1}, {"x": 2}]},\n"type": "FeatureCollection",\n"features": [\n'
        '{"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 2]}, "properties": {}},\n'
        '{"type": "Feature", "geometry": {"type": "Banana", "coordinates": [1, 2]}, "properties": {}}\n]}\n'
    )
    table = read_geojson(path)  # the Banana is refused where the features are placed, at this location
    assert table.location(1) == Location(str(path), 6) and table.location(0) == Location(str(path), 5)
