"""Fixtures of the PACS tests: Orthanc instances started on free ports (see orthanc.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pacs.orthanc import DICOMWEB_PLUGIN, ORTHANC_INSTALL, Orthanc

from conftest import require_tool, shared

#: The shared series loaded into every Orthanc (tests/data/series).
SERIES = ("ct_dcmqi_ct-3slice", "mr_dcmqi_701-ADCb500")


def orthanc_exe() -> str:
    debian = Path("/usr/sbin/Orthanc")  # not on the PATH of a user who is not root
    exe = (
        str(debian)
        if debian.is_file() and shutil.which("Orthanc") is None
        else require_tool("Orthanc", ORTHANC_INSTALL)
    )
    if not DICOMWEB_PLUGIN.is_file():
        from conftest import TOOL_SKIP, in_ci

        message = f"{TOOL_SKIP} the Orthanc DICOMweb plugin {DICOMWEB_PLUGIN} (install it with: {ORTHANC_INSTALL})"
        if in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return exe


def start_orthanc(folder, *, load: bool = True, **options) -> Orthanc:
    """An Orthanc started in ``folder`` and loaded with :data:`SERIES`."""
    server = Orthanc(orthanc_exe(), folder, **options).start()
    if load:
        for name in SERIES:
            for path in sorted(shared("series", name).iterdir()):
                server.upload(path)
    return server


@pytest.fixture(scope="session")
def orthanc(tmp_path_factory):
    """Orthanc loaded with the shared CT and MR series, for the whole session (tests add to it; a test
    that needs a clean archive starts its own with :func:`start_orthanc`)."""
    server = start_orthanc(tmp_path_factory.mktemp("orthanc"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fresh_orthanc(tmp_path):
    """An Orthanc of its own for one test (stopped at its end)."""
    servers: list[Orthanc] = []

    def start(**options) -> Orthanc:
        server = start_orthanc(tmp_path / f"orthanc{len(servers)}", **options)
        servers.append(server)
        return server

    try:
        yield start
    finally:
        for server in servers:
            server.stop()
