"""Pieces every spec builder uses: sources, codes, equipment, series/instance identity, UIDs."""

from __future__ import annotations

import datetime
import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar, overload

from .. import __version__
from ..errors import DcmspecError, DicomConformanceError, ErrorList, InputError, PathPart, SpecAt, SpecError, flatten
from ..io.files import is_regular_file, open_regular
from ..load.document import SpecDocument
from ..resolve.codes import resolve_code
from .context import BuildContext

if TYPE_CHECKING:  # the builder layer imports pydicom: loaded when a builder needs it
    from ..iods.common.concept import Code
    from ..iods.common.modules import ContentIdentification, Equipment
    from ..resolve.source_series import SourceSeries
    from ..write.output import BuiltObject

NodePath = tuple[PathPart, ...]
T = TypeVar("T")


class NotReached(DcmspecError):
    """A check that needs a value whose own error was already reported (the source images of a spec
    that could not be read, say): :class:`Errors` leaves it out, so that the one cause is reported once
    and the independent checks around it still run."""


class Errors:
    """Runs checks that do not depend on each other and keeps every error, so that a spec's errors are
    all reported in one run: ``value = errors.run(check, ...)`` (None when it failed), then
    ``errors.raise_if_any()`` before the first step that needs those values. With ``limit``, errors past
    the first ``limit`` are only counted (a broken 100,000-row file gives "... and N more", not N lines);
    ``room()`` says how many more are kept, ``skip(n)`` counts ``n`` that the caller did not make."""

    def __init__(self, limit: int | None = None) -> None:
        self.errors: list[DcmspecError] = []
        self.limit = limit
        self.more = 0

    def run(self, check: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        try:
            return check(*args, **kwargs)
        except DcmspecError as exc:
            for error in flatten(exc):
                self.add(error)
            return None

    def add(self, error: DcmspecError) -> None:
        if isinstance(error, NotReached):  # its cause is reported
            return
        if self.limit is not None and len(self.errors) >= self.limit:
            self.more += 1
        else:
            self.errors.append(error)

    def room(self) -> int | None:
        return None if self.limit is None else max(self.limit - len(self.errors), 0)

    def skip(self, count: int) -> None:
        self.more += count

    def raise_if_any(self) -> None:
        errors = list(self.errors)
        if self.more:
            last = errors[-1].location
            kind = InputError if isinstance(errors[-1], InputError) else SpecError
            errors.append(
                kind(
                    f"... and {self.more} more errors (only the first {len(errors)} are shown)",
                    location=replace(last, line=None, column=None) if last else None,
                )
            )
        if len(errors) == 1:
            raise errors[0]
        if errors:
            raise ErrorList(errors)


def spec_id(doc: SpecDocument) -> str:
    return str(doc.data.get("id") or doc.path.stem)


def built_object(
    doc: SpecDocument, dataset: Any, kind: str, summary: dict[str, Any], filename: str | None = None
) -> BuiltObject:
    """The object ``dataset`` that ``doc`` built, written to ``filename`` (default: the spec's output file)."""
    from ..write.output import BuiltObject
    from ..write.targets import output_filename

    name = filename or output_filename(doc)
    assert name is not None  # the schema requires output.file to be a string
    return BuiltObject(dataset=dataset, filename=name, kind=kind, spec=doc.path, spec_id=spec_id(doc), summary=summary)


@overload
def code_at(doc: SpecDocument, ctx: BuildContext, path: NodePath) -> Code | None: ...
@overload
def code_at(doc: SpecDocument, ctx: BuildContext, path: NodePath, default: Code) -> Code: ...
def code_at(doc: SpecDocument, ctx: BuildContext, path: NodePath, default: Code | None = None) -> Code | None:
    """The Code at ``path`` of the spec (None when absent and no default)."""
    value = doc.get(path)
    if value is None:
        return default
    return resolve_code(value, location=doc.loc(path), path=path, warn=ctx.warn)


def codes_at(doc: SpecDocument, ctx: BuildContext, path: NodePath) -> list[Code]:
    """The Codes of the list at ``path`` (empty when absent; the schema allows no null item)."""
    return [
        resolve_code(doc.get(path + (i,)), location=doc.loc(path + (i,)), path=path + (i,), warn=ctx.warn)
        for i in range(len(doc.get(path) or []))
    ]


def source_series(doc: SpecDocument, ctx: BuildContext, path: NodePath = ("sources",)) -> SourceSeries:
    """The one source series the spec's ``sources`` selects (headers only)."""
    from ..resolve.source_dicomweb import is_dicomweb, read_dicomweb_instances
    from ..resolve.source_files import find_source_files
    from ..resolve.source_headers import read_source_headers
    from ..resolve.source_series import resolve_single_series, select_instances

    spec = doc.get(path)
    where: SpecAt = {"location": doc.loc(path + ("images",)), "spec_path": path + ("images",)}
    if is_dicomweb(spec["images"]):
        instances = read_dicomweb_instances(spec["images"], **where)
    else:
        files = find_source_files(spec["images"], base_dir_of(doc, path + ("images",)), **where)
        instances = read_source_headers(files, **where)
    instances = select_instances(
        instances,
        series_instance_uid=spec.get("series_instance_uid"),
        sop_instance_uids=spec.get("sop_instance_uids"),
        modality=spec.get("modality"),
        location=doc.loc(path),
        spec_path=path,
    )
    series = resolve_single_series(instances, location=doc.loc(path), spec_path=path)
    for message in series.warnings:
        ctx.warn(message, doc.loc(path), path)
    return series


def subject_header(doc: SpecDocument, ctx: BuildContext, path: NodePath = ("subject",)) -> Any:
    """A dataset holding the Patient and General Study attributes the spec's ``subject`` gives, for
    objects without source images (the builder layer copies them like a source image's)."""
    from pydicom.dataset import Dataset

    patient = doc.get(path + ("patient",)) or {}
    study = doc.get(path + ("study",)) or {}
    header = Dataset()
    header.PatientName = patient.get("name", "")
    header.PatientID = str(patient["id"])
    header.PatientBirthDate = str(patient.get("birth_date", "")).replace("-", "")
    header.PatientSex = patient.get("sex", "")
    header.StudyDate = str(study.get("date", "")).replace("-", "")
    header.StudyTime = str(study.get("time", "")).replace(":", "")
    header.AccessionNumber = study.get("accession_number", "")
    header.StudyID = study.get("id", "")
    header.ReferringPhysicianName = study.get("referring_physician", "")
    if study.get("description"):
        header.StudyDescription = study["description"]
    header.StudyInstanceUID = study.get("instance_uid") or ctx.uids.uid(
        "study", header.PatientID, header.AccessionNumber, header.StudyDate, header.StudyTime
    )
    from ..iods.common.vr import check_dataset

    with conformance_at(doc, path):  # these values are the spec's, not a source image's: check them
        check_dataset(header)
    return header


def software_versions(spec_value: str | list[str] | None) -> str | list[str]:
    """Software Versions (0018,1020): the spec's versions, then ``dcmspec X.Y.Z`` (the dcmspec that made the
    file, always the last value; PS3.3 C.7.5.1 lets the attribute hold several, VM 1-n)."""
    ours = f"dcmspec {__version__}"
    theirs = [spec_value] if isinstance(spec_value, str) else list(spec_value or [])
    return [*theirs, ours] if theirs else ours


def equipment(doc: SpecDocument) -> Equipment:
    """Equipment from the spec, defaulting to dcmspec itself."""
    from ..iods.common.modules import Equipment

    eq = doc.get(("equipment",)) or {}
    model = eq.get("model", "dcmspec")
    return Equipment(
        manufacturer=eq.get("manufacturer", "dcmspec"),
        manufacturer_model_name=model,
        software_versions=software_versions(eq.get("software_versions")),
        device_serial_number=eq.get("serial_number", model),
        institution_name=eq.get("institution"),
        institutional_department_name=eq.get("department"),
        station_name=eq.get("station"),
    )


def content_identification(doc: SpecDocument, default_label: str) -> ContentIdentification:
    from ..iods.common.modules import ContentIdentification

    inst = doc.get(("instance",)) or {}
    return ContentIdentification(
        instance_number=inst.get("number", 1),
        content_label=inst.get("label", default_label),
        content_description=inst.get("description"),
        content_creator_name=inst.get("creator"),
    )


#: Bytes hashed per read: one buffer, reused (a fresh multi-megabyte ``bytes`` per read costs the kernel
#: new pages each time: about 40% more CPU on a 78 MB mask, bench/README.md "Start-up").
_HASH_BLOCK = 1 << 20


def _sha256_of_file(path: Path) -> str:
    digest = hashlib.sha256()
    block = bytearray(_HASH_BLOCK)
    view = memoryview(block)
    with open_regular(path) as fh:
        while n := fh.readinto(block):
            digest.update(view[:n])
    return digest.hexdigest()


_digest_pool: ThreadPoolExecutor | None = None
_digests: dict[tuple[str, int, int], Future[str]] = {}


def start_file_digest(path: Path) -> None:
    """Start hashing ``path`` on a background thread (hashlib releases the GIL, so a large mask is
    hashed while it is being loaded and placed); :func:`file_digest` collects the result."""
    global _digest_pool
    if not is_regular_file(path):  # a FIFO or /dev/zero would be read forever; the loader refuses it
        return
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _digests:
        if _digest_pool is None:
            _digest_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dcmspec-digest")
        _digests[key] = _digest_pool.submit(_sha256_of_file, path)


def stop_file_digests() -> None:
    """Finish the background hashes and end their thread: called before worker processes are forked.

    A forked child has no copy of the parent's threads, so a pool inherited with its thread gone would
    never run a hash and the worker would wait for it forever; forking while the thread lives is also
    what Python 3.12+ warns about (``DeprecationWarning: This process ... is multi-threaded``)."""
    global _digest_pool
    if _digest_pool is not None:
        _digest_pool.shutdown(wait=True)
        _digest_pool = None


def _forget_parent_digests() -> None:
    """In a forked child: the parent's hashing thread is not there; start a pool of its own if needed."""
    global _digest_pool
    _digest_pool = None
    for key in [k for k, future in _digests.items() if not future.done()]:
        del _digests[key]


if hasattr(os, "register_at_fork"):  # POSIX only
    os.register_at_fork(after_in_child=_forget_parent_digests)


def file_digest(path: Path) -> str:
    """SHA-256 of the file's bytes (from the background hash when one was started)."""
    st = path.stat()
    future = _digests.pop((str(path.resolve()), st.st_size, st.st_mtime_ns), None)
    return future.result() if future is not None else _sha256_of_file(path)


def content_digest(doc: SpecDocument, *, inputs: Iterable[str] = (), files: Iterable[Path] = ()) -> str:
    """A digest of everything the object is made from: the spec data, input identities, file bytes.

    Where the source images are read from (``sources.images``: files or a PACS) is left out: the
    inputs name the source instances used, so one object has one SOP Instance UID however it was read."""
    data = doc.data
    if isinstance(data.get("sources"), dict) and "images" in data["sources"]:
        data = {**data, "sources": {**data["sources"], "images": None}}
    digest = hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode("utf-8"))
    for item in inputs:
        digest.update(item.encode("utf-8"))
    for path in files:
        digest.update(file_digest(path).encode("ascii"))
    return digest.hexdigest()


def identity_uids(doc: SpecDocument, ctx: BuildContext, *, study_uid: str, digest: str) -> tuple[str, str]:
    """Series and SOP Instance UIDs: from the spec when given, else derived.

    The series UID depends on the spec id, the study and the series number (a rebuild with new content
    stays in its series); the instance UID on the whole content digest.
    """
    series = doc.get(("series",)) or {}
    inst = doc.get(("instance",)) or {}
    sid = spec_id(doc)
    series_uid = series.get("instance_uid") or ctx.uids.uid("series", sid, study_uid, series.get("number"))
    sop_uid = inst.get("sop_instance_uid") or ctx.uids.uid("instance", sid, study_uid, digest)
    return series_uid, sop_uid


class IdentityArguments(TypedDict):
    """The identity keywords every builder-layer class takes: General Series (PS3.3 C.7.3.1) and SOP Common
    (C.12.1) identifiers, General Equipment (C.7.5.1)."""

    series_instance_uid: str
    series_number: int
    series_description: str | None
    sop_instance_uid: str
    equipment: Equipment


class ImageArguments(IdentityArguments):
    """Identity keywords of the enhanced multi-frame images (``Segmentation``, ``ParametricMap``): Content
    Identification as separate values, Content Date/Time."""

    instance_number: int
    content_label: str
    content_description: str | None
    content_creator_name: str | None
    content_datetime: datetime.datetime


class DocumentArguments(IdentityArguments):
    """Identity keywords of SR and Key Object Selection documents and Secondary Capture images: Instance
    Number, Content Date/Time."""

    instance_number: int
    content_datetime: datetime.datetime


class PresentationArguments(IdentityArguments):
    """Identity keywords of the presentation states: Presentation State Identification (C.11.10) with its
    Presentation Creation Date/Time."""

    content: ContentIdentification
    presentation_datetime: datetime.datetime


@dataclass(frozen=True)
class ObjectIdentity:
    """Who a built object is: its UIDs, series, Content Identification, Content Date/Time and Equipment.

    Built once per object by :func:`object_identity`; each ``*arguments`` method gives the identity keywords
    of one family of builder-layer constructors (``Segmentation(..., **ident.image_arguments())``)."""

    series_instance_uid: str
    sop_instance_uid: str
    series_number: int
    series_description: str | None
    content: ContentIdentification
    content_datetime: datetime.datetime
    equipment: Equipment

    def arguments(self) -> IdentityArguments:
        return IdentityArguments(
            series_instance_uid=self.series_instance_uid,
            series_number=self.series_number,
            series_description=self.series_description,
            sop_instance_uid=self.sop_instance_uid,
            equipment=self.equipment,
        )

    def image_arguments(self) -> ImageArguments:
        return ImageArguments(
            **self.arguments(),
            instance_number=self.content.instance_number,
            content_label=self.content.content_label,
            content_description=self.content.content_description,
            content_creator_name=self.content.content_creator_name,
            content_datetime=self.content_datetime,
        )

    def document_arguments(self) -> DocumentArguments:
        return DocumentArguments(
            **self.arguments(), instance_number=self.content.instance_number, content_datetime=self.content_datetime
        )

    def presentation_arguments(self) -> PresentationArguments:
        return PresentationArguments(
            **self.arguments(), content=self.content, presentation_datetime=self.content_datetime
        )


def object_identity(
    doc: SpecDocument,
    ctx: BuildContext,
    *,
    header: Any,
    inputs: Iterable[str],
    files: Iterable[Path] = (),
    default_label: str,
    default_series_number: int,
) -> ObjectIdentity:
    """The identity of the object ``doc`` builds from sources whose first header is ``header``;
    ``inputs`` and ``files`` are what its content digest (and so its SOP Instance UID) depends on."""
    digest = content_digest(doc, inputs=inputs, files=files)
    series_uid, sop_uid = identity_uids(doc, ctx, study_uid=str(header.StudyInstanceUID), digest=digest)
    series = doc.get(("series",)) or {}
    return ObjectIdentity(
        series_instance_uid=series_uid,
        sop_instance_uid=sop_uid,
        series_number=series.get("number", default_series_number),
        series_description=series.get("description"),
        content=content_identification(doc, default_label),
        content_datetime=ctx.content_datetime(doc, ("instance", "content_datetime"), header),
        equipment=equipment(doc),
    )


@contextmanager
def conformance_at(doc: SpecDocument, path: NodePath, hint: str | None = None) -> Iterator[None]:
    """Turn a builder-layer DicomConformanceError into a SpecError located at ``path``, or more exactly at
    the spec value under ``path`` that gave the refused value when the error names one (VR checks)."""
    try:
        yield
    except DicomConformanceError as exc:
        if hasattr(exc, "value"):
            path = value_path(doc, path, exc.value) or value_path(doc, (), exc.value) or path
        raise SpecError(str(exc), location=doc.loc(path), path=path, hint=hint) from None


def value_path(doc: SpecDocument, base: NodePath, value: Any) -> NodePath | None:
    """The path under ``base`` of the spec scalar the builder layer wrote as ``value``: equal to it (also
    as a DA/TM/DT without separators), else the longest one written inside it (``threshold=...``);
    None when there is no such scalar."""

    def strip(t: str) -> str:
        return t.replace("-", "").replace(":", "").replace("T", "")

    wanted = {_plain(v) for v in (value if isinstance(value, (list, tuple)) else [value])}
    wanted |= {strip(w) for w in wanted}
    inside: tuple[int, NodePath] | None = None
    stack: list[tuple[NodePath, Any]] = [(base, doc.get(base))]
    while stack:
        path, node = stack.pop(0)
        if isinstance(node, dict):
            stack.extend((path + (k,), v) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((path + (i,), v) for i, v in enumerate(node))
        elif node is not None and not isinstance(node, bool):
            text = _plain(node)
            if text in wanted or strip(text) in wanted:
                return path
            if (
                isinstance(node, str)
                and len(node) > 3
                and any(node in w for w in wanted)
                and (inside is None or len(node) > inside[0])
            ):
                inside = (len(node), path)
    return inside[1] if inside else None


def _plain(value: Any) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def base_dir_of(doc: SpecDocument, path: NodePath) -> Path:
    """Folder that relative paths at ``path`` are relative to: that of the file that wrote the value
    (a spec, or a template it extends)."""
    file = doc.loc(path).file
    return Path(file).parent if file and not file.startswith("<") else doc.base_dir


def resolve_path(doc: SpecDocument, path: NodePath) -> Path:
    """A file path of the spec, relative to the file that wrote it."""
    value = Path(str(doc.get(path))).expanduser()
    return value if value.is_absolute() else base_dir_of(doc, path) / value
