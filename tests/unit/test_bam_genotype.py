"""`krasannot genotype` on tiny BAM/CRAM files written here with pysam over the bundle's bases."""

import numpy as np
import pandas as pd
import pysam
import pytest

from krasannot import columns as C
from krasannot.cli import build_parser
from krasannot.errors import BuildMismatchError, InputFormatError, UsageError
from krasannot.genotype import caller as G
from krasannot.io.genotype_calls import looks_like_genotype_calls, read_genotype_calls
from krasannot.reference.builds import CONTIG_LENGTHS
from krasannot.reference.bundle import reverse_complement

READ = 60


@pytest.fixture(scope="module")
def panel38(panels):
    return panels["GRCh38"]


def codon_start(panel, gene, residue):
    """Forward-strand first base of a codon, from the bundle (as the genotyper places it)."""
    tx = panel.by_gene[gene]
    first = tx.cds_tx_first + 3 * (residue - 1)
    return int(tx.tx_to_genomic(np.arange(first, first + 3)).min())


def cds_base(panel, gene, c_pos):
    tx = panel.by_gene[gene]
    return int(tx.tx_to_genomic(np.array([tx.cds_tx_first + c_pos - 1]))[0])


class Writer:
    """Collects reads, then writes a sorted, indexed BAM (or CRAM)."""

    def __init__(self, contigs: dict[str, int]):
        self.contigs = contigs
        self.names = list(contigs)
        self.reads = []

    def read(self, name, contig, start, seq, *, flag=0, mapq=60, cigar=None, quals=None):
        segment = pysam.AlignedSegment()
        segment.query_name = name
        segment.flag = flag
        segment.reference_id = self.names.index(contig)
        segment.reference_start = start - 1
        segment.mapping_quality = mapq
        segment.query_sequence = seq
        segment.cigartuples = cigar or [(0, len(seq))]
        segment.query_qualities = pysam.qualitystring_to_array(quals or "I" * len(seq))
        self.reads.append(segment)

    def pair(self, name, contig, start, seq, *, mate_seq=None, mate_start=None, flag_extra=0, **kw):
        """Two overlapping mates: read 1 forward, read 2 reverse (same bases unless told)."""
        mate_start = start if mate_start is None else mate_start
        self.read(name, contig, start, seq, flag=1 | 2 | 32 | 64 | flag_extra, **kw)
        self.read(name, contig, mate_start, mate_seq or seq, flag=1 | 2 | 16 | 128 | flag_extra, **kw)

    def write(self, path, *, index=True, sort=True, cram_reference=None):
        header = {"HD": {"VN": "1.6", "SO": "coordinate" if sort else "unsorted"},
                  "SQ": [{"SN": n, "LN": length} for n, length in self.contigs.items()],
                  "RG": [{"ID": "rg1", "SM": "TINY"}]}
        reads = sorted(self.reads, key=lambda r: (r.reference_id, r.reference_start)) if sort else self.reads
        mode, kw = ("wc", {"reference_filename": cram_reference}) if cram_reference else ("wb", {})
        with pysam.AlignmentFile(str(path), mode, header=header, **kw) as out:
            for read in reads:
                out.write(read)
        if index:
            pysam.index(str(path))
        return str(path)


def kras_reads(panel, writer, contig, *, ref_fragments=100, alt_fragments=20, alt_codon_forward=None):
    """Overlapping pairs over KRAS codon 12; `alt_codon_forward` replaces the codon's forward bases."""
    c12 = codon_start(panel, "KRAS", 12)
    start = c12 - 25
    reference = panel.genome_bases("12", start, start + READ - 1)
    assert "N" not in reference
    for i in range(ref_fragments):
        writer.pair(f"ref{i}", contig, start, reference)
    if alt_codon_forward:
        alt = reference[:25] + alt_codon_forward + reference[28:]
        for i in range(alt_fragments):
            writer.pair(f"alt{i}", contig, start, alt)
    return c12, reference, start


def genotype(path, panel, **kw):
    calls, coverage = G.genotype_alignments(str(path), panel, **kw)
    return G.annotate_genotype_calls(calls, panel), coverage


def row(annotated, hgvsp_short, gene="KRAS"):
    hit = annotated[(annotated[C.HGVSP_SHORT] == hgvsp_short) & (annotated[C.GENE] == gene)]
    assert len(hit) == 1, annotated[[C.HGVSP_SHORT, C.ALT_DEPTH]].to_string()
    return hit.iloc[0]


GRCH38_LENGTHS = {"12": CONTIG_LENGTHS["GRCh38"]["12"], "7": CONTIG_LENGTHS["GRCh38"]["7"]}


def test_codon12_mnv_is_one_allele_and_mates_count_once(tmp_path, panel38):
    writer = Writer(GRCH38_LENGTHS)
    # G12F: GGT>TTT in the transcript, ACC>AAA on the forward strand (KRAS is on the minus strand)
    kras_reads(panel38, writer, "12", alt_codon_forward=reverse_complement("TTT"))
    annotated, coverage = genotype(writer.write(tmp_path / "mnv.bam"), panel38)
    g12f = row(annotated, "p.G12F")
    assert (g12f[C.DETECTION], g12f[C.ALT_DEPTH], g12f[C.DEPTH]) == ("detected", 20, 120)
    assert g12f[C.VAF] == pytest.approx(20 / 120)
    assert (g12f[G.ALT_FORWARD], g12f[G.ALT_REVERSE]) == (20, 20)  # each fragment read on both strands
    assert g12f[C.HGVSC] == "c.34_35delinsTT"
    # the two SNVs of the MNV are not called on their own
    for single in ("p.G12C", "p.G12V"):
        assert row(annotated, single)[C.ALT_DEPTH] == 0
        assert row(annotated, single)[C.DETECTION] == "not_detected"
    assert set(annotated.loc[annotated[G.HOTSPOT] == "KRAS G12", C.DETECTION]) == {"detected", "not_detected"}
    lod = row(annotated, "p.G12D")[G.LOD]
    assert 0.02 < lod < 0.10  # 3 fragments needed out of 120
    kras12 = coverage.set_index(G.HOTSPOT).loc["KRAS G12"]
    assert (kras12["depth_min"], kras12["assessed"]) == (120, "yes")
    assert coverage.set_index(G.HOTSPOT).loc["BRAF V600", "assessed"] == "no"
    assert annotated.loc[annotated[G.HOTSPOT] == "BRAF V600", C.DETECTION].eq("not_assessed").all()


def test_filtered_reads_and_low_quality_are_not_counted(tmp_path, panel38):
    writer = Writer(GRCH38_LENGTHS)
    c12, reference, start = kras_reads(panel38, writer, "12")
    g12d = reference[:25] + reverse_complement("GAT") + reference[28:]  # c.35G>A
    for i, flag in enumerate((1024, 256, 2048, 512)):  # duplicate, secondary, supplementary, QC-fail
        for j in range(5):
            writer.read(f"f{i}_{j}", "12", start, g12d, flag=flag)
    for j in range(5):
        writer.read(f"lowmapq{j}", "12", start, g12d, mapq=10)
        writer.read(f"lowbq{j}", "12", start, g12d, quals="I" * 25 + "#" * 3 + "I" * 32)
    # mates that disagree at the codon: the fragment is not counted there
    writer.pair("discordant", "12", start, g12d, mate_seq=reference)
    annotated, _ = genotype(writer.write(tmp_path / "filtered.bam"), panel38)
    hit = row(annotated, "p.G12D")
    assert (hit[C.ALT_DEPTH], hit[C.DEPTH], hit[C.DETECTION]) == (0, 100, "not_detected")
    # a lower threshold lets the low-quality reads in: 5 low-MAPQ reads, 5 low-baseQ reads
    relaxed, _ = genotype(tmp_path / "filtered.bam", panel38, min_mapq=0, min_baseq=0)
    assert row(relaxed, "p.G12D")[C.ALT_DEPTH] == 10


def test_two_alleles_of_one_codon_stay_apart(tmp_path, panel38):
    writer = Writer(GRCH38_LENGTHS)
    c12, reference, start = kras_reads(panel38, writer, "12", ref_fragments=120)
    for i in range(12):  # G12D and G12C at similar VAF in different reads: two alleles, never G12Y
        writer.pair(f"d{i}", "12", start, reference[:25] + reverse_complement("GAT") + reference[28:])
        writer.pair(f"c{i}", "12", start, reference[:25] + reverse_complement("TGT") + reference[28:])
    annotated, _ = genotype(writer.write(tmp_path / "two.bam"), panel38)
    detected = annotated[annotated[C.DETECTION] == "detected"]
    assert sorted(detected[C.HGVSP_SHORT]) == ["p.G12C", "p.G12D"]
    assert detected[C.ALT_DEPTH].tolist() == [12, 12]


def test_chr_naming_and_cram_with_fasta(tmp_path, panel38):
    c12 = codon_start(panel38, "KRAS", 12)
    length = c12 + 6000  # the FASTA holds chr12 up to past KRAS, N elsewhere
    fasta = tmp_path / "mini.fa"
    known = panel38.genome_bases("12", c12 - 5000, c12 + 5000)
    with open(fasta, "w") as out:
        sequence = "N" * (c12 - 5001) + known + "N" * (length - (c12 + 5000))
        out.write(">chr12\n")
        for i in range(0, len(sequence), 80):
            out.write(sequence[i:i + 80] + "\n")
    pysam.faidx(str(fasta))
    writer = Writer({"chr12": length})
    kras_reads(panel38, writer, "chr12", alt_codon_forward=reverse_complement("TGT"))
    cram = writer.write(tmp_path / "tiny.cram", cram_reference=str(fasta))
    with pytest.raises(UsageError, match="CRAM"):
        G.genotype_alignments(cram, panel38)
    annotated, _ = genotype(cram, panel38, reference=str(fasta))
    hit = row(annotated, "p.G12C")
    assert (hit[C.CHROM], hit[C.POS], hit[C.DETECTION], hit[C.ALT_DEPTH]) == ("chr12", c12, "detected", 20)


def test_bam_without_index_is_indexed_into_a_temp_dir(tmp_path, panel38):
    writer = Writer(GRCH38_LENGTHS)
    kras_reads(panel38, writer, "12", alt_codon_forward=reverse_complement("GTT"))
    path = writer.write(tmp_path / "noindex.bam", index=False)
    calls, _ = G.genotype_alignments(path, panel38)
    assert any("no index" in note for note in calls.attrs["notes"])
    assert not list(tmp_path.glob("*.bai"))
    annotated = G.annotate_genotype_calls(calls, panel38)
    assert row(annotated, "p.G12V")[C.DETECTION] == "detected"
    unsorted = Writer(GRCH38_LENGTHS)
    kras_reads(panel38, unsorted, "12")
    unsorted.read("late", "12", 30_000_000, "A" * READ)
    unsorted.reads.reverse()  # position order broken: cannot be indexed
    bad = unsorted.write(tmp_path / "unsorted.bam", index=False, sort=False)
    with pytest.raises(InputFormatError, match="sort it by coordinate"):
        G.genotype_alignments(bad, panel38)


def test_wrong_build_is_a_clear_error(tmp_path, panel38, panels):
    writer = Writer({"12": CONTIG_LENGTHS["GRCh37"]["12"]})
    kras_reads(panels["GRCh37"], writer, "12")
    with pytest.raises(BuildMismatchError, match="@SQ lengths say GRCh37"):
        G.genotype_alignments(writer.write(tmp_path / "b37.bam"), panel38)
    # lengths that name no build: the reads' disagreement with the reference codons tells
    odd = Writer({"12": 30_000_000})
    kras_reads(panels["GRCh37"], odd, "12")
    c12_38 = codon_start(panel38, "KRAS", 12)
    c61_38 = codon_start(panel38, "KRAS", 61)
    for i, pos in enumerate((c12_38, c61_38)):  # GRCh37 sequence written at GRCh38 KRAS codons
        other = panels["GRCh37"].genome_bases("12", 25_380_000 + i * 300, 25_380_000 + i * 300 + READ - 1)
        for j in range(40):
            odd.pair(f"w{i}_{j}", "12", pos - 25, other)
    with pytest.raises(BuildMismatchError, match="reference codon"):
        G.genotype_alignments(odd.write(tmp_path / "odd.bam"), panel38)


def _egfr_reads(panel, writer, first_changed, cigar_alt, build_alt, n_ref=100, n_alt=15):
    """Reference pairs and alt pairs over an EGFR indel; the alt reads' first block is cigar_alt[0]."""
    start = first_changed - cigar_alt[0][1]
    reference = panel.genome_bases("7", start, start + 74)
    assert "N" not in reference
    for i in range(n_ref):
        writer.pair(f"r{i}", "7", start, reference[:READ])
    alt_seq = build_alt(reference)
    for i in range(n_alt):
        writer.pair(f"a{i}", "7", start, alt_seq, cigar=cigar_alt)


def test_exon19_deletion_from_cigar(tmp_path, panel38):
    writer = Writer(GRCH38_LENGTHS)
    deleted_first = cds_base(panel38, "EGFR", 2235)  # c.2235_2249del, p.E746_A750del
    _egfr_reads(panel38, writer, deleted_first, [(0, 30), (2, 15), (0, 30)],
                lambda ref: ref[:30] + ref[45:75])
    annotated, _ = genotype(writer.write(tmp_path / "ex19.bam"), panel38)
    hit = row(annotated, "p.E746_A750del", "EGFR")
    assert (hit[C.DETECTION], hit[C.ALT_DEPTH], hit[C.DEPTH], hit[G.HOTSPOT]) == \
        ("detected", 15, 115, "EGFR exon 19 deletion")
    assert hit[C.HGVSC] == "c.2235_2249del"
    # the exon 20 region has no reads: one row says it was not assessed
    ex20 = annotated[annotated[G.HOTSPOT] == "EGFR exon 20 insertion"]
    assert ex20[C.DETECTION].tolist() == ["not_assessed"]
    assert ex20[C.ALTERATION].tolist() == ["EGFR exon 20 insertion"]


def test_exon20_insertion_from_cigar(tmp_path, panel38):
    writer = Writer(GRCH38_LENGTHS)
    after = cds_base(panel38, "EGFR", 2308)  # 9 bases c.2300_2308 repeated after c.2308
    duplicated = panel38.genome_bases("7", after - 8, after)
    _egfr_reads(panel38, writer, after + 1, [(0, 20), (1, 9), (0, 40)],
                lambda ref: ref[:20] + duplicated + ref[20:60])
    annotated, _ = genotype(writer.write(tmp_path / "ex20.bam"), panel38)
    hit = row(annotated, "p.A767_V769dup", "EGFR")
    assert (hit[C.DETECTION], hit[C.ALT_DEPTH], hit[C.HGVSC]) == ("detected", 15, "c.2300_2308dup")
    # no exon 19 deletion: a region row, wild-type where the reads reach
    assert annotated.loc[annotated[G.HOTSPOT] == "EGFR exon 19 deletion", C.DETECTION].tolist() == ["not_assessed"]


def test_calls_tsv_written_and_read_back(tmp_path, panel38):
    writer = Writer(GRCH38_LENGTHS)
    kras_reads(panel38, writer, "12", alt_codon_forward=reverse_complement("TGT"))
    bam = writer.write(tmp_path / "cli.bam")
    parser = build_parser()
    out = tmp_path / "out" / "CALLS.tsv"
    args = parser.parse_args(["genotype", bam, "--build", "GRCh38", "--out", str(out), "--sample", "P1"])
    assert args.func(args) == 0
    table = pd.read_csv(out, sep="\t", dtype=str, keep_default_na=False)
    for column in ("sample", "chrom", "pos", "ref", "alt", "gene", "hgvsp_short", "status", "alt_depth", "depth",
                   "vaf", "alt_forward", "alt_reverse", "p_value", "lod", "transcript", "hgvsc", "filter"):
        assert column in table
    g12c = table[(table["hgvsp_short"] == "p.G12C") & (table["gene"] == "KRAS")].iloc[0]
    assert (g12c["sample"], g12c["status"], g12c["alt_depth"], g12c["depth"], g12c["filter"]) == \
        ("P1", "detected", "20", "120", "PASS")
    akt1 = table[table["hotspot"] == "AKT1 E17"]
    assert set(akt1["status"]) == {"not_assessed"} and "p.E17K" in set(akt1["hgvsp_short"])
    coverage = pd.read_csv(tmp_path / "out" / "CALLS.coverage.tsv", sep="\t")
    assert coverage.set_index("hotspot").loc["KRAS G12", "assessed"] == "yes"
    with open(out) as handle:
        assert looks_like_genotype_calls(handle.readline())
    read = read_genotype_calls(str(out))
    assert read.format == "genotype" and read.samples == ["P1"]
    back = read.calls[read.calls[G.HOTSPOT] == "KRAS G12"].set_index(C.SOURCE_HGVSP_SHORT).loc["p.G12C"]
    assert (back[C.DETECTION], back[C.ALT_DEPTH], back[C.SOURCE]) == ("detected", 20, "bam")
    bad = tmp_path / "bad.tsv"
    bad.write_text(out.read_text().replace("\tdetected\t", "\tmaybe\t", 1))
    with pytest.raises(InputFormatError, match="maybe"):
        read_genotype_calls(str(bad))


def test_hotspot_list_places_both_builds(panels):
    for build, panel in panels.items():
        spots = G.load_hotspots(panel).set_index(G.HOTSPOT)
        assert spots.loc["EGFR exon 19 deletion", ["residue_first", "residue_last"]].tolist() == [729, 761]
        akt1 = spots.loc["AKT1 E17"]
        assert (akt1["start"], akt1["ref_codon"], bool(akt1["in_panel"])) == \
            ({"GRCh37": 105246549, "GRCh38": 104780212}[build], "GAG", False)
        kras = spots.loc["KRAS G12"]
        assert panel.genome_bases(kras["contig"], kras["start"], kras["end"]) == reverse_complement(kras["ref_codon"])
        assert kras["ref_codon"] == "GGT"
    assert len(spots) == 37


def test_error_model_and_test_statistics():
    counts = pd.DataFrame({"change": ["C>T"] * 3 + ["G>A"], "alt": [1, 0, 50, 0], "depth": [1000, 1000, 1000, 500]})
    model = G.fit_error_model(counts).set_index("change")
    assert model.loc["C>T", "errors"] == 1 and model.loc["C>T", "excluded_positions"] == 1  # 5% is a variant
    assert model.loc["C>T", "mu"] == pytest.approx((1 + 1e-3 * G.PRIOR_BASES) / (2000 + G.PRIOR_BASES))
    tail = G.log_tail(1000, 1e-3, 0.0, G._log_factorials(1000))
    assert np.exp(tail[0]) == pytest.approx(1.0)
    assert np.exp(tail[1]) == pytest.approx(1 - 0.999 ** 1000)
    # the beta-binomial has the heavier tail
    assert G.log_tail(1000, 1e-3, 1e-3, G._log_factorials(1000))[10] > tail[10]
    lod = G.limit_of_detection(1000, 3, G._log_factorials(1000))
    assert 0.0062 < lod < 0.0064  # P(Bin(1000, f) >= 3) = 0.95 at f ~ 0.63%


def _mixed_bam(panel, path):
    """KRAS pairs (an MNV, filtered and low-quality reads, soft clips, a read without qualities) and EGFR indels."""
    writer = Writer(GRCH38_LENGTHS)
    c12, reference, start = kras_reads(panel, writer, "12", alt_codon_forward=reverse_complement("TTT"))
    g12d = reference[:25] + reverse_complement("GAT") + reference[28:]
    for i, flag in enumerate((1024, 256, 2048, 512, 4)):
        writer.read(f"f{i}", "12", start, g12d, flag=flag)
    writer.read("lowmapq", "12", start, g12d, mapq=10)
    writer.read("clipped", "12", start, g12d, cigar=[(4, 5), (0, 50), (4, 5)])
    writer.read("odd_length", "12", start + 1, g12d[:59])
    writer.read("no_quals", "12", start, g12d)
    writer.reads[-1].query_qualities = None
    deleted_first = cds_base(panel, "EGFR", 2235)
    _egfr_reads(panel, writer, deleted_first, [(0, 30), (2, 15), (0, 30)], lambda ref: ref[:30] + ref[45:75])
    after = cds_base(panel, "EGFR", 2308)
    duplicated = panel.genome_bases("7", after - 8, after)
    start20 = after + 1 - 20
    ref20 = panel.genome_bases("7", start20, start20 + 74)
    for i in range(10):  # an insertion next to a deletion: one delins event
        writer.pair(f"di{i}", "7", start20, ref20[:20] + duplicated + ref20[22:62],
                    cigar=[(0, 20), (1, 9), (2, 2), (0, 40)])
    return writer.write(path)


def test_bam_bytes_reader_matches_pysam_reader(tmp_path, panel38):
    """The fast reader (a BAM's bytes, numpy) sees exactly the reads, blocks, bases and indels pysam shows."""
    from krasannot.genotype.background import background_counts
    from krasannot.genotype.reads import read_window, read_window_bytes
    from krasannot.genotype.reference_bases import ReferenceBases

    reference = ReferenceBases(panel38)

    alignments = G.open_alignments(_mixed_bam(panel38, tmp_path / "mixed.bam"), "GRCh38")
    bai = alignments.bai()
    hotspots = G.load_hotspots(panel38)
    with open(alignments.path, "rb") as raw:
        for window in G.fetch_windows(hotspots).itertuples(index=False):
            name = alignments.contig_names.get(window.contig)
            for min_mapq in (0, 20):
                slow = read_window(alignments.handle, name, window.start, window.end, min_mapq)
                fast = read_window_bytes(alignments.handle, raw, bai, name, window.start, window.end, min_mapq)
                for field in ("reverse", "start", "end", "block_read", "block_ref", "block_query", "block_length"):
                    np.testing.assert_array_equal(getattr(slow, field), getattr(fast, field), err_msg=field)
                # fragment ids are labels: the same reads share one
                pairs = np.unique(np.c_[slow.fragment, fast.fragment], axis=0)
                assert len(pairs) == len(np.unique(slow.fragment)) == len(np.unique(fast.fragment))
                lengths = np.diff(np.r_[slow.seq_offset, len(slow.bases)]).astype(np.int64)
                read = np.repeat(np.arange(slow.n_reads), lengths)
                query = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
                np.testing.assert_array_equal(slow.bases, fast.base_codes(read, query))
                np.testing.assert_array_equal(slow.quals, fast.qualities(read, query))
                pd.testing.assert_frame_equal(slow.events, fast.events)
                assert slow.skipped == fast.skipped
                # aligned blocks as rows (blocks starting at an odd base too: after the insertion, the clip)
                blocks = np.arange(len(slow.block_read))
                (slow_codes, slow_quals), (fast_codes, fast_quals) = slow.block_bases(blocks), fast.block_bases(blocks)
                inside = np.arange(slow_codes.shape[1]) < slow.block_length[:, None]
                np.testing.assert_array_equal(slow_codes[inside], fast_codes[inside])
                np.testing.assert_array_equal(slow_quals[inside], fast_quals[inside])
                codons = hotspots.loc[hotspots["kind"] == G.CODON_KIND, "start"].to_numpy()
                pd.testing.assert_frame_equal(background_counts(slow, reference, window.contig, codons, codons, 20),
                                              background_counts(fast, reference, window.contig, codons, codons, 20))
    alignments.close()


def test_two_process_bytes_path_gives_the_same_calls(tmp_path, panel38, monkeypatch):
    """A big BAM goes through the bytes reader on two processes: the calls and coverage must not change."""
    from krasannot.genotype import observations

    path = _mixed_bam(panel38, tmp_path / "mixed.bam")
    calls, coverage = G.genotype_alignments(path, panel38)
    monkeypatch.setattr(observations, "PARALLEL_READS", 1)
    monkeypatch.setattr(observations.os, "sched_getaffinity", lambda pid: {0, 1})
    forks = []
    original = observations.in_forked_worker
    monkeypatch.setattr(observations, "in_forked_worker", lambda work: forks.append(1) or original(work))
    forked_calls, forked_coverage = G.genotype_alignments(path, panel38)
    assert forks == [1]
    pd.testing.assert_frame_equal(calls, forked_calls)
    pd.testing.assert_frame_equal(coverage, forked_coverage)
    assert calls.attrs == forked_calls.attrs
    assert (calls[C.DETECTION] == "detected").sum() >= 2  # the MNV and the exon 19 deletion


def test_fetch_windows_merge_hotspots_closer_than_the_gap_per_contig():
    hotspots = pd.DataFrame({"contig": ["12", "7", "12", "12"], "start": [350, 50, 100, 1000],
                             "end": [352, 52, 102, 1002]}, index=[11, 13, 10, 12])
    windows = G.fetch_windows(hotspots, gap=300)
    assert windows["contig"].tolist() == ["12", "12", "7"]
    assert windows["start"].tolist() == [100, 1000, 50] and windows["end"].tolist() == [352, 1002, 52]
    assert windows["members"].tolist() == [[10, 11], [12], [13]]
    assert G.fetch_windows(hotspots, gap=0)["members"].tolist() == [[10], [11], [12], [13]]


def test_fragment_ids_group_reads_by_name_even_when_hashes_collide(monkeypatch):
    from krasannot.genotype import reads

    names = [b"pair7", b"pair10", b"pair7", b"x", b"pair10", b"pair10:long:name:of:an:instrument:1234"]
    padded = np.zeros((len(names), 40), dtype=np.uint8)
    for i, name in enumerate(names):
        padded[i, :len(name)] = np.frombuffer(name, dtype=np.uint8)
    expected = np.unique(np.array(names, dtype=object), return_inverse=True)[1]

    def same_groups(ids):
        return len(np.unique(np.c_[ids, expected], axis=0)) == len(np.unique(ids)) == len(np.unique(expected))
    assert same_groups(reads._fragment_ids(padded))
    monkeypatch.setattr(reads.pd, "factorize", lambda values: (np.zeros(len(values), dtype=np.int64), None))
    assert same_groups(reads._fragment_ids(padded))  # every hash "collides": grouped by the names themselves
