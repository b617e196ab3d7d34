"""Source images from a PACS over DICOMweb (PS3.18): ``sources.images: {dicomweb: URL, study: UID,
series: UID[, instances: [UID, ...]]}``.

QIDO-RS (PS3.18 10.6) lists the instances of the series; WADO-RS metadata (PS3.18 10.4, DICOM JSON,
PS3.18 F.2) gives their headers, which is all the spec kinds need (none reads source pixels). The
headers become the same :class:`~.source_headers.SourceInstance` objects as files, so the same geometry
checks, ordering and errors follow. A PACS that does not answer, refuses access, does not have the
series or returns fewer instances than it lists is an :class:`InputError` naming the URL and the UID.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, ParamSpec, TypeVar

from ..errors import InputError, Location, PathPart
from ..io import http
from .source_headers import SourceInstance, check_geometry, instance_from_dataset

_P = ParamSpec("_P")
_R = TypeVar("_R")


def is_dicomweb(images: Any) -> bool:
    """True if ``sources.images`` names a DICOMweb origin rather than files."""
    return isinstance(images, Mapping) and "dicomweb" in images


def instance_url(root: str, study: str, series: str, sop: str) -> str:
    """The WADO-RS URL of an instance (PS3.18 10.4.1): how messages name a source from a PACS."""
    return f"{root}/studies/{study}/series/{series}/instances/{sop}"


def read_dicomweb_instances(
    origin: Mapping[str, Any], *, location: Location | None = None, spec_path: Sequence[PathPart] = ()
) -> list[SourceInstance]:
    """The instances of the series ``origin`` names (or those of its ``instances`` list), headers only."""
    root = str(origin["dicomweb"]).rstrip("/")
    study, series = str(origin["study"]).strip(), str(origin["series"]).strip()
    wanted = [str(u).strip() for u in origin.get("instances") or []]
    spec_path = tuple(spec_path)
    client = _client(root, location, spec_path)
    what = f"series {series} of study {study}"

    def ask(call: Callable[_P, _R], *args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return call(*args, **kwargs)
        except InputError:
            raise
        except Exception as exc:  # requests' and dicomweb-client's errors, named in the message
            if _is_transport_error(exc):
                raise http.input_error(exc, root, what, location, spec_path) from None
            raise InputError(
                f"the PACS at {root} gave an answer dcmspec cannot read for {what}: {exc}",
                location=location,
                path=spec_path,
            ) from None

    listed = ask(
        client.search_for_instances,
        study_instance_uid=study,
        series_instance_uid=series,
        fields=["SOPInstanceUID"],
        get_remaining=True,
    )
    listed_uids = [_uid(item, "00080018") for item in listed or []]
    if not listed_uids:
        raise InputError(
            f"the PACS at {root} does not have {what} (QIDO-RS found no instance)",
            location=location,
            path=spec_path,
            hint="check the study and series UIDs",
        )
    missing = [u for u in wanted if u not in listed_uids]
    if missing:
        raise InputError(
            f"the PACS at {root} does not have {len(missing)} of the requested instances of {what}: "
            + ", ".join(missing[:5])
            + (" ..." if len(missing) > 5 else ""),
            location=location,
            path=spec_path + ("instances",),
            hint=f"the series has {len(listed_uids)} instance(s) there",
        )
    metadata = ask(client.retrieve_series_metadata, study, series)
    by_uid = {_uid(item, "00080018"): item for item in metadata or []}
    absent = [u for u in (wanted or listed_uids) if u not in by_uid]
    if absent:
        raise InputError(
            f"the PACS at {root} returned a partial series: the metadata of {what} lacks "
            f"{len(absent)} of its {len(listed_uids)} listed instances: "
            + ", ".join(absent[:5])
            + (" ..." if len(absent) > 5 else ""),
            location=location,
            path=spec_path,
            hint="the series may still be arriving in the PACS: try again when it is complete",
        )
    instances = []
    for uid in wanted or listed_uids:
        label = instance_url(root, study, series, uid)
        ds = _dataset(by_uid[uid], label, location, spec_path)
        inst = instance_from_dataset(label, ds, location=location, spec_path=spec_path)
        if (inst.study_instance_uid, inst.series_instance_uid) != (study, series):
            raise InputError(
                f"the PACS at {root} returned {label} with Study/Series Instance UID "
                f"{inst.study_instance_uid}/{inst.series_instance_uid}, not the ones asked for",
                location=location,
                path=spec_path,
            )
        check_geometry(inst, label, location=location, spec_path=spec_path)
        instances.append(inst)
    return instances


def _client(root: str, location: Location | None, spec_path: tuple[PathPart, ...]) -> Any:
    try:
        web = http.require("dicomweb_client", "a DICOMweb source")
    except InputError as exc:
        raise InputError(exc.message, location=location, path=spec_path, hint=exc.hint) from None
    client = web.DICOMwebClient(root, session=http.session(root), timeout=http.TIMEOUT_S)
    client.set_http_retry_params(retry=False)  # one request each: a PACS that fails is reported at once
    return client


def _is_transport_error(exc: BaseException) -> bool:
    requests = http.require("requests", "a DICOMweb source")
    return isinstance(exc, requests.RequestException)


def _uid(item: Mapping[str, Any], tag: str) -> str:
    try:
        return str(item[tag]["Value"][0]).strip()
    except (KeyError, IndexError, TypeError):
        return ""


def _dataset(item: Mapping[str, Any], label: str, location: Location | None, spec_path: tuple[PathPart, ...]) -> Any:
    """A pydicom Dataset of one instance's DICOM JSON; bulk data (Pixel Data) is left out (never needed)."""
    from pydicom.dataset import Dataset

    try:
        return Dataset.from_json(dict(item), bulk_data_uri_handler=lambda _tag, _vr, _uri: None)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise InputError(
            f"the DICOM JSON metadata of {label} cannot be read: {exc}", location=location, path=spec_path
        ) from None
