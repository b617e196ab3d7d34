"""The author's tools around the compiler: bundled schemas for editors, starters, base specs
(``abstract: true``), the pre-commit hook and GitHub annotations.

Oracles: jsonschema with no registry (it cannot follow a reference to another file), the GitHub
workflow-command syntax written out by hand, pre-commit's hook manifest keys, the UUID form of PS3.5 B.2.
"""

from __future__ import annotations

import json
import shlex
import shutil
import sys

import pytest
import yaml
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from dcmspec_compiler.cli import main
from dcmspec_compiler.load.extends import load_with_extends
from dcmspec_compiler.load.parse import load_file
from dcmspec_compiler.load.templates import instantiate
from dcmspec_compiler.pipeline import collect_spec_files
from dcmspec_compiler.validate.schemas import KINDS

from conftest import ROOT

EXAMPLES = ROOT / "specs_examples"
GUIDE = ROOT / "docs" / "guide"
COMMANDS_PAGE = (GUIDE / "commands-errors-and-exit-codes.md").read_text()  # with "Editors, git hooks and CI"
UIDS_PAGE = (GUIDE / "reproducible-output-uids-and-dates.md").read_text()


def run(*args: str):
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


@pytest.mark.parametrize("kind", list(KINDS))
def test_bundled_schema_is_self_contained_and_checks_the_examples(kind):
    code, out, _ = run("schema", kind, "--bundle")
    assert code == 0
    bundled = json.loads(out)
    Draft202012Validator.check_schema(bundled)
    assert all(ref.startswith("#/") for ref in _refs(bundled))
    assert "abstract" in bundled["properties"]  # every kind may be a base
    validator = Draft202012Validator(bundled)  # no registry: an outside $ref would fail to resolve
    examples = [p for p in EXAMPLES.glob("*.y*ml") if load_file(p).data.get("kind") == kind]
    assert examples
    for path in examples:
        doc = load_with_extends(path)
        if doc.data.get("abstract"):
            continue
        problems = [e.message for e in validator.iter_errors(instantiate(doc, {}).data)]
        assert problems == [], (path, problems)
    broken = {"dcmspec": 1, "kind": kind, "id": "x y z"}  # an id with spaces breaks a shared definition
    assert any(list(e.absolute_path) == ["id"] for e in validator.iter_errors(broken))
    _, plain, _ = run("schema", kind)
    assert any(ref.startswith("definitions.schema.json#") for ref in _refs(json.loads(plain)))


def test_the_guide_tells_editors_to_use_the_bundle():
    assert "dcmspec schema Segmentation --bundle > segmentation.schema.json" in COMMANDS_PAGE
    assert "yaml-language-server: $schema=segmentation.schema.json" in COMMANDS_PAGE


def test_uid_root_help_says_what_the_guide_says():
    _code, out, _ = run("build", "--help")
    help_text = " ".join(out.split())
    assert "SHA-256" in help_text and "UUID-derived" not in help_text
    assert "128-bit SHA-256 digest" in UIDS_PAGE


def test_segmentation_starter_builds_without_extras(tmp_path, monkeypatch):
    code, _, _ = run("new", "Segmentation", "-o", str(tmp_path / "starter.yaml"))
    assert code == 0
    mask = load_file(tmp_path / "starter.yaml").data["segmentation"]["mask"]
    assert mask.endswith(".npy")
    shutil.copytree(EXAMPLES / "phantom" / "ct", tmp_path / "ct")
    shutil.copy(EXAMPLES / "phantom" / "organs_labelmap.npy", tmp_path / mask)
    monkeypatch.setitem(sys.modules, "nibabel", None)  # as if the nifti extra were not installed
    monkeypatch.setitem(sys.modules, "nrrd", None)
    code, _, err = run("build", str(tmp_path / "starter.yaml"), "-o", str(tmp_path / "out"))
    assert code == 0, err
    assert (tmp_path / "out" / "starter.dcm").is_file()


def test_abstract_bases_are_left_out_of_folder_builds_and_not_inherited(tmp_path):
    names = {p.name for p in collect_spec_files([EXAMPLES])}
    assert "report-site.yaml" not in names and "report-template.yaml" in names
    assert load_file(EXAMPLES / "report-site.yaml").data["abstract"] is True
    assert "abstract" not in load_with_extends(EXAMPLES / "report-template.yaml").data
    code, _, err = run(
        "build", str(EXAMPLES / "report-site.yaml"), str(EXAMPLES / "report-template.yaml"), "-o", str(tmp_path / "out")
    )
    assert code == 0, err
    assert "report-site.yaml: a base for `extends` (abstract: true): checked, not built" in err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["dcmspec-manifest.json", "lesion-report.dcm"]
    # named on its own, a base is checked: missing properties are fine, wrong ones are not
    base = tmp_path / "base.yaml"
    base.write_text("dcmspec: 1\nkind: MeasurementReport\nabstract: true\ndocument: {completion: DONE}\n")
    code, _, err = run("validate", str(base))
    assert code == 1 and f"{base}:4:24: document.completion" in err
    base.write_text("dcmspec: 1\nkind: MeasurementReport\nabstract: true\ndocument: {completion: PARTIAL}\n")
    code, _, err = run("validate", str(base))
    assert code == 0, err


BAD = (
    "dcmspec: 1\nkind: Segmentation\nsources: {images: ct}\nsegmentation: {type: BINARI, mask: m.npy}\n"
    "segments: [{label: 'a,b', category: AnatomicalStructure, type: Liver}]\n"
)


def test_github_format_annotates_the_spec_line(tmp_path):
    spec = tmp_path / "bad.yaml"
    spec.write_text(BAD)
    code, out, err = run("validate", "--format", "github", str(spec))
    assert code == 1
    # ::error file=F,line=L,col=C,title=T::message, with % CR LF escaped in the message and : , in properties
    assert out.splitlines() == [
        f'::error file={spec},line=4,col=22,title=dcmspec%3A segmentation.type::"BINARI" is not allowed here'
        "%0Ahint: did you mean 'BINARY'? use one of: BINARY, FRACTIONAL, LABELMAP"
    ]
    # GitHub's log shows stdout and stderr: the errors are not repeated as text, stderr only counts them
    assert err.splitlines() == ["dcmspec: 1 error(s), 0 warning(s)"]


@pytest.mark.parametrize("hook_id", ["dcmspec-validate", "dcmspec-validate-fast"])
def test_pre_commit_hook_runs_validate_on_changed_specs_only(tmp_path, hook_id):
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"dcmspec-validate", "dcmspec-validate-fast"}
    hook = hooks[hook_id]
    assert {"id", "name", "entry", "language"} <= set(hook)
    assert hook["language"] == "python" and set(hook["types_or"]) == {"yaml", "json"}
    argv = shlex.split(hook["entry"])
    assert argv[:2] == ["dcmspec", "validate"] and ("--fast" in argv) == hook_id.endswith("-fast")
    other = tmp_path / ".pre-commit-config.yaml"
    other.write_text("repos: []\n")
    good = EXAMPLES / "sr-key-findings.yaml"
    code, _, err = run(*argv[1:], str(other), str(good), str(EXAMPLES / "report-site.yaml"))
    assert code == 0, err
    # files that only mention dcmspec (this repository's own hook list, a CI file) are not specs
    mentions = tmp_path / "ci.yml"
    mentions.write_text("- id: dcmspec-validate\n  entry: dcmspec validate\n")
    code, _, err = run(*argv[1:], str(ROOT / ".pre-commit-hooks.yaml"), str(mentions), str(good))
    assert code == 0, err
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD)
    code, _, err = run(*argv[1:], str(other), str(bad))
    assert code == 1 and f"{bad}:4:22" in err and str(other) not in err
    assert hook_id in COMMANDS_PAGE and ".pre-commit-hooks.yaml" in COMMANDS_PAGE


def test_building_only_a_base_writes_nothing(tmp_path):
    out = tmp_path / "out"
    code, _, err = run("build", str(EXAMPLES / "report-site.yaml"), "-o", str(out))
    assert code == 0 and "checked, not built" in err
    assert not out.exists()
