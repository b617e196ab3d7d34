"""``python -m dcmspec_compiler`` runs the command line."""

try:
    from .entry import run
except KeyboardInterrupt:  # a stop signal while the entry point itself is imported: end as entry.stopped does
    import os
    import signal
    import sys

    sys.stderr.write("dcmspec: stopped by SIGINT\n")
    sys.stderr.flush()
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGINT)
    sys.exit(128 + signal.SIGINT)  # pragma: no cover - where the signal does not end the process

run()
