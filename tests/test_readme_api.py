"""The snippets of README.md and of the user guide (docs/*.md, docs/guide/*.md), run as written.

- every ```yaml block is a whole spec, or starts with ``# fragment`` (and is YAML); the whole ones are built
  together, in one build (they refer to each other by id, as the guide's pages do), beside the phantom of
  ``specs_examples/``, and dciodvfy reports no Error on anything they write;
- every ```python block runs, from a folder where ``specs_examples/`` is what it is in a clone; dciodvfy
  reports no Error on the DICOM files it writes, and the Python API example reads back what it wrote.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from dcmspec_compiler.assemble.context import BuildOptions
from dcmspec_compiler.pipeline import build_specs

from conftest import ROOT, dciodvfy_findings

EXAMPLES = ROOT / "specs_examples"
FENCE = re.compile(r"^```(\S*)[^\n]*\n(.*?)^```", re.S | re.M)


def documents() -> list[Path]:
    """README.md and the hand-written pages of the site (the generated ones, docs/spec and docs/api, are not
    in the repository)."""
    docs = ROOT / "docs"
    return [ROOT / "README.md", *sorted(docs.glob("*.md")), *sorted((docs / "guide").glob("*.md"))]


def snippets(language: str) -> list[tuple[str, int, str]]:
    """(document, line of the fence, text) of every ```language block of the documents."""
    found = []
    for path in documents():
        text = path.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            if match.group(1) == language:
                found.append(
                    (path.relative_to(ROOT).as_posix(), text.count("\n", 0, match.start()) + 1, match.group(2))
                )
    return found


def snippet_name(document: str, line: int) -> str:
    """``docs/guide/codes.md``, line 12 -> ``guide-codes-12``: a build error names the page and the line."""
    return f"{Path(document).parent.name}-{Path(document).stem}-{line}".lstrip("-").replace(".", "-")


def assert_no_dciodvfy_errors(path: Path) -> None:
    errors, _ = dciodvfy_findings(path)
    assert errors == [], f"{path.name}:\n" + "\n".join(errors)


def test_the_guide_pages_and_the_readme_have_snippets():
    names = {document for document, _, _ in snippets("yaml")}
    assert "README.md" in names
    assert len({n for n in names if n.startswith("docs/guide/")}) >= 8, names
    assert [s for s in snippets("python") if s[0].startswith("docs/guide/")]


def test_yaml_snippets_are_whole_specs_that_build_or_say_they_are_fragments(tmp_path):
    (tmp_path / "phantom").symlink_to(EXAMPLES / "phantom")
    paths = []
    for document, line, block in snippets("yaml"):
        data = yaml.safe_load(block)  # a fragment too must be YAML
        if block.startswith("# fragment"):
            continue
        where = f"{document}:{line}"
        assert isinstance(data, dict) and data.get("dcmspec") == 1 and "kind" in data, (
            f"{where}: a yaml snippet is a whole spec or starts with '# fragment'"
        )
        paths.append(tmp_path / f"{snippet_name(document, line)}.yaml")
        paths[-1].write_text(block, encoding="utf-8")  # as written, comments and all
    assert len(paths) >= 10

    out = tmp_path / "out"
    result = build_specs(paths, out, options=BuildOptions())
    assert not result.errors, "\n".join(e.format() for e in result.errors)
    objects = json.loads((out / "dcmspec-manifest.json").read_text())["objects"]
    assert {Path(o["spec"]).name for o in objects} == {p.name for p in paths}  # every snippet wrote something
    for obj in objects:
        assert_no_dciodvfy_errors(out / obj["file"])


def run_python_snippet(block: str, where: str, folder: Path, monkeypatch) -> dict:
    """Run ``block`` as a script in ``folder`` (where ``specs_examples`` is the clone's); its namespace."""
    (folder / "specs_examples").symlink_to(EXAMPLES)
    monkeypatch.chdir(folder)
    namespace: dict = {"__name__": "__main__"}
    exec(compile(block, where, "exec"), namespace)
    return namespace


@pytest.mark.parametrize(
    "document, line, block", snippets("python"), ids=[f"{d}:{n}" for d, n, _ in snippets("python")]
)
def test_python_snippets_run(document, line, block, tmp_path, monkeypatch):
    run_python_snippet(block, f"{document}:{line}", tmp_path, monkeypatch)
    for path in sorted(tmp_path.glob("*.dcm")):
        assert_no_dciodvfy_errors(path)


def test_the_python_api_example_reads_back_what_it_wrote(tmp_path, monkeypatch):
    (example,) = [s for s in snippets("python") if "segread(" in s[2]]
    document, line, block = example
    ns = run_python_snippet(block, f"{document}:{line}", tmp_path, monkeypatch)
    labels, sources, seg = ns["labels"], ns["sources"], ns["seg"]
    assert labels.any() and len(sources) == len(labels)
    assert [s.segment_number for s in seg.find_segments(label="Liver")] == [1]
    assert np.array_equal(seg.get_pixels([1])[..., 0], labels == 1)
    assert np.array_equal(seg.get_pixels_by_source_instance(sources[10].SOPInstanceUID)[..., 0], labels[10] == 1)
    first = int(np.flatnonzero(labels.reshape(len(labels), -1).any(axis=1))[0])
    assert np.array_equal(ns["vol"].array[0, ..., 0], labels[first] == 1)
