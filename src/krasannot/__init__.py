"""krasannot: KRAS-centred clinical variant annotation."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("krasannot")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
