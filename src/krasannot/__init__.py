"""krasannot: KRAS-centred clinical variant annotation.

The pipeline steps are importable from here (`krasannot.annotate`, `.match`, `.report`, `.run`,
`.genotype`, `.compare`; see `krasannot.api`). They are loaded on first use, so that
`import krasannot` (and the command line's start-up) does not import pandas.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("krasannot")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"

_API = ("annotate", "match", "report", "run", "genotype", "compare")
__all__ = ["__version__", *_API]


def __getattr__(name: str):
    if name in _API:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'krasannot' has no attribute {name!r}")
