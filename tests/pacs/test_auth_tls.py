"""Credentials and TLS of DICOMweb sources: a bearer token from the environment, certificates verified by
default, a CA bundle of one's own; and the DS spelling that DICOM JSON loses (canonical_ds)."""

from __future__ import annotations

import subprocess

from pacs.relay import relay
from pacs.specs import MR, dcmspec, images
from pacs.test_faults import _no_output, _spec_with

from conftest import require_tool


def test_bearer_token_from_the_environment(orthanc, tmp_path):
    with relay(orthanc.dicomweb, token="T0K3N") as url:
        spec = _spec_with(tmp_path, images(MR, url))
        refused = dcmspec("build", spec, "-o", tmp_path / "out", env={"HOME": str(tmp_path)})
        assert refused.exit_code == 1 and "refused access (401 Unauthorized)" in refused.stderr
        assert _no_output(tmp_path / "out")
        ok = dcmspec("build", spec, "-o", tmp_path / "out", env={"DCMSPEC_DICOMWEB_TOKEN": "T0K3N"})
    assert ok.exit_code == 0, ok.stderr


def test_tls_certificates_are_verified(orthanc, tmp_path):
    openssl = require_tool("openssl", "apt-get install openssl")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    with relay(orthanc.dicomweb, certificate=(cert, key)) as url:
        spec = _spec_with(tmp_path, images(MR, url))
        refused = dcmspec("build", spec, "-o", tmp_path / "out")
        assert refused.exit_code == 1
        assert f"the PACS at {url}: the TLS certificate could not be verified" in refused.stderr
        assert "DCMSPEC_DICOMWEB_CA_BUNDLE" in refused.stderr
        assert _no_output(tmp_path / "out")
        ok = dcmspec("build", spec, "-o", tmp_path / "out", env={"DCMSPEC_DICOMWEB_CA_BUNDLE": str(cert)})
    assert ok.exit_code == 0, ok.stderr


def test_canonical_ds():
    """By hand: the shortest text that reads as the same number, at most 16 characters (PS3.5 6.2)."""
    from dcmspec_compiler.iods.common.vr import canonical_ds

    cases = {
        "1.000000": "1",
        "-0.000000": "0",
        "1.250000": "1.25",
        "-235.199997": "-235.199997",
        "0.00001": "1e-05",
        "+12": "12",
        " 3.5": "3.5",
        "-1.2345678901234": "-1.2345678901234",
        "0.1234567890123456": "0.12345678901235",
        "abc": "abc",
    }
    for text, expected in cases.items():
        got = canonical_ds(text)
        assert got == expected, (text, got)
        assert len(got) <= 16
        if expected != "abc":
            assert abs(float(got) - float(text)) <= 1e-13 * max(1.0, abs(float(text)))
