"""Lazy frame-level reading of DICOM Pixel Data.

:class:`FrameReader` reads a file's header up to the Pixel Data element, remembers where the
element's value starts, and then reads only the bytes of the frames asked for: the whole file is
never loaded. Native (uncompressed) Pixel Data is addressed by arithmetic (PS3.5 8.1.1, 8.2;
frames of Bits Allocated 1 are bit-packed without padding between frames, so a frame may start
inside a byte). Encapsulated Pixel Data (PS3.5 A.4) is addressed through the Extended Offset
Table (PS3.3 C.7.6.3.1.8) or the Basic Offset Table when present; otherwise the item headers are
scanned once (seeking past the fragment values) and the offsets remembered. RLE Lossless
(PS3.5 Annex G) is decoded here; other codecs go to pydicom's decoders one frame at a time.

Returned arrays hold the stored values (rows x columns, or rows x columns x samples), with the
unused high bits of integer pixels cleared or sign-extended (PS3.5 8.1.1), as pydicom does.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import numpy as np
import pydicom
import pydicom.errors
from pydicom.dataset import Dataset
from pydicom.uid import UID

from ..errors import InputError
from .bits import unpack_bits
from .rle import rle_decode_frame

if TYPE_CHECKING:
    from pydicom.pixels.decoders.base import DecodeOptions

RLE_LOSSLESS = "1.2.840.10008.1.2.5"
ENCAPSULATED_UNCOMPRESSED = "1.2.840.10008.1.2.1.98"

_PIXEL_TAGS = {0x7FE00010: "PixelData", 0x7FE00008: "FloatPixelData", 0x7FE00009: "DoubleFloatPixelData"}
_ITEM = 0xFFFEE000
_SEQ_DELIM = 0xFFFEE0DD
_UNDEFINED = 0xFFFFFFFF
_CLOSED = "FrameReader is closed"


class FrameReader:
    """Read single frames of one DICOM file without loading the file.

    Use as a context manager (or call :meth:`close`)::

        with FrameReader(path) as reader:
            first = reader.read_frame(0)
    """

    def __init__(self, path: str | os.PathLike[str], *, correct_unused_bits: bool = True) -> None:
        self.path = Path(path)
        self.correct_unused_bits = correct_unused_bits
        fp = open(self.path, "rb")  # noqa: SIM115  held open until close() or __exit__
        self._fp: BinaryIO | None = fp
        try:
            self._read_header(fp)
        except Exception:
            self.close()
            raise
        # Encapsulated Pixel Data: how frames are found ("eot", "bot" or "scan") and the results.
        self._offset_kind = ""
        self._offsets = np.zeros(0, dtype=np.int64)
        self._first_fragment = 0
        self._frame_cache: dict[int, list[tuple[int, int]]] = {}
        self._fragments: list[list[tuple[int, int]]] | None = None  # per frame, after a scan

    # -- header -------------------------------------------------------------------------------

    def _read_header(self, fp: BinaryIO) -> None:
        try:
            try:
                ds = pydicom.dcmread(fp, stop_before_pixels=True, defer_size=1 << 16)
            except pydicom.errors.InvalidDicomError:
                fp.seek(0)  # no preamble / File Meta Information: let pydicom guess the encoding
                ds = pydicom.dcmread(fp, stop_before_pixels=True, defer_size=1 << 16, force=True)
        except Exception as exc:  # pydicom raises several types for broken files
            raise InputError(f"not a readable DICOM file: {self.path} ({exc})") from exc
        self.header: Dataset = ds
        meta = getattr(ds, "file_meta", None)
        ts = meta.get("TransferSyntaxUID") if meta is not None else None
        if ts is None:
            implicit, little = ds.original_encoding
            if implicit is None:
                raise InputError(f"{self.path} has no Transfer Syntax UID and no readable data set")
            ts = "1.2.840.10008.1.2" if implicit else "1.2.840.10008.1.2.1" if little else "1.2.840.10008.1.2.2"
        self.transfer_syntax_uid = UID(str(ts))
        if self.transfer_syntax_uid.is_deflated:
            raise InputError(
                f"{self.path}: Deflated transfer syntax cannot be read frame by frame",
                hint="decompress the file first (e.g. dcmconv +te)",
            )
        self._little = self.transfer_syntax_uid.is_little_endian
        self._implicit = self.transfer_syntax_uid.is_implicit_VR
        self.encapsulated = self.transfer_syntax_uid.is_encapsulated

        start = fp.tell()
        head = fp.read(8)
        if len(head) < 8:
            raise InputError(f"{self.path} has no Pixel Data")
        order = "<" if self._little else ">"
        group, elem = struct.unpack(order + "HH", head[:4])
        tag = (group << 16) | elem
        if tag not in _PIXEL_TAGS:
            raise InputError(f"{self.path} has no Pixel Data (found tag {tag:08X} where it should be)")
        self.pixel_keyword = _PIXEL_TAGS[tag]
        if self._implicit:
            (length,) = struct.unpack(order + "L", head[4:8])
            value_start = start + 8
        else:
            vr = head[4:6].decode("ascii", "replace")
            if vr in ("OB", "OW", "OF", "OD", "OL", "OV", "UN", "SQ", "UT", "UC", "UR"):
                (length,) = struct.unpack(order + "L", fp.read(4))
                value_start = start + 12
            else:
                (length,) = struct.unpack(order + "H", head[6:8])
                value_start = start + 8
        self.pixel_data_offset = value_start
        self.pixel_data_length = None if length == _UNDEFINED else length

        self.rows = int(ds.Rows)
        self.columns = int(ds.Columns)
        self.samples_per_pixel = int(ds.get("SamplesPerPixel", 1))
        self.bits_allocated = int(ds.BitsAllocated)
        self.bits_stored = int(ds.get("BitsStored", self.bits_allocated))
        self.pixel_representation = int(ds.get("PixelRepresentation", 0))
        self.planar_configuration = int(ds.get("PlanarConfiguration", 0) or 0)
        self.photometric_interpretation = str(ds.get("PhotometricInterpretation", ""))
        self.number_of_frames = int(ds.get("NumberOfFrames", 1) or 1)
        if self.encapsulated != (self.pixel_data_length is None):
            raise InputError(
                f"{self.path}: Pixel Data length does not match transfer syntax {self.transfer_syntax_uid.name}"
            )
        if self.pixel_data_length is not None:  # native (not encapsulated, as just checked)
            need = (self.frame_bits * self.number_of_frames + 7) // 8
            if self.pixel_data_length < need:
                raise InputError(
                    f"{self.path}: Pixel Data holds {self.pixel_data_length} bytes, "
                    f"{self.number_of_frames} frames need {need}"
                )

    @property
    def frame_bits(self) -> int:
        """Bits per native frame (PS3.5 8.1.1)."""
        return self.rows * self.columns * self.samples_per_pixel * self.bits_allocated

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of one frame as returned by :meth:`read_frame`."""
        if self.samples_per_pixel > 1:
            return (self.rows, self.columns, self.samples_per_pixel)
        return (self.rows, self.columns)

    # -- context manager ----------------------------------------------------------------------

    def close(self) -> None:
        if self._fp is not None:
            self._fp.close()
            self._fp = None

    def __enter__(self) -> FrameReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __len__(self) -> int:
        return self.number_of_frames

    # -- reading ------------------------------------------------------------------------------

    def read_frame(self, index: int) -> np.ndarray:
        """Frame ``index`` (0-based) as an array of shape :attr:`shape`."""
        if self._fp is None:
            raise ValueError("FrameReader is closed")
        if not 0 <= index < self.number_of_frames:
            raise IndexError(f"frame index {index} out of range 0..{self.number_of_frames - 1}")
        if not self.encapsulated:
            return self._native_frame(index)
        data = self.read_encoded_frame(index)
        if self.transfer_syntax_uid == RLE_LOSSLESS:
            try:
                arr = rle_decode_frame(data, self.rows, self.columns, self.bits_allocated, self.samples_per_pixel)
            except ValueError as exc:
                raise InputError(f"{self.path}: frame {index + 1}: {exc}") from exc
            return self._finish(arr.view(self._dtype().newbyteorder("=")))
        if self.transfer_syntax_uid == ENCAPSULATED_UNCOMPRESSED:
            return self._finish(self._unpack_native(data, 0))
        return self._codec_frame(data)

    def read_frames(self, indices: Iterable[int]) -> np.ndarray:
        """The frames ``indices`` (0-based) stacked along a new first axis. Native Pixel Data is read
        one run of consecutive frames at a time (one read, one unpacking per run)."""
        indices = [int(i) for i in indices]
        if not indices:
            return np.empty((0,) + self.shape, dtype=self._dtype())
        if (
            self.encapsulated
            or self.samples_per_pixel > 1
            or self._fp is None
            or min(indices) < 0
            or max(indices) >= self.number_of_frames
        ):
            return np.stack([self.read_frame(i) for i in indices])
        runs, start = [], 0
        for k in range(1, len(indices) + 1):
            if k == len(indices) or indices[k] != indices[k - 1] + 1:
                runs.append(self._native_run(indices[start], k - start))
                start = k
        return runs[0] if len(runs) == 1 else np.concatenate(runs)

    def read_native_bytes(self, first: int, count: int) -> bytes:
        """The stored bytes of ``count`` consecutive native frames from ``first`` whose frames start on a
        byte boundary (1-bit frames with Rows x Columns a multiple of 8, or any other bit depth)."""
        if self.encapsulated or (self.frame_bits % 8):
            raise ValueError("frames are encapsulated or do not start on byte boundaries")
        if self._fp is None or first < 0 or first + count > self.number_of_frames:
            raise IndexError(f"frames {first}..{first + count - 1} out of range")
        size = self.frame_bits // 8
        self._fp.seek(self.pixel_data_offset + first * size)
        data = self._fp.read(count * size)
        if len(data) != count * size:
            raise InputError(f"{self.path}: Pixel Data ends inside frame {first + count}")
        return data

    def _native_run(self, first: int, count: int) -> np.ndarray:
        """``count`` consecutive native frames from ``first``, as (count,) + shape."""
        bit_start = first * self.frame_bits
        bits = count * self.frame_bits
        byte_start, byte_end = bit_start // 8, (bit_start + bits + 7) // 8
        if (fp := self._fp) is None:
            raise ValueError(_CLOSED)
        fp.seek(self.pixel_data_offset + byte_start)
        data = fp.read(byte_end - byte_start)
        if len(data) != byte_end - byte_start:
            raise InputError(f"{self.path}: Pixel Data ends inside frame {first + count}")
        if self.bits_allocated == 1:
            arr = unpack_bits(data, bits, bit_start % 8).view(np.uint8)
        else:
            dtype = self._dtype()
            arr = np.frombuffer(data, dtype=dtype).astype(dtype.newbyteorder("="), copy=True)
        return self._finish(arr.reshape((count,) + self.shape))

    def read_encoded_frame(self, index: int) -> bytes:
        """The encoded bytes of frame ``index`` of encapsulated Pixel Data (fragments joined)."""
        if not self.encapsulated:
            raise ValueError("Pixel Data is not encapsulated")
        fragments = self._frame_fragments(index)
        if (fp := self._fp) is None:
            raise ValueError(_CLOSED)
        out = bytearray()
        for offset, length in fragments:
            fp.seek(offset)
            out += fp.read(length)
        return bytes(out)

    # -- native -------------------------------------------------------------------------------

    def _dtype(self) -> np.dtype:
        order = "<" if self._little else ">"
        if self.pixel_keyword == "FloatPixelData":
            return np.dtype(order + "f4")
        if self.pixel_keyword == "DoubleFloatPixelData":
            return np.dtype(order + "f8")
        if self.bits_allocated == 1:
            return np.dtype("u1")
        if self.bits_allocated not in (8, 16, 32, 64):
            raise InputError(f"{self.path}: Bits Allocated {self.bits_allocated} is not supported")
        kind = "i" if self.pixel_representation else "u"
        return np.dtype(f"{order}{kind}{self.bits_allocated // 8}")

    def _native_frame(self, index: int) -> np.ndarray:
        if self.photometric_interpretation.startswith("YBR_") and "422" in self.photometric_interpretation:
            raise InputError(f"{self.path}: native {self.photometric_interpretation} is not supported")
        bit_start = index * self.frame_bits
        byte_start = bit_start // 8
        byte_end = (bit_start + self.frame_bits + 7) // 8
        if (fp := self._fp) is None:
            raise ValueError(_CLOSED)
        fp.seek(self.pixel_data_offset + byte_start)
        data = fp.read(byte_end - byte_start)
        if len(data) != byte_end - byte_start:
            raise InputError(f"{self.path}: Pixel Data ends inside frame {index + 1}")
        return self._finish(self._unpack_native(data, bit_start % 8))

    def _unpack_native(self, data: bytes, bit_offset: int) -> np.ndarray:
        """Native frame bytes -> array; ``bit_offset`` is where a 1-bit frame starts in ``data``."""
        n = self.rows * self.columns * self.samples_per_pixel
        if self.bits_allocated == 1:
            try:
                arr = unpack_bits(data, n, bit_offset).view(np.uint8)
            except ValueError as exc:
                raise InputError(f"{self.path}: {exc}") from exc
        else:
            dtype = self._dtype()
            arr = np.frombuffer(data, dtype=dtype, count=n)
            arr = arr.astype(dtype.newbyteorder("="), copy=True)
        if self.samples_per_pixel > 1 and self.planar_configuration == 1:
            pixels: np.ndarray = arr.reshape(self.samples_per_pixel, self.rows, self.columns).transpose(1, 2, 0).copy()
            return pixels  # (numpy's stubs type transpose() as Any)
        return arr.reshape(self.shape)

    def _finish(self, arr: np.ndarray) -> np.ndarray:
        """Clear or sign-extend the bits above Bits Stored (PS3.5 8.1.1)."""
        if (
            self.correct_unused_bits
            and self.pixel_keyword == "PixelData"
            and 1 < self.bits_stored < self.bits_allocated
            and arr.dtype.kind in "iu"
        ):
            shift = arr.dtype.itemsize * 8 - self.bits_stored
            arr = np.right_shift(np.left_shift(arr, shift), shift)
        return arr

    # -- encapsulated -------------------------------------------------------------------------

    def _read_item_header(self, offset: int) -> tuple[int, int]:
        if (fp := self._fp) is None:
            raise ValueError(_CLOSED)
        fp.seek(offset)
        head = fp.read(8)
        if len(head) < 8:
            raise InputError(f"{self.path}: encapsulated Pixel Data ends without a delimiter")
        group, elem, length = struct.unpack("<HHL", head)
        return (group << 16) | elem, length

    def _frame_fragments(self, index: int) -> list[tuple[int, int]]:
        """The (file offset, length) of the fragment values of frame ``index`` (PS3.5 A.4).

        With an Extended or Basic Offset Table only that frame's item headers are read; without
        one, every item header is read once (values are skipped) and the result kept.
        """
        if self._fragments is None:
            self._index_fragments()
        if self._fragments is not None:
            return self._fragments[index]
        cached = self._frame_cache.get(index)
        if cached is not None:
            return cached
        start = self._first_fragment + int(self._offsets[index])
        if self._offset_kind == "eot":
            tag, length = self._read_item_header(start)
            if tag != _ITEM:
                raise InputError(f"{self.path}: Extended Offset Table points outside an item")
            frags = [(start + 8, length)]
        else:
            end = self._first_fragment + int(self._offsets[index + 1]) if index + 1 < self.number_of_frames else None
            frags = list(self._items(start, end))
        self._frame_cache[index] = frags
        return frags

    def _index_fragments(self) -> None:
        """Read the offset table once; scan the item headers only where there is none."""
        if self._offset_kind:
            return
        tag, bot_length = self._read_item_header(self.pixel_data_offset)
        if tag != _ITEM:
            raise InputError(f"{self.path}: encapsulated Pixel Data does not start with an item")
        if (fp := self._fp) is None:
            raise ValueError(_CLOSED)
        bot = np.frombuffer(fp.read(bot_length), dtype="<u4").astype(np.int64)
        self._first_fragment = first = self.pixel_data_offset + 8 + bot_length
        n = self.number_of_frames
        eot = self.header.get("ExtendedOffsetTable")
        if eot and len(eot) == 8 * n:
            self._offset_kind = "eot"
            self._offsets = np.frombuffer(eot, dtype="<u8").astype(np.int64)
            return
        if len(bot) == n and bot[0] == 0 and np.all(np.diff(bot) > 0):
            self._offset_kind = "bot"
            self._offsets = bot
            return
        self._offset_kind = "scan"
        self._fragments = self._group_fragments(list(self._items(first)))

    def _items(self, pos: int, end: int | None = None) -> Iterator[tuple[int, int]]:
        """(value offset, length) of the Pixel Data items from ``pos`` up to ``end`` or the delimiter."""
        while end is None or pos < end:
            tag, length = self._read_item_header(pos)
            if tag == _SEQ_DELIM:
                return
            if tag != _ITEM:
                raise InputError(f"{self.path}: bad item tag {tag:08X} in Pixel Data")
            yield pos + 8, length
            pos += 8 + length

    def _group_fragments(self, fragments: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
        """Fragments -> frames without an offset table: one each, all in one, or by start marker."""
        n = self.number_of_frames
        if len(fragments) == n:
            return [[f] for f in fragments]
        if n == 1:
            return [fragments]
        if (fp := self._fp) is None:
            raise ValueError(_CLOSED)
        starts = []
        for i, (offset, _length) in enumerate(fragments):
            fp.seek(offset)
            if _is_frame_start(fp.read(12)):
                starts.append(i)
        if len(starts) != n or starts[0] != 0:
            raise InputError(
                f"{self.path}: cannot tell which of {len(fragments)} fragments belong "
                f"to which of {n} frames (no offset table)"
            )
        bounds = starts + [len(fragments)]
        return [fragments[bounds[i] : bounds[i + 1]] for i in range(n)]

    def _codec_frame(self, data: bytes) -> np.ndarray:
        from pydicom.encaps import encapsulate
        from pydicom.pixels.decoders.base import get_decoder  # pydicom.pixels re-exports it implicitly

        try:
            decoder = get_decoder(self.transfer_syntax_uid)
        except NotImplementedError as exc:
            raise InputError(f"{self.path}: no decoder for {self.transfer_syntax_uid.name}") from exc
        opts: DecodeOptions = {
            "rows": self.rows,
            "columns": self.columns,
            "samples_per_pixel": self.samples_per_pixel,
            "bits_allocated": self.bits_allocated,
            "bits_stored": self.bits_stored,
            "pixel_representation": self.pixel_representation,
            "photometric_interpretation": self.photometric_interpretation,
            "number_of_frames": 1,
            "planar_configuration": self.planar_configuration,
        }
        try:
            # pydicom annotates its **kwargs as DecodeOptions values (meant: Unpack[DecodeOptions])
            arr, _meta = decoder.as_array(encapsulate([data], has_bot=False), index=0, **opts)  # type: ignore[arg-type]
        except (RuntimeError, ValueError) as exc:
            raise InputError(
                f"{self.path}: cannot decode {self.transfer_syntax_uid.name} ({exc})",
                hint="install a pydicom decoding plugin (e.g. pylibjpeg with its codecs)",
            ) from exc
        return arr


def _is_frame_start(head: bytes) -> bool:
    """True at the start of a JPEG, JPEG-LS, JPEG 2000 (J2K or JP2) or JPEG XL codestream."""
    return (
        head[:2] == b"\xff\xd8"
        or head[:4] == b"\xff\x4f\xff\x51"
        or head[:12] == b"\x00\x00\x00\x0cjP  \r\n\x87\n"
        or head[:2] == b"\xff\x0a"
        or head[:12] == b"\x00\x00\x00\x0cJXL \r\n\x87\n"
    )
