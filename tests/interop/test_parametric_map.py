"""Parametric Maps read back by other software, on the oblique MR series dcmqi's own example maps are on.

Each PM is built by `dcmspec build` from dcmqi's example maps (tests/data/dcmqi_inputs: float32 ADC in
m2/s, int16 ADC in um2/s) or from the same map rewritten as NIfTI with flipped axes, and from the phantom
example. Oracles: dciodvfy (no Error); highdicom 0.28.2 as a reader (`get_volume`, real-world values
applied): equal to the input map voxel for voxel (exactly: floats included) on the source grid; dcmqi's
`paramap2itkimage`: its NRRD equals the input map with the source geometry. The expected map on the
source grid is computed here from the input file's own affine and the source headers (tests/interop/
compare.py), not with dcmspec's placing code. Every frame's position must be within 0.01 mm of the
source instance it references, with the source's orientation and pixel spacing and a positive Spacing
Between Slices.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest

from dcmspec_compiler.assemble.context import BuildOptions
from dcmspec_compiler.pipeline import build_specs

from .compare import compare_with_mask
from .conftest import dcmqi_tool
from conftest import ROOT, dciodvfy_findings, shared

hd = pytest.importorskip("highdicom")
nrrd = pytest.importorskip("nrrd")
nib = pytest.importorskip("nibabel")

MR = ("series", "mr_dcmqi_701-ADCb500")

SPEC = """\
dcmspec: 1
kind: ParametricMap
id: {id}
sources: {{images: {images}}}
map:
  file: {file}
{extra}  anatomic_region: SCT:41216001 "Prostate"
  derivation: [DCM:113041 "Apparent Diffusion Coefficient"]
mappings:
  - label: ADC
    units: {units}
    quantity: DCM:113041 "Apparent Diffusion Coefficient"
    method: DCM:113250 "Mono-exponential diffusion model"
series: {{number: 701, description: Apparent Diffusion Coefficient}}
"""


def nrrd_volume(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(slice, row, column) array and its affine from an LPS NRRD, read with pynrrd."""
    data, header = nrrd.read(str(path))
    assert header["space"] == "left-posterior-superior"
    directions = np.asarray(header["space directions"], dtype=float)
    affine = np.eye(4)
    affine[:3, 0], affine[:3, 1], affine[:3, 2] = directions[2], directions[1], directions[0]
    affine[:3, 3] = np.asarray(header["space origin"], dtype=float)
    return np.transpose(data, (2, 1, 0)), affine


def on_grid(array: np.ndarray, affine: np.ndarray, target: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``array`` (placed by ``affine``) sampled at the voxel centres of the grid ``target``/``shape``; the
    grids must coincide (nearest index, checked to be within 0.05 voxel: the source affine comes from
    the first two slices' DS positions, whose rounding adds up across 256 voxels)."""
    index = np.indices(shape).reshape(3, -1).astype(float)
    to_input = np.linalg.inv(affine) @ target
    src = to_input[:3, :3] @ index + to_input[:3, 3:4]
    assert np.abs(src - np.rint(src)).max() < 0.05
    src = np.rint(src).astype(int)
    return array[src[0], src[1], src[2]].reshape(shape)


def stack_files(folder: Path) -> list[Path]:
    """Source files in stack order: by position along the normal, from the headers."""
    files = sorted(folder.iterdir())
    headers = [pydicom.dcmread(f, stop_before_pixels=True) for f in files]
    iop = np.array(headers[0].ImageOrientationPatient, float)
    normal = np.cross(iop[:3], iop[3:])
    return [f for _, f in sorted(zip([np.array(h.ImagePositionPatient, float) @ normal for h in headers], files))]


def source_affine(files: list[Path]) -> np.ndarray:
    """4x4 affine of (slice, row, column) of the source stack (files in stack order) to LPS mm, from the
    headers; the slice step from the first and last positions (DS rounding does not add up)."""
    first, last = (pydicom.dcmread(f, stop_before_pixels=True) for f in (files[0], files[-1]))
    iop = np.array(first.ImageOrientationPatient, dtype=float)
    row_spacing, column_spacing = (float(v) for v in first.PixelSpacing)
    affine = np.eye(4)
    affine[:3, 0] = (np.array(last.ImagePositionPatient, float) - np.array(first.ImagePositionPatient, float)) / (
        len(files) - 1
    )
    affine[:3, 1] = iop[3:] * row_spacing
    affine[:3, 2] = iop[:3] * column_spacing
    affine[:3, 3] = np.array(first.ImagePositionPatient, float)
    return affine


def nifti_flipped(nrrd_path: Path, out: Path) -> Path:
    """The NRRD map rewritten as NIfTI (RAS) with its rows reversed, the affine adjusted by hand."""
    array, affine = nrrd_volume(nrrd_path)  # (k, r, c) -> LPS
    flipped = affine @ np.array([[1, 0, 0, 0], [0, -1, 0, array.shape[1] - 1], [0, 0, 1, 0], [0, 0, 0, 1]], float)
    data = array[:, ::-1, :]
    ras = np.diag([-1.0, -1.0, 1.0, 1.0]) @ flipped
    ijk = np.zeros((4, 4))
    ijk[:, 0], ijk[:, 1], ijk[:, 2], ijk[:, 3] = ras[:, 2], ras[:, 1], ras[:, 0], ras[:, 3]
    nib.save(nib.Nifti1Image(np.ascontiguousarray(np.transpose(data, (2, 1, 0))), ijk), str(out))
    return out


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, dict]:
    """name -> {path, input (array, affine), source files in stack order}."""
    tmp = tmp_path_factory.mktemp("pm_interop")
    mr = shared(*MR)
    float_map = shared("dcmqi_inputs", "nrrd", "pm-example-float.nrrd")
    int_map = shared("dcmqi_inputs", "nrrd", "pm-example.nrrd")
    cases = {
        "mr-float": (float_map, "m2/s", float_map, ""),
        "mr-float64": (float_map, "m2/s", float_map, "  encoding: float64\n"),
        "mr-int16": (int_map, "um2/s", int_map, ""),
        "mr-nifti-flipped": (nifti_flipped(float_map, tmp / "adc_flipped.nii.gz"), "m2/s", float_map, ""),
    }
    specs = []
    for name, (file, units, _, extra) in cases.items():
        spec = tmp / f"{name}.yaml"
        spec.write_text(SPEC.format(id=name, images=mr, file=file, units=units, extra=extra))
        specs.append(spec)
    example = ROOT / "specs_examples" / "t1-map.yaml"
    out = tmp / "out"
    result = build_specs(specs + [example], out, options=BuildOptions())
    assert not result.errors, "\n".join(e.format() for e in result.errors)
    objects = {}
    for name, (_, _, reference, _) in cases.items():
        objects[name] = {"path": out / f"{name}.dcm", "input": nrrd_volume(reference), "sources": stack_files(mr)}
    phantom = ROOT / "specs_examples" / "phantom" / "ct"
    sources = stack_files(phantom)
    values = np.load(ROOT / "specs_examples" / "phantom" / "t1_map.npy")
    objects["phantom-t1"] = {"path": out / "t1-map.dcm", "input": (values, source_affine(sources)), "sources": sources}
    return objects


NAMES = ["mr-float", "mr-float64", "mr-int16", "mr-nifti-flipped", "phantom-t1"]
#: dcmqi 1.5.7 reads float32 PMs only: on 16-bit integer Pixel Data and on Double Float Pixel Data
#: paramap2itkimage exits with status 245 (its own itkimage2paramap writes every map as float32)
DCMQI_NAMES = [n for n in NAMES if n not in ("mr-int16", "mr-float64")]


def expected_on_source(obj: dict) -> tuple[np.ndarray, np.ndarray]:
    src_affine = source_affine(obj["sources"])
    header = pydicom.dcmread(obj["sources"][0], stop_before_pixels=True)
    shape = (len(obj["sources"]), int(header.Rows), int(header.Columns))
    array, affine = obj["input"]
    return on_grid(array, affine, src_affine, shape), src_affine


@pytest.mark.parametrize("name", NAMES)
def test_dciodvfy_reports_no_error(built, name):
    errors, _ = dciodvfy_findings(built[name]["path"])
    assert errors == [], "\n".join(errors)


@pytest.mark.parametrize("name", NAMES)
def test_frames_sit_on_their_source_instances(built, name):
    obj = built[name]
    ds = pydicom.dcmread(obj["path"])
    sources = {h.SOPInstanceUID: h for h in (pydicom.dcmread(f, stop_before_pixels=True) for f in obj["sources"])}
    shared_groups = ds.SharedFunctionalGroupsSequence[0]
    measures = shared_groups.PixelMeasuresSequence[0]
    orientation = np.array(shared_groups.PlaneOrientationSequence[0].ImageOrientationPatient, float)
    positions = []
    for item in ds.PerFrameFunctionalGroupsSequence:
        ref = item.DerivationImageSequence[0].SourceImageSequence[0]
        src = sources[ref.ReferencedSOPInstanceUID]
        position = np.array(item.PlanePositionSequence[0].ImagePositionPatient, float)
        assert np.abs(position - np.array(src.ImagePositionPatient, float)).max() < 0.01
        assert np.allclose(orientation, np.array(src.ImageOrientationPatient, float), atol=1e-6)
        assert np.allclose(np.array(measures.PixelSpacing, float), np.array(src.PixelSpacing, float), atol=1e-6)
        positions.append(position)
    normal = np.cross(orientation[:3], orientation[3:])
    steps = np.diff(np.sort(np.array(positions) @ normal))
    assert float(measures.SpacingBetweenSlices) > 0
    assert np.abs(steps - float(measures.SpacingBetweenSlices)).max() < 0.01


@pytest.mark.parametrize("name", NAMES)
def test_highdicom_reads_the_input_map_back(built, name):
    obj = built[name]
    pm = hd.pm.ParametricMap.from_dataset(pydicom.dcmread(obj["path"]))
    volume = pm.get_volume()  # real-world values applied
    expected, src_affine = expected_on_source(obj)
    problems = compare_with_mask(
        volume.array, volume.affine, expected.astype(np.float64), src_affine, f"highdicom {name}"
    )
    assert problems == []
    # the units highdicom reads are the spec's
    mapping = pm.SharedFunctionalGroupsSequence[0].RealWorldValueMappingSequence[0]
    assert mapping.MeasurementUnitsCodeSequence[0].CodeValue in ("m2/s", "um2/s", "ms")


@pytest.mark.parametrize("name", DCMQI_NAMES)
def test_dcmqi_paramap2itkimage_gives_the_input_map_in_source_geometry(built, name, tmp_path):
    obj = built[name]
    proc = subprocess.run(
        [
            dcmqi_tool("paramap2itkimage"),
            "--inputDICOM",
            str(obj["path"]),
            "--outputDirectory",
            str(tmp_path),
            "--outputType",
            "nrrd",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    array, affine = nrrd_volume(tmp_path / "pmap.nrrd")
    expected, src_affine = expected_on_source(obj)
    assert compare_with_mask(array, affine, expected, src_affine, f"dcmqi {name}") == []
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert meta["QuantityValueCode"]["CodeValue"] in ("113041", "113063")
