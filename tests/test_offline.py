"""Importing dcmspec (and what it imports) and building never touch the network: run with the network
blocked by tests/offline.py, which ends the process (exit 97) at the first attempt to reach another host."""

from __future__ import annotations

import socket
import subprocess
import sys

from conftest import ROOT

GUARD = f"import sys; sys.path.insert(0, {str(ROOT / 'tests')!r}); import offline; offline.block_network()\n"


def run_offline(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", GUARD + code], capture_output=True, text=True, cwd=ROOT, timeout=600)


def test_build_of_the_examples_with_the_network_blocked(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "offline.py"), "build", "specs_examples/", "-o", str(tmp_path), "-q"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert "offline guard" not in proc.stderr
    assert len(list(tmp_path.glob("*.dcm"))) >= 9


def test_importing_every_module_with_the_network_blocked():
    proc = run_offline(
        "import importlib, pkgutil, dcmspec_compiler\n"
        "names = [m.name for m in pkgutil.walk_packages(dcmspec_compiler.__path__, "
        "'dcmspec_compiler.')\n"
        "         if not m.name.endswith('__main__')]\n"
        "for name in names: importlib.import_module(name)\n"
        "print(len(names))"
    )
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout.split()[-1]) > 30


def test_the_guard_stops_an_attempt_and_lets_loopback_through():
    refused = run_offline(
        "import urllib.request\n"
        "try:\n    urllib.request.urlopen('http://pypi.org/simple/', timeout=5)\n"
        "except Exception:\n    pass\n"  # caught and ignored: the process ends all the same
        "print('not reached')"
    )
    assert refused.returncode == 97 and "network access attempted: getaddrinfo('pypi.org')" in refused.stderr
    assert "not reached" not in refused.stdout
    by_address = run_offline("import socket; socket.create_connection(('192.0.2.1', 80), timeout=5)")
    assert by_address.returncode == 97 and "192.0.2.1" in by_address.stderr
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        local = run_offline(f"import socket; socket.create_connection(('localhost', {port}), timeout=5).close()")
    assert local.returncode == 0, local.stderr
