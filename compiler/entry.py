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


def run(args: list[str] | None = None) -> None:
    """Run the command line; click's own handling of usage errors and ``--help`` is kept."""
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
