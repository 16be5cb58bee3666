"""Column names of the one calls table and the annotated table, named once.

Every reader returns CALLS_COLUMNS (plus STATUS where it already knows a call cannot be
annotated, e.g. not_carried); every annotation step adds columns from ANNOTATION_COLUMNS. Nothing downstream knows which file format a call came from,
except through SOURCE.
"""

# calls table: one row per sample x input record x ALT allele
SAMPLE = "sample"
CHROM = "chrom"          # as written in the input (chr12 or 12)
POS = "pos"              # 1-based, as written in the input
VARIANT_ID = "id"
REF = "ref"
ALT = "alt"
FILTER = "filter"
DEPTH = "depth"
ALT_DEPTH = "alt_depth"
VAF = "vaf"
GENOTYPE = "genotype"    # GT as written (0/1, 0|1), or Mutect2's PGT where GT is unphased
PHASE_SET = "phase_set"  # FORMAT PS (or Mutect2 PID)
SOURCE = "source"        # vcf, maf, ctdna, bam, ...
INPUT_FILE = "input_file"
INPUT_LINE = "input_line"  # 1-based line of the record in the input file

# what the input itself said, kept beside our annotation for comparison (MAF, and later CSQ/ANN)
SOURCE_GENE = "source_gene"
SOURCE_TRANSCRIPT = "source_transcript"
SOURCE_HGVSP_SHORT = "source_hgvsp_short"
SOURCE_ENTRIES = "source_entries"  # VCF CSQ/ANN entries of the allele, until one is chosen

CALLS_COLUMNS = [SAMPLE, CHROM, POS, VARIANT_ID, REF, ALT, FILTER, DEPTH, ALT_DEPTH, VAF, GENOTYPE,
                 PHASE_SET, SOURCE, INPUT_FILE, INPUT_LINE]

# annotation added by annotate/
CONTIG = "contig"        # chromosome without "chr", MT for the mitochondrion
NORM_START = "norm_start"  # first REF base after trimming shared bases (insertions: base after the gap)
NORM_REF = "norm_ref"    # REF after trimming and left-alignment ("" for insertions)
NORM_ALT = "norm_alt"    # ALT after trimming and left-alignment ("" for deletions)
GENE = "gene"
TRANSCRIPT = "transcript"
STRAND = "strand"
EXON = "exon"            # "2/5", as VEP writes it
INTRON = "intron"        # "1/4"
HGVSC = "hgvsc"          # c.35G>T (transcript is in TRANSCRIPT)
HGVSP = "hgvsp"          # p.Gly12Cys
HGVSP_SHORT = "hgvsp_short"  # p.G12C
PROTEIN_POSITION = "protein_position"
CONSEQUENCE = "consequence"  # Sequence Ontology terms, most severe first, joined by "&"
IMPACT = "impact"
STATUS = "status"        # models.STATUS_*: annotated, or why not
STATUS_DETAIL = "status_detail"
MNV_MERGE = "mnv_merge"  # for merged same-codon SNVs: the input records that were merged

ANNOTATION_COLUMNS = [CONTIG, NORM_START, NORM_REF, NORM_ALT, GENE, TRANSCRIPT, STRAND, EXON,
                      INTRON, HGVSC, HGVSP, HGVSP_SHORT, PROTEIN_POSITION, CONSEQUENCE, IMPACT,
                      STATUS, STATUS_DETAIL, MNV_MERGE]

# order of the annotate command's TSV
ANNOTATED_TSV_COLUMNS = [SAMPLE, CHROM, POS, VARIANT_ID, REF, ALT, GENE, TRANSCRIPT, EXON, INTRON,
                         HGVSC, HGVSP, HGVSP_SHORT, PROTEIN_POSITION, CONSEQUENCE, IMPACT, STATUS,
                         STATUS_DETAIL, MNV_MERGE, FILTER, DEPTH, ALT_DEPTH, VAF, GENOTYPE, PHASE_SET, STRAND,
                         NORM_START, NORM_REF, NORM_ALT, SOURCE_GENE, SOURCE_TRANSCRIPT, SOURCE_HGVSP_SHORT,
                         SOURCE, INPUT_FILE, INPUT_LINE]
