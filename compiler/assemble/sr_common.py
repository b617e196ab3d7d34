"""What the two SR spec kinds share: source images and references to them, units, regions, document flags.

``MeasurementReport`` (TID 1500) and ``StructuredReport`` (any tree) both refer to source images by
1-based position in the source series, by SOP Instance UID or by file path; both write NUMs with UCUM
units given in compact form; both set completion/verification flags the same way. Everything a user
can get wrong here raises a :class:`~dcmspec_compiler.errors.SpecError`/``InputError`` located at the value.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import DicomConformanceError, InputError, SpecError
from ..iods.common.concept import Code
from ..load.document import SpecDocument
from .common import (
    Errors,
    NodePath,
    NotReached,
    base_dir_of,
    code_at,
    conformance_at,
    equipment,
    object_identity,
    resolve_path,
    source_series,
)
from .context import BuildContext
from .units import unit_at

if TYPE_CHECKING:  # the builder layer and pydicom are imported when a builder needs them
    from pydicom.dataset import Dataset

    from ..iods.sr import ImageRegion, ImageRegion3D, ObservationContext, Reference, SRDocument
    from ..resolve.source_headers import SourceInstance
    from ..resolve.source_series import SourceSeries

_UID = re.compile(r"^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))+$")
NAN_STRINGS = {
    "nan": float("nan"),
    "infinity": float("inf"),
    "inf": float("inf"),
    "-infinity": float("-inf"),
    "-inf": float("-inf"),
}


# ---------------------------------------------------------------------------------------- sources
def cached_source_series(doc: SpecDocument, ctx: BuildContext, path: NodePath = ("sources",)) -> SourceSeries:
    """``source_series`` once per distinct ``sources`` in a build: the rows of a CSV build share it."""
    cache: dict[tuple[str, str], SourceSeries] = ctx.__dict__.setdefault("_sr_series_cache", {})
    key = (str(base_dir_of(doc, path + ("images",))), json.dumps(doc.get(path), sort_keys=True, default=str))
    if key not in cache:
        cache[key] = source_series(doc, ctx, path)
    return cache[key]


def read_header(doc: SpecDocument, ctx: BuildContext, path: NodePath, what: str = "DICOM file") -> Dataset:
    """The header of the DICOM file named at ``path`` (cached per build)."""
    import pydicom
    from pydicom.errors import InvalidDicomError

    file = resolve_path(doc, path)
    cache: dict[str, Dataset] = ctx.__dict__.setdefault("_sr_header_cache", {})
    key = str(file.resolve()) if file.exists() else str(file)
    if key in cache:
        return cache[key]
    if not file.is_file():
        raise InputError(f"{what} not found: {file}", location=doc.loc(path), path=path)
    try:
        ds = pydicom.dcmread(str(file), stop_before_pixels=True)
    except (InvalidDicomError, OSError, ValueError) as exc:
        raise InputError(f"cannot read {file} as DICOM: {exc}", location=doc.loc(path), path=path) from None
    cache[key] = ds
    return ds


@dataclass
class ResolvedImage:
    header: Dataset
    frame_number: int | None
    reference: Reference  # with the frame number for multi-frame images


class ImageResolver:
    """Turns image references of a spec (position, SOP Instance UID, path) into source images."""

    def __init__(
        self, doc: SpecDocument, ctx: BuildContext, series: SourceSeries | None, *, sources_failed: bool = False
    ) -> None:
        """``sources_failed``: the spec's ``sources`` could not be read (that error is reported): a
        reference to a source image is then not checked (:class:`NotReached`), the rest of the spec is."""
        self.doc, self.ctx, self.series = doc, ctx, series
        self.sources_failed = sources_failed
        cache: dict[int, tuple[dict[str, SourceInstance], dict[str, SourceInstance], SourceSeries]]
        cache = ctx.__dict__.setdefault("_sr_series_index", {})
        if series is not None and id(series) not in cache:  # series are cached per build, so is this
            cache[id(series)] = (
                {i.sop_instance_uid: i for i in series.instances},
                {str(Path(i.path).resolve()): i for i in series.instances},
                series,
            )
        self._by_uid: dict[str, SourceInstance]
        self._by_path: dict[str, SourceInstance]
        self._by_uid, self._by_path, _ = cache[id(series)] if series is not None else ({}, {}, None)

    def _error(self, message: str, path: NodePath, hint: str | None = None) -> InputError:
        return InputError(message, location=self.doc.loc(path), path=path, hint=hint)

    def image(self, path: NodePath, frame: int | None = None, frame_path: NodePath | None = None) -> ResolvedImage:
        """The source image named at ``path`` (an int position, a UID or a file path)."""
        from ..iods.sr import Reference

        value = self.doc.get(path)
        series = self.series
        if series is None and self.sources_failed:
            raise NotReached("the source images could not be read", location=self.doc.loc(path), path=path)
        if series is None:
            raise self._error(
                "this spec has no `sources`, so it cannot refer to source images",
                path,
                hint="add `sources: {images: ...}`, or refer to a file with `file:`",
            )
        if value is None:
            if len(series.frames) != 1:
                raise self._error(
                    f"which image? the sources have {len(series.frames)} frames",
                    path,
                    hint="give `image:` (1-based position, SOP Instance UID or file path)",
                )
            value = 1
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise self._error(f"{value!r} does not name an image", path)
        if isinstance(value, int):
            n = len(series.frames)
            if not 1 <= value <= n:
                raise self._error(
                    f"image {value} is not in the source series: it has {n} frame(s) (1..{n})",
                    path,
                    hint="positions count frames in geometric order, starting at 1",
                )
            src = series.frames[value - 1]
            instance, frame_number = src.instance, src.frame_number
            if frame is not None:
                raise self._error(
                    "`frame` goes with an image given by UID or path; a position names a frame", frame_path or path
                )
        else:
            text = value.strip()
            instance = self._by_uid.get(text)
            if instance is None and not _UID.match(text):
                file = (base_dir_of(self.doc, path) / Path(text).expanduser()).resolve()
                instance = self._by_path.get(str(file))
                if instance is None:
                    what = "file is not one of the source images" if file.exists() else "file does not exist"
                    raise self._error(
                        f"image {text!r}: the {what}",
                        path,
                        hint=f"the sources hold {len(series.instances)} image file(s); use a path"
                        " among them, a SOP Instance UID or a 1-based position",
                    )
            if instance is None:
                raise self._error(
                    f"no source image has SOP Instance UID {text}",
                    path,
                    hint=f"the sources hold {len(series.instances)} image(s); a position (1-based)"
                    " or a file path also works",
                )
            frame_number = None
            if instance.is_multiframe:
                frame_number = frame or 1
                if frame_number > instance.number_of_frames:
                    raise self._error(
                        f"frame {frame_number} exceeds the {instance.number_of_frames} frames of {instance.path}",
                        frame_path or path,
                    )
            elif frame not in (None, 1):
                raise self._error(f"{instance.path} is a single-frame image: no frame {frame}", frame_path or path)
        frames = (frame_number,) if frame_number is not None else ()
        try:
            ref = Reference.from_dataset(instance.header, frame_numbers=frames)
        except DicomConformanceError as exc:
            raise self._error(str(exc), path) from None
        return ResolvedImage(instance.header, frame_number, ref)

    def item(self, path: NodePath) -> ResolvedImage:
        """An ``image_item``: a bare image ref, or ``{image, frame}``, or ``{file}``."""
        from ..iods.sr import Reference

        value = self.doc.get(path)
        if isinstance(value, dict):
            if "file" in value:
                header = read_header(self.doc, self.ctx, path + ("file",))
                try:
                    return ResolvedImage(header, None, Reference.from_dataset(header))
                except DicomConformanceError as exc:
                    raise self._error(str(exc), path + ("file",)) from None
            return self.image(path + ("image",), value.get("frame"), path + ("frame",))
        return self.image(path)

    def frame_of_reference(self, path: NodePath) -> str:
        if self.series is None and self.sources_failed:
            raise NotReached("the source images could not be read", location=self.doc.loc(path), path=path)
        instances = self.series.instances if self.series else []
        uids = {i.frame_of_reference_uid for i in instances if i.frame_of_reference_uid is not None}
        if len(uids) != 1:
            raise self._error(
                "cannot tell the Frame of Reference: "
                + ("the sources have none" if not uids else "the sources have several"),
                path,
                hint="give frame_of_reference_uid, or image:",
            )
        return next(iter(uids))


# ------------------------------------------------------------------------------------ values
def required_code_at(doc: SpecDocument, ctx: BuildContext, path: NodePath) -> Code:
    """The Code at ``path``, where the schema requires one (so it is there)."""
    code: Code | None = code_at(doc, ctx, path)
    assert code is not None, f"the schema requires a code at {path}"
    return code


def number_at(doc: SpecDocument, path: NodePath) -> float | None:
    value = doc.get(path)
    if value is None:
        return None
    if isinstance(value, str):
        key = value.strip().lower()
        if key not in NAN_STRINGS:
            raise SpecError(
                f"{value!r} is not a number",
                location=doc.loc(path),
                path=path,
                hint="write a number, or NaN / Infinity / -Infinity",
            )
        return NAN_STRINGS[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SpecError(f"{value!r} is not a number", location=doc.loc(path), path=path)
    return float(value)


def measurement_value(
    doc: SpecDocument, ctx: BuildContext, path: NodePath
) -> tuple[float | None, Code | None, Code | None]:
    """(value, unit, qualifier) of a NUM-like mapping at ``path``, checked with located errors."""
    from ..iods.sr import codes as C

    value = number_at(doc, path + ("value",))
    unit = unit_at(doc, ctx, path + ("unit",))
    qualifier = code_at(doc, ctx, path + ("qualifier",))
    if qualifier is not None and qualifier.scheme_designator == "DCM" and qualifier.value in C.NUMERIC_VALUE_QUALIFIERS:
        qualifier = C.NUMERIC_VALUE_QUALIFIERS[qualifier.value]
    finite = value is not None and math.isfinite(value)
    if finite and unit is None:
        raise SpecError(
            "a measurement with a value needs a unit",
            location=doc.loc(path),
            path=path + ("unit",),
            hint="add `unit:` with a UCUM code, e.g. mm, cm3, ml, [hnsf'U], or 1 for no unit",
        )
    if value is None and qualifier is None:
        raise SpecError(
            "a measurement without a value needs a qualifier saying why",
            location=doc.loc(path),
            path=path + ("value",),
            hint='add `value:` or a `qualifier:` (CID 42), e.g. DCM:114006 "Measurement failure"',
        )
    return value, unit, qualifier


# ------------------------------------------------------------------------------------------ regions
def _closed(points: np.ndarray) -> bool:
    return len(points) > 2 and bool(np.allclose(points[0], points[-1]))


def region_at(
    doc: SpecDocument, ctx: BuildContext, images: ImageResolver, path: NodePath
) -> ImageRegion | ImageRegion3D:
    """An ``ImageRegion`` (SCOORD) or ``ImageRegion3D`` (SCOORD3D) from the region mapping at ``path``."""
    from ..iods.sr import ImageRegion, ImageRegion3D
    from ..spatial.transforms import ImageToReferenceTransformer

    spec = doc.get(path)
    mode = spec.get("coordinates", "image")
    graphic = spec["graphic_type"]
    points = (
        np.asarray(spec["points"], dtype=np.float64)
        if all(len(p) == len(spec["points"][0]) for p in spec["points"])
        else None
    )
    dims = 3 if mode == "patient" else 2
    if points is None or points.ndim != 2 or points.shape[1] != dims:
        what = "(x, y, z) mm" if dims == 3 else "(column, row) image coordinates"
        raise SpecError(
            f"points must all be {what} for coordinates: {mode}",
            location=doc.loc(path + ("points",)),
            path=path + ("points",),
            hint="coordinates: patient takes (x, y, z); image and 3d take (column, row)",
        )
    if mode == "patient":
        uid = spec.get("frame_of_reference_uid")
        if uid is None and "image" in spec:
            header = images.image(path + ("image",), spec.get("frame"), path + ("frame",)).header
            uid = header.get("FrameOfReferenceUID")
        if uid is None:
            uid = images.frame_of_reference(path)
        return ImageRegion3D(graphic, points, str(uid))
    resolved = images.image(path + ("image",), spec.get("frame"), path + ("frame",))
    if mode == "image":
        return ImageRegion(graphic, points, resolved.reference)
    if graphic in ("POLYGON", "ELLIPSOID"):
        raise SpecError(
            f"{graphic} is a 3D graphic type: give its points with coordinates: patient",
            location=doc.loc(path + ("graphic_type",)),
            path=path + ("graphic_type",),
        )
    try:
        transform = ImageToReferenceTransformer.from_dataset(resolved.header, resolved.frame_number)
    except ValueError as exc:
        raise InputError(
            f"cannot convert to patient coordinates: {exc}",
            location=doc.loc(path + ("image",)),
            path=path + ("image",),
            hint="the image needs Image Position/Orientation and Pixel Spacing; or use coordinates: image",
        ) from None
    uid = resolved.header.get("FrameOfReferenceUID")
    if not uid:
        raise InputError(
            "the image has no Frame of Reference UID, so it has no patient coordinates",
            location=doc.loc(path + ("image",)),
            path=path + ("image",),
            hint="use coordinates: image",
        )
    if graphic == "CIRCLE":
        if len(points) != 2:
            raise SpecError(
                f"CIRCLE needs exactly 2 points (centre, a point on the circle), got {len(points)}",
                location=doc.loc(path + ("points",)),
                path=path + ("points",),
            )
        # SCOORD3D has no CIRCLE: the same circle as an ELLIPSE with two equal perpendicular axes.
        centre, edge = transform(points)
        axis = edge - centre
        normal = np.cross(transform.affine[:3, 0], transform.affine[:3, 1])
        normal /= np.linalg.norm(normal)
        other = np.cross(normal, axis)
        return ImageRegion3D(
            "ELLIPSE", np.array([centre - axis, centre + axis, centre - other, centre + other]), str(uid)
        )
    patient = transform(points)
    if graphic == "POLYLINE" and _closed(points):
        graphic = "POLYGON"  # a closed 2D polyline is an area; in 3D that is a POLYGON
    return ImageRegion3D(graphic, patient, str(uid))


# ------------------------------------------------------------------------------------ observers
def observation_context(doc: SpecDocument, ctx: BuildContext) -> ObservationContext:
    """TID 1001/1002 observers from ``observer:``; default: a device observer for the spec's equipment."""
    from ..iods.sr import DeviceObserver, ObservationContext, PersonObserver

    spec = doc.get(("observer",)) or {}
    persons, devices = [], []
    for key in ("person", "device"):
        value = spec.get(key)
        if value is None:
            continue
        many = isinstance(value, list)
        for i, item in enumerate(value if many else [value]):
            path: NodePath = ("observer", key) + ((i,) if many else ())
            with conformance_at(doc, path):
                if key == "person":
                    persons.append(
                        PersonObserver(
                            item["name"],
                            item.get("organization"),
                            code_at(doc, ctx, path + ("role",)),
                            code_at(doc, ctx, path + ("role_in_procedure",)),
                        )
                    )
                else:
                    uid = item.get("uid") or ctx.uids.uid(
                        "device",
                        item.get("name"),
                        item.get("manufacturer"),
                        item.get("model"),
                        item.get("serial_number"),
                    )
                    devices.append(
                        DeviceObserver(
                            uid,
                            item.get("name"),
                            item.get("manufacturer"),
                            item.get("model"),
                            item.get("serial_number"),
                            item.get("location"),
                        )
                    )
    if not persons and not devices:
        eq = equipment(doc)
        uid = ctx.uids.uid("device", eq.manufacturer, eq.manufacturer_model_name, eq.device_serial_number)
        devices.append(
            DeviceObserver(
                uid, eq.manufacturer_model_name, eq.manufacturer, eq.manufacturer_model_name, eq.device_serial_number
            )
        )
    return ObservationContext(persons=persons, devices=devices)


# ---------------------------------------------------------------------------------- document flags
DOCUMENT_CLASSES = {
    "BasicText": "BasicTextSR",
    "Enhanced": "EnhancedSR",
    "Comprehensive": "ComprehensiveSR",
    "Comprehensive3D": "Comprehensive3DSR",
}


def document_class(name: str | None) -> type[SRDocument] | None:
    from ..iods import sr

    cls: type[SRDocument] | None = getattr(sr, DOCUMENT_CLASSES[name]) if name else None
    return cls


def document_arguments(
    doc: SpecDocument,
    ctx: BuildContext,
    header: Dataset,
    used: list[Reference],
    *,
    default_label: str,
    default_series_number: int,
) -> dict[str, Any]:
    """Everything an SR document constructor takes besides its content: identity (UIDs derived from the
    spec, the referenced instances and the study), patient/study, equipment and document flags."""
    ident = object_identity(
        doc,
        ctx,
        header=header,
        inputs=[r.sop_instance_uid for r in used] + [str(header.StudyInstanceUID)],
        default_label=default_label,
        default_series_number=default_series_number,
    )
    return dict(
        patient_study=header,
        **ident.document_arguments(),
        **document_kwargs(doc, ctx, ident.content_datetime),
    )


def document_kwargs(doc: SpecDocument, ctx: BuildContext, created: _dt.datetime) -> dict[str, Any]:
    """Completion, verification, preliminary flag, performed procedures and evidence policy."""
    from ..iods.sr import VerifyingObserver

    spec = doc.get(("document",)) or {}
    out: dict[str, Any] = {"completion_flag": spec.get("completion", "PARTIAL")}
    if spec.get("completion_description"):
        out["completion_flag_description"] = spec["completion_description"]
    verifiers = spec.get("verified_by")
    if verifiers:
        many = isinstance(verifiers, list)
        observers = []
        for i, v in enumerate(verifiers if many else [verifiers]):
            vpath: NodePath = ("document", "verified_by") + ((i,) if many else ())
            when = created
            if v.get("datetime"):
                try:
                    when = _dt.datetime.fromisoformat(str(v["datetime"]).replace(" ", "T"))
                except ValueError:
                    raise SpecError(
                        f"{v['datetime']!r} is not a valid date and time",
                        location=doc.loc(vpath + ("datetime",)),
                        path=vpath + ("datetime",),
                    ) from None
            observers.append(
                VerifyingObserver(v["name"], v["organization"], when, code_at(doc, ctx, vpath + ("code",)))
            )
        out.update(verification_flag="VERIFIED", verifying_observers=observers)
    if spec.get("preliminary"):
        out["preliminary_flag"] = spec["preliminary"]
    procedures = doc.get(("document", "procedure_code"))
    if procedures:
        out["performed_procedures"] = [
            code_at(doc, ctx, ("document", "procedure_code", i)) for i in range(len(procedures))
        ]
    if spec.get("evidence"):
        out["evidence_policy"] = spec["evidence"]
    return out


_TREE_ITEM = re.compile(r"\bitem (1(?:\.\d+)*)")


def tree_path(message: str, root: NodePath) -> NodePath | None:
    """The spec path of the content item a relationship-table message names (``item 1.2.3``)."""
    match = _TREE_ITEM.search(message)
    if not match:
        return None
    path = root
    for part in match.group(1).split(".")[1:]:
        path = path + ("children", int(part) - 1)
    return path


def series_from(doc: SpecDocument, ctx: BuildContext) -> SourceSeries | None:
    """The source series of the spec, or None when it has no ``sources``."""
    return cached_source_series(doc, ctx) if doc.get(("sources",)) else None


def sources_and_images(
    doc: SpecDocument, ctx: BuildContext, errors: Errors
) -> tuple[SourceSeries | None, ImageResolver]:
    """The source series (None when the spec has none, or when reading it failed: that error goes to
    ``errors``) and the resolver of the spec's image references, which then reports nothing more about
    source images, so that the rest of the spec is still checked in the same run."""
    before = len(errors.errors) + errors.more
    series = errors.run(series_from, doc, ctx)
    return series, ImageResolver(doc, ctx, series, sources_failed=len(errors.errors) + errors.more > before)
