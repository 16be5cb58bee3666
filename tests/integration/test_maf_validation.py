"""The MAF reader on real cBioPortal MAFs from the shared validation folder (skipped without it)."""

import math
import os
from pathlib import Path

import pytest

from krasannot import columns as C
from krasannot.annotate.pipeline import annotate_calls
from krasannot.io.maf import read_maf
from krasannot.reference.bundle import load_bundled_panel


def shared_dir() -> Path:
    env = os.environ.get("KRASANNOT_SHARED")
    return Path(env) if env else Path(__file__).resolve().parents[2].parent / "shared"


def validation_file(relative: str) -> Path:
    path = shared_dir() / "validation" / relative
    if not path.is_file():
        pytest.skip(f"shared validation data not found: {path}")
    return path


def raw_rows(path: Path) -> dict[int, dict[str, str]]:
    """line number -> row, read with plain string splitting (none of the reader's code)."""
    rows, header = {}, None
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            line = line.rstrip("\r\n")
            if not line or (header is None and line.startswith("#")):
                continue
            if header is None:
                header = line.split("\t")
                continue
            rows[number] = dict(zip(header, line.split("\t")))
    return rows


def test_msk_lung_every_row_read_and_kras_g12c_samples_agree():
    path = validation_file("lung_msk_mind_2020/data_mutations.txt")
    raw = raw_rows(path)
    read = read_maf(str(path))
    assert read.n_records == len(raw) == len(read.calls)
    assert read.calls[C.INPUT_LINE].tolist() == sorted(raw)
    assert read.builds == {"GRCh37"}
    assert (read.calls[C.STATUS].isin(["", "invalid_allele"])).all()

    expected = {r["Tumor_Sample_Barcode"] for r in raw.values()
                if r["Hugo_Symbol"] == "KRAS" and r["HGVSp_Short"] == "p.G12C"}
    annotated = annotate_calls(read.calls, load_bundled_panel("GRCh37"))
    ours = set(annotated.loc[(annotated[C.GENE] == "KRAS") & (annotated[C.HGVSP_SHORT] == "p.G12C"), C.SAMPLE])
    print(f"KRAS p.G12C samples: {len(ours)} by krasannot, {len(expected)} by the MAF's HGVSp_Short")
    assert len(expected) > 0
    assert len(ours) == len(expected)
    assert ours == expected


def test_csf_ctdna_vaf_from_raw_counts():
    path = validation_file("csf_ctdna/data_mutations.txt")
    raw = raw_rows(path)
    calls = read_maf(str(path)).calls.set_index(C.INPUT_LINE)
    assert len(calls) == len(raw)
    checked = 0
    lines = sorted(raw)
    for line in lines[::97] + [lines[-1]]:  # spread over the file, and its last row
        row = raw[line]
        alt = float(row["t_alt_count"])
        depth = float(row["t_depth"]) if row.get("t_depth", "").strip() else float(row["t_ref_count"]) + alt
        call = calls.loc[line]
        assert call[C.SAMPLE] == row["Tumor_Sample_Barcode"]
        assert call[C.ALT_DEPTH] == alt and call[C.DEPTH] == depth
        assert call[C.VAF] == pytest.approx(alt / depth) if depth else math.isnan(call[C.VAF])
        checked += 1
    assert checked >= 40
