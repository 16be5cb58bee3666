"""The README's demo command works and finds what the demo patient carries."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[2]


def test_readme_demo_command_annotates_the_demo_patient(tmp_path):
    readme = (REPO / "README.md").read_text()
    command = re.search(r"(krasannot annotate resources/demo/\S+ .*)", readme).group(1)
    args = command.split()[1:]
    out = tmp_path / "demo.tsv"
    args[args.index("--out") + 1] = str(out)
    result = subprocess.run([sys.executable, "-m", "krasannot.cli", *args], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    rows = pd.read_csv(out, sep="\t", dtype=str, keep_default_na=False)
    found = rows[rows.status == "annotated"].set_index("gene")["hgvsp_short"].to_dict()
    assert found == {"EGFR": "p.T790M", "KRAS": "p.G12C", "TP53": "p.R273H", "STK11": "p.Q37*", "KEAP1": "p.G333C"}
    assert (rows.status == "outside_panel").sum() == 0  # counted in the summary, listed only with --list-outside
    summary = json.loads(out.with_name("demo.summary.json").read_text())
    assert summary["rows_by_status"]["outside_panel"] == 3
    assert rows.loc[rows.gene == "EGFR", "filter"].item() == "weak_evidence"
