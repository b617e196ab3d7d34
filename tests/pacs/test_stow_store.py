"""``dcmspec build --stow URL`` / ``--store HOST:PORT:AET`` against a real Orthanc: what is stored is read
back from Orthanc's REST API (independent of our client code) and compared byte for byte."""

from __future__ import annotations

import json
from pathlib import Path

import pydicom

from pacs.specs import dcmspec, write_specs

MANIFEST = "dcmspec-manifest.json"


def manifest(out: Path) -> dict[str, dict]:
    return {e["file"]: e for e in json.loads((out / MANIFEST).read_text())["objects"]}


def dataset_bytes(data: bytes) -> tuple[str, bytes]:
    """(Transfer Syntax UID, the bytes after the File Meta Information) of a DICOM file: a C-STORE
    carries the data set only, and the receiver writes its own meta information."""
    import io

    fh = io.BytesIO(data)
    meta = pydicom.filereader.read_preamble(fh, False) and pydicom.filereader._read_file_meta_info(fh)
    return str(meta.TransferSyntaxUID), data[fh.tell() :]


def test_stow_sends_every_object_and_records_the_answers(fresh_orthanc, tmp_path):
    pacs = fresh_orthanc(load=False)
    out = tmp_path / "out"
    result = dcmspec("build", *write_specs(tmp_path / "specs"), "-o", out, "--stow", pacs.dicomweb)
    assert result.exit_code == 0, result.stderr
    assert f"STOW-RS {pacs.dicomweb}: 4 stored" in result.stderr
    records = manifest(out)
    assert len(records) == 4
    for name, entry in records.items():
        assert entry["stored"] == {
            f"STOW-RS {pacs.dicomweb}": {
                "status": "success",
                "reason": None,
                "message": "stored",
                "sha256": entry["sha256"],
            }
        }
        # Orthanc keeps the file it was sent: the same bytes as the local file
        assert pacs.instance_file(entry["sop_instance_uid"]) == (out / name).read_bytes(), name
    assert pacs.instance_count() == 4

    # A rerun sends nothing again: the manifest says all three are stored with these bytes.
    again = dcmspec("build", *write_specs(tmp_path / "specs"), "-o", out, "--stow", pacs.dicomweb, "--force")
    assert again.exit_code == 0, again.stderr
    assert "0 stored, 4 stored by an earlier run, not sent again" in again.stderr
    # Orthanc's change log: four instances arrived, once each
    assert sum(c["ChangeType"] == "NewInstance" for c in pacs.get_json("/changes?limit=100")["Changes"]) == 4


def test_stow_only_writes_no_dicom_file_but_the_record(fresh_orthanc, tmp_path):
    pacs = fresh_orthanc(load=False)
    out = tmp_path / "out"
    local = tmp_path / "local"
    assert dcmspec("build", *write_specs(tmp_path / "specs"), "-o", local).exit_code == 0
    result = dcmspec("build", *write_specs(tmp_path / "specs"), "-o", out, "--stow", pacs.dicomweb, "--stow-only")
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST]
    for name, entry in manifest(out).items():
        assert entry["written"] is False
        assert entry["stored"][f"STOW-RS {pacs.dicomweb}"]["status"] == "success"
        assert pacs.instance_file(entry["sop_instance_uid"]) == (local / name).read_bytes()
    again = dcmspec("build", *write_specs(tmp_path / "specs"), "-o", out, "--stow", pacs.dicomweb, "--stow-only")
    assert again.exit_code == 0 and "0 stored, 4 stored by an earlier run, not sent again" in again.stderr


def test_c_store_sends_the_data_set_in_the_transfer_syntax_it_was_written_in(fresh_orthanc, tmp_path):
    pacs = fresh_orthanc(load=False)
    out = tmp_path / "out"
    result = dcmspec(
        "build",
        *write_specs(tmp_path / "specs"),
        "-o",
        out,
        "--store",
        f"127.0.0.1:{pacs.dicom_port}:{pacs.aet}",
        "--calling-aet",
        "DCMSPEC_TEST",
    )
    assert result.exit_code == 0, result.stderr
    key = f"C-STORE {pacs.aet}@127.0.0.1:{pacs.dicom_port}"
    assert f"{key}: 4 stored" in result.stderr
    for name, entry in manifest(out).items():
        assert entry["stored"][key]["status"] == "success"
        stored = pacs.instance_file(entry["sop_instance_uid"])
        assert dataset_bytes(stored) == dataset_bytes((out / name).read_bytes()), name
        meta = pydicom.dcmread(__import__("io").BytesIO(stored), stop_before_pixels=True).file_meta
        assert meta.get("SourceApplicationEntityTitle", "DCMSPEC_TEST").strip() == "DCMSPEC_TEST"
    instance = pacs.find_instance(next(iter(manifest(out).values()))["sop_instance_uid"])
    assert pacs.get_json(f"/instances/{instance}/metadata?expand")["RemoteAET"] == "DCMSPEC_TEST"


def _rle_seg(folder: Path) -> list[Path]:
    import yaml

    specs = write_specs(folder)
    seg = yaml.safe_load(specs[0].read_text())
    seg["output"] = {"transfer_syntax": "RLELossless"}
    seg["segmentation"]["type"] = "LABELMAP"  # RLE is offered for label maps (8-bit), not 1-bit BINARY
    specs[0].write_text(yaml.safe_dump(seg, sort_keys=False))
    return specs


def test_c_store_negotiates_the_written_transfer_syntax(fresh_orthanc, tmp_path):
    """An RLE Lossless SEG is proposed and sent in RLE Lossless only: stored as is where the node accepts
    it, refused (nothing converted) where it does not."""
    rle = "1.2.840.10008.1.2.5"
    specs, out = _rle_seg(tmp_path / "specs"), tmp_path / "out"
    pacs = fresh_orthanc(load=False)
    result = dcmspec("build", *specs, "-o", out, "--store", f"127.0.0.1:{pacs.dicom_port}:{pacs.aet}")
    assert result.exit_code == 0, result.stderr
    seg = manifest(out)["seg-ct.dcm"]
    stored = pacs.instance_file(seg["sop_instance_uid"])
    assert dataset_bytes(stored)[0] == rle
    assert dataset_bytes(stored) == dataset_bytes((out / "seg-ct.dcm").read_bytes())

    strict = fresh_orthanc(load=False, extra={"RleTransferSyntaxAccepted": False})
    key = f"C-STORE {strict.aet}@127.0.0.1:{strict.dicom_port}"
    result = dcmspec("build", *specs, "-o", out, "--force", "--store", f"127.0.0.1:{strict.dicom_port}:{strict.aet}")
    assert result.exit_code == 3
    assert (
        f"{out / 'seg-ct.dcm'}: error: not stored at {key}: {strict.aet}@127.0.0.1:{strict.dicom_port} did not"
        f" accept SOP Class 1.2.840.10008.5.1.4.1.1.66.7 in Transfer Syntax {rle}"
    ) in result.stderr
    assert f"{key}: 3 stored, 1 refused" in result.stderr
    assert manifest(out)["seg-ct.dcm"]["stored"][key]["status"] == "failure"
    assert strict.find_instance(seg["sop_instance_uid"]) is None and strict.instance_count() == 3
