"""The ``dcmspec`` command's entry point (``python -m dcmspec_compiler`` too).

A stop signal ends the command the same way at any moment, even while Python is still importing the
command line: ``dcmspec: stopped by SIGINT ...`` and the signal's exit status (130 for SIGINT), never a
traceback or click's "Aborted!" (which would exit 1, the status of an invalid spec).
"""

from __future__ import annotations

import sys


def stopped(exc: KeyboardInterrupt) -> None:
    """Say what a stop signal left behind, then end by that signal (exit status 128 + its number)."""
    import os
    import signal

    signum = getattr(exc, "signum", signal.SIGINT)
    done_by_committed: dict[bool | None, str] = {
        True: "; this build's files had been written completely",
        False: "; nothing of this build was written",
    }
    done = done_by_committed.get(getattr(exc, "committed", None), "")
    sys.stderr.write(f"dcmspec: stopped by {signal.Signals(signum).name}{done}\n")
    sys.stderr.flush()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)
    sys.exit(128 + signum)  # pragma: no cover - where the signal does not end the process


#: The young generation's collection threshold while the command runs (CPython's default: 700). A command
#: allocates some 200 000 objects at start-up alone (numpy, pydicom, the builders) and CPython's collector
#: traversed them ~150 times, about 0.05 s of CPU of a 1-segment SEG build of 300 slices (bench/README.md,
#: "Start-up"); cycles are still collected, every 200 000 allocations (mypy's setting).
GC_THRESHOLD0 = 200_000


#: Environment variables that set the thread count of numpy's BLAS (OpenBLAS reads them in this order).
BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")


def one_blas_thread() -> None:
    """Unless the user chose a count, numpy's OpenBLAS runs on the calling thread only.

    OpenBLAS starts a thread per core when numpy is imported, and the thread spins waiting for work that a
    command never gives it (dcmspec multiplies small matrices): about 0.05 s of CPU of a SEG build, taken
    from the core that hashes the mask (bench/README.md, "Start-up"). Set before numpy is imported (it is
    read when the library loads) and inherited by worker processes, where it also avoids oversubscribing
    the cores."""
    import os

    if not any(os.environ.get(name) for name in BLAS_THREADS):
        os.environ["OPENBLAS_NUM_THREADS"] = "1"


def run(args: list[str] | None = None) -> None:
    """Run the command line; click's own handling of usage errors and ``--help`` is kept.

    The garbage collector is tuned for a short process: the threshold above while the command runs
    (restored after it, for a caller in the same process), and at interpreter exit every object is frozen
    (``gc.freeze``) so that Python's shutdown does not traverse them all once more (another ~0.1 s of CPU
    after a SEG build); exit handlers and module teardown run as usual. numpy's BLAS gets one thread
    (:func:`one_blas_thread`)."""
    import atexit
    import gc

    one_blas_thread()
    young, older, oldest = gc.get_threshold()
    gc.set_threshold(max(young, GC_THRESHOLD0), older, oldest)
    atexit.unregister(gc.freeze)  # registered once however often run() is called
    atexit.register(gc.freeze)
    try:
        _run(args)
    finally:
        gc.set_threshold(young, older, oldest)


def _run(args: list[str] | None) -> None:
    try:
        import click

        from .cli import main

        try:
            code = main.main(args=args, prog_name="dcmspec", standalone_mode=False)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.Abort as exc:  # click's name for a KeyboardInterrupt in its own parsing
            raise KeyboardInterrupt from exc
        sys.exit(code if isinstance(code, int) else 0)
    except KeyboardInterrupt as exc:
        stopped(exc)
