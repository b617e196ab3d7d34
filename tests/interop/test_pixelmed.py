"""PixelMed's validators (Debian pixelmed-apps, 20220618) as a second validator beside dciodvfy.

DicomInstanceValidator checks every non-SR object, DicomSRValidator every SR (IOD and templates). PixelMed
always exits 0, so its report is parsed: every ``Error:`` line must be explained by one entry of the
reviewed list of its known false positives below, or the test fails. Each entry says why it is false
and is checked against the object itself where that is possible (the content item PixelMed points at).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass

import pydicom
import pytest

from .conftest import HERE, java_pixelmed
from .matrix import ACCEPTED, EXPECTED, Limit, expected


def item_at(ds: pydicom.Dataset, path: str) -> pydicom.Dataset:
    """The content item at a PixelMed path ("1.13.3.8": the root, then 1-based child positions)."""
    item = ds
    for position in path.split(".")[1:]:
        item = item.ContentSequence[int(position) - 1]
    return item


def _declared_template(ds: pydicom.Dataset, path: str) -> str | None:
    item = item_at(ds, path)
    return item.ContentTemplateSequence[0].TemplateIdentifier if "ContentTemplateSequence" in item else None


@dataclass(frozen=True)
class FalsePositive:
    pattern: str  # regex on the Error line
    reason: str
    holds: Callable[[pydicom.Dataset, re.Match], bool] = lambda ds, m: True  # checked on the object


FALSE_POSITIVES = [
    FalsePositive(
        r"^Error: GeneralSeriesModule/Laterality/: : Missing conditional attribute$",
        "PixelMed's 2022 rule asks for General Series Laterality on every SEG (also on dcmqi's and highdicom's "
        "own); it is Type 2C, required only for a paired body part without Image or Frame Laterality, and "
        "dciodvfy (2026 tables) does not ask for it",
        lambda ds, m: ds.Modality == "SEG",
    ),
    FalsePositive(
        r'Code \(309343006,SCT,"Physician"\) not found in context group 7452',
        "PixelMed's 2022 copy of CID 7452 Organizational Roles lacks SCT 309343006 Physician, which the "
        "current PS3.16 lists",
    ),
    FalsePositive(
        r"^Error: Template 1419 ROIMeasurements/\[Row 5\] NUM \*: (?P<path>[\d.]+): .*: Missing value$",
        "a NUM without value is how PS3.3 C.18.1 says 'no measurement' (Measured Value Sequence is Type 2) "
        "when a Numeric Value Qualifier says why; PixelMed 2022 wants a value",
        lambda ds, m: (
            "NumericValueQualifierCodeSequence" in item_at(ds, m["path"])
            and not item_at(ds, m["path"]).get("MeasuredValueSequence")
        ),
    ),
    FalsePositive(
        r"^Error: Template (?P<tid>14\d\d) \w+/\[Row \d+\] .*: within (?P<path>[\d.]+): .*"
        r"Missing conditional content item$",
        "PixelMed picks one TID 1410/1411 for all measurement groups of a report, so it checks groups of "
        "another template (which their Content Template Sequence declares) against it",
        lambda ds, m: _declared_template(ds, m["path"]) not in (None, m["tid"]),
    ),
]


def unexplained_errors(report: str, ds: pydicom.Dataset) -> list[str]:
    errors = []
    for line in report.splitlines():
        if not line.startswith("Error"):
            continue
        if not any((m := re.search(fp.pattern, line)) and fp.holds(ds, m) for fp in FALSE_POSITIVES):
            errors.append(line)
    return errors


@pytest.fixture(scope="module")
def reports(matrix_objects) -> dict[str, str]:
    """PixelMed's report for every object, from one JVM (java/ValidateAll.java)."""
    paths = {str(o.path): o.name for o in matrix_objects.values()}
    proc = subprocess.run(
        [*java_pixelmed(), str(HERE / "java" / "ValidateAll.java"), *paths], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out, current = {}, None
    for line in proc.stdout.splitlines():
        header = re.match(r"^=== (instance|sr) (.*)$", line)
        if header:
            current = paths[header[2]]
            out[current] = ""
        elif current is not None:
            out[current] += line + "\n"
    assert set(out) == set(paths.values())
    return out


@pytest.mark.parametrize("name", list(EXPECTED))
def test_pixelmed_finds_no_error(name, matrix_objects, reports):
    obj, report = matrix_objects[name], reports[name]
    assert "=== exception" not in report, report
    outcome = expected(name, "pixelmed")
    if isinstance(outcome, Limit):
        assert outcome.signature in report, f"PixelMed no longer shows its known limit ({outcome.reason})"
        return
    assert outcome == ACCEPTED
    assert re.search(r"^Found \w+ IOD$", report, re.M), report  # it knew what to check
    assert "IOD validation complete" in report
    if obj.tid1500:
        assert "Found Root Template TID_1500 (MeasurementReport)" in report
    errors = unexplained_errors(report, pydicom.dcmread(obj.path))
    assert errors == [], "\n".join(errors)


def test_the_false_positive_list_does_not_hide_real_errors():
    """The reviewed entries match only what they describe: planted real errors stay errors."""
    ds = pydicom.Dataset()
    ds.Modality = "SR"
    assert unexplained_errors("Error: GeneralSeriesModule/Laterality/: : Missing conditional attribute", ds)
    group = pydicom.Dataset()
    group.ContentTemplateSequence = [pydicom.Dataset()]
    group.ContentTemplateSequence[0].TemplateIdentifier = "1411"
    ds.ContentSequence = [group]
    line = (
        'Error: Template 1411 VolumetricROIMeasurements/[Row 1] CONTAINER (125007,DCM,"Measurement Group")'
        '/[Row 12] UIDREF (121232,DCM,"Source series for segmentation"): within 1.1: /CONTAINER: '
        "Missing conditional content item"
    )
    assert unexplained_errors(line, ds) == [line]  # a TID 1411 group checked as TID 1411: real
    group.ContentTemplateSequence[0].TemplateIdentifier = "1501"
    assert unexplained_errors(line, ds) == []  # a TID 1501 group checked as TID 1411: false
