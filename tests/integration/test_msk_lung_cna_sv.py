"""MSK lung cohort (cBioPortal lung_msk_mind_2020): data_cna.txt and data_sv.txt through the readers.

Counts are taken independently from the files with the csv module; skipped without ../shared.
"""

import csv
import os
import re
from pathlib import Path

import pytest

from krasannot import columns as C
from krasannot import models as M
from krasannot.annotate.pipeline import annotate_calls
from krasannot.io.cnv import read_copy_number
from krasannot.io.fusions import read_fusions
from krasannot.reference.bundle import load_bundled_panel

LOCI = Path(__file__).resolve().parents[2] / "resources" / "genes" / "gene_loci.tsv"


def study_file(name: str) -> Path:
    env = os.environ.get("KRASANNOT_SHARED")
    shared = Path(env) if env else Path(__file__).resolve().parents[2].parent / "shared"
    path = shared / "validation" / "lung_msk_mind_2020" / name
    if not path.is_file():
        pytest.skip(f"shared validation data not found: {path}")
    return path


def tsv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


def listed_genes(kind: str) -> set[str]:
    return {r["gene"] for r in tsv_rows(LOCI) if kind in r["lists"].split(";")}


def test_cna_amplifications_and_deep_deletions_equal_the_matrix():
    path = study_file("data_cna.txt")
    matrix = tsv_rows(path)
    samples = [name for name in matrix[0] if name != "Hugo_Symbol"]
    genes = listed_genes("copy_number")
    expected = {(s, r["Hugo_Symbol"], {"2": M.CN_AMPLIFICATION, "-2": M.CN_DEEP_DELETION}[r[s].strip()])
                for r in matrix if r["Hugo_Symbol"] in genes for s in samples if r[s].strip() in ("2", "-2")}
    n_other = sum(1 for r in matrix if r["Hugo_Symbol"] in genes for s in samples if r[s].strip() in ("1", "-1"))
    result = read_copy_number(str(path))
    got = {(r[C.SAMPLE], r[C.GENE], r[C.CN_STATE]) for _, r in result.calls.iterrows()}
    assert got == expected
    assert len(result.calls) == len(expected) + n_other
    amplifications = sum(1 for _, _, state in expected if state == M.CN_AMPLIFICATION)
    assert (result.calls[C.CN_STATE] == M.CN_AMPLIFICATION).sum() == amplifications == 98
    # every value accounted for: rows + neutral + outside the list + NA = genes x samples
    note = re.search(r"(\d+) values read .*: (\d+) rows, (\d+) neutral, (\d+) of \d+ genes outside the "
                     r"copy-number list, (\d+) not profiled", result.notes[0])
    total, *parts = (int(n) for n in note.groups())
    assert total == sum(parts) == len(matrix) * len(samples) and parts[0] == len(result.calls)


def test_cna_spot_checks():
    result = read_copy_number(str(study_file("data_cna.txt")))
    calls = {(r[C.SAMPLE], r[C.GENE]): r[C.CN_STATE] for _, r in result.calls.iterrows()}
    assert calls[("P-0025657-T02-IM6", "MET")] == M.CN_AMPLIFICATION
    assert calls[("P-0010300-T01-IM5", "ERBB2")] == M.CN_AMPLIFICATION
    assert calls[("P-0020076-T02-IM6", "CDKN2A")] == M.CN_DEEP_DELETION
    assert ("P-0020076-T02-IM6", "MET") not in calls


def test_sv_fusion_count_equals_the_file():
    path = study_file("data_sv.txt")
    source = tsv_rows(path)
    pairs = {(r["Sample_Id"], r["Site1_Hugo_Symbol"], r["Site2_Hugo_Symbol"]) for r in source
             if r["Site1_Hugo_Symbol"] and r["Site2_Hugo_Symbol"] and r["Site1_Hugo_Symbol"] != r["Site2_Hugo_Symbol"]}
    named_fusion = sum(1 for r in source if "fusion" in r["Event_Info"].lower())
    result = read_fusions(str(path))
    got = {(r[C.SAMPLE], r[C.FUSION_5P], r[C.FUSION_3P]) for _, r in result.calls.iterrows()}
    assert got == pairs and len(result.calls) == named_fusion == 22
    assert len(result.calls) + len(result.skipped) == len(source) == result.n_records


def test_sv_spot_checks_and_annotation():
    result = read_fusions(str(study_file("data_sv.txt")))
    by_sample = {}
    for _, r in result.calls.iterrows():
        by_sample.setdefault(r[C.SAMPLE], []).append(r[C.ALTERATION])
    assert by_sample["P-0012679-T01-IM5"] == ["EML4::ALK"]
    assert "ROS1::EYS" in by_sample["P-0016175-T01-IM6"]
    met = result.skipped[result.skipped["record"].str.startswith("P-0021112-T01-IM6")]
    assert met["reason"].tolist() == ["intragenic rearrangement, not a fusion: MET (MET-intragenic - Archer)"]
    annotated = annotate_calls(result.calls, load_bundled_panel("GRCh37"))
    alk = annotated[annotated[C.ALTERATION] == "EML4::ALK"].iloc[0]
    assert (alk[C.GENE], alk[C.CONSEQUENCE], alk[C.STATUS]) == ("ALK", "gene_fusion", M.STATUS_ANNOTATED)


def test_gene_loci_hold_every_maf_position_of_their_genes():
    """Cross-check of resources/genes/gene_loci.tsv (GRCh37) against the cohort's mutation positions."""
    loci = {r["gene"]: r for r in tsv_rows(LOCI) if r["build"] == "GRCh37"}
    with open(study_file("data_mutations.txt"), encoding="utf-8") as handle:
        mutations = list(csv.DictReader((line for line in handle if not line.startswith("#")), delimiter="\t"))
    checked = [(m["Hugo_Symbol"], m["Chromosome"], int(m["Start_Position"])) for m in mutations
               if m["Hugo_Symbol"] in loci]
    outside = [(g, c, p) for g, c, p in checked
               if c != loci[g]["chrom"] or not int(loci[g]["start"]) <= p <= int(loci[g]["end"])]
    assert len(checked) > 500 and outside == []
