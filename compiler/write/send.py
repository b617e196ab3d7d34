"""Sending built objects to a PACS after they are written: STOW-RS (:mod:`.stow`) or DIMSE C-STORE
(:mod:`.cstore`), recording what the PACS answered per instance in the folder's manifest.

Each manifest entry gets ``stored: {destination: {status, reason, message, sha256}}`` (status
``success``, ``warning`` or ``failure``; reason the Failure/Warning Reason or status code). The manifest is
the record: an object whose record for the destination says it was stored with the same bytes is not sent
again, so a rerun after a partial failure sends only the rest (with the same UIDs: they derive from the
content). A destination that stops answering ends the sending; what was not sent is listed.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .targets import MANIFEST_NAME

if TYPE_CHECKING:
    from .cstore import StoreSender
    from .output import BuiltObject

STORED = ("success", "warning")
FLUSH_S = 0.5  # the manifest is rewritten at most this often while sending (and at the end)


@dataclass(frozen=True)
class Outcome:
    """What a PACS answered for one instance."""

    status: str  # success | warning | failure
    reason: str | None
    message: str


class Unreachable(Exception):
    """The destination does not answer (or refuses every request): sending stops."""


@dataclass(frozen=True)
class Destination:
    """A STOW-RS service (``url``) or a C-STORE SCP (``host``, ``port``, ``aet``)."""

    url: str = ""
    host: str = ""
    port: int = 0
    aet: str = ""
    calling_aet: str = "DCMSPEC"

    @property
    def key(self) -> str:
        """How the manifest names the destination."""
        return f"STOW-RS {self.url.rstrip('/')}" if self.url else f"C-STORE {self.aet}@{self.host}:{self.port}"

    def require(self) -> None:
        """Refuse, before anything is built, a destination whose package (of the ``pacs`` extra) is not
        installed: ``OutputError`` with the install hint (the output cannot be written; nothing is)."""
        from ..errors import OutputError
        from ..io import http

        if self.url:
            http.require("requests", f"--stow (STOW-RS to {self.url})", OutputError)
        else:
            http.require("pynetdicom", f"--store (C-STORE to {self.aet}@{self.host}:{self.port})", OutputError)

    def sender(self) -> Any:
        if self.url:
            from .stow import StowSender

            return StowSender(self.url)
        from .cstore import StoreSender

        return StoreSender(self.host, self.port, self.aet, self.calling_aet)


def parse_store(text: str, calling_aet: str) -> Destination:
    """``HOST:PORT:AET`` as a C-STORE destination; ``ValueError`` saying what is wrong."""
    host, sep, rest = text.rpartition(":")
    host, sep2, port = host.rpartition(":")
    aet = rest
    if not (sep and sep2 and host and port.isdigit() and 0 < int(port) < 65536):
        raise ValueError(f"{text!r} is not HOST:PORT:AET (e.g. pacs.example.org:104:PACS)")
    for name, value in (("AE title", aet), ("calling AE title", calling_aet)):
        if not 0 < len(value.strip()) <= 16 or "\\" in value or not value.isprintable():
            raise ValueError(f"{value!r} is not an {name}: 1 to 16 characters, no backslash (PS3.5 6.2, AE)")
    return Destination(host=host.strip("[]"), port=int(port), aet=aet.strip(), calling_aet=calling_aet.strip())


@dataclass
class SendReport:
    """What one destination answered for the objects of a build."""

    destination: Destination
    outcomes: list[tuple[dict[str, Any], Outcome]] = field(default_factory=list)
    earlier: list[dict[str, Any]] = field(default_factory=list)  # stored by an earlier run: not sent again
    not_sent: list[dict[str, Any]] = field(default_factory=list)
    stopped: str | None = None

    @property
    def failed(self) -> list[tuple[dict[str, Any], Outcome]]:
        return [(e, o) for e, o in self.outcomes if o.status not in STORED]

    @property
    def ok(self) -> bool:
        return not self.failed and not self.not_sent and self.stopped is None


def is_stored(entry: dict[str, Any], destination: Destination) -> bool:
    record = (entry.get("stored") or {}).get(destination.key) or {}
    return record.get("status") in STORED and record.get("sha256") == entry.get("sha256")


def send_outputs(
    entries: list[dict[str, Any]],
    out_dir: Path,
    destination: Destination,
    data_of: Callable[[dict[str, Any]], bytes],
    *,
    written: bool = True,
    progress: Callable[[str], None] | None = None,
) -> SendReport:
    """Send the objects of ``entries`` (manifest entries of this build) that the manifest does not record
    as stored at ``destination``; record each answer in ``out_dir``'s manifest."""
    report = SendReport(destination)
    todo: list[dict[str, Any]] = []
    for entry in entries:
        (report.earlier if is_stored(entry, destination) else todo).append(entry)
    if not todo:
        return report
    sender = destination.sender()
    pending: dict[str, dict[str, Any]] = {}
    last = time.monotonic()
    try:
        sender.open([(e["sop_class_uid"], e["transfer_syntax_uid"]) for e in todo])
        for entry in todo:
            path = out_dir / entry["file"]
            if destination.url:
                outcome = sender.send(
                    entry["sop_class_uid"], entry["sop_instance_uid"], entry["transfer_syntax_uid"], data_of(entry)
                )
            else:
                outcome = _store(sender, entry, path if written else None, data_of)
            report.outcomes.append((entry, outcome))
            pending[entry["file"]] = {
                "status": outcome.status,
                "reason": outcome.reason,
                "message": outcome.message,
                "sha256": entry["sha256"],
            }
            entry.setdefault("stored", {})[destination.key] = pending[entry["file"]]
            if progress:
                progress(f"{destination.key}: {entry['file']}: {outcome.message}")
            if time.monotonic() - last >= FLUSH_S:
                record(out_dir, destination, pending)
                pending, last = {}, time.monotonic()
    except Unreachable as exc:
        report.stopped = str(exc)
        done = {id(e) for e, _ in report.outcomes}
        report.not_sent = [e for e in todo if id(e) not in done]
    finally:
        try:
            sender.close()
        finally:
            record(out_dir, destination, pending)
    return report


def _store(
    sender: StoreSender, entry: dict[str, Any], path: Path | None, data_of: Callable[[dict[str, Any]], bytes]
) -> Outcome:
    """C-STORE sends a file: the written one, or the object's bytes in a temporary file."""
    if path is not None:
        return sender.send(entry["sop_class_uid"], entry["sop_instance_uid"], entry["transfer_syntax_uid"], None, path)
    with tempfile.TemporaryDirectory(prefix="dcmspec-store-") as folder:
        temp = Path(folder) / "object.dcm"
        temp.write_bytes(data_of(entry))
        return sender.send(entry["sop_class_uid"], entry["sop_instance_uid"], entry["transfer_syntax_uid"], None, temp)


def record(out_dir: Path, destination: Destination, records: dict[str, dict[str, Any]]) -> None:
    """Put ``records`` (file name -> answer) into the manifest of ``out_dir`` (atomic replace, under the
    folder's lock)."""
    if not records:
        return
    from .commit import folder_lock

    with folder_lock(out_dir):
        path = out_dir / MANIFEST_NAME
        manifest = json.loads(path.read_text(encoding="utf-8"))
        for entry in manifest.get("objects", []):
            answer = records.get(entry.get("file"))
            if answer is not None and answer["sha256"] == entry.get("sha256"):
                entry.setdefault("stored", {})[destination.key] = answer
        write_manifest(out_dir, manifest)


def write_manifest(out_dir: Path, manifest: dict[str, Any]) -> None:
    """Replace the manifest of ``out_dir`` atomically (a reader sees the old or the new one)."""
    fd, temp = tempfile.mkstemp(prefix=".dcmspec-manifest-", dir=out_dir)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(manifest, indent=2, sort_keys=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temp, out_dir / MANIFEST_NAME)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise


def transfer_syntax(data: bytes) -> str:
    """The Transfer Syntax UID (0002,0010) of a DICOM file's meta information (PS3.10 7.1: explicit VR
    little endian group 0002 after the preamble and ``DICM``)."""
    pos = 132
    while pos + 8 <= len(data) and data[pos : pos + 2] == b"\x02\x00":
        element = int.from_bytes(data[pos + 2 : pos + 4], "little")
        vr = data[pos + 4 : pos + 6]
        if vr in (b"OB", b"OW", b"OF", b"SQ", b"UT", b"UN"):
            length, start = int.from_bytes(data[pos + 8 : pos + 12], "little"), pos + 12
        else:
            length, start = int.from_bytes(data[pos + 6 : pos + 8], "little"), pos + 8
        if element == 0x0010:
            return data[start : start + length].decode("ascii").rstrip("\0 ")
        pos = start + length
    raise ValueError("no Transfer Syntax UID in the file meta information")


def send_objects(
    objects: list[BuiltObject],
    out_dir: Path,
    destinations: list[Destination],
    *,
    written: bool = True,
    progress: Callable[[str], None] | None = None,
) -> list[SendReport]:
    """Send a build's objects to every destination: the files written in ``out_dir`` (their manifest
    entries say which), or, when not ``written``, their bytes (recorded in the manifest as not written)."""
    from .output import record_unwritten

    if written:
        manifest = json.loads((out_dir / MANIFEST_NAME).read_text(encoding="utf-8"))
        names = {o.filename for o in objects}
        entries = [e for e in manifest.get("objects", []) if e.get("file") in names]
        data: dict[str, bytes] = {}

        def data_of(entry: dict[str, Any]) -> bytes:
            name: str = entry["file"]
            return (out_dir / name).read_bytes()

        for entry in entries:
            with open(out_dir / entry["file"], "rb") as fh:
                entry["transfer_syntax_uid"] = transfer_syntax(fh.read(1 << 16))
    else:
        entries, data = record_unwritten(objects, out_dir)
        for entry in entries:
            entry["transfer_syntax_uid"] = transfer_syntax(data[entry["file"]])

        def data_of(entry: dict[str, Any]) -> bytes:
            return data[entry["file"]]

    return [send_outputs(entries, out_dir, d, data_of, written=written, progress=progress) for d in destinations]


def report_lines(reports: list[SendReport], out_dir: Path) -> tuple[list[str], bool]:
    """Messages for the command line, and whether everything was stored."""
    lines: list[str] = []
    ok = True
    for report in reports:
        key = report.destination.key
        for entry, outcome in report.failed:
            lines.append(f"{out_dir / entry['file']}: error: not stored at {key}: {outcome.message}")
        if report.stopped:
            names = ", ".join(e["file"] for e in report.not_sent[:10]) + (" ..." if len(report.not_sent) > 10 else "")
            lines.append(f"dcmspec: {key}: {report.stopped}; {len(report.not_sent)} object(s) not sent: {names}")
        stored = sum(o.status in STORED for _, o in report.outcomes)
        warned = sum(o.status == "warning" for _, o in report.outcomes)
        parts = [f"{stored} stored" + (f" ({warned} with warnings)" if warned else "")]
        if report.earlier:
            parts.append(f"{len(report.earlier)} stored by an earlier run, not sent again")
        if report.failed:
            parts.append(f"{len(report.failed)} refused")
        if report.not_sent:
            parts.append(f"{len(report.not_sent)} not sent")
        lines.append(f"dcmspec: {key}: " + ", ".join(parts))
        if not report.ok:
            ok = False
            lines.append(
                "  hint: the manifest records what was stored; run the same command again with --force to"
                " send only the rest (same UIDs, same bytes)"
            )
    return lines, ok
