"""io/targets.py: target regions and cBioPortal gene panels -> not_detected / not_assessed rows."""

import numpy as np
import pytest

from krasannot.errors import InputFormatError
from krasannot.io.targets import (assessment_from_gene_panels, assessment_from_targets, read_gene_panels,
                                  read_targets, shipped_gene_panels)
from krasannot.reference.bundle import load_bundled_panel


@pytest.fixture(scope="module")
def grch38():
    return load_bundled_panel("GRCh38")


def exon_line(panel, gene, number, extra=""):
    tx = panel.by_gene[gene]
    start, end = tx.exons[number - 1]
    return f"chr{tx.chrom}\t{start - 1}\t{end}{extra}\n"


def test_bed_layouts_and_depth(tmp_path, grch38):
    bed = tmp_path / "t.bed"
    bed.write_text("track name=panel\n# comment\n" + exon_line(grch38, "KRAS", 2, "\t321")
                   + exon_line(grch38, "KRAS", 3, "\tKRAS_ex3\t0\t-"))
    targets = read_targets(str(bed))
    assert targets.intervals["contig"].tolist() == ["12", "12"]
    assert targets.intervals["depth"].tolist()[0] == 321.0
    assert np.isnan(targets.intervals["depth"].tolist()[1])  # BED6: a score is not a depth
    assert targets.intervals["line"].tolist() == [3, 4]
    tsv = tmp_path / "depth.tsv"
    tsv.write_text("chrom\tstart\tend\tmean\n" + exon_line(grch38, "KRAS", 2, "\t45.5"))
    assert read_targets(str(tsv)).intervals["depth"].tolist() == [45.5]


@pytest.mark.parametrize("text, message, line", [
    ("chr12\t100\t50\n", "empty or negative", 1),
    ("chr12\t100\t200\nchr12\t300\n", "chrom, start and end", 2),
    ("chr12\t100\t200\tdeep\n", None, None),  # a name in column 4: no depth, not an error
    ("", "no target region", None),
])
def test_bad_target_files_say_where(tmp_path, text, message, line):
    path = tmp_path / "x.bed"
    path.write_text(text)
    if message is None:
        assert np.isnan(read_targets(str(path)).intervals["depth"].iloc[0])
        return
    with pytest.raises(InputFormatError) as error:
        read_targets(str(path))
    assert message in str(error.value) and error.value.line == line


def test_codons_inside_are_not_detected_outside_get_no_row(tmp_path, grch38):
    bed = tmp_path / "ex2.bed"
    bed.write_text(exon_line(grch38, "KRAS", 2))
    rows = assessment_from_targets(read_targets(str(bed)), grch38, ["S1", "S2"], min_depth=60)
    assert sorted(rows.loc[rows["sample"] == "S1", "alteration"]) == ["KRAS G12", "KRAS G13"]
    assert set(rows["detection"]) == {"not_detected"}
    # a detected call at G12 of S2: no row there says otherwise
    rows = assessment_from_targets(read_targets(str(bed)), grch38, ["S2"], 60, called={("S2", "KRAS", 12)})
    assert rows["alteration"].tolist() == ["KRAS G13"]


def test_whole_gene_row_only_when_every_coding_base_is_inside(tmp_path, grch38):
    tx = grch38.by_gene["KRAS"]
    bed = tmp_path / "kras.bed"
    bed.write_text(f"12\t{tx.start - 1}\t{tx.end}\t500\n")
    rows = assessment_from_targets(read_targets(str(bed)), grch38, ["S"], min_depth=60)
    assert "KRAS" in rows["alteration"].tolist()  # the gene-level row
    shallow = assessment_from_targets(read_targets(str(bed)), grch38, ["S"], min_depth=600)
    assert "KRAS" not in shallow["alteration"].tolist()
    assert set(shallow["detection"]) == {"not_assessed"}


def test_shipped_msk_impact_lists():
    panels = shipped_gene_panels()
    assert {len(panels["IMPACT341"]), len(panels["IMPACT410"]), len(panels["IMPACT468"])} == {341, 410, 468}
    assert {"KRAS", "STK11", "KEAP1", "TP53"} <= panels["IMPACT341"]


def test_gene_panel_matrix_gives_gene_rows_and_names_unknown_panels(tmp_path, grch38):
    matrix = tmp_path / "data_gene_panel_matrix.txt"
    matrix.write_text("SAMPLE_ID\tmutations\tcna\nA\tIMPACT341\tIMPACT341\nB\tMYPANEL\tMYPANEL\nC\tNA\tNA\n")
    with pytest.raises(InputFormatError) as error:
        read_gene_panels([str(matrix)])
    assert "'MYPANEL' has no gene list" in str(error.value) and error.value.line == 3
    panel_file = tmp_path / "data_gene_panel_mypanel.txt"
    panel_file.write_text("stable_id: MYPANEL\ndescription: two genes\ngene_list: KRAS\tEGFR\n")
    table, lists, path = read_gene_panels([str(matrix), str(panel_file)])
    rows = assessment_from_gene_panels(table, lists, grch38, ["A", "B", "C", "D"], path)
    assert sorted(rows.loc[rows["sample"] == "B", "gene"]) == ["EGFR", "KRAS"]
    assert {"KRAS", "TP53", "STK11"} <= set(rows.loc[rows["sample"] == "A", "gene"])
    assert not rows["sample"].isin(["C", "D"]).any()  # no panel, or not in the matrix: not assessed
    assert (rows["alteration"] == rows["gene"]).all() and set(rows["source"]) == {"gene_panel"}
    with pytest.raises(InputFormatError, match="no gene-panel matrix"):
        read_gene_panels([str(panel_file)])
