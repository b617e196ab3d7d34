"""The documentation site's generated parts cover everything they document (docs/about.md).

- spec reference: every property of every schema of every kind in KINDS has an entry (type, required,
  default, description, example), found by walking the schema files here, independently of the generator;
- API reference: every name of ``__all__`` of ``dcmspec_compiler``, ``dcmspec_compiler.iods`` and each IOD
  package has an autodoc entry; every IOD class has a ``>>>`` example, run here with :mod:`doctest`;
- user guide (written by hand in docs/guide/): README.md links every page, the guide's index lists it, every
  spec kind has a page with an example and a link to its reference, and every link of README.md and the
  hand-written pages lands on a file and heading that exist (as on GitHub).

The docs build itself (``.ci/run``: Sphinx with ``-n -W``, then its doctest builder) checks the rest:
that every cross-reference resolves and every page is reachable.
"""

from __future__ import annotations

import doctest
import importlib
import json
import pkgutil
import re
import sys
import unicodedata
from pathlib import Path

import pydicom
import pytest
import yaml

from conftest import ROOT

sys.path.insert(0, str(ROOT / "docs" / "_ext"))
import api_reference  # docs/_ext
import spec_reference

import dcmspec_compiler
import dcmspec_compiler.iods as iods
from dcmspec_compiler.validate.schemas import KINDS, schema_dir


# --- spec reference --------------------------------------------------------------------------------
def schema_properties(kind: str) -> dict[str, set[str]]:
    """Every property name reachable from the kind's schema file, following $ref across files, with the
    descriptions it has there: a plain walk of the JSON, sharing no code with the generator."""
    files: dict[str, dict] = {}
    found: dict[str, set[str]] = {}
    seen: set[tuple[str, str]] = set()

    def load(name: str) -> dict:
        if name not in files:
            files[name] = json.loads((schema_dir() / name).read_text(encoding="utf-8"))
        return files[name]

    def walk(node, file: str) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item, file)
            return
        if not isinstance(node, dict):
            return
        for key, value in node.items():
            if key == "$ref":
                target, _, pointer = value.partition("#")
                target = target or file
                if (target, pointer) not in seen:
                    seen.add((target, pointer))
                    doc = load(target)
                    for part in pointer.strip("/").split("/") if pointer.strip("/") else []:
                        doc = doc[int(part)] if isinstance(doc, list) else doc[part]
                    walk(doc, target)
            elif key == "properties" and isinstance(value, dict):
                for name, sub in value.items():
                    found.setdefault(name, set()).add(sub.get("description", "") if isinstance(sub, dict) else "")
                    walk(sub, file)
            elif key != "$defs":
                walk(value, file)

    walk(load(KINDS[kind]), KINDS[kind])
    return found


def entries(markdown: str) -> dict[str, str]:
    """Entry path -> the entry's text, from a rendered page."""
    parts = re.split(r"^### `([^`]+)`$", markdown, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2]))


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_schema_property_has_a_rendered_entry(kind):
    page = entries(spec_reference.render_kind(kind))
    by_name: dict[str, list[str]] = {}
    for path in page:
        by_name.setdefault(re.split(r"[.\[\]]+", path.rstrip("[]"))[-1], []).append(path)
    properties = schema_properties(kind)
    assert properties, kind
    missing = sorted(name for name in properties if name not in by_name)
    assert not missing, f"{kind}: no entry for {missing}"
    for name, descriptions in properties.items():  # the entry says what the schema says
        texts = [page[path] for path in by_name[name]]
        for description in descriptions - {""}:
            assert any(description in text for text in texts), (kind, name, description)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_entry_has_type_required_default_and_an_example_that_parses(kind):
    for path, text in entries(spec_reference.render_kind(kind)).items():
        for row in ("| type |", "| required |", "| default |"):
            assert row in text, (kind, path, row)
        example = re.search(r"```yaml\n(.*?)```", text, re.S)
        assert example, (kind, path)
        assert isinstance(yaml.safe_load(example.group(1)), dict), (kind, path)


def test_one_reference_page_per_kind(tmp_path):
    written = {p.name for p in spec_reference.write_pages(tmp_path)}
    assert written == {"index.md", *(f"{spec_reference.page_name(k)}.md" for k in KINDS)}
    index = (tmp_path / "index.md").read_text()
    assert all(spec_reference.page_name(k) in index for k in KINDS)


def test_examples_come_from_the_shipped_specs():
    """An entry's example is the value a shipped example spec has there, when one has it."""
    text = entries(spec_reference.render_kind("Segmentation"))["segment.label"]  # segments[]: a segment
    labels = {
        s["label"]
        for p in (ROOT / "specs_examples").glob("*.yaml")
        for s in (yaml.safe_load(p.read_text()) or {}).get("segments", [])
        if "label" in s
    }
    example = yaml.safe_load(re.search(r"```yaml\n(.*?)```", text, re.S).group(1))
    assert example["segment"]["label"] in labels


# --- API reference ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def api_pages(tmp_path_factory):
    folder = tmp_path_factory.mktemp("api")
    return "\n".join(p.read_text() for p in api_reference.write_pages(folder))


def directives(text: str) -> set[str]:
    return set(re.findall(r"^\.\. auto(?:class|function|data|exception):: (\S+)$", text, re.M))


def test_every_public_name_has_an_api_entry(api_pages):
    documented = directives(api_pages)
    packages = [
        dcmspec_compiler,
        iods,
        *map(importlib.import_module, api_reference.iod_packages()),
        importlib.import_module("dcmspec_compiler.spatial"),
    ]
    missing = []
    for package in packages:
        if not hasattr(package, "__all__"):  # iods.common: the public names of each of its modules
            for info in pkgutil.iter_modules(package.__path__):
                module = importlib.import_module(f"{package.__name__}.{info.name}")
                missing += [
                    f"{module.__name__}.{n}"
                    for n in api_reference.public_names(module)
                    if f"{module.__name__}.{n}" not in documented
                ]
            continue
        for name in package.__all__:
            if f"{package.__name__}.{name}" in documented:
                continue
            row = re.search(
                rf"^\| `{re.escape(package.__name__)}\.{re.escape(name)}` \| {{py:obj}}`([^`]+)`", api_pages, re.M
            )
            if not (row and row.group(1) in documented):
                missing.append(f"{package.__name__}.{name}")
    assert not missing, missing


def test_every_iod_package_is_in_the_iods_names():
    """A new IOD package (found by pkgutil) adds its IOD classes to ``dcmspec_compiler.iods.__all__``."""
    exported = {id(getattr(iods, name)) for name in iods.__all__}
    for info in pkgutil.iter_modules(iods.__path__):
        if info.name == "common":
            continue
        package = importlib.import_module(f"{iods.__name__}.{info.name}")
        classes = [getattr(package, n) for n in package.__all__]
        sop_classes = [
            c
            for c in classes
            if isinstance(c, type) and issubclass(c, pydicom.Dataset) and getattr(c, "SOP_CLASS_UID", "")
        ]
        assert all(id(c) in exported for c in sop_classes), (info.name, sop_classes)
        assert any(id(obj) in exported for obj in classes), f"iods.{info.name} has nothing in iods.__all__"


def iod_classes() -> list[type]:
    """The classes of ``dcmspec_compiler.iods.__all__``: the IOD classes and the TID 1500 report builder."""
    return [obj for obj in (getattr(iods, n) for n in iods.__all__) if isinstance(obj, type)]


@pytest.mark.parametrize("cls", iod_classes(), ids=lambda c: c.__name__)
def test_every_iod_class_cites_the_standard(cls):
    assert re.search(r"PS3\.\d+", (cls.__doc__ or "").split(">>>")[0]), f"{cls.__name__}: which section?"


@pytest.mark.parametrize("cls", iod_classes(), ids=lambda c: c.__name__)
def test_every_iod_class_has_an_example_that_runs(cls):
    (test,) = [t for t in doctest.DocTestFinder(recurse=False).find(cls, globs={}) if t.examples] or [None]
    assert test is not None, f"{cls.__name__}: no >>> example in its docstring"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0 and result.attempted >= 5, result


# --- user guide ------------------------------------------------------------------------------------
GUIDE = ROOT / "docs" / "guide"
FENCED = re.compile(r"^```.*?^```", re.S | re.M)


def github_slug(title: str) -> str:
    """The anchor GitHub (and MyST's ``myst_heading_anchors``) gives a heading."""
    text = unicodedata.normalize("NFKC", title).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def prose(path: Path) -> str:
    return FENCED.sub("", path.read_text(encoding="utf-8"))


def heading_anchors(path: Path) -> set[str]:
    return {github_slug(h) for h in re.findall(r"^#+ (.+)$", prose(path), re.M)}


def local_links(path: Path) -> list[tuple[str, str]]:
    """(target, anchor) of every Markdown link of ``path`` to a file of the repository or a heading."""
    found = []
    for target in re.findall(r"\]\(([^)\s]+)\)", prose(path)):
        if not re.match(r"[a-z]+:", target):
            file, _, anchor = target.partition("#")
            found.append((file, anchor))
    return found


def guide_pages() -> list[Path]:
    return sorted(p for p in GUIDE.glob("*.md") if p.name != "index.md")


def test_the_readme_links_every_guide_page_and_the_guide_index_lists_it():
    assert len(guide_pages()) >= 20
    from_readme = {file for file, _ in local_links(ROOT / "README.md")}
    assert {f"docs/guide/{p.name}" for p in guide_pages()} <= from_readme
    toctree = re.search(r"```\{toctree\}\n(.*?)```", (GUIDE / "index.md").read_text(encoding="utf-8"), re.S)
    assert toctree
    listed = [line for line in toctree.group(1).splitlines() if line and not line.startswith(":")]
    assert sorted(listed) == [p.stem for p in guide_pages()]


def test_links_of_the_readme_and_the_guide_land():
    documents = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), GUIDE / "index.md", *guide_pages()]
    generated = {ROOT / "docs" / "api" / "index.md", ROOT / "docs" / "spec" / "index.md"} | {
        ROOT / "docs" / "spec" / f"{name.removesuffix('.schema.json')}.md" for name in KINDS.values()
    }
    checked = 0
    for document in documents:
        for file, anchor in local_links(document):
            target = (document.parent / file).resolve() if file else document
            where = f"{document.relative_to(ROOT)}: ]({file}#{anchor})"
            if target in generated:  # written by conf.py at build time (docs/spec, docs/api)
                assert not anchor, where
                continue
            assert target.is_file(), where
            assert not anchor or anchor in heading_anchors(target), where
            checked += 1
    assert checked >= 40


def test_no_page_reference_is_left_as_code_instead_of_a_link():
    """`other-page.md#anchor` written as inline code renders as text that leads nowhere: it must be a link
    (`[title](other-page.md#anchor)`), which the test above then checks."""
    documents = [ROOT / "README.md", GUIDE / "index.md", *guide_pages()]
    left = [
        f"{document.relative_to(ROOT)}: {match.group(0)}"
        for document in documents
        for match in re.finditer(r"`[\w./-]+\.md#[\w-]+`", document.read_text(encoding="utf-8"))
    ]
    assert not left, left


def test_the_commands_table_lists_every_option_of_every_command():
    """The table of guide/commands-errors-and-exit-codes.md against the click commands themselves."""
    import click

    from dcmspec_compiler.cli import main

    lines = (GUIDE / "commands-errors-and-exit-codes.md").read_text(encoding="utf-8").splitlines()
    missing = []
    for name, command in main.commands.items():
        rows = " ".join(line.split("` |")[0] for line in lines if line.startswith(f"| `dcmspec {name} "))
        assert rows, f"dcmspec {name}: no row in the commands table"
        for param in command.params:
            listed = any(re.search(rf"(?<![\w-]){re.escape(opt)}(?![\w-])", rows) for opt in param.opts)
            if isinstance(param, click.Option) and "--help" not in param.opts and not listed:
                missing.append(f"dcmspec {name} {'/'.join(param.opts)}")
    assert not missing, missing


def test_the_documented_keys_of_validate_format_json_are_the_ones_printed(tmp_path):
    from click.testing import CliRunner

    from dcmspec_compiler.cli import main

    text = " ".join((GUIDE / "commands-errors-and-exit-codes.md").read_text(encoding="utf-8").split())
    documented = re.search(r"`validate --format json` prints `\{(.*?)\}`", text)
    assert documented, "the commands page no longer says what --format json prints"
    top, errors, rest = re.fullmatch(r"(.*)errors: \[\{(.*?)\}\],(.*)", documented.group(1)).groups()

    def names(part: str) -> set[str]:
        return {name.strip() for name in part.split(",") if name.strip()}

    phantom = ROOT / "specs_examples" / "phantom"
    spec = tmp_path / "liver.yaml"
    spec.write_text(
        f"dcmspec: 1\nkind: Segmentation\nsources: {{images: {phantom / 'ct'}}}\nsegmentation: {{type: BINARY}}\n"
        f"segments:\n  - {{label: Liver, category: AnatomicalStructure, type: Livr, algorithm: {{type: MANUAL}},\n"
        f"     mask: {phantom / 'organs_labelmap.npy'}, label_value: 1}}\nseries: {{number: 301}}\n",
        encoding="utf-8",
    )
    for fast in ([], ["--fast"]):
        result = CliRunner().invoke(main, ["validate", *fast, "--format", "json", str(spec)])
        report = json.loads(result.stdout)
        assert set(report) == names(top) | {"errors"} | names(rest), fast
        (error,) = report["errors"]
        assert names(errors) - {"csv_row"} <= set(error) <= names(errors), fast


def test_the_layout_page_names_every_package_of_the_compiler():
    text = (GUIDE / "layout.md").read_text(encoding="utf-8")
    packages = [
        *sorted((ROOT / "compiler").glob("*/__init__.py")),
        *sorted((ROOT / "compiler/iods").glob("*/__init__.py")),
    ]
    unnamed = [
        str(init.parent.relative_to(ROOT))
        for init in packages
        if f"`{init.parent.relative_to(ROOT)}/`" not in text and f"`{init.parent.name}/`" not in text
    ]
    assert not unnamed, unnamed


def test_the_source_frame_order_the_masks_page_gives_is_the_order_a_npy_mask_is_placed_in(tmp_path):
    """guide/masks-and-geometry.md gives a recipe for the order of a .npy mask's frames. Sources whose file
    names and Instance Numbers run head first; a mask whose frame k marks column k; each SEG frame must
    reference the k-th source of the recipe's order (computed with pydicom, apart from dcmspec)."""
    import numpy
    from click.testing import CliRunner

    from dcmspec_compiler.cli import main

    text = (GUIDE / "masks-and-geometry.md").read_text(encoding="utf-8")
    recipe = re.search(r"`(sorted\(datasets, key=lambda ds: .*?\))`", text)
    assert recipe, "the masks page no longer gives the sort recipe"
    phantom = ROOT / "specs_examples" / "phantom"
    ct = tmp_path / "ct"
    ct.mkdir()
    files = sorted((phantom / "ct").glob("*.dcm"))
    for n, path in enumerate(files):
        ds = pydicom.dcmread(path)
        ds.InstanceNumber = len(files) - n  # head first, as many scanners number them
        ds.save_as(ct / f"slice{len(files) - n:03d}.dcm")
    datasets = [pydicom.dcmread(p, stop_before_pixels=True) for p in sorted(ct.glob("*.dcm"))]
    ordered = eval(recipe.group(1), {"numpy": numpy, "datasets": datasets})
    rows, columns = int(datasets[0].Rows), int(datasets[0].Columns)
    mask = numpy.zeros((len(datasets), rows, columns), numpy.uint8)
    for k in range(len(datasets)):
        mask[k, 0, k] = 1
    numpy.save(tmp_path / "mask.npy", mask)
    (tmp_path / "seg.yaml").write_text(
        "dcmspec: 1\nkind: Segmentation\nsources: {images: ct/}\nsegmentation: {type: BINARY, mask: mask.npy}\n"
        "segments:\n  - {label: Mark, category: AnatomicalStructure, type: Liver, algorithm: {type: MANUAL}}\n"
        "series: {number: 301}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["build", "-q", str(tmp_path / "seg.yaml"), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    seg = pydicom.dcmread(tmp_path / "out" / "seg.dcm")
    pixels = seg.pixel_array
    assert len(seg.PerFrameFunctionalGroupsSequence) == len(datasets)
    for frame, group in zip(pixels, seg.PerFrameFunctionalGroupsSequence):
        (column,) = numpy.flatnonzero(frame[0])
        source = group.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID
        assert source == ordered[column].SOPInstanceUID


def test_a_npy_mask_with_the_frames_last_gets_a_hint_that_mends_it(tmp_path):
    """The usual mistake with a model's output: (rows, columns, frames). The hint names the guide page (which
    must exist) and the numpy call; that call makes the spec valid."""
    import numpy
    from click.testing import CliRunner

    from dcmspec_compiler.cli import main

    phantom = ROOT / "specs_examples" / "phantom"
    labels = numpy.load(phantom / "organs_labelmap.npy")
    numpy.save(tmp_path / "mask.npy", numpy.transpose(labels == 1, (1, 2, 0)))
    spec = tmp_path / "seg.yaml"
    spec.write_text(
        f"dcmspec: 1\nkind: Segmentation\nsources: {{images: {phantom / 'ct'}}}\n"
        "segmentation: {type: BINARY, mask: mask.npy}\n"
        "segments:\n  - {label: Liver, category: AnatomicalStructure, type: Liver, algorithm: {type: MANUAL}}\n"
        "series: {number: 301}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["validate", "--format", "json", str(spec)])
    (error,) = json.loads(result.stdout)["errors"]
    assert "numpy.moveaxis(array, -1, 0)" in error["hint"]
    page = re.search(r"the guide's ([A-Z][\w ]+)", error["hint"])
    assert page and any(p.read_text(encoding="utf-8").startswith(f"# {page.group(1)}\n") for p in guide_pages())
    numpy.save(tmp_path / "mask.npy", numpy.moveaxis(numpy.load(tmp_path / "mask.npy"), -1, 0))
    assert CliRunner().invoke(main, ["validate", str(spec)]).exit_code == 0


def test_every_spec_kind_has_a_guide_example_and_a_link_to_its_reference():
    pages = {p.name: p.read_text(encoding="utf-8") for p in guide_pages()}
    for kind, schema in KINDS.items():
        holding = [name for name, text in pages.items() if re.search(rf"^kind: {kind}\b", text, re.M)]
        assert holding, f"{kind}: no guide page has an example spec of this kind"
        link = f"](../spec/{schema.removesuffix('.schema.json')}.md)"
        assert any(link in pages[name] for name in holding), f"{kind}: its guide page does not link {link}"


@pytest.mark.parametrize(
    "page", ["docs/guide/structured-reports.md", "compiler/starters/measurement-report.yaml"], ids=["guide", "starter"]
)
def test_the_region_graphic_types_a_report_page_lists_are_the_ones_accepted(page, tmp_path):
    """The comment beside a TID 1410 `region:`'s graphic_type lists what it takes: each listed type builds;
    POINT and MULTIPOINT (not an area) are refused."""
    from click.testing import CliRunner

    from dcmspec_compiler.cli import main

    comment = re.search(r"^\s+graphic_type: CIRCLE\s+#(.*)$", (ROOT / page).read_text(encoding="utf-8"), re.M)
    assert comment, page
    listed = set(re.findall(r"\b(POINT|MULTIPOINT|POLYLINE|POLYGON|CIRCLE|ELLIPSE)\b", comment.group(1)))
    points = {
        "POINT": "[[20.5, 18.5]]",
        "MULTIPOINT": "[[20.5, 18.5], [22, 19]]",
        "POLYLINE": "[[20, 18], [24, 18], [24, 22], [20, 18]]",
        "CIRCLE": "[[20.5, 18.5], [20.5, 22.5]]",
        "ELLIPSE": "[[18, 20], [24, 20], [21, 18], [21, 22]]",
    }
    assert listed and listed <= set(points), listed
    for graphic_type, coordinates in points.items():
        spec = tmp_path / f"{graphic_type.lower()}.yaml"
        spec.write_text(
            f"dcmspec: 1\nkind: MeasurementReport\nsources: {{images: {ROOT / 'specs_examples/phantom/ct'}}}\n"
            "document: {procedure_reported: LN:25045-6, completion: COMPLETE}\nobserver: {device: {name: Net}}\n"
            "findings:\n  - tracking_id: lesion-1\n    type: Liver\n    category: AnatomicalStructure\n"
            f"    region: {{image: 8, graphic_type: {graphic_type}, points: {coordinates}}}\n"
            "    measurements: [{name: Diameter, value: 6.0, unit: mm}]\nseries: {number: 1001}\n",
            encoding="utf-8",
        )
        code = CliRunner().invoke(main, ["validate", str(spec)]).exit_code
        assert code == (0 if graphic_type in listed else 1), (graphic_type, code)
