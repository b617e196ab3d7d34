"""Parametric Map: builder layer (iods/pm), UCUM checker, spec kind, bad input (speed is measured by bench/).

Oracles: dciodvfy (conformance), pydicom's own decoding of Float / Double Float / Pixel Data, and values
and positions computed here from the source headers and the input files' own affines (nibabel, pynrrd),
independently of dcmspec's placing code. highdicom and dcmqi read-backs are in tests/interop/.
"""

from __future__ import annotations

import datetime
import json
import re
from pathlib import Path

import numpy as np
import pydicom
import pytest
from click.testing import CliRunner

from dcmspec_compiler.cli import main
from dcmspec_compiler.errors import DicomConformanceError
from dcmspec_compiler.iods.common.concept import Code
from dcmspec_compiler.iods.common.modules import Equipment
from dcmspec_compiler.iods.pm import ParametricMap, RealWorldValueMapping, pmread
from dcmspec_compiler.testing.phantom import Grid, write_ct_series

from conftest import dciodvfy_findings

nib = pytest.importorskip("nibabel")
nrrd = pytest.importorskip("nrrd")

WHEN = datetime.datetime(2024, 5, 6, 7, 8, 9)
EQUIPMENT = Equipment("ACME", "mapper", "1.0", "SN1")
ABDOMEN = Code("818981001", "SCT", "Abdomen")
T1 = Code("113063", "DCM", "T1")
GRID = Grid(shape=(5, 12, 14), spacing=(3.0, 0.8, 0.9), origin=(-10.0, -20.0, 30.0))


@pytest.fixture(scope="module")
def phantom(tmp_path_factory) -> tuple[Path, list[pydicom.Dataset]]:
    folder = tmp_path_factory.mktemp("pm_phantom")
    paths = write_ct_series(folder / "ct", GRID)
    return folder, [pydicom.dcmread(p) for p in paths]


def t1_values(dtype=np.float32) -> np.ndarray:
    rng = np.random.default_rng(7)
    return (rng.random(GRID.shape) * 1500 + 200).astype(dtype)


def make(sources, values, **kw) -> ParametricMap:
    args = {
        "source_images": sources,
        "pixel_array": values,
        "mappings": [RealWorldValueMapping("T1", "ms", quantity=T1)],
        "anatomic_region": ABDOMEN,
        "series_instance_uid": "1.2.826.0.1.3680043.10.9.71",
        "series_number": 400,
        "sop_instance_uid": "1.2.826.0.1.3680043.10.9.72",
        "instance_number": 1,
        "equipment": EQUIPMENT,
        "content_datetime": WHEN,
    }
    args.update(kw)
    return ParametricMap(**args)


def no_dciodvfy_errors(ds, tmp_path: Path, name: str = "pm.dcm", expected: np.ndarray | None = None) -> Path:
    """Write ``ds``; dciodvfy reports no Error; highdicom (as a reader) gives ``expected`` (real-world
    values of the stored frames, in stored order) when given."""
    path = tmp_path / name
    ds.save_as(path, enforce_file_format=True)
    errors, _ = dciodvfy_findings(path)
    assert errors == [], "\n".join(errors)
    if expected is not None:
        hd = pytest.importorskip("highdicom")
        frames = hd.pm.ParametricMap.from_dataset(pydicom.dcmread(path)).get_frames(apply_real_world_transform=True)
        assert np.array_equal(frames, expected, equal_nan=True)
    return path


# --- builder layer ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "dtype, element, bits",
    [
        (np.float32, "FloatPixelData", 32),
        (np.float64, "DoubleFloatPixelData", 64),
        (np.uint16, "PixelData", 16),
        (np.int16, "PixelData", 16),
    ],
)
def test_each_encoding_is_conformant_and_reads_back(phantom, tmp_path, dtype, element, bits):
    _, sources = phantom
    values = (
        t1_values(np.float64).astype(dtype)
        if dtype in (np.float32, np.float64)
        else ((t1_values(np.float64) - (900 if dtype == np.int16 else 0)).astype(dtype))
    )
    mapping = RealWorldValueMapping(
        "T1", "ms", quantity=T1, slope=1.0 if bits > 16 else 0.5, intercept=0.0 if bits > 16 else 3.0
    )
    expected = values.astype(np.float64) * mapping.slope + mapping.intercept
    path = no_dciodvfy_errors(make(sources, values, mappings=[mapping]), tmp_path, expected=expected)
    ds = pydicom.dcmread(path)
    assert element in ds and int(ds.BitsAllocated) == bits
    # pydicom's own decoder (not ours) gives the stored values back
    assert np.array_equal(ds.pixel_array, values)
    item = ds.SharedFunctionalGroupsSequence[0].RealWorldValueMappingSequence[0]
    assert item.MeasurementUnitsCodeSequence[0].CodeValue == "ms"
    assert item.MeasurementUnitsCodeSequence[0].CodingSchemeDesignator == "UCUM"
    first = item.get("DoubleFloatRealWorldValueFirstValueMapped", item.get("RealWorldValueFirstValueMapped"))
    last = item.get("DoubleFloatRealWorldValueLastValueMapped", item.get("RealWorldValueLastValueMapped"))
    assert (first, last) == (values.min(), values.max())
    if "RealWorldValueSlope" in item:
        assert (item.RealWorldValueSlope, item.RealWorldValueIntercept) == (mapping.slope, mapping.intercept)
    expected = values.astype(np.float64) * mapping.slope + mapping.intercept
    assert np.array_equal(pmread(path).get_frames(), expected)
    if bits == 16:
        assert item.RealWorldValueFirstValueMapped == values.min()  # US/SS per Pixel Representation
        assert int(ds.PixelRepresentation) == (1 if dtype == np.int16 else 0)


def test_frames_reference_their_source_and_carry_its_geometry(phantom, tmp_path):
    _, sources = phantom
    values = t1_values()
    path = no_dciodvfy_errors(make(sources, values), tmp_path, expected=values.astype(np.float64))
    ds = pydicom.dcmread(path)
    shared = ds.SharedFunctionalGroupsSequence[0]
    by_uid = {s.SOPInstanceUID: s for s in sources}
    for f, item in enumerate(ds.PerFrameFunctionalGroupsSequence):
        ref = item.DerivationImageSequence[0].SourceImageSequence[0]
        src = by_uid[ref.ReferencedSOPInstanceUID]
        assert ref.ReferencedSOPClassUID == src.SOPClassUID
        position = np.array(item.PlanePositionSequence[0].ImagePositionPatient, float)
        assert np.abs(position - np.array(src.ImagePositionPatient, float)).max() < 0.01
        assert np.array_equal(ds.pixel_array[f], values[sources.index(src)])
    assert list(map(float, shared.PlaneOrientationSequence[0].ImageOrientationPatient)) == [1, 0, 0, 0, 1, 0]
    measures = shared.PixelMeasuresSequence[0]
    assert list(map(float, measures.PixelSpacing)) == [0.8, 0.9]
    assert float(measures.SpacingBetweenSlices) == pytest.approx(3.0, abs=0.01)


def test_volume_in_real_world_units(phantom):
    _, sources = phantom
    values = np.arange(np.prod(GRID.shape), dtype=np.uint16).reshape(GRID.shape) % 4000
    pm = make(sources, values, mappings=[RealWorldValueMapping("T1", "ms", slope=0.25, intercept=-1.0)])
    volume = pm.get_volume()
    assert np.array_equal(volume.array, values * 0.25 - 1.0)
    assert np.allclose(volume.affine, GRID.affine())


def test_lut_mapping(phantom, tmp_path):
    _, sources = phantom
    values = (np.arange(np.prod(GRID.shape)) % 4).astype(np.uint16).reshape(GRID.shape)
    lut = [0.0, 10.5, 22.0, 40.0]
    path = no_dciodvfy_errors(
        make(sources, values, mappings=[RealWorldValueMapping("CLS", "1", lut=lut)]),
        tmp_path,
        expected=np.take(lut, values),
    )
    assert np.array_equal(pmread(path).get_frames(), np.take(lut, values))
    with pytest.raises(DicomConformanceError, match=re.escape("4 entries but stored values 0..4 need 5")):
        make(
            sources,
            np.where(values == 3, 4, values).astype(np.uint16),
            mappings=[RealWorldValueMapping("CLS", "1", lut=lut)],
        )


def test_empty_frames_and_nan(phantom, tmp_path):
    _, sources = phantom
    values = t1_values()
    values[1] = np.nan
    values[3, 2, 2] = np.nan
    with pytest.raises(DicomConformanceError, match=r"NaN .* first in frame 1"):
        make(sources, values)
    pm = make(sources, values, allow_nan=True, omit_empty_frames=True)
    path = no_dciodvfy_errors(pm, tmp_path, expected=values[[0, 2, 3, 4]].astype(np.float64))
    ds = pydicom.dcmread(path)
    assert int(ds.NumberOfFrames) == GRID.shape[0] - 1
    refs = [
        i.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID
        for i in ds.PerFrameFunctionalGroupsSequence
    ]
    assert refs == [sources[k].SOPInstanceUID for k in (0, 2, 3, 4)]
    volume = pmread(path).get_volume()
    assert np.isnan(volume.array[1]).all() and volume.array.shape == GRID.shape
    assert np.array_equal(volume.array, values, equal_nan=True)
    zeros = np.zeros(GRID.shape, np.float32)
    zeros[2] = 5
    assert int(make(sources, zeros, omit_empty_frames=True, empty_value=0).NumberOfFrames) == 1
    with pytest.raises(DicomConformanceError, match="infinite"):
        make(sources, np.full(GRID.shape, np.inf, np.float32))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"pixel_array": np.zeros((4, 12, 14), np.float32)}, "does not match the source images"),
        ({"pixel_array": np.zeros(GRID.shape, np.float16)}, "float32 or float64"),
        ({"pixel_array": np.full(GRID.shape, 70000, np.int32)}, "do not fit 16-bit"),
        ({"mappings": [RealWorldValueMapping("T1", "um^2/s")]}, "not a UCUM unit"),
        ({"mappings": [RealWorldValueMapping("T1", Code("ms", "UCM", "ms"))]}, "UCUM units"),
        ({"frame_laterality": "X"}, "Frame Laterality"),
        ({"mappings": []}, "at least one Real World Value Mapping"),
    ],
)
def test_refusals(phantom, kwargs, message):
    _, sources = phantom
    args = {"pixel_array": t1_values(), **kwargs}
    with pytest.raises(DicomConformanceError, match=message):
        make(sources, args.pop("pixel_array"), **args)


def test_multi_frame_source(tmp_path, shared_data):
    source = pydicom.dcmread(shared_data("enhanced", "dcmqi_23x38x3", "mf.dcm"))
    n = int(source.NumberOfFrames)
    values = np.linspace(0, 1, n * source.Rows * source.Columns, dtype=np.float32).reshape(
        n, source.Rows, source.Columns
    )
    pm = make([source], values)
    path = tmp_path / "pm.dcm"
    pm.save_as(path, enforce_file_format=True)
    errors, _ = dciodvfy_findings(path)
    assert errors == [], "\n".join(errors)
    ds = pydicom.dcmread(path)
    for f, item in enumerate(ds.PerFrameFunctionalGroupsSequence):
        ref = item.DerivationImageSequence[0].SourceImageSequence[0]
        assert ref.ReferencedSOPInstanceUID == source.SOPInstanceUID and int(ref.ReferencedFrameNumber) == f + 1
        src_pos = source.PerFrameFunctionalGroupsSequence[f].PlanePositionSequence[0].ImagePositionPatient
        assert (
            np.abs(np.array(item.PlanePositionSequence[0].ImagePositionPatient, float) - np.array(src_pos, float)).max()
            < 0.01
        )
    assert np.array_equal(ds.pixel_array, values)


def test_docstring_example_runs():
    """The class docstring's example (the docs site executes it) runs and shows what it says."""
    import doctest

    from dcmspec_compiler.iods.pm import parametric_map

    result = doctest.testmod(parametric_map, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 8 and result.failed == 0


@pytest.mark.parametrize("source", [("enhanced", "dcmqi_23x38x3", "mf.dcm"), ("series", "ct_dcmqi_23x38x3")])
def test_spec_on_multi_frame_and_single_frame_sources_of_one_grid(tmp_path, shared_data, source):
    """dcmqi's 23x38x3 label NRRD (int16) as a map on the same CT as one multi-frame image and as three
    single-frame images: every frame holds the NRRD's slice at its source position (NRRD read with pynrrd,
    slice chosen by the source's z)."""
    images = shared_data(*source)
    file = shared_data("dcmqi_inputs", "nrrd", "23x38x3", "label.nrrd")
    path = build_ok(spec_file(tmp_path, images, file, units="1"), tmp_path / "out")
    data, header = nrrd.read(str(file))
    directions = np.asarray(header["space directions"], float)
    origin = np.asarray(header["space origin"], float)
    ds = pydicom.dcmread(path)
    assert int(ds.BitsAllocated) == 16 and int(ds.NumberOfFrames) == data.shape[2]
    for f, item in enumerate(ds.PerFrameFunctionalGroupsSequence):
        position = np.array(item.PlanePositionSequence[0].ImagePositionPatient, float)
        k = int(np.rint((position - origin) @ directions[2] / (directions[2] @ directions[2])))
        assert np.abs(origin + k * directions[2] - position).max() < 0.01
        assert np.array_equal(ds.pixel_array[f], data[:, :, k].T)


# --- spec kind ----------------------------------------------------------------------------------

SPEC = """\
dcmspec: 1
kind: ParametricMap
sources: {{images: {images}}}
map:
  file: {file}
  anatomic_region: SCT:818981001 "Abdomen"
{extra}mappings:
  - label: T1
    units: {units}
    quantity: DCM:113063 "T1"
"""


def spec_file(tmp_path: Path, images: Path, file: Path, units: str = "ms", extra: str = "") -> Path:
    spec = tmp_path / "pm.yaml"
    spec.write_text(SPEC.format(images=images, file=file, units=units, extra=extra))
    return spec


def run(*args: str):
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def build_ok(spec: Path, out: Path) -> Path:
    code, _, err = run("build", str(spec), "-o", str(out))
    assert code == 0, err
    manifest = json.loads((out / "dcmspec-manifest.json").read_text())
    path = out / manifest["objects"][0]["file"] if "objects" in manifest else next(out.glob("*.dcm"))
    errors, _ = dciodvfy_findings(path)
    assert errors == [], "\n".join(errors)
    return path


def ras_affine(grid: Grid) -> np.ndarray:
    """NIfTI affine of an array indexed (i=column, j=row, k=slice), to RAS: computed here by hand."""
    lps = np.eye(4)
    lps[:3, 0] = [grid.spacing[2], 0, 0]
    lps[:3, 1] = [0, grid.spacing[1], 0]
    lps[:3, 2] = [0, 0, grid.spacing[0]]
    lps[:3, 3] = grid.origin
    return np.diag([-1.0, -1.0, 1.0, 1.0]) @ lps


def input_layouts(folder: Path, values: np.ndarray) -> dict[str, Path]:
    """The same map (slice, row, column on GRID) written as each supported input layout."""
    out = {}
    out["npy"] = folder / "map.npy"
    np.save(out["npy"], values)
    xyz = np.transpose(values, (2, 1, 0))  # (column, row, slice)
    out["nifti-ras"] = folder / "map.nii.gz"
    nib.save(nib.Nifti1Image(xyz, ras_affine(GRID)), str(out["nifti-ras"]))
    # rows and slices stored backwards: the affine steps backwards from the far corner
    flipped = ras_affine(GRID) @ np.array(
        [[1, 0, 0, 0], [0, -1, 0, GRID.shape[1] - 1], [0, 0, -1, GRID.shape[0] - 1], [0, 0, 0, 1]], float
    )
    out["nifti-flipped"] = folder / "flipped.nii"
    nib.save(nib.Nifti1Image(np.ascontiguousarray(xyz[:, ::-1, ::-1]), flipped), str(out["nifti-flipped"]))
    # NRRD, LPS, axes stored as (row, slice, column) in file order
    directions = np.array([[0, GRID.spacing[1], 0], [0, 0, GRID.spacing[0]], [GRID.spacing[2], 0, 0]], float)
    out["nrrd-permuted"] = folder / "permuted.nrrd"
    nrrd.write(
        str(out["nrrd-permuted"]),
        np.ascontiguousarray(np.transpose(values, (1, 0, 2))),
        {
            "space": "left-posterior-superior",
            "space directions": directions,
            "space origin": np.array(GRID.origin, float),
        },
    )
    # NRRD in RAS space
    out["nrrd-ras"] = folder / "ras.nrrd"
    ras = np.diag([-1.0, -1.0, 1.0])
    nrrd.write(
        str(out["nrrd-ras"]),
        xyz,
        {
            "space": "right-anterior-superior",
            "space directions": (ras @ np.diag([GRID.spacing[2], GRID.spacing[1], GRID.spacing[0]])).T,
            "space origin": ras @ np.array(GRID.origin, float),
        },
    )
    return out


@pytest.mark.parametrize("layout", ["npy", "nifti-ras", "nifti-flipped", "nrrd-permuted", "nrrd-ras"])
def test_every_input_layout_lands_on_its_source_frames(phantom, tmp_path, layout):
    folder, sources = phantom
    values = t1_values()
    file = input_layouts(tmp_path, values)[layout]
    path = build_ok(spec_file(tmp_path, folder / "ct", file), tmp_path / "out")
    ds = pydicom.dcmread(path)
    by_uid = {s.SOPInstanceUID: k for k, s in enumerate(sources)}
    measures = ds.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0]
    assert float(measures.SpacingBetweenSlices) > 0
    for f, item in enumerate(ds.PerFrameFunctionalGroupsSequence):
        k = by_uid[item.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID]
        position = np.array(item.PlanePositionSequence[0].ImagePositionPatient, float)
        assert np.abs(position - np.array(sources[k].ImagePositionPatient, float)).max() < 0.01
        assert np.array_equal(ds.FloatPixelData and ds.pixel_array[f], values[k]), (layout, f)


def test_integer_encoding_of_a_float_map(phantom, tmp_path):
    folder, _sources = phantom
    values = t1_values()
    np.save(tmp_path / "map.npy", values)
    path = build_ok(
        spec_file(tmp_path, folder / "ct", tmp_path / "map.npy", extra="  encoding: uint16\n"), tmp_path / "out"
    )
    ds = pydicom.dcmread(path)
    item = ds.SharedFunctionalGroupsSequence[0].RealWorldValueMappingSequence[0]
    real = ds.pixel_array * float(item.RealWorldValueSlope) + float(item.RealWorldValueIntercept)
    step = (values.max() - values.min()) / 65535
    assert np.abs(real - values).max() <= step / 2 + 1e-9 and ds.pixel_array.max() == 65535
    # highdicom, as a reader, applies the mapping the same way
    hd = pytest.importorskip("highdicom")
    volume = hd.pm.ParametricMap.from_dataset(ds).get_volume()
    order = np.argsort(
        [float(i.PlanePositionSequence[0].ImagePositionPatient[2]) for i in ds.PerFrameFunctionalGroupsSequence]
    )
    hd_values = volume.array if volume.affine[2, 0] > 0 else volume.array[::-1]
    assert np.abs(hd_values - values[order]).max() <= step / 2 + 1e-9


# --- bad input: located errors, nothing written ------------------------------------------------


def assert_refused(spec: Path, out: Path, *needles: str) -> str:
    code, _, err = run("build", str(spec), "-o", str(out))
    assert code == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, err
    assert not out.exists() or [p.name for p in out.iterdir()] == []
    return err


def test_nan_refused_at_the_map_file(phantom, tmp_path):
    folder, _ = phantom
    values = t1_values()
    values[2, 3, 4] = np.nan
    np.save(tmp_path / "map.npy", values)
    spec = spec_file(tmp_path, folder / "ct", tmp_path / "map.npy")
    assert_refused(spec, tmp_path / "out", f"{spec}:5:9: map.file:", "NaN", "frame 2", "allow_nan")
    spec = spec_file(tmp_path, folder / "ct", tmp_path / "map.npy", extra="  allow_nan: true\n")
    path = build_ok(spec, tmp_path / "out2")
    assert np.isnan(pydicom.dcmread(path).pixel_array[2, 3, 4])


def test_bad_unit_refused_at_the_unit_with_other_errors(phantom, tmp_path):
    folder, _ = phantom
    np.save(tmp_path / "map.npy", t1_values()[:3])
    spec = spec_file(tmp_path, folder / "ct", tmp_path / "map.npy", units="um^2/s")
    err = assert_refused(
        spec,
        tmp_path / "out",
        f"{spec}:9:12: mappings[0].units:",
        "not a UCUM unit",
        f"{spec}:5:9: map.file:",
        "(5, 12, 14)",
    )
    assert "hint:" in err


def test_off_grid_map_refused_with_the_distance(phantom, tmp_path):
    folder, _ = phantom
    affine = ras_affine(GRID)
    affine[2, 3] += 1.2  # 1.2 mm along the slices
    file = tmp_path / "shifted.nii.gz"
    nib.save(nib.Nifti1Image(np.transpose(t1_values(), (2, 1, 0)), affine), str(file))
    spec = spec_file(tmp_path, folder / "ct", file)
    assert_refused(
        spec,
        tmp_path / "out",
        f"{spec}:5:9: map.file:",
        "map grid does not match",
        "1.2 mm from the nearest source frame",
        "map.tolerance_mm",
    )


def test_infinite_values_refused_at_the_map(phantom, tmp_path):
    folder, _ = phantom
    values = t1_values()
    values[4, 0, 0] = -np.inf
    np.save(tmp_path / "map.npy", values)
    spec = spec_file(tmp_path, folder / "ct", tmp_path / "map.npy", extra="  allow_nan: true\n")
    assert_refused(spec, tmp_path / "out", f"{spec}:5:9: map.file:", "infinite values, first in frame 4")


def test_tolerance_admits_rounding_only_when_raised(phantom, tmp_path):
    folder, sources = phantom
    affine = ras_affine(GRID)
    affine[0, 3] -= 0.05  # 0.05 mm along x: beyond the default 1% of the pixel spacing (0.008 mm)
    file = tmp_path / "nudged.nii.gz"
    values = t1_values()
    nib.save(nib.Nifti1Image(np.transpose(values, (2, 1, 0)), affine), str(file))
    assert_refused(spec_file(tmp_path, folder / "ct", file), tmp_path / "out", "0.05 mm", "tolerance 0.008 mm")
    spec = spec_file(tmp_path, folder / "ct", file, extra="  tolerance_mm: 0.1\n")
    ds = pydicom.dcmread(build_ok(spec, tmp_path / "out2"))
    by_uid = {s.SOPInstanceUID: k for k, s in enumerate(sources)}
    for f, item in enumerate(ds.PerFrameFunctionalGroupsSequence):
        k = by_uid[item.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID]
        assert np.array_equal(ds.pixel_array[f], values[k])


def test_wrong_shape_and_channels_refused(phantom, tmp_path):
    folder, _ = phantom
    np.save(tmp_path / "map.npy", np.zeros(GRID.shape + (2,), np.float32))
    spec = spec_file(tmp_path, folder / "ct", tmp_path / "map.npy")
    assert_refused(spec, tmp_path / "out", f"{spec}:5:9: map.file:", "declares shape (5, 12, 14, 2)")
    np.save(tmp_path / "map.npy", np.zeros((5, 12, 13), np.float32))
    assert_refused(spec, tmp_path / "out", f"{spec}:5:9: map.file:", "map array has shape (5, 12, 13)", "(5, 12, 14)")
