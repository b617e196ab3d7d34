"""Generate ``code_dictionary.txt``, the DICOM code dictionary :mod:`.codes` looks codes up in.

The content is pydicom's concept dictionary (``pydicom.sr._concepts_dict``, from PS3.16), reduced to what
:mod:`.codes` asks: the meaning of ``SCHEME:VALUE`` and the value and meaning of ``SCHEME:Keyword`` (the
first one pydicom lists, as before). Importing pydicom's dictionary costs about 0.1 s at every start;
this table loads in a millisecond, and only when a spec has a code (stored uncompressed: inflating the
gzip file it was took 8 ms of every build with a code; the wheel compresses it anyway).
``tests/test_codes.py`` checks that the file is exactly what this module makes from the installed
pydicom; after a pydicom update run::

    python -m dcmspec_compiler.resolve.code_table

Format (UTF-8 text): a header line; the schemes, tab-separated, in pydicom's order; then a
section per table, each ending with an empty line, of alternating key and value lines
(``SCHEME:VALUE`` / meaning; ``SCHEME:Keyword`` / ``VALUE<tab>meaning``).
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

TABLE = Path(__file__).with_name("code_dictionary.txt")


def table_text() -> str:
    """The table's text, from the installed pydicom."""
    import pydicom
    from pydicom.sr._concepts_dict import concepts

    schemes = list(concepts)
    by_value: dict[str, str] = {}
    by_keyword: dict[str, str] = {}
    # {scheme: {keyword: {value: (meaning, CIDs)}}}; pydicom's module builds it untyped
    by_scheme = cast("dict[str, dict[str, dict[str, tuple[str, list[int]]]]]", concepts)
    for scheme, entries in by_scheme.items():
        for keyword, values in entries.items():
            for value, (meaning, _cids) in values.items():
                value = str(value)
                for text in (scheme, keyword, value, meaning):
                    if "\n" in text or "\t" in text or ":" in scheme:
                        raise ValueError(f"cannot store {scheme} {keyword} {value} {meaning!r}")
                by_keyword.setdefault(f"{scheme}:{keyword}", f"{value}\t{meaning}")
                by_value.setdefault(f"{scheme}:{value}", meaning)
    lines = [f"DICOM code dictionary (PS3.16) from pydicom {pydicom.__version__}", "\t".join(schemes)]
    for table in (by_value, by_keyword):
        for key, item in table.items():
            lines += [key, item]
        lines.append("")
    return "\n".join(lines) + "\n"


def write_table(path: Path = TABLE) -> None:
    path.write_bytes(table_text().encode("utf-8"))


if __name__ == "__main__":  # pragma: no cover
    write_table()
    print(f"wrote {TABLE}")
