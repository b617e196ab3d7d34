"""DIMSE C-STORE (PS3.4 B, PS3.7 9.1.1) with pynetdicom: one association for the batch, proposing each
object's SOP Class with exactly the Transfer Syntax it was written in, and the file's bytes sent as
they are (no decoding, no conversion)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..io import http
from .send import Outcome, Unreachable

MAX_CONTEXTS = 128  # presentation contexts per association (PS3.8 9.3.2.2: odd IDs 1..255)


class StoreSender:
    """Sends to ``aet`` at ``host:port`` as ``calling_aet``."""

    def __init__(self, host: str, port: int, aet: str, calling_aet: str) -> None:
        self.host, self.port, self.aet, self.calling_aet = host, port, aet, calling_aet
        self._assoc: Any = None
        self._msg_id = 0
        self._chunked: Any = None

    @property
    def where(self) -> str:
        return f"{self.aet}@{self.host}:{self.port}"

    def open(self, contexts: list[tuple[str, str]]) -> None:
        pynetdicom = http.require("pynetdicom", "C-STORE")
        from pynetdicom import _config

        self._chunked = _config.STORE_SEND_CHUNKED_DATASET
        _config.STORE_SEND_CHUNKED_DATASET = True  # send the file's bytes after its meta information as they are
        import socket

        try:  # pynetdicom reports a refused connection as an aborted association: say what happened
            socket.create_connection((self.host, self.port), timeout=http.TIMEOUT_S).close()
        except OSError as exc:
            raise Unreachable(f"the DICOM node {self.where} does not answer ({exc.strerror or exc})") from None
        ae = pynetdicom.AE(ae_title=self.calling_aet)
        ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = http.TIMEOUT_S
        for sop_class, syntax in sorted(set(contexts))[:MAX_CONTEXTS]:
            ae.add_requested_context(sop_class, [syntax])
        assoc = ae.associate(self.host, self.port, ae_title=self.aet)
        if not assoc.is_established:  # rejected, or closed (pynetdicom may see an A-ASSOCIATE-RJ as an abort)
            raise Unreachable(
                f"the DICOM node {self.where} refused the association (called AE title {self.aet},"
                f" calling AE title {self.calling_aet}: does the node know both?)"
            )
        self._assoc = assoc

    def close(self) -> None:
        if self._assoc is not None and self._assoc.is_established:
            self._assoc.release()
        self._assoc = None
        if self._chunked is not None:
            from pynetdicom import _config

            _config.STORE_SEND_CHUNKED_DATASET = self._chunked

    def send(
        self,
        sop_class_uid: str,
        sop_instance_uid: str,
        transfer_syntax_uid: str,
        data: bytes | None,
        path: Path | None = None,
    ) -> Outcome:
        assoc = self._assoc
        accepted = [
            c
            for c in assoc.accepted_contexts
            if c.abstract_syntax == sop_class_uid and c.transfer_syntax[0] == transfer_syntax_uid
        ]
        if not accepted:
            return Outcome(
                "failure",
                "no presentation context",
                f"{self.where} did not accept SOP Class {sop_class_uid} in Transfer Syntax"
                f" {transfer_syntax_uid} (the syntax the object was written in)",
            )
        if path is None:
            raise ValueError("C-STORE sends a written file")
        self._msg_id = self._msg_id % 65535 + 1
        try:
            status = assoc.send_c_store(path, msg_id=self._msg_id)
        except (OSError, RuntimeError) as exc:
            raise Unreachable(f"the DICOM node {self.where} stopped answering ({exc})") from None
        if not status or "Status" not in status:
            raise Unreachable(
                f"the DICOM node {self.where} gave no answer to the C-STORE of {sop_instance_uid}"
                " (association aborted or timed out)"
            )
        return outcome(int(status.Status), status.get("ErrorComment"))


def outcome(code: int, comment: Any = None) -> Outcome:
    """The C-STORE response status (PS3.4 B.2.3) as an :class:`Outcome`."""
    from pynetdicom.status import code_to_category

    category = code_to_category(code)
    text = f"0x{code:04X}"
    extra = f": {comment}" if comment else ""
    if category == "Success":
        return Outcome("success", None, "stored")
    if category == "Warning":
        return Outcome("warning", text, f"stored with a warning (status {text}{extra})")
    return Outcome("failure", text, f"the node refused the instance (status {text}, {category}{extra})")
