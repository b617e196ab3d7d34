"""OHIF 3's loaders, headless in node (tests/interop/js/load.mjs): @cornerstonejs/adapters builds label maps
from every SEG and dcmjs parses every SR; the label maps' checksums and value counts must equal the input
masks', the TID 1500 groups the spec's; the PMAP adapter reads every Parametric Map. Known adapter limits are
asserted as such (matrix.py)."""

from __future__ import annotations

import hashlib
import json
import subprocess

import numpy as np
import pytest

from .conftest import JS, node
from .matrix import ACCEPTED, CS_8BIT, EXPECTED, NOT_APPLICABLE, VOXEL_EQUAL, Limit, expected

SEGS = [n for n in EXPECTED if n.startswith("seg-")]
SRS = [n for n in EXPECTED if n.startswith("sr-")]


@pytest.fixture(scope="module")
def loaded(matrix_objects, tmp_path_factory) -> dict:
    """load.mjs's results for every object (one node process for all)."""
    jobs = [
        {"id": o.name, "kind": o.kind.lower(), "file": str(o.path), "sources": [str(p) for p in o.source_files()]}
        for o in matrix_objects.values()
        if expected(o.name, "cornerstone") != NOT_APPLICABLE
    ]
    path = tmp_path_factory.mktemp("js") / "jobs.json"
    path.write_text(json.dumps(jobs))
    proc = subprocess.run([node(), str(JS / "load.mjs"), str(path)], capture_output=True, text=True, cwd=JS)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def _label_map_digest(label_map: np.ndarray) -> tuple[str, dict[str, int]]:
    """What load.mjs prints for a label map: SHA-256 of uint16 LE values in source order, value counts."""
    digest = hashlib.sha256(label_map.astype("<u2").tobytes()).hexdigest()
    values, counts = np.unique(label_map, return_counts=True)
    return digest, {str(int(v)): int(c) for v, c in zip(values, counts)}


def _check_limit(result: dict, limit: Limit) -> None:
    assert not result["ok"], f"the adapter no longer shows its known limit ({limit.reason}): update matrix.py"
    assert limit.signature in result["error"]


@pytest.mark.parametrize("name", SEGS)
def test_seg_loads_as_the_input_label_map(name, matrix_objects, loaded):
    obj, result = matrix_objects[name], loaded[name]
    outcome = expected(name, "cornerstone")
    if outcome is CS_8BIT:  # loads, but exactly as the input's values modulo 256
        assert result["ok"] and result["layers"][0]["bytes_per_voxel"] == 1
        assert obj.label_map().max() > 255
        assert [(layer["sha256"], layer["counts"]) for layer in result["layers"]] == [
            _label_map_digest(obj.label_map() % 256)
        ]
        return
    if isinstance(outcome, Limit):
        _check_limit(result, outcome)
        return
    assert outcome == VOXEL_EQUAL
    assert result["ok"], result.get("error")
    assert result["segment_numbers"] == sorted(obj.segments)
    # one label map per set of segments that do not overlap; every segment in exactly one of them
    got = [(layer["sha256"], layer["counts"]) for layer in result["layers"]]
    if not obj.overlapping():
        assert got == [_label_map_digest(obj.label_map())]
    else:
        seen = {}
        for layer in result["layers"]:
            for value, count in layer["counts"].items():
                if value != "0":
                    seen[int(value)] = seen.get(int(value), 0) + count
        assert seen == {n: int(np.count_nonzero(m)) for n, m in obj.segments.items()}
        assert result["overlapping"]


@pytest.mark.parametrize("name", SRS)
def test_sr_parses_with_the_measurement_groups(name, matrix_objects, loaded):
    obj, result = matrix_objects[name], loaded[name]
    assert result["ok"], result.get("error")
    got = [
        (
            g["tracking_id"],
            g["segment"][0] if g["segment"] else None,
            [(m["name"], m["value"], m["unit"]) for m in g["measurements"]],
        )
        for g in result["groups"]
    ]
    want = [(g.tracking_id, g.segment, [(m.name, m.value, m.unit) for m in g.measurements]) for g in obj.groups]
    assert got == want
    assert result["template"] == ("1500" if obj.tid1500 else None)
    outcome = expected(name, "cornerstone")
    if isinstance(outcome, Limit):
        _check_limit(result["adapter"], outcome)
        return
    assert outcome == ACCEPTED
    # OHIF's hydration: runs without error (it only turns groups it wrote itself into tools)
    assert result["adapter"]["ok"], result["adapter"].get("error")


def test_kos_parses_with_the_selection(matrix_objects, loaded):
    assert expected("kos", "cornerstone") == ACCEPTED
    result = loaded["kos"]
    assert result["ok"], result.get("error")
    assert result["template"] == "2010"
    assert result["references"] == matrix_objects["kos"].selected_uids(matrix_objects)


PMS = [n for n in EXPECTED if n.startswith("pm-")]


@pytest.mark.parametrize("name", PMS)
def test_pm_loads_as_the_input_map(name, matrix_objects, loaded):
    """OHIF 3's PMAP adapter gives the stored values as a typed array in source stack order: its SHA-256 must be
    the input map's (floats: the real-world values; integers: the stored values, no mapping applied)."""
    obj, result = matrix_objects[name], loaded[name]
    assert expected(name, "cornerstone") in (VOXEL_EQUAL, ACCEPTED)
    assert result["ok"], result.get("error")
    stored = np.ascontiguousarray(obj.stored, dtype=obj.stored.dtype.newbyteorder("<"))
    assert (
        result["type"]
        == {"float32": "Float32Array", "float64": "Float64Array", "int16": "Int16Array"}[stored.dtype.name]
    )
    assert result["length"] == stored.size
    assert result["sha256"] == hashlib.sha256(stored.tobytes()).hexdigest()
    if expected(name, "cornerstone") == VOXEL_EQUAL:
        assert np.array_equal(obj.stored, obj.real_world)  # what it gives is the map itself
