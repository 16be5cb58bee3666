"""One scenario per seed rule: a small VCF (or ctDNA table) with real coordinates from the bundle,
annotated and matched through the command line, asserting the exact therapies and directions and
that wrong therapies are absent."""

import pandas as pd
import pytest

from krasannot.cli import main
from krasannot.reference.backmap import back_map
from krasannot.reference.bundle import load_bundled_panel

HEADER = ("##fileformat=VCFv4.2\n##FILTER=<ID=PASS,Description=\"All filters passed\">\n"
          "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">\n"
          "##FORMAT=<ID=AD,Number=R,Type=Integer,Description=\"Allelic depths\">\n"
          "##FORMAT=<ID=AF,Number=A,Type=Float,Description=\"Allele fraction\">\n"
          "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tTUMOR\n")


def write_vcf(path, alterations, build="GRCh38"):
    """A Mutect2-like VCF of `alterations` ('KRAS G12C' or ('KRAS G12C', vaf)) placed through the bundle."""
    panel = load_bundled_panel(build)
    lines = []
    for item in alterations:
        text, vaf = (item, 0.3) if isinstance(item, str) else item
        placed = back_map(text, text.split()[0], panel)
        ref, alt, pos = placed.ref, placed.alt, placed.pos
        if not ref or not alt:  # VCF indels carry the base before them
            pos -= 1
            anchor = panel.genome_bases(placed.chrom, pos, pos)
            ref, alt = anchor + ref, anchor + alt
        alt_reads = round(200 * vaf)
        lines.append(f"chr{placed.chrom}\t{pos}\t.\t{ref}\t{alt}\t.\tPASS\t.\tGT:AD:AF\t0/1:{200 - alt_reads},{alt_reads}:{vaf}")
    path.write_text(HEADER + "\n".join(sorted(lines, key=lambda l: (l.split()[0], int(l.split()[1])))) + "\n")
    return path


def annotate_and_match(tmp_path, inputs, tumor_type, *options, build="GRCh38"):
    """Inputs of one sample: the VCF's TUMOR column, and tables read as sample TUMOR."""
    annotated = tmp_path / "a.tsv"
    assert main(["annotate", *map(str, inputs), "--build", build, "--input-sample", "TUMOR", "--out", str(annotated)]) == 0
    out = tmp_path / "m.tsv"
    assert main(["match", str(annotated), "--tumor-type", tumor_type, "--out", str(out), *options]) == 0
    matches = pd.read_csv(out, sep="\t", dtype=str, keep_default_na=False)
    summary = pd.read_csv(tmp_path / "m.samples.tsv", sep="\t", dtype=str, keep_default_na=False)
    return matches, summary.iloc[0]


def therapies(matches, direction, assessment="matched"):
    rows = matches[(matches["direction"] == direction) & (matches["assessment"] == assessment)]
    return set(rows["therapy"])


def level_of(matches, therapy, direction="sensitive"):
    rows = matches[(matches["therapy"] == therapy) & (matches["direction"] == direction)]
    return rows["level"].tolist()


RAS_BRAF_NOT_DETECTED = ("gene\talteration\tvaf\n"
                         "KRAS/NRAS\tG12/G13/A59/Q61/K117/A146 not detected\t\n"
                         "BRAF\tV600 not detected\t\n")


@pytest.mark.parametrize("build", ["GRCh37", "GRCh38"])
def test_luad_kras_g12c_gets_sotorasib_and_adagrasib(tmp_path, build):
    vcf = write_vcf(tmp_path / "t.vcf", ["KRAS G12C", "TP53 R273H"], build)
    matches, summary = annotate_and_match(tmp_path, [vcf], "LUAD", build=build)
    assert {"sotorasib", "adagrasib"} <= therapies(matches, "sensitive")
    assert level_of(matches, "sotorasib") == ["approved"] and level_of(matches, "adagrasib") == ["approved"]
    assert not {"cetuximab", "panitumumab", "osimertinib"} & therapies(matches, "sensitive")
    assert summary["kras_status"] == "G12C" and summary["tp53_status"] == "missense"
    sotorasib = matches[matches["therapy"] == "sotorasib"].iloc[0]
    assert "FDA" in sotorasib["citations"] and "NCT03600883" in sotorasib["citations"]


def test_luad_kras_g12d_has_no_g12c_inhibitor(tmp_path):
    vcf = write_vcf(tmp_path / "t.vcf", ["KRAS G12D"])
    matches, summary = annotate_and_match(tmp_path, [vcf], "LUAD")
    assert not {"sotorasib", "adagrasib", "divarasib"} & therapies(matches, "sensitive")
    assert level_of(matches, "MRTX1133") == ["investigational"]
    assert summary["kras_status"] == "G12D"


def test_luad_g12c_with_stk11_or_keap1_loss_notes_poor_immunotherapy_outcome(tmp_path):
    vcf = write_vcf(tmp_path / "t.vcf", ["KRAS G12C", "STK11 Q37*"])
    matches, summary = annotate_and_match(tmp_path, [vcf], "LUAD")
    # poor outcome on anti-PD-(L)1 is prognostic (with its hazard ratio), never "resistant"
    assert therapies(matches, "resistant") == set()
    assert "anti-PD-1/PD-L1 antibodies" in therapies(matches, "prognostic")
    prognostic = matches[matches["evidence_id"] == "luad-kras-stk11-anti-pd-l1-poor-outcome"].iloc[0]
    assert "HR 2.04" in prognostic["summary"] and prognostic["level"] == "prognostic_clinical"
    stk11 = matches[matches["evidence_id"] == "nsclc-kras-g12c-stk11-adagrasib"]
    assert len(stk11) == 1 and "STK11 p.Q37*" in stk11.iloc[0]["matched_calls"]
    assert summary["stk11_status"] == "loss_of_function"
    (tmp_path / "k").mkdir()
    vcf = write_vcf(tmp_path / "k" / "t.vcf", ["KRAS G12C", "KEAP1 R470*"])
    matches, summary = annotate_and_match(tmp_path / "k", [vcf], "LUAD")
    hr = matches[matches["evidence_id"] == "luad-kras-keap1-anti-pd-l1-poor-outcome"]
    assert len(hr) == 1 and summary["keap1_status"] == "loss_of_function"


def test_acquired_resistance_after_sotorasib(tmp_path):
    vcf = write_vcf(tmp_path / "t.vcf", [("KRAS G12C", 0.2), ("KRAS Y96D", 0.03)])
    cn = tmp_path / "cn.tsv"
    cn.write_text("gene\talteration\ttype\nMET\tMET amplification\tCNA\n")
    matches, summary = annotate_and_match(tmp_path, [vcf, cn], "LUAD", "--prior-therapy", "sotorasib")
    resistant = matches[(matches["direction"] == "resistant") & (matches["therapy"] == "sotorasib")]
    assert "KRAS p.Y96D (VAF 0.03)" in set(resistant["matched_calls"])
    assert "MET amplification" in set(resistant["matched_calls"])
    sensitive = matches[(matches["therapy"] == "sotorasib") & (matches["direction"] == "sensitive")].iloc[0]
    assert "resistant for sotorasib" in sensitive["conflict"]
    assert "progressed on sotorasib" in sensitive["caveats"]
    assert "KRAS p.Y96D" in summary["resistance_alterations"] and "MET amplification" in summary[
        "resistance_alterations"]
    # the same alleles without the prior therapy: no acquired-resistance entry fires
    (tmp_path / "naive").mkdir()
    naive, _ = annotate_and_match(tmp_path / "naive", [vcf, cn], "LUAD")
    assert "sotorasib" not in therapies(naive, "resistant")


def test_colorectal_g12c_combinations_and_no_anti_egfr_monotherapy(tmp_path):
    vcf = write_vcf(tmp_path / "t.vcf", ["KRAS G12C"])
    matches, _ = annotate_and_match(tmp_path, [vcf], "COADREAD")
    sensitive = therapies(matches, "sensitive")
    assert {"adagrasib + cetuximab", "sotorasib + panitumumab"} <= sensitive
    assert not {"cetuximab", "panitumumab"} & sensitive
    assert {"cetuximab", "panitumumab"} <= therapies(matches, "resistant")
    assert level_of(matches, "sotorasib") == ["clinical"]  # monotherapy: weak evidence, stated as such


def test_colorectal_ras_braf_wild_type_only_where_assayed(tmp_path):
    vcf = write_vcf(tmp_path / "t.vcf", ["TP53 R273H", "APC R1450*"])
    matches, summary = annotate_and_match(tmp_path, [vcf], "COAD")
    assert {"cetuximab", "panitumumab"} <= therapies(matches, "sensitive", "not_assessed")
    assert not {"cetuximab", "panitumumab"} & therapies(matches, "sensitive")
    assert summary["kras_status"] == "not_assessed"
    (tmp_path / "wt").mkdir()
    assay = tmp_path / "wt" / "ras.ctdna.tsv"
    assay.write_text(RAS_BRAF_NOT_DETECTED)
    matches, summary = annotate_and_match(tmp_path / "wt", [vcf, assay], "COAD")
    assert {"cetuximab", "panitumumab"} <= therapies(matches, "sensitive")
    assert summary["kras_status"] == "wild_type"


def test_colorectal_braf_v600e_and_erbb2_amplification(tmp_path):
    vcf = write_vcf(tmp_path / "t.vcf", ["BRAF V600E"])
    matches, _ = annotate_and_match(tmp_path, [vcf], "COADREAD")
    assert "encorafenib + cetuximab" in therapies(matches, "sensitive")
    assert "dabrafenib + trametinib" not in therapies(matches, "sensitive")  # the agnostic label excludes CRC
    (tmp_path / "her2").mkdir()
    assay = tmp_path / "her2" / "ras.ctdna.tsv"
    assay.write_text(RAS_BRAF_NOT_DETECTED + "ERBB2\tERBB2 amplification\t\n")
    matches, _ = annotate_and_match(tmp_path / "her2", [assay], "COADREAD")
    assert {"tucatinib + trastuzumab", "trastuzumab + lapatinib", "pertuzumab + trastuzumab"} <= therapies(
        matches, "sensitive")
    assert {"cetuximab", "panitumumab"} <= therapies(matches, "resistant")  # ERBB2 amplification


def test_egfr_s492r_after_cetuximab(tmp_path):
    vcf = write_vcf(tmp_path / "t.vcf", ["EGFR S492R"])
    matches, _ = annotate_and_match(tmp_path, [vcf], "COADREAD", "--prior-therapy", "cetuximab")
    assert "cetuximab" in therapies(matches, "resistant")
    assert "panitumumab" not in therapies(matches, "resistant")


def test_plasma_rechallenge_needs_plasma_and_prior_anti_egfr(tmp_path):
    table = tmp_path / "plasma.ctdna.tsv"
    table.write_text(RAS_BRAF_NOT_DETECTED)
    matches, _ = annotate_and_match(tmp_path, [table], "COADREAD", "--specimen", "plasma",
                                    "--prior-therapy", "anti_EGFR")
    assert {"cetuximab + irinotecan", "cetuximab + avelumab"} <= therapies(matches, "sensitive")
    (tmp_path / "tissue").mkdir()
    matches, _ = annotate_and_match(tmp_path / "tissue", [table], "COADREAD", "--prior-therapy", "anti_EGFR")
    assert not {"cetuximab + irinotecan", "cetuximab + avelumab"} & therapies(matches, "sensitive")


def test_pancreatic_g12c_ranks_below_lung_and_germline_brca_gets_olaparib(tmp_path):
    vcf = write_vcf(tmp_path / "t.vcf", ["KRAS G12C"])
    matches, _ = annotate_and_match(tmp_path, [vcf], "PAAD")
    assert level_of(matches, "sotorasib") == ["clinical"]  # LUAD: approved
    table = tmp_path / "germline.ctdna.tsv"
    table.write_text("gene\talteration\torigin\nBRCA2\tc.5946del\tgermline\n")
    (tmp_path / "g").mkdir()
    matches, _ = annotate_and_match(tmp_path / "g", [table], "PAAD")
    assert "olaparib" in therapies(matches, "sensitive")


def test_standard_nsclc_drivers(tmp_path):
    cases = {"EGFR L858R": "osimertinib", "EGFR p.E746_A750del": "osimertinib", "EGFR T790M": "osimertinib",
             "BRAF V600E": "dabrafenib + trametinib", "MET c.3028+1G>A": "capmatinib"}
    for i, (alteration, therapy) in enumerate(cases.items()):
        (tmp_path / str(i)).mkdir()
        vcf = write_vcf(tmp_path / str(i) / "t.vcf", [alteration])
        matches, _ = annotate_and_match(tmp_path / str(i), [vcf], "LUAD")
        assert therapy in therapies(matches, "sensitive"), alteration
    fusion = tmp_path / "alk.ctdna.tsv"
    fusion.write_text("gene\talteration\ttype\nALK\tEML4-ALK\tfusion\nNTRK1\tTPM3-NTRK1\tfusion\n")
    (tmp_path / "f").mkdir()
    matches, _ = annotate_and_match(tmp_path / "f", [fusion], "LUAD")
    assert {"alectinib", "lorlatinib", "larotrectinib", "entrectinib"} <= therapies(matches, "sensitive")


def test_tumour_agnostic_msi_and_tmb(tmp_path):
    vcf = write_vcf(tmp_path / "t.vcf", ["TP53 R273H"])
    matches, _ = annotate_and_match(tmp_path, [vcf], "PAAD", "--msi-high", "--tmb", "12")
    assert {"pembrolizumab", "dostarlimab"} <= therapies(matches, "sensitive")
    (tmp_path / "n").mkdir()
    matches, _ = annotate_and_match(tmp_path / "n", [vcf], "PAAD")
    assert not {"pembrolizumab", "dostarlimab"} & therapies(matches, "sensitive")


def test_plasma_low_vaf_tp53_is_flagged_possible_clonal_haematopoiesis(tmp_path):
    table = tmp_path / "p.ctdna.tsv"
    table.write_text("gene\talteration\tvaf\nTP53\tR273H\t0.008\nKRAS\tG12D\t0.02\n")
    annotated = tmp_path / "a.tsv"
    assert main(["annotate", str(table), "--build", "GRCh38", "--out", str(annotated)]) == 0
    rows = pd.read_csv(annotated, sep="\t", dtype=str, keep_default_na=False).set_index("gene")
    assert "possible_clonal_haematopoiesis" in rows.at["TP53", "caveats"]
    assert "possible_clonal_haematopoiesis" not in rows.at["KRAS", "caveats"]


def test_unknown_tumour_type_and_prior_therapy_are_clear_errors(tmp_path, capsys):
    vcf = write_vcf(tmp_path / "t.vcf", ["KRAS G12C"])
    annotated = tmp_path / "a.tsv"
    assert main(["annotate", str(vcf), "--out", str(annotated)]) == 0
    assert main(["match", str(annotated), "--tumor-type", "LUNGADENO", "--out", str(tmp_path / "m.tsv")]) == 2
    assert "unknown tumour type 'LUNGADENO'" in capsys.readouterr().err
    assert main(["match", str(annotated), "--tumor-type", "LUAD", "--prior-therapy", "sotorasb",
                 "--out", str(tmp_path / "m.tsv")]) == 2
    assert "did you mean sotorasib" in capsys.readouterr().err
    assert not (tmp_path / "m.tsv").exists()
