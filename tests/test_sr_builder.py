"""SR builder layer (dcmspec_compiler.iods.sr): documents, TID 1500 variants, conformance errors, reading back.

Every written document is checked by dciodvfy (no Error lines), dsrdump (no E: lines) and read back by
highdicom (a test-only oracle) and by our own reader.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.sr.coding import Code

from dcmspec_compiler.errors import DicomConformanceError
from dcmspec_compiler.iods.common.modules import Equipment
from dcmspec_compiler.iods.sr import (
    BasicTextSR,
    CodeItem,
    CompositeItem,
    Comprehensive3DSR,
    ComprehensiveSR,
    ContainerItem,
    DateItem,
    DateTimeItem,
    DeviceObserver,
    EnhancedSR,
    FindingSite,
    ImageGroup,
    ImageItem,
    ImageRegion,
    ImageRegion3D,
    Measurement,
    MeasurementReport,
    NumItem,
    ObservationContext,
    PersonObserver,
    PlanarROIGroup,
    PNameItem,
    QualitativeEvaluation,
    Reference,
    ReferencedSegment,
    Scoord3DItem,
    ScoordItem,
    TcoordItem,
    TextItem,
    TimeItem,
    TimePointContext,
    UIDRefItem,
    VerifyingObserver,
    VolumetricROIGroup,
    WaveformItem,
    read_document,
)
from dcmspec_compiler.iods.sr import codes as C

from conftest import dciodvfy_findings, dsrdump_errors, shared

hd = pytest.importorskip("highdicom")

MM = Code("mm", "UCUM", "millimeter")
MM2 = Code("mm2", "UCUM", "square millimeter")
MM3 = Code("mm3", "UCUM", "cubic millimeter")
HU = Code("[hnsf'U]", "UCUM", "Hounsfield unit")
DIAMETER = Code("81827009", "SCT", "Diameter")
AREA = Code("42798000", "SCT", "Area")
VOLUME = Code("118565006", "SCT", "Volume")
MEAN = Code("373098007", "SCT", "Mean")
NODULE = Code("27925004", "SCT", "Nodule")
LUNG = Code("39607008", "SCT", "Lung")
LEFT = Code("7771000", "SCT", "Left")
ABNORMAL = Code("49755003", "SCT", "Morphologically Abnormal Structure")
SIGNIFICANCE = Code("121403", "DCM", "Level of Significance")
NOT_SIGNIFICANT = Code("371928007", "SCT", "Not significant")
CT_PROCEDURE = Code("25045-6", "LN", "CT unspecified body region")
WHEN = dt.datetime(2024, 5, 6, 7, 8, 9)
EQUIPMENT = Equipment("dcmspec", "dcmspec", "0.1.0", "1", institution_name="Test Hospital")
OBSERVERS = ObservationContext(
    persons=[PersonObserver("Doe^Jane", "Test Hospital")],
    devices=[DeviceObserver("2.25.4242", name="dcmspec", manufacturer="dcmspec")],
)


# --- fixtures and helpers ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def ct() -> pydicom.Dataset:
    return pydicom.dcmread(shared("single", "ct_image.dcm"))


@pytest.fixture(scope="module")
def seg() -> pydicom.Dataset:
    return pydicom.dcmread(shared("seg", "seg_image_ct_binary_single_frame.dcm"))


@pytest.fixture(scope="module")
def ct_ref(ct) -> Reference:
    return Reference.from_dataset(ct)


def doc_args(ct, **over):
    args = {
        "patient_study": ct,
        "series_instance_uid": "2.25.100",
        "series_number": 900,
        "sop_instance_uid": "2.25.101",
        "instance_number": 1,
        "content_datetime": WHEN,
        "equipment": EQUIPMENT,
    }
    args.update(over)
    return args


def write_and_validate(doc, tmp_path: Path, name: str = "sr.dcm") -> Path:
    path = tmp_path / name
    doc.save_as(path, enforce_file_format=True)
    errors, _warnings = dciodvfy_findings(path)
    assert errors == [], errors
    assert dsrdump_errors(path) == []
    return path


def report(groups, **kw) -> MeasurementReport:
    return MeasurementReport([CT_PROCEDURE], OBSERVERS, groups, **kw)


def hd_groups(path: Path):
    content = hd.sr.srread(str(path)).content
    return {
        "planar": content.get_planar_roi_measurement_groups(),
        "volumetric": content.get_volumetric_roi_measurement_groups(),
        "image": content.get_image_measurement_groups(),
    }


def assert_same_as_highdicom(path: Path) -> None:
    """Our reader and highdicom agree on tracking ids/uids, measurements and referenced segments."""
    ours = read_document(path)
    theirs = hd_groups(path)
    for kind, hd_list in theirs.items():
        mine = ours.measurement_groups(kind)
        assert [g.tracking_id for g in mine] == [g.tracking_identifier for g in hd_list]
        for g, h in zip(mine, hd_list):
            assert g.tracking_uid == h.tracking_uid
            if h.finding_type is not None:
                assert g.finding_type.value == h.finding_type.value
            # highdicom 0.28.2 also lists the TID 1502 Time Point Order NUM (HAS OBS CONTEXT) as a measurement
            hm = [m for m in h.get_measurements() if m.name.value != C.TIME_POINT_ORDER.value]
            assert [(m.name.value, m.value, m.unit.value) for m in g.measurements] == [
                (m.name.value, pytest.approx(m.value), m.unit.value) for m in hm
            ]
            hq = [
                (q.name.value, q.value.value)
                for q in h.get_qualitative_evaluations()
                if q.name.value != C.FINDING_CATEGORY.value
            ]
            assert [(n.value, v.value) for n, v in g.qualitative_evaluations] == hq
            if kind == "volumetric" and h.referenced_segment is not None:
                hs = h.referenced_segment
                assert g.referenced_segment.sop_instance_uid == hs.referenced_sop_instance_uid
                assert g.referenced_segment.segment_number == hs.referenced_segment_numbers[0]
                assert g.referenced_segment.source_series_uid == hs.source_series_for_segmentation.value


# --- TID 1500 variants ------------------------------------------------------------------------
def planar_scoord_group(ct_ref):
    return PlanarROIGroup(
        tracking_id="Nodule 1",
        tracking_uid="2.25.1001",
        finding_type=NODULE,
        finding_category=ABNORMAL,
        finding_sites=[FindingSite(LUNG, laterality=LEFT)],
        time_point_context=TimePointContext("baseline", time_point_order=1),
        region=ImageRegion("POLYLINE", [[10, 10], [40, 10], [40, 30], [10, 30], [10, 10]], ct_ref),
        measurements=[
            Measurement(AREA, 600.25, MM2, finding_sites=[LUNG]),
            Measurement(
                DIAMETER, 36.055512754639892, MM, source_regions=[ImageRegion("POLYLINE", [[10, 10], [40, 30]], ct_ref)]
            ),
        ],
        qualitative_evaluations=[QualitativeEvaluation(SIGNIFICANCE, NOT_SIGNIFICANT)],
    )


def test_planar_scoord_report_is_enhanced_sr(tmp_path, ct, ct_ref):
    doc = report([planar_scoord_group(ct_ref)], image_library=[ct_ref]).document(**doc_args(ct))
    assert isinstance(doc, EnhancedSR)
    path = write_and_validate(doc, tmp_path)
    assert_same_as_highdicom(path)
    (g,) = read_document(path).measurement_groups("planar")
    assert g.roi.graphic_type == "POLYLINE" and g.roi.source_sop_instance_uid == ct.SOPInstanceUID
    assert g.finding_sites == [FindingSite(LUNG, LEFT)]
    assert g.measurements[1].source_regions[0].coordinates.tolist() == [[10, 10], [40, 30]]
    assert g.measurement(DIAMETER).value == pytest.approx(36.055512754639892)
    # the report's evidence lists ct_image once, in its study and series
    ev = doc.CurrentRequestedProcedureEvidenceSequence
    assert len(ev) == 1 and ev[0].StudyInstanceUID == ct.StudyInstanceUID
    assert [s.ReferencedSOPInstanceUID for s in ev[0].ReferencedSeriesSequence[0].ReferencedSOPSequence] == [
        ct.SOPInstanceUID
    ]


def test_planar_report_forced_to_comprehensive(tmp_path, ct, ct_ref):
    doc = report([planar_scoord_group(ct_ref)]).document(document_class=ComprehensiveSR, **doc_args(ct))
    assert isinstance(doc, ComprehensiveSR) and doc.SOPClassUID == ComprehensiveSR.SOP_CLASS_UID
    assert_same_as_highdicom(write_and_validate(doc, tmp_path))


def test_planar_scoord3d_report_is_comprehensive_3d(tmp_path, ct):
    region = ImageRegion3D("POLYGON", [[0, 0, 0], [10, 0, 0], [10, 10, 0], [0, 0, 0]], ct.FrameOfReferenceUID)
    group = PlanarROIGroup(
        tracking_id="Region 3D",
        tracking_uid="2.25.1002",
        finding_type=NODULE,
        region=region,
        measurements=[Measurement(AREA, 50.0, MM2)],
    )
    doc = report([group]).document(**doc_args(ct))
    assert isinstance(doc, Comprehensive3DSR)
    path = write_and_validate(doc, tmp_path)
    assert_same_as_highdicom(path)
    (g,) = read_document(path).measurement_groups("planar")
    assert g.roi.value_type == "SCOORD3D" and g.roi.frame_of_reference_uid == ct.FrameOfReferenceUID
    assert "CurrentRequestedProcedureEvidenceSequence" not in doc  # no instance referenced


def test_volumetric_referenced_segment(tmp_path, ct, seg):
    segment = ReferencedSegment.from_segmentation(seg, 1)
    group = VolumetricROIGroup(
        tracking_id="Liver",
        tracking_uid="2.25.1003",
        finding_type=NODULE,
        referenced_segment=segment,
        measurements=[Measurement(VOLUME, 1234.5, MM3), Measurement(MEAN, -12.5, HU)],
    )
    doc = report([group]).document(**doc_args(ct))
    path = write_and_validate(doc, tmp_path)
    assert_same_as_highdicom(path)
    ours = read_document(path)
    (g,) = ours.measurement_groups(referenced_segment=(seg.SOPInstanceUID, 1))
    assert g.kind == "volumetric"
    assert g.referenced_segment.source_series_uid == seg.ReferencedSeriesSequence[0].SeriesInstanceUID
    assert ours.measurement_groups(referenced_segment=(seg.SOPInstanceUID, 2)) == []
    # the SEG is evidence too, in its own series
    series = {
        s.SeriesInstanceUID for e in doc.CurrentRequestedProcedureEvidenceSequence for s in e.ReferencedSeriesSequence
    }
    assert seg.SeriesInstanceUID in series


def test_volumetric_scoord3d_regions(tmp_path, ct):
    regions = [
        ImageRegion3D("POLYGON", [[0, 0, z], [5, 0, z], [5, 5, z], [0, 0, z]], ct.FrameOfReferenceUID)
        for z in (0.0, 1.0, 2.0)
    ]
    with pytest.raises(DicomConformanceError, match="Source series for segmentation"):
        report([VolumetricROIGroup(tracking_id="Stack", tracking_uid="2.25.1004", regions=regions)]).content()
    group = VolumetricROIGroup(
        tracking_id="Stack",
        tracking_uid="2.25.1004",
        regions=regions,
        source_series_uid=ct.SeriesInstanceUID,  # TID 1411: required with a Volume Surface
        measurements=[Measurement(VOLUME, 37.5, MM3)],
    )
    doc = report([group]).document(**doc_args(ct))
    assert isinstance(doc, Comprehensive3DSR)
    path = write_and_validate(doc, tmp_path)
    assert_same_as_highdicom(path)
    (g,) = read_document(path).measurement_groups("volumetric")
    assert len(g.regions) == 3 and g.regions[2].coordinates[0].tolist() == [0, 0, 2]


def test_image_measurement_group(tmp_path, ct, ct_ref):
    group = ImageGroup(
        tracking_id="Whole image",
        tracking_uid="2.25.1005",
        source_images=[ct_ref],
        measurements=[Measurement(MEAN, -119.07385253906, HU)],
        qualitative_evaluations=[QualitativeEvaluation(SIGNIFICANCE, NOT_SIGNIFICANT)],
    )
    doc = report([group]).document(**doc_args(ct))
    path = write_and_validate(doc, tmp_path)
    assert_same_as_highdicom(path)
    (g,) = read_document(path).measurement_groups("image", tracking_uid="2.25.1005")
    assert g.source_images == [ct.SOPInstanceUID]


def test_all_three_kinds_in_one_report_with_filters(tmp_path, ct, ct_ref, seg):
    groups = [
        planar_scoord_group(ct_ref),
        VolumetricROIGroup(
            tracking_id="Seg",
            tracking_uid="2.25.1006",
            referenced_segment=ReferencedSegment.from_segmentation(seg, 1),
            measurements=[Measurement(VOLUME, 10, MM3)],
        ),
        ImageGroup(tracking_id="Img", tracking_uid="2.25.1007", measurements=[Measurement(MEAN, 1, HU)]),
    ]
    doc = report(
        groups, image_library=[ct_ref], qualitative_evaluations=[QualitativeEvaluation(SIGNIFICANCE, "free text")]
    ).document(**doc_args(ct))
    path = write_and_validate(doc, tmp_path)
    assert_same_as_highdicom(path)
    ours = read_document(path)
    assert [g.kind for g in ours.measurement_groups()] == ["planar", "volumetric", "image"]
    assert [g.tracking_id for g in ours.measurement_groups(finding_type=NODULE)] == ["Nodule 1"]
    assert [g.tracking_id for g in ours.measurement_groups(tracking_id="Img")] == ["Img"]
    assert len(ours.content_items(value_type="NUM")) == 5  # incl. the Time Point Order
    assert len(ours.content_items(value_type="NUM", relationship_type="CONTAINS")) == 4
    assert len(ours.content_items(concept_name=C.MEASUREMENT_GROUP)) == 3
    assert ours.content_items(concept_name=C.IMAGING_MEASUREMENTS, recursive=False)


def test_nan_measurement_gets_a_qualifier(tmp_path, ct):
    group = ImageGroup(
        tracking_id="NaN",
        tracking_uid="2.25.1008",
        measurements=[Measurement(MEAN, float("nan"), HU), Measurement(MEAN, 3.5, HU)],
    )
    doc = report([group]).document(**doc_args(ct))
    path = write_and_validate(doc, tmp_path)
    (g,) = read_document(path).measurement_groups()
    assert g.measurements[0].value is None and g.measurements[0].qualifier.value == "114000"
    assert g.measurements[1].value == 3.5
    # highdicom 0.28.2 cannot read a NUM whose Measured Value Sequence is empty (PS3.3 C.18.1 allows it)


def test_build_is_reproducible(tmp_path, ct, ct_ref):
    a = report([planar_scoord_group(ct_ref)]).document(**doc_args(ct))
    b = report([planar_scoord_group(ct_ref)]).document(**doc_args(ct))
    a.save_as(tmp_path / "a.dcm", enforce_file_format=True)
    b.save_as(tmp_path / "b.dcm", enforce_file_format=True)
    assert (tmp_path / "a.dcm").read_bytes() == (tmp_path / "b.dcm").read_bytes()


# --- document classes with hand-built trees ---------------------------------------------------
def text_tree(ct_ref) -> ContainerItem:
    title = Code("18748-4", "LN", "Diagnostic imaging report")
    finding = Code("121071", "DCM", "Finding")
    return ContainerItem(
        title,
        None,
        children=[
            CodeItem(C.LANGUAGE_OF_CONTENT, C.ENGLISH_US, "HAS CONCEPT MOD"),
            PNameItem(C.PERSON_OBSERVER_NAME, "Doe^Jane", "HAS OBS CONTEXT"),
            ContainerItem(
                Code("121070", "DCM", "Findings"),
                children=[
                    TextItem(
                        finding,
                        "No nodules.",
                        children=[ImageItem(Code("121112", "DCM", "Source of Measurement"), ct_ref, "INFERRED FROM")],
                    ),
                    DateItem(Code("111060", "DCM", "Study Date"), dt.date(2004, 1, 19)),
                    TimeItem(Code("111061", "DCM", "Study Time"), dt.time(7, 27, 30)),
                    DateTimeItem(Code("121125", "DCM", "DateTime of Recording of Log Entry"), WHEN),
                    UIDRefItem(Code("121018", "DCM", "Procedure Study Instance UID"), "1.2.3.4"),
                ],
            ),
        ],
    )


def test_basic_text_sr(tmp_path, ct, ct_ref):
    doc = BasicTextSR(
        text_tree(ct_ref),
        completion_flag="COMPLETE",
        verification_flag="VERIFIED",
        verifying_observers=[VerifyingObserver("Doe^Jane", "Test Hospital", WHEN)],
        **doc_args(ct),
    )
    assert doc.SOPClassUID == "1.2.840.10008.5.1.4.1.1.88.11"
    path = write_and_validate(doc, tmp_path)
    back = read_document(path)
    assert isinstance(back, BasicTextSR) and back.VerificationFlag == "VERIFIED"
    assert back.VerifyingObserverSequence[0].VerifyingOrganization == "Test Hospital"
    assert [i.TextValue for i in back.content_items(value_type="TEXT")] == ["No nodules."]


def test_comprehensive_3d_with_every_value_type(tmp_path, ct, ct_ref):
    ecg = Reference("1.2.840.10008.5.1.4.1.1.9.1.1", "2.25.500", "2.25.501", ct.StudyInstanceUID)
    other_study = Reference("1.2.840.10008.5.1.4.1.1.2", "2.25.600", "2.25.601", "2.25.602")
    tree = text_tree(ct_ref)
    section = tree.append(ContainerItem(Code("121071", "DCM", "Finding")))
    num = section.append(
        NumItem(
            DIAMETER,
            12.5,
            MM,
            children=[
                ScoordItem(
                    C.IMAGE_REGION, "ELLIPSE", [[10, 20], [30, 20], [20, 15], [20, 25]], ct_ref, "INFERRED FROM"
                ),
                Scoord3DItem(
                    C.IMAGE_REGION,
                    "ELLIPSOID",
                    [[-1, 0, 0], [1, 0, 0], [0, -2, 0], [0, 2, 0], [0, 0, -3], [0, 0, 3]],
                    ct.FrameOfReferenceUID,
                    "INFERRED FROM",
                ),
            ],
        )
    )
    num.append(CodeItem(C.MEASUREMENT_METHOD, Code("27925004", "SCT", "Nodule"), "HAS CONCEPT MOD"))
    section.append(ScoordItem(C.IMAGE_REGION, "CIRCLE", [[50, 50], [55, 50]], ct_ref))
    section.append(ScoordItem(C.IMAGE_REGION, "POINT", [[1, 2]], ct_ref))
    section.append(Scoord3DItem(C.IMAGE_REGION, "MULTIPOINT", [[1, 2, 3], [4, 5, 6]], ct.FrameOfReferenceUID))
    section.append(CompositeItem(Code("126100", "DCM", "Real World Value Map used for measurement"), other_study))
    wave = WaveformItem(None, ecg, "CONTAINS", channels=[(1, 1), (1, 2)])
    section.append(wave)
    section.append(
        TcoordItem(
            Code("122147", "DCM", "Interval"),
            "SEGMENT",
            time_offsets=[0.0, 1.5],
            children=[WaveformItem(None, ecg, "SELECTED FROM")],
        )
    )
    doc = Comprehensive3DSR(tree, **doc_args(ct))
    path = write_and_validate(doc, tmp_path)
    back = read_document(path)
    assert isinstance(back, Comprehensive3DSR)
    assert {i.ValueType for i in back.content_items()} >= {
        "CONTAINER",
        "CODE",
        "NUM",
        "TEXT",
        "DATE",
        "TIME",
        "DATETIME",
        "PNAME",
        "UIDREF",
        "COMPOSITE",
        "IMAGE",
        "WAVEFORM",
        "SCOORD",
        "SCOORD3D",
        "TCOORD",
    }
    # own-study references are current evidence; the other study's instance is pertinent other evidence
    current = {
        r.ReferencedSOPInstanceUID
        for e in doc.CurrentRequestedProcedureEvidenceSequence
        for s in e.ReferencedSeriesSequence
        for r in s.ReferencedSOPSequence
    }
    assert current == {ct.SOPInstanceUID, "2.25.500"}
    (other,) = doc.PertinentOtherEvidenceSequence
    assert other.StudyInstanceUID == "2.25.602"
    # the same tree is refused by the IODs without SCOORD3D
    for cls in (ComprehensiveSR, EnhancedSR, BasicTextSR):
        with pytest.raises(DicomConformanceError, match=r"SCOORD3D|NUM"):
            cls(tree, **doc_args(ct))


def test_enhanced_sr_refuses_obs_context_below_num(ct):
    tree = ContainerItem(
        C.IMAGING_MEASUREMENT_REPORT,
        None,
        children=[NumItem(DIAMETER, 1, MM, children=[TextItem(C.TRACKING_IDENTIFIER, "x", "HAS OBS CONTEXT")])],
    )
    with pytest.raises(
        DicomConformanceError,
        match=r"Enhanced SR does not allow NUM 'Diameter' HAS OBS"
        r" CONTEXT TEXT .*A\.35\.2-2",
    ):
        EnhancedSR(tree, **doc_args(ct))
    ComprehensiveSR(tree, **doc_args(ct))  # allowed there


# --- conformance errors -----------------------------------------------------------------------
def test_wrong_value_type_for_the_iod(ct):
    tree = ContainerItem(C.IMAGING_MEASUREMENT_REPORT, None, children=[NumItem(DIAMETER, 1.0, MM)])
    with pytest.raises(
        DicomConformanceError, match=r"Basic Text SR does not allow value type NUM \(PS3\.3 A\.35\.1-2\); item 1\.1"
    ):
        BasicTextSR(tree, **doc_args(ct))


def test_wrong_relationship_for_the_iod(ct, ct_ref):
    tree = ContainerItem(C.IMAGING_MEASUREMENT_REPORT, None, children=[CodeItem(C.FINDING, NODULE, "INFERRED FROM")])
    with pytest.raises(DicomConformanceError, match=r"does not allow CONTAINER .* INFERRED FROM CODE"):
        ComprehensiveSR(tree, **doc_args(ct))


def test_num_without_unit():
    with pytest.raises(DicomConformanceError, match="NUM 'Diameter' has no unit"):
        NumItem(DIAMETER, 3.0, None)
    with pytest.raises(DicomConformanceError, match="NUM 'Diameter' has no unit"):
        Measurement(DIAMETER, 3.0, None).item()
    with pytest.raises(DicomConformanceError, match="Numeric Value Qualifier"):
        NumItem(DIAMETER, None, MM)


@pytest.mark.parametrize(
    "graphic_type, points, message",
    [
        ("POINT", [[1, 2], [3, 4]], "POINT needs exactly 1 point"),
        ("CIRCLE", [[1, 2]], "CIRCLE needs exactly 2 point"),
        ("ELLIPSE", [[0, 0], [2, 0], [1, 1]], "ELLIPSE needs exactly 4 point"),
        ("POLYLINE", [[1, 2]], "POLYLINE needs at least 2 points"),
        ("POLYGON", [[0, 0], [1, 0], [1, 1], [0, 0]], "closed 2D polygon is a POLYLINE"),
        ("ELLIPSE", [[0, 0], [2, 0], [0, 1], [0, 3]], "share one center"),
    ],
)
def test_scoord_point_rules(ct_ref, graphic_type, points, message):
    with pytest.raises(DicomConformanceError, match=message):
        ScoordItem(C.IMAGE_REGION, graphic_type, points, ct_ref)


def test_scoord_needs_its_source_image():
    with pytest.raises(DicomConformanceError, match="SELECTED FROM IMAGE"):
        ScoordItem(C.IMAGE_REGION, "POINT", [[1, 2]], None)


def test_scoord3d_rules(ct):
    for_uid = ct.FrameOfReferenceUID
    with pytest.raises(DicomConformanceError, match="needs a Referenced Frame of Reference UID"):
        Scoord3DItem(C.IMAGE_REGION, "POINT", [[1, 2, 3]], None)
    with pytest.raises(DicomConformanceError, match="needs a Referenced Frame of Reference UID"):
        ImageRegion3D("POINT", [[1, 2, 3]], None).item(C.IMAGE_REGION, "CONTAINS")
    with pytest.raises(DicomConformanceError, match="POLYGON must be closed"):
        Scoord3DItem(C.IMAGE_REGION, "POLYGON", [[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], for_uid)
    with pytest.raises(DicomConformanceError, match="coplanar"):
        Scoord3DItem(C.IMAGE_REGION, "POLYGON", [[0, 0, 0], [10, 0, 0], [10, 10, 0], [0, 10, 10], [0, 0, 0]], for_uid)
    with pytest.raises(DicomConformanceError, match="ELLIPSOID needs exactly 6"):
        Scoord3DItem(C.IMAGE_REGION, "ELLIPSOID", np.zeros((4, 3)), for_uid)
    with pytest.raises(DicomConformanceError, match="Graphic Type 'CIRCLE'"):
        Scoord3DItem(C.IMAGE_REGION, "CIRCLE", [[0, 0, 0], [1, 0, 0]], for_uid)


def test_verified_needs_a_verifying_observer(ct, ct_ref):
    with pytest.raises(DicomConformanceError, match="VERIFIED document needs at least one verifying observer"):
        BasicTextSR(text_tree(ct_ref), verification_flag="VERIFIED", **doc_args(ct))
    with pytest.raises(DicomConformanceError, match="Completion Flag 'DONE'"):
        BasicTextSR(text_tree(ct_ref), completion_flag="DONE", **doc_args(ct))


def test_template_level_errors(ct_ref, seg):
    with pytest.raises(DicomConformanceError, match="Procedure reported"):
        MeasurementReport([], OBSERVERS, [planar_scoord_group(ct_ref)]).content()
    with pytest.raises(DicomConformanceError, match="either image regions or a referenced segment"):
        VolumetricROIGroup(tracking_id="x", tracking_uid="2.25.1").item()
    with pytest.raises(DicomConformanceError, match="segment 7 is not in the segmentation"):
        ReferencedSegment.from_segmentation(seg, 7)
    with pytest.raises(DicomConformanceError, match="tracking unique identifier"):
        ImageGroup(tracking_id="x", tracking_uid="not-a-uid").item()
    with pytest.raises(DicomConformanceError, match="Image Region is an area"):
        PlanarROIGroup(tracking_id="x", tracking_uid="2.25.1", region=ImageRegion("POINT", [[1, 1]], ct_ref)).item()


def test_forcing_a_too_small_iod_is_refused(ct):
    group = PlanarROIGroup(
        tracking_id="x",
        tracking_uid="2.25.1",
        region=ImageRegion3D("POLYGON", [[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 0, 0]], ct.FrameOfReferenceUID),
    )
    with pytest.raises(DicomConformanceError, match="Comprehensive SR does not allow value type SCOORD3D"):
        report([group]).document(document_class=ComprehensiveSR, **doc_args(ct))


# --- reading other writers' reports -----------------------------------------------------------
def test_read_highdicom_reference_report():
    path = shared("sr", "sr_document_with_multiple_groups.dcm")
    assert_same_as_highdicom(path)
    doc = read_document(path)
    assert isinstance(doc, Comprehensive3DSR)
    (nodule,) = doc.measurement_groups("planar", finding_type=NODULE)
    assert nodule.tracking_id == "LungNodule0001"
    assert nodule.finding_sites[0].site.value == LUNG.value
    assert nodule.roi.graphic_type == "CIRCLE"
    assert nodule.measurement(DIAMETER).value == 10.0 and nodule.measurement(DIAMETER).unit.value == "mm"
    (vol,) = doc.measurement_groups("volumetric")
    assert vol.roi.value_type == "SCOORD3D" and vol.measurements[0].value == 200.0
    (img,) = doc.measurement_groups("image")
    assert img.measurements[0].value == pytest.approx(-119.07385253906)
    assert doc.violations() == []


def test_read_dcmqi_report():
    doc = read_document(shared("sr", "sr.dcm"))
    groups = doc.measurement_groups("volumetric")
    assert groups and all(g.referenced_segment is not None for g in groups)
    first = groups[0]
    assert first.referenced_segment.source_series_uid
    assert doc.measurement_groups(
        referenced_segment=(first.referenced_segment.sop_instance_uid, first.referenced_segment.segment_number)
    )
    assert all(m.unit is not None for m in first.measurements if m.value is not None)


def test_element_tag_constants_match_the_dictionary():
    """The hot constructors set elements by tag and VR constants: each must be pydicom's keyword's."""
    import inspect
    import re

    from pydicom.datadict import dictionary_VR, keyword_for_tag
    from pydicom.tag import BaseTag

    from dcmspec_compiler.iods.common import codes as common_codes
    from dcmspec_compiler.iods.sr import evidence, references, relationships, value_types

    checked = 0
    for module in (common_codes, evidence, references, relationships, value_types):
        for name, tag in vars(module).items():
            if isinstance(tag, BaseTag) and name.lstrip("_").isupper():
                assert keyword_for_tag(tag), (module.__name__, name)
                checked += 1
    assert checked > 30
    for module in (common_codes, evidence, references, value_types):
        source = inspect.getsource(module)
        for const, vr in re.findall(r"set_element\([^,]+, ([A-Z_]+), \"([A-Z]{2})\"", source):
            tag = getattr(module, const)
            assert dictionary_VR(tag) == vr, (module.__name__, const, vr)
            checked += 1
    assert checked > 60
