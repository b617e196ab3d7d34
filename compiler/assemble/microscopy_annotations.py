"""Build a MicroscopyAnnotations spec -> Microscopy Bulk Simple Annotations (PS3.3 A.87).

The spec names the slide image (``sources``) and its annotation groups; each group's annotations come
from an inline list, a CSV file (one row per point) or a GeoJSON FeatureCollection as QuPath exports it
(features picked by QuPath class, ``properties.classification.name``; the groups are the table mapping
class names to codes, and a feature no group takes is an error). Every annotation is checked (points per
graphic type, finite numbers, inside the image, Z for every point of a slide group or for none) with the
location of its spec line, CSV row or GeoJSON feature, all in one run up to the first ``_MAX_REPORTED``
errors; nothing is written while any is wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InputError, Location, SpecError
from ..load.document import SpecDocument
from ..write.output import BuiltObject
from .common import (
    Errors,
    NodePath,
    built_object,
    code_at,
    codes_at,
    conformance_at,
    object_identity,
    resolve_path,
    source_series,
)
from .context import BuildContext
from .segmentation import algorithm_identification
from .units import unit_at

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

    from ..iods.ann import AnnotationGroup, Measurement
    from ..resolve.geojson import FeatureTable
    from ..resolve.source_headers import SourceInstance

    #: a GeoJSON file read for the groups: (its table, features taken by some group, features refused
    #: where they were read); None while it is read or when it could not be
    GeoJsonRead = tuple[FeatureTable, np.ndarray, np.ndarray] | None

#: Errors reported before the rest are summed up (a bad file may have 100,000 of them)
_MAX_REPORTED = 50

#: A problem of one annotation: (its index in the group, message, location or None for the annotation's, hint)
Issue = tuple[int, str, "Location | None", "str | None"]


@dataclass
class Annotations:
    """One group's annotations: points, points per annotation, where each came from, its measurements."""

    points: np.ndarray
    counts: np.ndarray
    locate: Callable[[int], Location]
    values: Callable[[str, NodePath, list[Issue]], np.ndarray]  # a measurement's values; issues appended
    graphic_type: str
    files: list[Path] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    flagged: np.ndarray | None = None  # annotations refused where they were read (reported elsewhere)
    locate_point: Callable[[int], Location] | None = None  # by index in ``points``; else the annotation's


def build(doc: SpecDocument, ctx: BuildContext) -> list[BuiltObject]:
    from ..resolve.geojson import collector_paused

    with collector_paused():  # the parsed GeoJSON features live until the groups are built
        return _build(doc, ctx)


def _build(doc: SpecDocument, ctx: BuildContext) -> list[BuiltObject]:
    from ..iods.ann import (
        AnnotationGroup,
        Measurement,
        MicroscopyBulkSimpleAnnotations,
        annotation_problems,
        image_bounds,
    )

    errors = Errors(limit=_MAX_REPORTED)
    coordinate_type = "3D" if doc.get(("coordinates",)) == "slide" else "2D"
    image = errors.run(_slide_image, doc, ctx)
    bounds = errors.run(_bounds, doc, image, coordinate_type, image_bounds) if image is not None else None
    geojson: dict[Path, GeoJsonRead] = {}  # file -> (FeatureTable, features taken by some group, ...)
    groups: list[Annotations | None] = []
    measured: list[list[Measurement | None]] = []
    for i in range(len(doc.get(("groups",)) or [])):
        path: NodePath = ("groups", i)
        found = errors.run(_annotations, doc, ctx, path, coordinate_type, geojson, errors)
        groups.append(found)
        measured.append([])
        if found is None:
            continue
        issues = list(found.issues)
        _fit(found, coordinate_type, issues)
        flagged = np.zeros(found.counts.size, dtype=bool) if found.flagged is None else found.flagged.copy()
        flagged[[index for index, *_ in issues]] = True
        if bounds is not None:
            label = doc.get(path + ("label",))
            issues += [
                (
                    index,
                    f"annotation {index + 1} of group {label!r}: {message}",
                    None,
                    _hint(message, image, coordinate_type),
                )
                for index, message in annotation_problems(found.graphic_type, found.points, found.counts, bounds)
                if not flagged[index]
            ]
        for j in range(len(doc.get(path + ("measurements",)) or [])):
            measured[-1].append(
                errors.run(_measurement, doc, ctx, path + ("measurements", j), found, Measurement, issues)
            )
        _report(errors, issues, found.locate, path)
    for read in geojson.values():
        if read is not None:
            errors.run(_all_taken, *read[:2])
    errors.raise_if_any()
    assert image is not None  # every check passed
    found_groups = [g for g in groups if g is not None]  # all of them: every check passed

    files = sorted({f for g in found_groups for f in g.files})
    ident = object_identity(
        doc,
        ctx,
        header=image,
        inputs=[str(image.SOPInstanceUID)],
        files=files,
        default_label="ANNOTATIONS",
        default_series_number=1300,
    )
    double = doc.get(("precision",)) != "single"
    built = []
    for i, found in enumerate(found_groups):
        path = ("groups", i)
        measurements = [m for m in measured[i] if m is not None]  # all of them: every check passed
        built.append(
            errors.run(
                _group, doc, ctx, path, found, i + 1, ident.sop_instance_uid, double, AnnotationGroup, measurements
            )
        )
    errors.raise_if_any()
    built_groups = [g for g in built if g is not None]  # all of them: every check passed
    with conformance_at(doc, ()):
        ann = MicroscopyBulkSimpleAnnotations(
            image,
            built_groups,
            **ident.arguments(),
            content=ident.content,
            created=ident.content_datetime,
            coordinate_type=coordinate_type,
            check_bounds=False,
        )  # checked above, each at its location
    total = int(sum(g.counts.size for g in found_groups))
    return [built_object(doc, ann, "MicroscopyAnnotations", {"groups": len(built), "annotations": total})]


# ------------------------------------------------------------------------------------- the image
def _slide_image(doc: SpecDocument, ctx: BuildContext) -> Dataset:
    """The annotated image: the source with the largest Total Pixel Matrix (a pyramid's base level)."""
    series = source_series(doc, ctx)

    def size(i: SourceInstance) -> int:
        return int(i.header.get("TotalPixelMatrixColumns") or i.columns or 0) * int(
            i.header.get("TotalPixelMatrixRows") or i.rows or 0
        )

    images = [i for i in series.instances if i.rows]
    if not images:
        raise InputError("the sources hold no image", location=doc.loc(("sources",)), path=("sources",))
    return max(images, key=size).header


def _bounds(
    doc: SpecDocument,
    image: Dataset,
    coordinate_type: str,
    image_bounds: Callable[[Dataset, str], tuple[np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray]:
    try:
        return image_bounds(image, coordinate_type)
    except (AttributeError, IndexError, KeyError, TypeError, ValueError):
        raise SpecError(
            "slide coordinates need the image's position on the slide (Total Pixel Matrix Origin"
            " Sequence, Image Orientation (Slide), Pixel Spacing), which this image lacks",
            location=doc.loc(("coordinates",)),
            path=("coordinates",),
            hint="use `coordinates: image` (pixels of the Total Pixel Matrix)",
        ) from None


def _hint(message: str, image: Dataset | None, coordinate_type: str) -> str | None:
    if "outside" in message:
        return (
            "image coordinates are (column, row) pixels of the Total Pixel Matrix, 0,0 its top left corner"
            if coordinate_type == "2D"
            else "slide coordinates are (X, Y, Z) mm in the Slide Coordinate System"
        )
    if "needs" in message:
        return "a POINT has 1 point, a POLYLINE 2 or more, a POLYGON 3 or more, an ELLIPSE or RECTANGLE exactly 4"
    return None


def _report(errors: Errors, issues: list[Issue], locate: Callable[[int], Location], path: NodePath) -> None:
    """Each issue as an error, in annotation order, while ``errors`` has room; the rest are only counted (a
    location may cost a walk through the file)."""
    issues.sort(key=lambda issue: issue[0])
    room = errors.room()
    shown = issues if room is None else issues[:room]
    for index, message, location, hint in shown:
        errors.add(InputError(message, location=location or locate(index), path=path, hint=hint))
    errors.skip(len(issues) - len(shown))


# ------------------------------------------------------------------------------- the annotations
def _fit(found: Annotations, coordinate_type: str, issues: list[Issue]) -> None:
    """Points with the coordinate count the type needs: image points have 2 numbers; the points of a slide
    group all have Z or none has (then Z = 0). ``points`` may have a third column, NaN where a point has no Z."""
    points, counts = found.points, found.counts
    owner = np.repeat(np.arange(counts.size), counts)
    taken = np.zeros(counts.size, dtype=bool) if found.flagged is None else found.flagged.copy()
    taken[[index for index, *_ in issues]] = True
    has_z = ~np.isnan(points[:, 2]) & ~taken[owner] if points.shape[1] == 3 else np.zeros(len(points), dtype=bool)
    if coordinate_type == "2D":
        wrong, message = has_z, "image coordinates are (column, row): 2 numbers per point, this point has 3"
        hint = "use `coordinates: slide` for (X, Y, Z) mm"
    elif has_z.any():
        wrong, message = ~has_z & ~taken[owner], "this point has no Z while other points of the group have one"
        hint = "give z for every point of a group in slide coordinates, or for none (then every Z is 0)"
    else:
        wrong = np.zeros(len(points), dtype=bool)
    firsts = np.flatnonzero(wrong)
    if firsts.size:
        firsts = firsts[np.unique(owner[firsts], return_index=True)[1]]  # the first such point of each annotation
        locate = found.locate_point
        issues += [(int(owner[k]), message, locate(int(k)) if locate else None, hint) for k in firsts]
    if coordinate_type == "2D":
        found.points = points[:, :2]
    elif not has_z.any():
        found.points = np.column_stack([points[:, :2], np.zeros(len(points))])


def _annotations(
    doc: SpecDocument,
    ctx: BuildContext,
    path: NodePath,
    coordinate_type: str,
    geojson: dict[Path, GeoJsonRead],
    errors: Errors,
) -> Annotations | None:
    spec = doc.get(path)
    if "annotations" in spec:
        return _inline(doc, path)
    if "csv" in spec:
        return _csv(doc, path)
    return _geojson(doc, ctx, path, geojson, errors)


def _inline(doc: SpecDocument, path: NodePath) -> Annotations:
    items = doc.get(path + ("annotations",))
    where = lambda i: doc.loc(path + ("annotations", i))

    def point_path(i: int) -> NodePath:
        return path + ("annotations", i) + (("points",) if isinstance(items[i], dict) else ())

    wide = any(len(p) == 3 for item in items for p in (item["points"] if isinstance(item, dict) else item))
    arrays: list[np.ndarray] = []
    measured: list[dict[str, Any]] = []
    issues: list[Issue] = []
    for i, item in enumerate(items):
        points = item["points"] if isinstance(item, dict) else item
        array = np.full((len(points), 3 if wide else 2), np.nan)
        if len({len(p) for p in points}) != 1:
            issues.append((i, "every point of an annotation has the same number of coordinates", None, None))
        else:
            given = np.asarray(points, dtype=np.float64)
            array[:, : given.shape[1]] = given
            if not np.isfinite(given).all():
                issues.append((i, "a coordinate is not a finite number", None, None))
        arrays.append(array)
        measured.append(item.get("measurements") or {} if isinstance(item, dict) else {})
    counts = np.array([len(a) for a in arrays], dtype=np.int64)
    starts = np.cumsum(counts) - counts

    def locate_point(k: int) -> Location:
        i = int(np.searchsorted(starts, k, side="right")) - 1
        return doc.loc(point_path(i) + (k - int(starts[i]),))

    def values(key: str, at: NodePath, issues: list[Issue]) -> np.ndarray:
        out = np.array([m.get(key, np.nan) for m in measured], dtype=np.float64)
        if np.isnan(out).all():
            raise SpecError(
                f"no annotation of this group has a measurement {key!r}",
                location=doc.loc(at),
                path=at,
                hint="give it under each annotation's `measurements:`",
            )
        for i in np.flatnonzero(np.isinf(out)):
            issues.append(
                (
                    int(i),
                    f"measurement {key!r} is not a finite number",
                    doc.loc(path + ("annotations", int(i), "measurements", key)),
                    None,
                )
            )
        return out

    return Annotations(
        np.concatenate(arrays),
        counts,
        where,
        values,
        _graphic_type(doc, path),
        issues=issues,
        locate_point=locate_point,
    )


def _graphic_type(doc: SpecDocument, path: NodePath, default: str | None = None) -> str:
    """The group's graphic type: needed for inline and CSV annotations (the points alone do not say)."""
    value = doc.get(path + ("graphic_type",)) or default
    if value is None:
        raise SpecError(
            "which graphic type are these annotations?",
            location=doc.loc(path),
            path=path,
            hint="add `graphic_type:` POINT, POLYLINE, POLYGON, ELLIPSE or RECTANGLE",
        )
    return value


def _csv(doc: SpecDocument, path: NodePath) -> Annotations:
    from ..resolve.point_table import read_point_table

    spec = doc.get(path + ("csv",))
    at = path + ("csv",) + (("file",) if isinstance(spec, dict) else ())
    options = spec if isinstance(spec, dict) else {}
    file = resolve_path(doc, at)
    table = read_point_table(
        file,
        x=options.get("x", "x"),
        y=options.get("y", "y"),
        z=options.get("z"),
        annotation=options.get("annotation"),
        location=doc.loc(at),
    )
    single = bool((table.counts == 1).all())  # without an annotation column, every row is a point
    return Annotations(
        table.points,
        table.counts,
        table.location,
        lambda key, where, issues: table.values(key, doc.loc(where), issues),
        _graphic_type(doc, path, "POINT" if single else None),
        [file],
        issues=list(table.issues),
        locate_point=lambda k: Location(str(file), int(table.point_lines[k])),
    )


def _geojson(
    doc: SpecDocument, ctx: BuildContext, path: NodePath, cache: dict[Path, GeoJsonRead], errors: Errors
) -> Annotations | None:
    from ..resolve.geojson import read_geojson

    spec = doc.get(path + ("geojson",))
    at = path + ("geojson",) + (("file",) if isinstance(spec, dict) else ())
    file = resolve_path(doc, at).resolve()
    if file in cache and cache[file] is None:  # unreadable: reported at the first group that reads it
        return None
    if file not in cache:
        cache[file] = None
        if not file.is_file():
            raise InputError(f"GeoJSON file not found: {file}", location=doc.loc(at), path=at)
        table = read_geojson(file, doc.loc(at))
        bad = np.zeros(len(table.graphic), dtype=bool)
        bad[[f for f, *_ in table.issues]] = True
        cache[file] = (table, bad.copy(), bad)  # bad features count as taken: they are reported here, once
        _report(
            errors,
            [(f, f"feature {f}: {message}", None, hint) for f, message, hint in table.issues],
            table.location,
            at,
        )
        if table.holes:
            ctx.warn(
                f"{table.holes} hole(s) of polygons in {file.name} dropped: an ANN polygon has no holes",
                doc.loc(at),
                at,
            )
    read = cache[file]
    assert read is not None  # read above or by an earlier group (None: unreadable, returned above)
    table, taken, bad = read
    graphic = np.array(table.graphic, dtype=object)
    chosen = np.ones(len(graphic), dtype=bool)
    if isinstance(spec, dict) and "classification" in spec:
        wanted = spec["classification"]
        chosen &= np.array([c == wanted for c in table.classification], dtype=bool)
        if not chosen.any() and not bad.any():  # else the class may be that of a bad feature
            names = sorted({str(c) for c in table.classification})
            raise SpecError(
                f"no feature of {file.name} has classification {wanted!r}",
                path=path + ("geojson", "classification"),
                location=doc.loc(path + ("geojson", "classification")),
                hint=f"its classes are: {', '.join(names) or 'none'}",
            )
    graphic_type = doc.get(path + ("graphic_type",))
    if graphic_type is not None:
        chosen &= graphic == graphic_type
        if not chosen.any() and not bad.any():
            raise SpecError(
                f"no feature of {file.name} that this group takes is a {graphic_type}",
                location=doc.loc(path + ("graphic_type",)),
                path=path + ("graphic_type",),
                hint=f"its features are {', '.join(sorted(set(table.graphic)))}",
            )
    else:
        kinds = sorted(set(graphic[chosen & ~bad]))
        if len(kinds) > 1:
            raise SpecError(
                f"the features this group takes are of several graphic types ({', '.join(kinds)}); an"
                " annotation group has one",
                location=doc.loc(path),
                path=path,
                hint="add `graphic_type:` to pick one, and another group for the others",
            )
        graphic_type = kinds[0] if kinds else "POLYGON"
    taken |= chosen
    annotation_mask = chosen[table.feature]
    keep_points = np.repeat(annotation_mask, table.counts)
    features = table.feature[annotation_mask]
    return Annotations(
        table.points[keep_points],
        table.counts[annotation_mask],
        lambda i: table.location(int(features[i])),
        lambda key, where, issues: table.values(key, features, issues),
        graphic_type,
        [file],
        flagged=bad[features],
    )


def _all_taken(table: FeatureTable, taken: np.ndarray) -> None:
    """Every feature of a GeoJSON file is taken by a group: an unknown class is an error, not a loss."""
    left = np.flatnonzero(~taken)
    if left.size == 0:
        return
    first = int(left[0])
    name = table.classification[first]
    raise InputError(
        f"feature {first}: no group takes this {table.graphic[first]} feature of classification"
        f" {name!r} ({left.size} feature(s) of the file are not taken)",
        location=table.location(first),
        hint=f"map the class to codes with a group `geojson: {{file: {table.path.name},"
        f" classification: {'null' if name is None else name}}}` and its category/type, or take"
        " every class with a group"
        " without `classification`",
    )


# ------------------------------------------------------------------------------------ the groups
def _group(
    doc: SpecDocument,
    ctx: BuildContext,
    path: NodePath,
    found: Annotations,
    number: int,
    sop_uid: str,
    double: bool,
    AnnotationGroup: type[AnnotationGroup],
    measurements: list[Measurement],
) -> AnnotationGroup:
    spec = doc.get(path)
    errors = Errors()
    category = errors.run(code_at, doc, ctx, path + ("category",))
    property_type = errors.run(code_at, doc, ctx, path + ("type",))
    modifiers = errors.run(codes_at, doc, ctx, path + ("modifiers",))
    algo = spec.get("algorithm") or {"type": "MANUAL"}
    algorithm = None
    if algo["type"] != "MANUAL":
        algorithm = errors.run(algorithm_identification, doc, ctx, path + ("algorithm",))
    errors.raise_if_any()
    assert category is not None and property_type is not None  # every check passed; the schema requires both
    with conformance_at(doc, path + ("algorithm",) if "algorithm" in spec else path):
        return AnnotationGroup(
            number=number,
            uid=spec.get("uid") or ctx.uids.uid("annotation-group", sop_uid, number),
            label=spec["label"],
            description=spec.get("description"),
            property_category=category,
            property_type=property_type,
            property_modifiers=modifiers or (),
            graphic_type=found.graphic_type,
            coordinates=found.points,
            counts=found.counts,
            generation_type=algo["type"],
            algorithm=algorithm,
            measurements=measurements,
            double=double,
        )


def _measurement(
    doc: SpecDocument,
    ctx: BuildContext,
    path: NodePath,
    found: Annotations,
    Measurement: type[Measurement],
    issues: list[Issue],
) -> Measurement:
    """One measurement of a group; its values' problems go to ``issues`` (reported with the annotations')."""
    errors = Errors()
    name = errors.run(code_at, doc, ctx, path + ("name",))
    unit = errors.run(unit_at, doc, ctx, path + ("unit",))
    values = errors.run(found.values, doc.get(path + ("key",)), path + ("key",), issues)
    errors.raise_if_any()
    # every check passed; the schema requires name and unit
    assert name is not None and unit is not None and values is not None
    measurement = Measurement(name, unit, values)
    with conformance_at(
        doc,
        path + ("unit",),
        hint="write the unit in UCUM (https://ucum.org), e.g. um, um2, mm2, 1 for a ratio, or a code with scheme UCUM",
    ):
        measurement.check_unit()
    if not issues and found.counts.size and (found.flagged is None or not found.flagged.any()):  # else reported
        with conformance_at(doc, path):
            measurement.item(int(found.counts.size))
    return measurement
