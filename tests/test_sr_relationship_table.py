"""Every by-value relationship of every SR IOD we write: our rules (iods/sr/relationships.py) against
dcmtk's (dsrdump), one small document per (source value type, relationship type, target value type).

The documents are made here with pydicom only, so dcmtk's verdicts do not depend on our code; they are
cached on disk (keyed by this file and the dsrdump version) so that mutation testing, which runs this file
once per mutant, asks dsrdump once.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import tempfile
from pathlib import Path

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

from dcmspec_compiler.iods.sr.relationships import RULES, tree_violations

from conftest import DCMTK_INSTALL, require_tool

SOP_CLASSES = {
    "Basic Text SR": "1.2.840.10008.5.1.4.1.1.88.11",
    "Enhanced SR": "1.2.840.10008.5.1.4.1.1.88.22",
    "Comprehensive SR": "1.2.840.10008.5.1.4.1.1.88.33",
    "Comprehensive 3D SR": "1.2.840.10008.5.1.4.1.1.88.34",
    "Key Object Selection Document": "1.2.840.10008.5.1.4.1.1.88.59",
}
VALUE_TYPES = (
    "CONTAINER",
    "TEXT",
    "CODE",
    "NUM",
    "DATETIME",
    "DATE",
    "TIME",
    "UIDREF",
    "PNAME",
    "COMPOSITE",
    "IMAGE",
    "WAVEFORM",
    "SCOORD",
    "SCOORD3D",
    "TCOORD",
)
RELATIONSHIPS = (
    "CONTAINS",
    "HAS OBS CONTEXT",
    "HAS ACQ CONTEXT",
    "HAS CONCEPT MOD",
    "HAS PROPERTIES",
    "INFERRED FROM",
    "SELECTED FROM",
)


def _code(value: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, "99X", meaning
    return item


def _reference(sop_class: str) -> Dataset:
    ref = Dataset()
    ref.ReferencedSOPClassUID, ref.ReferencedSOPInstanceUID = sop_class, "1.2.826.0.1.3680043.10.9.77"
    return ref


def _content_item(value_type: str, relationship: str | None) -> Dataset:
    """A content item of ``value_type`` with the values its Value Type requires (PS3.3 C.17.3-C.18)."""
    item = Dataset()
    if relationship:
        item.RelationshipType = relationship
    item.ValueType = value_type
    item.ConceptNameCodeSequence = [_code("2", value_type.lower())]
    if value_type == "CONTAINER":
        item.ContinuityOfContent = "SEPARATE"
    elif value_type == "TEXT":
        item.TextValue = "text"
    elif value_type == "CODE":
        item.ConceptCodeSequence = [_code("3", "value")]
    elif value_type == "NUM":
        value = Dataset()
        value.NumericValue, value.MeasurementUnitsCodeSequence = "1", [_code("mm", "millimeter")]
        item.MeasuredValueSequence = [value]
    elif value_type == "DATETIME":
        item.DateTime = "20240101120000"
    elif value_type == "DATE":
        item.Date = "20240101"
    elif value_type == "TIME":
        item.Time = "120000"
    elif value_type == "UIDREF":
        item.UID = "1.2.826.0.1.3680043.10.9.78"
    elif value_type == "PNAME":
        item.PersonName = "Doe^Jane"
    elif value_type == "COMPOSITE":
        item.ReferencedSOPSequence = [_reference("1.2.840.10008.5.1.4.1.1.88.33")]
    elif value_type == "IMAGE":
        item.ReferencedSOPSequence = [_reference("1.2.840.10008.5.1.4.1.1.2")]
    elif value_type == "WAVEFORM":
        item.ReferencedSOPSequence = [_reference("1.2.840.10008.5.1.4.1.1.9.1.1")]
    elif value_type == "SCOORD":
        item.GraphicType, item.GraphicData = "POINT", [1.0, 2.0]
    elif value_type == "SCOORD3D":
        item.GraphicType, item.GraphicData = "POINT", [1.0, 2.0, 3.0]
        item.ReferencedFrameOfReferenceUID = "1.2.826.0.1.3680043.10.9.79"
    elif value_type == "TCOORD":
        item.TemporalRangeType, item.ReferencedSamplePositions = "POINT", [1]
    return item


def _probes() -> list[tuple[str, str, str, str]]:
    """Root CONTAINER CONTAINS each value type, in every IOD: which value types dcmtk lets in at all."""
    return [(iod, "CONTAINER", "CONTAINS", vt) for iod in SOP_CLASSES for vt in VALUE_TYPES]


def _cases(allowed: dict[str, bool]) -> list[tuple[str, str, str, str]]:
    """(IOD, source, relationship, target) for every source and target dcmtk lets into the IOD (from the
    probes, not from our rules, so that a wrong rule cannot shrink what is compared)."""
    out = []
    for iod in SOP_CLASSES:
        types = [vt for vt in VALUE_TYPES if allowed[_key((iod, "CONTAINER", "CONTAINS", vt))]]
        for source in ["CONTAINER"] + [vt for vt in types if vt != "CONTAINER"]:
            for relationship in RELATIONSHIPS:
                # under the root every value type is tried (e.g. KOS: CONTAINER HAS CONCEPT MOD CODE, while
                # CODE is not a CONTAINS target there); deeper, the types the root may contain
                for target in VALUE_TYPES if source == "CONTAINER" else types:
                    out.append((iod, source, relationship, target))
    return out


def _document(iod: str, source: str, relationship: str, target: str) -> Dataset:
    """Root CONTAINER -> (CONTAINS) source -> (relationship) target; the source is the root for CONTAINER."""
    sop = SOP_CLASSES[iod]
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = sop
    ds.file_meta.MediaStorageSOPInstanceUID = "1.2.826.0.1.3680043.10.9.80"
    ds.SOPClassUID, ds.SOPInstanceUID = sop, "1.2.826.0.1.3680043.10.9.80"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = "1.2.826.0.1.3680043.10.9.81", "1.2.826.0.1.3680043.10.9.82"
    ds.Modality, ds.PatientName, ds.PatientID = "SR", "Test", "1"
    ds.ContentDate, ds.ContentTime = "20240101", "120000"
    ds.CompletionFlag, ds.VerificationFlag = "COMPLETE", "UNVERIFIED"
    root = _content_item("CONTAINER", None)
    for keyword in root.dir():
        setattr(ds, keyword, getattr(root, keyword))
    ds.ConceptNameCodeSequence = [_code("1", "Report")]
    if source == "CONTAINER":
        parent = ds
    else:
        parent = _content_item(source, "CONTAINS")
        ds.ContentSequence = [parent]
    child = _content_item(target, relationship)
    if target == "SCOORD":
        child.ContentSequence = [_content_item("IMAGE", "SELECTED FROM")]
    parent.ContentSequence = [child]
    return ds


def _dcmtk_verdicts(cases: list[tuple[str, str, str, str]]) -> dict[str, bool]:
    """``"iod|source|relationship|target" -> dcmtk accepts the document``, from dsrdump over all of them
    (a file it refuses is named on an ``F:`` line); cached on disk."""
    exe = require_tool("dsrdump", DCMTK_INSTALL)
    version = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout
    key = hashlib.sha256(Path(__file__).read_bytes() + version.encode()).hexdigest()[:16]
    cache = Path(tempfile.gettempdir()) / f"dcmspec-dsrdump-relationships-{key}.json"
    verdicts: dict[str, bool] = json.loads(cache.read_text()) if cache.exists() else {}
    todo = [case for case in cases if _key(case) not in verdicts]
    if not todo:
        return verdicts
    with tempfile.TemporaryDirectory() as folder:
        names = []
        for n, case in enumerate(todo):
            path = Path(folder) / f"{n:05d}.dcm"
            _document(*case).save_as(path, enforce_file_format=True)
            names.append(str(path))
        for start in range(0, len(names), 500):
            chunk = names[start : start + 500]
            proc = subprocess.run([exe, *chunk], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            failed = {
                line.rsplit("parsing file: ", 1)[1].strip()
                for line in proc.stdout.splitlines()
                if line.startswith("F:") and "parsing file: " in line
            }
            for name in chunk:
                verdicts[_key(todo[int(Path(name).stem)])] = name not in failed
    cache.write_text(json.dumps(verdicts))
    return verdicts


def _key(case: tuple[str, str, str, str]) -> str:
    return "|".join(case)


# Where dcmtk and PS3.3 A.35 differ, settled against the standard (tests/MUTATION.md, "SR relationship
# table"). The 25 differences measured with dcmtk 3.6.7 before: 21 PNAME HAS PROPERTIES <literal> triples in
# Basic Text, Enhanced and Comprehensive SR (CP-1076 added that row to Tables A.35.1-2, A.35.2-2 and A.35.3-2 in
# 2011: our tables were wrong, fixed) and CONTAINER HAS OBS CONTEXT CONTAINER (CP-2084, 2021, "Allow CONTAINER
# HAS OBS CONTEXT children of CONTAINERS"; Table A.35.3-2 of PS3.3 2024e has the row "CONTAINER | HAS OBS
# CONTEXT | CONTAINER"): our Basic Text, Enhanced, Comprehensive and Key Object Selection tables lacked it
# (fixed). What is left is dcmtk's: before 3.6.9 its CP-2084 rows for Comprehensive and Comprehensive 3D SR were
# never reached (DCMTK commit df2b025d5, 2024-01-25: "The new code lines introduced with commit 24ebf482c have
# never been run due to the way the if-conditions were implemented"), so dsrdump < 3.6.9 refuses what
# Tables A.35.3-2 and A.35.13-2 allow.
DCMTK_BEFORE_3_6_9 = {
    ("Comprehensive SR", "CONTAINER", "HAS OBS CONTEXT", "CONTAINER"),
    ("Comprehensive 3D SR", "CONTAINER", "HAS OBS CONTEXT", "CONTAINER"),
}


def known_differences(version_text: str) -> set[tuple[str, str, str, str]]:
    """The differences expected from the dsrdump whose ``--version`` printed ``version_text``."""
    found = re.search(r"v(\d+)\.(\d+)\.(\d+)", version_text)
    assert found, f"no version in dsrdump --version: {version_text!r}"
    return set(DCMTK_BEFORE_3_6_9) if tuple(map(int, found.groups())) < (3, 6, 9) else set()


def _item(value_type: str, relationship: str | None) -> Dataset:
    item = Dataset()
    if relationship:
        item.RelationshipType = relationship
    item.ValueType = value_type
    return item


def _tree(iod: str, source: str, relationship: str, target: str) -> Dataset:
    """The content tree of :func:`_document` with only what the relationship rules read (value types,
    relationship types, the root's concept name): built fast, as the check runs once per case."""
    root = _item("CONTAINER", None)
    root.ConceptNameCodeSequence = [_code("1", "Report")]
    parent = root if source == "CONTAINER" else _item(source, "CONTAINS")
    if parent is not root:
        root.ContentSequence = [parent]
    child = _item(target, relationship)
    if target == "SCOORD":
        child.ContentSequence = [_item("IMAGE", "SELECTED FROM")]
    parent.ContentSequence = [child]
    return root


def _ours(case: tuple[str, str, str, str]) -> bool:
    """Our rules accept the document of ``case`` (how many SELECTED FROM a SCOORD has is checked by
    tests/test_survivors.py, not here)."""
    return not [m for m in tree_violations(RULES[case[0]], _tree(*case)) if "exactly one SELECTED FROM" not in m]


def test_fast_tree_is_the_documents_tree():
    """What the rules see of the light tree and of the full document is the same."""
    from dcmspec_compiler.iods.sr.relationships import tree_facts

    for case in [
        ("Comprehensive SR", "NUM", "INFERRED FROM", "SCOORD"),
        ("Enhanced SR", "CONTAINER", "HAS OBS CONTEXT", "PNAME"),
    ]:
        full, light = tree_facts(_document(*case)), tree_facts(_tree(*case))
        assert (full.root_is_container, full.root_has_name) == (light.root_is_container, light.root_has_name)
        assert [(e.source, e.relationship, e.target, e.path, e.selected_from) for e in full.edges] == [
            (e.source, e.relationship, e.target, e.path, e.selected_from) for e in light.edges
        ]


def test_known_differences_follow_the_dcmtk_version():
    assert known_differences("$dcmtk: dsrdump v3.6.7 2022-04-22 $") == DCMTK_BEFORE_3_6_9
    assert known_differences("$dcmtk: dsrdump v3.6.8 2023-12-19 $") == DCMTK_BEFORE_3_6_9
    assert known_differences("$dcmtk: dsrdump v3.6.9 2024-12-11 $") == set()


def test_rows_the_standard_added_after_the_first_tables():
    """CP-1076 (PNAME HAS PROPERTIES <literal>, Tables A.35.1-2, A.35.2-2, A.35.3-2, A.35.13-2) and CP-2084
    (CONTAINER HAS OBS CONTEXT CONTAINER, every table with a CONTAINER HAS OBS CONTEXT row), by hand."""
    for iod in ("Basic Text SR", "Enhanced SR", "Comprehensive SR", "Comprehensive 3D SR"):
        for target in ("TEXT", "CODE", "DATETIME", "DATE", "TIME", "UIDREF", "PNAME"):
            assert RULES[iod].allows("PNAME", "HAS PROPERTIES", target), (iod, target)
        assert not RULES[iod].allows("PNAME", "HAS PROPERTIES", "COMPOSITE"), iod
    for iod in SOP_CLASSES:
        assert RULES[iod].allows("CONTAINER", "HAS OBS CONTEXT", "CONTAINER"), iod
        assert _ours((iod, "CONTAINER", "HAS OBS CONTEXT", "CONTAINER")), iod


def test_relationship_rules_agree_with_dcmtk():
    probes = _probes()
    allowed = _dcmtk_verdicts(probes)
    cases = _cases(allowed)
    assert len(cases) > 1500
    verdicts = _dcmtk_verdicts(cases)
    disagree = {case for case in probes + cases if _ours(case) != verdicts[_key(case)]}
    # the rules' own query agrees too, wherever both value types are allowed in the IOD
    assert {
        case
        for case in cases
        if case[3] in RULES[case[0]].value_types and RULES[case[0]].allows(*case[1:]) != verdicts[_key(case)]
    } <= disagree
    exe = require_tool("dsrdump", DCMTK_INSTALL)
    known = known_differences(subprocess.run([exe, "--version"], capture_output=True, text=True).stdout)
    unexpected = sorted(disagree - known)
    assert not unexpected, f"{len(unexpected)} disagreements with dcmtk:\n" + "\n".join(map(str, unexpected[:40]))
    assert disagree == known, f"no longer different: {sorted(known - disagree)}"
