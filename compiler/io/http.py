"""HTTP sessions for a PACS (DICOMweb, PS3.18): credentials from the environment or a netrc file,
never from a spec; TLS certificates verified unless the environment names a CA bundle to use.

Environment (checked in this order):

- ``DCMSPEC_DICOMWEB_TOKEN``: a bearer token (``Authorization: Bearer ...``, RFC 6750);
- ``DCMSPEC_DICOMWEB_USER`` and ``DCMSPEC_DICOMWEB_PASSWORD``: HTTP basic authentication (RFC 7617);
- ``DCMSPEC_NETRC`` (default ``~/.netrc``): a netrc file whose ``machine`` entry for the host gives
  login and password (basic authentication).

``DCMSPEC_DICOMWEB_CA_BUNDLE`` names a CA bundle (PEM) to verify the server's certificate with (a
hospital's own CA); verification cannot be turned off.
"""

from __future__ import annotations

import netrc
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..errors import DcmspecError, InputError, Location, PathPart

TIMEOUT_S = 60.0
"""Seconds to wait for a PACS to connect or answer."""

PACS_EXTRA = (
    "pip install dicomweb-client pynetdicom (the pacs extra of dcmspec-compiler: pip install '.[pacs]' in its clone)"
)


def require(module: str, what: str, error: type[DcmspecError] = InputError) -> Any:
    """Import ``module`` of the ``pacs`` extra, or raise ``error`` saying how to install it."""
    import importlib

    from ..pydicom_import import import_requests

    try:
        import_requests()
        return importlib.import_module(module)
    except ImportError:
        raise error(
            f"{what} needs the Python package {module.split('.')[0]}, which is not installed",
            hint=PACS_EXTRA,
        ) from None


def credentials(url: str) -> tuple[str, Any] | None:
    """(``"bearer"``, token) or (``"basic"``, (user, password)) for ``url``, from the environment or a
    netrc file; None when none is given."""
    token = os.environ.get("DCMSPEC_DICOMWEB_TOKEN")
    if token:
        return "bearer", token
    user = os.environ.get("DCMSPEC_DICOMWEB_USER")
    if user:
        return "basic", (user, os.environ.get("DCMSPEC_DICOMWEB_PASSWORD", ""))
    path = Path(os.environ.get("DCMSPEC_NETRC") or Path.home() / ".netrc")
    host = urlsplit(url).hostname
    if host and path.is_file():
        try:
            entry = netrc.netrc(str(path)).authenticators(host)
        except (netrc.NetrcParseError, OSError):
            entry = None
        if entry and entry[0]:
            return "basic", (entry[0], entry[2] or "")
    return None


def session(url: str) -> Any:
    """A ``requests.Session`` for the DICOMweb service at ``url``, with its credentials and TLS settings."""
    requests = require("requests", "a DICOMweb service")
    s = requests.Session()
    s.trust_env = False  # credentials come from DCMSPEC_* or the netrc file named above, nothing else
    found = credentials(url)
    if found is not None and found[0] == "bearer":
        s.headers["Authorization"] = f"Bearer {found[1]}"
    elif found is not None:
        s.auth = found[1]
    s.verify = os.environ.get("DCMSPEC_DICOMWEB_CA_BUNDLE") or True
    return s


def failure(exc: BaseException, url: str, what: str) -> tuple[str, str | None]:
    """(message, hint) for a request to ``url`` that failed with ``exc`` (a ``requests`` exception)."""
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    if status in (401, 403):
        reason = "401 Unauthorized" if status == 401 else "403 Forbidden"
        return (
            f"the PACS at {url} refused access ({reason}) to {what}",
            "give credentials in the environment: DCMSPEC_DICOMWEB_TOKEN (bearer token), or"
            " DCMSPEC_DICOMWEB_USER and DCMSPEC_DICOMWEB_PASSWORD, or a netrc file (DCMSPEC_NETRC,"
            " default ~/.netrc); a spec never holds them",
        )
    if status == 404:
        return (
            f"the PACS at {url} does not have {what} (404 Not Found)",
            "check the UIDs (and the DICOMweb root of the URL)",
        )
    if status is not None:
        return f"the PACS at {url} answered {status} {getattr(response, 'reason', '')} to the request for {what}", None
    name = type(exc).__name__
    if "SSL" in name:
        return (
            f"the PACS at {url}: the TLS certificate could not be verified ({exc})",
            "set DCMSPEC_DICOMWEB_CA_BUNDLE to the CA bundle (PEM) that signed the server's certificate",
        )
    if "Timeout" in name:
        return f"the PACS at {url} did not answer the request for {what} within {TIMEOUT_S:.0f} s", None
    return (
        f"the PACS at {url} does not answer ({_reason(exc)}) to the request for {what}",
        "check that the PACS runs and that the URL is right",
    )


def _reason(exc: BaseException) -> str:
    text = str(exc)
    for marker in (
        "Connection refused",
        "Name or service not known",
        "Connection reset",
        "Remote end closed",
        "No route to host",
        "Temporary failure in name resolution",
    ):
        if marker in text:
            return marker.lower()
    return type(exc).__name__


def input_error(
    exc: BaseException, url: str, what: str, location: Location | None, spec_path: tuple[PathPart, ...]
) -> InputError:
    message, hint = failure(exc, url, what)
    return InputError(message, location=location, path=spec_path, hint=hint)
