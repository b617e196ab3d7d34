"""CSV point tables (``resolve/point_table.py``) on files written by hand, every column error among them.

Oracle: the files here and the values worked out by hand from them (line numbers are the CSV's physical
lines, 1-based, the header on line 1; a quoted cell may span lines, RFC 4180 2.6). Messages word for word.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from dcmspec_compiler.errors import InputError, Location
from dcmspec_compiler.resolve.point_table import number, read_point_table

XY_HINT = "x and y (and z) are numbers in every row"
VALUE_HINT = "leave the cell empty where an annotation has no value"


def _csv(tmp_path: Path, text: str, name: str = "p.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_rows_grouped_by_annotation_by_hand(tmp_path):
    path = _csv(
        tmp_path,
        "annotation,x,y,area,label\n"  # 1
        "a,10,10,12.5,first\n"  # 2
        "a,20,10,,\n"  # 3
        "\n"  # 4: blank
        " , \n"  # 5: blank cells only
        "a,15,18\n"  # 6: short row
        "b,100,50,,\n"  # 7
        "b,110,55,3,x\n"  # 8
        "c,1.5e1,-2\n",  # 9
    )
    table = read_point_table(path)
    assert table.issues == []
    assert table.points.dtype == np.float64
    assert table.points.tolist() == [[10, 10], [20, 10], [15, 18], [100, 50], [110, 55], [15, -2]]
    assert table.counts.tolist() == [3, 2, 1]
    assert table.lines.tolist() == [2, 7, 9]
    assert table.point_lines.tolist() == [2, 3, 6, 7, 8, 9]
    assert table.columns == {
        "annotation": ["a", "b", "c"],
        "x": ["10", "100", "1.5e1"],
        "y": ["10", "50", "-2"],
        "area": ["12.5", "", ""],
        "label": ["first", "", ""],
    }
    assert table.location(1) == Location(str(path), 7)
    np.testing.assert_array_equal(table.values("area"), [12.5, np.nan, np.nan])


def test_without_an_annotation_column_every_row_is_a_point(tmp_path):
    path = _csv(tmp_path, "\ufeff x , y ,name\n1,2,p\n1,2,p\n3.5,4.25,q\n")  # BOM and spaces in the header
    table = read_point_table(path)
    assert table.points.tolist() == [[1, 2], [1, 2], [3.5, 4.25]]
    assert table.counts.tolist() == [1, 1, 1] and table.lines.tolist() == [2, 3, 4]
    assert table.columns["name"] == ["p", "p", "q"] and table.issues == []
    # a column named as the grouping column only when asked for
    grouped = read_point_table(path, annotation="name")
    assert grouped.counts.tolist() == [2, 1] and grouped.lines.tolist() == [2, 4]


def test_named_columns_and_z(tmp_path):
    path = _csv(tmp_path, "X,Y,Z,z,cell\n1,2,3,9,k\n4,5,,9,k\n7,8,6,,m\n")
    table = read_point_table(path, x="X", y="Y", z="Z", annotation="cell")
    np.testing.assert_array_equal(table.points, [[1, 2, 3], [4, 5, np.nan], [7, 8, 6]])  # empty Z: no Z, no issue
    assert table.counts.tolist() == [2, 1] and table.issues == []
    auto = read_point_table(path, x="X", y="Y")  # z: the file's "z" column
    np.testing.assert_array_equal(auto.points, [[1, 2, 9], [4, 5, 9], [7, 8, np.nan]])
    flat = read_point_table(_csv(tmp_path, "x,y\n1,2\n", "flat.csv"))
    assert flat.points.shape == (1, 2)


def test_every_coordinate_error_at_its_row(tmp_path):
    path = _csv(
        tmp_path,
        "annotation,x,y,z\n"  # 1
        "a,1,2,3\n"  # 2
        "a,abc,2,3\n"  # 3: x not a number
        "b,1,,3\n"  # 4: y empty
        "b,inf,nan,3\n"  # 5: x infinite (only the first problem of a row)
        "c,1,2,zz\n"  # 6: z not a number
        "d,1,2,-inf\n"  # 7: z infinite
        "e,1\n"  # 8: short row, y missing
        "e, 4 , 5 ,\n"  # 9: spaces around numbers are fine, empty z
        "a,1,2,3\n"  # 10: a again, apart
        "b,1,2,3\n"  # 11: b again
        "a,nan,2,3\n"  # 12: a a third time, and a coordinate problem: the order is told first
        "f\n",  # 13: no coordinates at all
    )
    table = read_point_table(path)
    where = [Location(str(path), n) for n in range(14)]
    assert table.issues == [
        (0, "x = 'abc' is not a number", where[3], XY_HINT),
        (1, "y = '' is empty", where[4], XY_HINT),
        (1, "x = 'inf' is not a finite number", where[5], XY_HINT),
        (2, "z = 'zz' is not a number", where[6], XY_HINT),
        (3, "z = '-inf' is not a finite number", where[7], XY_HINT),
        (4, "y = '' is empty", where[8], XY_HINT),
        (
            5,
            "the rows of annotation 'a' are not together (it also starts at line 2)",
            where[10],
            "sort the file by the annotation column: one annotation's points are consecutive",
        ),
        (
            6,
            "the rows of annotation 'b' are not together (it also starts at line 4)",
            where[11],
            "sort the file by the annotation column: one annotation's points are consecutive",
        ),
        (
            7,
            "the rows of annotation 'a' are not together (it also starts at line 10)",
            where[12],
            "sort the file by the annotation column: one annotation's points are consecutive",
        ),
        (8, "x = '' is empty", where[13], XY_HINT),
    ]
    assert table.counts.tolist() == [2, 2, 1, 1, 2, 1, 1, 1, 1]
    assert table.lines.tolist() == [2, 4, 6, 7, 8, 10, 11, 12, 13]
    nan = math.nan
    np.testing.assert_array_equal(
        table.points,
        [
            [1, 2, 3],
            [nan, 2, 3],
            [1, nan, 3],
            [nan, nan, 3],  # y = nan is not finite either: NaN
            [1, 2, nan],
            [1, 2, nan],
            [1, nan, nan],  # short row: no z either
            [4, 5, nan],
            [1, 2, 3],
            [1, 2, 3],
            [nan, 2, 3],
            [nan, nan, nan],
        ],
    )


def test_a_row_without_its_annotation_is_refused_at_its_line(tmp_path):
    """A row too short to hold the annotation cell, or with that cell empty, belongs to no annotation: it
    is refused at its line (it was silently joined with its neighbours into one annotation)."""
    path = _csv(tmp_path, "x,y,annotation\n1,2\n3,4\n5,6,a\n7,8,a\n9,9, \n")
    table = read_point_table(path)
    hint = (
        "name the annotation of every row in the annotation column (consecutive rows with one name are one annotation)"
    )
    assert table.issues == [
        (0, "the row has no annotation cell", Location(str(path), 2), hint),
        (0, "the row has no annotation cell", Location(str(path), 3), hint),
        (2, "annotation = '' is empty", Location(str(path), 6), hint),
    ]
    assert table.counts.tolist() == [2, 2, 1]


def test_quoted_cells_over_two_lines_count_physical_lines(tmp_path):
    path = _csv(tmp_path, 'x,y,note\n1,2,"one\ntwo"\n3,abc,\n')
    table = read_point_table(path)
    assert table.lines.tolist() == [3, 4] and table.point_lines.tolist() == [3, 4]
    assert table.issues == [(1, "y = 'abc' is not a number", Location(str(path), 4), XY_HINT)]


def test_files_that_cannot_be_read(tmp_path):
    where = Location("spec.yaml", 4, 7)
    missing = tmp_path / "missing.csv"
    with pytest.raises(InputError) as raised:
        read_point_table(missing, location=where)
    assert raised.value.message.startswith(f"cannot read CSV {missing}: [Errno 2] No such file or directory")
    assert raised.value.location == where
    latin = tmp_path / "latin.csv"
    latin.write_bytes(b"x,y\n\xe9,1\n")
    with pytest.raises(InputError) as raised:
        read_point_table(latin, location=where)
    assert raised.value.message.startswith(f"cannot read CSV {latin}: 'utf-8' codec can't decode")
    assert raised.value.location == where
    for text in ("", "\n"):
        empty = _csv(tmp_path, text, "empty.csv")
        with pytest.raises(InputError) as raised:
            read_point_table(empty)
        assert raised.value.message == "empty.csv is empty: it needs a header row with x and y columns"
        assert raised.value.location == Location(str(empty), 1)
    for text in ("x,y\n", "x,y\n\n , \n"):
        header_only = _csv(tmp_path, text, "header.csv")
        with pytest.raises(InputError) as raised:
            read_point_table(header_only)
        assert raised.value.message == "header.csv has no rows"
        assert raised.value.location == Location(str(header_only), 1)


@pytest.mark.parametrize("missing", ["x", "y", "z", "annotation"])
def test_a_named_column_that_is_not_there(tmp_path, missing):
    path = _csv(tmp_path, "u,v,w\n1,2,3\n")
    names = {"x": "u", "y": "v", "z": "w", "annotation": None, missing: "q"}
    with pytest.raises(InputError) as raised:
        read_point_table(path, **names)
    assert raised.value.message == "p.csv has no column 'q' (columns: u, v, w)"
    assert raised.value.location == Location(str(path), 1)
    assert raised.value.hint == "name the columns in the spec's csv: {x, y, z, annotation}"


def test_measurement_values_of_a_column(tmp_path):
    path = _csv(tmp_path, "x,y,area,name\n1,1,2.5,a\n2,2,,b\n3,3,abc,c\n4,4,-inf,d\n5,5,nan,e\n6,6, 7 ,f\n")
    table = read_point_table(path)
    issues: list = []
    values = table.values("area", issues=issues)
    np.testing.assert_array_equal(values, [2.5, np.nan, np.nan, np.nan, np.nan, 7])
    assert issues == [
        (2, "area = 'abc' is not a number", Location(str(path), 4), VALUE_HINT),
        (3, "area = '-inf' is not a finite number", Location(str(path), 5), VALUE_HINT),
    ]
    with pytest.raises(InputError) as raised:
        table.values("area")
    assert raised.value.message == "area = 'abc' is not a number"
    assert raised.value.location == Location(str(path), 4) and raised.value.hint == VALUE_HINT
    with pytest.raises(InputError) as raised:
        table.values("volume")
    assert raised.value.message == "p.csv has no column 'volume' (columns: x, y, area, name)"
    assert raised.value.location == Location(str(path), 1)
    where = Location("spec.yaml", 9, 3)
    with pytest.raises(InputError) as raised:
        table.values("volume", where)
    assert raised.value.location == where
    inf_only = read_point_table(_csv(tmp_path, "x,y,v\n1,1,1\n2,2,inf\n", "inf.csv"))
    with pytest.raises(InputError) as raised:
        inf_only.values("v")
    assert raised.value.message == "v = 'inf' is not a finite number"


def test_number():
    assert number("2.5") == (2.5, None)
    assert number(" -1e3 ") == (-1000.0, None)
    value, problem = number("x")
    assert math.isnan(value) and problem == "is not a number"
