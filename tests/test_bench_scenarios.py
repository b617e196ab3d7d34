"""A small version of every benchmark scenario (bench/inputs.py): built by dcmspec, passes dciodvfy and
decodes to its input mask with the benchmark's own independent checker (bench/verify.py)."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from dcmspec_compiler.pipeline import build_specs

from conftest import ROOT, dciodvfy_findings

sys.path.insert(0, str(ROOT / "bench"))
import inputs  # bench/inputs.py
import verify  # bench/verify.py

SLICES = 6
BUILT = [s for s in inputs.SCENARIOS if s.seg_type != "PMAP" and "dcmspec" not in s.na]


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setattr(inputs, "WORK_DIR", tmp_path_factory.mktemp("bench"))
    root = inputs.prepare(SLICES, log=lambda *a: None)
    yield root
    mp.undo()


@pytest.mark.parametrize("scenario", BUILT, ids=lambda s: s.name)
def test_scenario_small(work, scenario, tmp_path):
    result = build_specs([work / f"{scenario.name}.yaml"], tmp_path)
    assert not result.errors, "\n".join(e.format() for e in result.errors)
    out = tmp_path / f"{scenario.name}.dcm"
    errors, _ = dciodvfy_findings(out)
    assert errors == [], errors
    mask = np.load(work / "masks" / f"{scenario.mask}.npy")
    grid = json.loads((work / "grid.json").read_text())
    assert verify.check_seg(out, mask, grid, scenario.seg_type) == []


def test_refused_binary_rle_scenarios_say_why(work, tmp_path):
    for scenario in (s for s in inputs.SCENARIOS if "dcmspec" in s.na and s.seg_type == "BINARY"):
        result = build_specs([work / f"{scenario.name}.yaml"], tmp_path)
        assert "RLE Lossless is not offered for BINARY" in result.errors[0].message
