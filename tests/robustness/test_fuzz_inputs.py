"""Property-based fuzzing (Hypothesis) of the loader and the schema validator (issue 9).

Random documents, and random mutations of the example specs, are written as YAML or JSON and built
with the command line in this process. Whatever the document, dcmspec must answer with exit code 0, 1,
2 or 3, without a traceback, leave nothing in the output folder when it fails, and stay within a bounded
memory (measured with tracemalloc). A hang is caught by an alarm far above any real case; no speed is
asserted.
"""

from __future__ import annotations

import json
import signal
import tempfile
import tracemalloc
from contextlib import contextmanager
from pathlib import Path

import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dcmspec_compiler.cli import main
from dcmspec_compiler.load.parse import parse_text

from conftest import ROOT

EXAMPLES = ROOT / "specs_examples"
SEEDS = ["organs-binary.yaml", "organs-labelmap.yaml", "sr-key-findings.yaml", "organs.json"]
PEAK_BYTES = 512 * 1024 * 1024  # far above what a spec of this size needs; a bomb exceeds it
HANG_SECONDS = 120

KEYS = [
    "dcmspec",
    "kind",
    "id",
    "sources",
    "images",
    "segmentation",
    "type",
    "mask",
    "segments",
    "label",
    "category",
    "number",
    "series",
    "instance",
    "output",
    "file",
    "content",
    "children",
    "value",
    "name",
    "points",
    "graphic_type",
    "document",
    "subject",
    "patient",
    "study",
    "extends",
    "parameters",
    "tolerance_mm",
    "color",
    "algorithm",
    "relationship",
    "<<",
]
KINDS = ["Segmentation", "MeasurementReport", "StructuredReport", "KeyObjectSelection", "Nothing"]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(
        KINDS
        + [
            "Liver",
            "BINARY",
            "LABELMAP",
            "phantom/ct/",
            "../../etc",
            "/dev/zero",
            "${x}",
            'SCT:10200004 "Liver"',
            "99:99",
        ]
    ),
)
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=6),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=10)), inner, max_size=6),
    ),
    max_leaves=60,
)


@contextmanager
def alarm(seconds: int):
    def hung(signum, frame):
        raise TimeoutError(f"no answer within {seconds} s: a hang")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def build(text: str, suffix: str) -> None:
    """Build ``text`` as a spec beside the phantom and assert the guarantees."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "phantom").symlink_to(EXAMPLES / "phantom")
        spec = folder / f"spec{suffix}"
        spec.write_text(text, encoding="utf-8", errors="surrogatepass")
        out = folder / "out"
        tracemalloc.start()
        try:
            with alarm(HANG_SECONDS):
                result = CliRunner().invoke(main, ["build", str(spec), "-o", str(out)])
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert result.exit_code in (0, 1, 2, 3), (result.exit_code, result.stderr, text[:2000])
        assert result.exception is None or isinstance(result.exception, SystemExit), (result.exception, text[:2000])
        assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
        if result.exit_code != 0:
            assert not out.exists() or not any(out.iterdir()), list(out.iterdir())
        assert peak < PEAK_BYTES, peak


def dump(data, as_json: bool) -> str:
    if as_json:
        return json.dumps(data, allow_nan=True)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)


@FUZZ
@given(doc=documents, kind=st.sampled_from(KINDS), as_json=st.booleans())
def test_random_documents(doc, kind, as_json):
    data = {"dcmspec": 1, "kind": kind, **doc} if isinstance(doc, dict) else doc
    build(dump(data, as_json), ".json" if as_json else ".yaml")


def _paths(node, path=()):
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, path + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, path + (i,))


def _replace(node, path, value):
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(node, dict):
        return {k: (_replace(v, rest, value) if k == head else v) for k, v in node.items()}
    return [(_replace(v, rest, value) if i == head else v) for i, v in enumerate(node)]


@FUZZ
@given(data=st.data(), seed=st.sampled_from(SEEDS), as_json=st.booleans())
def test_mutated_examples(data, seed, as_json):
    """An example spec with one value replaced by a random one (or removed)."""
    original = parse_text((EXAMPLES / seed).read_text(), EXAMPLES / seed).data
    paths = list(_paths(original))[1:]
    path = data.draw(st.sampled_from(paths), label="path")
    new = data.draw(documents, label="value")
    build(dump(_replace(original, path, new), as_json), ".json" if as_json else ".yaml")


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(text=st.text(alphabet=st.sampled_from(list("{}[]:,-&*!|>'\"#%@` \n\tab1.")), max_size=300))
def test_random_text_is_parsed_or_refused(text):
    """The loader alone, on random YAML-ish text: a document or a SpecError, nothing else."""
    from dcmspec_compiler.errors import SpecError

    with alarm(HANG_SECONDS):
        try:
            parse_text(text, Path("fuzz.yaml"))
        except SpecError as exc:
            assert exc.location is not None and exc.location.file == "fuzz.yaml"
