"""Write the snapshot of a released evidence base: one row per entry and drug class with a content hash.

    python workflow/scripts/evidence_release_snapshot.py 51c4e1b            # a release commit of this repository
    python workflow/scripts/evidence_release_snapshot.py resources/evidence  # or an evidence directory

The snapshot goes to resources/evidence/releases/VERSION.tsv (VERSION from that kb.yaml), which
`krasannot kb show --changes` compares the current entries with. Run it once per release, on the
commit that carries the released files, before the next release's edits.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

from krasannot.evidence.kb import RELEASES_DIR, release_snapshot, write_snapshot

EVIDENCE = "resources/evidence"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", help="a git commit of this repository, or an evidence directory")
    parser.add_argument("--outdir", default=f"{EVIDENCE}/{RELEASES_DIR}", help="where VERSION.tsv is written")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        if Path(args.source).is_dir():
            directory, origin = Path(args.source), f"directory {args.source}"
        else:
            archive = subprocess.run(["git", "archive", args.source, EVIDENCE], check=True,
                                     capture_output=True).stdout
            with tarfile.open(fileobj=BytesIO(archive)) as tar:
                tar.extractall(tmp, filter="data")
            directory = Path(tmp) / EVIDENCE
            commit = subprocess.run(["git", "rev-parse", "--short", args.source], check=True, capture_output=True,
                                    text=True).stdout.strip()
            origin = f"git {commit}:{EVIDENCE}/"
        version, rows = release_snapshot(directory)
        out = Path(args.outdir) / f"{version}.tsv"
        out.parent.mkdir(parents=True, exist_ok=True)
        write_snapshot(rows, out, f"evidence base {version}: entry and drug-class content hashes (sha256 of the\n"
                                  f"YAML content without last_reviewed, first 16 hex digits), from {origin}\n"
                                  "written by workflow/scripts/evidence_release_snapshot.py; do not edit")
    print(f"{out}: {len(rows)} rows of evidence base {version}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
