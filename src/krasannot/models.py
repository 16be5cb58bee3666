"""Vocabularies: row statuses, Sequence Ontology consequences, the genetic code."""

# why a row is, or is not, annotated
STATUS_ANNOTATED = "annotated"
STATUS_OUTSIDE_PANEL = "outside_panel"
STATUS_REF_MISMATCH = "ref_mismatch"
STATUS_MERGED_INTO_MNV = "merged_into_mnv"   # a same-codon SNV now described by its merged row
STATUS_NO_ALT = "no_alt"                     # ALT is ".", "*" or equal to REF
STATUS_SYMBOLIC = "symbolic_allele"          # <DEL>, <DUP>, breakends: copy-number/fusion readers
STATUS_INVALID_ALLELE = "invalid_allele"     # characters outside ACGTN
STATUS_NOT_CARRIED = "not_carried"          # cohort VCF: no sample carries this ALT allele
STATUS_DUPLICATE = "duplicate_record"       # a record repeated in the input: its first copy is the call

# what kind of call a calls-table row is
CALL_TYPE_VARIANT = "variant"          # SNV, indel, MNV with a genomic allele (or a protein change to map)
CALL_TYPE_COPY_NUMBER = "copy_number"  # gene-level copy-number state (CN_STATE)
CALL_TYPE_FUSION = "fusion"            # FUSION_5P :: FUSION_3P
CALL_TYPES = [CALL_TYPE_VARIANT, CALL_TYPE_COPY_NUMBER, CALL_TYPE_FUSION]

# whether the assay saw the call; wild-type is a claim only where a row says not_detected
DETECTION_DETECTED = "detected"
DETECTION_NOT_DETECTED = "not_detected"   # assayed at enough depth, allele absent (BAM hotspot, ctDNA "not detected")
DETECTION_NOT_ASSESSED = "not_assessed"   # assayed, but too little depth to say
DETECTIONS = [DETECTION_DETECTED, DETECTION_NOT_DETECTED, DETECTION_NOT_ASSESSED]

# gene-level copy-number states; only amplification and deep_deletion are actionable
CN_AMPLIFICATION = "amplification"
CN_GAIN = "gain"
CN_NEUTRAL = "neutral"
CN_SHALLOW_DELETION = "shallow_deletion"
CN_DEEP_DELETION = "deep_deletion"
CN_STATES = [CN_AMPLIFICATION, CN_GAIN, CN_NEUTRAL, CN_SHALLOW_DELETION, CN_DEEP_DELETION]

# functional_class of an annotated call
FUNCTIONAL_LOSS_OF_FUNCTION = "loss_of_function"  # truncating, canonical splice site, start lost, deep deletion
FUNCTIONAL_MISSENSE = "missense"
FUNCTIONAL_INFRAME = "inframe"                    # in-frame insertion/deletion, stop lost
FUNCTIONAL_SYNONYMOUS = "synonymous"
FUNCTIONAL_NON_CODING = "non_coding"              # intron, UTR, splice region only

STATUSES = [STATUS_ANNOTATED, STATUS_OUTSIDE_PANEL, STATUS_REF_MISMATCH, STATUS_MERGED_INTO_MNV,
            STATUS_NO_ALT, STATUS_SYMBOLIC, STATUS_INVALID_ALLELE, STATUS_NOT_CARRIED, STATUS_DUPLICATE]

# Sequence Ontology terms we emit, most severe first (Ensembl VEP's order), with VEP's impact
SO_TERMS_BY_SEVERITY = [
    ("splice_acceptor_variant", "HIGH"),
    ("splice_donor_variant", "HIGH"),
    ("stop_gained", "HIGH"),
    ("frameshift_variant", "HIGH"),
    ("stop_lost", "HIGH"),
    ("start_lost", "HIGH"),
    ("inframe_insertion", "MODERATE"),
    ("inframe_deletion", "MODERATE"),
    ("missense_variant", "MODERATE"),
    ("splice_region_variant", "LOW"),
    ("splice_donor_5th_base_variant", "LOW"),
    ("splice_donor_region_variant", "LOW"),
    ("splice_polypyrimidine_tract_variant", "LOW"),
    ("stop_retained_variant", "LOW"),
    ("synonymous_variant", "LOW"),
    ("coding_sequence_variant", "MODIFIER"),
    ("5_prime_UTR_variant", "MODIFIER"),
    ("3_prime_UTR_variant", "MODIFIER"),
    ("intron_variant", "MODIFIER"),
]
SO_RANK = {term: rank for rank, (term, _) in enumerate(SO_TERMS_BY_SEVERITY)}
SO_IMPACT = dict(SO_TERMS_BY_SEVERITY)

# splice sites: intron bases 1-2 from the exon; splice region: exon bases 1-3, intron bases 3-8 (VEP)
SPLICE_SITE_INTRON_BASES = 2
SPLICE_REGION_INTRON_BASES = 8
SPLICE_REGION_EXON_BASES = 3
# VEP's finer terms (release 105 on): intron base +5, bases +3..+6 of the donor side, -3..-17 of the acceptor side
SPLICE_DONOR_5TH_BASE = 5
SPLICE_DONOR_REGION_BASES = (3, 6)
SPLICE_POLYPYRIMIDINE_BASES = (3, 17)

# standard genetic code, codons in TCAG order
_BASES = "TCAG"
_AMINO_ACIDS = "FFLLSSSSYY**CC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG"
CODON_TABLE = {a + b + c: _AMINO_ACIDS[16 * i + 4 * j + k]
               for i, a in enumerate(_BASES) for j, b in enumerate(_BASES) for k, c in enumerate(_BASES)}

THREE_LETTER = {
    "A": "Ala", "R": "Arg", "N": "Asn", "D": "Asp", "C": "Cys", "Q": "Gln", "E": "Glu", "G": "Gly",
    "H": "His", "I": "Ile", "L": "Leu", "K": "Lys", "M": "Met", "F": "Phe", "P": "Pro", "S": "Ser",
    "T": "Thr", "W": "Trp", "Y": "Tyr", "V": "Val", "*": "Ter", "X": "Xaa", "U": "Sec",
}

# what a sample is (sets the depth of a wild-type claim and the clonal-haematopoiesis flags)
SPECIMENS = ("tissue", "plasma")
# the run time --reproducible writes, so that outputs are byte-identical
REPRODUCIBLE_RUN_TIME = "1970-01-01T00:00:00Z"
# `compare`: a VAF counts as rising when it grows by at least this much, and by at least this factor
VAF_RISE_ABSOLUTE = 0.05
VAF_RISE_FOLD = 1.5
