"""Every independent semantic error of a spec is reported in one run (not one per run).

Each spec below holds several mistakes that do not depend on each other; the expected (line, message)
pairs are read off the spec text by hand.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from dcmspec_compiler.cli import main
from dcmspec_compiler.pipeline import compile_specs

from conftest import ROOT

EXAMPLES = ROOT / "specs_examples"
CT = EXAMPLES / "phantom" / "ct"

REPORT = f"""dcmspec: 1
kind: MeasurementReport
sources: {{images: {CT}}}
document: {{procedure_reported: [LN:25045-6, NoSuchProcedure]}}
findings:
  - tracking_id: a
    type: Liver
    category: AnatomicalStructure
    segment: {{spec: {EXAMPLES / "organs-binary.yaml"}, label: Liverr}}
  - tracking_id: b
    type: Nodule
    category: AnatomicalStructure
    region: {{image: 99, graphic_type: POINT, points: [[1, 1]]}}
  - tracking_id: c
    type: Kidney
    category: AnatomicalStructure
    measurements:
      - {{name: Volume, value: 2.0}}
      - {{name: Diameter, value: 3.0, unit: mm}}
      - {{name: Diameter, value: 4.0}}
  - tracking_id: d
    type: NotAKeyword
    category: NotACategory
evaluations:
  - {{name: DCM:121403 "Level of Significance", code: NotSignificantAtAll}}
"""


def _errors(specs: list[Path]) -> list[tuple[int, str]]:
    result = compile_specs(specs)
    return sorted((e.location.line, e.format()) for e in result.errors)


def test_a_report_reports_every_finding_measurement_and_code_error(tmp_path):
    spec = tmp_path / "report.yaml"
    spec.write_text(REPORT)
    errors = _errors([EXAMPLES / "organs-binary.yaml", spec])
    lines = [line for line, _ in errors]
    assert lines == [4, 9, 13, 18, 20, 22, 23, 25], "\n".join(text for _, text in errors)
    text = "\n".join(t for _, t in errors)
    assert "NoSuchProcedure" in text and "no segment labelled 'Liverr'" in text
    assert "image 99" in text and text.count("needs a unit") == 2
    assert "NotAKeyword" in text and "NotACategory" in text and "NotSignificantAtAll" in text
    code = CliRunner().invoke(main, ["validate", str(EXAMPLES / "organs-binary.yaml"), str(spec)])
    assert code.exit_code == 1 and "dcmspec: 8 error(s)" in code.stderr


SEGMENTATION = f"""dcmspec: 1
kind: Segmentation
sources: {{images: {CT}}}
segmentation: {{type: BINARY}}
segments:
  - {{label: A, category: AnatomicalStructur, type: Liver, mask: absent-1.npy}}
  - {{label: B, category: AnatomicalStructure, type: Livr, mask: absent-2.npy}}
  - {{label: C, category: AnatomicalStructure, type: Spleen, mask: absent-1.npy}}
"""


def test_a_segmentation_reports_every_segment_and_mask_error(tmp_path):
    spec = tmp_path / "seg.yaml"
    spec.write_text(SEGMENTATION)
    errors = _errors([spec])
    assert [line for line, _ in errors] == [6, 6, 7, 7], "\n".join(t for _, t in errors)
    text = "\n".join(t for _, t in errors)
    assert "AnatomicalStructur" in text and "Livr" in text
    assert "absent-1.npy" in text and "absent-2.npy" in text
    assert text.count("mask file not found") == 2  # the file segments A and C share is reported once


def test_a_manual_algorithm_and_a_refused_encoding_come_together(tmp_path):
    # The transfer syntax rule lives in the builder layer; it is run before the build, beside the rest.
    spec = tmp_path / "seg.yaml"
    spec.write_text(f"""dcmspec: 1
kind: Segmentation
sources: {{images: {CT}}}
segmentation: {{type: BINARY, mask: {EXAMPLES / "phantom" / "organs_labelmap.npy"}}}
segments:
  - {{label: Liver, category: AnatomicalStructure, type: Liver, algorithm: {{type: MANUAL, name: Net}}}}
  - {{label: Spleen, category: AnatomicalStructure, type: Spleen}}
  - {{label: Kidney, category: AnatomicalStructure, type: Kidney}}
output: {{transfer_syntax: RLELossless}}
""")
    errors = _errors([spec])
    assert [line for line, _ in errors] == [6, 9], "\n".join(t for _, t in errors)
    assert "MANUAL segment has no algorithm name" in errors[0][1]
    assert "output.transfer_syntax: RLE Lossless is not offered for BINARY" in errors[1][1]


STRUCTURED = f"""dcmspec: 1
kind: StructuredReport
document_class: Comprehensive
sources: {{images: {CT}}}
content:
  type: CONTAINER
  name: DCM:126000 "Imaging Measurement Report"
  children:
    - {{type: NUM, relationship: CONTAINS, name: Volume, value: 2.0}}
    - {{type: TEXT, name: DCM:121071 "Finding", value: x}}
    - {{type: CODE, relationship: CONTAINS, name: DCM:121071 "Finding", value: NoSuchCode}}
"""


def test_a_structured_report_reports_every_item_error(tmp_path):
    spec = tmp_path / "sr.yaml"
    spec.write_text(STRUCTURED)
    errors = _errors([spec])
    assert [line for line, _ in errors] == [9, 10, 11], "\n".join(t for _, t in errors)
    text = "\n".join(t for _, t in errors)
    assert "needs a unit" in text and "needs a relationship" in text and "NoSuchCode" in text


# Source images that cannot be read stop the checks that need them (an image index), not the others: the
# lines below are those of the tests above, read off the same spec texts, with the sources' line added.
MISSING = "/no-such-folder/ct/"


def test_a_report_whose_sources_are_missing_still_reports_the_rest(tmp_path):
    spec = tmp_path / "report.yaml"
    spec.write_text(REPORT.replace(str(CT), MISSING))
    errors = _errors([EXAMPLES / "organs-binary.yaml", spec])
    # 3: the sources; not 13 (`image: 99` needs them); the segment label, units and codes are checked
    assert [line for line, _ in errors] == [3, 4, 9, 18, 20, 22, 23, 25], "\n".join(t for _, t in errors)
    text = "\n".join(t for _, t in errors)
    assert "source images not found" in text and text.count("needs a unit") == 2
    assert "no segment labelled 'Liverr'" in text and "image 99" not in text


def test_a_structured_report_whose_sources_are_missing_still_reports_every_item_error(tmp_path):
    spec = tmp_path / "sr.yaml"
    spec.write_text(STRUCTURED.replace(str(CT), MISSING))
    errors = _errors([spec])
    assert [line for line, _ in errors] == [4, 9, 10, 11], "\n".join(t for _, t in errors)
    assert "source images not found" in errors[0][1]


def test_key_objects_whose_sources_are_missing_still_report_the_title(tmp_path):
    """A title modifier that does not go with its title needs no source image (PS3.16 CID 7010, 7011)."""
    examples = tmp_path / "examples"
    shutil.copytree(EXAMPLES, examples)
    spec = examples / "key-objects.yaml"
    text = spec.read_text()
    assert text.count("images: phantom/ct/") == 1 and text.count('title: DCM:113000 "Of Interest"') == 1
    text = text.replace("images: phantom/ct/", f"images: {MISSING}").replace(
        'title: DCM:113000 "Of Interest"',
        'title: DCM:113000 "Of Interest"\ntitle_modifiers: [DCM:111210 "Motion blur"]',
    )
    spec.write_text(text)
    lines = text.splitlines()
    errors = _errors([spec])
    assert len(errors) == 2, errors
    assert "source images not found" in errors[0][1] and MISSING in lines[errors[0][0] - 1]
    assert lines[errors[1][0] - 1].startswith("title_modifiers:"), errors[1]
