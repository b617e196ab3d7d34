"""Algorithm Identification macro (PS3.3 Table 10-19)."""

from __future__ import annotations

from pydicom.dataset import Dataset

from ...errors import DicomConformanceError
from .codes import code_from_item, code_item
from .concept import Code, is_code
from .wrap import wrap_dataset


class AlgorithmIdentification(Dataset):
    """One item of an algorithm identification sequence (e.g. Segmentation Algorithm Identification).

    ``family`` (Algorithm Family Code Sequence), ``name`` (Algorithm Name) and ``version`` (Algorithm
    Version) are Type 1; ``parameters`` (Algorithm Parameters, LT), ``source`` (Algorithm Source, LO) and
    ``name_code`` (Algorithm Name Code Sequence) are Type 3.
    """

    def __init__(
        self,
        *,
        name: str,
        version: str,
        family: Code,
        parameters: str | None = None,
        source: str | None = None,
        name_code: Code | None = None,
    ) -> None:
        super().__init__()
        if not name or len(name) > 64:
            raise DicomConformanceError(
                f"Algorithm Name (0066,0036) must be a non-empty LO of at most 64 characters, got {name!r}"
            )
        if not version or len(version) > 64:
            raise DicomConformanceError(
                f"Algorithm Version (0066,0031) must be a non-empty LO of at most 64 characters, got {version!r}"
            )
        if not is_code(family):
            raise DicomConformanceError("Algorithm Family Code Sequence (0066,002F) needs a Code")
        if source is not None and len(source) > 64:
            raise DicomConformanceError("Algorithm Source (0024,0202) is an LO of at most 64 characters")
        self.AlgorithmFamilyCodeSequence = [code_item(family)]
        if name_code is not None:
            self.AlgorithmNameCodeSequence = [code_item(name_code)]
        self.AlgorithmName = name
        self.AlgorithmVersion = version
        if parameters:
            self.AlgorithmParameters = parameters
        if source:
            self.AlgorithmSource = source

    @classmethod
    def from_dataset(cls, item: Dataset) -> AlgorithmIdentification:
        """Wrap an existing item (copying its elements) without checking it."""
        return wrap_dataset(cls, item)

    @property
    def name(self) -> str:
        return str(self.AlgorithmName)

    @property
    def version(self) -> str:
        return str(self.AlgorithmVersion)

    @property
    def family(self) -> Code:
        return code_from_item(self.AlgorithmFamilyCodeSequence[0])

    @property
    def parameters(self) -> str | None:
        return self.get("AlgorithmParameters") or None

    @property
    def source(self) -> str | None:
        return self.get("AlgorithmSource") or None
