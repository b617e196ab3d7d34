"""What each consumer must do with each object of the matrix: the expectations the interop tests assert,
and the table the guide's "Conformance, measured" page shows (tests/interop/test_readme_matrix.py
checks that docs/guide/conformance-measured.md holds exactly this table).

An outcome is ``VOXEL_EQUAL`` (pixels, origin, spacing and direction equal the input), ``ACCEPTED`` (read
without error, content equal to the spec where the consumer exposes it), ``NOT_APPLICABLE`` (the consumer
has nothing to do with this kind of object), or a :class:`Limit`: a known limit of the consumer, with the
reason and the message by which the test recognises it. A limit is asserted, not skipped: when a consumer
stops showing it, the test fails and the entry has to go.
"""

from __future__ import annotations

from dataclasses import dataclass

VOXEL_EQUAL = "voxel-equal"
ACCEPTED = "accepted"
NOT_APPLICABLE = "n/a"


@dataclass(frozen=True)
class Limit:
    reason: str  # why, for the guide's table
    signature: str  # a piece of what the consumer reports when it hits the limit

    def __str__(self) -> str:
        return f"limit: {self.reason}"


CONSUMERS = {
    "dcmqi": "dcmqi 1.5.7 (`segimage2itkimage`, `tid1500reader`, `paramap2itkimage`)",
    "highdicom": "highdicom 0.28.2 (`segread` + `get_volume`, `srread`, `ParametricMap` + `get_volume`)",
    "cornerstone": "OHIF 3: @cornerstonejs/adapters 5.14 + dcmjs 0.52",
    "pixelmed": "PixelMed 20220618 validators",
    "dcmtk": "dcmtk 3.6.7 (`dsrdump`, `dcmdrle`, `dcmpschk`, `dcmdump`)",
}

# --- the known limits, one place ----------------------------------------------------------------------
CS_FRACTIONAL = Limit(
    "refuses FRACTIONAL with values other than 0 and the maximum", "Fractional segmentations are not yet supported"
)
CS_8BIT = Limit(
    "builds 8-bit label maps (`createAndCacheDerivedLabelmapImage` allocates a `Uint8Array`): "
    "segment values above 255 wrap",
    "values modulo 256",
)
CS_NOT_TID1500 = Limit(
    "`MeasurementReport.generateToolState` reads only TID 1500 (crashes on other trees)", "TemplateIdentifier"
)
HD_EMPTY_NUM = Limit(
    "a NUM without value (legal: Type 2 Measured Value Sequence with a qualifier) fails the "
    "whole document (IndexError in `NumContentItem.from_dataset`)",
    "IndexError",
)
HD_16BIT = Limit(
    "`get_volume(combine_segments=False)` of a 16-bit Label Map SEG takes the values modulo 256 "
    "(segment 257 comes out in segment 1, segments from 256 on empty); `combine_segments=True` is "
    "right",
    "values modulo 256",
)
HD_BASIC_TEXT = Limit("does not read Basic Text SR", "is not supported")
PM_LABELMAP = Limit(
    '2022 tables predate Label Map Segmentation Storage ("IOD (SOP Class) unrecognized")',
    "IOD (SOP Class) unrecognized",
)
PM_GSPS = Limit(
    'its DicomInstanceValidator does not know the GSPS IOD ("IOD (SOP Class) unrecognized", also on third-party GSPS)',
    "IOD (SOP Class) unrecognized",
)
PM_PR = Limit(
    "its DicomInstanceValidator does not know the Color, Pseudo-Color and Advanced Blending "
    'Presentation State IODs either ("IOD (SOP Class) unrecognized")',
    "IOD (SOP Class) unrecognized",
)
PM_PARAMETRIC_MAP = Limit(
    'its DicomInstanceValidator does not know the Parametric Map IOD ("IOD (SOP Class) unrecognized")',
    "IOD (SOP Class) unrecognized",
)
DCMQI_PM_FLOAT32_ONLY = Limit(
    "`paramap2itkimage` reads Float Pixel Data only: on 16-bit Pixel Data and on Double "
    "Float Pixel Data it exits with status 245 and writes nothing, though the Parametric "
    "Map IOD takes all three (PS3.3 A.75.3: Image Pixel, Floating Point and Double "
    "Floating Point Image Pixel Modules; C.8.32.2 Bits Allocated 16, 32 or 64)",
    "exit status 245",
)
DCMTK_LABELMAP_REF = Limit(
    "`dsrdump` 3.6.7 does not know the Label Map Segmentation SOP Class in an IMAGE "
    'item ("Invalid or unknown image SOP class")',
    "Invalid or unknown image SOP class",
)

# outcome per object and consumer; objects are defined in objects.py under the same names
EXPECTED: dict[str, dict[str, object]] = {
    "seg-binary": {
        "dcmqi": VOXEL_EQUAL,
        "highdicom": VOXEL_EQUAL,
        "cornerstone": VOXEL_EQUAL,
        "pixelmed": ACCEPTED,
        "dcmtk": NOT_APPLICABLE,
    },
    "seg-binary-overlap": {
        "dcmqi": VOXEL_EQUAL,
        "highdicom": VOXEL_EQUAL,
        "cornerstone": VOXEL_EQUAL,
        "pixelmed": ACCEPTED,
        "dcmtk": NOT_APPLICABLE,
    },
    "seg-fractional": {
        "dcmqi": VOXEL_EQUAL,
        "highdicom": VOXEL_EQUAL,
        "cornerstone": CS_FRACTIONAL,
        "pixelmed": ACCEPTED,
        "dcmtk": NOT_APPLICABLE,
    },
    "seg-fractional-rle": {
        "dcmqi": VOXEL_EQUAL,
        "highdicom": VOXEL_EQUAL,
        "cornerstone": CS_FRACTIONAL,
        "pixelmed": ACCEPTED,
        "dcmtk": VOXEL_EQUAL,
    },
    "seg-labelmap": {
        "dcmqi": VOXEL_EQUAL,
        "highdicom": VOXEL_EQUAL,
        "cornerstone": VOXEL_EQUAL,
        "pixelmed": PM_LABELMAP,
        "dcmtk": NOT_APPLICABLE,
    },
    "seg-labelmap-rle": {
        "dcmqi": VOXEL_EQUAL,
        "highdicom": VOXEL_EQUAL,
        "cornerstone": VOXEL_EQUAL,
        "pixelmed": PM_LABELMAP,
        "dcmtk": VOXEL_EQUAL,
    },
    "seg-labelmap-300": {
        "dcmqi": VOXEL_EQUAL,
        "highdicom": HD_16BIT,
        "cornerstone": CS_8BIT,
        "pixelmed": PM_LABELMAP,
        "dcmtk": NOT_APPLICABLE,
    },
    "seg-binary-ct3slice": {
        "dcmqi": VOXEL_EQUAL,
        "highdicom": VOXEL_EQUAL,
        "cornerstone": VOXEL_EQUAL,
        "pixelmed": ACCEPTED,
        "dcmtk": NOT_APPLICABLE,
    },
    "sr-organs": {
        "dcmqi": ACCEPTED,
        "highdicom": HD_EMPTY_NUM,
        "cornerstone": ACCEPTED,
        "pixelmed": ACCEPTED,
        "dcmtk": ACCEPTED,
    },
    "sr-comprehensive-3d": {
        "dcmqi": ACCEPTED,
        "highdicom": HD_EMPTY_NUM,
        "cornerstone": ACCEPTED,
        "pixelmed": ACCEPTED,
        "dcmtk": ACCEPTED,
    },
    "sr-enhanced": {
        "dcmqi": ACCEPTED,
        "highdicom": ACCEPTED,
        "cornerstone": ACCEPTED,
        "pixelmed": ACCEPTED,
        "dcmtk": ACCEPTED,
    },
    "sr-comprehensive": {
        "dcmqi": ACCEPTED,
        "highdicom": ACCEPTED,
        "cornerstone": ACCEPTED,
        "pixelmed": ACCEPTED,
        "dcmtk": ACCEPTED,
    },
    "sr-on-labelmap": {
        "dcmqi": ACCEPTED,
        "highdicom": ACCEPTED,
        "cornerstone": ACCEPTED,
        "pixelmed": ACCEPTED,
        "dcmtk": DCMTK_LABELMAP_REF,
    },
    "sr-qualitative": {
        "dcmqi": ACCEPTED,
        "highdicom": ACCEPTED,
        "cornerstone": ACCEPTED,
        "pixelmed": ACCEPTED,
        "dcmtk": ACCEPTED,
    },
    "sr-generic": {
        "dcmqi": NOT_APPLICABLE,
        "highdicom": ACCEPTED,
        "cornerstone": CS_NOT_TID1500,
        "pixelmed": ACCEPTED,
        "dcmtk": ACCEPTED,
    },
    "sr-basic-text": {
        "dcmqi": NOT_APPLICABLE,
        "highdicom": HD_BASIC_TEXT,
        "cornerstone": CS_NOT_TID1500,
        "pixelmed": ACCEPTED,
        "dcmtk": ACCEPTED,
    },
    # OHIF 3 has no KOS loader in the adapters: dcmjs's parse is what it reads
    "kos": {
        "dcmqi": NOT_APPLICABLE,
        "highdicom": ACCEPTED,
        "cornerstone": ACCEPTED,
        "pixelmed": ACCEPTED,
        "dcmtk": ACCEPTED,
    },
    # highdicom 0.28.2 writes presentation states but has no reader; OHIF 3's adapters have no GSPS loader
    "gsps": {
        "dcmqi": NOT_APPLICABLE,
        "highdicom": NOT_APPLICABLE,
        "cornerstone": NOT_APPLICABLE,
        "pixelmed": PM_GSPS,
        "dcmtk": ACCEPTED,
    },
    # dcmtk: dcmpschk reads the state (its GSPS semantics checks apply to the grayscale one only)
    **{
        name: {
            "dcmqi": NOT_APPLICABLE,
            "highdicom": NOT_APPLICABLE,
            "cornerstone": NOT_APPLICABLE,
            "pixelmed": PM_PR,
            "dcmtk": ACCEPTED,
        }
        for name in ("pr-pseudocolor", "pr-color", "pr-blending")
    },
    # Parametric Maps: highdicom's real-world values and dcmqi's NRRD against the input map on the source grid;
    # cornerstone: OHIF 3's PMAP adapter gives the stored values in source order (it applies no Real World Value
    # Mapping, so the integer map is ACCEPTED: stored values equal); dcmtk: `dcmdump` decodes the pixel data
    "pm-float32": {
        "dcmqi": VOXEL_EQUAL,
        "highdicom": VOXEL_EQUAL,
        "cornerstone": VOXEL_EQUAL,
        "pixelmed": PM_PARAMETRIC_MAP,
        "dcmtk": VOXEL_EQUAL,
    },
    "pm-float64": {
        "dcmqi": DCMQI_PM_FLOAT32_ONLY,
        "highdicom": VOXEL_EQUAL,
        "cornerstone": VOXEL_EQUAL,
        "pixelmed": PM_PARAMETRIC_MAP,
        "dcmtk": VOXEL_EQUAL,
    },
    "pm-int16": {
        "dcmqi": DCMQI_PM_FLOAT32_ONLY,
        "highdicom": VOXEL_EQUAL,
        "cornerstone": ACCEPTED,
        "pixelmed": PM_PARAMETRIC_MAP,
        "dcmtk": VOXEL_EQUAL,
    },
}


def expected(name: str, consumer: str) -> object:
    return EXPECTED[name][consumer]


def render(titles: dict[str, str]) -> str:
    """The guide's table (docs/guide/conformance-measured.md): one row per object (``titles``: name -> row
    title), one column per consumer."""
    lines = ["| object | " + " | ".join(CONSUMERS.values()) + " |", "|---" * (len(CONSUMERS) + 1) + "|"]
    for name, row in EXPECTED.items():
        lines.append(f"| {titles[name]} | " + " | ".join(str(row[c]) for c in CONSUMERS) + " |")
    return "\n".join(lines)
