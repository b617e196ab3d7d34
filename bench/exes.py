"""What the bench scripts share to run dcmspec as a user would: the console script and a byte-compiled
package (its own module, so that run.py, bench_pm.py and startup.py can all import it without importing
each other)."""

from __future__ import annotations

import compileall
import shutil
import sys
from pathlib import Path


def dcmspec_exe() -> str:
    """The console script next to this interpreter, not a pyenv shim (a shim adds a bash + pyenv hop)."""
    exe = Path(sys.executable).parent / "dcmspec"
    return str(exe) if exe.exists() else (shutil.which("dcmspec") or "dcmspec")


def precompile() -> None:
    """Byte-compile dcmspec as ``pip install`` does for a wheel (an editable install does not, and with
    PYTHONDONTWRITEBYTECODE=1 every run would compile the package's sources again)."""
    import dcmspec_compiler

    compileall.compile_dir(str(Path(dcmspec_compiler.__file__).parent), quiet=1)
