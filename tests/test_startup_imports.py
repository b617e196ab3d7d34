"""`dcmspec validate` imports only what its stages need (start-up time; bench/startup.py measures it).

Each case runs the command in a fresh interpreter and lists the heavy modules that were imported.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import ROOT

HEAVY = (
    "numpy",
    "pydicom",
    "pydicom.sr",
    "pydicom.sr.codedict",
    "jsonschema",
    "referencing",
    "requests",
    "dask",
    "distributed",
    # dcmspec's own: a builder and the builder layer (pydicom datasets), worker processes, writing
    "dcmspec_compiler.assemble.segmentation",
    "dcmspec_compiler.iods.seg",
    "dcmspec_compiler.assemble.batch",
    "dcmspec_compiler.write.output",
)


def _imported(args: list[str], cwd=ROOT, modules: tuple[str, ...] = HEAVY) -> tuple[int, set[str]]:
    """(exit status, which of ``modules`` were imported) of the command ``args`` in a fresh interpreter."""
    code = (
        "import sys\nfrom dcmspec_compiler.cli import main\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit as exc:\n    status = exc.code\n"
        f"print('IMPORTED', status, ','.join(m for m in {modules!r} if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=cwd, check=True
    ).stdout
    line = next(line for line in out.splitlines() if line.startswith("IMPORTED"))
    _, status, names = (line.split(" ") + [""])[:3]
    return int(status), set(filter(None, names.split(",")))


@pytest.mark.parametrize("spec", ["organs-binary.yaml", "report-lesion-3d.yaml", "sr-key-findings.yaml"])
def test_valid_spec_needs_neither_jsonschema_nor_pydicoms_code_dictionary(spec):
    """A conforming spec is accepted without jsonschema (validate/conforms.py); codes, keywords included,
    are looked up in our table (resolve/code_table.py), not in pydicom.sr."""
    status, imported = _imported(["validate", f"specs_examples/{spec}"])
    assert status == 0
    assert imported & {"jsonschema", "referencing", "pydicom.sr", "pydicom.sr.codedict"} == set()
    assert {"numpy", "pydicom"} <= imported  # building the object (the DICOM rules) needs them
    assert "requests" not in imported  # installed (test extra), but only pydicom's downloader wants it


@pytest.mark.parametrize("spec", ["organs-binary.yaml", "report-lesion-3d.yaml", "slide-annotations.yaml"])
def test_fast_validate_builds_nothing_and_imports_neither_pydicom_nor_numpy(spec):
    """``validate --fast`` (assemble/quick.py) reads .npy headers itself (io/npy.py) and builds no object."""
    status, imported = _imported(["validate", "--fast", f"specs_examples/{spec}"])
    assert status == 0 and imported == set()


def test_validate_of_one_spec_needs_no_worker_processes():
    status, imported = _imported(["validate", "specs_examples/organs-binary.yaml"])
    assert status == 0 and "dcmspec_compiler.assemble.batch" not in imported


def test_bench_startup_script_imports():
    """bench/startup.py, run.py and bench_pm.py share bench/exes.py (they imported each other in a circle)."""
    for script in ("startup.py", "run.py"):
        out = subprocess.run(
            [sys.executable, str(ROOT / "bench" / script), "--help"], capture_output=True, text=True, cwd=ROOT
        )
        assert out.returncode == 0 and "usage" in out.stdout, out.stderr


def test_requests_imports_normally_after_a_command():
    """pydicom_import.without_downloader hides requests from pydicom's first import only."""
    code = (
        "import sys\nfrom dcmspec_compiler.cli import main\n"
        "try:\n    main(['validate', 'specs_examples/organs-binary.yaml'])\nexcept SystemExit:\n    pass\n"
        "import pydicom.data.download, requests\n"
        "print(pydicom.data.download.HAVE_REQUESTS, requests.__name__)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    ).stdout.split()
    assert out == ["False", "requests"]


def test_abstract_base_spec_is_checked_without_pydicom_numpy_or_jsonschema():
    """report-site.yaml (``abstract: true``) is checked against its schema but not built."""
    status, imported = _imported(["validate", "specs_examples/report-site.yaml"])
    assert status == 0 and imported == set()


def test_template_with_csv_values_needs_no_jsonschema():
    status, imported = _imported(
        ["validate", "specs_examples/report-template.yaml", "--csv", "specs_examples/report-cases.csv"]
    )
    assert status == 0 and "jsonschema" not in imported


def test_a_csv_build_loads_dask_only_on_a_dask_executor(tmp_path):
    """Dask (installed: the dask extra is a test dependency) is imported by ``--executor dask-...`` only."""
    args = ["build", "specs_examples/report-template.yaml", "--csv", "specs_examples/report-cases.csv", "-q"]
    status, imported = _imported([*args, "-o", str(tmp_path / "local"), "--workers", "2"])
    assert status == 0 and imported & {"dask", "distributed"} == set()
    status, imported = _imported([*args, "-o", str(tmp_path / "dask"), "--executor", "dask-local", "--workers", "1"])
    assert status == 0 and {"dask", "distributed"} <= imported


def test_spec_with_schema_error_imports_no_pydicom_nor_numpy(tmp_path):
    spec = tmp_path / "bad.yaml"
    spec.write_text(
        "dcmspec: 1\nkind: Segmentation\nid: bad\nsources: {images: ct/}\n"
        "segmentation: {type: BINARY, mask: m.npy}\n"
        "segments: [{label: A, category: AnatomicalStructure, type: Liver, colour: [1, 2, 3]}]\n"
    )
    status, imported = _imported(["validate", str(spec)])
    assert status == 1
    assert "jsonschema" in imported  # it explains the error
    assert imported & {"numpy", "pydicom"} == set()


def test_pacs_clients_load_only_when_a_pacs_is_used(tmp_path):
    """dicomweb-client and pynetdicom (extra `pacs`, installed by the test extra) stay unloaded by a build
    from files; a build from files that sends nowhere does not even load requests."""
    status, imported = _imported(
        ["build", "specs_examples/organs-binary.yaml", "-q", "-o", str(tmp_path)],
        modules=("dicomweb_client", "pynetdicom", "requests"),
    )
    assert status == 0 and imported == set(), imported


def test_seg_build_imports_neither_numpy_ma_nor_the_downloaders_http_stack(tmp_path):
    """A SEG build from files imports neither numpy.ma (NumPy 2's np.median and np.unique import it) nor
    http.client (pydicom's downloader imports urllib.request, which pydicom_import makes lazy); urllib.request
    still works afterwards, loaded on its first use."""
    code = (
        "import sys\nfrom dcmspec_compiler.cli import main\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit as exc:\n    status = exc.code\n"
        "print('IMPORTED', status, ','.join(m for m in ('numpy.ma', 'http.client', 'ssl') if m in sys.modules))\n"
        "import urllib.request\n"
        "print('LATER', urllib.request.Request('http://example.org').host, 'http.client' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, "build", "specs_examples/organs-binary.yaml", "-q", "-o", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    ).stdout.splitlines()
    imported = next(line for line in out if line.startswith("IMPORTED"))
    assert imported.split(" ")[1] == "0", imported
    # what numpy loads by itself is numpy's (NumPy 1.x imports numpy.ma with numpy itself)
    theirs = (
        subprocess.run(
            [sys.executable, "-c", "import sys, numpy; print(','.join(m for m in sys.modules))"],
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.strip()
        .split(",")
    )
    ours = [m for m in ",".join(imported.split(" ")[2:]).split(",") if m and m not in theirs]
    assert ours == [], imported
    assert "LATER example.org True" in out
    assert (tmp_path / "organs-binary.dcm").exists() or any(tmp_path.glob("*.dcm"))


def test_a_small_seg_build_runs_no_garbage_collection(tmp_path):
    """The command raises the young generation's threshold (entry.GC_THRESHOLD0): CPython's collector, which
    traversed the objects of start-up some 150 times (about 0.05 s of CPU of a 300-slice SEG build), does
    not run during a small build; a library user's threshold is left alone."""
    code = (
        "import gc, sys\nstarts = []\n"
        "gc.callbacks.append(lambda phase, info: starts.append(1) if phase == 'start' else None)\n"
        "before = gc.get_threshold()\n"
        "import dcmspec_compiler.iods.seg\n"
        "assert gc.get_threshold() == before, 'importing dcmspec changes nothing'\n"
        "from dcmspec_compiler.entry import run\n"
        "starts.clear()\n"
        "try:\n    run(sys.argv[1:])\nexcept SystemExit as exc:\n    print('GC', exc.code, len(starts))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, "build", "specs_examples/organs-binary.yaml", "-q", "-o", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    ).stdout.split()
    assert out[:2] == ["GC", "0"] and any(tmp_path.glob("*.dcm"))
    assert int(out[2]) < 3, f"{out[2]} collections during a small build"


def test_the_command_freezes_objects_at_exit_and_restores_the_threshold():
    """At interpreter exit every object is frozen (Python's shutdown then skips traversing them); a caller
    of run() in the same process gets its GC threshold back. Observed by an exit handler registered before
    dcmspec's own (exit handlers run last-in first-out)."""
    code = (
        "import atexit, gc, sys\n"
        "atexit.register(lambda: print('FROZEN', gc.get_freeze_count() > 0, flush=True))\n"
        "from dcmspec_compiler.entry import run\n"
        "before = gc.get_threshold()\n"
        "try:\n    run(['validate', 'specs_examples/organs-binary.yaml'])\nexcept SystemExit as exc:\n"
        "    print('RUN', exc.code, gc.get_threshold() == before, gc.get_freeze_count() == 0, flush=True)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert "RUN 0 True True" in out and "FROZEN True" in out, out


def _threads_at_exit(env: dict[str, str]) -> tuple[int, int, str]:
    """(threads of the process, Python threads, OPENBLAS_NUM_THREADS) at the end of a complete validate."""
    code = (
        "import os, sys, threading\nfrom dcmspec_compiler.entry import run\n"
        "try:\n    run(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        "import numpy\n"  # imported by the command: its BLAS threads are running
        "print('THREADS', len(os.listdir('/proc/self/task')), threading.active_count(),"
        " os.environ.get('OPENBLAS_NUM_THREADS'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, "validate", "specs_examples/organs-binary.yaml"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
        env=env,
    ).stdout
    _, tasks, python_threads, blas = next(line for line in out.splitlines() if line.startswith("THREADS")).split()
    return int(tasks), int(python_threads), blas


def test_the_command_gives_numpys_blas_one_thread(monkeypatch):
    """The ``dcmspec`` command (entry.run) keeps OpenBLAS from starting a spinning thread per core (about
    0.05 s of CPU of a SEG build): the process has no threads but Python's own; a count the user chose is
    left alone (OpenBLAS then starts its thread)."""
    import os

    env = {
        k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")
    }
    tasks, python_threads, blas = _threads_at_exit(env)
    assert (tasks, blas) == (python_threads, "1")
    tasks, python_threads, blas = _threads_at_exit({**env, "OMP_NUM_THREADS": "2"})
    assert blas == "None"  # printed: not set
    assert tasks == python_threads + 1  # OpenBLAS's own thread (the caller's is the other one)
