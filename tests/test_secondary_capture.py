"""Secondary Capture images (PS3.3 A.8): builder layer, PNG codec, spec kind, renders, --preview, errors.

Oracles: dciodvfy (IOD and module rules) on every SC built here; pydicom's pixel decoder, dcmtk's dcm2pnm
and highdicom (as a reader) give back the input pixels; Pillow decodes the PNGs we write and writes the PNGs
we read (with its own filter choices); dcmtk's dcmp2pgm renders the image through a presentation state (the
grey levels of an SC rendered from it); segment outlines are compared with the mask minus its 4-neighbour
erosion computed here by hand; windowed grey levels with the VOI linear formula computed here.
"""

from __future__ import annotations

import datetime as dt
import doctest
import io
import json
import re
import struct
import subprocess
import zlib
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.pixels import apply_color_lut

from dcmspec_compiler.errors import DicomConformanceError
from dcmspec_compiler.iods.common.modules import Equipment
from dcmspec_compiler.iods.sc import MultiFrameSCImage, PNGError, SCImage, decode_png, encode_png, scread
from dcmspec_compiler.pipeline import build_specs
from dcmspec_compiler.write.output import write_dicom

from conftest import DCMTK_INSTALL, ROOT, dciodvfy_findings, require_tool

EXAMPLES = ROOT / "specs_examples"
PHANTOM = EXAMPLES / "phantom" / "ct"
#: General Series Laterality is Type 2C; written empty (unknown), dciodvfy warns (as for presentation states)
LATERALITY_WARNING = "attribute <Laterality>"
RNG = np.random.default_rng(11)


def _phantom() -> list[pydicom.Dataset]:
    return sorted((pydicom.dcmread(p) for p in PHANTOM.iterdir()), key=lambda d: float(d.ImagePositionPatient[2]))


def _sc(cls, pixels, **kwargs):
    args = {
        "patient_study": _phantom()[0],
        "series_instance_uid": "2.25.41",
        "series_number": 1300,
        "sop_instance_uid": "2.25.42",
        "content_datetime": dt.datetime(2024, 1, 3, 9, 30),
        "equipment": Equipment("Lab", "Viewer", "1.0", "SN1"),
        "source_images": [_phantom()[0]],
    }
    args.update(kwargs)
    return cls(pixels, **args)


def _write(ds, path: Path) -> Path:
    with open(path, "wb") as fh:
        write_dicom(fh, ds)
    return path


def _assert_valid(path: Path) -> None:
    errors, warnings = dciodvfy_findings(path)
    assert errors == [], errors
    assert all(LATERALITY_WARNING in w or "DICOMDIR" in w for w in warnings), warnings


def _read_pnm(path: Path) -> np.ndarray:
    """A PGM/PPM as dcm2pnm writes it: binary P5/P6 (8 bits) or ASCII P2/P3 (16 bits)."""
    data = path.read_bytes()
    m = re.match(rb"(P[2356])\s+(?:#[^\n]*\s+)*(\d+)\s+(\d+)\s+(\d+)\s", data)
    kind, width, height, maxval = m.group(1), int(m.group(2)), int(m.group(3)), int(m.group(4))
    channels = 3 if kind in (b"P3", b"P6") else 1
    if kind in (b"P5", b"P6"):
        values = np.frombuffer(data[m.end() :], np.uint8 if maxval < 256 else ">u2")
    else:
        values = np.array(data[m.end() :].split(), dtype=np.int64)
    shape = (height, width, 3) if channels == 3 else (height, width)
    return values[: height * width * channels].reshape(shape)


def _dcmtk_frames(path: Path, tmp_path: Path, frames: int, sixteen: bool) -> np.ndarray:
    exe = require_tool("dcm2pnm", DCMTK_INSTALL)
    out = tmp_path / f"{path.stem}-dcmtk"
    cmd = [exe, "--no-windowing"] + (["+opw"] if sixteen else []) + (["+Fa"] if frames > 1 else [])
    subprocess.run(cmd + [str(path), str(out)], check=True, capture_output=True)
    if frames == 1:
        return _read_pnm(out)[None]
    return np.stack(
        [_read_pnm(p) for p in sorted(tmp_path.glob(f"{out.name}.*"), key=lambda p: int(p.name.split(".")[-2]))]
    )


CASES = [
    (SCImage, RNG.integers(0, 256, (40, 50), dtype=np.uint8), "1.2.840.10008.5.1.4.1.1.7"),
    (SCImage, RNG.integers(0, 65536, (31, 17), dtype=np.uint16), "1.2.840.10008.5.1.4.1.1.7"),
    (SCImage, RNG.integers(0, 256, (33, 21, 3), dtype=np.uint8), "1.2.840.10008.5.1.4.1.1.7"),
    (MultiFrameSCImage, RNG.integers(0, 256, (4, 20, 30), dtype=np.uint8), "1.2.840.10008.5.1.4.1.1.7.2"),
    (MultiFrameSCImage, RNG.integers(0, 65536, (3, 20, 30), dtype=np.uint16), "1.2.840.10008.5.1.4.1.1.7.3"),
    (MultiFrameSCImage, RNG.integers(0, 256, (2, 15, 25, 3), dtype=np.uint8), "1.2.840.10008.5.1.4.1.1.7.4"),
]


@pytest.mark.parametrize(
    "cls, pixels, sop_class", CASES, ids=[f"{c[0].__name__}-{c[1].dtype}-{c[1].ndim}d" for c in CASES]
)
def test_builder_pixels_round_trip_through_other_readers(tmp_path, cls, pixels, sop_class):
    path = _write(_sc(cls, pixels), tmp_path / "sc.dcm")
    _assert_valid(path)
    ds = pydicom.dcmread(path)
    assert ds.SOPClassUID == sop_class and ds.ConversionType == "WSD"
    assert ds.PatientID == _phantom()[0].PatientID and ds.StudyInstanceUID == _phantom()[0].StudyInstanceUID
    assert ds.SourceImageSequence[0].ReferencedSOPInstanceUID == _phantom()[0].SOPInstanceUID
    np.testing.assert_array_equal(ds.pixel_array, pixels)  # pydicom's decoder
    frames = pixels.shape[0] if cls is MultiFrameSCImage else 1
    dcmtk = _dcmtk_frames(path, tmp_path, frames, pixels.dtype == np.uint16)  # dcmtk's decoder
    np.testing.assert_array_equal(dcmtk, pixels if cls is MultiFrameSCImage else pixels[None])
    image = hd.imread(str(path))  # highdicom as a reader
    got = np.stack([image.get_frame(i + 1, apply_voi_transform=False) for i in range(frames)])
    np.testing.assert_array_equal(got, pixels if cls is MultiFrameSCImage else pixels[None])
    np.testing.assert_array_equal(scread(path).pixels(), pixels)  # and our read side


def test_builder_refuses_what_the_sc_iods_do_not_hold():
    for bad, words in [
        (np.zeros((4, 4), np.float32), "uint8 or uint16"),
        (np.zeros((4, 4, 3), np.uint16), "uint8"),
        (np.zeros((2, 4, 4), np.uint8), "shape"),
        (np.zeros((4, 0), np.uint8), "empty"),
        (np.zeros((4, 4), np.int16), "unsigned"),
    ]:
        with pytest.raises(DicomConformanceError, match=words):
            _sc(SCImage, bad)
    with pytest.raises(DicomConformanceError, match="Conversion Type"):
        _sc(SCImage, np.zeros((4, 4), np.uint8), conversion_type="XX")
    with pytest.raises(DicomConformanceError, match="RGB"):
        _sc(SCImage, np.zeros((4, 4, 3), np.uint8), window=(40, 400))
    with pytest.raises(DicomConformanceError, match=r"SeriesDescription .* 65 characters"):  # the VR table (LO)
        _sc(SCImage, np.zeros((4, 4), np.uint8), series_description="x" * 65)


def test_class_docstring_example_runs():
    import dcmspec_compiler.iods.sc.image as module

    result = doctest.testmod(module, raise_on_error=False, verbose=False)
    assert result.attempted >= 5 and result.failed == 0


# ------------------------------------------------------------------------------------------- PNG codec
def _pillow_png(array: np.ndarray, **kwargs) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, "PNG", **kwargs)
    return buf.getvalue()


def _filter_types(png: bytes, height: int, stride: int) -> set[int]:
    """Filter type bytes of a non-interlaced PNG, read here by hand with zlib."""
    pos, idat = 8, b""
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos : pos + 8])
        if kind == b"IDAT":
            idat += png[pos + 8 : pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompress(idat)
    return {raw[y * (stride + 1)] for y in range(height)}


def test_png_decoder_reads_what_pillow_writes_with_every_filter():
    x = np.add.outer(np.arange(60), np.arange(70) * 3)
    smooth = np.stack([x % 256, (x * 7) % 256, (x // 3) % 256], -1).astype(np.uint8)
    noisy = RNG.integers(0, 256, (60, 70, 3), dtype=np.uint8)
    mixed = np.concatenate([smooth, noisy, smooth // 2], axis=0)
    seen: set[int] = set()
    for array in (mixed, mixed[..., 0], (mixed[..., 0].astype(np.uint16) * 257), noisy[..., 1]):
        png = _pillow_png(array)
        np.testing.assert_array_equal(decode_png(png), array)
        stride = array.shape[1] * (3 if array.ndim == 3 else array.dtype.itemsize)
        seen |= _filter_types(png, array.shape[0], stride)
    assert 4 in seen and len(seen) >= 2, seen  # Pillow's adaptive filtering: Paeth and others
    palette = Image.fromarray(smooth).convert("P", palette=Image.Palette.ADAPTIVE, colors=64)
    buf = io.BytesIO()
    palette.save(buf, "PNG")
    np.testing.assert_array_equal(decode_png(buf.getvalue()), np.asarray(palette.convert("RGB")))
    rgba = np.concatenate([smooth, np.full(smooth.shape[:2] + (1,), 255, np.uint8)], -1)
    np.testing.assert_array_equal(decode_png(_pillow_png(rgba)), smooth)


def _png_by_hand(pixels: np.ndarray, filters: list[int]) -> bytes:
    """A PNG of 8-bit grey or RGB ``pixels`` with the given filter type per row, filtered here byte by byte as
    PNG 9.2-9.4 define them (Sub, Up, Average, Paeth), independently of dcmspec's decoder."""
    height, width = pixels.shape[:2]
    bpp = 3 if pixels.ndim == 3 else 1
    rows = [[int(v) for v in pixels[y].reshape(-1)] for y in range(height)]
    out = b""
    for y, kind in enumerate(filters):
        prior = rows[y - 1] if y else [0] * len(rows[0])
        line = []
        for i, x in enumerate(rows[y]):
            a = rows[y][i - bpp] if i >= bpp else 0
            b, c = prior[i], (prior[i - bpp] if i >= bpp else 0)
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            paeth = a if pa <= pb and pa <= pc else b if pb <= pc else c
            line.append((x - [0, a, b, (a + b) // 2, paeth][kind]) % 256)
        out += bytes([kind] + line)
    chunk = lambda k, body: struct.pack(">I", len(body)) + k + body + struct.pack(">I", zlib.crc32(k + body))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2 if bpp == 3 else 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(out)) + chunk(b"IEND", b"")


@pytest.mark.parametrize("colour", [False, True])
def test_png_decoder_undoes_each_filter_as_the_png_standard_defines_it(colour):
    pixels = RNG.integers(0, 256, (15, 11, 3) if colour else (15, 11), dtype=np.uint8)
    for filters in ([y % 5 for y in range(15)], [3] * 15, [4] * 15, [1, 2] * 7 + [0]):
        png = _png_by_hand(pixels, filters)
        np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(png))), pixels)  # the encoding is right
        np.testing.assert_array_equal(decode_png(png), pixels)


def test_png_encoder_output_is_read_by_pillow():
    for array in (
        RNG.integers(0, 256, (9, 13), dtype=np.uint8),
        RNG.integers(0, 65536, (9, 13), dtype=np.uint16),
        RNG.integers(0, 256, (9, 13, 3), dtype=np.uint8),
    ):
        got = np.asarray(Image.open(io.BytesIO(encode_png(array))))
        np.testing.assert_array_equal(got.astype(array.dtype), array)


def test_png_decoder_refuses_what_it_does_not_read():
    rgba = np.zeros((4, 4, 4), np.uint8)
    with pytest.raises(PNGError, match="transparent"):
        decode_png(_pillow_png(rgba))
    with pytest.raises(PNGError, match="signature"):
        decode_png(b"GIF89a....")
    good = encode_png(np.zeros((4, 4), np.uint8))
    with pytest.raises(PNGError, match="CRC"):
        decode_png(good[:40] + bytes([good[40] ^ 1]) + good[41:])
    with pytest.raises(PNGError, match=r"truncated|IEND"):
        decode_png(good[:-12])
    buf = io.BytesIO()
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(buf, "PNG", interlace=1)
    if decode_png.__module__ and b"IHDR" in buf.getvalue():
        ihdr = buf.getvalue()[16:29]
        if ihdr[-1] == 1:
            with pytest.raises(PNGError, match="interlaced"):
                decode_png(buf.getvalue())


# ------------------------------------------------------------------------------------------- spec kind
def _spec(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text.replace("PHANTOM", str(PHANTOM)).replace("EXAMPLES", str(EXAMPLES)), encoding="utf-8")
    return path


def _build(paths, out: Path, **kwargs):
    result = build_specs(list(paths), out, **kwargs)
    return result


def test_spec_from_npy_png_and_multi_frame(tmp_path):
    rgb = RNG.integers(0, 256, (24, 32, 3), dtype=np.uint8)
    grey16 = RNG.integers(0, 4096, (24, 32), dtype=np.uint16)
    frames = RNG.integers(0, 256, (3, 24, 32), dtype=np.uint8)
    np.save(tmp_path / "rgb.npy", rgb)
    np.save(tmp_path / "frames.npy", frames)
    (tmp_path / "grey.png").write_bytes(_pillow_png(grey16))
    specs = [
        _spec(
            tmp_path,
            "a.yaml",
            "dcmspec: 1\nkind: SecondaryCapture\nid: shot\nsources: {images: PHANTOM}\n"
            "pixels: rgb.npy\nconversion_type: SYN\n",
        ),
        _spec(
            tmp_path,
            "b.yaml",
            "dcmspec: 1\nkind: SecondaryCapture\nid: grey\n"
            "subject: {patient: {id: 'P9', name: Doe^Jane}, study: {date: 2024-02-03}}\n"
            "pixels: grey.png\nwindow: {center: 2000, width: 4000}\n",
        ),
        _spec(
            tmp_path,
            "c.yaml",
            "dcmspec: 1\nkind: SecondaryCapture\nid: stack\nsources: {images: PHANTOM}\n"
            "pixels: {file: frames.npy, multi_frame: true}\n",
        ),
    ]
    result = _build(specs, tmp_path / "out")
    assert not result.errors, [e.format() for e in result.errors]
    for name, expected in (("shot", rgb), ("grey", grey16), ("stack", frames)):
        path = tmp_path / "out" / f"{name}.dcm"
        _assert_valid(path)
        np.testing.assert_array_equal(pydicom.dcmread(path).pixel_array, expected)
    grey = pydicom.dcmread(tmp_path / "out" / "grey.dcm")
    assert grey.PatientID == "P9" and grey.WindowCenter == 2000 and grey.StudyDate == "20240203"
    assert pydicom.dcmread(tmp_path / "out" / "shot.dcm").ConversionType == "SYN"
    assert pydicom.dcmread(tmp_path / "out" / "stack.dcm").SOPClassUID == "1.2.840.10008.5.1.4.1.1.7.2"


def _windowed(hu: np.ndarray, center: float, width: float) -> np.ndarray:
    """PS3.3 C.11.2.1.2.1, written out here: the LINEAR VOI function to 0..255."""
    out = np.empty(hu.shape)
    low, high = hu <= center - 0.5 - (width - 1) / 2, hu > center - 0.5 + (width - 1) / 2
    out[low], out[high] = 0, 255
    mid = ~low & ~high
    out[mid] = ((hu[mid] - (center - 0.5)) / (width - 1) + 0.5) * 255
    return np.rint(out).astype(np.uint8)


def _inner_boundary(mask: np.ndarray) -> np.ndarray:
    """Pixels of ``mask`` with a 4-neighbour outside it (the image border counts as outside): mask XOR its
    erosion by a cross, by hand."""
    p = np.pad(mask, 1)
    eroded = mask & p[:-2, 1:-1] & p[2:, 1:-1] & p[1:-1, :-2] & p[1:-1, 2:]
    return mask ^ eroded


SEG_RENDER = """dcmspec: 1
kind: SecondaryCapture
id: organs-qc
sources: {images: PHANTOM}
render:
  segmentation: {spec: EXAMPLES/organs-binary.yaml}
  images: [5, 8]
"""


def test_render_from_segmentation_burns_in_the_exact_outlines(tmp_path):
    result = _build([_spec(tmp_path, "qc.yaml", SEG_RENDER)], tmp_path / "out")
    assert not result.errors, [e.format() for e in result.errors]
    labels = np.load(EXAMPLES / "phantom" / "organs_labelmap.npy")
    spec_colours = {1: (221, 130, 101), 2: (157, 108, 162), 3: (185, 102, 83)}  # organs-binary.yaml
    phantom = _phantom()
    for pos in (5, 8):
        path = tmp_path / "out" / f"organs-qc-{pos:03d}.dcm"
        _assert_valid(path)
        ds = pydicom.dcmread(path)
        assert ds.PhotometricInterpretation == "RGB" and ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.7"
        assert ds.SourceImageSequence[0].ReferencedSOPInstanceUID == phantom[pos - 1].SOPInstanceUID
        assert ds.SourceInstanceSequence[0].ReferencedSOPClassUID == "1.2.840.10008.5.1.4.1.1.66.4"
        rgb = ds.pixel_array
        np.testing.assert_array_equal(hd.imread(str(path)).get_frame(1), rgb)  # highdicom reads it the same
        src = phantom[pos - 1]
        hu = src.pixel_array * float(src.RescaleSlope) + float(src.RescaleIntercept)
        grey = _windowed(hu, float(src.WindowCenter), float(src.WindowWidth))
        drawn = np.zeros(grey.shape, bool)
        for number, colour in spec_colours.items():
            outline = _inner_boundary(labels[pos - 1] == number)
            assert outline.any()
            np.testing.assert_array_equal(rgb[outline], np.tile(np.array(colour, np.uint8), (outline.sum(), 1)))
            drawn |= outline
        np.testing.assert_array_equal(rgb[~drawn], np.repeat(grey[~drawn][:, None], 3, 1))
        assert np.array_equal(np.all(rgb == rgb[..., :1], axis=-1), ~drawn)  # colour only on the outlines


def test_render_from_segmentation_default_images_are_those_a_segment_touches(tmp_path):
    spec = SEG_RENDER.replace("  images: [5, 8]\n", "  window: ct-abdomen\n").replace(
        "organs-binary.yaml}", "organs-binary.yaml, segments: [Spleen]}"
    )
    result = _build([_spec(tmp_path, "qc.yaml", spec)], tmp_path / "out")
    assert not result.errors, [e.format() for e in result.errors]
    labels = np.load(EXAMPLES / "phantom" / "organs_labelmap.npy")
    touched = [z + 1 for z in range(labels.shape[0]) if (labels[z] == 2).any()]
    written = sorted(int(p.stem.rsplit("-", 1)[1]) for p in (tmp_path / "out").glob("organs-qc-*.dcm"))
    assert written == touched
    ds = pydicom.dcmread(tmp_path / "out" / f"organs-qc-{touched[0]:03d}.dcm")
    src = _phantom()[touched[0] - 1]
    hu = src.pixel_array * float(src.RescaleSlope) + float(src.RescaleIntercept)
    outline = _inner_boundary(labels[touched[0] - 1] == 2)
    np.testing.assert_array_equal(ds.pixel_array[..., 0][~outline], _windowed(hu, 40, 400)[~outline])
    assert "width 400" in ds.DerivationDescription


PR_RENDER = """dcmspec: 1
kind: SecondaryCapture
id: view-qc
sources: {images: PHANTOM}
render:
  presentation_state: {spec: EXAMPLES/presentation-outlines.yaml}
  images: [8]
"""


def test_render_from_presentation_state_uses_its_window_and_draws_its_graphics(tmp_path):
    result = _build([_spec(tmp_path, "qc.yaml", PR_RENDER), EXAMPLES / "organs-binary.yaml"], tmp_path / "out")
    assert not result.errors, [e.format() for e in result.errors]
    path = tmp_path / "out" / "view-qc-008.dcm"
    _assert_valid(path)
    rgb = pydicom.dcmread(path).pixel_array
    src = PHANTOM / next(
        p.name for p in PHANTOM.iterdir() if pydicom.dcmread(p).SOPInstanceUID == _phantom()[7].SOPInstanceUID
    )
    # dcmtk renders the image through the presentation state (modality LUT, window, presentation LUT)
    exe = require_tool("dcmp2pgm", DCMTK_INSTALL)
    pgm = tmp_path / "dcmtk.pgm"
    subprocess.run(
        [exe, "-p", str(tmp_path / "out" / "presentation-outlines.dcm"), str(src), str(pgm)],
        check=True,
        capture_output=True,
    )
    dcmtk = _read_pnm(pgm)
    undrawn = np.all(rgb == rgb[..., :1], axis=-1)
    assert undrawn.mean() > 0.8
    # the shutter (rectangle, columns and rows 3..62 counted from 1, value 0), by hand: dcmtk does not burn it
    shutter = np.ones((64, 64), bool)
    shutter[2:62, 2:62] = False
    assert (rgb[shutter] == 0).all()
    inside = undrawn & ~shutter
    assert np.abs(rgb[..., 0][inside].astype(int) - dcmtk[inside].astype(int)).max() <= 1
    # the lesion circle: centre (20.5, 18.5), radius 4, on layer LESIONS in yellow
    yy, xx = np.mgrid[0:64, 0:64] + 0.5
    ring = np.abs(np.hypot(xx - 20.5, yy - 18.5) - 4) < 0.3
    assert (np.all(rgb[ring] == (255, 255, 0), axis=-1)).mean() > 0.9
    far = np.hypot(xx - 20.5, yy - 18.5) > 6
    far[8:15, 26:] = False  # its text "Lesion 1", in the box from (26, 8)
    far[13:19, 20:27] = False  # the line from its anchor to the box
    assert not np.all(rgb[far] == (255, 255, 0), axis=-1).any()
    letter_l = np.zeros((7, 5), bool)
    letter_l[:, 0] = letter_l[6, :] = True
    np.testing.assert_array_equal(np.all(rgb[8:15, 26:31] == (255, 255, 0), axis=-1), letter_l)  # its "L"


ROTATED_PR = """dcmspec: 1
kind: PresentationState
id: rotated
sources: {images: PHANTOM}
images: [4]
window: {center: 100, width: 300}
invert: true
rotation: 90
flip: true
shutter: {circle: {center: [30, 34], radius: 25}, value: 65535}
layers: [{name: MARKS, color: [0, 255, 0]}]
annotations:
  - layer: MARKS
    graphics:
      - {type: POLYLINE, points: [[10, 5], [40, 5]]}
      - {type: ELLIPSE, points: [[20, 40], [40, 40], [30, 35], [30, 45]], filled: true}
"""


def test_render_follows_the_presentation_states_rotation_flip_inversion_and_shutter(tmp_path):
    pr_spec = _spec(tmp_path, "rotated.yaml", ROTATED_PR)
    sc_spec = _spec(
        tmp_path,
        "qc.yaml",
        "dcmspec: 1\nkind: SecondaryCapture\nid: rot-qc\nsources: {images: PHANTOM}\n"
        "render: {presentation_state: {spec: rotated}}\n",
    )
    result = _build([pr_spec, sc_spec], tmp_path / "out")
    assert not result.errors, [e.format() for e in result.errors]
    path = tmp_path / "out" / "rot-qc-004.dcm"
    _assert_valid(path)
    rgb = pydicom.dcmread(path).pixel_array
    # by hand, on the stored image: the shutter (centre column 30, row 34, radius 25, counted from 1) in white,
    # the line along row 5 from column 10 to 40 and the filled ellipse in green; then rotate and flip
    r, c = np.mgrid[1:65, 1:65]
    hidden = (c - 30) ** 2 + (r - 34) ** 2 > 25**2
    yy, xx = np.mgrid[0:64, 0:64] + 0.5
    ellipse = ((xx - 30) / 10) ** 2 + ((yy - 40) / 5) ** 2 <= 1
    line = np.zeros((64, 64), bool)
    line[5, 10:41] = True  # x from 10.0 to 40.0 on y = 5.0: the pixels whose squares the line enters
    shown = lambda a: np.rot90(a, -1)[:, ::-1]
    assert (rgb[shown(hidden & ~ellipse & ~line)] == 255).all()
    assert (np.all(rgb[shown(ellipse)] == (0, 255, 0), axis=-1)).all()
    assert (np.all(rgb[shown(line)] == (0, 255, 0), axis=-1)).all()
    # the rest as dcmtk renders the state (window, INVERSE, rotation and flip)
    src = next(p for p in PHANTOM.iterdir() if pydicom.dcmread(p).SOPInstanceUID == _phantom()[3].SOPInstanceUID)
    exe = require_tool("dcmp2pgm", DCMTK_INSTALL)
    pgm = tmp_path / "dcmtk.pgm"
    subprocess.run(
        [exe, "-p", str(tmp_path / "out" / "rotated.dcm"), str(src), str(pgm)], check=True, capture_output=True
    )
    dcmtk = _read_pnm(pgm)
    rest = np.all(rgb == rgb[..., :1], axis=-1) & ~shown(hidden)
    assert rest.mean() > 0.4
    assert np.abs(rgb[..., 0][rest].astype(int) - dcmtk[rest].astype(int)).max() <= 1


def test_preview_pngs_equal_the_pictures(tmp_path):
    np.save(tmp_path / "frames.npy", RNG.integers(0, 256, (2, 8, 9), dtype=np.uint8))
    specs = [
        _spec(tmp_path, "qc.yaml", SEG_RENDER),
        _spec(
            tmp_path,
            "s.yaml",
            "dcmspec: 1\nkind: SecondaryCapture\nid: stack\nsources: {images: PHANTOM}\n"
            "pixels: {file: frames.npy, multi_frame: true}\n",
        ),
    ]
    out = tmp_path / "out"
    result = _build(specs, out, preview=True)
    assert not result.errors, [e.format() for e in result.errors]
    for pos in (5, 8):
        png = np.asarray(Image.open(out / f"organs-qc-{pos:03d}.png"))  # Pillow decodes ours
        np.testing.assert_array_equal(png, pydicom.dcmread(out / f"organs-qc-{pos:03d}.dcm").pixel_array)
        # the SEG's own preview shows every segment on the same image: the same picture
        np.testing.assert_array_equal(np.asarray(Image.open(out / f"organs-binary-{pos:03d}.png")), png)
    frames = pydicom.dcmread(out / "stack.dcm").pixel_array
    for k in (1, 2):
        np.testing.assert_array_equal(np.asarray(Image.open(out / f"stack-f{k:03d}.png")), frames[k - 1])
    manifest = json.loads((out / "dcmspec-manifest.json").read_text())
    entry = next(e for e in manifest["objects"] if e["file"] == "stack.dcm")
    assert entry["previews"] == ["stack-f001.png", "stack-f002.png"]
    # no overwrite: an existing preview stops the build, and nothing of it is written
    for p in out.glob("stack*"):
        p.unlink()
    (out / "stack-f002.png").write_bytes(b"mine")
    before = sorted(p.name for p in out.iterdir())
    again = _build(specs[1:], out, preview=True)
    assert again.errors and "stack-f002.png" in again.errors[0].format()
    assert sorted(p.name for p in out.iterdir()) == before and (out / "stack-f002.png").read_bytes() == b"mine"


# ------------------------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "setup, spec, message, line",
    [
        (lambda d: np.save(d / "p.npy", np.zeros((8, 8), np.float32)), "pixels: p.npy", "uint8 or uint16", 4),
        (lambda d: np.save(d / "p.npy", np.zeros((2, 8, 8), np.uint8)), "pixels: p.npy", "shape", 4),
        (lambda d: (d / "p.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really"), "pixels: p.png", "cannot read p.png", 4),
        (lambda d: (d / "p.png").write_bytes(_pillow_png(np.zeros((4, 4, 4), np.uint8))), "pixels: p.png", "alpha", 4),
        (lambda d: None, "pixels: missing.npy", "not found", 4),
        (lambda d: (d / "p.npy").write_text("1 2 3\n"), "pixels: p.npy", "p.npy", 4),
        (
            lambda d: np.save(d / "p.npy", np.zeros((8, 8, 3), np.uint8)),
            "pixels: p.npy\nwindow: {center: 1, width: 2}",
            "`window` is for grey pictures",
            5,
        ),
        (
            lambda d: np.save(d / "p.npy", np.zeros((8, 8), np.uint8)),
            "pixels: p.npy\noutput: {transfer_syntax: RLELossless}",
            "Explicit VR Little Endian only",
            5,
        ),
        (
            lambda d: None,
            "render:\n  segmentation: {spec: EXAMPLES/organs-binary.yaml}\n  images: [3, 99]",
            "image 99 is not in the source series",
            6,
        ),
        (
            lambda d: None,
            "render:\n  segmentation: {spec: EXAMPLES/organs-binary.yaml}\n  images: [3, 3]",
            "image 3 is named twice",
            6,
        ),
        (
            lambda d: None,
            "render:\n  segmentation: {spec: EXAMPLES/organs-binary.yaml, segments: [Heart]}",
            "no segment labelled 'Heart'",
            5,
        ),
        (
            lambda d: None,
            "render:\n  presentation_state: {spec: EXAMPLES/presentation-outlines.yaml}\n  images: [3, 70]",
            "image 70 is not in the source series",
            6,
        ),
    ],
)
def test_bad_input_is_located_and_nothing_is_written(tmp_path, setup, spec, message, line):
    setup(tmp_path)
    path = _spec(tmp_path, "bad.yaml", f"dcmspec: 1\nkind: SecondaryCapture\nsources: {{images: PHANTOM}}\n{spec}\n")
    out = tmp_path / "out"
    result = _build([path, EXAMPLES / "organs-binary.yaml"], out)
    assert result.errors
    texts = [e.format() for e in result.errors]
    assert any(message in t for t in texts), texts
    err = next(e for e in result.errors if message in e.format())
    assert err.location.file == str(path) and err.location.line == line, err.format()
    assert err.hint or "hint" in err.format() or message in ("no segment labelled 'Heart'",)
    assert not out.exists() or not any(out.iterdir())


def test_cli_exit_code_and_message(tmp_path):
    np.save(tmp_path / "p.npy", np.zeros((8, 8), np.int32))
    path = _spec(
        tmp_path, "bad.yaml", "dcmspec: 1\nkind: SecondaryCapture\nsources: {images: PHANTOM}\npixels: p.npy\n"
    )
    proc = subprocess.run(
        ["dcmspec", "build", str(path), "-o", str(tmp_path / "out"), "--preview"], capture_output=True, text=True
    )
    assert proc.returncode == 1, proc.stderr
    assert f"{path}:4:" in proc.stderr and "hint:" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_render_on_colour_sources_keeps_their_colours(tmp_path):
    (tmp_path / "src").mkdir()
    x = np.add.outer(np.arange(40), np.arange(50)).astype(np.uint8)
    picture = np.stack([x, 255 - x, x // 2], -1)
    _write(_sc(SCImage, picture, source_images=()), tmp_path / "src" / "rgb.dcm")
    pr = _spec(
        tmp_path,
        "pr.yaml",
        "dcmspec: 1\nkind: PresentationState\nid: col-pr\nsources: {images: src/}\n"
        "layers: [{name: MARKS, color: [255, 0, 0]}]\nannotations:\n  - layer: MARKS\n"
        "    graphics: [{type: POLYLINE, points: [[5, 5], [30, 5]]}]\n",
    )
    sc = _spec(
        tmp_path,
        "sc.yaml",
        "dcmspec: 1\nkind: SecondaryCapture\nid: col-qc\nsources: {images: src/}\n"
        "render: {presentation_state: {spec: col-pr}}\n",
    )
    result = _build([pr, sc], tmp_path / "out", preview=True)
    assert not result.errors, [e.format() for e in result.errors]
    _assert_valid(tmp_path / "out" / "col-qc-001.dcm")
    rgb = pydicom.dcmread(tmp_path / "out" / "col-qc-001.dcm").pixel_array
    line = np.zeros(x.shape, bool)
    line[5, 5:31] = True
    assert (rgb[line] == (255, 0, 0)).all()
    np.testing.assert_array_equal(rgb[~line], picture[~line])
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "out" / "col-pr-001.png")), rgb)


# ------------------------------------------------------------------------------------------- texts
def test_font_every_printable_ascii_glyph_is_distinct_and_within_its_cell():
    from dcmspec_compiler.iods.sc import font

    rows = [cell for line in font._TABLE.strip().splitlines() for cell in line.split("#")[0].split()]
    assert len(rows) == 95 and all(len(r) == 14 for r in rows)
    # 5 columns: every row value below 0x20 (nothing beyond the glyph's cell)
    assert all(int(r[i : i + 2], 16) < 0x20 for r in rows for i in range(0, 14, 2))
    glyphs = [font.glyph(chr(c)) for c in range(32, 127)]
    assert all(g.shape == (7, 5) for g in glyphs)
    assert len({g.tobytes() for g in glyphs}) == 95  # all distinct
    assert not glyphs[0].any() and all(g.any() for g in glyphs[1:])  # only the space is blank
    box = np.ones((7, 5), bool)
    box[1:-1, 1:-1] = False
    for other in ("é", "\x7f", "中", "\t"):
        np.testing.assert_array_equal(font.glyph(other), box)
    line = font.line_bitmap("".join(chr(c) for c in range(33, 127)))
    assert line.shape == (7, 6 * 94 - 1) and not line[:, 5::6].any()  # a blank column between cells


TEXT_PR = """dcmspec: 1
kind: PresentationState
id: texts
sources: {images: PHANTOM}
images: [4]
window: {center: 100, width: 300}
layers: [{name: NOTES, color: [0, 255, 0]}]
annotations:
  - layer: NOTES
    texts:
      - {text: AB, box: [[2, 2], [40, 9]], justification: LEFT}
      - {text: xy, box: [[2.5, 12], [40, 19]], justification: RIGHT}
      - {text: C, box: [[2, 22], [40, 29]], justification: CENTER}
      - {text: "é?", anchor: [10.5, 40.5]}
      - {text: "L1\\nL2", box: [[2, 48], [30, 63]]}
      - {text: Z, box: [[0.5, 0], [1, 0.1]], units: DISPLAY}
      - {text: WXYZ, box: [[60, 30], [63, 36]]}
"""


def _lit(rgb: np.ndarray, colour) -> np.ndarray:
    return np.all(rgb == np.array(colour, np.uint8), axis=-1)


def test_texts_are_the_glyph_table_placed_by_hand(tmp_path):
    from dcmspec_compiler.iods.sc.font import glyph

    pr = _spec(tmp_path, "texts.yaml", TEXT_PR)
    sc = _spec(
        tmp_path,
        "qc.yaml",
        "dcmspec: 1\nkind: SecondaryCapture\nid: text-qc\nsources: {images: PHANTOM}\n"
        "render: {presentation_state: {spec: texts}}\n",
    )
    result = _build([pr, sc], tmp_path / "out")
    assert not result.errors, [e.format() for e in result.errors]
    path = tmp_path / "out" / "text-qc-004.dcm"
    _assert_valid(path)
    rgb = pydicom.dcmread(path).pixel_array
    expected = np.zeros((64, 64 + 32), bool)  # room to run over the right edge, cut below

    def put(char: str, row: int, column: int) -> None:
        expected[row : row + 7, column : column + 5] |= glyph(char)

    put("A", 2, 2), put("B", 2, 8)  # LEFT: from the box's left side and top
    put("x", 12, 29), put("y", 12, 35)  # RIGHT: ends at column 40 (11 pixels wide)
    put("C", 22, 18)  # CENTER: (2 + 40 - 5) / 2 = 18.5 -> 18
    put("é", 37, 13), put("?", 37, 19)  # beside the anchor (10, 40): 3 to the right, centred
    expected[40, 9:12] = expected[39:42, 10] = True  # the visible anchor point, drawn as a POINT
    put("L", 48, 2), put("1", 48, 8), put("L", 56, 2), put("2", 56, 8)  # two lines, 8 pixels apart
    put("Z", 0, 32)  # DISPLAY: half the displayed area's width
    for k, char in enumerate("WXYZ"):  # runs over the image's right edge: clipped
        put(char, 30, 60 + 6 * k)
    np.testing.assert_array_equal(_lit(rgb, (0, 255, 0)), expected[:64, :64])
    assert np.all(rgb == rgb[..., :1], axis=-1)[~expected[:64, :64]].all()


def test_texts_of_report_regions_are_drawn_beside_their_anchor(tmp_path):
    from dcmspec_compiler.iods.sc.font import CELL_WIDTH, glyph

    pr = _spec(
        tmp_path,
        "regions.yaml",
        "dcmspec: 1\nkind: PresentationState\nid: regions\nsources: {images: PHANTOM}\n"
        "annotations:\n  - from_report: {spec: report-organs, color: [255, 0, 255]}\n",
    )
    sc = _spec(
        tmp_path,
        "qc.yaml",
        "dcmspec: 1\nkind: SecondaryCapture\nid: regions-qc\nsources: {images: PHANTOM}\n"
        "render: {presentation_state: {spec: regions}}\n",
    )
    result = _build([pr, sc, EXAMPLES / "report-organs.yaml", EXAMPLES / "organs-binary.yaml"], tmp_path / "out")
    assert not result.errors, [e.format() for e in result.errors]
    state = pydicom.dcmread(tmp_path / "out" / "regions.dcm")
    by_uid = {p.SOPInstanceUID: i + 1 for i, p in enumerate(_phantom())}
    checked = 0
    for item in state.GraphicAnnotationSequence:
        pos = by_uid[item.ReferencedImageSequence[0].ReferencedSOPInstanceUID]
        path = tmp_path / "out" / f"regions-qc-{pos:03d}.dcm"
        _assert_valid(path)
        lit = _lit(pydicom.dcmread(path).pixel_array, (255, 0, 255))
        for t in item.TextObjectSequence:
            ax, ay = (int(np.floor(float(v))) for v in t.AnchorPoint)
            text = str(t.UnformattedTextValue)
            width = CELL_WIDTH * len(text) - 1
            # to the right of the anchor (3 pixels on), unless only the left has room for it
            left = ax + 3 if ax + 3 + width <= 64 or ax - 2 - width < 0 else ax - 2 - width
            pad = width + 8
            expected = np.zeros((64, 64 + 2 * pad), bool)
            for k, char in enumerate(text):
                column = pad + left + CELL_WIDTH * k
                expected[ay - 3 : ay + 4, column : column + 5] |= glyph(char)
            shown = expected[:, pad : pad + 64]
            assert shown.sum() > 20
            assert lit[shown].all()  # every pixel of the text, placed by hand, is drawn in the layer's colour
            checked += 1
    assert checked >= 1


# ------------------------------------------------------------------------------------------- displayed area
AREA_PR = """dcmspec: 1
kind: PresentationState
id: area
sources: {images: PHANTOM}
images: [4]
window: {center: 100, width: 300}
rotation: 90
displayed_area: {top_left: [11, 21], bottom_right: [40, 35]}
layers: [{name: MARKS, color: [0, 255, 0]}]
annotations:
  - layer: MARKS
    graphics:
      - {type: POLYLINE, points: [[0, 0.5], [1, 0.5]], units: DISPLAY}
"""


def _source_file(position: int) -> Path:
    uid = _phantom()[position - 1].SOPInstanceUID
    return next(p for p in PHANTOM.iterdir() if pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID == uid)


def test_render_shows_the_displayed_area_as_dcmtk_renders_it(tmp_path):
    from dcmspec_compiler.iods.sc.font import glyph

    pr = _spec(tmp_path, "area.yaml", AREA_PR + "    texts: [{text: AB, box: [[0.5, 0], [1, 0.2]], units: DISPLAY}]\n")
    sc = _spec(
        tmp_path,
        "qc.yaml",
        "dcmspec: 1\nkind: SecondaryCapture\nid: area-qc\nsources: {images: PHANTOM}\n"
        "render: {presentation_state: {spec: area}}\n",
    )
    result = _build([pr, sc], tmp_path / "out")
    assert not result.errors, [e.format() for e in result.errors]
    path = tmp_path / "out" / "area-qc-004.dcm"
    _assert_valid(path)
    rgb = pydicom.dcmread(path).pixel_array
    # the area: columns 11..40, rows 21..35 of the stored image (30 x 15), rotated: 15 wide, 30 high; scaled to
    # fit the 64 x 64 image by the whole factor 2 (64 / 30 = 2.13)
    assert rgb.shape == (60, 30, 3)
    src = _phantom()[3]
    grey = _windowed(src.pixel_array * float(src.RescaleSlope) + float(src.RescaleIntercept), 100, 300)
    # corners by hand (clockwise: the stored bottom left corner is shown top left), each a 2 x 2 block
    for (r, c), (row, column) in {(0, 0): (35, 11), (0, 28): (21, 11), (58, 0): (35, 40), (58, 28): (21, 40)}.items():
        assert (rgb[r : r + 2, c : c + 2] == grey[row - 1, column - 1]).all(), (r, c)
    # the DISPLAY line at half the displayed area's height: the middle rows 30 and 31, across
    line = np.zeros(rgb.shape[:2], bool)
    line[30:32, :] = True
    # the DISPLAY text box from half the width at the top: upright on the picture as shown, from column 15
    line[0:7, 15:20] |= glyph("A")
    line[0:7, 21:26] |= glyph("B")
    np.testing.assert_array_equal(_lit(rgb, (0, 255, 0)), line)
    # the rest: dcmtk's rendering of the state (window, rotation; dcmp2pgm shows the whole image, so the area
    # is cut out of it here: rotated, stored column c is row c - 1, stored row r is column 64 - r) scaled by 2
    exe = require_tool("dcmp2pgm", DCMTK_INSTALL)
    pgm = tmp_path / "dcmtk.pgm"
    subprocess.run(
        [exe, "-p", str(tmp_path / "out" / "area.dcm"), str(_source_file(4)), str(pgm)], check=True, capture_output=True
    )
    dcmtk = _read_pnm(pgm)
    assert dcmtk.shape == (64, 64)
    expected = np.repeat(np.repeat(dcmtk[10:40, 64 - 35 : 64 - 20], 2, axis=0), 2, axis=1)
    assert np.abs(rgb[..., 0][~line].astype(int) - expected[~line].astype(int)).max() <= 1


@pytest.mark.parametrize(
    "area, shape, corner",
    [
        ("{top_left: [11, 21], bottom_right: [40, 35], size: MAGNIFY, magnification: 3}", (45, 90), (21, 11)),
        ("{top_left: [11, 21], bottom_right: [40, 35], size: TRUE SIZE}", (15, 30), (21, 11)),
        ("{top_left: [-9, 1], bottom_right: [40, 64]}", (64, 50), None),  # 10 columns left of the image: black
        ("{top_left: [1, 1], bottom_right: [64, 64], size: SCALE TO FIT}", (64, 64), (1, 1)),
    ],
)
def test_render_size_modes_of_the_displayed_area(tmp_path, area, shape, corner):
    spec = AREA_PR.replace("rotation: 90\n", "").replace("{top_left: [11, 21], bottom_right: [40, 35]}", area)
    pr = _spec(tmp_path, "area.yaml", spec)
    sc = _spec(
        tmp_path,
        "qc.yaml",
        "dcmspec: 1\nkind: SecondaryCapture\nid: area-qc\nsources: {images: PHANTOM}\n"
        "render: {presentation_state: {spec: area}}\n",
    )
    result = _build([pr, sc], tmp_path / "out")
    assert not result.errors, [e.format() for e in result.errors]
    path = tmp_path / "out" / "area-qc-004.dcm"
    _assert_valid(path)
    rgb = pydicom.dcmread(path).pixel_array
    assert rgb.shape[:2] == shape
    src = _phantom()[3]
    grey = _windowed(src.pixel_array * float(src.RescaleSlope) + float(src.RescaleIntercept), 100, 300)
    k = shape[0] // 15 if shape[0] % 15 == 0 else 1
    if corner is None:
        assert (rgb[:, :10] == 0).all() and (rgb[0, 10] == grey[0, 0]).all()
        lit = _lit(rgb, (0, 255, 0))  # the DISPLAY line at half the area's height, row 32, drawn on the image only
        assert lit[32, 10:].all() and not lit[32, :10].any() and lit.sum() == 40
    else:
        assert (rgb[:k, :k] == grey[corner[1] - 1, corner[0] - 1]).all()
        assert (
            rgb[-k:, -k:] == grey[corner[1] - 1 + shape[0] // k - 1, corner[0] - 1 + shape[1] // k - 1]
        ).all() or _lit(rgb[-k:, -k:], (0, 255, 0)).any()


# ------------------------------------------------------------------------------------------- enhanced sources
def test_render_of_an_enhanced_source_uses_each_frames_rescale(tmp_path):
    """A Legacy Converted Enhanced CT (tests/data) given its own pixels and a different Pixel Value
    Transformation per frame (none shared, none at the top level): each picture is its frame's stored values
    through its own slope and intercept, then the window, computed here."""
    ds = pydicom.dcmread(ROOT / "tests" / "data" / "enhanced" / "dcmqi_23x38x3" / "mf.dcm")
    stored = (np.arange(3 * ds.Rows * ds.Columns).reshape(3, ds.Rows, ds.Columns) * 7 % 1000).astype(np.uint16)
    ds.PixelData = stored.tobytes()
    rescales = [(1.0, -1024.0), (2.0, -1000.0), (0.5, -200.0)]
    for item, (slope, intercept) in zip(ds.PerFrameFunctionalGroupsSequence, rescales):
        pvt = pydicom.Dataset()
        pvt.RescaleIntercept, pvt.RescaleSlope, pvt.RescaleType = f"{intercept:g}", f"{slope:g}", "HU"
        item.PixelValueTransformationSequence = [pvt]
    del ds.SharedFunctionalGroupsSequence[0].PixelValueTransformationSequence
    assert "RescaleSlope" not in ds
    (tmp_path / "mf").mkdir()
    ds.save_as(tmp_path / "mf" / "mf.dcm")
    pr = _spec(
        tmp_path,
        "pr.yaml",
        "dcmspec: 1\nkind: PresentationState\nid: mf-pr\nsources: {images: mf/}\nwindow: {center: -300, width: 800}\n",
    )
    sc = _spec(
        tmp_path,
        "qc.yaml",
        "dcmspec: 1\nkind: SecondaryCapture\nid: mf-qc\nsources: {images: mf/}\n"
        "render: {presentation_state: {spec: mf-pr}}\n",
    )
    result = _build([pr, sc], tmp_path / "out")
    assert not result.errors, [e.format() for e in result.errors]
    # positions count the frames in geometric order: along the normal of the (shared) orientation
    orientation = np.array(
        [float(v) for v in ds.SharedFunctionalGroupsSequence[0].PlaneOrientationSequence[0].ImageOrientationPatient]
    )
    normal = np.cross(orientation[:3], orientation[3:])
    depth = [
        float(np.dot(normal, [float(v) for v in f.PlanePositionSequence[0].ImagePositionPatient]))
        for f in ds.PerFrameFunctionalGroupsSequence
    ]
    for pos, f in enumerate(np.argsort(depth), start=1):
        path = tmp_path / "out" / f"mf-qc-{pos:03d}.dcm"
        assert dciodvfy_findings(path)[0] == []  # (warnings: attributes of dcmqi's file, copied)
        slope, intercept = rescales[f]
        expected = _windowed(stored[f] * slope + intercept, -300, 800)
        np.testing.assert_array_equal(pydicom.dcmread(path).pixel_array[..., 0], expected)


def test_render_refuses_a_magnification_too_large_to_hold(tmp_path):
    spec = AREA_PR.replace(
        "{top_left: [11, 21], bottom_right: [40, 35]}",
        "{top_left: [1, 1], bottom_right: [64, 64], size: MAGNIFY, magnification: 200}",
    )
    pr = _spec(tmp_path, "area.yaml", spec)
    sc = _spec(
        tmp_path,
        "qc.yaml",
        "dcmspec: 1\nkind: SecondaryCapture\nid: area-qc\nsources: {images: PHANTOM}\n"
        "render: {presentation_state: {spec: area}}\n",
    )
    result = _build([pr, sc], tmp_path / "out")
    texts = [e.format() for e in result.errors]
    assert any("12800 x 12800 pixels" in t and f"{sc}:5:" in t for t in texts), texts


# ------------------------------------------------------------------------------------------- trial defects
def _pixels_of(out: Path, name: str) -> np.ndarray:
    path = out / name
    _assert_valid(path)
    return pydicom.dcmread(path).pixel_array


def _phantom_hu(pos: int) -> np.ndarray:
    src = _phantom()[pos - 1]
    return src.pixel_array * float(src.RescaleSlope) + float(src.RescaleIntercept)


def _bitmap() -> np.ndarray:
    """A bitmap shutter by hand: the top left triangle and a 4 x 4 hole hidden."""
    bitmap = np.add.outer(np.arange(64), np.arange(64)) < 20
    bitmap[40:44, 30:34] = True
    return bitmap


PSEUDO_PR = """dcmspec: 1
kind: PresentationState
id: pseudo
type: pseudocolor
sources: {images: PHANTOM}
images: [4, 8]
window: {center: 60, width: 120}
palette: hot-iron
shutter: {bitmap: {file: bitmap.npy}, color: [0, 0, 255]}
"""


def test_render_of_a_pseudocolor_state_applies_its_palette_and_bitmap_shutter(tmp_path):
    np.save(tmp_path / "bitmap.npy", _bitmap())
    specs = [
        _spec(tmp_path, "pr.yaml", PSEUDO_PR),
        _spec(
            tmp_path,
            "sc.yaml",
            "dcmspec: 1\nkind: SecondaryCapture\nid: hot\nsources: {images: PHANTOM}\n"
            "render: {presentation_state: {spec: pseudo}, images: [8]}\n",
        ),
    ]
    out = tmp_path / "out"
    result = _build(specs, out, preview=True)
    assert not result.errors, [e.format() for e in result.errors]
    rgb = _pixels_of(out, "hot-008.dcm")
    # by hand: the VOI linear window to 8 bits, then pydicom's own copy of the standard's Hot Iron palette
    # (the VOI output range scaled to the palette's 256 entries: one entry per level)
    expected = apply_color_lut(_windowed(_phantom_hu(8), 60, 120), palette="1.2.840.10008.1.5.1")  # HOT_IRON
    expected = (expected >> 8).astype(np.uint8) if expected.dtype != np.uint8 else expected
    hidden = _bitmap()
    assert len(np.unique(expected[~hidden].reshape(-1, 3), axis=0)) > 3  # a coloured picture, not grey
    np.testing.assert_array_equal(rgb[~hidden], expected[~hidden])
    assert (rgb[hidden] == (0, 0, 255)).all()  # the shutter in its CIELab colour, back to sRGB
    # --preview of the state: the same pictures, one per image it applies to
    for pos in (4, 8):
        assert (out / f"pseudo-{pos:03d}.png").is_file()
    np.testing.assert_array_equal(np.asarray(Image.open(out / "pseudo-008.png")), rgb)


def test_render_of_a_grayscale_state_draws_its_bitmap_shutter(tmp_path):
    np.save(tmp_path / "bitmap.npy", _bitmap())
    pr = (
        PSEUDO_PR.replace("type: pseudocolor", "type: grayscale")
        .replace("palette: hot-iron\n", "")
        .replace("color: [0, 0, 255]", "value: 65535")
    )
    specs = [
        _spec(tmp_path, "pr.yaml", pr),
        _spec(
            tmp_path,
            "sc.yaml",
            "dcmspec: 1\nkind: SecondaryCapture\nid: grey\nsources: {images: PHANTOM}\n"
            "render: {presentation_state: {spec: pseudo}, images: [4]}\n",
        ),
    ]
    result = _build(specs, tmp_path / "out")
    assert not result.errors, [e.format() for e in result.errors]
    rgb = _pixels_of(tmp_path / "out", "grey-004.dcm")
    hidden = _bitmap()
    assert (rgb[hidden] == 255).all()
    grey = _windowed(_phantom_hu(4), 60, 120)
    np.testing.assert_array_equal(rgb[~hidden], np.repeat(grey[~hidden][:, None], 3, 1))
    assert (grey[hidden] != 255).any()  # the shutter is what makes them white


def test_render_of_a_color_state_keeps_the_rgb_and_shows_the_shutter_in_its_colour(tmp_path):
    rgb_dir = EXAMPLES / "phantom" / "rgb"
    pr = _spec(
        tmp_path,
        "pr.yaml",
        f"dcmspec: 1\nkind: PresentationState\nid: col\ntype: color\n"
        f"sources: {{images: {rgb_dir}}}\n"
        "shutter: {circle: {center: [30, 34], radius: 25}, color: [255, 0, 0]}\n",
    )
    sc = _spec(
        tmp_path,
        "sc.yaml",
        f"dcmspec: 1\nkind: SecondaryCapture\nid: col-qc\nsources: {{images: {rgb_dir}}}\n"
        "render: {presentation_state: {spec: col}}\n",
    )
    out = tmp_path / "out"
    result = _build([pr, sc], out, preview=True)
    assert not result.errors, [e.format() for e in result.errors]
    rgb = _pixels_of(out, "col-qc-001.dcm")
    source = pydicom.dcmread(rgb_dir / "SC0001.dcm").pixel_array
    r, c = np.mgrid[1:65, 1:65]
    hidden = (c - 30) ** 2 + (r - 34) ** 2 > 25**2  # by hand, pixel numbers counted from 1
    assert (rgb[hidden] == (255, 0, 0)).all()
    np.testing.assert_array_equal(rgb[~hidden], source[~hidden])  # no ICC transform: the stored RGB as is
    np.testing.assert_array_equal(np.asarray(Image.open(out / "col-001.png")), rgb)


def test_blending_states_are_refused_at_the_line_and_get_a_preview_warning(tmp_path):
    blend = EXAMPLES / "presentation-blending.yaml"
    out = tmp_path / "built"
    result = _build([blend], out, preview=True)
    assert not result.errors, [e.format() for e in result.errors]
    assert any(
        "presentation-blending.dcm" in str(w) and "cannot be rendered yet" in str(w) for w in result.context.warnings
    ), result.context.warnings
    assert not list(out.glob("*.png"))
    for line, render in (
        (5, "render: {presentation_state: {file: built/presentation-blending.dcm}}"),
        (5, "render: {presentation_state: {spec: presentation-blending}}"),
    ):
        path = _spec(
            tmp_path, "sc.yaml", f"dcmspec: 1\nkind: SecondaryCapture\nid: b\nsources: {{images: PHANTOM}}\n{render}\n"
        )
        result = _build([path, blend], tmp_path / "out")
        texts = [e.format() for e in result.errors]
        assert len(texts) == 1 and "Advanced Blending presentation state cannot be rendered yet" in texts[0], texts
        assert result.errors[0].location.line == line and "wrote 0" not in texts[0]
        assert "spec" not in render or "SOP Class Advanced Blending Presentation State" in texts[0]
        assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_a_picture_from_a_file_is_not_derived_from_the_sources(tmp_path):
    (tmp_path / "grey.png").write_bytes(_pillow_png(np.arange(64, dtype=np.uint8).reshape(8, 8)))
    path = _spec(
        tmp_path,
        "sc.yaml",
        "dcmspec: 1\nkind: SecondaryCapture\nid: shot\nsources: {images: PHANTOM}\npixels: grey.png\n",
    )
    result = _build([path], tmp_path / "out")
    assert not result.errors, [e.format() for e in result.errors]
    ds = pydicom.dcmread(tmp_path / "out" / "shot.dcm")
    _assert_valid(tmp_path / "out" / "shot.dcm")
    assert "SourceImageSequence" not in ds and ds.PatientID == _phantom()[0].PatientID


@pytest.mark.parametrize(
    "setup, spec, message, line",
    [
        (
            lambda d: (d / "grey.png").write_bytes(_pillow_png(np.zeros((8, 8), np.uint8))),
            "render: {segmentation: {file: grey.png}}",
            "grey.png is not a DICOM file, so not a Segmentation",
            4,
        ),
        (
            lambda d: (d / "fake.png").write_bytes(_pillow_png(np.zeros((8, 8), np.uint8))),
            "render: {presentation_state: {file: fake.png}}",
            "fake.png is not a DICOM file, so not a presentation state",
            4,
        ),
        (
            lambda d: None,
            "render: {segmentation: {file: PHANTOM/" + sorted(p.name for p in PHANTOM.iterdir())[0] + "}}",
            "as a Segmentation",
            4,
        ),
        (
            lambda d: None,
            "render:\n  segmentation: {spec: EXAMPLES/organs-binary.yaml}\n  images: [5, 1]",
            "the chosen segments do not touch image 1",
            6,
        ),
        (
            lambda d: None,
            "render:\n  segmentation: {spec: EXAMPLES/organs-binary.yaml, segments: [Spleen]}\n  images: [16]",
            "the chosen segments do not touch image 16",
            6,
        ),
    ],
)
def test_trial_bad_input_is_located_and_nothing_is_written(tmp_path, setup, spec, message, line):
    test_bad_input_is_located_and_nothing_is_written(tmp_path, setup, spec, message, line)


def test_the_chosen_images_are_those_the_labels_leave_untouched():
    """The oracle of the untouched-image cases above: the label map organs-binary is built from."""
    labels = np.load(EXAMPLES / "phantom" / "organs_labelmap.npy")
    assert not labels[0].any() and labels[4].any() and not (labels[15] == 2).any()


def test_a_presentation_state_refuses_an_image_named_twice(tmp_path):
    path = _spec(
        tmp_path,
        "pr.yaml",
        "dcmspec: 1\nkind: PresentationState\nid: p\nsources: {images: PHANTOM}\nimages: [1, 2, 1]\n",
    )
    result = _build([path], tmp_path / "out")
    texts = [e.format() for e in result.errors]
    assert len(texts) == 1 and "image 1 is named twice" in texts[0], texts
    assert result.errors[0].location.line == 5 and result.errors[0].location.column == 16
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_a_window_that_is_not_finite_is_refused_at_its_line(tmp_path):
    # YAML's .nan and .inf are numbers to the schema: both values are reported, each at its own column
    spec = tmp_path / "qc.yaml"
    text = (EXAMPLES / "qc-organs.yaml").read_text().replace(" phantom/", f" {EXAMPLES / 'phantom'}/")
    text = re.sub(r"  window: ct-abdomen.*", "  window: {center: .nan, width: .inf}", text)
    spec.write_text(text)
    result = build_specs([spec, EXAMPLES / "organs-binary.yaml"], tmp_path / "out")
    found = sorted((e.path[-1], e.location.line, e.message) for e in result.errors)
    line = text[: text.index("window: {center")].count("\n") + 1
    assert [(k, n) for k, n, _ in found] == [("center", line), ("width", line)], found
    assert "window center nan is not a finite number" in found[0][2]
    assert not (tmp_path / "out").exists()
