"""dcmspec: a declarative compiler for DICOM derived objects.

The builder layer (``dcmspec.iods``), ``dcmspec.spatial.Volume`` and the transformers are the Python
API; the pipeline stages are ``load`` -> ``validate`` -> ``resolve`` -> ``build`` -> ``write``.
Nothing heavy is imported here, so ``dcmspec --help`` starts fast.
"""

__version__ = "0.1.0"
