"""Run the mutants that mutmut registered in ``.mutmut-cache``, each in a forked child of one process that
has imported the heavy test dependencies once (numpy, pydicom, pytest...): on a loaded 2-core machine a
mutant then costs its tests' own time, not a new interpreter's start-up as well (mutmut 2.5.1 starts one
per mutant). POSIX only (``os.fork``).

Run it in a scratch copy made by ``tests/mutation/run.sh`` (``--forked``), where ``mutmut run`` registered
the mutants; it applies each mutant to the file with mutmut's own ``mutate``, runs pytest with the given
arguments in a child, restores the file, and writes the status to the cache as mutmut does, so that
``mutmut results`` and ``mutmut show ID`` work afterwards::

    python tests/mutation/forked.py [--register a.py,b.py] [--timeout S] [--retest | --survivors] \
        [--shuffle SEED] -- -x -q tests/test_x.py

``--register`` lists the mutants of those files in the cache first (what ``mutmut run`` does before it runs
them).

Mutants already killed are not run again; survivors are (``--retest``: every mutant; ``--survivors``: only
the survivors, e.g. after adding tests). ``--shuffle`` runs them in a random order (seeded), so that a run
stopped early has measured a fair sample of the module. Never run a ``mutmut`` command in the copy while this
runs: it re-reads the (mutated) file and drops mutants from the cache.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import sys
import time


def _preload() -> None:
    """Import what every test run needs, once, before forking (never the package under test)."""
    import numpy  # noqa: F401
    import pydicom
    import pydicom.pixels  # noqa: F401
    import pytest  # noqa: F401

    for optional in ("nrrd", "nibabel", "highdicom", "jsonschema", "yaml"):
        with contextlib.suppress(ImportError):
            __import__(optional)


def _write(filename: str, text: str) -> None:
    """Replace the file's text in one step (never left empty or half written)."""
    with open(filename + ".mutant-tmp", "w") as f:
        f.write(text)
    os.replace(filename + ".mutant-tmp", filename)


def _run_child(pytest_args: list[str], timeout: float) -> str:
    pid = os.fork()
    if pid == 0:  # child: a fresh import of dcmspec_compiler, from the mutated file
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        try:
            import pytest

            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            code = pytest.main(pytest_args)
        except BaseException:
            code = 99
        os._exit(int(code))
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            code = os.waitstatus_to_exitcode(status)
            if code == 0:
                return "bad_survived"
            if code in (1, 99) or code < 0:
                return "ok_killed"
            return "ok_suspicious"  # 2-5: interrupted, internal or usage error, no tests collected
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return "bad_timeout"
        time.sleep(0.05)


def main(argv: list[str]) -> int:
    if "--" not in argv:
        print(__doc__)
        return 2
    own, pytest_args = argv[: argv.index("--")], argv[argv.index("--") + 1 :]
    timeout = float(own[own.index("--timeout") + 1]) if "--timeout" in own else 120.0
    statuses = (
        ("untested", "bad_survived", "bad_timeout", "ok_suspicious", "ok_killed")
        if "--retest" in own
        else ("bad_survived",)
        if "--survivors" in own
        else ("untested", "bad_survived", "bad_timeout", "ok_suspicious")
    )
    sys.dont_write_bytecode = True
    os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
    from mutmut import Context, add_mutations_by_file, mutate
    from mutmut.cache import filename_and_mutation_id_from_pk, hash_of_tests, update_line_numbers

    if "--register" in own:
        for filename in own[own.index("--register") + 1].split(","):
            update_line_numbers(filename)
            add_mutations_by_file({}, filename, [], None)

    _preload()

    # a stopped run (timeout, kill) still restores the file it mutated (the finally below); a second
    # SIGTERM (timeout passes its own on) must not interrupt that
    def stop(*_):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        sys.exit(143)

    signal.signal(signal.SIGTERM, stop)
    db = sqlite3.connect(".mutmut-cache")
    marks = ",".join("?" * len(statuses))
    ids = [row[0] for row in db.execute(f"select id from Mutant where status in ({marks}) order by id", statuses)]
    if "--shuffle" in own:
        import random

        random.Random(int(own[own.index("--shuffle") + 1])).shuffle(ids)
    tests_hash = hash_of_tests("tests")
    print(f"{len(ids)} mutants to run", flush=True)
    for n, pk in enumerate(ids, 1):
        try:
            filename, mutation_id = filename_and_mutation_id_from_pk(pk)
        except ValueError:  # gone from the cache since the list was made (a mutmut command re-read the file)
            continue
        with open(filename) as f:
            original = f.read()
        mutated, count = mutate(Context(source=original, mutation_id=mutation_id, filename=filename, dict_synonyms=[]))
        if count != 1:
            status = "skipped"
        else:
            try:
                _write(filename, mutated)
                status = _run_child(pytest_args, timeout)
            finally:
                _write(filename, original)
        db.execute("update Mutant set status = ?, tested_against_hash = ? where id = ?", (status, tests_hash, pk))
        db.commit()
        print(f"{n}/{len(ids)} mutant {pk} ({filename}:{mutation_id.line_number + 1}): {status}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
