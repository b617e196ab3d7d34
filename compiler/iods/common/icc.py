"""A small sRGB ICC display profile (ICC.1 version 2.1) for the ICC Profile Module (PS3.3 C.11.15).

Tags: profile description, copyright, media white point (D50), the sRGB primaries adapted to D50 (Bradford,
as the ICC specifies for the PCS) and the sRGB tone curve (IEC 61966-2-1) sampled at 1024 points.
"""

from __future__ import annotations

import struct
from functools import lru_cache

import numpy as np

__all__ = ["srgb_icc_profile"]

_D50 = (0.9642, 1.0, 0.8249)
_PRIMARIES_D50 = {
    b"rXYZ": (0.4361, 0.2225, 0.0139),
    b"gXYZ": (0.3851, 0.7169, 0.0971),
    b"bXYZ": (0.1431, 0.0606, 0.7141),
}


def _s15(v: float) -> bytes:
    return struct.pack(">i", round(v * 65536))


def _xyz(xyz: tuple[float, float, float]) -> bytes:
    return b"XYZ " + b"\0" * 4 + b"".join(_s15(v) for v in xyz)


def _text_description(text: str) -> bytes:
    ascii_ = text.encode("ascii") + b"\0"
    return b"desc" + b"\0" * 4 + struct.pack(">I", len(ascii_)) + ascii_ + b"\0" * 8 + b"\0" * 3 + b"\0" * 67


def _curve() -> bytes:
    x = np.linspace(0.0, 1.0, 1024)
    y = np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)
    return b"curv" + b"\0" * 4 + struct.pack(">I", 1024) + np.round(y * 65535).astype(">u2").tobytes()


@lru_cache(maxsize=1)
def srgb_icc_profile() -> bytes:
    """The bytes of the profile (the same every time)."""
    curve = _curve()
    tags = (
        [
            (b"desc", _text_description("sRGB (dcmspec)")),
            (b"cprt", b"text" + b"\0" * 4 + b"No copyright\0"),
            (b"wtpt", _xyz(_D50)),
        ]
        + [(sig, _xyz(v)) for sig, v in _PRIMARIES_D50.items()]
        + [(b"rTRC", curve), (b"gTRC", curve), (b"bTRC", curve)]
    )
    table_size = 4 + 12 * len(tags)
    offset = 128 + table_size
    entries: list[tuple[bytes, int, int]] = []
    body = b""
    placed: dict[bytes, int] = {}
    for sig, data in tags:
        if data in placed:  # the three TRCs share one curve
            entries.append((sig, placed[data], len(data)))
            continue
        pad = (-offset) % 4
        body += b"\0" * pad
        offset += pad
        placed[data] = offset
        entries.append((sig, offset, len(data)))
        body += data
        offset += len(data)
    body += b"\0" * ((-offset) % 4)
    size = 128 + table_size + len(body)
    header = (
        struct.pack(">I", size)
        + b"\0" * 4
        + bytes([2, 0x10, 0, 0])
        + b"mntr"
        + b"RGB "
        + b"XYZ "
        + b"\0" * 12
        + b"acsp"
        + b"\0" * 4  # primary platform
        + b"\0" * 4  # flags
        + b"\0" * 8  # device manufacturer, device model
        + b"\0" * 8  # device attributes
        + b"\0" * 4  # rendering intent: perceptual
        + b"".join(_s15(v) for v in _D50)  # PCS illuminant, bytes 68-79 (ICC.1 7.2)
        + b"\0" * 4  # profile creator
    )
    header += b"\0" * (128 - len(header))
    table = struct.pack(">I", len(tags)) + b"".join(struct.pack(">4sII", s, o, n) for s, o, n in entries)
    return header + table + body
