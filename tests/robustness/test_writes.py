"""Output writing under faults: names, existing files, concurrent builds, full disks and signals.

Backs the guide's "Guarantees" page, docs/guide/guarantees.md (atomicity, concurrency, signals). The oracles are
independent of our writer: hashlib over the bytes on disk, pydicom reading the files, the kernel (a real tmpfs that
fills up, real processes racing, real signals), and "old state or new state" computed by writing into a
separate folder without faults.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pydicom
import pytest
from click.testing import CliRunner

from dcmspec_compiler.assemble.context import BuildOptions
from dcmspec_compiler.cli import main
from dcmspec_compiler.errors import DcmspecError
from dcmspec_compiler.pipeline import compile_specs
from dcmspec_compiler.testing.phantom import Grid, organ_label_map, write_ct_series
from dcmspec_compiler.write import commit as commit_module
from dcmspec_compiler.write.commit import JOURNAL_NAME, BuildInterrupted, recover_folder
from dcmspec_compiler.write.output import write_outputs
from dcmspec_compiler.write.targets import MANIFEST_NAME, STAGING_PREFIX

GRID = Grid(shape=(6, 32, 32), spacing=(2.0, 1.0, 1.0), origin=(-16.0, -16.0, 0.0))

NOTE = """dcmspec: 1
kind: StructuredReport
id: {id}
document_class: BasicText
sources: {{images: {images}}}
content:
  type: CONTAINER
  name: DCM:126000 "Imaging Measurement Report"
  children:
    - {{type: TEXT, relationship: CONTAINS, name: DCM:121071 "Finding", value: finding {id}}}
series: {{number: {number}}}
{extra}"""

SEG = """dcmspec: 1
kind: Segmentation
id: {id}
sources: {{images: {images}}}
segmentation: {{type: BINARY, mask: {mask}}}
segments:
  - {{label: Liver, category: AnatomicalStructure, type: Liver}}
  - {{label: Spleen, category: AnatomicalStructure, type: Spleen}}
series: {{number: {number}}}
"""


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("writes")
    write_ct_series(folder / "ct", GRID, seed="writes")
    np.save(folder / "labels.npy", organ_label_map(GRID, 2))
    return folder


def note(folder: Path, spec_id: str, number: int = 100, extra: str = "", *, images: Path) -> Path:
    path = folder / f"{spec_id}.yaml"
    path.write_text(NOTE.format(id=spec_id, images=images, number=number, extra=extra), encoding="utf-8")
    return path


def seg(folder: Path, spec_id: str, inputs: Path, number: int = 300) -> Path:
    path = folder / f"{spec_id}.yaml"
    path.write_text(SEG.format(id=spec_id, images=inputs / "ct", mask=inputs / "labels.npy", number=number))
    return path


def run(*args: str):
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.stderr


def state(folder: Path) -> dict[str, str]:
    """What a user sees in the folder: every entry but our staging folders, with the SHA-256 of its bytes."""
    if not folder.exists():
        return {}
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in folder.iterdir()
        if not p.name.startswith(STAGING_PREFIX)
    }


def staging_folders(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.startswith(STAGING_PREFIX)] if folder.exists() else []


def assert_manifest_matches_files(folder: Path) -> dict:
    """Every manifest entry names a file whose bytes have the recorded SHA-256, size and SOP Instance UID
    (read back with pydicom), and every DICOM file in the folder has an entry."""
    manifest = json.loads((folder / MANIFEST_NAME).read_text())
    for entry in manifest["objects"]:
        data = (folder / entry["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"] and len(data) == entry["bytes"], entry["file"]
        ds = pydicom.dcmread(folder / entry["file"], stop_before_pixels=True)
        assert ds.SOPInstanceUID == entry["sop_instance_uid"], entry["file"]
    listed = {e["file"] for e in manifest["objects"]}
    assert listed == {p.name for p in folder.glob("*.dcm")}
    assert len(listed) == len(manifest["objects"]), "one entry per file"
    return manifest


# --- names: checked at the spec's line, before building -----------------------------------------------


@pytest.mark.parametrize(
    "value, message",
    [
        ("dcmspec-manifest.json", "a name dcmspec uses for itself"),
        ("DCMSPEC-MANIFEST.JSON", "a name dcmspec uses for itself"),  # the same file on macOS / Windows
        (".dcmspec-staging-1234", "a name dcmspec uses for itself"),
        ('"a\\0b.dcm"', "control characters (U+0000)"),
        ('"two\\nlines.dcm"', "control characters (U+000A)"),
        ('".."', "is not a file name"),
        ("x" * 252 + ".dcm", "256 bytes long; file systems allow at most 255"),
    ],
)
def test_unusable_output_names_are_refused_at_their_line(tmp_path, inputs, value, message):
    spec = note(tmp_path, "n1", extra=f"output: {{file: {value}}}\n", images=inputs / "ct")
    out = tmp_path / "out"
    code, err = run("build", spec, "-o", out)
    assert code == 1, err
    assert f"{spec}:12:16: output.file: " in err and message in err, err
    assert "Traceback" not in err and "internal error" not in err
    assert state(out) == {}
    code, err = run("validate", spec)  # validate says the same, without an output folder
    assert code == 1 and message in err


def test_our_name_limit_is_the_file_systems(tmp_path, inputs):
    """255 bytes build (the temporary name is not longer: staged files have short names of their own);
    256 are refused by us before the kernel would refuse them with ENAMETOOLONG."""
    longest = "y" * 251 + ".dcm"
    with pytest.raises(OSError) as exc:
        (tmp_path / ("y" * 252 + ".dcm")).write_bytes(b"")
    assert exc.value.errno == errno.ENAMETOOLONG  # the oracle: the file system's own limit
    spec = note(tmp_path, "n1", extra=f"output: {{file: {longest}}}\n", images=inputs / "ct")
    code, err = run("build", spec, "-o", tmp_path / "out")
    assert code == 0, err
    assert pydicom.dcmread(tmp_path / "out" / longest).SOPClassUID == "1.2.840.10008.5.1.4.1.1.88.11"


def test_two_specs_writing_one_file_are_refused_at_both_lines(tmp_path, inputs):
    one = note(tmp_path, "n1", extra="output: {file: same.dcm}\n", images=inputs / "ct")
    two = note(tmp_path, "n2", extra="output: {file: Same.dcm}\n", images=inputs / "ct")
    out = tmp_path / "out"
    code, err = run("build", one, two, "-o", out)
    assert code == 1
    assert f"{one}:12:16: output.file: 2 specs write the same file 'same.dcm'" in err
    assert f"n2 ({two}:12:16)" in err
    assert state(out) == {}


def test_a_default_name_clashing_with_a_chosen_one_is_refused(tmp_path, inputs):
    one = note(tmp_path, "n1", images=inputs / "ct")
    two = note(tmp_path, "n2", extra="output: {file: n1.dcm}\n", images=inputs / "ct")
    code, err = run("build", one, two, "-o", tmp_path / "out")
    assert code == 1 and "2 specs write the same file 'n1.dcm'" in err


def test_existing_files_are_all_listed_before_anything_is_built(tmp_path, inputs):
    specs = [note(tmp_path, f"n{i}", images=inputs / "ct") for i in range(7)]
    out = tmp_path / "out"
    out.mkdir()
    for i in range(6):
        (out / f"n{i}.dcm").write_bytes(b"precious %d" % i)
    before = state(out)
    code, err = run("build", *specs, "-o", out)
    assert code == 3, err
    assert "6 output file(s) exist already: " + ", ".join(f"n{i}.dcm" for i in range(6)) in err
    assert "building" not in err, "the targets are checked before any spec is built"
    assert state(out) == before


def test_an_unusable_output_folder_is_found_before_anything_is_built(tmp_path, inputs):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    code, err = run("build", note(tmp_path, "n1", images=inputs / "ct"), "-o", blocker / "out")
    assert code == 3 and f"{blocker / 'out'}: {blocker} is not a folder" in err, err
    assert "building" not in err and blocker.read_text() == "x"


# --- concurrency: real processes into one folder ------------------------------------------------------


def _spawn(*args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "dcmspec_compiler", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def test_concurrent_builds_of_the_same_files_never_overwrite(tmp_path, inputs):
    specs = [
        seg(tmp_path, "s1", inputs),
        note(tmp_path, "n1", images=inputs / "ct"),
        note(tmp_path, "n2", 102, images=inputs / "ct"),
    ]
    out = tmp_path / "out"
    procs = [_spawn("build", *specs, "-o", out, "-q", "--fresh-uids") for _ in range(4)]
    results = [(p.wait(), p.stderr.read()) for p in procs]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 3, 3, 3], results
    assert all("exist already" in err for code, err in results if code == 3), results
    manifest = assert_manifest_matches_files(out)  # one build's files, and its manifest
    assert sorted(e["file"] for e in manifest["objects"]) == ["n1.dcm", "n2.dcm", "s1.dcm"]
    assert staging_folders(out) == []


def test_concurrent_builds_of_different_files_lose_no_manifest_entry(tmp_path, inputs):
    out = tmp_path / "out"
    procs = [_spawn("build", note(tmp_path, f"n{i}", 100 + i, images=inputs / "ct"), "-o", out, "-q") for i in range(8)]
    results = [(p.wait(), p.stderr.read()) for p in procs]
    assert [code for code, _ in results] == [0] * 8, results
    manifest = assert_manifest_matches_files(out)
    assert sorted(e["file"] for e in manifest["objects"]) == sorted(f"n{i}.dcm" for i in range(8))


def test_concurrent_forced_builds_leave_one_whole_build(tmp_path, inputs):
    specs = [seg(tmp_path, "s1", inputs), note(tmp_path, "n1", images=inputs / "ct")]
    out = tmp_path / "out"
    procs = [_spawn("build", *specs, "-o", out, "-q", "--force", "--fresh-uids") for _ in range(3)]
    results = [(p.wait(), p.stderr.read()) for p in procs]
    assert [code for code, _ in results] == [0] * 3, results
    manifest = assert_manifest_matches_files(out)  # fresh UIDs: files of two builds would not match it
    series = {e["series_instance_uid"] for e in manifest["objects"] if e["kind"] == "Segmentation"}
    assert len(manifest["objects"]) == 2 and len(series) == 1


def test_a_file_another_program_creates_meanwhile_is_kept(tmp_path, inputs, monkeypatch):
    """A file that appears after the checks (another program, not a dcmspec build) is never replaced."""
    specs = [note(tmp_path, "n1", images=inputs / "ct"), note(tmp_path, "n2", 102, images=inputs / "ct")]
    out = tmp_path / "out"
    commit = commit_module.Staging.commit

    def meanwhile(self, *args, **kwargs):
        (out / "n2.dcm").write_bytes(b"theirs")
        return commit(self, *args, **kwargs)

    monkeypatch.setattr(commit_module.Staging, "commit", meanwhile)
    monkeypatch.setattr(commit_module, "existing_targets", lambda names, folder: None)  # as if checked before
    code, err = run("build", *specs, "-o", out)
    assert code == 3 and "n2.dcm: cannot write the file: another program wrote this file meanwhile" in err, err
    assert state(out) == {"n2.dcm": hashlib.sha256(b"theirs").hexdigest()}
    assert staging_folders(out) == []


def test_every_test_the_guide_names_exists():
    page = Path(__file__).resolve().parents[2] / "docs" / "guide" / "guarantees.md"
    section = page.read_text(encoding="utf-8")
    named = set(re.findall(r"`(test_\w+)`", section))
    defined = {
        name
        for path in Path(__file__).parent.glob("test_*.py")
        for name in re.findall(r"^def (test_\w+)", path.read_text(encoding="utf-8"), re.M)
    }
    assert named and named <= defined, named - defined


# --- leftovers of killed builds -------------------------------------------------------------------------


def test_a_running_builds_staging_folder_is_left_alone(tmp_path, inputs):
    out = tmp_path / "out"
    out.mkdir()
    live = commit_module.Staging(out)  # holds its lock, as a running build does
    try:
        (live.path / "000000.dcm").write_bytes(b"being written")
        recover_folder(out, lambda message, where: pytest.fail(message))
        assert live.path.is_dir()
        code, err = run("build", note(tmp_path, "n1", images=inputs / "ct"), "-o", out, "-q")
        assert code == 0 and live.path.is_dir() and "removed" not in err
    finally:
        live.remove()
    assert staging_folders(out) == []


def test_old_style_part_files_are_removed_with_a_notice(tmp_path, inputs):
    out = tmp_path / "out"
    out.mkdir()
    (out / ".n1.dcm.k2x9_a0b.part").write_bytes(b"\0" * 1000)  # what tempfile.mkstemp named them
    (out / ".mine.part").write_bytes(b"keep")  # not ours: kept
    code, err = run("build", note(tmp_path, "n1", images=inputs / "ct"), "-o", out, "-q")
    assert code == 0, err
    assert "removed a temporary file (1000 bytes)" in err and ".n1.dcm.k2x9_a0b.part" in err
    assert sorted(p.name for p in out.iterdir()) == [".mine.part", MANIFEST_NAME, "n1.dcm"]


# --- fault injection: every step of a build's writing ------------------------------------------------


class _CountingFile:
    """A file object whose writes count as steps."""

    def __init__(self, fh, faults: Faults) -> None:
        self._fh, self._faults = fh, faults

    def write(self, data):
        self._faults.step("write")
        return self._fh.write(data)

    def __getattr__(self, name):
        return getattr(self._fh, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self._fh.__exit__(*exc)


class Faults:
    """Stands in for the ``os`` module of the commit protocol: counts its calls and the data writes of
    staged files as steps, and calls ``fault(name)`` before step number ``at`` (only steps in ``names``
    count, when given)."""

    def __init__(self, at: int, fault, names: set[str] | None = None) -> None:
        self.at, self.fault, self.names, self.count = at, fault, names, 0

    def step(self, name: str) -> None:
        if self.names is not None and name not in self.names:
            return
        self.count += 1
        if self.count == self.at:
            self.fault(name)

    def __getattr__(self, name):
        real = getattr(os, name)
        if not callable(real) or name in {"fspath", "fsencode", "getpid", "kill"}:
            return real

        def call(*args, **kwargs):
            self.step(name)
            result = real(*args, **kwargs)
            return _CountingFile(result, self) if name == "fdopen" else result

        return call


def _build_objects(paths: list[Path], fresh: bool):
    result = compile_specs(paths, BuildOptions(fresh_uids=fresh))
    assert not result.errors, [e.format() for e in result.errors]
    return result.objects


@pytest.fixture(scope="module")
def scenarios(inputs, tmp_path_factory):
    """(name, old folder, objects, force): ``add`` writes three new files beside an earlier build's two;
    ``replace`` writes the same three files again with --force (other UIDs, so other bytes)."""
    folder = tmp_path_factory.mktemp("scenarios")
    images = inputs / "ct"
    earlier = _build_objects([note(folder, "a1", images=images), note(folder, "a2", 101, images=images)], False)
    paths = [seg(folder, "s1", inputs), note(folder, "n1", images=images), note(folder, "n2", 102, images=images)]
    first, second = _build_objects(paths, True), _build_objects(paths, True)
    out = []
    for name, old_objects, objects, force in [("add", earlier, second, False), ("replace", first, second, True)]:
        old = folder / f"old-{name}"
        write_outputs(old_objects, old)
        new = folder / f"new-{name}"
        shutil.copytree(old, new)
        write_outputs(objects, new, force=force)
        out.append((name, old, new, objects, force))
    return out


def _fresh_copy(old: Path, out: Path) -> None:
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(old, out)


def _count_steps(monkeypatch, old: Path, out: Path, objects, force: bool, names=None) -> int:
    _fresh_copy(old, out)
    faults = Faults(0, None, names)
    with monkeypatch.context() as m:
        m.setattr(commit_module, "os", faults)
        write_outputs(objects, out, force=force)
    return faults.count


def _run_killed(old: Path, out: Path, objects, force: bool, at: int, signum: int) -> int:
    """Write in a forked child that sends itself ``signum`` before step ``at``; return its wait status."""
    _fresh_copy(old, out)
    return _in_killed_child(lambda: write_outputs(objects, out, force=force), at, signum)


def _in_killed_child(action, at: int, signum: int) -> int:
    """Run ``action`` in a forked child that sends itself ``signum`` before step ``at``; return its wait
    status (exit 20/21: BuildInterrupted, before/after the commit)."""
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 0
        try:
            commit_module.os = Faults(at, lambda name: os.kill(os.getpid(), signum))
            action()
        except BuildInterrupted as exc:
            code = 20 + exc.committed
        except BaseException:
            code = 99
        finally:
            os._exit(code)
    return os.waitpid(pid, 0)[1]


@pytest.mark.parametrize("scenario", [0, 1], ids=["add", "replace"])
def test_sigkill_at_every_step_leaves_the_old_or_the_new_state_after_recovery(
    monkeypatch, tmp_path, scenarios, scenario
):
    _name, old, new, objects, force = scenarios[scenario]
    old_state, new_state = state(old), state(new)
    assert old_state != new_state
    out = tmp_path / "out"
    steps = _count_steps(monkeypatch, old, out, objects, force)
    assert state(out) == new_state
    seen = set()
    for at in range(1, steps + 1):
        status = _run_killed(old, out, objects, force, at, signal.SIGKILL)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, (at, status)
        leftovers = staging_folders(out)
        journal = any((p / JOURNAL_NAME).exists() for p in leftovers)
        found = state(out)
        if not journal:
            assert found in (old_state, new_state), f"a mixture after SIGKILL at step {at}"
        else:  # killed while committing: the manifest stays the old one until the last step
            assert found[MANIFEST_NAME] == old_state[MANIFEST_NAME] or found == new_state, at
        notices = []
        recover_folder(out, lambda message, where, notices=notices: notices.append(message))
        recovered = state(out)
        assert recovered == (new_state if journal else found), f"after SIGKILL at step {at} and recovery"
        assert staging_folders(out) == []
        assert len(notices) == len(leftovers), (at, notices)  # each said on stderr
        seen.add("completed" if journal else "new" if found == new_state else "old")
    assert seen == {"old", "completed", "new"}, "the kills must land before, during and after the commit"


@pytest.mark.parametrize("scenario", [0, 1], ids=["add", "replace"])
def test_sigterm_at_every_step_cleans_up_and_leaves_the_old_or_the_new_state(  # and SIGINT, SIGHUP
    monkeypatch, tmp_path, scenarios, scenario
):
    _name, old, new, objects, force = scenarios[scenario]
    old_state, new_state = state(old), state(new)
    out = tmp_path / "out"
    steps = _count_steps(monkeypatch, old, out, objects, force)
    seen = set()
    for at in range(1, steps + 1):
        signum = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)[at % 3]
        status = _run_killed(old, out, objects, force, at, signum)
        assert os.WIFEXITED(status), (at, status)
        code = os.WEXITSTATUS(status)
        assert code in (20, 21), f"step {at}: exit {code}"
        assert state(out) == (new_state if code == 21 else old_state), f"step {at}"
        assert staging_folders(out) == [], f"{signal.Signals(signum).name} at step {at} left a staging folder"
        seen.add(code)
    assert seen == {20, 21}


def _signal_as_staging_is_made(signum: int) -> type:
    """A ``Staging`` that receives a stop signal once its folder exists, before its caller holds it (a
    SIGTERM there, under load, once left a staging folder behind; seen in a full run)."""
    from dcmspec_compiler.write.commit import Staging

    class SignalledStaging(Staging):
        def __init__(self, out_dir: Path) -> None:
            super().__init__(out_dir)
            os.kill(os.getpid(), signum)
            time.sleep(0.01)  # the handler runs here, between bytecodes, unless the signal waits

    return SignalledStaging


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP], ids=lambda s: s.name)
def test_a_signal_as_the_staging_folder_is_made_leaves_nothing(tmp_path, scenarios, signum):
    """The signal waits until the build holds its staging folder, which is then removed: exit 20
    (BuildInterrupted, nothing written), the folder as it was, no staging folder left."""
    from dcmspec_compiler.write import output as output_module

    _name, old, _new, objects, force = scenarios[1]
    out = tmp_path / "out"
    _fresh_copy(old, out)
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 0
        try:
            output_module.Staging = _signal_as_staging_is_made(signum)
            write_outputs(objects, out, force=force)
        except BuildInterrupted as exc:
            code = 20 + exc.committed
        except BaseException:
            code = 99
        finally:
            os._exit(code)
    status = os.waitpid(pid, 0)[1]
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 20, status
    assert staging_folders(out) == [], "a staging folder was left behind"
    assert state(out) == state(old)


FAILABLE = {"write", "fsync", "open", "fdopen", "mkdir", "link", "rename", "replace", "chmod"}


@pytest.mark.parametrize("scenario", [0, 1], ids=["add", "replace"])
def test_disk_full_at_every_step_writes_nothing(monkeypatch, tmp_path, scenarios, scenario):
    """ENOSPC (or any I/O error) at any write, fsync, link or rename: exit 3, the folder as it was."""
    _name, old, _new, objects, force = scenarios[scenario]
    old_state = state(old)
    out = tmp_path / "out"
    steps = _count_steps(monkeypatch, old, out, objects, force, FAILABLE)
    failed = []

    def enospc(call):
        failed.append(call)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    for at in range(1, steps + 1):
        _fresh_copy(old, out)
        with monkeypatch.context() as m:
            m.setattr(commit_module, "os", Faults(at, enospc, FAILABLE))
            with pytest.raises(DcmspecError) as exc:
                write_outputs(objects, out, force=force)
        assert exc.value.exit_code == 3 and "No space left on device" in exc.value.message, exc.value.format()
        named = {str(out), str(out / MANIFEST_NAME), *(str(out / o.filename) for o in objects)}
        assert exc.value.location.file in named, exc.value.format()  # the file, not a staged name
        assert state(out) == old_state, f"ENOSPC at step {at} ({failed[-1]}) changed the folder"
        assert staging_folders(out) == []
    assert {"write", "fsync", "link", "rename", "replace"} <= set(failed)


# --- real processes, real signals ----------------------------------------------------------------------


def test_real_builds_killed_at_random_moments(tmp_path, inputs):
    """SIGKILL / SIGTERM sent to `dcmspec build` processes at random moments: after SIGTERM the folder
    is old or new at once and the message says which; after SIGKILL, once the next build ran."""
    specs = [
        seg(tmp_path, "s1", inputs),
        note(tmp_path, "n1", images=inputs / "ct"),
        note(tmp_path, "n2", 102, images=inputs / "ct"),
    ]
    other = note(tmp_path, "other", 150, images=inputs / "ct")
    old = tmp_path / "old"
    assert run("build", *specs, "-o", old, "-q")[0] == 0
    env = {"SOURCE_DATE_EPOCH": "86400"}  # other dates, so other bytes
    new = tmp_path / "new"
    shutil.copytree(old, new)
    start = time.perf_counter()
    proc = _spawn("build", *specs, "-o", new, "-q", "--force", env=env)
    assert proc.wait() == 0, proc.stderr.read()
    duration = time.perf_counter() - start  # to spread the kills over a build; no assertion on it
    old_state, new_state = state(old), state(new)
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    out = tmp_path / "out"
    for attempt, signum in enumerate([signal.SIGTERM, signal.SIGKILL] * 2):
        _fresh_copy(old, out)
        proc = _spawn("build", *specs, "-o", out, "--force", "-q", env=env)
        time.sleep(rng.uniform(0.3, 1.0) * duration)
        proc.send_signal(signum)
        code, err = proc.wait(), proc.stderr.read()
        where = f"seed {seed}, attempt {attempt}, {signal.Signals(signum).name}, exit {code}: {err}"
        assert code in (0, -signum), where
        if signum == signal.SIGTERM:
            assert staging_folders(out) == [], where
            if "nothing of this build was written" in err:
                assert state(out) == old_state, where
            elif "this build's files had been written completely" in err or code == 0:
                assert state(out) == new_state, where
            else:  # outside the writing step SIGTERM ends the process at once: before it or after it
                assert err == "" and state(out) in (old_state, new_state), where
        else:  # the next build in the folder completes or removes what the killed one left
            code, err = run("build", other, "-o", out, "-q")
            assert code == 0, where + err
            found = state(out)
            assert staging_folders(out) == [] and found.pop("other.dcm")
            manifest = assert_manifest_matches_files(out)
            assert {e["file"] for e in manifest["objects"]} == {"s1.dcm", "n1.dcm", "n2.dcm", "other.dcm"}
            found.pop(MANIFEST_NAME)
            assert found in ({k: v for k, v in s.items() if k != MANIFEST_NAME} for s in (old_state, new_state)), where


def _half_done_commit(monkeypatch, old: Path, new: Path, out: Path, objects, force: bool) -> None:
    """Leave in ``out`` a build killed by SIGKILL while committing, with some files in place and others not."""
    for at in range(_count_steps(monkeypatch, old, out, objects, force), 0, -1):  # the commit is near the end
        _run_killed(old, out, objects, force, at, signal.SIGKILL)
        if any((p / JOURNAL_NAME).exists() for p in staging_folders(out)) and state(out) not in (
            state(old),
            state(new),
        ):
            return
    pytest.fail("no step left a half-done commit")


def test_a_recovery_killed_at_every_step_is_completed_by_the_next(monkeypatch, tmp_path, scenarios):
    """Completing a commit is idempotent: SIGKILL at any step of it, and the next recovery still ends
    with the new state."""
    for name, old, new, objects, force in scenarios:
        half, out = tmp_path / f"half-{name}", tmp_path / f"out-{name}"
        _half_done_commit(monkeypatch, old, new, half, objects, force)

        def fresh(half: Path = half, out: Path = out) -> None:  # keeps the hard links between staged and placed files
            shutil.rmtree(out, ignore_errors=True)
            shutil.copytree(half, out, copy_function=os.link)

        fresh()
        faults = Faults(0, None)
        with monkeypatch.context() as m:
            m.setattr(commit_module, "os", faults)
            recover_folder(out)
        assert state(out) == state(new) and faults.count > 5
        for at in range(1, faults.count + 1):
            fresh()
            status = _in_killed_child(lambda out=out: recover_folder(out), at, signal.SIGKILL)
            assert os.WIFSIGNALED(status), (name, at, status)
            notices = []
            recover_folder(out, lambda message, where, notices=notices: notices.append(message))
            assert state(out) == state(new), f"{name}: recovery killed at step {at}, then recovered"
            assert staging_folders(out) == [] and not any("kept" in n for n in notices), notices


def test_the_next_build_completes_a_commit_killed_half_way_and_says_so(monkeypatch, tmp_path, inputs, scenarios):
    _name, old, new, objects, force = scenarios[1]
    out = tmp_path / "out"
    _half_done_commit(monkeypatch, old, new, out, objects, force)
    code, err = run("build", note(tmp_path, "late", 170, images=inputs / "ct"), "-o", out, "-q")
    assert code == 0, err
    assert "completed the commit of a build that was killed while committing (3 file(s) and the manifest)" in err
    found, expected = state(out), state(new)
    assert found.pop("late.dcm") and found.pop(MANIFEST_NAME) and expected.pop(MANIFEST_NAME)
    assert found == expected
    manifest = assert_manifest_matches_files(out)
    assert [e["file"] for e in manifest["objects"]] == ["s1.dcm", "n1.dcm", "n2.dcm", "late.dcm"]


_SIGTERM_AT = r"""
import os, signal, sys
from dcmspec_compiler.cli import main
from dcmspec_compiler.write import commit

class TermAt:  # the commit protocol's os module, sending SIGTERM to this process before each call of one name
    def __getattr__(self, name):
        real = getattr(os, name)
        if name != sys.argv[1]:
            return real
        def call(*args, **kwargs):
            os.kill(os.getpid(), signal.SIGTERM)
            return real(*args, **kwargs)
        return call

commit.os = TermAt()
main(sys.argv[2:])
"""


@pytest.mark.parametrize(
    "call, message, written",
    [
        ("fsync", "nothing of this build was written", False),  # while staging
        ("rename", "this build's files had been written completely", True),  # the journal's rename: the commit point
    ],
)
def test_after_sigterm_the_message_says_what_was_written(tmp_path, inputs, call, message, written):
    out = tmp_path / "out"
    specs = [note(tmp_path, "n1", images=inputs / "ct"), note(tmp_path, "n2", 102, images=inputs / "ct")]
    proc = subprocess.run(
        [sys.executable, "-c", _SIGTERM_AT, call, "build", *map(str, specs), "-o", str(out), "-q"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == -signal.SIGTERM, proc.stderr
    assert proc.stderr.strip().endswith(f"dcmspec: stopped by SIGTERM; {message}"), proc.stderr
    assert staging_folders(out) == []
    if written:
        assert {e["file"] for e in assert_manifest_matches_files(out)["objects"]} == {"n1.dcm", "n2.dcm"}
    else:
        assert state(out) == {}


# --- a real full disk: a small tmpfs --------------------------------------------------------------------

_FULL_DISK = r"""
import json, os, shutil, subprocess, sys
args = json.loads(sys.argv[1])
mnt, out = args["mnt"], os.path.join(args["mnt"], "out")
page = os.statvfs(mnt).f_frsize
results = []
for label, pages in args["cases"]:
    os.makedirs(out)
    with open(os.path.join(out, "keep.txt"), "w") as fh:
        fh.write("a file that was there before")
    free = os.statvfs(mnt).f_bavail * page
    with open(os.path.join(mnt, "filler"), "wb") as fh:  # leaves exactly `pages` pages free
        fh.write(b"\0" * (free - pages * page))
    proc = subprocess.run([sys.executable, "-m", "dcmspec_compiler", "build", *args["specs"], "-o", out, "-q"],
                          capture_output=True, text=True)
    results.append({"label": label, "code": proc.returncode, "stderr": proc.stderr,
                    "entries": sorted(os.listdir(out))})
    shutil.rmtree(out)
    os.unlink(os.path.join(mnt, "filler"))
print(json.dumps(results))
"""


def _private_tmpfs(probe: Path) -> list[str]:
    """The command prefix that mounts a tmpfs at its first argument in a private mount namespace and runs
    the rest: as root (`unshare -m`) or in a user namespace (`unshare -rm`)."""
    script = ["sh", "-c", 'mount -t tmpfs -o size=1m tmpfs "$1" && shift && exec "$@"', "sh"]
    for unshare in (["unshare", "-m"], ["unshare", "-rm"]):
        if (
            shutil.which("unshare")
            and subprocess.run(unshare + script + [str(probe), "true"], capture_output=True).returncode == 0
        ):
            return unshare + script
    pytest.skip("a tmpfs cannot be mounted here (needs root or user namespaces: `unshare -rm`)")


def test_a_disk_that_fills_up_gets_nothing_and_exit_3(tmp_path, inputs):
    """On a real tmpfs: the disk full at the 2nd file, at the manifest, at the journal: exit 3, the folder
    as it was; with room enough the same build succeeds (so the sizes below are the real ones)."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    prefix = _private_tmpfs(mnt)
    specs = [
        seg(tmp_path, "s1", inputs),
        note(tmp_path, "n1", images=inputs / "ct"),
        note(tmp_path, "n2", 102, images=inputs / "ct"),
    ]
    reference = tmp_path / "reference"
    assert run("build", *specs, "-o", reference, "-q")[0] == 0
    page = os.sysconf("SC_PAGE_SIZE")
    manifest = json.loads((reference / MANIFEST_NAME).read_text())
    pages = [-(-e["bytes"] // page) for e in manifest["objects"]]  # in the order they are staged
    manifest_pages = -(-(reference / MANIFEST_NAME).stat().st_size // page)
    cases = [
        ("second file", pages[0] + pages[1] - 1),
        ("manifest", sum(pages)),
        ("journal", sum(pages) + manifest_pages),
        ("room enough", sum(pages) + manifest_pages + 4),
    ]
    args = json.dumps({"mnt": str(mnt), "specs": [str(s) for s in specs], "cases": cases})
    proc = subprocess.run(prefix + [str(mnt), sys.executable, "-c", _FULL_DISK, args], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    results = {r["label"]: r for r in json.loads(proc.stdout)}
    for label in ("second file", "manifest", "journal"):
        result = results[label]
        assert result["code"] == 3, result
        assert "No space left on device" in result["stderr"] and "Traceback" not in result["stderr"], result
        assert result["entries"] == ["keep.txt"], result
    assert f"out/{manifest['objects'][1]['file']}: cannot write the file" in results["second file"]["stderr"]
    done = results["room enough"]
    assert done["code"] == 0, done
    assert done["entries"] == sorted(["keep.txt", MANIFEST_NAME, "s1.dcm", "n1.dcm", "n2.dcm"])
