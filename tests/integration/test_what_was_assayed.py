"""Issue 17: what a tumour-only VCF or MAF assayed (--targets, --gene-panel) and what is germline.

Through `krasannot run` / `annotate` + `match`, end to end; the MSK lung cohort part skips without ../shared.
"""

import gzip
import json
import os
from pathlib import Path

import pandas as pd
import pytest

from krasannot.cli import main
from krasannot.reference.bundle import load_bundled_panel

VCF_HEADER = """##fileformat=VCFv4.2
##contig=<ID=chr1,length=248956422>
##contig=<ID=chr5,length=181538259>
##contig=<ID=chr7,length=159345973>
##contig=<ID=chr12,length=133275309>
##contig=<ID=chr17,length=83257441>
##contig=<ID=chr19,length=58617616>
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">
##FORMAT=<ID=AF,Number=A,Type=Float,Description="Allele fraction">
##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">
"""
# GRCh38: APC c.4348C>T p.R1450*, TP53 c.524G>A p.R175H (the demo's COAD alleles)
CRC_RECORDS = ["chr5\t112839942\t.\tC\tT\t.\tPASS\t.\tGT:AD:AF:DP\t0/1:212,188:0.470:400",
               "chr17\t7675088\t.\tC\tT\t.\tPASS\t.\tGT:AD:AF:DP\t0/1:250,130:0.342:380"]
# KRAS p.G12C; TP53 p.P72R (rs1042522) and STK11 p.F354L (rs59912467) at the shipped list's GRCh38 positions
LUAD_RECORDS = ["chr12\t25245351\t.\tC\tA\t.\tPASS\t.\tGT:AD:AF:DP\t0/1:300,120:0.286:420",
                "chr17\t7676154\trs1042522\tG\tC\t.\tPASS\t.\tGT:AD:AF:DP\t0/1:190,210:0.525:400",
                "chr19\t1223126\trs59912467\tC\tG\t.\tPASS\t.\tGT:AD:AF:DP\t0/1:200,190:0.487:390"]


def write_vcf(path: Path, sample: str, records: list[str], samples: tuple[str, ...] = ()) -> Path:
    columns = "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", sample, *samples])
    path.write_text(VCF_HEADER + columns + "\n" + "\n".join(records) + "\n")
    return path


def exon_bed(path: Path, exons: dict[str, tuple[int, ...]], flank: int = 10, depth: float | None = None) -> Path:
    """A BED over the named exons of the GRCh38 bundle transcripts (0-based start, 10 bp flanks)."""
    panel = load_bundled_panel("GRCh38")
    lines = []
    for gene, numbers in exons.items():
        tx = panel.by_gene[gene]
        for n in numbers:
            start, end = tx.exons[n - 1]
            lines.append(f"chr{tx.chrom}\t{start - 1 - flank}\t{end + flank}"
                         + (f"\t{depth:g}" if depth is not None else ""))
    path.write_text("\n".join(lines) + "\n")
    return path


CRC_EXONS = {"KRAS": (2, 3, 4), "NRAS": (2, 3, 4), "BRAF": (15,)}


def run(tmp_path: Path, vcf: Path, sample: str, tumour: str, *extra: str) -> dict:
    outdir = tmp_path / f"out-{sample}-{len(extra)}"
    code = main(["run", str(vcf), "--sample", sample, "--tumor-type", tumour, "--outdir", str(outdir),
                 "--reproducible", *extra])
    assert code == 0
    report = json.loads((outdir / f"{sample}.report.json").read_text())
    report["_annotated"] = pd.read_csv(outdir / f"{sample}.annotated.tsv", sep="\t", dtype=str, keep_default_na=False)
    return report


def matches_of(report: dict) -> dict[str, str]:
    return {m["therapy"]: m["assessment"] for g in report["matches"] for m in g["matches"]
            if m["direction"] == "sensitive"}


def test_crc_vcf_with_targets_over_ras_braf_exons_matches_anti_egfr(tmp_path):
    vcf = write_vcf(tmp_path / "crc.vcf", "CRC-1", CRC_RECORDS)
    bed = exon_bed(tmp_path / "crc.bed", CRC_EXONS)
    report = run(tmp_path, vcf, "CRC-1", "COADREAD", "--targets", str(bed))
    matched = matches_of(report)
    assert matched["cetuximab"] == "matched" and matched["panitumumab"] == "matched"
    assert report["key_findings"]["kras"]["status"] == "wild_type"
    by_gene = {a["gene"]: a for a in report["gene_assessment"]}
    assert by_gene["KRAS"]["status"] == "not_detected" and by_gene["KRAS"]["rests_on"] == "target BED"
    assert "G12" in by_gene["KRAS"]["assessment"] and "A146" in by_gene["KRAS"]["assessment"]
    assert by_gene["NRAS"]["status"] == "not_detected"
    assert "V600" in by_gene["BRAF"]["assessment"]
    assert by_gene["TP53"]["status"] == "detected" and "p.R175H" in by_gene["TP53"]["assessment"]
    assert by_gene["STK11"]["status"] == "not_assessed"  # not in the targets: no claim
    rows = report["_annotated"]
    kras = rows[(rows["gene"] == "KRAS") & (rows["detection"] == "not_detected")]
    assert set(kras["alteration"]) == {"KRAS G12", "KRAS G13", "KRAS A59", "KRAS Q61", "KRAS K117", "KRAS A146"}
    assert set(kras["source"]) == {"targets"}
    # the APC/TP53 calls are reported as before
    assert "APC p.R1450*" in report["result"]["statement"]


def test_crc_vcf_without_targets_is_not_assessed(tmp_path):
    vcf = write_vcf(tmp_path / "crc.vcf", "CRC-1", CRC_RECORDS)
    report = run(tmp_path, vcf, "CRC-1", "COADREAD")
    matched = matches_of(report)
    assert matched["cetuximab"] == "not_assessed" and matched["panitumumab"] == "not_assessed"
    assert report["key_findings"]["kras"]["status"] == "not_assessed"


def test_targets_missing_braf_exon_15_gives_no_anti_egfr_match(tmp_path):
    vcf = write_vcf(tmp_path / "crc.vcf", "CRC-1", CRC_RECORDS)
    bed = exon_bed(tmp_path / "ras.bed", {"KRAS": (2, 3, 4), "NRAS": (2, 3, 4)})
    matched = matches_of(run(tmp_path, vcf, "CRC-1", "COADREAD", "--targets", str(bed)))
    assert matched["cetuximab"] == "not_assessed"


def test_shallow_targets_are_not_assessed(tmp_path):
    """A depth column below --min-target-depth: the codons are inside but not assessed."""
    vcf = write_vcf(tmp_path / "crc.vcf", "CRC-1", CRC_RECORDS)
    bed = exon_bed(tmp_path / "crc.depth.bed", CRC_EXONS, depth=40)
    shallow = run(tmp_path, vcf, "CRC-1", "COADREAD", "--targets", str(bed))
    assert matches_of(shallow)["cetuximab"] == "not_assessed"
    rows = shallow["_annotated"]
    g12 = rows[rows["alteration"] == "KRAS G12"]
    assert list(g12["detection"]) == ["not_assessed"]
    assert "depth 40 below the minimum 60" in g12["status_detail"].iloc[0]
    assert any(r["region"] == "KRAS G12" for r in shallow["not_assessed"])
    deep_enough = run(tmp_path, vcf, "CRC-1", "COADREAD", "--targets", str(bed), "--min-target-depth", "30")
    assert matches_of(deep_enough)["cetuximab"] == "matched"


def test_mosdepth_regions_file_gives_depth(tmp_path):
    """mosdepth --by regions.bed.gz: chrom, start, end, name, mean depth (gzipped)."""
    vcf = write_vcf(tmp_path / "crc.vcf", "CRC-1", CRC_RECORDS)
    plain = exon_bed(tmp_path / "crc.bed", CRC_EXONS).read_text().splitlines()
    text = "".join(f"{line}\tregion{i}\t{250.5 if i else 12.0}\n" for i, line in enumerate(plain))
    path = tmp_path / "sample.regions.bed.gz"
    with gzip.open(path, "wt") as handle:
        handle.write(text)
    report = run(tmp_path, vcf, "CRC-1", "COADREAD", "--targets", str(path))
    rows = report["_annotated"]
    assert rows.loc[rows["alteration"] == "KRAS G12", "detection"].tolist() == ["not_assessed"]  # region0: 12x
    assert rows.loc[rows["alteration"] == "KRAS Q61", "detection"].tolist() == ["not_detected"]  # exon 3: 250x
    assert matches_of(report)["cetuximab"] == "not_assessed"


def test_bad_targets_line_is_one_line_error(tmp_path, capsys):
    vcf = write_vcf(tmp_path / "crc.vcf", "CRC-1", CRC_RECORDS)
    bed = tmp_path / "bad.bed"
    bed.write_text("chr12\t25245263\t25245405\nchr12\tstart\n")
    code = main(["run", str(vcf), "--sample", "CRC-1", "--tumor-type", "COADREAD", "--outdir",
                 str(tmp_path / "out"), "--targets", str(bed)])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{bed}:2:" in err and "chrom, start and end" in err
    assert not (tmp_path / "out" / "CRC-1.report.html").exists()


def test_luad_tumour_only_polymorphisms_are_not_co_mutations(tmp_path):
    vcf = write_vcf(tmp_path / "luad.vcf", "LUAD-1", LUAD_RECORDS)
    report = run(tmp_path, vcf, "LUAD-1", "LUAD")
    comutations = report["key_findings"]["comutations"]
    assert comutations["TP53"]["status"] not in ("missense", "loss_of_function")
    assert comutations["STK11"]["status"] not in ("missense", "loss_of_function")
    assert comutations["TP53"]["calls"] == [] and comutations["STK11"]["calls"] == []
    others = {v["label"]: v for v in report["other_variants"]}
    assert others["TP53 p.P72R"]["origin"] == "germline_polymorphism"
    assert "common_germline_polymorphism" in others["TP53 p.P72R"]["caveats"]
    # STK11 F354L: ClinVar benign (in conflict), no population frequency in the shipped sources -> known benign
    assert others["STK11 p.F354L"]["origin"] == "known_benign"
    assert "known_benign" in others["STK11 p.F354L"]["caveats"]
    html = (tmp_path / "out-LUAD-1-0" / "LUAD-1.report.html").read_text()
    assert "common germline polymorphism" in html and "known benign" in html
    # no evidence entry fires on them: every matched call is the KRAS allele
    matched_calls = {m["matched_calls"] for g in report["matches"] for m in g["matches"] if m["matched_calls"]}
    assert matched_calls and all("P72R" not in c and "F354L" not in c for c in matched_calls)
    assert report["result"]["statement"].startswith("1 alteration found")
    assert report["key_findings"]["kras"]["alleles"] == ["G12C"]


def test_possible_germline_caveat_in_tumour_only_and_normal_decides(tmp_path):
    """TP53 R175H at VAF 0.51 tumour-only: 'possible germline'; with a matched normal at VAF 0.45: germline."""
    record = "chr17\t7675088\t.\tC\tT\t.\tPASS\t.\tGT:AD:AF:DP\t0/1:186,194:0.511:380"
    tumour_only = run(tmp_path, write_vcf(tmp_path / "t.vcf", "T-1", [record]), "T-1", "LUAD")
    tp53 = tumour_only["key_findings"]["comutations"]["TP53"]
    assert tp53["status"] == "missense"  # a caveat, never a filter
    assert "possible_germline" in tp53["calls"][0]["caveats"]
    paired = write_vcf(tmp_path / "tn.vcf", "TUMOR", [record + "\t0/1:110,90:0.45:200"], samples=("NORMAL",))
    text = paired.read_text().replace("##FORMAT=<ID=GT", "##normal_sample=NORMAL\n##tumor_sample=TUMOR\n##FORMAT=<ID=GT", 1)
    paired.write_text(text)
    report = run(tmp_path, paired, "T-2", "LUAD")
    call = report["key_findings"]["comutations"]["TP53"]["calls"][0]
    assert call["origin"] == "germline" and "germline" in call["caveats"]
    assert "possible_germline" not in call["caveats"]
    somatic = write_vcf(tmp_path / "ts.vcf", "TUMOR", [record + "\t0/0:200,0:0.0:200"], samples=("NORMAL",))
    somatic.write_text(somatic.read_text().replace("##FORMAT=<ID=GT", "##normal_sample=NORMAL\n##FORMAT=<ID=GT", 1))
    call = run(tmp_path, somatic, "T-3", "LUAD")["key_findings"]["comutations"]["TP53"]["calls"][0]
    assert call["origin"] == "somatic" and not {"germline", "possible_germline"} & set(call["caveats"])


# --- MSK lung cohort with its gene-panel matrix ------------------------------------------------
def shared_dir() -> Path:
    env = os.environ.get("KRASANNOT_SHARED")
    return Path(env) if env else Path(__file__).resolve().parents[2].parent / "shared"


PROTEIN_ALTERING_MAF = {"Missense_Mutation", "Nonsense_Mutation", "Frame_Shift_Del", "Frame_Shift_Ins",
                        "In_Frame_Del", "In_Frame_Ins", "Splice_Site", "Translation_Start_Site", "Nonstop_Mutation"}


def test_msk_lung_kras_wild_type_assessed_equals_panel_kras_minus_mutant(tmp_path):
    study = shared_dir() / "validation" / "lung_msk_mind_2020"
    if not (study / "data_gene_panel_matrix.txt").is_file():
        pytest.skip("shared validation data not found")
    maf, matrix = study / "data_mutations.txt", study / "data_gene_panel_matrix.txt"
    out = tmp_path / "msk.tsv"
    assert main(["annotate", str(maf), "--gene-panel", str(matrix), "--out", str(out)]) == 0
    assert main(["match", str(out), "--tumor-type", "LUAD", "--out", str(tmp_path / "m.tsv")]) == 0
    summary = pd.read_csv(tmp_path / "m.samples.tsv", sep="\t", dtype=str, keep_default_na=False)

    # independently: plain parsing of the matrix, the shipped panel files and the MAF
    lists = {}
    for path in (Path(__file__).resolve().parents[2] / "resources" / "gene_panels").glob("data_gene_panel_*.txt"):
        fields = dict(line.split(": ", 1) for line in path.read_text().splitlines() if ": " in line)
        lists[fields["stable_id"]] = set(fields["gene_list"].split("\t"))
    panel_of = dict(line.split("\t")[:2] for line in matrix.read_text().splitlines()[1:])
    maf_rows = [line.split("\t") for line in maf.read_text().splitlines() if not line.startswith("#")]
    header, body = maf_rows[0], maf_rows[1:]
    col = {name: header.index(name) for name in ("Hugo_Symbol", "Tumor_Sample_Barcode", "Variant_Classification")}
    samples = {r[col["Tumor_Sample_Barcode"]] for r in body}
    kras_mutant = {r[col["Tumor_Sample_Barcode"]] for r in body
                   if r[col["Hugo_Symbol"]] == "KRAS" and r[col["Variant_Classification"]] in PROTEIN_ALTERING_MAF}
    panel_lists_kras = {s for s in samples if "KRAS" in lists.get(panel_of.get(s, ""), set())}
    expected = len(panel_lists_kras - kras_mutant)

    wild_type = summary.loc[summary["kras_status"] == "wild_type", "sample"]
    assert len(wild_type) == expected
    assert set(wild_type) == panel_lists_kras - kras_mutant
    assert expected > 100  # most of the cohort: the check is not vacuous
    # a sample outside the matrix (or with no panel) stays not assessed, never wild-type
    assert set(summary.loc[summary["kras_status"] == "not_assessed", "sample"]) == samples - panel_lists_kras - kras_mutant
    # gene-level assessment of the co-mutation genes too (all three MSK-IMPACT panels list them)
    assert (summary["tp53_status"] != "not_assessed").all()


def test_annotate_with_targets_records_what_assessment_rests_on(tmp_path):
    vcf = write_vcf(tmp_path / "crc.vcf", "CRC-1", CRC_RECORDS)
    bed = exon_bed(tmp_path / "crc.bed", CRC_EXONS)
    out = tmp_path / "crc.tsv"
    assert main(["annotate", str(vcf), "--targets", str(bed), "--out", str(out)]) == 0
    summary = json.loads((tmp_path / "crc.summary.json").read_text())
    assert summary["assessed_by"] == [{"kind": "targets", "path": str(bed), "level": "codon", "min_depth": None,
                                       "depth_given": False}]
    maf = tmp_path / "crc.maf"
    assert main(["annotate", str(vcf), "--targets", str(bed), "--out", str(maf)]) == 0
    body = [line.split("\t") for line in maf.read_text().splitlines() if not line.startswith("#")]
    # a MAF lists what was found: the assay's not_detected rows stay in the TSV only
    assert [(r[0], r[8]) for r in body[1:]] == [("APC", "Nonsense_Mutation"), ("TP53", "Missense_Mutation")]


def test_run_one_msk_sample_renamed_still_finds_its_panel(tmp_path):
    """run --input-sample BARCODE --sample ID: the matrix names the barcode, the report the ID."""
    study = shared_dir() / "validation" / "lung_msk_mind_2020"
    if not (study / "data_gene_panel_matrix.txt").is_file():
        pytest.skip("shared validation data not found")
    report = run(tmp_path, study / "data_mutations.txt", "PT1", "LUAD", "--input-sample", "P-0030323-T01-IM6",
                 "--gene-panel", str(study / "data_gene_panel_matrix.txt"))
    by_gene = {a["gene"]: a for a in report["gene_assessment"]}
    assert by_gene["STK11"] == {"gene": "STK11", "status": "not_detected", "rests_on": "panel gene list",
                                "assessment": "not detected in the assayed regions (whole gene)"}
    assert report["key_findings"]["comutations"]["STK11"]["status"] == "wild_type"


def test_sample_sheet_targets_column_reaches_annotate(tmp_path):
    """The sheet's `targets` column (relative to the sheet) becomes annotate's --targets; a missing file
    is refused with its line and column."""
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[2]
    snakemake = Path(sys.executable).parent / "snakemake"
    if not snakemake.exists():
        pytest.skip("snakemake is not installed beside this Python")
    sheet_dir = tmp_path / "sheet"
    sheet_dir.mkdir()
    write_vcf(sheet_dir / "crc.vcf", "CRC-1", CRC_RECORDS)
    exon_bed(sheet_dir / "crc.bed", CRC_EXONS)
    sheet = sheet_dir / "samples.tsv"
    header = "sample_id\tpatient_id\ttumor_type\tspecimen\ttimepoint\tbuild\tvcf\ttargets\n"
    sheet.write_text(header + "CRC-1\tP1\tCOADREAD\ttissue\tbaseline\tGRCh38\tcrc.vcf\tcrc.bed\n")
    config = (repo / "config.yaml").read_text().replace("samples: resources/demo/samples.tsv", f"samples: {sheet}")
    (tmp_path / "config.yaml").write_text(config)
    command = [str(snakemake), "-s", str(repo / "Snakefile"), "-n", "-p", "--cores", "1",
               "results/annotate/CRC-1/CRC-1.annotated.tsv"]
    run = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    text = run.stdout + run.stderr
    assert run.returncode == 0, text
    assert f"--targets {sheet_dir / 'crc.bed'}" in text
    sheet.write_text(header + "CRC-1\tP1\tCOADREAD\ttissue\tbaseline\tGRCh38\tcrc.vcf\tnone.bed\n")
    run = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert run.returncode != 0
    assert f"{sheet} line 2 (sample CRC-1), column targets: none.bed not found" in run.stdout + run.stderr
