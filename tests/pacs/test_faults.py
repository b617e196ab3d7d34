"""Faults of a PACS as source and as destination, each with a clear message and nothing lost or written
twice: a PACS that does not answer or stops mid-batch, 401, a 404 series, a partial series, a store refused,
and the rerun after a partial failure that sends only the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from pacs.orthanc import free_port
from pacs.relay import relay
from pacs.specs import MR, dcmspec, images, series_uids, write_specs
from pacs.test_stow_store import manifest

SEG_STORAGE = "1.2.840.10008.5.1.4.1.1.66.4"
# Orthanc 1.10 answers "stored" for an instance its filter returns false for (C-STORE status 0, STOW-RS
# Referenced SOP item), so the filter raises an error: C-STORE then answers 0xA700, STOW-RS leaves the
# instance out of its Referenced SOP Sequence.
REFUSE_SEG = f"""
function ReceivedInstanceFilter(dicom, origin, info)
  if dicom.SOPClassUID == '{SEG_STORAGE}' then error('this archive takes no Segmentations') end
  return true
end
"""


def _no_output(out: Path) -> bool:
    return not out.exists() or not any(out.iterdir())


def _spec_with(folder: Path, images_value) -> Path:
    import yaml

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "kos.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "dcmspec": 1,
                "kind": "KeyObjectSelection",
                "id": "kos",
                "sources": {"images": images_value},
                "title": 'DCM:113000 "Of Interest"',
                "selection": [{"image": 1}],
            }
        ),
        encoding="utf-8",
    )
    return path


# Sources ----------------------------------------------------------------------------------------------


def test_source_pacs_that_does_not_answer(tmp_path):
    url = f"http://127.0.0.1:{free_port()}/dicom-web"
    result = dcmspec("build", _spec_with(tmp_path, images(MR, url)), "-o", tmp_path / "out")
    assert result.exit_code == 1
    assert f"the PACS at {url} does not answer (connection refused)" in result.stderr
    assert f"series {series_uids(MR)[1]}" in result.stderr
    assert "sources.images" in result.stderr and "kos.yaml:" in result.stderr  # located in the spec
    assert _no_output(tmp_path / "out")


def test_source_401_then_credentials_from_the_environment(fresh_orthanc, tmp_path):
    pacs = fresh_orthanc(users={"alice": "s3cret"})
    spec = _spec_with(tmp_path / "web", images(MR, pacs.dicomweb))
    refused = dcmspec("build", spec, "-o", tmp_path / "out", env={"HOME": str(tmp_path)})
    assert refused.exit_code == 1
    assert (
        f"the PACS at {pacs.dicomweb} refused access (401 Unauthorized) to series {series_uids(MR)[1]}"
        in refused.stderr
    )
    assert "DCMSPEC_DICOMWEB_USER" in refused.stderr  # the hint says where credentials go
    assert _no_output(tmp_path / "out")

    wrong = dcmspec(
        "build",
        spec,
        "-o",
        tmp_path / "out",
        env={"DCMSPEC_DICOMWEB_USER": "alice", "DCMSPEC_DICOMWEB_PASSWORD": "wrong"},
    )
    assert wrong.exit_code == 1 and "401 Unauthorized" in wrong.stderr and _no_output(tmp_path / "out")

    ok = dcmspec(
        "build",
        spec,
        "-o",
        tmp_path / "out",
        env={"DCMSPEC_DICOMWEB_USER": "alice", "DCMSPEC_DICOMWEB_PASSWORD": "s3cret"},
    )
    assert ok.exit_code == 0, ok.stderr
    files = dcmspec("build", _spec_with(tmp_path / "files", images(MR, None)), "-o", tmp_path / "out-files")
    assert files.exit_code == 0
    assert (tmp_path / "out" / "kos.dcm").read_bytes() == (tmp_path / "out-files" / "kos.dcm").read_bytes()


def test_source_credentials_from_a_netrc_file(fresh_orthanc, tmp_path):
    pacs = fresh_orthanc(users={"bob": "pw"})
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login bob password pw\n")
    netrc.chmod(0o600)
    result = dcmspec(
        "build",
        _spec_with(tmp_path, images(MR, pacs.dicomweb)),
        "-o",
        tmp_path / "out",
        env={"DCMSPEC_NETRC": str(netrc)},
    )
    assert result.exit_code == 0, result.stderr


def test_source_series_not_in_the_pacs(orthanc, tmp_path):
    study, _ = series_uids(MR)
    missing = {"dicomweb": orthanc.dicomweb, "study": study, "series": "1.2.3.4.5.6.7"}
    result = dcmspec("build", _spec_with(tmp_path, missing), "-o", tmp_path / "out")
    assert result.exit_code == 1
    assert f"the PACS at {orthanc.dicomweb} does not have series 1.2.3.4.5.6.7 of study {study}" in result.stderr
    assert _no_output(tmp_path / "out")

    # a DICOMweb root that is not one: 404 from the server
    wrong_root = {**images(MR, orthanc.url + "/no-dicom-web")}
    result = dcmspec("build", _spec_with(tmp_path, wrong_root), "-o", tmp_path / "out")
    assert result.exit_code == 1
    assert f"the PACS at {orthanc.url}/no-dicom-web does not have series {series_uids(MR)[1]}" in result.stderr
    assert "404 Not Found" in result.stderr
    assert _no_output(tmp_path / "out")


def test_source_instances_not_in_the_series(orthanc, tmp_path):
    origin = {**images(MR, orthanc.dicomweb), "instances": ["1.2.3.999"]}
    result = dcmspec("build", _spec_with(tmp_path, origin), "-o", tmp_path / "out")
    assert result.exit_code == 1
    assert "does not have 1 of the requested instances" in result.stderr and "1.2.3.999" in result.stderr
    assert _no_output(tmp_path / "out")


def test_source_partial_series(orthanc, tmp_path):
    with relay(orthanc.dicomweb, drop_last_metadata=True) as url:
        result = dcmspec("build", _spec_with(tmp_path, images(MR, url)), "-o", tmp_path / "out")
    assert result.exit_code == 1
    assert f"the PACS at {url} returned a partial series" in result.stderr
    assert f"series {series_uids(MR)[1]}" in result.stderr and "lacks 1 of its 20 listed instances" in result.stderr
    assert _no_output(tmp_path / "out")


# Outputs ----------------------------------------------------------------------------------------------


def test_pacs_stopped_mid_batch_then_rerun_sends_only_the_rest(fresh_orthanc, tmp_path, monkeypatch):
    from dcmspec_compiler.write import stow

    pacs = fresh_orthanc(load=False)
    specs, out = write_specs(tmp_path / "specs"), tmp_path / "out"
    sent: list[str] = []
    real_send = stow.StowSender.send

    def send_then_stop(self, sop_class, sop_instance, syntax, data):
        outcome = real_send(self, sop_class, sop_instance, syntax, data)
        sent.append(sop_instance)
        if len(sent) == 1:
            pacs.stop()  # the PACS goes down after the first object
        return outcome

    monkeypatch.setattr(stow.StowSender, "send", send_then_stop)
    result = dcmspec("build", *specs, "-o", out, "--stow", pacs.dicomweb)
    assert result.exit_code == 3
    assert f"the PACS at {pacs.dicomweb} does not answer (connection refused)" in result.stderr
    assert "3 object(s) not sent" in result.stderr and "1 stored, 3 not sent" in result.stderr
    records = manifest(out)
    assert sorted(p.name for p in out.glob("*.dcm")) == sorted(records)  # every file is written
    stored = [e for e in records.values() if "stored" in e]
    assert [e["sop_instance_uid"] for e in stored] == sent
    assert stored[0]["stored"][f"STOW-RS {pacs.dicomweb}"]["status"] == "success"

    pacs.start()  # same storage folder and ports
    assert pacs.instance_count() == 1
    rerun = dcmspec("build", *specs, "-o", out, "--stow", pacs.dicomweb, "--force")
    assert rerun.exit_code == 0, rerun.stderr
    assert "3 stored, 1 stored by an earlier run, not sent again" in rerun.stderr
    assert len(sent) == 4 and len(set(sent)) == 4  # the first was not sent again
    assert sorted(sent) == sorted(e["sop_instance_uid"] for e in manifest(out).values())  # same UIDs
    assert pacs.instance_count() == 4
    for name, entry in manifest(out).items():
        assert pacs.instance_file(entry["sop_instance_uid"]) == (out / name).read_bytes()


def test_stow_401(fresh_orthanc, tmp_path):
    pacs = fresh_orthanc(load=False, users={"alice": "s3cret"})
    specs, out = write_specs(tmp_path / "specs"), tmp_path / "out"
    result = dcmspec("build", *specs, "-o", out, "--stow", pacs.dicomweb, env={"HOME": str(tmp_path)})
    assert result.exit_code == 3
    assert f"the PACS at {pacs.dicomweb}/studies refused access (401 Unauthorized)" in result.stderr
    assert "4 object(s) not sent" in result.stderr
    assert all("stored" not in e for e in manifest(out).values()) and len(list(out.glob("*.dcm"))) == 4
    assert pacs.instance_count() == 0
    ok = dcmspec(
        "build",
        *specs,
        "-o",
        out,
        "--stow",
        pacs.dicomweb,
        "--force",
        env={"DCMSPEC_DICOMWEB_USER": "alice", "DCMSPEC_DICOMWEB_PASSWORD": "s3cret"},
    )
    assert ok.exit_code == 0, ok.stderr
    assert pacs.instance_count() == 4


@pytest.mark.parametrize("protocol", ["stow", "store"])
def test_store_refused_by_the_pacs(fresh_orthanc, tmp_path, protocol):
    """Orthanc refuses Segmentations (a Lua ReceivedInstanceFilter): the SEG's failure is recorded with the
    PACS's reason, the others are stored; a rerun sends only the SEG."""
    pacs = fresh_orthanc(load=False, lua=REFUSE_SEG)
    specs, out = write_specs(tmp_path / "specs"), tmp_path / "out"
    option = ["--stow", pacs.dicomweb] if protocol == "stow" else ["--store", f"127.0.0.1:{pacs.dicom_port}:{pacs.aet}"]
    key = f"STOW-RS {pacs.dicomweb}" if protocol == "stow" else f"C-STORE {pacs.aet}@127.0.0.1:{pacs.dicom_port}"
    result = dcmspec("build", *specs, "-o", out, *option)
    assert result.exit_code == 3
    assert f"{out / 'seg-ct.dcm'}: error: not stored at {key}: " in result.stderr
    assert f"{key}: 3 stored, 1 refused" in result.stderr
    records = manifest(out)
    failure = records["seg-ct.dcm"]["stored"][key]
    # C-STORE: Orthanc's status 0xA700 (Out of Resources); STOW-RS: left out of the Referenced SOP Sequence
    assert failure["status"] == "failure"
    assert failure["reason"] == ("0xA700" if protocol == "store" else "not referenced"), failure
    assert {records[n]["stored"][key]["status"] for n in ("sr-mr.dcm", "kos-mr.dcm", "pr-ct.dcm")} == {"success"}
    assert pacs.find_instance(records["seg-ct.dcm"]["sop_instance_uid"]) is None
    assert pacs.instance_count() == 3

    rerun = dcmspec("build", *specs, "-o", out, *option, "--force")
    assert rerun.exit_code == 3
    assert f"{key}: 0 stored, 3 stored by an earlier run, not sent again, 1 refused" in rerun.stderr
    assert pacs.instance_count() == 3


def test_c_store_node_that_does_not_answer_or_refuses_the_association(fresh_orthanc, tmp_path):
    specs, out = write_specs(tmp_path / "specs"), tmp_path / "out"
    port = free_port()
    result = dcmspec("build", *specs, "-o", out, "--store", f"127.0.0.1:{port}:NOBODY")
    assert result.exit_code == 3
    assert f"the DICOM node NOBODY@127.0.0.1:{port} does not answer (Connection refused)" in result.stderr
    assert "4 object(s) not sent" in result.stderr and len(list(out.glob("*.dcm"))) == 4

    pacs = fresh_orthanc(load=False)
    result = dcmspec("build", *specs, "-o", out, "--force", "--store", f"127.0.0.1:{pacs.dicom_port}:WRONG_AET")
    assert result.exit_code == 3
    assert f"the DICOM node WRONG_AET@127.0.0.1:{pacs.dicom_port} refused the association" in result.stderr
    assert pacs.instance_count() == 0


def test_usage_errors(tmp_path):
    specs = write_specs(tmp_path / "specs")
    for args, needle in (
        (["--stow-only"], "--stow-only needs --stow"),
        (["--stow", "ftp://x"], "is not an http(s) URL"),
        (["--store", "host:notaport:AET"], "is not HOST:PORT:AET"),
        (["--store", "host:104:" + "A" * 17], "is not an AE title"),
        (["--stow", "http://x/dicom-web", "--fresh-uids"], "--fresh-uids"),
    ):
        result = dcmspec("build", *specs, "-o", tmp_path / "out", *args)
        assert result.exit_code == 2, args
        assert needle in result.stderr, (args, result.stderr)
    assert _no_output(tmp_path / "out")
