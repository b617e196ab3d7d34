"""Build a MeasurementReport spec: findings on source images or segments -> a TID 1500 SR document.

Each finding is one measurement group: ``region`` gives TID 1410 (planar ROI), ``regions`` or
``segment`` TID 1411 (volumetric ROI), neither TID 1501 (image- or study-level). Segments are taken
from a Segmentation built in the same build (``segment: {spec: ID-or-file, number|label}``) or from a
file. Errors of the builder layer are located at the finding, measurement or region that caused them.
The SR document class is the smallest that accepts the tree unless ``document.document_class`` says.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from ..errors import DicomConformanceError, InputError, SpecError
from ..iods.common.concept import Code
from ..iods.common.vr import InvalidValue
from ..load.document import SpecDocument
from ..write.output import BuiltObject
from .common import Errors, NodePath, built_object, code_at, conformance_at, subject_header
from .context import BuildContext
from .sr_common import (
    ImageResolver,
    document_arguments,
    document_class,
    measurement_value,
    observation_context,
    read_header,
    region_at,
    required_code_at,
    sources_and_images,
)

if TYPE_CHECKING:  # the builder layer imports pydicom: loaded when a builder needs it
    from collections.abc import Callable, Mapping, Sequence

    from pydicom.dataset import Dataset

    from ..iods.sr import (
        AlgorithmIdentification,
        FindingSite,
        ImageGroup,
        Measurement,
        PlanarROIGroup,
        QualitativeEvaluation,
        Reference,
        ReferencedSegment,
        TimePointContext,
        VolumetricROIGroup,
    )
    from ..iods.sr.tid1500 import ImageRegion, ImageRegion3D, MeasurementGroup
    from ..iods.sr.value_types import ContentItem
    from ..resolve.source_series import SourceSeries

    #: a check run to locate an error of the builder layer: (spec path, the check, hint)
    Check = tuple[NodePath, Callable[[], object], str | None]
    GroupClasses = tuple[type[PlanarROIGroup], type[VolumetricROIGroup], type[ImageGroup]]


def build(doc: SpecDocument, ctx: BuildContext) -> list[BuiltObject]:
    from ..iods.sr import MeasurementReport, QualitativeEvaluation

    errors = Errors()  # sources, findings, evaluations and the document are checked independently
    series, images = sources_and_images(doc, ctx, errors)
    findings = doc.get(("findings",)) or []
    header = series.header if series is not None else None
    groups: list[MeasurementGroup] = []
    used: list[Reference] = []
    checks: list[Check] = []
    without_value: list[NodePath] = []
    for i in range(len(findings)):
        found = errors.run(_group, doc, ctx, images, ("findings", i), header, checks, without_value)
        if found is None:
            continue
        group, refs, seg_header = found
        if header is None:
            header = seg_header
        groups.append(group)
        used.extend(refs)
    subject = errors.run(_subject, doc, ctx, series, header)
    evaluated = [
        errors.run(_evaluation, doc, ctx, ("evaluations", i), QualitativeEvaluation, checks)
        for i in range(len(doc.get(("evaluations",)) or []))
    ]
    spec = doc.get(("document",)) or {}
    procedures = errors.run(_procedures, doc, ctx, spec)
    errors.raise_if_any()
    evaluations = [e for e in evaluated if e is not None]  # all of them: none failed
    assert procedures is not None  # it did not fail
    header = subject
    if header is None:
        raise SpecError(
            "the report has no `sources`, no `subject` and no finding refers to a segment:"
            " nothing gives the patient and study",
            location=doc.loc(()),
            hint="add `sources: {images: ...}` with the images the report is about, or"
            " `subject: {patient: {id: ...}, study: {...}}`",
        )
    _check_tracking(doc, groups)
    library = None
    choice = spec.get("image_library", True)
    if series is not None and choice:
        from ..iods.sr import Reference

        if choice == "all":
            library = [Reference.from_dataset(i.header) for i in series.instances]
        else:  # the source images the findings refer to, once each, whole instances
            source_uids = {i.sop_instance_uid: i for i in series.instances}
            seen = dict.fromkeys(r.sop_instance_uid for r in used if r.sop_instance_uid in source_uids)
            library = [Reference.from_dataset(source_uids[uid].header) for uid in seen] or None
    kwargs: dict[str, Any] = {}
    if "title" in spec:
        kwargs["title"] = code_at(doc, ctx, ("document", "title"))
    if "language" in spec:
        kwargs["language"] = code_at(doc, ctx, ("document", "language"))
    with conformance_at(doc, ("findings",) if findings else ()):
        report = MeasurementReport(
            procedure_reported=procedures,
            observation_context=observation_context(doc, ctx),
            groups=groups,
            qualitative_evaluations=evaluations,
            image_library=library,
            **kwargs,
        )
    arguments = document_arguments(doc, ctx, header, used, default_label="MEASUREMENTS", default_series_number=1001)
    forced = document_class(spec.get("document_class"))
    where: NodePath = ("document", "document_class") if forced else ("findings",)
    try:
        try:
            sr = report.document(document_class=forced, **arguments)
        except DicomConformanceError:
            # Locate the finding, measurement or evaluation at fault (checked only when something failed,
            # so that large template builds do not build every group twice).
            for path, check, hint in checks:
                with conformance_at(doc, path, hint=hint):
                    check()
            raise
    except DicomConformanceError as exc:
        if isinstance(exc, InvalidValue):  # a value its VR forbids: located at the spec value
            with conformance_at(doc, ("findings",)):
                raise
        raise SpecError(
            str(exc),
            location=doc.loc(where),
            path=where,
            hint="remove document.document_class to let dcmspec choose" if forced else None,
        ) from None
    summary = {"document_class": type(sr).__name__, "findings": len(groups)}
    if without_value:
        summary["measurements_without_value"] = len(without_value)
        if spec.get("measurements_without_value") == "omit":
            summary["measurements_omitted"] = len(without_value)
        else:
            _warn_without_value(doc, ctx, without_value)
    return [built_object(doc, sr, "MeasurementReport", summary)]


def _procedures(doc: SpecDocument, ctx: BuildContext, spec: Mapping[str, Any]) -> list[Code]:
    """The Procedure Reported codes of ``document`` (TID 1500 row 2)."""
    if "procedure_reported" not in spec:
        raise SpecError(
            "the report has no `document` with `procedure_reported`",
            location=doc.loc(()),
            hint="add document: {procedure_reported: LN:25045-6} (CID 100), here or in the spec it extends",
        )
    procedures = spec["procedure_reported"]
    if not isinstance(procedures, list):
        return [required_code_at(doc, ctx, ("document", "procedure_reported"))]
    errors = Errors()
    codes = [errors.run(code_at, doc, ctx, ("document", "procedure_reported", i)) for i in range(len(procedures))]
    errors.raise_if_any()
    return [code for code in codes if code is not None]  # all of them: the schema asks for codes, none failed


def _has_value(measurement: Measurement) -> bool:
    return measurement.value is not None and math.isfinite(measurement.value)


def _warn_without_value(doc: SpecDocument, ctx: BuildContext, paths: list[NodePath]) -> None:
    """A NUM with an empty Measured Value Sequence and a qualifier is the standard's way to record a
    failed measurement (PS3.3 C.18.1, Type 2), but some readers fail on it: say so, once per document."""
    ctx.warn(
        f"{len(paths)} measurement(s) without a value are written as a NUM with an empty Measured Value"
        " Sequence and a qualifier (conformant), but some readers fail on them: highdicom 0.28 rejects"
        " the whole document, PixelMed reports 'Missing value'; `document: {measurements_without_value:"
        " omit}` leaves them out",
        doc.loc(paths[0]),
        paths[0],
    )


def _subject(
    doc: SpecDocument, ctx: BuildContext, series: SourceSeries | None, header: Dataset | None
) -> Dataset | None:
    """Patient and study: from the sources (or the referenced SEG), else from ``subject``; not both."""
    if doc.get(("subject",)) is None:
        return header
    if series is not None:
        raise SpecError(
            "give either `sources` (patient and study come from the images) or `subject`, not both",
            location=doc.loc(("subject",)),
            path=("subject",),
        )
    subject: Dataset = subject_header(doc, ctx)
    return subject


def _check_tracking(doc: SpecDocument, groups: Sequence[MeasurementGroup]) -> None:
    seen: dict[str, int] = {}
    for i, g in enumerate(groups):
        if g.tracking_uid in seen:
            path = ("findings", i, "tracking_uid" if doc.get(("findings", i, "tracking_uid")) else "tracking_id")
            raise SpecError(
                f"findings {seen[g.tracking_uid] + 1} and {i + 1} have the same tracking unique"
                f" identifier {g.tracking_uid}",
                location=doc.loc(path),
                path=path,
                hint="each finding needs its own tracking_id (or tracking_uid)",
            )
        seen[g.tracking_uid] = i


# ----------------------------------------------------------------------------------- findings
def _site(doc: SpecDocument, ctx: BuildContext, path: NodePath) -> FindingSite:
    from ..iods.sr import FindingSite

    value = doc.get(path)
    if isinstance(value, dict) and "site" in value:
        return FindingSite(
            required_code_at(doc, ctx, path + ("site",)),
            code_at(doc, ctx, path + ("laterality",)),
            code_at(doc, ctx, path + ("modifier",)),
        )
    return FindingSite(required_code_at(doc, ctx, path))


def _sites(doc: SpecDocument, ctx: BuildContext, base: NodePath) -> list[FindingSite]:
    out = []
    if doc.get(base + ("site",)) is not None:
        out.append(_site(doc, ctx, base + ("site",)))
    for i in range(len(doc.get(base + ("sites",)) or [])):
        out.append(_site(doc, ctx, base + ("sites", i)))
    return out


def _algorithm(doc: SpecDocument, path: NodePath) -> AlgorithmIdentification | None:
    from ..iods.sr import AlgorithmIdentification

    spec = doc.get(path)
    return AlgorithmIdentification(str(spec["name"]), str(spec["version"])) if spec else None


def _evaluation(
    doc: SpecDocument, ctx: BuildContext, path: NodePath, cls: type[QualitativeEvaluation], checks: list[Check]
) -> QualitativeEvaluation:
    value = (
        required_code_at(doc, ctx, path + ("code",))
        if doc.get(path + ("code",)) is not None
        else doc.get(path + ("text",))
    )
    evaluation = cls(required_code_at(doc, ctx, path + ("name",)), value)
    checks.append((path, evaluation.item, None))
    return evaluation


def _time_point(doc: SpecDocument, ctx: BuildContext, base: NodePath) -> TimePointContext | None:
    from ..iods.sr import TimePointContext

    path = base + ("time_point",)
    if doc.get(path) is None:
        path = ("document", "time_point")
    spec = doc.get(path)
    if spec is None:
        return None
    if isinstance(spec, str):
        return TimePointContext(spec)
    return TimePointContext(
        spec["id"],
        code_at(doc, ctx, path + ("type",)),
        spec.get("order"),
        spec.get("subject_id"),
        spec.get("protocol_id"),
    )


def _measurement(
    doc: SpecDocument, ctx: BuildContext, images: ImageResolver, path: NodePath, checks: list[Check]
) -> tuple[Measurement, list[Reference | None]]:
    from ..iods.sr import Measurement

    value, unit, qualifier = measurement_value(doc, ctx, path)
    sources = [images.item(path + ("images", i)).reference for i in range(len(doc.get(path + ("images",)) or []))]
    regions = [
        region_at(doc, ctx, images, path + ("regions", i)) for i in range(len(doc.get(path + ("regions",)) or []))
    ]
    measurement = Measurement(
        name=required_code_at(doc, ctx, path + ("name",)),
        value=value,
        unit=unit,
        qualifier=qualifier,
        method=code_at(doc, ctx, path + ("method",)),
        derivation=code_at(doc, ctx, path + ("derivation",)),
        finding_sites=_sites(doc, ctx, path),
        source_images=sources,
        source_regions=regions,
        algorithm=_algorithm(doc, path + ("algorithm",)),
    )
    for i, region in enumerate(regions):
        checks.append((path + ("regions", i), partial(region.item, Code("121112", "DCM", "x"), "INFERRED FROM"), None))
    checks.append((path, measurement.item, None))
    return measurement, sources + [getattr(r, "source", None) for r in regions if hasattr(r, "source")]


def _segment(doc: SpecDocument, ctx: BuildContext, path: NodePath) -> tuple[ReferencedSegment, Dataset]:
    """(ReferencedSegment, the SEG header) for the ``segment`` mapping at ``path``."""
    from ..iods.sr import ReferencedSegment

    spec = doc.get(path)
    if "spec" in spec:
        objects = [
            o
            for o in ctx.referenced_objects(doc, path)
            if str(o.dataset.get("Modality", "")) == "SEG" or "SegmentSequence" in o.dataset
        ]
        if not objects:
            raise InputError(
                f"spec {spec['spec']!r} built no Segmentation",
                location=doc.loc(path + ("spec",)),
                path=path + ("spec",),
                hint="segment: refers to a Segmentation spec",
            )
        seg = objects[0].dataset
        where = f"the Segmentation of spec {spec['spec']!r}"
    else:
        seg = read_header(doc, ctx, path + ("file",), "segmentation file")
        if "SegmentSequence" not in seg:
            raise InputError(
                "the file is not a Segmentation (no Segment Sequence)",
                location=doc.loc(path + ("file",)),
                path=path + ("file",),
            )
        where = f"segmentation {spec['file']}"
    described = [(int(s.SegmentNumber), str(s.get("SegmentLabel", ""))) for s in seg.SegmentSequence]
    listing = ", ".join(f"{n} {label!r}" for n, label in described)
    if "label" in spec:
        numbers = [n for n, label in described if label == spec["label"]]
        if not numbers:
            raise InputError(
                f"{where} has no segment labelled {spec['label']!r}",
                location=doc.loc(path + ("label",)),
                path=path + ("label",),
                hint=f"its segments: {listing}",
            )
        if len(numbers) > 1:
            raise InputError(
                f"{where} has {len(numbers)} segments labelled {spec['label']!r}",
                location=doc.loc(path + ("label",)),
                path=path + ("label",),
                hint=f"use number: one of {numbers}",
            )
        number = numbers[0]
    else:
        number = int(spec["number"])
        if number not in [n for n, _ in described]:
            raise InputError(
                f"{where} has no segment number {number}",
                location=doc.loc(path + ("number",)),
                path=path + ("number",),
                hint=f"its segments: {listing}",
            )
    with conformance_at(doc, path):
        return ReferencedSegment.from_segmentation(seg, number, with_source_images=bool(spec.get("source_images"))), seg


def _group_classes() -> GroupClasses:
    """Group classes that may also reference a Real World Value Map (TID 1410/1411 row 'Real World Value
    Map used for measurement')."""
    from ..iods.sr import ImageGroup, PlanarROIGroup, VolumetricROIGroup
    from ..iods.sr import codes as C
    from ..iods.sr.value_types import CompositeItem

    def with_map(out: list[ContentItem], rwvm: Reference | None) -> list[ContentItem]:
        if rwvm is not None:
            out.append(CompositeItem(C.REAL_WORLD_VALUE_MAP, rwvm, "CONTAINS"))
        return out

    @dataclass(frozen=True, kw_only=True)
    class PlanarWithMap(PlanarROIGroup):
        rwvm: Reference | None = None

        def _roi_items(self) -> list[ContentItem]:
            return with_map(super()._roi_items(), self.rwvm)

    @dataclass(frozen=True, kw_only=True)
    class VolumetricWithMap(VolumetricROIGroup):
        rwvm: Reference | None = None

        def _roi_items(self) -> list[ContentItem]:
            return with_map(super()._roi_items(), self.rwvm)

    PlanarWithMap.__name__ = PlanarROIGroup.__name__
    VolumetricWithMap.__name__ = VolumetricROIGroup.__name__
    return PlanarWithMap, VolumetricWithMap, ImageGroup


_CLASSES: GroupClasses | None = None


def _roi(
    doc: SpecDocument, ctx: BuildContext, images: ImageResolver, base: NodePath, header: Dataset | None
) -> tuple[dict[str, Any], list[Reference], Dataset | None, str]:
    """(ROI arguments of the group, referenced instances, SEG header or None, Patient ID) of a finding."""
    spec = doc.get(base)
    patient = str(header.get("PatientID", "")) if header is not None else ""
    seg_header = None
    roi: dict[str, Any] = {}
    refs: list[Reference] = []
    if "segment" in spec:
        referenced, seg_header = _segment(doc, ctx, base + ("segment",))
        roi["referenced_segment"] = referenced
        refs.append(referenced.segmentation)
        if header is None:
            patient = str(seg_header.get("PatientID", ""))
    elif "regions" in spec:
        errors = Errors()
        roi["regions"] = [
            errors.run(region_at, doc, ctx, images, base + ("regions", i)) for i in range(len(spec["regions"]))
        ]
        errors.raise_if_any()
        if images.series is not None and not any(hasattr(r, "source") for r in roi["regions"]):
            # Volume Surface (SCOORD3D): TID 1411 wants the series the outlines were drawn on
            roi["source_series_uid"] = str(images.series.header.SeriesInstanceUID)
    elif "region" in spec:
        roi["region"] = region_at(doc, ctx, images, base + ("region",))
        _planar(doc, base + ("region",), roi["region"])
    else:
        errors = Errors()
        roi["source_images"] = [
            getattr(errors.run(images.item, base + ("images", i)), "reference", None)
            for i in range(len(spec.get("images") or []))
        ]
        errors.raise_if_any()
        refs.extend(roi["source_images"])
    for r in roi.get("regions", []) + ([roi["region"]] if "region" in roi else []):
        if hasattr(r, "source"):
            refs.append(r.source)
    return roi, refs, seg_header, patient


_POINTS_HINT = (
    "a planar region (TID 1410) is an area: POLYLINE (closed), CIRCLE, ELLIPSE; points go in a"
    " measurement's `regions:` (the source of the measurement, INFERRED FROM), in a finding without `region:`"
)


def _planar(doc: SpecDocument, path: NodePath, region: ImageRegion | ImageRegion3D) -> None:
    """The TID 1410 rules of ``region`` (an area; a POLYLINE closed), refused at its graphic type or points."""
    from ..iods.sr.tid1500 import check_planar_region

    if str(region.graphic_type).upper() == "POLYLINE":
        where, hint = path + ("points",), "repeat the first point at the end to close the outline"
    else:
        where, hint = path + ("graphic_type",), _POINTS_HINT
    with conformance_at(doc, where, hint=hint):
        check_planar_region(region)


def _rwvm(doc: SpecDocument, ctx: BuildContext, base: NodePath, roi: dict[str, Any], refs: list[Reference]) -> None:
    """The Real World Value Map a finding's measurements used (added to ``roi`` and ``refs``)."""
    from ..iods.sr import Reference

    if "region" not in roi and "regions" not in roi and "referenced_segment" not in roi:
        path = base + ("rwvm",)
        raise SpecError(
            "a Real World Value Map goes with a finding that has an ROI (region, regions or segment)",
            location=doc.loc(path),
            path=path,
        )
    rwvm_header = read_header(doc, ctx, base + ("rwvm",), "Real World Value Mapping file")
    with conformance_at(doc, base + ("rwvm",)):
        roi["rwvm"] = Reference.from_dataset(rwvm_header)
    refs.append(roi["rwvm"])


def _group(
    doc: SpecDocument,
    ctx: BuildContext,
    images: ImageResolver,
    base: NodePath,
    header: Dataset | None,
    checks: list[Check],
    without_value: list[NodePath],
) -> tuple[MeasurementGroup, list[Reference], Dataset | None]:
    """(group, referenced instances, SEG header or None) of the finding at ``base``; the paths of its
    measurements without a value are added to ``without_value``."""
    global _CLASSES
    from ..iods.sr import QualitativeEvaluation

    if _CLASSES is None:
        _CLASSES = _group_classes()
    planar, volumetric, image_group = _CLASSES
    spec = doc.get(base)
    errors = Errors()  # the ROI, each measurement, each evaluation and each code are checked independently
    found = errors.run(_roi, doc, ctx, images, base, header)
    roi, refs, seg_header, patient = found if found is not None else ({}, [], None, "")
    if found is not None and spec.get("rwvm"):
        errors.run(_rwvm, doc, ctx, base, roi, refs)
    measurements = []
    for j in range(len(spec.get("measurements") or [])):
        measured = errors.run(_measurement, doc, ctx, images, base + ("measurements", j), checks)
        if measured is not None:
            if not _has_value(measured[0]):
                without_value.append(base + ("measurements", j))
                if doc.get(("document", "measurements_without_value")) == "omit":
                    continue
            measurements.append(measured[0])
            refs.extend(r for r in measured[1] if r is not None)
    evaluations = [
        errors.run(_evaluation, doc, ctx, base + ("evaluations", j), QualitativeEvaluation, checks)
        for j in range(len(spec.get("evaluations") or []))
    ]
    finding_type = errors.run(code_at, doc, ctx, base + ("type",))
    finding_category = errors.run(code_at, doc, ctx, base + ("category",))
    finding_sites = errors.run(_sites, doc, ctx, base)
    method = errors.run(code_at, doc, ctx, base + ("method",))
    time_point = errors.run(_time_point, doc, ctx, base)
    errors.raise_if_any()
    tracking_uid = spec.get("tracking_uid") or ctx.uids.uid("tracking", patient, spec["tracking_id"])
    common: dict[str, Any] = {
        "tracking_id": spec["tracking_id"],
        "tracking_uid": tracking_uid,
        "finding_type": finding_type,
        "finding_category": finding_category,
        "finding_sites": finding_sites,
        "method": method,
        "algorithm": _algorithm(doc, base + ("algorithm",)),
        "session": spec.get("session") or doc.get(("document", "session")),
        "time_point_context": time_point,
        "measurements": measurements,
        "qualitative_evaluations": evaluations,
    }
    cls: type[MeasurementGroup]
    if "region" in roi:
        cls = planar
        hint = _POINTS_HINT
        where = base + ("region",)
    elif "regions" in roi or "referenced_segment" in roi:
        cls, hint = volumetric, None
        where = base + ("regions",) if "regions" in roi else base + ("segment",)
    else:
        cls, hint, where = image_group, None, base
    with conformance_at(doc, where, hint=hint):
        group = cls(**common, **roi)
    for i, region in enumerate(roi.get("regions", ())):
        checks.append((base + ("regions", i), partial(region.item, Code("111030", "DCM", "x"), "CONTAINS"), None))
    checks.append((where, group.item, hint))
    return group, refs, seg_header
