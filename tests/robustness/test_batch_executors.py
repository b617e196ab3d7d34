"""Batch builds on other executors: ``--executor dask-local`` (a LocalCluster), ``--executor dask://HOST:PORT``
(a real ``dask scheduler`` and ``dask worker`` processes started here on free ports), a worker killed
mid-build, failed rows, ``--fail-fast`` and the progress meter's failure count.

Oracle: the files of a one-process build (``--workers 1``, no worker at all), compared byte for byte,
manifest included; CSV lines counted by hand.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import distributed  # noqa: F401 - the dask extra is a test dependency: never skipped
import pytest

from conftest import ROOT

TEMPLATE = ROOT / "specs_examples" / "report-template.yaml"
SEG_TEMPLATE = """\
dcmspec: 1
kind: Segmentation
id: organs
parameters:
  series_number: {type: integer, minimum: 1}
  reader: {type: string, default: OrganNet}
sources:
  images: phantom/ct/
segmentation:
  type: BINARY
  mask: phantom/organs_labelmap.npy
segments:
  - number: 1
    label: Liver
    category: AnatomicalStructure
    type: Liver
    algorithm: {type: AUTOMATIC, name: "${reader}", version: "2.1"}
series: {number: "${series_number}", description: Organ segmentation}
"""


def dcmspec(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: int = 300
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dcmspec_compiler", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.fixture
def seg_case(tmp_path: Path) -> Path:
    """A client folder with a SEG template, the phantom it names by relative paths and 4 rows."""
    client = tmp_path / "client"
    client.mkdir()
    shutil.copytree(ROOT / "specs_examples" / "phantom", client / "phantom")
    (client / "organs.yaml").write_text(SEG_TEMPLATE)
    (client / "cases.csv").write_text("series_number,reader\n301,NetA\n302,NetB\n303,\n304,NetD\n")
    return client


def reference(client: Path, spec: str, rows: str, env: dict[str, str] | None = None) -> dict[str, bytes]:
    """The files of a one-process build of ``spec`` with ``rows``."""
    proc = dcmspec("build", spec, "--csv", rows, "-o", "reference", "--workers", "1", "-q", cwd=client, env=env)
    assert proc.returncode == 0, proc.stderr
    out = folder_bytes(client / "reference")
    shutil.rmtree(client / "reference")
    return out


# ---------------------------------------------------------------- LocalCluster
def test_a_dask_local_build_has_the_bytes_of_a_one_process_build(seg_case):
    """SEGs (pixel data) and the manifest: same bytes from 2 LocalCluster workers as from one process."""
    epoch = {"SOURCE_DATE_EPOCH": "1700000000"}
    expected = reference(seg_case, "organs.yaml", "cases.csv", epoch)
    assert len(expected) == 5  # 4 SEGs and the manifest
    proc = dcmspec(
        "build",
        "organs.yaml",
        "--csv",
        "cases.csv",
        "-o",
        "out",
        "--executor",
        "dask-local",
        "--workers",
        "2",
        cwd=seg_case,
        env=epoch,
    )
    assert proc.returncode == 0, proc.stderr
    assert "building 4 spec instance(s) on a Dask LocalCluster" in proc.stderr
    assert folder_bytes(seg_case / "out") == expected


# ---------------------------------------------------------------- a real scheduler and workers
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """A ``dask scheduler`` and ``dask worker`` processes on free loopback ports; all stopped at the end."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.procs: list[subprocess.Popen] = []
        self.scheduler = self._start("scheduler", "--host", "127.0.0.1", "--port", str(self.port), "--no-dashboard")
        deadline = time.monotonic() + 120  # a bound against hanging, not a measurement
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                assert self.scheduler.poll() is None, self._log("scheduler")
                assert time.monotonic() < deadline, "the dask scheduler did not start"
                time.sleep(0.2)

    def _start(self, what: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        log = open(self.folder / f"{what}-{len(self.procs)}.log", "w")  # noqa: SIM115  closed when the process is stopped
        proc = subprocess.Popen(
            [sys.executable, "-m", "dask", what, *args],
            cwd=self.folder,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
        )
        self.procs.append(proc)
        return proc

    def worker(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        return self._start("worker", f"tcp://{self.address}", "--nthreads", "1", "--no-dashboard", *args, env=env)

    def _log(self, what: str) -> str:
        return "\n".join(p.read_text() for p in self.folder.glob(f"{what}-*.log"))

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture
def cluster(tmp_path: Path):
    folder = tmp_path / "cluster"  # the workers' working folder: not the client's
    folder.mkdir()
    c = Cluster(folder)
    try:
        yield c
    finally:
        c.stop()


def test_a_real_scheduler_and_two_workers_build_the_bytes_of_a_local_build(seg_case, cluster):
    """Relative paths (the spec, its masks and sources, the CSV) and SOURCE_DATE_EPOCH are the client's:
    the workers run in another folder without that variable."""
    cluster.worker()
    cluster.worker()
    epoch = {"SOURCE_DATE_EPOCH": "1700000000"}
    expected = reference(seg_case, "organs.yaml", "cases.csv", epoch)
    proc = dcmspec(
        "build",
        "organs.yaml",
        "--csv",
        "cases.csv",
        "-o",
        "out",
        "--executor",
        f"dask://{cluster.address}",
        cwd=seg_case,
        env=epoch,
    )
    assert proc.returncode == 0, proc.stderr
    assert f"on the Dask cluster at tcp://{cluster.address}" in proc.stderr
    assert folder_bytes(seg_case / "out") == expected


HOLD = """\
import os, time
from pathlib import Path
from dcmspec_compiler.assemble import executors

def _held(args):  # the first row this worker gets: say so, then never finish
    Path(os.environ["DCMSPEC_TEST_HELD"]).write_text(str(os.getpid()))
    time.sleep(3600)

executors._in_client_context = _held
"""


def test_a_worker_killed_mid_build_has_its_row_built_elsewhere_with_the_same_bytes(tmp_path, cluster):
    """Worker A (no nanny) holds a row forever; worker B joins; A is killed (SIGKILL): the scheduler runs
    A's rows on B. Every row is written once, with the bytes of a local build."""
    client = tmp_path / "client"
    client.mkdir()
    rows = client / "cases.csv"
    rows.write_text("lesion_id,volume_ml\n" + "".join(f"L{i},{i + 0.5}\n" for i in range(6)))
    expected = reference(client, str(TEMPLATE), "cases.csv")
    (cluster.folder / "hold.py").write_text(HOLD)
    held = tmp_path / "held"
    worker_a = cluster.worker(
        "--no-nanny", "--preload", str(cluster.folder / "hold.py"), env={"DCMSPEC_TEST_HELD": str(held)}
    )
    build = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dcmspec_compiler",
            "build",
            str(TEMPLATE),
            "--csv",
            "cases.csv",
            "-o",
            "out",
            "--executor",
            f"dask://{cluster.address}",
        ],
        cwd=client,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 180  # a bound against hanging, not a measurement
        while not held.exists():
            assert build.poll() is None, build.communicate()
            assert time.monotonic() < deadline, "worker A never started a row"
            time.sleep(0.1)
        assert int(held.read_text()) == worker_a.pid
        cluster.worker()  # B
        worker_a.send_signal(signal.SIGKILL)
        _, err = build.communicate(timeout=300)
    finally:
        if build.poll() is None:
            build.kill()
            build.wait()
    assert worker_a.wait(timeout=30) == -signal.SIGKILL
    assert build.returncode == 0, err
    written = folder_bytes(client / "out")
    assert written == expected  # 6 reports once each (names are unique) + the manifest, same bytes
    manifest = json.loads(written["dcmspec-manifest.json"])["objects"]
    assert sorted(e["file"] for e in manifest) == sorted(n for n in written if n.endswith(".dcm"))
    assert len(manifest) == 6


# ---------------------------------------------------------------- failed rows, --fail-fast
BAD_ROWS = (
    "lesion_id,volume_ml,finding_site\n"
    "L1,1.5,Liver\n"
    "L2,-3,Liver\n"  # line 3: an ill-typed cell (minimum 0): cases.csv:3:2
    "L3,2.5,Kidney\n"
    "L4,1.0,Livr\n"  # line 5: not a code keyword: the template's line, CSV row cases.csv:5
    "L5,4.0,Spleen\n"
)


@pytest.mark.parametrize("executor", ["local", "dask-local"])
def test_failed_rows_are_reported_at_their_csv_lines_and_the_good_rows_written(tmp_path, executor):
    client = tmp_path
    (client / "cases.csv").write_text(BAD_ROWS)
    (client / "good.csv").write_text(
        "".join(line for i, line in enumerate(BAD_ROWS.splitlines(True)) if i + 1 not in (3, 5))
    )
    good = reference(client, str(TEMPLATE), "good.csv")  # rows at lines 2, 3, 4 of good.csv
    proc = dcmspec(
        "build", str(TEMPLATE), "--csv", "cases.csv", "-o", "out", "--executor", executor, "--workers", "2", cwd=client
    )
    assert proc.returncode == 1, proc.stderr
    assert "cases.csv:3:2: " in proc.stderr and "minimum" in proc.stderr
    site_line = next(i for i, line in enumerate(TEMPLATE.read_text().splitlines(), 1) if "${finding_site}" in line)
    assert f"{TEMPLATE}:{site_line}:" in proc.stderr and "'Livr' (CSV row cases.csv:5)" in proc.stderr
    assert (
        "dcmspec: 2 of 5 CSV row(s) failed: cases.csv:3, cases.csv:5; the other rows' 3 object(s) were written"
    ) in proc.stderr
    written = folder_bytes(client / "out")
    assert sorted(written) == [
        "dcmspec-manifest.json",
        "lesion-report-2.dcm",
        "lesion-report-4.dcm",
        "lesion-report-6.dcm",
    ]
    # the same bytes as a build of the good rows alone (ids follow the CSV lines: 2, 4, 6 here; 2, 3, 4 there)
    for mine, theirs in (("2", "2"), ("4", "3"), ("6", "4")):
        import pydicom

        a = pydicom.dcmread(io.BytesIO(written[f"lesion-report-{mine}.dcm"]))
        b = pydicom.dcmread(io.BytesIO(good[f"lesion-report-{theirs}.dcm"]))
        assert a.ContentSequence == b.ContentSequence
    manifest = json.loads(written["dcmspec-manifest.json"])["objects"]
    assert [e["csv"]["line"] for e in manifest] == [2, 4, 6]
    if executor == "local":  # validate says which rows fail, and that it wrote nothing
        proc = dcmspec("validate", str(TEMPLATE), "--csv", "cases.csv", cwd=client)
        assert proc.returncode == 1
        assert "dcmspec: 2 of 5 CSV row(s) failed: cases.csv:3, cases.csv:5; the other rows are valid" in proc.stderr


@pytest.mark.parametrize("executor", ["local", "dask-local"])
def test_fail_fast_stops_at_the_first_failed_row_and_writes_nothing(tmp_path, executor):
    (tmp_path / "cases.csv").write_text(BAD_ROWS.replace("L2,-3,", "L2,3,"))  # only line 5 fails
    proc = dcmspec(
        "build",
        str(TEMPLATE),
        "--csv",
        "cases.csv",
        "-o",
        "out",
        "--executor",
        executor,
        "--workers",
        "2",
        "--fail-fast",
        cwd=tmp_path,
    )
    assert proc.returncode == 1, proc.stderr
    assert "'Livr' (CSV row cases.csv:5)" in proc.stderr
    assert "stopped at the first failure (--fail-fast); nothing was written" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_a_row_is_all_or_nothing_in_a_worker(monkeypatch):
    """A document whose second object fails to encode gives its error and none of its objects."""
    from dcmspec_compiler.assemble import batch
    from dcmspec_compiler.assemble.context import BuildOptions
    from dcmspec_compiler.errors import SpecError
    from dcmspec_compiler.load.parse import load_file

    class Obj:
        def __init__(self, n: int) -> None:
            self.filename, self.kind, self.spec, self.spec_id, self.summary = f"o{n}.dcm", "K", "s", "s", {}
            self.dataset = {"SOPInstanceUID": str(n)}

    def encode(ds):
        if ds["SOPInstanceUID"] == "2":
            raise SpecError("cannot encode the second object")
        return b"bytes"

    monkeypatch.setattr(batch, "_encode", encode)
    monkeypatch.setattr("dcmspec_compiler.assemble.builder_for", lambda kind: lambda doc, ctx: [Obj(1), Obj(2)])
    monkeypatch.setattr("dcmspec_compiler.validate.schemas.validate_document", lambda doc: None)
    doc = load_file(TEMPLATE)
    ((done, errors, _),) = batch._work(([(doc, "K")], BuildOptions(), True))
    assert done == [] and [e["message"] for e in errors] == ["cannot encode the second object"]


def test_the_meter_counts_failures():
    from dcmspec_compiler.progress import Meter

    out = io.StringIO()
    meter = Meter(10, "building", out.write, tty=False, clock=lambda: 100.0)
    meter.advance(4, failed=1)
    meter.advance(6, failed=2)
    meter.close()
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("building 4/10 [") and " 40%, 1 failed  " in lines[0]
    assert " 100%, 3 failed  " in lines[-1]


def test_bad_executors_are_usage_errors(tmp_path):
    for args, message in (
        (["--executor", "dask:/x"], "not an executor"),
        (["--executor", "dask://sched"], "dask://HOST:PORT"),
        (["--executor", "dask://h:1", "--workers", "2"], "a Dask cluster has the workers"),
        (["--workers", "0"], "at least 1"),
    ):
        proc = dcmspec("build", str(TEMPLATE), "--set", "lesion_id=L1", "-o", "out", *args, cwd=tmp_path)
        assert proc.returncode == 2 and message in proc.stderr, proc.stderr


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path, monkeypatch):
    from dcmspec_compiler.assemble.executors import DaskCluster

    monkeypatch.setattr(DaskCluster, "CONNECT_S", 2)
    port = free_port()  # nothing listens there
    (tmp_path / "cases.csv").write_text("lesion_id\nL1\n")
    from click.testing import CliRunner

    from dcmspec_compiler.cli import main

    result = CliRunner().invoke(
        main,
        [
            "build",
            str(TEMPLATE),
            "--csv",
            str(tmp_path / "cases.csv"),
            "-o",
            str(tmp_path / "out"),
            "--executor",
            f"dask://127.0.0.1:{port}",
        ],
    )
    assert result.exit_code == 1, result.output
    assert f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "out").exists()


def _die_on_first(task: int) -> int:
    if task == 0:
        os.kill(os.getpid(), signal.SIGKILL)
    return task


def test_a_worker_dying_while_tasks_are_handed_out_loses_those_tasks_not_the_build():
    """The pool breaks between two submissions (the first task kills its worker before the second is handed
    out): every task comes back, LOST, instead of an internal error (exit 4) from ``submit``."""
    from collections.abc import Sequence

    from dcmspec_compiler.assemble.executors import LOST, LocalProcesses

    class HandedOutAfterTheDeath(Sequence):
        def __init__(self, pool: LocalProcesses) -> None:
            self.pool = pool

        def __len__(self) -> int:
            return 4

        def __getitem__(self, i):
            if not 0 <= i < 4:
                raise IndexError(i)
            if i == 1:  # wait until the pool knows its worker died (no assertion on the time)
                deadline = time.monotonic() + 60
                while not self.pool._pool._broken and time.monotonic() < deadline:
                    time.sleep(0.01)
            return i

    with LocalProcesses(2) as pool:
        results = dict(pool.run(_die_on_first, HandedOutAfterTheDeath(pool)))
    assert sorted(results) == [0, 1, 2, 3]
    assert all(r is LOST for r in results.values()), results


def test_workers_forked_after_a_mask_was_hashed_in_the_parent_finish(tmp_path):
    """The parent builds the specs others refer to (``organs-binary``, read by ``report-organs``) and hashes
    their masks on a background thread; the independent ones (more masks) go to forked workers. A child
    inherited that thread's pool without its thread, waited for a hash nobody ran, and the build hung
    (``--workers 2`` on the examples). Oracle: a one-process build of the same folder, byte for byte."""
    examples = tmp_path / "examples"
    shutil.copytree(ROOT / "specs_examples", examples)
    one = dcmspec("build", str(examples), "-o", str(tmp_path / "one"), "--workers", "1", "-q", cwd=tmp_path)
    assert one.returncode == 0, one.stderr
    two = subprocess.Popen(
        [sys.executable, "-m", "dcmspec_compiler", "build", str(examples), "-o", str(tmp_path / "two")]
        + ["--workers", "2", "-q"],
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its workers too are stopped below if it hangs
    )
    try:
        _, stderr = two.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(two.pid, signal.SIGKILL)
        two.communicate()
        pytest.fail("a build with --workers 2 on the examples hung (a worker waited for the parent's hash thread)")
    assert two.returncode == 0, stderr
    names = sorted(p.name for p in (tmp_path / "one").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "two").iterdir())
    assert len(names) == 19  # 18 objects and the manifest
    for name in names:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes(), name


def test_no_thread_of_dcmspec_runs_when_workers_are_forked(tmp_path, monkeypatch):
    """Forking a process that runs other threads is what Python 3.12+ deprecates (a child may inherit a
    lock held by a thread it does not have). The parent's hash thread is stopped before the workers are
    forked; the threads seen at each fork are recorded here (the hook is Python's own)."""
    from dcmspec_compiler.assemble import common
    from dcmspec_compiler.assemble.executors import LocalProcesses

    mask = tmp_path / "mask.bin"
    mask.write_bytes(b"\x01" * 4096)
    common.start_file_digest(mask)  # as a build in the parent does: the hash thread now runs
    assert any(t.name.startswith("dcmspec-digest") for t in __import__("threading").enumerate())
    seen: list[list[str]] = []
    recording = [True]

    def before_fork() -> None:
        if recording[0]:
            seen.append([t.name for t in __import__("threading").enumerate()])

    os.register_at_fork(before=before_fork)
    try:
        with LocalProcesses(2) as pool:
            results = dict(pool.run(abs, [-1, -2, -3]))
    finally:
        recording[0] = False
    assert results == {0: 1, 1: 2, 2: 3}
    assert seen, "no worker was forked"
    assert all(not name.startswith("dcmspec-digest") for names in seen for name in names), seen
    assert common.file_digest(mask) == __import__("hashlib").sha256(b"\x01" * 4096).hexdigest()
