"""Colours: sRGB (0-255) to and from DICOM CIELab PCS values (PS3.3 C.10.7.1.1).

Recommended Display CIELab Value holds L*, a*, b* scaled to unsigned 16-bit integers: L* 0..100 maps to
0..0xFFFF and a*, b* -128..127 map to 0..0xFFFF. The conversion here is the usual one: sRGB companding
(IEC 61966-2-1), linear RGB to CIE XYZ, then XYZ to CIELab relative to the D65 white point.
"""

from __future__ import annotations

from collections.abc import Sequence

from ...errors import DicomConformanceError

_RGB_TO_XYZ = (
    (0.4124564, 0.3575761, 0.1804375),
    (0.2126729, 0.7151522, 0.0721750),
    (0.0193339, 0.1191920, 0.9503041),
)
_XYZ_TO_RGB = (
    (3.2404542, -1.5371385, -0.4985314),
    (-0.9692660, 1.8760108, 0.0415560),
    (0.0556434, -0.2040259, 1.0572252),
)
_WHITE_D65 = (0.95047, 1.0, 1.08883)
_DELTA = 6.0 / 29.0


def _linear(c: float) -> float:
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def _gamma(c: float) -> float:
    return 12.92 * c if c <= 0.0031308 else 1.055 * c ** (1 / 2.4) - 0.055


def _f(t: float) -> float:
    return t ** (1 / 3) if t > _DELTA**3 else t / (3 * _DELTA**2) + 4 / 29


def _f_inv(t: float) -> float:
    return t**3 if t > _DELTA else 3 * _DELTA**2 * (t - 4 / 29)


def check_rgb(rgb: Sequence[int]) -> tuple[int, int, int]:
    """``rgb`` as three integers 0..255, or :class:`DicomConformanceError`."""
    values = tuple(rgb)
    if len(values) != 3 or not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 255 for v in values):
        raise DicomConformanceError(f"a display colour must be three integers 0-255 (red, green, blue), got {rgb!r}")
    return values


def srgb_to_lab(rgb: Sequence[int]) -> tuple[float, float, float]:
    """CIELab (D65) of an sRGB colour given as 0..255 integers."""
    r, g, b = (_linear(v / 255.0) for v in check_rgb(rgb))
    x, y, z = (m[0] * r + m[1] * g + m[2] * b for m in _RGB_TO_XYZ)
    fx, fy, fz = _f(x / _WHITE_D65[0]), _f(y / _WHITE_D65[1]), _f(z / _WHITE_D65[2])
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def lab_to_srgb(lab: Sequence[float]) -> tuple[int, int, int]:
    """The sRGB colour (0..255, clipped) of a CIELab (D65) value."""
    L, a, b = lab
    fy = (L + 16) / 116
    fx, fz = fy + a / 500, fy - b / 200
    x, y, z = _f_inv(fx) * _WHITE_D65[0], _f_inv(fy) * _WHITE_D65[1], _f_inv(fz) * _WHITE_D65[2]
    out = []
    for m in _XYZ_TO_RGB:
        c = _gamma(min(max(m[0] * x + m[1] * y + m[2] * z, 0.0), 1.0))
        out.append(round(min(max(c, 0.0), 1.0) * 255))
    return out[0], out[1], out[2]


def lab_to_dicom(lab: Sequence[float]) -> tuple[int, int, int]:
    """Scale CIELab to the unsigned 16-bit PCS values of PS3.3 C.10.7.1.1."""
    L, a, b = lab

    def clip(v: float) -> int:
        return int(min(max(round(v), 0), 0xFFFF))

    return (clip(L * 0xFFFF / 100.0), clip((a + 128) * 0xFFFF / 255.0), clip((b + 128) * 0xFFFF / 255.0))


def dicom_to_lab(values: Sequence[int]) -> tuple[float, float, float]:
    """Inverse of :func:`lab_to_dicom`."""
    L, a, b = (int(v) for v in values)
    return L * 100.0 / 0xFFFF, a * 255.0 / 0xFFFF - 128, b * 255.0 / 0xFFFF - 128


def rgb_to_dicom_lab(rgb: Sequence[int]) -> tuple[int, int, int]:
    """Recommended Display CIELab Value of an sRGB colour (0..255)."""
    return lab_to_dicom(srgb_to_lab(rgb))


def dicom_lab_to_rgb(values: Sequence[int]) -> tuple[int, int, int]:
    """sRGB colour (0..255) of a Recommended Display CIELab Value."""
    return lab_to_srgb(dicom_to_lab(values))
