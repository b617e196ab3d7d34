"""The objects of the interop matrix: every kind and type of object dcmspec writes, built from specs.

Each object carries its independent expectation: the mask it was made from (in source frame order, so
readers' output is compared with the input, not with our reader) or the measurement groups its spec
states. Specs come from ``specs_examples/`` (the phantom CT) and from small variants written here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pydicom
import yaml

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "specs_examples"
PHANTOM_CT = EXAMPLES / "phantom" / "ct"

LABEL_MAP_SEG_STORAGE = "1.2.840.10008.5.1.4.1.1.66.7"
SEG_STORAGE = "1.2.840.10008.5.1.4.1.1.66.4"
SR_CLASSES = {
    "1.2.840.10008.5.1.4.1.1.88.11": "Basic Text SR",
    "1.2.840.10008.5.1.4.1.1.88.22": "Enhanced SR",
    "1.2.840.10008.5.1.4.1.1.88.33": "Comprehensive SR",
    "1.2.840.10008.5.1.4.1.1.88.34": "Comprehensive 3D SR",
}


@dataclass(frozen=True)
class Measurement:
    name: str  # "SCHEME:VALUE" of the concept name
    value: float | None  # None: no value (empty Measured Value Sequence, with a qualifier)
    unit: str | None  # "UCUM:..." of the unit


@dataclass(frozen=True)
class Group:
    tracking_id: str
    segment: int | None  # referenced segment number (TID 1411 on a SEG)
    measurements: tuple[Measurement, ...]


@dataclass
class InteropObject:
    """One object of the matrix: what it is, where it was written, and what readers must find in it."""

    name: str
    title: str  # the row title in the guide's matrix
    kind: str  # "SEG" | "SR" | "KOS" | "PR" | "PM"
    spec: Path
    sources: Path  # the source series folder
    seg_type: str | None = None  # BINARY | FRACTIONAL | LABELMAP
    rle: bool = False
    segments: dict[int, np.ndarray] = field(default_factory=dict)  # number -> expected stored values
    max_fractional_value: int = 255
    tid1500: bool = False
    groups: tuple[Group, ...] = ()
    sr_class: str | None = None  # the SR IOD readers need (the expectation)
    selection: tuple[str, ...] = ()  # KOS: names of matrix objects, or "image:N" slices, selected
    stored: np.ndarray | None = None  # PM: expected stored values, (slice, row, column) in stack order
    real_world: np.ndarray | None = None  # PM: expected real-world values (float64), same layout
    path: Path | None = None  # set once built

    def selected_uids(self, objects: dict[str, InteropObject]) -> list[str]:
        """KOS: the SOP Instance UIDs its selection names, in order."""
        uids = []
        for entry in self.selection:
            path = self.source_files()[int(entry[6:]) - 1] if entry.startswith("image:") else objects[entry].path
            uids.append(pydicom.dcmread(path, stop_before_pixels=True).SOPInstanceUID)
        return uids

    def source_files(self) -> list[Path]:
        """Source files in stack order (along the normal), as readers sort them."""
        headers = [(p, pydicom.dcmread(p, stop_before_pixels=True)) for p in sorted(self.sources.glob("*.dcm"))]
        headers.sort(key=lambda pair: float(pair[1].ImagePositionPatient[2]))
        return [p for p, _ in headers]

    def label_map(self) -> np.ndarray:
        """The expected label map (segment number per voxel), for non-overlapping segments."""
        out = np.zeros(next(iter(self.segments.values())).shape, dtype=np.uint16)
        for number, mask in self.segments.items():
            out[mask > 0] = number
        return out

    def overlapping(self) -> bool:
        total = sum((m > 0).astype(np.int32) for m in self.segments.values())
        return bool((total > 1).any())


def _write_spec(folder: Path, name: str, spec: dict) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def _variant(folder: Path, name: str, base: Path, **override) -> Path:
    """A spec that extends an example and changes what ``override`` says (id always)."""
    return _write_spec(
        folder,
        name,
        {"dcmspec": 1, "kind": yaml.safe_load(base.read_text())["kind"], "id": name, "extends": str(base), **override},
    )


def _organs() -> np.ndarray:
    return np.load(EXAMPLES / "phantom" / "organs_labelmap.npy")


def _m(name: str, value: float | None, unit: str | None) -> Measurement:
    return Measurement(name, value, unit)


VOLUME = "SCT:118565006"
DIAMETER = "SCT:81827009"
ATTENUATION = "DCM:112031"


def define(folder: Path, ct3slice: Path) -> list[InteropObject]:
    """Write the specs of every matrix object into ``folder``; return the objects (not yet built).

    ``ct3slice``: dcmqi's ct-3slice series (tests/data/series/ct_dcmqi_ct-3slice).
    """
    folder.mkdir(parents=True, exist_ok=True)
    organs = _organs()
    organ_masks = {n: (organs == n).astype(np.uint8) for n in (1, 2, 3)}
    probability = np.load(EXAMPLES / "phantom" / "lesion_probability.npy")
    lesion = {1: np.rint(probability.astype(np.float64) * 255).astype(np.uint8)}
    objects: list[InteropObject] = []

    def seg(name, title, spec, seg_type, segments, *, rle=False, sources=PHANTOM_CT):
        objects.append(InteropObject(name, title, "SEG", spec, sources, seg_type=seg_type, rle=rle, segments=segments))

    seg("seg-binary", "SEG BINARY", EXAMPLES / "organs-binary.yaml", "BINARY", organ_masks)
    # Two overlapping segments (liver+spleen, spleen): BINARY allows overlap; label-map readers must cope.
    np.save(folder / "overlap-a.npy", np.isin(organs, (1, 2)).astype(np.uint8))
    np.save(folder / "overlap-b.npy", (organs == 2).astype(np.uint8))
    overlap = _write_spec(
        folder,
        "seg-binary-overlap",
        {
            "dcmspec": 1,
            "kind": "Segmentation",
            "id": "seg-binary-overlap",
            "sources": {"images": str(PHANTOM_CT)},
            "segmentation": {"type": "BINARY"},
            "segments": [
                {
                    "label": "Liver and spleen",
                    "category": "AnatomicalStructure",
                    "type": "Abdomen",
                    "mask": str(folder / "overlap-a.npy"),
                },
                {
                    "label": "Spleen",
                    "category": "AnatomicalStructure",
                    "type": "Spleen",
                    "mask": str(folder / "overlap-b.npy"),
                },
            ],
            "series": {"number": 310, "description": "Overlapping segments"},
        },
    )
    seg(
        "seg-binary-overlap",
        "SEG BINARY, overlapping segments",
        overlap,
        "BINARY",
        {1: np.isin(organs, (1, 2)).astype(np.uint8), 2: (organs == 2).astype(np.uint8)},
    )
    seg("seg-fractional", "SEG FRACTIONAL", EXAMPLES / "lesion-fractional.yaml", "FRACTIONAL", lesion)
    seg(
        "seg-fractional-rle",
        "SEG FRACTIONAL, RLE",
        _variant(
            folder,
            "seg-fractional-rle",
            EXAMPLES / "lesion-fractional.yaml",
            output={"file": "seg-fractional-rle.dcm", "transfer_syntax": "RLELossless"},
        ),
        "FRACTIONAL",
        lesion,
        rle=True,
    )
    seg(
        "seg-labelmap",
        "Label Map SEG",
        _variant(
            folder,
            "seg-labelmap",
            EXAMPLES / "organs-labelmap.yaml",
            output={"file": "seg-labelmap.dcm", "transfer_syntax": "ExplicitVRLittleEndian"},
        ),
        "LABELMAP",
        organ_masks,
    )
    seg("seg-labelmap-rle", "Label Map SEG, RLE", EXAMPLES / "organs-labelmap.yaml", "LABELMAP", organ_masks, rle=True)
    # 300 segments: a 16-bit label map (3x3-pixel squares on two slices)
    many = np.zeros(organs.shape, dtype=np.uint16)
    for i in range(300):
        row, column = divmod(i % 256, 16)
        many[6 + i // 256, row * 4 : row * 4 + 3, column * 4 : column * 4 + 3] = i + 1
    np.save(folder / "labelmap-300.npy", many)
    labelmap_300 = _write_spec(
        folder,
        "seg-labelmap-300",
        {
            "dcmspec": 1,
            "kind": "Segmentation",
            "id": "seg-labelmap-300",
            "sources": {"images": str(PHANTOM_CT)},
            "segmentation": {"type": "LABELMAP", "mask": str(folder / "labelmap-300.npy")},
            "segments": [
                {"label": f"Region {i + 1}", "category": "AnatomicalStructure", "type": "SCT:85756007"}
                for i in range(300)
            ],
            "series": {"number": 312, "description": "300 regions"},
        },
    )
    seg(
        "seg-labelmap-300",
        "Label Map SEG, 300 segments (16-bit)",
        labelmap_300,
        "LABELMAP",
        {n: (many == n).astype(np.uint8) for n in range(1, 301)},
    )

    # A real CT whose slices are 1 mm apart but 1.25 mm thick, without Spacing Between Slices (dcmqi's
    # ct-3slice): readers that take the slice distance from the SEG must get 1 mm.
    ct3 = ct3slice
    rr, cc = np.mgrid[0:512, 0:512]
    disc = (rr - 250) ** 2 + (cc - 300) ** 2 <= 60**2
    liver = np.stack([disc, disc & (cc < 320), np.zeros_like(disc)]).astype(np.uint8)
    np.save(folder / "ct3-mask.npy", liver)
    ct3_spec = _write_spec(
        folder,
        "seg-binary-ct3slice",
        {
            "dcmspec": 1,
            "kind": "Segmentation",
            "id": "seg-binary-ct3slice",
            "sources": {"images": str(ct3)},
            "segmentation": {"type": "BINARY", "mask": str(folder / "ct3-mask.npy")},
            "segments": [{"label": "Liver", "category": "AnatomicalStructure", "type": "Liver"}],
            "series": {"number": 311, "description": "Liver on a CT with thick slices"},
        },
    )
    seg(
        "seg-binary-ct3slice",
        "SEG BINARY on real CT (slices 1 mm apart, 1.25 mm thick)",
        ct3_spec,
        "BINARY",
        {1: liver},
        sources=ct3,
    )

    def sr(name, title, spec, sr_class, groups=(), *, tid1500=True):
        objects.append(
            InteropObject(name, title, "SR", spec, PHANTOM_CT, tid1500=tid1500, groups=tuple(groups), sr_class=sr_class)
        )

    sr(
        "sr-organs",
        "Enhanced SR, TID 1500 (segments, circle, NUM without value)",
        EXAMPLES / "report-organs.yaml",
        "Enhanced SR",
        [
            Group("liver", 1, (_m(VOLUME, 2.18, "UCUM:ml"), _m(ATTENUATION, 61.2, "UCUM:[hnsf'U]"))),
            Group("spleen", 2, (_m(VOLUME, 3.02, "UCUM:cm3"),)),
            Group("left-kidney", 3, (_m(VOLUME, None, None),)),
            Group("lesion-1", None, (_m(DIAMETER, 6.0, "UCUM:mm"),)),
        ],
    )
    sr(
        "sr-comprehensive-3d",
        "Comprehensive 3D SR, TID 1500 (SCOORD3D, FRACTIONAL segment, NaN)",
        EXAMPLES / "report-lesion-3d.yaml",
        "Comprehensive 3D SR",
        [
            Group("lesion-1", None, (_m(VOLUME, 0.42, "UCUM:cm3"),)),
            Group("lesion-1-probability", 1, (_m(VOLUME, None, None),)),
            Group("study-level", None, ()),
        ],
    )
    enhanced = _write_spec(
        folder,
        "sr-enhanced",
        {
            "dcmspec": 1,
            "kind": "MeasurementReport",
            "id": "sr-enhanced",
            "sources": {"images": str(PHANTOM_CT)},
            "document": {"procedure_reported": "LN:25045-6"},
            "observer": {"device": {"name": "OrganNet", "manufacturer": "Example Lab"}},
            "findings": [
                {
                    "tracking_id": "liver",
                    "type": "Liver",
                    "category": "AnatomicalStructure",
                    "segment": {"spec": str(EXAMPLES / "organs-binary.yaml"), "number": 1},
                    "measurements": [{"name": "Volume", "value": 2.18, "unit": "ml"}],
                },
                {
                    "tracking_id": "spleen",
                    "type": "Spleen",
                    "category": "AnatomicalStructure",
                    "segment": {"spec": str(EXAMPLES / "organs-binary.yaml"), "number": 2},
                    "measurements": [
                        {"name": "Volume", "value": 3.02, "unit": "ml"},
                        {
                            "name": 'DCM:112031 "Attenuation Coefficient"',
                            "derivation": "Mean",
                            "value": 55.5,
                            "unit": "[hnsf'U]",
                        },
                    ],
                },
            ],
            "series": {"number": 1010, "description": "Organ volumes"},
        },
    )
    organ_groups = [
        Group("liver", 1, (_m(VOLUME, 2.18, "UCUM:ml"),)),
        Group("spleen", 2, (_m(VOLUME, 3.02, "UCUM:ml"), _m(ATTENUATION, 55.5, "UCUM:[hnsf'U]"))),
    ]
    sr("sr-enhanced", "Enhanced SR, TID 1500 (segments)", enhanced, "Enhanced SR", organ_groups)
    comprehensive = _write_spec(
        folder,
        "sr-comprehensive",
        {
            **yaml.safe_load(enhanced.read_text()),
            "id": "sr-comprehensive",
            "document": {"procedure_reported": "LN:25045-6", "document_class": "Comprehensive"},
            "series": {"number": 1014, "description": "Organ volumes (Comprehensive SR)"},
        },
    )
    sr("sr-comprehensive", "Comprehensive SR, TID 1500 (segments)", comprehensive, "Comprehensive SR", organ_groups)
    on_labelmap = _write_spec(
        folder,
        "sr-on-labelmap",
        {
            "dcmspec": 1,
            "kind": "MeasurementReport",
            "id": "sr-on-labelmap",
            "sources": {"images": str(PHANTOM_CT)},
            "document": {"procedure_reported": "LN:25045-6"},
            "observer": {"device": {"name": "OrganNet", "manufacturer": "Example Lab"}},
            "findings": [
                {
                    "tracking_id": "kidney",
                    "type": "Kidney",
                    "category": "AnatomicalStructure",
                    "segment": {"spec": str(EXAMPLES / "organs-labelmap.yaml"), "number": 3},
                    "measurements": [{"name": "Volume", "value": 4.4, "unit": "ml"}],
                }
            ],
            "series": {"number": 1011, "description": "Volumes on the label map"},
        },
    )
    sr(
        "sr-on-labelmap",
        "Enhanced SR, TID 1500 on a Label Map SEG",
        on_labelmap,
        "Enhanced SR",
        [Group("kidney", 3, (_m(VOLUME, 4.4, "UCUM:ml"),))],
    )
    qualitative = _write_spec(
        folder,
        "sr-qualitative",
        {
            "dcmspec": 1,
            "kind": "MeasurementReport",
            "id": "sr-qualitative",
            "sources": {"images": str(PHANTOM_CT)},
            "document": {"procedure_reported": "LN:25045-6"},
            "observer": {"device": {"name": "LesionNet", "manufacturer": "Example Lab"}},
            "findings": [
                {
                    "tracking_id": "lesion-2",
                    "type": 'SCT:27925004 "Nodule"',
                    "category": 'SCT:49755003 "Morphologically Abnormal Structure"',
                    "images": [8],
                    "evaluations": [
                        {"name": 'DCM:121403 "Level of Significance"', "code": 'SCT:371928007 "Not significant"'}
                    ],
                }
            ],
            "series": {"number": 1012, "description": "Qualitative findings"},
        },
    )
    sr(
        "sr-qualitative",
        "TID 1500 without numbers (qualitative only)",
        qualitative,
        "Enhanced SR",
        [Group("lesion-2", None, ())],
    )
    sr(
        "sr-generic",
        "Comprehensive SR, generic content tree (StructuredReport)",
        EXAMPLES / "sr-key-findings.yaml",
        "Comprehensive SR",
        tid1500=False,
    )
    basic = _write_spec(
        folder,
        "sr-basic-text",
        {
            "dcmspec": 1,
            "kind": "StructuredReport",
            "id": "sr-basic-text",
            "document_class": "BasicText",
            "sources": {"images": str(PHANTOM_CT)},
            "content": {
                "type": "CONTAINER",
                "name": 'LN:18748-4 "Diagnostic imaging report"',
                "children": [
                    {
                        "type": "TEXT",
                        "relationship": "CONTAINS",
                        "name": 'DCM:121071 "Finding"',
                        "value": "No focal lesion.",
                    }
                ],
            },
            "series": {"number": 1013, "description": "Text report"},
        },
    )
    sr("sr-basic-text", "Basic Text SR, generic content tree (StructuredReport)", basic, "Basic Text SR", tid1500=False)
    objects.append(
        InteropObject(
            "kos",
            "Key Object Selection (SEG, SR and two slices)",
            "KOS",
            EXAMPLES / "key-objects.yaml",
            PHANTOM_CT,
            selection=("seg-binary", "sr-organs", "image:8", "image:9"),
        )
    )
    objects.append(
        InteropObject(
            "gsps",
            "Grayscale Softcopy Presentation State (segment outlines, circle, text)",
            "PR",
            EXAMPLES / "presentation-outlines.yaml",
            PHANTOM_CT,
        )
    )
    for name, title, spec, sources in (
        (
            "pr-pseudocolor",
            "Pseudo-Color Softcopy Presentation State (Hot Iron, graphic group, report regions)",
            "presentation-pseudocolor.yaml",
            PHANTOM_CT,
        ),
        (
            "pr-color",
            "Color Softcopy Presentation State (ICC profile, coloured circular shutter)",
            "presentation-color.yaml",
            PHANTOM_CT.parent / "rgb",
        ),
        (
            "pr-blending",
            "Advanced Blending Presentation State (PET palette over CT)",
            "presentation-blending.yaml",
            PHANTOM_CT,
        ),
    ):
        objects.append(InteropObject(name, title, "PR", EXAMPLES / spec, sources))
    objects += _parametric_maps(folder)
    return objects


def _parametric_maps(folder: Path) -> list[InteropObject]:
    """Parametric Maps on the phantom CT: the T1 example (float32), the same as float64, and an integer
    map with slope/intercept (16-bit Pixel Data, real = 0.5 * stored + 500 ms)."""
    t1 = np.load(EXAMPLES / "phantom" / "t1_map.npy")
    example = EXAMPLES / "t1-map.yaml"
    base = yaml.safe_load(example.read_text())
    float64 = _variant(
        folder,
        "pm-float64",
        example,
        map={**base["map"], "file": str(EXAMPLES / "phantom" / "t1_map.npy"), "encoding": "float64"},
        output={"file": "pm-float64.dcm"},
    )
    stored = (np.rint(t1.astype(np.float64) * 2) - 1000).astype(np.int16)
    np.save(folder / "t1-int16.npy", stored)
    int16 = _variant(
        folder,
        "pm-int16",
        example,
        map={**base["map"], "file": str(folder / "t1-int16.npy")},
        mappings=[{**base["mappings"][0], "slope": 0.5, "intercept": 500}],
        output={"file": "pm-int16.dcm"},
    )

    def pm(name, title, spec, stored_values, real_world):
        return InteropObject(name, title, "PM", spec, PHANTOM_CT, stored=stored_values, real_world=real_world)

    return [
        pm("pm-float32", "Parametric Map, float32 (Float Pixel Data)", example, t1, t1.astype(np.float64)),
        pm(
            "pm-float64",
            "Parametric Map, float64 (Double Float Pixel Data)",
            float64,
            t1.astype(np.float64),
            t1.astype(np.float64),
        ),
        pm(
            "pm-int16",
            "Parametric Map, 16-bit integers with Real World Value slope/intercept",
            int16,
            stored,
            stored.astype(np.float64) * 0.5 + 500,
        ),
    ]


def build(objects: list[InteropObject], out: Path) -> None:
    """Build every object's spec in one build (linked specs join it) and set each object's path."""
    from dcmspec_compiler.assemble.context import BuildOptions
    from dcmspec_compiler.pipeline import build_specs

    result = build_specs([o.spec for o in objects], out, options=BuildOptions())
    assert not result.errors, "\n".join(e.format() for e in result.errors)
    files = {
        entry["id"]: out / entry["file"] for entry in json.loads((out / "dcmspec-manifest.json").read_text())["objects"]
    }
    for o in objects:
        o.path = files[yaml.safe_load(o.spec.read_text()).get("id", o.spec.stem)]
