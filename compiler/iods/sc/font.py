"""A small bitmap font for burning text into pictures (presentation state texts, C.10.5).

Each printable ASCII character (32..126) is a 5 x 7 glyph drawn in a 6 x 8 cell (one column and one row of
space after it). The table below is this project's own design: per character, 7 rows of two hex digits, top
row first, bit 4 the left-most column. Characters outside printable ASCII are drawn as a box.
"""

from __future__ import annotations

import numpy as np

__all__ = ["CELL_HEIGHT", "CELL_WIDTH", "GLYPH_HEIGHT", "GLYPH_WIDTH", "glyph", "line_bitmap", "text_lines"]

GLYPH_WIDTH, GLYPH_HEIGHT = 5, 7
CELL_WIDTH, CELL_HEIGHT = GLYPH_WIDTH + 1, GLYPH_HEIGHT + 1

#: characters 32..126 in order, eight a line (the characters are named in the comment)
_TABLE = r"""
    00000000000000 04040404040004 0A0A0A00000000 0A0A1F0A1F0A0A 040F140E051E04 18190204081303 0C12140815120D 0C040800000000  #  !"#$%&'
    02040808080402 08040202020408 0004150E150400 0004041F040400 000000000C0408 0000001F000000 00000000000C0C 00010204081000  # ()*+,-./
    0E11131519110E 040C040404040E 0E11010204081F 1F02040201110E 02060A121F0202 1F101E0101110E 0608101E11110E 1F010204080808  # 01234567
    0E11110E11110E 0E11110F01020C 000C0C000C0C00 000C0C000C0408 02040810080402 00001F001F0000 08040201020408 0E110102040004  # 89:;<=>?
    0E11010D15150E 0E1111111F1111 1E11111E11111E 0E11101010110E 1C12111111121C 1F10101E10101F 1F10101E101010 0E11101711110F  # @ABCDEFG
    1111111F111111 0E04040404040E 0702020202120C 11121418141211 1010101010101F 111B1515111111 11111915131111 0E11111111110E  # HIJKLMNO
    1E11111E101010 0E11111115120D 1E11111E141211 0F10100E01011E 1F040404040404 1111111111110E 11111111110A04 1111111515150A  # PQRSTUVW
    11110A040A1111 1111110A040404 1F01020408101F 0E08080808080E 00100804020100 0E02020202020E 040A1100000000 0000000000001F  # XYZ[\]^_
    08040200000000 00000E010F110F 1010161911111E 00000E1010110E 01010D1311110F 00000E111F100E 0609081C080808 000F11110F010E  # `abcdefg
    10101619111111 04000C0404040E 0200060202120C 10101214181412 0C04040404040E 00001A15151111 00001619111111 00000E1111110E  # hijklmno
    00001E111E1010 00000D130F0101 00001619101010 00000E100E011E 08081C08080906 0000111111130D 00001111110A04 0000111115150A  # pqrstuvw
    0000110A040A11 000011110F010E 00001F0204081F 02040408040402 04040404040404 08040402040408 00000815020000  # xyz{|}~
"""
_BOX = "1F11111111111F"  # any other character


def _bits(hex_rows: str) -> np.ndarray:
    rows = [int(hex_rows[i : i + 2], 16) for i in range(0, 2 * GLYPH_HEIGHT, 2)]
    return np.array([[(r >> (GLYPH_WIDTH - 1 - c)) & 1 for c in range(GLYPH_WIDTH)] for r in rows], dtype=bool)


_GLYPHS = {
    chr(32 + i): _bits(h)
    for i, h in enumerate(cell for line in _TABLE.strip().splitlines() for cell in line.split("#")[0].split())
}
_BOX_GLYPH = _bits(_BOX)


def glyph(char: str) -> np.ndarray:
    """The (7, 5) bool bitmap of one character (a box for characters outside printable ASCII)."""
    return _GLYPHS.get(char, _BOX_GLYPH)


def line_bitmap(line: str) -> np.ndarray:
    """One line of text as a (7, 6 n - 1) bool bitmap: the glyphs side by side, one blank column between."""
    if not line:
        return np.zeros((GLYPH_HEIGHT, 0), dtype=bool)
    out = np.zeros((GLYPH_HEIGHT, CELL_WIDTH * len(line) - 1), dtype=bool)
    for i, char in enumerate(line):
        out[:, i * CELL_WIDTH : i * CELL_WIDTH + GLYPH_WIDTH] = glyph(char)
    return out


def text_lines(text: str) -> list[str]:
    """The lines of an Unformatted Text Value (ST: CR LF, LF or CR end a line; PS3.5 6.2)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
