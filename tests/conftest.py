import os
from pathlib import Path

import pandas as pd
import pytest

from krasannot.annotate.pipeline import annotate_calls
from krasannot.reference.bundle import load_bundled_panel

REPO = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    """../shared beside the checkout (or $KRASANNOT_SHARED); tests that need it skip without it."""
    return Path(os.environ.get("KRASANNOT_SHARED", REPO.parent / "shared"))


@pytest.fixture(scope="session", autouse=True)
def private_cache_home(tmp_path_factory):
    """Checked evidence copies (evidence/checked.py) go to a session tmp folder, never the real home's cache;
    CLI subprocesses inherit it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
        yield


@pytest.fixture(scope="session")
def panels():
    return {b: load_bundled_panel(b) for b in ("GRCh37", "GRCh38")}


@pytest.fixture(scope="session")
def annotate_rows(panels):
    """annotate_rows(build, [(chrom, pos, ref, alt), ...], sample="S") -> annotated DataFrame."""
    def run(build, rows, sample="S"):
        calls = pd.DataFrame([(sample, *r) for r in rows], columns=["sample", "chrom", "pos", "ref", "alt"])
        other = panels["GRCh37" if build == "GRCh38" else "GRCh38"]
        return annotate_calls(calls, panels[build], other)
    return run
