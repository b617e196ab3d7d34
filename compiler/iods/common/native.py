"""Mark built datasets as already in Explicit VR Little Endian.

pydicom's writer runs an ambiguous-VR pass over every dataset (and every nested item) whose original
encoding differs from the file's; for a dataset built in memory that is always the case. Our builders
never create elements with ambiguous VRs (``US or SS``, ``OB or OW``...), so the pass only costs time:
for a thousand-item SR tree it is about a fifth of the writing. :func:`set_native_encoding` records
the encoding the file will have on the dataset and all its items, so the writer goes straight on.
"""

from __future__ import annotations

from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset

_SPECIFIC_CHARACTER_SET = 0x00080005
_setattr = object.__setattr__


def set_native_encoding(ds: Dataset) -> None:
    """Record Explicit VR Little Endian and each dataset's own character set as its original encoding,
    for ``ds`` and every item nested in it.

    Same as ``item.set_original_encoding(False, True, item._character_set)`` on each of them, with the
    attributes set directly (``Dataset.__setattr__`` hands these names to ``object.__setattr__``).
    """
    stack = [ds]
    while stack:
        item = stack.pop()
        elements = item._dict
        charset = item._character_set if _SPECIFIC_CHARACTER_SET in elements else item._parent_encoding
        _setattr(item, "_read_implicit", False)
        _setattr(item, "_read_little", True)
        if charset is not None:
            _setattr(item, "_read_charset", charset)
        for tag, elem in elements.items():
            if type(elem) is RawDataElement and elem.value is None:
                elem = item.get_item(tag)  # a deferred read, as Dataset.elements() does
            if elem.VR == "SQ" and isinstance(elem, DataElement):  # a raw (not yet read) sequence is left alone
                stack.extend(elem.value)
