"""krasannot's protein changes against real VEP output, on every coding call in panel genes.

Sources (read in place from the shared validation folder; skipped when it is absent):
  * cancerhotspots v2, GRCh37 and GRCh38 (protein change column, no "p.")
  * lung_msk_mind_2020 MAF, GRCh37 (HGVSp_Short, Transcript_ID, RefSeq)
  * csf_ctdna MAF, GRCh37 (an extra check: no UNEXPLAINED disagreement allowed)
  * pcgr T001 raw VCFs: no VEP, so the two builds must agree with each other

Every disagreement gets one cause, checked in this order:
  ref_mismatch             our status says the REF allele is not the genome's
  other transcript         the source names transcripts, none of them is our panel
                           transcript or an alias (accessions without version), and the
                           source's change does not describe the alleles on our transcript
  source row inconsistent  the source's change does not describe what its own alleles do
                           to our transcript's protein (checked with the independent CDS
                           model in vep_sources, not assumed from the class column)
  UNEXPLAINED              anything else: a krasannot bug until shown otherwise

Agreement is counted over compared rows minus 'source row inconsistent' rows (a source
that contradicts its own alleles cannot be agreed with); the raw figure is printed too.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

import vep_sources as vs
from krasannot.annotate.pipeline import annotate_calls
from krasannot.reference.bundle import load_bundled_panel

OVERALL_MIN_AGREEMENT = 0.995
STRICT_GENES = ("KRAS", "NRAS", "BRAF", "EGFR", "TP53")
NON_CODING_CLASSES = {"Intron", "5'Flank", "3'Flank", "5'UTR", "3'UTR", "IGR", "RNA", "lincRNA",
                      "Targeted_Region"}
EXPLAINED = ("ref_mismatch", "other transcript", "source row inconsistent", "intron bases unknown")
# the sources the foundation issue names for the agreement figures; the others are extra checks
# that must have no UNEXPLAINED disagreement
ACCEPTANCE_SOURCES = ("cancerhotspots_GRCh37", "cancerhotspots_GRCh38", "msk_lung_GRCh37")
INTRONIC_HGVSC = re.compile(r"\d[+-]\d")

SOURCES = {  # name -> (build, loader, file inside validation/)
    "cancerhotspots_GRCh37": ("GRCh37", lambda: vs.load_cancerhotspots("GRCh37"),
                              "cancerhotspots/cancerhotspots_v2_GRCh37.tsv"),
    "cancerhotspots_GRCh38": ("GRCh38", lambda: vs.load_cancerhotspots("GRCh38"),
                              "cancerhotspots/cancerhotspots_v2_GRCh38.tsv"),
    "msk_lung_GRCh37": ("GRCh37", vs.load_msk_lung, "lung_msk_mind_2020/data_mutations.txt"),
    "csf_ctdna_GRCh37": ("GRCh37", lambda: vs.load_maf("csf_ctdna/data_mutations.txt"),
                         "csf_ctdna/data_mutations.txt"),
}


def _require(*relative: str) -> None:
    for rel in relative:
        if not (vs.validation_dir() / rel).is_file():
            pytest.skip(f"shared validation data not found: {vs.validation_dir() / rel}")


@pytest.fixture(scope="module")
def panels():
    return {b: load_bundled_panel(b) for b in ("GRCh37", "GRCh38")}


def _annotate(source: pd.DataFrame, panel) -> pd.DataFrame:
    """Our annotation, one row per source row (the row on the source's gene if several)."""
    out = annotate_calls(source[["sample", "chrom", "pos", "ref", "alt"]], panel)
    out = out[out["status"] != "merged_into_mnv"].copy()
    out["row"] = out["sample"].astype(int)
    gene_of = source.set_index("row")["src_gene"]
    out["_own_gene"] = (out["gene"] == out["row"].map(gene_of)).astype(int)
    out = out.sort_values(["row", "_own_gene"], ascending=[True, False], kind="stable")
    return out.drop_duplicates("row").set_index("row")


def _compare(name: str, build: str, source: pd.DataFrame, panel) -> pd.DataFrame:
    genes = vs.panel_transcript_ids(build)
    models = vs.load_models(build)
    ours = _annotate(source, panel)
    keep = (source["src_gene"].isin(genes) & ~source["src_class"].isin(NON_CODING_CLASSES)
            & ~source["expected"].map(vs.is_skipped_change))
    rows = []
    for r in source[keep].itertuples(index=False):
        o = ours.loc[r.row]
        model = models[r.src_gene]
        mutant = model.mutate(int(r.pos), r.ref, r.alt)
        deleted_cds = model.deleted_cds_bases(int(r.pos), r.ref, r.alt)
        agree, note = vs.same_change(r.expected, o["hgvsp_short"])
        same_tx = (not r.src_transcripts) or vs.accession(r.src_transcripts) in genes[r.src_gene]
        src_valid = vs.describes(r.expected, mutant, deleted_cds)
        if o["hgvsp_short"]:
            ours_valid = vs.describes(o["hgvsp_short"], mutant, deleted_cds)
        else:  # no protein change from us: wrong only where the alleles plainly change the CDS
            ours_valid = None if mutant is None else False
        if agree:
            cause = ""
        elif o["status"] == "ref_mismatch":
            cause = "ref_mismatch"
        elif not same_tx and src_valid is not True:
            cause = "other transcript"
        elif src_valid is False:
            cause = "source row inconsistent"
        elif not o["hgvsp_short"] and INTRONIC_HGVSC.search(o["hgvsc"]):
            # an indel at an exon edge that VEP shifts into the exon: the shift needs intron
            # bases, which the panel bundle does not hold (--reference supplies them)
            cause = "intron bases unknown"
        else:
            cause = "UNEXPLAINED"
        rows.append({
            "source": name, "build": build, "row": r.row, "chrom": r.chrom, "pos": r.src_pos,
            "ref": r.src_ref or "-", "alt": r.src_alt or "-", "gene": r.src_gene,
            "src_class": r.src_class, "src_tx": r.src_transcripts, "src_refseq": r.src_refseq,
            "same_tx": same_tx,
            "expected": vs.normalise_p(r.expected), "ours": vs.normalise_p(o["hgvsp_short"]),
            "agree": agree, "note": note, "cause": cause, "src_valid": src_valid,
            "ours_valid": ours_valid, "status": o["status"], "our_gene": o["gene"],
            "hgvsc": o["hgvsc"], "consequence": o["consequence"],
        })
    return pd.DataFrame(rows)


def _pct(a: int, b: int) -> str:
    return f"{100 * a / b:6.2f}%" if b else "    - "


def _summary(table: pd.DataFrame) -> str:
    lines = ["", "=" * 100, "VEP agreement: krasannot hgvsp_short vs the sources' own protein change", "=" * 100]
    head = f"{'source':24} {'compared':>8} {'agree':>6} {'(fs*?)':>6} {'othertx':>7} {'src_inc':>7} " \
           f"{'refmis':>6} {'UNEXPL':>6} {'agree%':>8} {'raw%':>8}"
    lines.append(head)
    for name, t in list(table.groupby("source", sort=False)) + [("ALL", table)]:
        inc = (t["cause"] == "source row inconsistent").sum()
        lines.append(f"{name:24} {len(t):8d} {t['agree'].sum():6d} {(t['note'] != '').sum():6d} "
                     f"{(t['cause'] == 'other transcript').sum():7d} {inc:7d} "
                     f"{(t['cause'] == 'ref_mismatch').sum():6d} {(t['cause'] == 'UNEXPLAINED').sum():6d} "
                     f"{_pct(t['agree'].sum(), len(t) - inc):>8} {_pct(t['agree'].sum(), len(t)):>8}")
    lines += ["", "per gene (agree/valid, valid = compared minus other-transcript and source-inconsistent rows)"]
    names = list(dict.fromkeys(table["source"]))
    lines.append(f"{'gene':8} " + " ".join(f"{n[:22]:>22}" for n in names) + f" {'ALL':>14} {'UNEXPL':>6}")
    for gene, t in table.groupby("gene"):
        cells = []
        for n in names + ["ALL"]:
            s = t if n == "ALL" else t[t["source"] == n]
            valid = s[~s["cause"].isin(["other transcript", "source row inconsistent"])]
            cells.append(f"{valid['agree'].sum()}/{len(valid)}" if len(s) else "-")
        lines.append(f"{gene:8} " + " ".join(f"{c:>22}" for c in cells[:-1]) + f" {cells[-1]:>14} "
                     f"{(t['cause'] == 'UNEXPLAINED').sum():6d}")
    bad = table[~table["agree"]]
    lines += ["", f"disagreements ({len(bad)}), by cause:"]
    cols = ["source", "chrom", "pos", "ref", "alt", "gene", "src_class", "expected", "ours", "hgvsc",
            "consequence", "status", "src_valid", "ours_valid", "src_tx", "src_refseq"]
    for cause, t in bad.groupby("cause", sort=False):
        lines.append(f"--- {cause} ({len(t)})")
        lines.append(_short(t[cols]).to_string(index=False))
    wrong = table[table["ours_valid"].eq(False)]
    lines += ["", f"rows where our own change does not describe the alleles ({len(wrong)}):"]
    if len(wrong):
        lines.append(_short(wrong[cols + ["cause"]]).to_string(index=False))
    return "\n".join(lines)


def _short(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for c in ("ref", "alt"):
        out[c] = out[c].map(lambda s: s if len(s) <= 12 else f"{s[:9]}..({len(s)})")
    return out


@pytest.fixture(scope="module")
def comparison(panels) -> pd.DataFrame:
    _require(*(rel for _, _, rel in SOURCES.values()))
    parts = [_compare(name, build, loader(), panels[build]) for name, (build, loader, _) in SOURCES.items()]
    table = pd.concat(parts, ignore_index=True)
    print(_summary(table))
    return table


def _listing(frame: pd.DataFrame) -> str:
    return "\n".join(
        f"  {r.source}: {r.chrom}:{r.pos} {r.ref}>{r.alt} {r.gene} expected {r.expected} ours "
        f"{r.ours or '(none)'} [{r.hgvsc}; {r.consequence or r.status}]"
        for r in frame.itertuples())


def test_sources_were_compared(comparison):
    for name in SOURCES:
        assert (comparison["source"] == name).sum() > 100, f"{name}: too few rows compared"


def test_no_unexplained_disagreements(comparison):
    unexplained = comparison[comparison["cause"] == "UNEXPLAINED"]
    assert unexplained.empty, f"{len(unexplained)} UNEXPLAINED disagreements:\n" + _listing(unexplained)


def test_overall_agreement(comparison):
    named = comparison[comparison["source"].isin(ACCEPTANCE_SOURCES)]
    for name, t in list(named.groupby("source")) + [("ALL", named)]:
        valid = t[t["cause"] != "source row inconsistent"]
        rate = valid["agree"].mean()
        assert rate >= OVERALL_MIN_AGREEMENT, (
            f"{name}: agreement {rate:.4f} < {OVERALL_MIN_AGREEMENT} over {len(valid)} rows; "
            f"disagreements:\n" + _listing(valid[~valid["agree"]]))


@pytest.mark.parametrize("gene", STRICT_GENES)
def test_key_genes_agree_fully(comparison, gene):
    t = comparison[(comparison["gene"] == gene) & comparison["source"].isin(ACCEPTANCE_SOURCES)
                   & ~comparison["cause"].isin(["other transcript", "source row inconsistent"])]
    assert len(t) > 0, f"no {gene} rows compared"
    bad = t[~t["agree"]]
    assert bad.empty, f"{gene}: {len(bad)} of {len(t)} rows disagree:\n" + _listing(bad)


def test_our_changes_describe_their_alleles(comparison):
    """Whatever the source says: our change must describe what the alleles do to our
    transcript's protein (independent CDS model; only where it can judge)."""
    wrong = comparison[comparison["ours_valid"].eq(False) & (comparison["status"] == "annotated")]
    assert wrong.empty, f"{len(wrong)} rows where our change does not fit the alleles:\n" + _listing(wrong)


# --- build parity -------------------------------------------------------------------------------


def _coding_rows(out: pd.DataFrame, source: pd.DataFrame) -> pd.DataFrame:
    """Our annotated rows in panel genes, with the source's record key."""
    located = out[(out["status"] == "annotated") & (out["gene"] != "")].copy()
    located["row"] = located["sample"].astype(int)
    located["record_key"] = located["row"].map(source.set_index("row")["record_key"])
    return located


def test_pcgr_builds_give_identical_protein_changes(panels):
    _require("pcgr_T001/T001-COAD.grch37.vcf.gz", "pcgr_T001/T001-COAD.grch38.vcf.gz")
    rows = {}
    for build in ("GRCh37", "GRCh38"):
        source = vs.load_pcgr_vcf(build)
        out = annotate_calls(source[["sample", "chrom", "pos", "ref", "alt"]], panels[build])
        rows[build] = _coding_rows(out, source)
    a, b = rows["GRCh37"], rows["GRCh38"]
    for build, t in rows.items():
        assert t["record_key"].is_unique, f"{build}: record keys are not unique among panel rows"
    # join by the record itself (INFO + sample column + alleles), independent of annotation
    joined = a.merge(b, on="record_key", how="outer", suffixes=("_37", "_38"), indicator=True)
    lonely = joined[joined["_merge"] != "both"]
    both = joined[joined["_merge"] == "both"]
    differ = both[(both["gene_37"] != both["gene_38"]) | (both["hgvsc_37"] != both["hgvsc_38"])
                  | (both["hgvsp_short_37"] != both["hgvsp_short_38"])]
    conseq = both[both["consequence_37"] != both["consequence_38"]]
    # the other join of the brief: (gene, hgvsc) must pair the same records
    by_hgvsc = a.merge(b, on=["gene", "hgvsc"], suffixes=("_37", "_38"))
    mispaired = by_hgvsc[by_hgvsc["record_key_37"] != by_hgvsc["record_key_38"]]
    coding = both[both["hgvsp_short_37"] != ""]
    print(f"\npcgr T001 build parity: {len(a)} GRCh37 / {len(b)} GRCh38 rows in panel genes, "
          f"{len(both)} paired ({len(coding)} with a protein change), {len(lonely)} unpaired, "
          f"{len(differ)} differ in gene/hgvsc/hgvsp, {len(conseq)} differ in consequence, "
          f"{len(mispaired)} mispaired by (gene, hgvsc)")
    cols = ["chrom_37", "pos_37", "ref_37", "alt_37", "gene_37", "hgvsc_37", "hgvsc_38",
            "hgvsp_short_37", "hgvsp_short_38", "consequence_37", "consequence_38"]
    if len(differ) or len(conseq):
        print(pd.concat([differ, conseq]).drop_duplicates("record_key")[cols].to_string(index=False))
    problems = []
    if len(lonely):
        problems.append(f"{len(lonely)} panel rows without a partner in the other build:\n"
                        + lonely[["record_key", "gene_37", "hgvsc_37", "gene_38", "hgvsc_38"]].to_string())
    if len(differ):
        problems.append(f"{len(differ)} records annotated differently:\n" + differ[cols].to_string(index=False))
    if len(mispaired):
        problems.append(f"{len(mispaired)} (gene, hgvsc) pairs join different records")
    assert not problems, "\n".join(problems)
    assert len(coding) > 0


def test_cancerhotspots_builds_agree_row_by_row(panels):
    _require("cancerhotspots/cancerhotspots_v2_GRCh37.tsv", "cancerhotspots/cancerhotspots_v2_GRCh38.tsv")
    ours = {}
    for build in ("GRCh37", "GRCh38"):
        source = vs.load_cancerhotspots(build)
        ours[build] = _annotate(source, panels[build])[["gene", "hgvsc", "hgvsp_short", "status"]]
    a, b = ours["GRCh37"], ours["GRCh38"]
    assert a.index.equals(b.index)
    differ = a[(a["gene"] != b["gene"]) | (a["hgvsc"] != b["hgvsc"]) | (a["hgvsp_short"] != b["hgvsp_short"])
               | (a["status"] != b["status"])]
    assert differ.empty, "cancerhotspots rows annotated differently in the two builds:\n" + \
        differ.join(b, rsuffix="_38").to_string()
