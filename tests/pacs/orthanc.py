"""A real PACS for the tests: Orthanc (Debian ``orthanc``) with its DICOMweb plugin (``orthanc-dicomweb``),
started on free ports with a temporary storage folder and a generated configuration, stopped at the end."""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

#: Where the Debian package puts the DICOMweb plugin (``dpkg -L orthanc-dicomweb``).
DICOMWEB_PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")
ORTHANC_INSTALL = "apt-get install orthanc orthanc-dicomweb"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Orthanc:
    """One running Orthanc: ``url`` is its REST root, ``dicomweb`` its DICOMweb root, ``dicom_port``/``aet``
    its DIMSE service."""

    exe: str
    folder: Path
    users: dict[str, str] = field(default_factory=dict)
    lua: str | None = None
    extra: dict = field(default_factory=dict)  # more configuration options
    aet: str = "ORTHANC"
    http_port: int = 0
    dicom_port: int = 0
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def dicomweb(self) -> str:
        return f"{self.url}/dicom-web"

    def config(self) -> dict:
        config = {
            "Name": "dcmspec-test",
            "StorageDirectory": str(self.folder / "storage"),
            "IndexDirectory": str(self.folder / "storage"),
            "HttpPort": self.http_port,
            "DicomPort": self.dicom_port,
            "DicomAet": self.aet,
            "RemoteAccessAllowed": True,
            "AuthenticationEnabled": bool(self.users),
            "RegisteredUsers": self.users,
            "DicomCheckCalledAet": True,
            "DicomAlwaysAllowStore": True,
            "UnknownSopClassAccepted": True,
            "StorageCompression": False,
            "HttpServerThreads": 4,
            "ConcurrentJobs": 1,
            "Plugins": [str(DICOMWEB_PLUGIN)],
            "DicomWeb": {
                "Enable": True,
                "Root": "/dicom-web/",
                "EnableWado": False,
                "StudiesMetadata": "Full",
                "SeriesMetadata": "Full",
            },
        }
        config.update(self.extra)
        if self.lua is not None:
            (self.folder / "filter.lua").write_text(self.lua, encoding="utf-8")
            config["LuaScripts"] = [str(self.folder / "filter.lua")]
        return config

    def start(self, timeout: float = 60.0) -> Orthanc:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.http_port = self.http_port or free_port()
        self.dicom_port = self.dicom_port or free_port()
        config = self.folder / "orthanc.json"
        config.write_text(json.dumps(self.config(), indent=2), encoding="utf-8")
        with open(self.folder / "orthanc.log", "ab") as log:
            self.process = subprocess.Popen(
                [self.exe, str(config)], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"Orthanc ended at start (exit {self.process.returncode}): "
                    + (self.folder / "orthanc.log").read_text(errors="replace")[-3000:]
                )
            try:
                self.get("/system")
                self.get("/dicom-web/studies")  # the plugin answers too
                return self
            except (OSError, urllib.error.URLError):
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"Orthanc did not answer on {self.url} within {timeout} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None

    # REST helpers (urllib: independent of the client code under test) ------------------------------

    def _request(
        self, method: str, path: str, data: bytes | None = None, headers: dict[str, str] | None = None
    ) -> bytes:
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers or {})
        if self.users:
            user, password = next(iter(self.users.items()))
            token = base64.b64encode(f"{user}:{password}".encode()).decode()
            request.add_header("Authorization", f"Basic {token}")
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.read()

    def get(self, path: str) -> bytes:
        return self._request("GET", path)

    def get_json(self, path: str):
        return json.loads(self.get(path))

    def upload(self, path: Path) -> dict:
        return json.loads(self._request("POST", "/instances", path.read_bytes(), {"Content-Type": "application/dicom"}))

    def delete(self, path: str) -> None:
        self._request("DELETE", path)

    def find_instance(self, sop_instance_uid: str) -> str | None:
        """Orthanc's id of the instance with this SOP Instance UID, or None."""
        body = json.dumps({"Level": "Instance", "Query": {"SOPInstanceUID": sop_instance_uid}}).encode()
        found = json.loads(self._request("POST", "/tools/find", body, {"Content-Type": "application/json"}))
        return found[0] if found else None

    def instance_file(self, sop_instance_uid: str) -> bytes:
        """The stored file of an instance, as Orthanc keeps it."""
        ident = self.find_instance(sop_instance_uid)
        assert ident is not None, f"Orthanc has no instance {sop_instance_uid}"
        return self.get(f"/instances/{ident}/file")

    def instance_count(self) -> int:
        return len(self.get_json("/instances"))
