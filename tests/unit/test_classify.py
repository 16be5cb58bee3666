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
                                   "EGFR p.E746_A750del", "BRAF V600E", "PIK3CA H1047R", "TP53 P72R"], build=build)
        table = list(zip(got["hgvsp_short"], got["functional_class"], got["hotspot"], got["kras_allele"],
                         got["comutation"]))
        assert table == [
            ("p.G12C", "missense", True, "G12C", ""),
            ("p.G12=", "synonymous", False, "", ""),
            ("p.Q37*", "loss_of_function", False, "", "loss_of_function"),
            ("p.G333C", "missense", False, "", "missense"),
            ("p.R273H", "missense", False, "", "missense"),
            ("p.E746_A750del", "inframe", True, "", ""),
            ("p.V600E", "missense", True, "", ""),
            ("p.H1047R", "missense", True, "", ""),
            ("p.P72R", "missense", False, "", "missense"),
        ], build


def test_low_vaf_tp53_in_plasma_is_a_possible_clonal_haematopoiesis_call(panels):
    plasma = _classified(panels, ["TP53 R273H", "KRAS G12D"], specimen="plasma", vaf=0.02)
    assert plasma["caveats"].tolist() == ["low_vaf;possible_clonal_haematopoiesis", "low_vaf"]
    tissue = _classified(panels, ["TP53 R273H"], specimen="tissue", vaf=0.02)
    assert tissue["caveats"].tolist() == ["low_vaf"]
    high = _classified(panels, ["TP53 R273H"], specimen="plasma", vaf=0.4)
    assert high["caveats"].tolist() == [""]


def test_summary_states_wild_type_only_where_assayed(panels):
    annotated = _classified(panels, ["KRAS G12C", "STK11 Q37*"]).assign(sample="S")
    summary = summarize_samples(annotated).iloc[0]
    assert (summary["kras_status"], summary["stk11_status"], summary["keap1_status"], summary["tp53_status"]) == (
        "G12C", "loss_of_function", "not_assessed", "not_assessed")
    gene_level = pd.DataFrame([dict(sample="S", gene="KEAP1", detection="not_detected", status="annotated",
                                    call_type="variant", filter="PASS")])
    both = pd.concat([annotated, classify_calls(gene_level)], ignore_index=True)
    assert summarize_samples(both).iloc[0]["keap1_status"] == "wild_type"
