"""Classification columns of the annotated table, computed by the engine on real bundle alleles."""

import pandas as pd

from krasannot.annotate.classify import classify_calls, summarize_samples
from krasannot.annotate.pipeline import annotate_calls
from krasannot.reference.backmap import back_map


def _classified(panels, texts, specimen="tissue", vaf=0.3, build="GRCh38"):
    panel = panels[build]
    rows = []
    for i, text in enumerate(texts):  # one sample each: two changes of one codon would merge into one allele
        placed = back_map(text, text.split()[0], panel)
        rows.append(dict(sample=f"S{i}", chrom=placed.chrom, pos=placed.pos, ref=placed.ref, alt=placed.alt,
                         filter="PASS", vaf=vaf))
    return classify_calls(annotate_calls(pd.DataFrame(rows), panel), specimen)


def test_classes_of_real_alleles(panels):
    for build in ("GRCh37", "GRCh38"):
        got = _classified(panels, ["KRAS G12C", "KRAS p.G12=", "STK11 Q37*", "KEAP1 G333C", "TP53 R273H",
                                   "EGFR p.E746_A750del", "BRAF V600E", "PIK3CA H1047R", "TP53 P72R",
                                   "STK11 D194Y", "STK11 D176N", "STK11 F354L", "KEAP1 R71L"], build=build)
        table = list(zip(got["hgvsp_short"], got["functional_class"], got["hotspot"], got["kras_allele"],
                         got["comutation"]))
        assert table == [
            ("p.G12C", "missense", True, "G12C", ""),
            ("p.G12=", "synonymous", False, "", ""),
            ("p.Q37*", "loss_of_function", False, "", "loss_of_function"),
            # a recurrent Kelch-domain KEAP1 missense is on the curated loss-of-function list
            ("p.G333C", "loss_of_function", False, "", "loss_of_function"),
            ("p.R273H", "missense", False, "", "missense"),
            ("p.E746_A750del", "inframe", True, "", ""),
            ("p.V600E", "missense", True, "", ""),
            ("p.H1047R", "missense", True, "", ""),
            # rs1042522, a common germline polymorphism (resources/germline): listed, never a co-mutation
            ("p.P72R", "missense", False, "", ""),
            ("p.D194Y", "loss_of_function", False, "", "loss_of_function"),   # DFG aspartate: kinase-dead
            ("p.D176N", "loss_of_function", False, "", "loss_of_function"),   # catalytic-loop aspartate
            # not on the loss list: a missense, not a loss; and this SNV is not the listed benign c.1062C>G
            ("p.F354L", "missense", False, "", "missense"),
            ("p.R71L", "missense", False, "", "missense"),
        ], build


def test_low_vaf_tp53_in_plasma_is_a_possible_clonal_haematopoiesis_call(panels):
    plasma = _classified(panels, ["TP53 R273H", "KRAS G12D"], specimen="plasma", vaf=0.02)
    assert plasma["caveats"].tolist() == ["low_vaf;possible_clonal_haematopoiesis", "low_vaf"]
    tissue = _classified(panels, ["TP53 R273H"], specimen="tissue", vaf=0.02)
    assert tissue["caveats"].tolist() == ["low_vaf"]
    high = _classified(panels, ["TP53 R273H"], specimen="plasma", vaf=0.3)
    assert high["caveats"].tolist() == [""]


def test_clonal_haematopoiesis_genes_come_from_the_cited_list(panels):
    from krasannot.annotate.classify import load_clonal_haematopoiesis_genes

    # Magee et al. 2025: >= 18% of plasma variants of CH origin in these genes, ~2-7% in the RAS/RAF/EGFR genes
    assert load_clonal_haematopoiesis_genes() == ("TP53", "BRCA2", "BRCA1", "ATM")
    plasma = _classified(panels, ["BRCA2 p.E1493*", "ATM p.R3008C", "NRAS Q61K", "BRAF V600E"],
                         specimen="plasma", vaf=0.03)
    assert plasma["caveats"].tolist() == ["low_vaf;possible_clonal_haematopoiesis",
                                          "low_vaf;possible_clonal_haematopoiesis", "low_vaf", "low_vaf"]
    # a germline-level BRCA2 call in plasma is not a CH suspect (it may be germline)
    germline_like = _classified(panels, ["BRCA2 p.E1493*"], specimen="plasma", vaf=0.48)
    assert germline_like["caveats"].tolist() == ["possible_germline"]


def test_possible_germline_is_a_caveat_near_50_or_100_percent_in_predisposition_genes(panels):
    """Tumour-only (origin not given): VAF 40-60 % or >= 90 % in TP53/BRCA2/STK11...; KRAS never."""
    for vaf, expected in ((0.5, "possible_germline"), (0.95, "possible_germline"), (0.3, ""), (0.7, "")):
        got = _classified(panels, ["TP53 R273H", "BRCA2 Q3026*", "KRAS G12C"], vaf=vaf)
        assert got["caveats"].tolist() == [expected, expected, ""], vaf
        assert got["comutation"].tolist()[0] == "missense"  # a caveat, never a filter


def test_summary_states_wild_type_only_where_assayed(panels):
    annotated = _classified(panels, ["KRAS G12C", "STK11 Q37*"]).assign(sample="S")
    summary = summarize_samples(annotated).iloc[0]
    assert (summary["kras_status"], summary["stk11_status"], summary["keap1_status"], summary["tp53_status"]) == (
        "G12C", "loss_of_function", "not_assessed", "not_assessed")
    gene_level = pd.DataFrame([dict(sample="S", gene="KEAP1", detection="not_detected", status="annotated",
                                    call_type="variant", filter="PASS")])
    both = pd.concat([annotated, classify_calls(gene_level)], ignore_index=True)
    assert summarize_samples(both).iloc[0]["keap1_status"] == "wild_type"


def test_curated_loss_of_function_missense_list_cites_a_source_for_each_row():
    from krasannot.annotate.classify import load_lof_missense

    table = load_lof_missense()
    assert {"STK11", "KEAP1"} <= set(table["gene"])
    assert {"D176", "D194"} <= set(table.loc[table["gene"] == "STK11", "change"])
    assert table["source"].str.len().gt(20).all()
    assert table["confirmed"].str.match(r"^(yes|no: .+)$").all()


def test_summary_gives_every_named_sample_a_row(panels):
    annotated = _classified(panels, ["KRAS G12C"]).assign(sample="S")
    summary = summarize_samples(annotated, samples=["S", "EMPTY"]).set_index("sample")
    assert summary.loc["EMPTY"].tolist() == ["not_assessed"] * 4 + [""]
    assert summary.at["S", "kras_status"] == "G12C"
