"""The Python API example of the README, run as written (with its placeholders filled in)."""

from __future__ import annotations

import datetime

import numpy as np
import pydicom
from pydicom.sr.codedict import codes

from dcmspec_compiler.iods.common.modules import Equipment
from dcmspec_compiler.iods.seg import AlgorithmIdentification, Segmentation, SegmentDescription, segread

from conftest import ROOT, dciodvfy_findings


def test_readme_segmentation_example(tmp_path):
    paths = sorted((ROOT / "specs_examples" / "phantom" / "ct").glob("*.dcm"))
    labels = (np.load(ROOT / "specs_examples" / "phantom" / "organs_labelmap.npy") == 1).astype(np.uint8)
    sources = sorted(
        (pydicom.dcmread(p, stop_before_pixels=True) for p in paths), key=lambda ds: float(ds.ImagePositionPatient[2])
    )
    liver = SegmentDescription(
        segment_number=1,
        segment_label="Liver",
        segmented_property_category=codes.SCT.AnatomicalStructure,
        segmented_property_type=codes.SCT.Liver,
        algorithm_type="AUTOMATIC",
        algorithm=AlgorithmIdentification(name="OrganNet", version="2.1", family=codes.DCM.ArtificialIntelligence),
        display_color=(221, 130, 101),
    )
    seg = Segmentation(
        source_images=sources,
        pixel_array=labels,
        segmentation_type="BINARY",
        segment_descriptions=[liver],
        series_instance_uid="2.25.1",
        series_number=300,
        sop_instance_uid="2.25.2",
        instance_number=1,
        equipment=Equipment("Example Lab", "OrganNet", "2.1", "0001"),
        content_datetime=datetime.datetime(2024, 1, 2, 10, 0),
    )
    seg.save_as(tmp_path / "organs.dcm", enforce_file_format=True)
    assert dciodvfy_findings(tmp_path / "organs.dcm")[0] == []

    seg = segread(tmp_path / "organs.dcm")
    assert [s.segment_number for s in seg.find_segments(label="Liver")] == [1]
    assert np.array_equal(seg.get_pixels([1])[..., 0], labels == 1)
    assert np.array_equal(seg.get_pixels_by_source_instance(sources[10].SOPInstanceUID)[..., 0], labels[10] == 1)
    vol = seg.get_volume([1])
    first = int(np.flatnonzero(labels.reshape(len(labels), -1).any(axis=1))[0])
    assert np.array_equal(vol.array[0, ..., 0], labels[first] == 1)
