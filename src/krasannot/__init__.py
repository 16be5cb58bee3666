"""krasannot: KRAS-centred clinical variant annotation.

The pipeline steps as Python functions are in `krasannot.api` (`from krasannot import api`;
`api.annotate`, `api.match`, `api.report`, `api.run`, `api.genotype`, `api.compare`). They are not
re-exported here: `krasannot.annotate`, `krasannot.report` and `krasannot.genotype` are the
packages of those steps, and `import krasannot` stays light (no pandas) for the command line.
"""

# the one place the version is written (pyproject.toml reads it); a literal, not importlib.metadata,
# which would cost every command more time than the rest of its start-up
__version__ = "0.1.0"
