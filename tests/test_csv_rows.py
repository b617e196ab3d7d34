"""``--csv`` builds: what the file may hold, which row an error or an output belongs to, and progress.

Oracles: Python's csv module and hand-written files (the row lines are counted by hand); the progress
meter is driven by a fake clock.
"""

from __future__ import annotations

import io
import json

import pytest
from click.testing import CliRunner

from dcmspec_compiler.cli import main
from dcmspec_compiler.errors import SpecError
from dcmspec_compiler.load.templates import rows_from_csv
from dcmspec_compiler.pipeline import Parameters, compile_specs
from dcmspec_compiler.progress import LOG_LINES, Meter, Progress

from conftest import ROOT

TEMPLATE = ROOT / "specs_examples" / "report-template.yaml"


def run(*args: str, **kwargs):
    result = CliRunner().invoke(main, list(args), **kwargs)
    return result.exit_code, result.stdout, result.stderr


def test_latin1_csv_is_a_located_error_not_a_crash(tmp_path):
    rows = tmp_path / "cases.csv"
    rows.write_bytes("lesion_id,reader\nL1,Doe^Jane\nL2,M\xfcller^Hans\n".encode("latin-1"))
    code, _, err = run("build", str(TEMPLATE), "--csv", str(rows), "-o", str(tmp_path / "out"))
    assert code == 1, err
    assert f"{rows}:3:5: the CSV file is not UTF-8: byte 0xfc" in err  # "L2,M" is 4 characters
    assert "hint: save it as UTF-8" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_duplicate_headers_and_unclosed_quotes_are_refused(tmp_path):
    rows = tmp_path / "cases.csv"
    rows.write_text("lesion_id,volume_ml,lesion_id\nL1,1,L2\n")
    with pytest.raises(SpecError) as err:
        list(rows_from_csv(rows))
    assert (err.value.location.line, err.value.location.column) == (1, 3)
    assert "columns 1 and 3 both have the header 'lesion_id'" in err.value.message
    rows.write_text('lesion_id,volume_ml\nL1,1\nL2,"2\nL3,3\n')
    with pytest.raises(SpecError) as err:
        list(rows_from_csv(rows))
    assert err.value.location.line == 3 and "not closed" in err.value.message
    # a closed quoted cell may span lines: the next row is numbered by the line it starts on
    rows.write_text('lesion_id,volume_ml\n"L\n1",1\n\nL3,3\n')
    assert [line for line, _ in rows_from_csv(rows)] == [2, 5]


def test_a_semantic_error_names_the_template_line_and_the_csv_row(tmp_path):
    rows = tmp_path / "cases.csv"
    rows.write_text("lesion_id,finding_site\nL1,Liver\nL2,Livr\nL3,Kidney\nL4,Spleen\nL5,Lver\n")
    result = compile_specs([TEMPLATE], params=Parameters(csv=rows))
    assert [e.row.line for e in result.errors] == [3, 6]
    site_line = next(i for i, line in enumerate(TEMPLATE.read_text().splitlines(), 1) if "${finding_site}" in line)
    assert all(e.location.file == str(TEMPLATE) and e.location.line == site_line for e in result.errors)
    code, out, err = run("validate", str(TEMPLATE), "--csv", str(rows), "--format", "json")
    assert code == 1
    assert [e["csv_row"] for e in json.loads(out)["errors"]] == [
        {"file": str(rows), "line": 3},
        {"file": str(rows), "line": 6},
    ]
    code, _, err = run("validate", str(TEMPLATE), "--csv", str(rows))
    assert f"(CSV row {rows}:3)" in err and f"(CSV row {rows}:6)" in err
    # an error located in the CSV itself (an ill-typed cell) is not repeated
    rows.write_text("lesion_id,volume_ml\nL1,-1\n")
    (error,) = compile_specs([TEMPLATE], params=Parameters(csv=rows)).errors
    assert error.location.file == str(rows) and error.row is None


def test_manifest_maps_every_output_to_its_row_and_ids_are_line_numbers(tmp_path):
    rows = tmp_path / "cases.csv"
    rows.write_text("lesion_id,volume_ml\nL1,1.5\n\nL3,2.5\n")
    code, _, err = run("build", str(TEMPLATE), "--csv", str(rows), "-o", str(tmp_path / "out"))
    assert code == 0, err
    entries = json.loads((tmp_path / "out" / "dcmspec-manifest.json").read_text())["objects"]
    assert [(e["file"], e["csv"]) for e in entries] == [
        ("lesion-report-2.dcm", {"file": str(rows), "line": 2, "row": 1}),
        ("lesion-report-4.dcm", {"file": str(rows), "line": 4, "row": 2}),
    ]
    guide = (ROOT / "docs" / "guide" / "templates-extends-and-linked-builds.md").read_text()
    assert "`<spec id>-<line>`" in guide and "first data row is line 2" in guide


def test_small_csv_builds_name_the_row_on_every_line(tmp_path):
    rows = tmp_path / "cases.csv"
    rows.write_text("lesion_id\nL1\nL2\n")
    code, _, err = run("build", str(TEMPLATE), "--csv", str(rows), "-o", str(tmp_path / "out"))
    assert code == 0, err
    building = [line for line in err.splitlines() if line.startswith("building")]
    assert building == [
        f"building {TEMPLATE} row 1 ({rows}:2) (MeasurementReport)",
        f"building {TEMPLATE} row 2 ({rows}:3) (MeasurementReport)",
    ]
    code, _, err = run("build", str(TEMPLATE), "--csv", str(rows), "-o", str(tmp_path / "q"), "-q")
    assert code == 0 and err == ""


def test_large_csv_builds_log_a_line_every_tenth_off_a_terminal(tmp_path, monkeypatch):
    monkeypatch.setenv("DCMSPEC_WORKERS", "1")
    rows = tmp_path / "cases.csv"
    rows.write_text("lesion_id\n" + "".join(f"L{i}\n" for i in range(25)))
    code, _, err = run("build", str(TEMPLATE), "--csv", str(rows), "-o", str(tmp_path / "out"))
    assert code == 0, err
    lines = err.splitlines()
    building = [line.split(" [")[0] for line in lines if line.startswith("building ")]
    assert building == [f"building {n}/25" for n in (3, 6, 9, 12, 15, 18, 21, 24, 25)]
    writing = [line for line in lines if line.startswith("writing ")]
    assert len(writing) == 9 and writing[-1].startswith("writing 25/25")
    assert not any(line.startswith("wrote ") for line in lines)  # no line per file
    assert "\r" not in err and "ETA" in lines[1]
    code, out, err = run("validate", str(TEMPLATE), "--csv", str(rows), "--format", "json")
    assert code == 0 and json.loads(out)["ok"]
    checked = [line.split(" [")[0] for line in err.splitlines() if line.startswith("building")]
    assert checked == building  # validate shows the meter too, and no per-row lines


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_meter_on_a_terminal_redraws_one_line_with_rate_and_eta():
    out = io.StringIO()
    clock = FakeClock()
    meter = Meter(100, "building", out.write, tty=True, clock=clock)
    for _ in range(40):
        clock.now += 0.0625  # 16 items/s
        meter.advance()
    text = out.getvalue()
    assert "\n" not in text and text.count("\r") == 20  # redrawn every 0.1 s, not per item
    last = text.rsplit("\r", 1)[1]
    assert last.startswith("building 40/100 [") and " 40%" in last
    assert "16.0/s" in last and "ETA 4 s" in last  # 60 left at 16/s
    for _ in range(60):
        clock.now += 0.0625
        meter.advance()
    meter.close()
    assert out.getvalue().endswith("building 100/100 [========================] 100%  16.0/s  in 6 s\x1b[K\n")


def test_meter_off_a_terminal_prints_about_ten_lines():
    out = io.StringIO()
    meter = Meter(1000, "building", out.write, tty=False, clock=FakeClock())
    for _ in range(1000):
        meter.advance()
    meter.close()
    lines = out.getvalue().splitlines()
    assert len(lines) == LOG_LINES and lines[0].startswith("building 100/1000")
    assert Progress(io.StringIO()).tty is False


def test_every_bad_row_of_a_csv_is_reported_in_one_run(tmp_path):
    rows = tmp_path / "cases.csv"
    rows.write_text("lesion_id,volume_ml\nL1,1\nL2\nL3,-4\nL4,1,extra\n")
    result = compile_specs([TEMPLATE], params=Parameters(csv=rows))
    found = sorted((e.location.line, e.message) for e in result.errors)
    assert [line for line, _ in found] == [3, 4, 5], found
    assert "1 cells" in found[0][1] and "minimum" in found[1][1] and "3 cells" in found[2][1]


@pytest.mark.parametrize("workers", [1, 2])
def test_warnings_and_errors_of_a_row_name_it_also_from_worker_processes(tmp_path, monkeypatch, workers):
    from dcmspec_compiler import pipeline
    from dcmspec_compiler.assemble import batch

    monkeypatch.setattr(pipeline, "worker_count", lambda n: workers)
    rows = tmp_path / "cases.csv"
    cells = ["Liver"] * (batch.MIN_BATCH + 2)
    cells[4] = 'SCT:10200004 "Liverish"'  # a meaning the dictionary disagrees with: a warning (line 6)
    cells[9] = "Livr"  # not a keyword: an error (line 11)
    rows.write_text("finding_site\n" + "".join(f'"{c.replace(chr(34), 2 * chr(34))}"\n' for c in cells))
    result = compile_specs([TEMPLATE], params=Parameters(csv=rows))
    assert [(e.row.line, "Livr" in e.message) for e in result.errors] == [(11, True)]
    (warning,) = [w for w in result.context.warnings if "Liverish" in w.format()]
    assert warning.row.line == 6 and warning.location.file == str(TEMPLATE)
    assert f"(CSV row {rows}:6)" in warning.format()
