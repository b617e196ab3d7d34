"""io/npy.py reads a .npy header without numpy; numpy's own reader (numpy.lib.format) is the oracle."""

from __future__ import annotations

import io

import numpy as np
import pytest

from dcmspec_compiler.io.npy import read_npy_header

DTYPES = ["|b1", "|u1", "<i2", ">i2", "<u2", "<i4", "<f4", ">f8", "<f2", "<c8", "|O", "<M8[s]", "<U3", "|S4", "|V6"]


def _numpy_header(path) -> tuple[tuple[int, ...], bool, np.dtype]:
    """numpy's public header readers (version 3 differs from 2 only in the header's encoding: utf8)."""
    with open(path, "rb") as fh:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            return np.lib.format.read_array_header_1_0(fh)
        return np.lib.format.read_array_header_2_0(fh)


@pytest.mark.parametrize("version", [(1, 0), (2, 0), (3, 0)])
@pytest.mark.parametrize("descr", DTYPES)
@pytest.mark.parametrize(
    "shape,order", [((0,), "C"), ((5,), "C"), ((2, 3, 4), "C"), ((2, 3, 4), "F"), ((1, 1, 1, 2), "C")]
)
def test_header_equals_numpys(tmp_path, version, descr, shape, order):
    dtype = np.dtype(descr)
    array = np.zeros(shape, dtype=dtype, order=order)
    path = tmp_path / "a.npy"
    with open(path, "wb") as fh:
        np.lib.format.write_array(fh, array, version=version, allow_pickle=True)
    shape_np, fortran_np, dtype_np = _numpy_header(path)
    header = read_npy_header(path)
    assert header.shape == shape_np
    assert header.fortran_order == fortran_np
    assert np.dtype(np.lib.format.descr_to_dtype(header.descr)) == dtype_np
    assert header.kind == dtype_np.kind


def test_structured_dtype_is_kind_v(tmp_path):
    path = tmp_path / "s.npy"
    np.save(path, np.zeros(3, dtype=[("a", "<i4"), ("b", "<f8")]))
    header = read_npy_header(path)
    assert header.kind == "V" == _numpy_header(path)[2].kind
    assert header.shape == (3,)


def _valid_bytes() -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.zeros((2, 3), dtype=np.uint8))
    return buf.getvalue()


@pytest.mark.parametrize(
    "mangle",
    [
        lambda b: b[:5],  # shorter than the magic
        lambda b: b"\x93NUMPX" + b[6:],  # wrong magic
        lambda b: b[:6] + b"\x09" + b[7:],  # unknown version
        lambda b: b[:20],  # header cut short
        lambda b: b.replace(b"'shape'", b"'shapf'"),  # a key missing
        lambda b: b.replace(b"(2, 3)", b"(2, -3)"),  # a negative dimension
        lambda b: b.replace(b"False", b"'no'  "),  # fortran_order not a bool
        lambda b: b.replace(b"{", b"["),  # not a dict literal
    ],
)
def test_broken_headers_are_refused_like_numpy_refuses_them(tmp_path, mangle):
    path = tmp_path / "bad.npy"
    path.write_bytes(mangle(_valid_bytes()))
    with pytest.raises((ValueError, EOFError)):
        np.load(path, allow_pickle=False)
    with pytest.raises(ValueError):
        read_npy_header(path)
