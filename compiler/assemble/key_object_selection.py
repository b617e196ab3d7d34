"""Build a KeyObjectSelection spec: the instances it selects -> a Key Object Selection Document.

A selection item names a source image (1-based position, SOP Instance UID or file path, optionally with
frames), the objects built by another spec of the same build (``{spec: id}``), or any DICOM file
(``{file: ...}``, which may belong to another study). The title (CID 7010) and the title modifiers TID 2010
asks for are checked by the builder layer (:mod:`dcmspec_compiler.iods.kos`); every error is located at the
spec's value, and all of a spec's selection errors are reported together.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import DcmspecError, ErrorList, SpecError
from ..load.document import SpecDocument
from ..write.output import BuiltObject
from .common import Errors, NodePath, built_object, code_at, conformance_at, object_identity
from .context import BuildContext
from .sr_common import ImageResolver, observation_context, read_header, sources_and_images

if TYPE_CHECKING:  # the builder layer imports pydicom: loaded when a builder needs it
    from pydicom.dataset import Dataset

    from ..iods.common.concept import Code
    from ..iods.kos import SelectedInstance

    #: one selected instance: (the selection, its header, the spec path of the selection item naming it)
    Selected = tuple[SelectedInstance, Dataset, tuple[str, int]]


def build(doc: SpecDocument, ctx: BuildContext) -> list[BuiltObject]:
    from ..iods.kos import KeyObjectSelectionDocument
    from ..iods.kos.codes import check_title, check_title_modifiers
    from ..iods.kos.document import repeated_selections

    found = Errors()  # the sources, and every selection whatever became of them
    series, images = sources_and_images(doc, ctx, found)
    selected: list[Selected] = []
    for i in range(len(doc.get(("selection",)) or [])):
        selected.extend(found.run(_selected, doc, ctx, images, ("selection", i)) or [])
    errors: list[DcmspecError] = list(found.errors)
    reported: set[NodePath] = set()
    for again, first in repeated_selections([s for s, _, _ in selected]):  # the builder layer's rule
        path: NodePath = selected[again][2]
        ref = selected[again][0].reference
        if path not in reported:
            reported.add(path)
            errors.append(
                SpecError(
                    f"instance {ref.sop_instance_uid} is already selected by selection item"
                    f" {selected[first][2][1] + 1}",
                    location=doc.loc(path),
                    path=path,
                    hint="list each instance once",
                )
            )
    title = _code(doc, ctx, ("title",), errors)
    codes = [_code(doc, ctx, ("title_modifiers", i), errors) for i in range(len(doc.get(("title_modifiers",)) or []))]
    modifiers = [m for m in codes if m is not None]  # each is None only when it failed (in `errors`)
    if title is not None:
        try:
            with conformance_at(doc, ("title",), hint="list the titles: dcmspec schema KeyObjectSelection"):
                check_title(title)
            where: NodePath = ("title_modifiers",) if codes else ("title",)
            with conformance_at(
                doc,
                where,
                hint='e.g. title_modifiers: [DCM:111210 "Motion blur"] with a quality'
                " title; see `dcmspec schema KeyObjectSelection`",
            ):
                check_title_modifiers(title, modifiers)
        except SpecError as exc:
            errors.append(exc)
    if errors:
        raise errors[0] if len(errors) == 1 else ErrorList(errors)
    assert title is not None  # the schema requires a title; a wrong one is in `errors`
    header = series.header if series is not None else selected[0][1]
    ident = object_identity(
        doc,
        ctx,
        header=header,
        inputs=[s.reference.sop_instance_uid for s, _, _ in selected] + [str(header.StudyInstanceUID)],
        default_label="KEY OBJECTS",
        default_series_number=1100,
    )
    with conformance_at(doc, ()):
        kos = KeyObjectSelectionDocument(
            [s for s, _, _ in selected],
            title=title,
            title_modifiers=modifiers,
            description=doc.get(("description",)),
            observer_context=observation_context(doc, ctx) if doc.get(("observer",)) else None,
            patient_study=header,
            **ident.document_arguments(),
        )
    return [built_object(doc, kos, "KeyObjectSelection", {"selected": len(selected)})]


def _code(doc: SpecDocument, ctx: BuildContext, path: NodePath, errors: list[DcmspecError]) -> Code | None:
    try:
        code: Code | None = code_at(doc, ctx, path)
        return code
    except DcmspecError as exc:
        errors.append(exc)
        return None


def _selected(doc: SpecDocument, ctx: BuildContext, images: ImageResolver, path: tuple[str, int]) -> list[Selected]:
    """(SelectedInstance, header, path) for each instance the selection item at ``path`` names."""
    from ..iods.kos import SelectedInstance

    spec = doc.get(path)
    frames = tuple(spec.get("frames") or ())
    segments = tuple(spec.get("segments") or ())
    if "image" in spec:
        resolved = images.image(path + ("image",))
        headers = [resolved.header]
        frames = frames or tuple(resolved.reference.frame_numbers)
    elif "file" in spec:
        headers = [read_header(doc, ctx, path + ("file",))]
    else:
        headers = [o.dataset for o in ctx.referenced_objects(doc, path)]
    where: NodePath = path + ("frames",) if spec.get("frames") else path + ("segments",) if segments else path
    out: list[Selected] = []
    hint = (
        "frames are 1-based, at most the image's Number of Frames; a single-frame image takes none"
        if spec.get("frames")
        else "segments are Segment Numbers of a Segmentation"
        if segments
        else None
    )
    with conformance_at(doc, where, hint=hint):
        for header in headers:
            out.append(
                (SelectedInstance.from_dataset(header, frame_numbers=frames, segment_numbers=segments), header, path)
            )
    return out
