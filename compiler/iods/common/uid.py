"""Unique identifiers (PS3.5 9 and B.2).

dcmspec derives UIDs from content by default, so the same spec and inputs give the same UIDs and hence
the same bytes. A derived UID is ``ROOT`` + the decimal form of a SHA-256 digest of the parts, cut to
fit 64 characters; with the default root ``2.25.`` this is the UUID-derived form of PS3.5 B.2 (a 128-bit
integer). ``UIDFactory(mode="random")`` gives fresh UIDs instead.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from typing import Literal

UUID_ROOT = "2.25."
_UID_RE = re.compile(r"^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$")


def is_valid_uid(value: str) -> bool:
    """True when ``value`` follows PS3.5 9.1: digits and dots, no leading zeros, at most 64 chars."""
    return isinstance(value, str) and 0 < len(value) <= 64 and bool(_UID_RE.match(value))


def _check_root(root: str) -> str:
    root = root if root.endswith(".") else root + "."
    if not is_valid_uid(root[:-1]) or len(root) > 40:
        raise ValueError(f"UID root {root[:-1]!r} is not a valid UID prefix of at most 39 characters (PS3.5 9.1)")
    return root


def _digits_for(root: str, integer: int) -> str:
    room = 64 - len(root)
    digits = str(integer)
    if len(digits) > room:
        digits = digits[:room].lstrip("0") or "0"
    return root + digits


def derive_uid(*parts: object, root: str = UUID_ROOT) -> str:
    """A UID that depends only on ``parts`` (and ``root``)."""
    root = _check_root(root)
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8")).digest()
    integer = int.from_bytes(digest[:16], "big")
    return _digits_for(root, integer)


def random_uid(root: str = UUID_ROOT) -> str:
    """A fresh UID from a random UUID (PS3.5 B.2 when ``root`` is ``2.25.``)."""
    return _digits_for(_check_root(root), uuid.uuid4().int)


class UIDFactory:
    """Hands out UIDs for one build: derived from content (default) or random.

    ``uid("series", spec_id)`` returns the same value for the same parts in ``derived`` mode.
    """

    def __init__(self, root: str = UUID_ROOT, mode: Literal["derived", "random"] = "derived", salt: str = "") -> None:
        self.root = _check_root(root)
        self.mode = mode
        self.salt = salt

    def uid(self, *parts: object) -> str:
        if self.mode == "random":
            return random_uid(self.root)
        return derive_uid(self.salt, *parts, root=self.root)
