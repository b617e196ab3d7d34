"""STOW-RS (PS3.18 10.5): send DICOM files to a DICOMweb service, one instance per request, exactly the
bytes written locally (``multipart/related; type="application/dicom"``), and read the per-instance answer
(Store Instances Response Module, PS3.18 10.5.3.1: Referenced SOP Sequence with Warning Reason, Failed
SOP Sequence with Failure Reason)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from ..io import http
from .send import Outcome, Unreachable

_FAILED_SOP = "00081198"
_REFERENCED_SOP = "00081199"
_SOP_INSTANCE = "00081155"
_FAILURE_REASON = "00081197"
_WARNING_REASON = "00081196"


class StowSender:
    """Sends to the DICOMweb root ``url`` (``{url}/studies``)."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self._session: Any = None

    def open(self, contexts: list[tuple[str, str]]) -> None:  # HTTP negotiates nothing
        self._session = http.session(self.url)

    def close(self) -> None:
        if self._session is not None:
            self._session.close()

    def send(self, sop_class_uid: str, sop_instance_uid: str, transfer_syntax_uid: str, data: bytes) -> Outcome:
        boundary = f"dcmspec-{uuid.uuid4().hex}"
        body = b"".join(
            [
                f"--{boundary}\r\nContent-Type: application/dicom\r\n\r\n".encode("ascii"),
                data,
                f"\r\n--{boundary}--\r\n".encode("ascii"),
            ]
        )
        headers = {
            "Content-Type": f'multipart/related; type="application/dicom"; boundary={boundary}',
            "Accept": "application/dicom+json",
        }
        requests = http.require("requests", "STOW-RS")
        target = f"{self.url}/studies"
        try:
            response = self._session.post(target, data=body, headers=headers, timeout=http.TIMEOUT_S)
        except requests.RequestException as exc:
            raise Unreachable(http.failure(exc, self.url, f"the STOW-RS of instance {sop_instance_uid}")[0]) from None
        if response.status_code in (401, 403, 404, 405):
            refused = requests.HTTPError(response=response)
            raise Unreachable(http.failure(refused, target, f"the STOW-RS of instance {sop_instance_uid}")[0])
        return _outcome(response, sop_instance_uid)


def _outcome(response: Any, sop_instance_uid: str) -> Outcome:
    """What the Store Instances Response says about ``sop_instance_uid`` (PS3.18 10.5.3)."""
    http_status = f"HTTP {response.status_code}"
    try:
        answer = json.loads(response.content or b"{}")
    except ValueError:
        answer = {}
    if isinstance(answer, list):  # some servers wrap the response dataset in an array
        answer = answer[0] if answer else {}
    for item in _items(answer, _FAILED_SOP):
        if _value(item, _SOP_INSTANCE) in (sop_instance_uid, None):
            reason = _value(item, _FAILURE_REASON)
            return Outcome(
                "failure",
                _hex(reason) or http_status,
                f"the PACS refused the instance ({http_status}, Failure Reason {_hex(reason) or 'none given'})",
            )
    for item in _items(answer, _REFERENCED_SOP):
        if _value(item, _SOP_INSTANCE) == sop_instance_uid:
            reason = _value(item, _WARNING_REASON)
            if reason is not None or response.status_code == 202:
                return Outcome(
                    "warning",
                    _hex(reason) or http_status,
                    f"stored with a warning ({http_status}, Warning Reason {_hex(reason) or 'none given'})",
                )
            return Outcome("success", None, "stored")
    if response.status_code == 200 and _REFERENCED_SOP not in answer and _FAILED_SOP not in answer:
        return Outcome("success", None, f"stored ({http_status}; no per-instance answer)")
    if response.status_code < 300:  # an answer that lists the stored instances, without this one
        return Outcome(
            "failure",
            "not referenced",
            f"the PACS answered {http_status} but does not list the instance among those it stored"
            " (Referenced SOP Sequence, PS3.18 10.5.3)",
        )
    return Outcome("failure", http_status, f"the PACS answered {http_status} {response.reason}")


def _items(answer: Any, tag: str) -> list[dict[str, Any]]:
    try:
        return [i for i in answer[tag]["Value"] if isinstance(i, dict)]
    except (KeyError, TypeError):
        return []


def _value(item: dict[str, Any], tag: str) -> Any:
    try:
        return item[tag]["Value"][0]
    except (KeyError, IndexError, TypeError):
        return None


def _hex(code: Any) -> str | None:
    """A status code as ``0xA700`` (US values come as JSON numbers)."""
    return None if code is None else f"0x{int(code):04X}" if isinstance(code, int) else str(code)
