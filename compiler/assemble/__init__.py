"""Build stage: one builder per spec kind turns a validated spec into DICOM objects.

A builder is ``build(doc: SpecDocument, ctx: BuildContext) -> list[BuiltObject]``; it resolves what
the spec refers to (``dcmspec_compiler.resolve``) and calls the builder layer (``dcmspec_compiler.iods``). Builders are
imported on first use so that start-up stays light.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..load.document import SpecDocument
    from ..write.output import BuiltObject
    from .context import BuildContext

    Builder = Callable[[SpecDocument, BuildContext], list[BuiltObject]]

#: spec kind -> module of dcmspec_compiler.assemble holding its ``build`` function
BUILDERS: dict[str, str] = {
    "Segmentation": "segmentation",
    "MeasurementReport": "measurement_report",
    "StructuredReport": "structured_report",
    "PresentationState": "presentation_state",
    "KeyObjectSelection": "key_object_selection",
    "SecondaryCapture": "secondary_capture",
    "MicroscopyAnnotations": "microscopy_annotations",
    "ParametricMap": "parametric_map",
}


def builder_for(kind: str) -> Builder:
    """The ``build`` function of ``kind``; a builder-layer refusal no builder located becomes a SpecError
    at the spec value that gave it (or at the top of the spec). A failed build also reports the errors of
    the spec's codes it did not reach (``quick.with_code_errors``: missing source images stop a build,
    not the check of its codes)."""
    build: Builder = import_module(f"{__name__}.{BUILDERS[kind]}").build

    def located_build(doc: SpecDocument, ctx: BuildContext) -> list[BuiltObject]:
        from ..errors import DcmspecError, DicomConformanceError
        from .common import conformance_at
        from .quick import with_code_errors

        try:
            try:
                return build(doc, ctx)
            except DicomConformanceError:
                with conformance_at(doc, ()):
                    raise
        except DcmspecError as exc:
            more = with_code_errors(doc, kind, exc)
            if more is exc:
                raise
            raise more from None

    return located_build
