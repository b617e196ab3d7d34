"""Objects a spec draws from: a Segmentation or a presentation state named by ``{spec: id}`` (built in the
same build) or ``{file: path}``, and the segments chosen in it (presentation state outlines, Secondary
Capture renders)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ErrorAt, InputError, SpecError
from ..load.document import SpecDocument
from .common import NodePath, resolve_path
from .context import BuildContext

if TYPE_CHECKING:
    from ..iods.pr import SoftcopyPresentationState
    from ..iods.seg import Segmentation

SEG_SOP_CLASSES = ("1.2.840.10008.5.1.4.1.1.66.4", "1.2.840.10008.5.1.4.1.1.66.7")
GSPS_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.11.1"
#: presentation states a render draws: Grayscale, Color and Pseudo-Color Softcopy (PS3.3 A.33.1-3)
RENDERED_PR_SOP_CLASSES = (GSPS_SOP_CLASS, "1.2.840.10008.5.1.4.1.1.11.2", "1.2.840.10008.5.1.4.1.1.11.3")
ABPS_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.11.8"
PR_SOP_CLASS_ROOT = "1.2.840.10008.5.1.4.1.1.11."  # every presentation state Storage SOP Class (PS3.4 B.5)
BLENDING_NOT_RENDERED = "an Advanced Blending presentation state cannot be rendered yet"


def sop_class_name(uid: str) -> str:
    """The SOP Class's name (PS3.6 Annex A, pydicom's table), or the UID when it is not known."""
    from pydicom.uid import UID

    name = UID(uid).name
    return name.removesuffix(" Storage") if name != uid else uid


def _built(
    doc: SpecDocument, ctx: BuildContext, path: NodePath, classes: tuple[str, ...], what: str, family: str | None = None
) -> Any:
    """The one object of ``classes`` the spec named at ``path`` wrote; ``family``: the UID root of the SOP
    Classes that count as a ``what`` (one of them outside ``classes`` is refused by name)."""
    spec = doc.get(path)
    objects = [o.dataset for o in ctx.referenced_objects(doc, path)]
    found = [
        o
        for o in objects
        if o is not None and (str(o.SOPClassUID) in classes or (family and str(o.SOPClassUID).startswith(family)))
    ]
    if len(found) == 1 and str(found[0].SOPClassUID) not in classes:
        found_class = sop_class_name(str(found[0].SOPClassUID))
        raise SpecError(
            f"spec {spec['spec']!r} wrote a {what} of SOP Class {found_class}: "
            + (
                BLENDING_NOT_RENDERED
                if str(found[0].SOPClassUID) == ABPS_SOP_CLASS
                else f"this needs one of {', '.join(sop_class_name(c) for c in classes)}"
            ),
            location=doc.loc(path + ("spec",)),
            path=path + ("spec",),
            hint="render a Grayscale, Color or Pseudo-Color presentation state",
        )
    if len(found) != 1:
        raise SpecError(
            f"spec {spec['spec']!r} wrote {len(found)} {what}(s); this needs exactly one",
            location=doc.loc(path + ("spec",)),
            path=path + ("spec",),
        )
    return found[0]


def _file(doc: SpecDocument, path: NodePath, what: str) -> Path:
    file = resolve_path(doc, path + ("file",))
    if not file.is_file():
        raise SpecError(f"{what} file not found: {file}", location=doc.loc(path + ("file",)), path=path + ("file",))
    return file


def segmentation_at(doc: SpecDocument, ctx: BuildContext, path: NodePath) -> Segmentation:
    """The Segmentation the mapping at ``path`` names (``spec:`` or ``file:``)."""
    from pydicom.errors import InvalidDicomError

    from ..errors import DicomConformanceError
    from ..iods.seg import Segmentation, segread

    if "spec" in doc.get(path):
        seg = _built(doc, ctx, path, SEG_SOP_CLASSES, "Segmentation")
        return seg if isinstance(seg, Segmentation) else Segmentation.from_dataset(seg)
    file = segmentation_file(doc, path)
    try:
        return segread(file)
    except InvalidDicomError:
        raise InputError(
            f"{file.name} is not a DICOM file, so not a Segmentation",
            location=doc.loc(path + ("file",)),
            path=path + ("file",),
            hint="name a Segmentation (.dcm) file, or the spec that builds it: {spec: id}",
        ) from None
    except (DicomConformanceError, OSError, ValueError, AttributeError, KeyError) as exc:
        raise InputError(
            f"cannot read {file} as a Segmentation: {exc}",
            location=doc.loc(path + ("file",)),
            path=path + ("file",),
            hint="name a Segmentation file, or the spec that builds it: {spec: id}",
        ) from None


def segmentation_file(doc: SpecDocument, path: NodePath) -> Path:
    """The Segmentation file the mapping at ``path`` names (``file:``), which must exist."""
    return _file(doc, path, "Segmentation")


def presentation_state_at(doc: SpecDocument, ctx: BuildContext, path: NodePath) -> SoftcopyPresentationState:
    """The Grayscale, Color or Pseudo-Color Softcopy Presentation State the mapping at ``path`` names
    (``spec:`` or ``file:``); another presentation state (Advanced Blending, ...) is refused by name."""
    from pydicom.errors import InvalidDicomError

    from ..errors import DicomConformanceError
    from ..iods.pr import SoftcopyPresentationState, prread

    where: ErrorAt = {"location": doc.loc(path + ("file",)), "path": path + ("file",)}
    if "spec" in doc.get(path):
        pr = _built(doc, ctx, path, RENDERED_PR_SOP_CLASSES, "presentation state", PR_SOP_CLASS_ROOT)
        return pr if isinstance(pr, SoftcopyPresentationState) else prread(pr)
    file = _file(doc, path, "presentation state")
    try:
        pr = prread(file)
    except InvalidDicomError:
        raise InputError(
            f"{file.name} is not a DICOM file, so not a presentation state",
            **where,
            hint="name a presentation state (.dcm) file, or the spec that builds it: {spec: id}",
        ) from None
    except (DicomConformanceError, OSError, ValueError, AttributeError, KeyError) as exc:
        raise InputError(
            f"cannot read {file} as a Grayscale, Color or Pseudo-Color Softcopy Presentation State: {exc}",
            **where,
            hint="name a presentation state file, or the spec that builds it: {spec: id}",
        ) from None
    if str(pr.SOPClassUID) == ABPS_SOP_CLASS:
        raise InputError(
            f"{file.name}: {BLENDING_NOT_RENDERED}",
            **where,
            hint="render a Grayscale, Color or Pseudo-Color presentation state",
        )
    return pr


def chosen_segments(doc: SpecDocument, path: NodePath, descriptions: Mapping[int, Any]) -> list[int]:
    """Segment numbers the ``segments:`` list under ``path`` names (by number or label); all by default.
    ``descriptions``: the Segmentation's segment descriptions by number."""
    numbers = list(descriptions)
    wanted = doc.get(path + ("segments",))
    if wanted is None:
        return numbers
    chosen = []
    for j, w in enumerate(wanted):
        where = path + ("segments", j)
        if isinstance(w, int):
            if w not in numbers:
                raise SpecError(
                    f"the Segmentation has no segment {w} (it has {numbers})", location=doc.loc(where), path=where
                )
            chosen.append(w)
        else:
            found = [n for n, d in descriptions.items() if d.segment_label == str(w)]
            if not found:
                labels = [d.segment_label for d in descriptions.values()]
                raise SpecError(
                    f"the Segmentation has no segment labelled {w!r} (labels: {labels})",
                    location=doc.loc(where),
                    path=where,
                )
            chosen.extend(found)
    return chosen
