"""Key Object Selection Document (PS3.3 A.35.4, PS3.16 TID 2010): flag the instances that matter.

- :mod:`.document`: :class:`KeyObjectSelectionDocument`, :class:`SelectedInstance`, :func:`kosread`
- :mod:`.codes`: CID 7010 titles and the title modifiers of CID 7011/7012
"""

from .document import KeyObjectSelectionDocument, SelectedInstance, kosread

__all__ = ["KeyObjectSelectionDocument", "SelectedInstance", "kosread"]
