"""Seeded random indels, MNVs and SNVs over every panel CDS in both builds: the engine must
describe each coding change without failing, and its protein change must fit the alleles."""

import numpy as np
import pandas as pd
import pytest

from krasannot.annotate.normalize import trim_alleles
from krasannot.annotate.pipeline import annotate_calls
from krasannot.reference.bundle import reverse_complement, translate


def random_calls(panel, rng, per_transcript=100):
    rows = []
    for tx in panel.transcripts:
        for _ in range(per_transcript):
            c = int(rng.integers(1, tx.cds_length + 1))      # anywhere in the CDS, stop codon included
            g = int(tx.tx_to_genomic(np.array([tx.cds_tx_first + c - 1]))[0])
            kind = rng.choice(["snv", "mnv", "del", "ins", "delins"])
            ref_len = {"snv": 1, "mnv": 2, "del": int(rng.integers(2, 8)), "ins": 1, "delins": 3}[kind]
            ref = panel.genome_bases(tx.chrom, g, g + ref_len - 1)
            if "N" in ref:
                continue
            bases = "".join(rng.choice(list("ACGT"), size=6))
            alt = {"snv": bases[0] if bases[0] != ref else "A" if ref != "A" else "C",
                   "mnv": bases[:2], "del": ref[0], "ins": ref + bases[:int(rng.integers(1, 7))],
                   "delins": bases[:int(rng.integers(1, 6))]}[kind]
            if alt != ref:
                rows.append((f"s{len(rows)}", tx.chrom, g, ref, alt))
    return pd.DataFrame(rows, columns=["sample", "chrom", "pos", "ref", "alt"])


@pytest.mark.parametrize("build", ["GRCh37", "GRCh38"])
def test_random_coding_changes_are_all_described(panels, build):
    panel = panels[build]
    calls = random_calls(panel, np.random.default_rng(20261121))
    out = annotate_calls(calls, panel)
    coding = out[out["consequence"].str.contains(
        "missense|synonymous|stop_|start_lost|frameshift|inframe", regex=True)]
    assert len(out) == len(calls) and len(coding) > 2000
    assert (coding["hgvsp_short"] != "").all(), coding[coding["hgvsp_short"] == ""].head().to_string()
    # a frameshift's stated new stop is where the changed CDS (read on into the 3'UTR the
    # shipped gene regions know) really first stops
    filled = panel.filled_for(calls["chrom"].to_numpy(), calls["pos"].to_numpy())
    for row in coding[coding["hgvsp_short"].str.contains(r"fs\*\d", regex=True)].itertuples():
        tx = filled.by_gene[row.gene]
        pos, ref, alt = trim_alleles(int(row.pos), row.ref, row.alt)  # as the caller wrote it
        if tx.strand == "+":  # a deletion starts at pos; an insertion goes just before pos
            first_c = int(tx.genomic_to_tx(np.array([pos]))[0]) - tx.cds_tx_first + 1
        else:  # transcript order runs down the genome: an insertion before pos follows c(pos)
            last = pos + len(ref) - 1 if ref else pos
            first_c = int(tx.genomic_to_tx(np.array([last]))[0]) - tx.cds_tx_first + 1 + (0 if ref else 1)
            alt = reverse_complement(alt)
        cds = tx.cds[:first_c - 1] + alt + tx.cds[first_c - 1 + len(ref):] + tx.utr3
        first_stop = translate(cds).find("*") + 1
        changed = int(row.protein_position.split("-")[0])
        stated = int(row.hgvsp_short.rsplit("*", 1)[1])
        assert first_stop == changed + stated - 1, (row.gene, row.hgvsc, row.hgvsp_short, first_stop)
