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

# optional calls-table columns for calls that are not a sequence variant, or not a detected one.
# A reader that leaves one out gets its default (models.CALL_TYPE_VARIANT, DETECTION_DETECTED, "").
CALL_TYPE = "call_type"    # models.CALL_TYPE_*: variant, copy_number, fusion
DETECTION = "detection"    # models.DETECTION_*: detected; not_detected (assayed, wild-type there); not_assessed
ORIGIN = "origin"          # somatic, germline, or "" where the input does not say
ALTERATION = "alteration"  # the input's own words for a call with no genomic allele: "KRAS G12C", "EML4-ALK"
COPY_NUMBER = "copy_number"  # absolute copy number where the input gives one
CN_LOG2 = "cn_log2"          # segment log2 ratio where the input gives one
CN_STATE = "cn_state"        # models.CN_*: amplification, gain, shallow_deletion, deep_deletion
FUSION_5P = "fusion_5p"      # 5' partner gene of a fusion
FUSION_3P = "fusion_3p"      # 3' partner gene
OPTIONAL_CALL_COLUMNS = [CALL_TYPE, DETECTION, ORIGIN, ALTERATION, COPY_NUMBER, CN_LOG2, CN_STATE,
                         FUSION_5P, FUSION_3P]

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

# classification added by annotate/classify.py, one pure step each
KRAS_ALLELE = "kras_allele"            # G12C, G13D, Q61H ... or ""
HOTSPOT = "hotspot"                    # True at a recurrent RAS/BRAF/EGFR/PIK3CA hotspot residue
FUNCTIONAL_CLASS = "functional_class"  # models.FUNCTIONAL_*: loss_of_function, missense, inframe, ...
COMUTATION = "comutation"              # STK11/KEAP1/TP53 only: loss_of_function or missense
RESISTANCE = "resistance"              # empty from annotate; after matching, the sample's resistant matches for
#                                        the call in words, "; "-joined: "resistant to cetuximab (<evidence id>, <level>)"
CAVEATS = "caveats"                    # ";"-joined: filtered, low_vaf, possible_clonal_haematopoiesis
CLASSIFICATION_COLUMNS = [KRAS_ALLELE, HOTSPOT, FUNCTIONAL_CLASS, COMUTATION, RESISTANCE, CAVEATS]

# order of the annotate command's TSV
ANNOTATED_TSV_COLUMNS = [SAMPLE, CHROM, POS, VARIANT_ID, REF, ALT, GENE, TRANSCRIPT, EXON, INTRON,
                         HGVSC, HGVSP, HGVSP_SHORT, PROTEIN_POSITION, CONSEQUENCE, IMPACT, STATUS,
                         STATUS_DETAIL, MNV_MERGE, CALL_TYPE, DETECTION, ALTERATION, KRAS_ALLELE, HOTSPOT,
                         FUNCTIONAL_CLASS, COMUTATION, RESISTANCE, CAVEATS, FILTER, DEPTH, ALT_DEPTH, VAF,
                         ORIGIN, CN_STATE, COPY_NUMBER, CN_LOG2, FUSION_5P, FUSION_3P, GENOTYPE, PHASE_SET,
                         STRAND, NORM_START, NORM_REF, NORM_ALT, SOURCE_GENE, SOURCE_TRANSCRIPT,
                         SOURCE_HGVSP_SHORT, SOURCE, INPUT_FILE, INPUT_LINE]

# matches table (evidence/match.py): one row per sample x evidence entry that fires
EVIDENCE_ID = "evidence_id"
THERAPY = "therapy"                # drugs of one therapy joined with " + "
DIRECTION = "direction"            # sensitive, resistant, prognostic
LEVEL = "level"                    # our scale (evidence/levels.py), mapped below
LEVEL_AMP = "level_amp_asco_cap"   # Tier I-A ... Tier II-D
LEVEL_ESCAT = "level_escat"        # I-A ... IV-A
LEVEL_ONCOKB = "level_oncokb"      # 1, 2, 3A, 3B, 4, R1, R2, Px1..Px3
TUMOR_TYPE = "tumor_type"          # the sample's OncoTree code
EVIDENCE_TUMOR_TYPES = "evidence_tumor_types"
TUMOR_TYPE_MATCH = "tumor_type_match"  # on_label, ancestor, off_label
BIOMARKER = "biomarker"            # the entry's biomarker, as text
MATCHED_CALLS = "matched_calls"    # the sample's calls that made it fire: "KRAS p.G12C (VAF 0.31)"
ASSESSMENT = "assessment"          # matched, or not_assessed (a wild-type term whose region was not assayed)
CONFLICT = "conflict"              # other evidence in the sample points the other way for a drug
CITATIONS = "citations"            # "PMID:34096690; NCT03600883; FDA 2021-05-28"
SUMMARY = "summary"
EVIDENCE_SOURCE = "evidence_source"  # curated, or civic
RANK = "rank"                      # 1 = first for the sample (the ranking rule: README, evidence/match.py RANK_KEYS)
SETTING = "setting"                # the entry's setting in words: first line, later line, after progression on X, any
CLONALITY = "clonality"            # clonal, subclonal (matched call VAF < 1/3 of the sample's top driver VAF), or ""
MATCH_COLUMNS = [SAMPLE, LEVEL, THERAPY, DIRECTION, TUMOR_TYPE, TUMOR_TYPE_MATCH, BIOMARKER, MATCHED_CALLS,
                 ASSESSMENT, CONFLICT, CAVEATS, EVIDENCE_ID, EVIDENCE_TUMOR_TYPES, LEVEL_AMP, LEVEL_ESCAT,
                 LEVEL_ONCOKB, CITATIONS, SUMMARY, EVIDENCE_SOURCE, RANK, SETTING, CLONALITY]

# per-sample summary (annotate/classify.py: summarize_samples): the key-findings box
KRAS_STATUS = "kras_status"        # an allele (G12C; two joined with ";"), wild_type (assessed), not_assessed
STK11_STATUS = "stk11_status"      # loss_of_function, missense, wild_type, not_assessed
KEAP1_STATUS = "keap1_status"
TP53_STATUS = "tp53_status"
# "; "-joined, one per matched resistant entry of the sample (its calls joined by " + "):
# "KRAS p.G12D (VAF 0.3): resistant to cetuximab in this tumour type (crc-ras-mutant-cetuximab-resistance, resistance_standard)"
RESISTANCE_ALTERATIONS = "resistance_alterations"
SAMPLE_SUMMARY_COLUMNS = [SAMPLE, KRAS_STATUS, STK11_STATUS, KEAP1_STATUS, TP53_STATUS, RESISTANCE_ALTERATIONS]
