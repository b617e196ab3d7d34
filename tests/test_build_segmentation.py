"""Segmentation specs end to end: examples, dcmqi's inputs against dcmqi's own SEGs, sources of every
shape, mask formats, reproducibility. Conformance by dciodvfy; content by highdicom (test oracle)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pydicom
import pytest
import yaml

from dcmspec_compiler.assemble.context import BuildOptions
from dcmspec_compiler.pipeline import build_specs, collect_spec_files

from conftest import ROOT, dciodvfy_findings, shared

hd = pytest.importorskip("highdicom")

EXAMPLES = ROOT / "specs_examples"


def build(specs: list[Path], out: Path, **options) -> dict:
    result = build_specs(specs, out, options=BuildOptions(**options))
    assert not result.errors, "\n".join(e.format() for e in result.errors)
    return json.loads((out / "dcmspec-manifest.json").read_text())


def assert_conformant(path: Path) -> None:
    errors, _warnings = dciodvfy_findings(path)
    assert errors == [], "\n".join(errors)


def per_instance(seg_path: Path, source_uids: list[str], numbers: list[int], *, reference: bool = False) -> np.ndarray:
    """(instances, rows, cols, segments) from highdicom, for source instances in the given order.

    dcmqi's SEGs do not state Spatial Locations Preserved, which highdicom then asks to be told to
    ignore (``reference=True``); ours state it, so they are read strictly.
    """
    seg = hd.seg.segread(seg_path)
    return seg.get_pixels_by_source_instance(
        source_sop_instance_uids=source_uids,
        segment_numbers=numbers,
        skip_overlap_checks=True,
        assert_missing_frames_are_empty=True,
        ignore_spatial_locations=reference,
    )


def sorted_series(folder: Path) -> list[pydicom.Dataset]:
    headers = [pydicom.dcmread(p, stop_before_pixels=True) for p in sorted(folder.iterdir())]
    return sorted(headers, key=lambda ds: float(ds.ImagePositionPatient[2]))


# --- the example specs shipped with the project -----------------------------------------------


@pytest.fixture(scope="module")
def examples_out(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("examples")
    return out, build(collect_spec_files([EXAMPLES]), out)


def test_every_example_builds_and_passes_dciodvfy(examples_out):
    out, manifest = examples_out
    specs = {Path(e["spec"]).name for e in manifest["objects"]}
    assert specs == {p.name for p in collect_spec_files([EXAMPLES])}
    for entry in manifest["objects"]:
        assert_conformant(out / entry["file"])


def test_examples_read_back_with_the_same_pixels(examples_out):
    out, _ = examples_out
    labels = np.load(EXAMPLES / "phantom" / "organs_labelmap.npy")
    uids = [ds.SOPInstanceUID for ds in sorted_series(EXAMPLES / "phantom" / "ct")]
    binary = per_instance(out / "organs-binary.dcm", uids, [1, 2, 3])
    for n in (1, 2, 3):
        assert np.array_equal(binary[..., n - 1], labels == n)
    # organs.json renumbers: Liver = value 1, Kidney = value 3, Spleen = value 2.
    renumbered = per_instance(out / "organs-json.dcm", uids, [1, 2, 3])
    for number, value in ((1, 1), (2, 3), (3, 2)):
        assert np.array_equal(renumbered[..., number - 1], labels == value)
    labelmap = hd.seg.segread(out / "organs-labelmap.dcm")
    assert labelmap.SOPClassUID == "1.2.840.10008.5.1.4.1.1.66.7"
    assert labelmap.file_meta.TransferSyntaxUID == pydicom.uid.RLELossless
    pixels = labelmap.get_pixels_by_source_instance(source_sop_instance_uids=uids, combine_segments=True)
    assert np.array_equal(pixels, labels)
    probability = np.load(EXAMPLES / "phantom" / "lesion_probability.npy")
    fractional = hd.seg.segread(out / "lesion-probability.dcm")
    got = fractional.get_pixels_by_source_instance(
        source_sop_instance_uids=uids, segment_numbers=[1], rescale_fractional=False
    )[..., 0]
    assert np.array_equal(got, np.round(probability * 255).astype(np.uint8))


def test_builds_are_byte_identical(tmp_path, examples_out):
    out, manifest = examples_out
    again = build(collect_spec_files([EXAMPLES]), tmp_path / "again")
    for first, second in zip(manifest["objects"], again["objects"]):
        assert first["sha256"] == second["sha256"], first["file"]
        assert (out / first["file"]).read_bytes() == (tmp_path / "again" / second["file"]).read_bytes()


def test_fresh_uids_and_uid_root(tmp_path):
    spec = EXAMPLES / "organs-binary.yaml"
    a = build([spec], tmp_path / "a", fresh_uids=True)["objects"][0]
    b = build([spec], tmp_path / "b", fresh_uids=True)["objects"][0]
    assert a["sop_instance_uid"] != b["sop_instance_uid"]
    c = build([spec], tmp_path / "c", uid_root="1.2.826.0.1.3680043.10.999")["objects"][0]
    assert c["sop_instance_uid"].startswith("1.2.826.0.1.3680043.10.999.")
    assert c["series_instance_uid"].startswith("1.2.826.0.1.3680043.10.999.")


def test_source_date_epoch_sets_content_date(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    build([EXAMPLES / "organs-binary.yaml"], tmp_path)
    ds = pydicom.dcmread(tmp_path / "organs-binary.dcm", stop_before_pixels=True)
    assert (ds.ContentDate, ds.ContentTime) == ("20231114", "221320")
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    build([EXAMPLES / "organs-binary.yaml"], tmp_path / "b")
    ds = pydicom.dcmread(tmp_path / "b" / "organs-binary.dcm", stop_before_pixels=True)
    assert (ds.ContentDate, ds.ContentTime) == ("20240102", "093000")  # the source study's


# --- dcmqi's inputs compile to what dcmqi made ------------------------------------------------


def _code(entry: dict) -> dict:
    return {"scheme": entry["CodingSchemeDesignator"], "value": entry["CodeValue"], "meaning": entry["CodeMeaning"]}


def dcmqi_spec(tmp_path: Path, meta_json: Path, masks: list[Path], images: Path, seg_type: str = "BINARY") -> Path:
    """Translate a dcmqi metadata JSON (segmentAttributes per input file, by labelID) into our spec."""
    meta = json.loads(meta_json.read_text())
    segments = []
    for mask, attributes in zip(masks, meta["segmentAttributes"]):
        for attr in attributes:
            seg = {
                "label": attr.get("SegmentLabel", f"label {attr['labelID']}"),
                "category": _code(attr["SegmentedPropertyCategoryCodeSequence"]),
                "type": _code(attr["SegmentedPropertyTypeCodeSequence"]),
                "algorithm": {"type": attr.get("SegmentAlgorithmType", "MANUAL")},
                "_order": attr["labelID"],
            }
            if seg["algorithm"]["type"] != "MANUAL":
                seg["algorithm"].update(name=attr.get("SegmentAlgorithmName", "unknown"), version="1")
            if seg_type != "LABELMAP":
                seg.update(mask=str(mask), label_value=attr["labelID"])
            if "recommendedDisplayRGBValue" in attr:
                seg["color"] = attr["recommendedDisplayRGBValue"]
            segments.append(seg)
    segments.sort(key=lambda s: s.pop("_order"))
    spec = {
        "dcmspec": 1,
        "kind": "Segmentation",
        "sources": {"images": str(images)},
        "segmentation": {"type": seg_type},
        "segments": segments,
        "series": {"number": int(meta.get("SeriesNumber", 300))},
    }
    if seg_type == "LABELMAP":
        spec["segmentation"]["mask"] = str(masks[0])
    path = tmp_path / (meta_json.stem + ".yaml")
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


@pytest.mark.parametrize(
    "meta, masks, reference",
    [
        ("seg-example.json", ["liver_seg.nrrd"], "liver.dcm"),
        (
            "seg-example_partial_overlaps.json",
            ["partial_overlaps-1.nrrd", "partial_overlaps-2.nrrd", "partial_overlaps-3.nrrd"],
            "partial_overlaps.dcm",
        ),
    ],
)
def test_dcmqi_ct_3slice_inputs_equal_dcmqi_segs(tmp_path, meta, masks, reference):
    images = shared("series", "ct_dcmqi_ct-3slice")
    inputs = shared("dcmqi_inputs")
    spec = dcmqi_spec(tmp_path, inputs / "json" / meta, [inputs / "nrrd" / m for m in masks], images)
    out = tmp_path / "out"
    manifest = build([spec], out)
    ours = out / manifest["objects"][0]["file"]
    assert_conformant(ours)
    ref = shared("seg", reference)
    n = len(pydicom.dcmread(ref, stop_before_pixels=True).SegmentSequence)
    uids = [ds.SOPInstanceUID for ds in sorted_series(images)]
    expected = per_instance(ref, uids, list(range(1, n + 1)), reference=True)
    got = per_instance(ours, uids, list(range(1, n + 1)))
    assert expected.any() and np.array_equal(got, expected)
    ours_ds, ref_ds = hd.seg.segread(ours), hd.seg.segread(ref)
    assert [s.SegmentLabel for s in ours_ds.SegmentSequence] == [s.SegmentLabel for s in ref_ds.SegmentSequence]


@pytest.mark.parametrize("grid", ["23x38x3", "24x38x3"])
def test_dcmqi_odd_sized_grids(tmp_path, grid):
    images = shared("series", f"ct_dcmqi_{grid}")
    mask = shared("dcmqi_inputs", "nrrd", grid, "label.nrrd")
    spec = dcmqi_spec(tmp_path, shared("dcmqi_inputs", "json", "seg-example.json"), [mask], images)
    manifest = build([spec], tmp_path / "out")
    ours = tmp_path / "out" / manifest["objects"][0]["file"]
    assert_conformant(ours)
    uids = [ds.SOPInstanceUID for ds in sorted_series(images)]
    expected = per_instance(shared("seg", f"dcmqi_{grid}", "label.seg"), uids, [1], reference=True)
    assert expected.any() and np.array_equal(per_instance(ours, uids, [1]), expected)


@pytest.mark.parametrize("reference", ["sparse-labelmap-noppv.dcm", "sparse-labelmap-ppv5.dcm"])
def test_dcmqi_sparse_labelmap(tmp_path, reference):
    images = shared("series", "ct_dcmqi_24x38x3")
    name = reference.replace("sparse-labelmap-", "sparse_labelmap_").replace(".dcm", "_seg.nrrd")
    mask = shared("dcmqi_inputs", "nrrd", name)
    spec = dcmqi_spec(tmp_path, shared("dcmqi_inputs", "json", "seg-example.json"), [mask], images, "LABELMAP")
    manifest = build([spec], tmp_path / "out")
    ours = tmp_path / "out" / manifest["objects"][0]["file"]
    assert_conformant(ours)
    uids = [ds.SOPInstanceUID for ds in sorted_series(images)]
    ref = hd.seg.segread(shared("seg", reference))
    expected = ref.get_pixels_by_source_instance(
        source_sop_instance_uids=uids,
        combine_segments=True,
        ignore_spatial_locations=True,
        assert_missing_frames_are_empty=True,
    )
    got = hd.seg.segread(ours).get_pixels_by_source_instance(
        source_sop_instance_uids=uids, combine_segments=True, assert_missing_frames_are_empty=True
    )
    assert expected.any() and np.array_equal(got, expected)


# --- sources of every shape, mask formats --------------------------------------------------


def simple_spec(tmp_path: Path, images: Path, mask: Path, seg_type="BINARY", **extra) -> Path:
    spec = {
        "dcmspec": 1,
        "kind": "Segmentation",
        "sources": {"images": str(images)},
        "segmentation": {"type": seg_type, "mask": str(mask)},
        "segments": [{"label": "Liver", "category": "AnatomicalStructure", "type": "Liver"}],
        **extra,
    }
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def test_multiframe_source_equals_single_frame_source(tmp_path):
    mask = shared("dcmqi_inputs", "nrrd", "23x38x3", "label.nrrd")
    single = build([simple_spec(tmp_path, shared("series", "ct_dcmqi_23x38x3"), mask)], tmp_path / "single")
    multi_file = shared("enhanced", "dcmqi_23x38x3", "mf.dcm")
    (tmp_path / "m").mkdir()
    multi = build([simple_spec(tmp_path / "m", multi_file, mask)], tmp_path / "multi")
    ours = tmp_path / "multi" / multi["objects"][0]["file"]
    assert_conformant(ours)
    seg = hd.seg.segread(ours)
    mf = pydicom.dcmread(multi_file, stop_before_pixels=True)
    assert {str(s.ReferencedSOPInstanceUID) for s in seg.ReferencedSeriesSequence[0].ReferencedInstanceSequence} == {
        mf.SOPInstanceUID
    }
    frames = int(mf.NumberOfFrames)
    got = seg.get_pixels_by_source_frame(
        source_sop_instance_uid=mf.SOPInstanceUID,
        source_frame_numbers=list(range(1, frames + 1)),
        segment_numbers=[1],
        assert_missing_frames_are_empty=True,
    )[..., 0]
    single_seg = hd.seg.segread(tmp_path / "single" / single["objects"][0]["file"])
    # Frame f of the multi-frame file has the same position as one of the single-frame instances.
    positions = [
        tuple(np.round(g.PlanePositionSequence[0].ImagePositionPatient, 3)) for g in mf.PerFrameFunctionalGroupsSequence
    ]
    by_position = {
        tuple(np.round([float(v) for v in ds.ImagePositionPatient], 3)): ds.SOPInstanceUID
        for ds in sorted_series(shared("series", "ct_dcmqi_23x38x3"))
    }
    expected = single_seg.get_pixels_by_source_instance(
        source_sop_instance_uids=[by_position[p] for p in positions], segment_numbers=[1]
    )[..., 0]
    assert expected.any() and np.array_equal(got, expected)


def test_nifti_mask_with_flipped_axes(tmp_path):
    nib = pytest.importorskip("nibabel")
    labels = np.load(EXAMPLES / "phantom" / "organs_labelmap.npy")
    first = sorted_series(EXAMPLES / "phantom" / "ct")[0]
    sx, sy = (float(v) for v in first.PixelSpacing[::-1])
    ox, oy, oz = (float(v) for v in first.ImagePositionPatient)
    dz = 2.5
    # NIfTI (i, j, k) = (column, row, slice) in RAS; store the rows flipped (j runs posterior->anterior).
    data = np.transpose(labels, (2, 1, 0))[:, ::-1, :]
    rows = labels.shape[1]
    affine = np.array([[-sx, 0, 0, -ox], [0, sy, 0, -(oy + (rows - 1) * sy)], [0, 0, dz, oz], [0, 0, 0, 1]])
    nii = tmp_path / "labels.nii.gz"
    nib.save(nib.Nifti1Image(np.ascontiguousarray(data), affine), nii)
    manifest = build([simple_spec(tmp_path, EXAMPLES / "phantom" / "ct", nii)], tmp_path / "out")
    uids = [ds.SOPInstanceUID for ds in sorted_series(EXAMPLES / "phantom" / "ct")]
    got = per_instance(tmp_path / "out" / manifest["objects"][0]["file"], uids, [1])[..., 0]
    assert np.array_equal(got, labels == 1)


def test_single_frame_2d_source_without_geometry(tmp_path):
    cr = shared("single", "6154")
    mask = np.zeros((1, 16, 16), np.uint8)
    mask[0, 4:9, 3:12] = 1
    np.save(tmp_path / "m.npy", mask)
    manifest = build([simple_spec(tmp_path, cr, tmp_path / "m.npy")], tmp_path / "out")
    ours = tmp_path / "out" / manifest["objects"][0]["file"]
    assert_conformant(ours)
    uid = pydicom.dcmread(cr, stop_before_pixels=True).SOPInstanceUID
    assert np.array_equal(per_instance(ours, [uid], [1])[0, ..., 0], mask[0] == 1)


def test_rle_binary_is_refused_with_a_reason(tmp_path):
    spec = simple_spec(
        tmp_path,
        EXAMPLES / "phantom" / "ct",
        EXAMPLES / "phantom" / "organs_labelmap.npy",
        output={"transfer_syntax": "RLELossless"},
    )
    result = build_specs([spec], tmp_path / "out")
    (error,) = result.errors
    assert "RLE Lossless is not offered for BINARY" in error.message and "LABELMAP" in error.message
    assert error.location.file == str(spec)
    assert not (tmp_path / "out").exists()


def test_rle_fractional_reads_back(tmp_path):
    spec = simple_spec(
        tmp_path,
        EXAMPLES / "phantom" / "ct",
        EXAMPLES / "phantom" / "lesion_probability.npy",
        seg_type="FRACTIONAL",
        output={"transfer_syntax": "RLELossless"},
    )
    manifest = build([spec], tmp_path / "out")
    ours = tmp_path / "out" / manifest["objects"][0]["file"]
    assert_conformant(ours)
    probability = np.load(EXAMPLES / "phantom" / "lesion_probability.npy")
    uids = [ds.SOPInstanceUID for ds in sorted_series(EXAMPLES / "phantom" / "ct")]
    got = hd.seg.segread(ours).get_pixels_by_source_instance(
        source_sop_instance_uids=uids,
        segment_numbers=[1],
        rescale_fractional=False,
        assert_missing_frames_are_empty=True,
    )[..., 0]
    assert np.array_equal(got, np.round(probability * 255).astype(np.uint8))


def test_keep_empty_frames(tmp_path):
    spec = simple_spec(tmp_path, EXAMPLES / "phantom" / "ct", EXAMPLES / "phantom" / "organs_labelmap.npy")
    data = yaml.safe_load(spec.read_text())
    data["segmentation"]["omit_empty_frames"] = False
    spec.write_text(yaml.safe_dump(data))
    manifest = build([spec], tmp_path / "out")
    assert manifest["objects"][0]["frames"] == 16
    assert_conformant(tmp_path / "out" / manifest["objects"][0]["file"])


# --- label maps: one scan of the volume, remapping, warnings ------------------------------------


def _labels_spec(tmp_path: Path, mask: np.ndarray, seg_type: str, segments: list[dict]) -> Path:
    np.save(tmp_path / "labels.npy", mask)
    spec = {
        "dcmspec": 1,
        "kind": "Segmentation",
        "sources": {"images": str(EXAMPLES / "phantom" / "ct")},
        "segmentation": {"type": seg_type, "mask": str(tmp_path / "labels.npy")},
        "segments": [
            {"label": f"S{i + 1}", "category": "AnatomicalStructure", "type": "Liver", **s}
            for i, s in enumerate(segments)
        ],
    }
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


@pytest.mark.parametrize("seg_type", ["BINARY", "LABELMAP"])
@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.float32])
def test_label_values_remapped_with_warnings(tmp_path, seg_type, dtype):
    """Values 1..3 of the phantom become 30, 20, 10 in the mask and segments pick them by label_value;
    value 99 is described by nobody and 50 occurs nowhere: both are warned, the pixels still match."""
    organs = np.load(EXAMPLES / "phantom" / "organs_labelmap.npy")
    mask = np.select([organs == 1, organs == 2, organs == 3], [30, 20, 10], 0).astype(dtype)
    mask[0, :3, :3] = 99
    spec = _labels_spec(tmp_path, mask, seg_type, [{"label_value": 10}, {"label_value": 30}, {"label_value": 50}])
    result = build_specs([spec], tmp_path / "out", options=BuildOptions())
    assert not result.errors
    messages = [w.message for w in result.context.warnings]
    assert any("mask values 20, 99 are not described" in m for m in messages), messages
    assert any("label value 50 does not occur" in m for m in messages), messages
    path = next((tmp_path / "out").glob("*.dcm"))
    assert_conformant(path)
    seg = hd.seg.segread(path)
    uids = [str(ds.SOPInstanceUID) for ds in sorted_series(EXAMPLES / "phantom" / "ct")]
    got = seg.get_pixels_by_source_instance(
        source_sop_instance_uids=uids, segment_numbers=[1, 2], assert_missing_frames_are_empty=True
    )
    np.testing.assert_array_equal(got[..., 0] != 0, organs == 3)
    np.testing.assert_array_equal(got[..., 1] != 0, organs == 1)


def test_manifest_digest_is_of_the_written_file(examples_out):
    import hashlib

    out, manifest = examples_out
    for entry in manifest["objects"]:
        assert hashlib.sha256((out / entry["file"]).read_bytes()).hexdigest() == entry["sha256"]


def test_get_volume_reads_back_the_mask_with_its_affine(examples_out):
    from dcmspec_compiler.iods.seg import segread

    out, _ = examples_out
    labels = np.load(EXAMPLES / "phantom" / "organs_labelmap.npy")
    headers = sorted_series(EXAMPLES / "phantom" / "ct")
    occupied = np.flatnonzero(labels.reshape(len(labels), -1).any(axis=1))
    first, last = occupied[0], occupied[-1]
    for name in ("organs-binary.dcm", "organs-labelmap.dcm"):
        vol = segread(out / name).get_volume()
        assert vol.array.shape == (last - first + 1, 64, 64, 3)
        for n in (1, 2, 3):
            assert np.array_equal(vol.array[..., n - 1], labels[first : last + 1] == n)
        # index (k, r, c) -> patient position of that source pixel
        ds = headers[first + 2]
        expected = (
            np.array([float(v) for v in ds.ImagePositionPatient])
            + 5 * 0.75 * np.array([0, 1, 0])
            + 7 * 0.75 * np.array([1, 0, 0])
        )
        assert np.allclose(vol.index_to_reference(np.array([[2, 5, 7]]))[0], expected)
        assert vol.frame_of_reference_uid == ds.FrameOfReferenceUID
    assert segread(out / "organs-labelmap.dcm").get_volume(combine="labelmap").array.max() == 3


def test_get_volume_refuses_frames_off_the_stack(examples_out, tmp_path):
    from dcmspec_compiler.errors import DicomConformanceError
    from dcmspec_compiler.iods.seg import segread

    out, _ = examples_out
    ds = pydicom.dcmread(out / "organs-binary.dcm")
    ds.PerFrameFunctionalGroupsSequence[3].PlanePositionSequence[0].ImagePositionPatient[0] += 2.0
    ds.save_as(tmp_path / "moved.dcm")
    with pytest.raises(DicomConformanceError, match="frame 4 lies 2 mm off"):
        segread(tmp_path / "moved.dcm").get_volume()


def test_fractional_from_a_4d_nifti_with_one_channel_per_segment(tmp_path):
    nib = pytest.importorskip("nibabel")
    labels = np.load(EXAMPLES / "phantom" / "organs_labelmap.npy")
    prob = np.stack([(labels == 1) * 0.8, (labels == 2) * 0.5], axis=-1).astype(np.float32)
    headers = sorted_series(EXAMPLES / "phantom" / "ct")
    ox, oy, oz = (float(v) for v in headers[0].ImagePositionPatient)
    affine = np.array([[-0.75, 0, 0, -ox], [0, -0.75, 0, -oy], [0, 0, 2.5, oz], [0, 0, 0, 1]])  # RAS
    nib.save(nib.Nifti1Image(np.ascontiguousarray(np.transpose(prob, (2, 1, 0, 3))), affine), tmp_path / "prob.nii.gz")
    spec = {
        "dcmspec": 1,
        "kind": "Segmentation",
        "sources": {"images": str(EXAMPLES / "phantom" / "ct")},
        "segmentation": {"type": "FRACTIONAL", "mask": str(tmp_path / "prob.nii.gz")},
        "segments": [
            {"label": "Liver", "category": "AnatomicalStructure", "type": "Liver"},
            {"label": "Spleen", "category": "AnatomicalStructure", "type": "Spleen"},
        ],
    }
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    manifest = build([tmp_path / "spec.yaml"], tmp_path / "out")
    ours = tmp_path / "out" / manifest["objects"][0]["file"]
    assert_conformant(ours)
    got = hd.seg.segread(ours).get_pixels_by_source_instance(
        source_sop_instance_uids=[h.SOPInstanceUID for h in headers],
        segment_numbers=[1, 2],
        rescale_fractional=False,
        assert_missing_frames_are_empty=True,
    )
    assert np.array_equal(got, np.round(prob * 255).astype(np.uint8))


@pytest.mark.parametrize("size", [0, 1, (1 << 20) - 1, 1 << 20, (1 << 20) + 1, 3 * (1 << 20) + 17])
def test_mask_file_digest_is_the_sha256_of_its_bytes(tmp_path, size):
    """The mask digest (part of the SOP Instance UID) read block by block through one reused buffer equals
    hashlib's SHA-256 of the whole file, on the calling thread and on the background one."""
    import hashlib

    from dcmspec_compiler.assemble.common import file_digest, start_file_digest

    data = np.random.default_rng(size).integers(0, 256, size, dtype=np.uint8).tobytes()
    path = tmp_path / "mask.npy"
    path.write_bytes(data)
    expected = hashlib.sha256(data).hexdigest()
    assert file_digest(path) == expected
    start_file_digest(path)
    assert file_digest(path) == expected
