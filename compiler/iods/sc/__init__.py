"""Secondary Capture images (PS3.3 A.8): pictures as DICOM.

- :mod:`.image`: :class:`SCImage` (SC Image Storage), :class:`MultiFrameSCImage` (multi-frame grayscale
  byte/word and true colour SC), :func:`scread`
- :mod:`.png`: a small zlib-based PNG codec (8/16-bit grey, 8-bit RGB)
- :mod:`.render`: a source image windowed, with outlines or graphics burnt in
"""

from .image import CONVERSION_TYPES, MultiFrameSCImage, SCImage, scread
from .png import PNGError, decode_png, encode_png, read_png

__all__ = [
    "CONVERSION_TYPES",
    "MultiFrameSCImage",
    "PNGError",
    "SCImage",
    "decode_png",
    "encode_png",
    "read_png",
    "scread",
]
