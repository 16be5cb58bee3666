"""A 5M-record bgzipped, indexed VCF, generated here, annotated through the index fast path: only the
panel regions are read, so the answer is the panel's calls and the run does not scale with the file.
(Peak memory and time are printed by bench/annotate_bench.py, not asserted here.)"""

import numpy as np
import pandas as pd
import pysam

from krasannot.cli import main
from krasannot.reference.bundle import load_bundled_panel

N_RECORDS = 5_000_000
HEADER = "##fileformat=VCFv4.2\n##contig=<ID=chr12,length=133275309>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"


def test_five_million_record_vcf_through_the_index(tmp_path):
    panel = load_bundled_panel("GRCh38")
    kras = panel.by_gene["KRAS"]
    g12 = int(kras.tx_to_genomic(np.array([kras.cds_tx_first + 33]))[0])  # c.34, the first base of codon 12
    ref = panel.genome_bases("12", g12, g12)
    # 5M SNVs spread over chr12 away from its panel genes (KRAS, PTPN11), and one KRAS G12C record
    positions = np.sort(np.random.default_rng(7).choice(
        np.r_[1_000:25_000_000, 26_000_000:110_000_000], size=N_RECORDS - 1, replace=False))
    plain = tmp_path / "big.vcf"
    with open(plain, "w") as handle:
        handle.write(HEADER)
        before = positions[positions < g12]
        for chunk in np.array_split(before, 50):
            handle.write("".join(f"chr12\t{p}\t.\tA\tG\t.\tPASS\t.\n" for p in chunk))
        handle.write(f"chr12\t{g12}\t.\t{ref}\tA\t.\tPASS\t.\n")
        for chunk in np.array_split(positions[positions > g12], 50):
            handle.write("".join(f"chr12\t{p}\t.\tA\tG\t.\tPASS\t.\n" for p in chunk))
    gz = pysam.tabix_index(str(plain), preset="vcf", force=True)  # bgzips, then writes the .tbi
    out = tmp_path / "big.tsv"
    assert main(["annotate", gz, "--build", "GRCh38", "--out", str(out)]) == 0
    rows = pd.read_csv(out, sep="\t", dtype=str, keep_default_na=False)
    assert rows[["gene", "hgvsp_short", "status"]].values.tolist() == [["KRAS", "p.G12C", "annotated"]]
