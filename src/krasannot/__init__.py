"""krasannot: KRAS-centred clinical variant annotation.

The pipeline steps as Python functions are in `krasannot.api` (`from krasannot import api`;
`api.annotate`, `api.match`, `api.report`, `api.run`, `api.genotype`, `api.compare`). They are not
re-exported here: `krasannot.annotate`, `krasannot.report` and `krasannot.genotype` are the
packages of those steps, and `import krasannot` stays light (no pandas) for the command line.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("krasannot")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
