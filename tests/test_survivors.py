"""Tests that kill the mutants an outside review planted and our suite let live (issue 13).

Each test states its independent oracle: positions and matrices computed by hand from the standard's
definitions, pydicom's and highdicom's RLE decoders, the relationship tables of PS3.3 A.35 read by hand,
and the UID rules of PS3.5 9.1 / B.2. tests/MUTATION.md lists which mutant each one kills.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.uid import RLELossless

from dcmspec_compiler.errors import InputError
from dcmspec_compiler.iods.common.uid import UIDFactory, derive_uid, is_valid_uid, random_uid
from dcmspec_compiler.iods.sr.relationships import COMPREHENSIVE, COMPREHENSIVE_3D, ENHANCED, RULES, tree_violations
from dcmspec_compiler.resolve.masks import load_mask
from dcmspec_compiler.resolve.source_headers import read_source_headers
from dcmspec_compiler.resolve.source_series import resolve_single_series
from dcmspec_compiler.testing.phantom import Grid, write_ct_series

# --- slice order along the normal: sagittal and coronal series ----------------------------------------

# (orientation, the axis the slices step along, and the slice normal row x column worked out by hand:
#  sagittal rows run anterior->posterior (+y), columns head->foot (-z): (0,1,0) x (0,0,-1) = (-1,0,0);
#  coronal rows run right->left (+x), columns head->foot (-z): (1,0,0) x (0,0,-1) = (0,1,0))
PLANES = {
    "sagittal": ([0, 1, 0, 0, 0, -1], 0),
    "coronal": ([1, 0, 0, 0, 0, -1], 1),
}
# Instance Numbers deliberately out of step with the geometry (and files written in that order)
INSTANCE_NUMBERS = [3, 5, 1, 4, 2]


def _write_plane_series(folder: Path, plane: str) -> list[Path]:
    """A 5-slice CT series made as the phantom is made (write_ct_series), then turned into a sagittal or
    coronal stack: slice k sits at 3*k mm along its stepping axis, Instance Numbers shuffled."""
    orientation, axis = PLANES[plane]
    paths = write_ct_series(
        folder, Grid(shape=(5, 6, 7), spacing=(3.0, 0.5, 0.5), origin=(-9.0, 4.0, 20.0)), seed=f"dcmspec-{plane}"
    )
    for k, path in enumerate(paths):
        ds = pydicom.dcmread(path)
        position = [-9.0, 4.0, 20.0]
        position[axis] = -6.0 + 3.0 * k
        ds.ImagePositionPatient = position
        ds.ImageOrientationPatient = orientation
        ds.ImageType = ["ORIGINAL", "PRIMARY", "OTHER"]
        ds.InstanceNumber = INSTANCE_NUMBERS[k]
        del ds.SliceLocation
        ds.save_as(path, enforce_file_format=True)
    return paths


@pytest.mark.parametrize(
    "plane, expected",
    [
        # sagittal normal (-1,0,0): ascending -x, i.e. x from +6 down to -6; y and z stay put
        ("sagittal", [[6.0, 4.0, 20.0], [3.0, 4.0, 20.0], [0.0, 4.0, 20.0], [-3.0, 4.0, 20.0], [-6.0, 4.0, 20.0]]),
        # coronal normal (0,1,0): ascending y, from -6 to +6
        ("coronal", [[-9.0, -6.0, 20.0], [-9.0, -3.0, 20.0], [-9.0, 0.0, 20.0], [-9.0, 3.0, 20.0], [-9.0, 6.0, 20.0]]),
    ],
)
def test_sagittal_and_coronal_series_are_ordered_along_the_slice_normal(tmp_path, plane, expected):
    paths = _write_plane_series(tmp_path / plane, plane)
    series = resolve_single_series(read_source_headers(reversed(paths)))
    assert [list(f.image_position) for f in series.frames] == expected
    assert series.slice_spacing() == pytest.approx(3.0)
    assert series.is_volume() and series.warnings == []


# --- NRRD spaces -----------------------------------------------------------------------------------------

# The 3x3 matrix taking coordinates of each NRRD space (teem's nrrd format, "space") to DICOM LPS
# (PS3.3 C.7.6.2.1.1: +x to the patient's left, +y posterior, +z head), written out axis by axis.
NRRD_TO_LPS = {
    "left-posterior-superior": [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
    "LPS": [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
    "right-anterior-superior": [[-1, 0, 0], [0, -1, 0], [0, 0, 1]],
    "RAS": [[-1, 0, 0], [0, -1, 0], [0, 0, 1]],
    "left-anterior-superior": [[1, 0, 0], [0, -1, 0], [0, 0, 1]],
    "LAS": [[1, 0, 0], [0, -1, 0], [0, 0, 1]],
    "3D-right-handed": [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
}
# Spaces with no fixed relation to the patient, or with a time axis: refused with a hint.
NRRD_REFUSED = [
    "3D-left-handed",
    "scanner-xyz",
    "right-anterior-superior-time",
    "RAST",
    "left-anterior-superior-time",
    "LAST",
    "left-posterior-superior-time",
    "LPST",
    "scanner-xyz-time",
    "3D-right-handed-time",
    "3D-left-handed-time",
]


def _write_nrrd(path: Path, space: str, data: np.ndarray) -> None:
    """A detached-free NRRD written by hand (NRRD0004, raw): axes in file order column, row, slice with
    space directions (2,0,0), (0,3,0), (0,0,5) and space origin (10,20,30)."""
    sizes = " ".join(str(n) for n in data.shape[::-1])
    header = (
        f"NRRD0004\ntype: uint8\ndimension: 3\nspace: {space}\nsizes: {sizes}\n"
        "space directions: (2,0,0) (0,3,0) (0,0,5)\nkinds: domain domain domain\nendian: little\n"
        "encoding: raw\nspace origin: (10,20,30)\n\n"
    )
    path.write_bytes(header.encode("ascii") + np.ascontiguousarray(data, np.uint8).tobytes())


@pytest.mark.parametrize("space", sorted(NRRD_TO_LPS))
def test_every_nrrd_space_maps_to_lps(tmp_path, space):
    data = np.zeros((2, 3, 4), np.uint8)  # (slice, row, column) in C order
    data[1, 2, 3] = 1
    _write_nrrd(tmp_path / "m.nrrd", space, data)
    mask = load_mask(tmp_path / "m.nrrd")
    m = np.array(NRRD_TO_LPS[space], dtype=float)
    # voxel (slice 1, row 2, column 3) sits at origin + 3*(2,0,0) + 2*(0,3,0) + 1*(0,0,5) in the NRRD space
    where_nrrd = np.array([10 + 3 * 2, 20 + 2 * 3, 30 + 1 * 5], dtype=float)
    k, r, c = np.argwhere(np.asarray(mask.array) > 0)[0][:3]
    lps = mask.affine @ np.array([k, r, c, 1.0])
    np.testing.assert_allclose(lps[:3], m @ where_nrrd)
    np.testing.assert_allclose(mask.affine[:3, 3], m @ [10, 20, 30])


@pytest.mark.parametrize("space", NRRD_REFUSED)
def test_nrrd_spaces_without_a_patient_frame_are_refused(tmp_path, space):
    _write_nrrd(tmp_path / "m.nrrd", space, np.zeros((2, 3, 4), np.uint8))
    with pytest.raises(InputError) as err:
        load_mask(tmp_path / "m.nrrd")
    assert "space" in str(err.value) and err.value.hint


# --- 16-bit RLE label maps, decoded by others ------------------------------------------------------------


def _labelmap_16bit(tmp_path: Path, transfer_syntax_uid: str) -> tuple[Path, np.ndarray, list[Dataset]]:
    """A LABELMAP with 513 segments (so 16-bit pixels) over a tiny axial series, with labels whose high
    and low bytes differ (258 = 0x0102, 513 = 0x0201): a byte-plane swap changes every one of them."""
    from test_seg_builder import build, tiny_ct_series  # the suite's small CT series and builder

    sources = tiny_ct_series(3, 6, 9)
    lab = np.zeros((3, 6, 9), np.uint16)
    lab[0, 1:3, 2:6] = 258
    lab[1, 4:, :4] = 513
    lab[1, 0, 8] = 1
    lab[2, 2, 2:9] = 300
    lab[2, 5, 0] = 256
    seg = build(sources, lab, "LABELMAP", n_segments=513, transfer_syntax_uid=transfer_syntax_uid)
    assert int(seg.BitsAllocated) == 16
    path = tmp_path / "labelmap16.dcm"
    seg.save_as(path, enforce_file_format=True)
    return path, lab, sources


def test_16bit_rle_labelmap_decoded_by_pydicom_rle_handler(tmp_path):
    path, lab, _ = _labelmap_16bit(tmp_path, RLELossless)
    ds = pydicom.dcmread(path)
    assert ds.file_meta.TransferSyntaxUID == RLELossless
    # pydicom's own RLE decoder (pydicom.pixels.decoders.rle), not ours
    np.testing.assert_array_equal(ds.pixel_array.reshape(lab.shape), lab)


def test_16bit_rle_labelmap_decoded_by_highdicom(tmp_path):
    hd = pytest.importorskip("highdicom")
    path, lab, sources = _labelmap_16bit(tmp_path, RLELossless)
    h = hd.seg.segread(path)
    for k, ds in enumerate(sources):
        got = h.get_pixels_by_source_instance([ds.SOPInstanceUID], combine_segments=True, skip_overlap_checks=True)
        np.testing.assert_array_equal(got[0], lab[k])


# --- SR relationship rules: one failing document per rule ------------------------------------------------


def _item(value_type: str, relationship: str | None = None, meaning: str = "x", **values) -> Dataset:
    ds = Dataset()
    if relationship:
        ds.RelationshipType = relationship
    ds.ValueType = value_type
    ds.ConceptNameCodeSequence = [Dataset()]
    ds.ConceptNameCodeSequence[0].CodeValue = "1"
    ds.ConceptNameCodeSequence[0].CodingSchemeDesignator = "99X"
    ds.ConceptNameCodeSequence[0].CodeMeaning = meaning
    for key, value in values.items():
        setattr(ds, key, value)
    return ds


def _image(relationship: str) -> Dataset:
    item = _item("IMAGE", relationship)
    ref = Dataset()
    ref.ReferencedSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    ref.ReferencedSOPInstanceUID = "1.2.3.4"
    item.ReferencedSOPSequence = [ref]
    return item


def _scoord(n_images: int) -> Dataset:
    scoord = _item("SCOORD", "INFERRED FROM", GraphicType="POINT", GraphicData=[1.0, 2.0])
    scoord.ContentSequence = [_image("SELECTED FROM") for _ in range(n_images)]
    return scoord


def _report(*children: Dataset) -> Dataset:
    root = _item("CONTAINER", meaning="Report", ContinuityOfContent="SEPARATE")
    root.ContentSequence = list(children)
    return root


def _num_with(*children: Dataset) -> Dataset:
    num = _item("NUM", "CONTAINS")
    num.ContentSequence = list(children)
    return num


def _by_reference(relationship: str, identifier: list[int]) -> Dataset:
    ds = Dataset()
    ds.RelationshipType = relationship
    ds.ReferencedContentItemIdentifier = identifier
    return ds


@pytest.mark.parametrize("rules", [ENHANCED, COMPREHENSIVE, COMPREHENSIVE_3D], ids=lambda r: r.iod)
def test_scoord_needs_exactly_one_selected_from_image(rules):
    """PS3.3 C.18.6.1: a SCOORD is the source of exactly one SELECTED FROM relationship to an IMAGE."""
    assert list(tree_violations(rules, _report(_num_with(_scoord(1))))) == []
    for n in (0, 2):
        messages = list(tree_violations(rules, _report(_num_with(_scoord(n)))))
        assert len(messages) == 1 and "exactly one SELECTED FROM" in messages[0] and f"has {n}" in messages[0]


def test_by_reference_relationships_follow_the_iod():
    """PS3.3 A.35.2-2 (Enhanced SR) allows no by-reference relationships; A.35.3-2 (Comprehensive SR) does,
    except HAS CONCEPT MOD and CONTAINS CONTAINER, which are by-value only (A.35.3.3.1.2 notes)."""
    # NUM (item 1.1) INFERRED FROM by reference the IMAGE at 1.2: allowed in Comprehensive SR only
    doc = _report(_num_with(_by_reference("INFERRED FROM", [1, 2])), _image("CONTAINS"))
    assert list(tree_violations(COMPREHENSIVE, doc)) == []
    assert list(tree_violations(COMPREHENSIVE_3D, doc)) == []
    for rules in (ENHANCED, RULES["Basic Text SR"], RULES["Key Object Selection Document"]):
        messages = [m for m in tree_violations(rules, doc) if "value type NUM" not in m]
        assert len(messages) == 1 and "does not allow by-reference" in messages[0] and "1.1.1" in messages[0]

    # HAS CONCEPT MOD by reference to a CODE: by-value only
    code = _item("CODE", "CONTAINS")
    code.ConceptCodeSequence = [code.ConceptNameCodeSequence[0]]
    doc = _report(_num_with(_by_reference("HAS CONCEPT MOD", [1, 2])), code)
    messages = list(tree_violations(COMPREHENSIVE, doc))
    assert len(messages) == 1 and "HAS CONCEPT MOD CODE may only be by-value" in messages[0]

    # CONTAINS by reference to a CONTAINER: by-value only
    inner = _item("CONTAINER", "CONTAINS", ContinuityOfContent="SEPARATE")
    doc = _report(inner, _by_reference("CONTAINS", [1, 1]))
    messages = list(tree_violations(COMPREHENSIVE, doc))
    assert len(messages) == 1 and "CONTAINS CONTAINER may only be by-value" in messages[0]

    # an identifier that addresses no item, and one that does not start at the root
    for identifier in ([1, 7], [2, 1]):
        doc = _report(_num_with(_by_reference("INFERRED FROM", identifier)), _image("CONTAINS"))
        messages = list(tree_violations(COMPREHENSIVE, doc))
        assert len(messages) == 1 and "does not address an item" in messages[0]

    # by reference, the addressed item's value type must still fit the table: NUM INFERRED FROM CONTAINER is
    # allowed in Comprehensive SR, NUM HAS OBS CONTEXT IMAGE is not
    doc = _report(_num_with(_by_reference("HAS OBS CONTEXT", [1, 2])), _image("CONTAINS"))
    messages = list(tree_violations(COMPREHENSIVE, doc))
    assert len(messages) == 1 and "NUM" in messages[0] and "HAS OBS CONTEXT IMAGE" in messages[0]


# --- derived UIDs ----------------------------------------------------------------------------------------


def _assert_uuid_form(uid: str) -> None:
    """PS3.5 B.2: "2.25." then the decimal form of a 128-bit unsigned integer, no leading zeros;
    PS3.5 9.1: at most 64 characters."""
    assert uid.startswith("2.25.") and len(uid) <= 64 and is_valid_uid(uid)
    digits = uid[5:]
    assert digits.isdigit() and (digits == "0" or not digits.startswith("0"))
    assert int(digits) < 2**128


def test_derived_uids_have_the_uuid_form_and_use_all_128_bits():
    uids = [derive_uid("series", i) for i in range(2000)]
    for uid in uids:
        _assert_uuid_form(uid)
    assert len(set(uids)) == len(uids)  # 2000 values: a 16- or 32-bit cut would collide (birthday bound)
    values = [int(u[5:]) for u in uids]
    # uniform over 128 bits: the largest of 2000 is above 2**127 with probability 1 - 2**-2000
    assert max(values) > 2**127
    assert sum(v > 2**64 for v in values) > 1990  # a 64-bit cut would put them all below
    _assert_uuid_form(random_uid())
    _assert_uuid_form(UIDFactory(mode="random").uid("x"))


def test_derived_uid_changes_when_any_input_changes():
    base = derive_uid("study", "spec.yaml", 3)
    assert derive_uid("study", "spec.yaml", 3) == base  # same parts, same UID
    variants = [
        derive_uid("study", "spec.yaml", 4),
        derive_uid("Study", "spec.yaml", 3),
        derive_uid("study", "spec.yml", 3),
        derive_uid("study", "spec.yaml"),
        derive_uid("study", "spec.yaml", 3, ""),
        derive_uid("studyspec.yaml", 3),  # parts are separated: joining them must not collide
        derive_uid("study", "spec.yaml3"),
        derive_uid("stud", "yspec.yaml", 3),
        derive_uid("study", "spec.yaml", 3, root="1.2.826.0.1.3680043.10.9"),
        UIDFactory(salt="other").uid("study", "spec.yaml", 3),
    ]
    assert base not in variants and len(set(variants)) == len(variants)
    assert UIDFactory().uid("study", "spec.yaml", 3) == derive_uid("", "study", "spec.yaml", 3)


def test_derived_uid_under_a_long_root_stays_within_64_characters():
    root = "1.2.826.0.1.3680043.10.9.123456789.1234"  # 39 characters: the longest root allowed
    for i in range(200):
        uid = derive_uid("x", i, root=root)
        assert uid.startswith(root + ".") and len(uid) <= 64 and is_valid_uid(uid)
    assert len({derive_uid("x", i, root=root) for i in range(200)}) == 200
    with pytest.raises(ValueError):
        derive_uid("x", root=root + "1")  # 40 characters: refused


def test_uid_validity_follows_ps3_5_9_1():
    """PS3.5 9.1: digits and dots, components without leading zeros, 1 to 64 characters."""
    assert is_valid_uid("1") and is_valid_uid("0.0") and is_valid_uid("1.20.300")
    assert is_valid_uid("1." + "2" * 62) and not is_valid_uid("1." + "2" * 63)  # 64 and 65 characters
    for bad in ("", "01.2", "1.02", "1..2", "1.2.", ".1", "1.a", " 1.2", None, 1.2):
        assert not is_valid_uid(bad), bad


def test_uid_roots_are_checked():
    for bad in ("1.02", "01.2", "1..2", "1.2.3" + ".4" * 20):
        with pytest.raises(ValueError, match="is not a valid UID prefix of at most 39 characters") as err:
            derive_uid("x", root=bad)
        assert str(err.value).startswith(f"UID root {bad.rstrip('.')!r} is not")
    assert derive_uid("x", root="1.2.3.").startswith("1.2.3.") and derive_uid("x", root="1.2.3").startswith("1.2.3.")


def test_derived_uid_is_the_documented_digest():
    """The derivation is part of the output contract (same spec, same UIDs, across versions): ``2.25.`` +
    the decimal of the first 128 bits of SHA-256 over the parts joined by U+001F (iods/common/uid.py)."""
    import hashlib

    digest = hashlib.sha256(b"series\x1fspec.yaml\x1f3").digest()
    assert derive_uid("series", "spec.yaml", 3) == "2.25." + str(int.from_bytes(digest[:16], "big"))


def test_uid_factory_modes():
    derived = UIDFactory()
    assert derived.uid("a", 1) == derived.uid("a", 1) == UIDFactory().uid("a", 1)
    fresh = UIDFactory(mode="random")
    uids = {fresh.uid("a", 1) for _ in range(50)}
    assert len(uids) == 50  # a fresh UID per call, whatever the parts


@pytest.mark.parametrize(
    "iod, table",
    [
        ("Basic Text SR", "A.35.1-2"),
        ("Enhanced SR", "A.35.2-2"),
        ("Comprehensive SR", "A.35.3-2"),
        ("Comprehensive 3D SR", "A.35.13-2"),
        ("Key Object Selection Document", "A.35.4-2"),
    ],
)
def test_relationship_messages_name_the_iod_and_its_table(iod, table):
    """PS3.3 A.35: each SR IOD's Relationship Content Constraints table, named in every message."""
    doc = _report(_item("TCOORD", "CONTAINS", TemporalRangeType="POINT", ReferencedSamplePositions=[1]))
    rules = RULES[iod]
    messages = list(tree_violations(rules, doc))
    if "TCOORD" in rules.value_types:  # allowed type: TCOORD needs a SELECTED FROM, so try a forbidden edge
        messages = list(tree_violations(rules, _report(_num_with(_item("CONTAINER", "HAS CONCEPT MOD")))))
    assert messages and all(f"PS3.3 {table}" in m for m in messages), messages
    assert all(iod in m for m in messages if "does not allow" in m)


def test_relationship_messages_name_the_item_by_its_concept_name():
    doc = _report(_num_with())
    assert list(tree_violations(RULES["Basic Text SR"], doc)) == [
        "Basic Text SR does not allow value type NUM (PS3.3 A.35.1-2); item 1.1 'x' is one"
    ]
    unnamed = _item("NUM", "CONTAINS")
    del unnamed.ConceptNameCodeSequence[0].CodeMeaning  # a concept name without meaning: shown as ''
    assert list(tree_violations(RULES["Basic Text SR"], _report(unnamed))) == [
        "Basic Text SR does not allow value type NUM (PS3.3 A.35.1-2); item 1.1 '' is one"
    ]
    del unnamed.ConceptNameCodeSequence  # no concept name: nothing shown
    assert list(tree_violations(RULES["Basic Text SR"], _report(unnamed))) == [
        "Basic Text SR does not allow value type NUM (PS3.3 A.35.1-2); item 1.1 is one"
    ]


def test_relationship_rules_on_a_document_read_from_a_file(tmp_path):
    """pydicom leaves elements of a read file raw until used: the rules must decode them as keyword access
    does, so a file gives the same verdicts as the dataset it was written from."""
    from pydicom import dcmread
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian

    for doc, expected in ((_report(_num_with(_scoord(1))), 0), (_report(_num_with(_scoord(2))), 1)):
        doc.file_meta = FileMetaDataset()
        doc.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        doc.save_as(tmp_path / "sr.dcm", enforce_file_format=False)
        back = dcmread(tmp_path / "sr.dcm", force=True)
        assert list(tree_violations(COMPREHENSIVE, back)) == list(tree_violations(COMPREHENSIVE, doc))
        assert len(list(tree_violations(COMPREHENSIVE, back))) == expected
