"""The annotated table as a MAF (GDC / vcf2maf columns), ready for cBioPortal or maftools.

One MAF row per annotated sequence variant (status `annotated`): its gene, the panel
transcript's HGVS, and the vcf2maf reading of it (Variant_Classification from the most
severe consequence, Variant_Type from the alleles, splice-site HGVSp_Short as p.X123_splice).
The annotated table's own columns follow the MAF columns, unchanged. Rows the engine did not
annotate (outside the panel, REF mismatch, copy number, fusions) stay in the TSV output only:
a MAF row claims a gene and a classification.
"""

from __future__ import annotations

import os
import re

import numpy as np
import pandas as pd

from .. import columns as C
from .. import models as M
from ..files import atomic_output

MAF_VERSION_LINE = "#version 2.4"
# GDC MAF columns in vcf2maf's order, then the VEP columns krasannot can fill
MAF_COLUMNS = [
    "Hugo_Symbol", "Entrez_Gene_Id", "Center", "NCBI_Build", "Chromosome", "Start_Position", "End_Position", "Strand",
    "Variant_Classification", "Variant_Type", "Reference_Allele", "Tumor_Seq_Allele1", "Tumor_Seq_Allele2",
    "dbSNP_RS", "dbSNP_Val_Status", "Tumor_Sample_Barcode", "Matched_Norm_Sample_Barcode", "Match_Norm_Seq_Allele1",
    "Match_Norm_Seq_Allele2", "Tumor_Validation_Allele1", "Tumor_Validation_Allele2",
    "Match_Norm_Validation_Allele1", "Match_Norm_Validation_Allele2", "Verification_Status", "Validation_Status",
    "Mutation_Status", "Sequencing_Phase", "Sequence_Source", "Validation_Method", "Score", "BAM_File", "Sequencer",
    "Tumor_Sample_UUID", "Matched_Norm_Sample_UUID", "HGVSc", "HGVSp", "HGVSp_Short", "Transcript_ID",
    "Exon_Number", "t_depth", "t_ref_count", "t_alt_count", "n_depth", "n_ref_count", "n_alt_count",
    "Allele", "Feature", "Feature_type", "Consequence", "Protein_position", "STRAND_VEP", "SYMBOL", "RefSeq",
    "EXON", "INTRON", "IMPACT", "VARIANT_CLASS", "FILTER",
]

# vcf2maf's GetVariantClassification, keyed by the most severe SO term
_BY_TERM = {
    **dict.fromkeys(("splice_acceptor_variant", "splice_donor_variant", "transcript_ablation", "exon_loss_variant"),
                    "Splice_Site"),
    "stop_gained": "Nonsense_Mutation", "stop_lost": "Nonstop_Mutation",
    **dict.fromkeys(("initiator_codon_variant", "start_lost"), "Translation_Start_Site"),
    **dict.fromkeys(("inframe_insertion", "disruptive_inframe_insertion"), "In_Frame_Ins"),
    **dict.fromkeys(("inframe_deletion", "disruptive_inframe_deletion"), "In_Frame_Del"),
    **dict.fromkeys(("missense_variant", "coding_sequence_variant", "conservative_missense_variant",
                     "rare_amino_acid_variant"), "Missense_Mutation"),
    **dict.fromkeys(("transcript_amplification", "intron_variant", "intragenic_variant"), "Intron"),
    # VEP's finer splice-region terms are splice regions to vcf2maf's classes
    **dict.fromkeys(("splice_region_variant", "splice_donor_5th_base_variant", "splice_donor_region_variant",
                     "splice_polypyrimidine_tract_variant"), "Splice_Region"),
    **dict.fromkeys(("incomplete_terminal_codon_variant", "synonymous_variant", "stop_retained_variant",
                     "NMD_transcript_variant"), "Silent"),
    "5_prime_UTR_variant": "5'UTR", "3_prime_UTR_variant": "3'UTR",
    "upstream_gene_variant": "5'Flank", "downstream_gene_variant": "3'Flank",
    **dict.fromkeys(("TF_binding_site_variant", "regulatory_region_variant", "intergenic_variant"), "IGR"),
}
_VARIANT_CLASS = {"SNP": "SNV", "DNP": "substitution", "TNP": "substitution", "ONP": "substitution",
                  "INS": "insertion", "DEL": "deletion"}


def maf_alleles(pos: np.ndarray, ref: np.ndarray, alt: np.ndarray) -> dict[str, np.ndarray]:
    """vcf2maf's allele columns: shared leading (then trailing) bases dropped, "-" for an empty side,
    an insertion between Start_Position and End_Position. SNVs column-wise; the rest one by one."""
    n = len(pos)
    start, end = pos.astype(np.int64).copy(), pos.astype(np.int64).copy()
    maf_ref, maf_alt = ref.astype(object).copy(), alt.astype(object).copy()
    kind = np.full(n, "SNP", dtype=object)
    lengths = np.fromiter((len(r) for r in ref), np.int64, n), np.fromiter((len(a) for a in alt), np.int64, n)
    for i in np.flatnonzero(~((lengths[0] == 1) & (lengths[1] == 1))):
        p, r, a = int(pos[i]), ref[i], alt[i]
        k = 0
        while k < len(r) and k < len(a) and r[k] == a[k]:
            k += 1
        p, r, a = p + k, r[k:], a[k:]
        while r and a and r[-1] == a[-1]:
            r, a = r[:-1], a[:-1]
        if not r:
            start[i], end[i], maf_ref[i], maf_alt[i], kind[i] = p - 1, p, "-", a, "INS"
            continue
        start[i], end[i], maf_ref[i], maf_alt[i] = p, p + len(r) - 1, r, a or "-"
        if len(r) == len(a):
            kind[i] = {1: "SNP", 2: "DNP", 3: "TNP"}.get(len(r), "ONP")
        else:
            kind[i] = "INS" if len(r) < len(a) else "DEL"
    return {"Start_Position": start, "End_Position": end, "Reference_Allele": maf_ref,
            "Tumor_Seq_Allele2": maf_alt, "Variant_Type": kind}


def variant_classification(consequence: pd.Series, variant_type: np.ndarray, inframe: np.ndarray) -> np.ndarray:
    """vcf2maf's Variant_Classification of each row's most severe term: a frameshift (or VEP's
    protein_altering_variant out of frame) by Variant_Type, protein_altering_variant in frame as an
    in-frame insertion or deletion."""
    worst = consequence.fillna("").str.split("&").str[0].to_numpy(dtype=object)
    classes = pd.Series(worst).map(_BY_TERM).fillna("Targeted_Region").to_numpy(dtype=object)
    altering = worst == "protein_altering_variant"
    shifted = (worst == "frameshift_variant") | (altering & ~inframe)
    insertion = variant_type == "INS"
    classes[shifted] = np.where(insertion[shifted], "Frame_Shift_Ins", "Frame_Shift_Del")
    in_frame = altering & inframe & np.isin(variant_type, ["INS", "DEL"])
    classes[in_frame] = np.where(insertion[in_frame], "In_Frame_Ins", "In_Frame_Del")
    return classes


def _inframe(reference: np.ndarray, tumour: np.ndarray) -> np.ndarray:
    """MAF alleles ("-" empty) whose length difference is a whole number of codons."""
    length = np.vectorize(lambda allele: 0 if allele == "-" else len(allele), otypes=[np.int64])
    return (length(reference) - length(tumour)) % 3 == 0 if len(reference) else np.zeros(0, dtype=bool)


_C_POSITION = re.compile(r"^c\.(\d+)")


def splice_site_protein(hgvsc: pd.Series, classes: np.ndarray, hgvsp_short: pd.Series) -> np.ndarray:
    """vcf2maf's HGVSp_Short for a splice site with no protein change: p.X<codon of the c. position>_splice."""
    c_position = pd.to_numeric(hgvsc.fillna("").str.extract(_C_POSITION)[0], errors="coerce")
    codon = ((c_position + 2) // 3).astype("Int64").astype(str)
    use = (classes == "Splice_Site") & (hgvsp_short.fillna("") == "").to_numpy() & c_position.notna().to_numpy()
    return np.where(use, "p.X" + codon + "_splice", hgvsp_short.fillna("")).astype(object)


def maf_table(annotated: pd.DataFrame, build: str, ensembl_ids: dict[str, str] | None = None) -> pd.DataFrame:
    """The MAF rows of an annotated table: GDC/vcf2maf columns, then the table's own columns.

    `ensembl_ids` maps our (RefSeq) transcript to the Ensembl id written as Transcript_ID; the
    RefSeq accession goes to RefSeq.
    """
    # a MAF lists what was found: rows saying what was assayed (not_detected, not_assessed) are no mutation
    found = (annotated[C.DETECTION].fillna("").isin(["", M.DETECTION_DETECTED]) if C.DETECTION in annotated
             else True)
    rows = annotated[(annotated[C.STATUS] == M.STATUS_ANNOTATED) & (annotated[C.GENE].fillna("") != "") & found
                     & (annotated[C.CALL_TYPE].fillna(M.CALL_TYPE_VARIANT) == M.CALL_TYPE_VARIANT
                        if C.CALL_TYPE in annotated else True)].reset_index(drop=True)
    text = {column: rows[column].fillna("").astype(str) if column in rows else pd.Series("", index=rows.index)
            for column in set(C.ANNOTATED_TSV_COLUMNS)}
    alleles = maf_alleles(rows[C.POS].to_numpy(dtype=np.int64), text[C.REF].str.upper().replace("-", "").to_numpy(),
                          text[C.ALT].str.upper().replace("-", "").to_numpy())
    classes = variant_classification(text[C.CONSEQUENCE], alleles["Variant_Type"],
                                     _inframe(alleles["Reference_Allele"], alleles["Tumor_Seq_Allele2"]))
    hom_alt = text[C.GENOTYPE].str.fullmatch(r"([1-9])[/|]\1").to_numpy()
    depth = pd.to_numeric(text[C.DEPTH], errors="coerce").astype("Int64")
    alt_depth = pd.to_numeric(text[C.ALT_DEPTH], errors="coerce").astype("Int64")
    transcript = text[C.TRANSCRIPT]
    feature = transcript.map(ensembl_ids or {}).fillna(transcript) if ensembl_ids else transcript
    maf = pd.DataFrame({column: "" for column in MAF_COLUMNS}, index=rows.index)
    maf = maf.assign(
        Hugo_Symbol=text[C.GENE], Center=".", NCBI_Build=build,
        Chromosome=text[C.CHROM].str.replace(r"^chr", "", regex=True),
        Start_Position=alleles["Start_Position"], End_Position=alleles["End_Position"], Strand="+",
        Variant_Classification=classes, Variant_Type=alleles["Variant_Type"],
        Reference_Allele=alleles["Reference_Allele"],
        Tumor_Seq_Allele1=np.where(hom_alt, alleles["Tumor_Seq_Allele2"], alleles["Reference_Allele"]),
        Tumor_Seq_Allele2=alleles["Tumor_Seq_Allele2"],
        dbSNP_RS=text[C.VARIANT_ID].where(text[C.VARIANT_ID].str.startswith("rs"), ""),
        Tumor_Sample_Barcode=text[C.SAMPLE], Mutation_Status=text[C.ORIGIN].str.capitalize(),
        HGVSc=text[C.HGVSC], HGVSp=text[C.HGVSP],
        HGVSp_Short=splice_site_protein(text[C.HGVSC], classes, text[C.HGVSP_SHORT]),
        Transcript_ID=feature, Exon_Number=text[C.EXON],
        t_depth=depth.astype(str).replace("<NA>", ""), t_alt_count=alt_depth.astype(str).replace("<NA>", ""),
        # reads not supporting ALT: the calls table keeps depth and ALT depth, not AD's REF count
        t_ref_count=(depth - alt_depth).astype(str).replace("<NA>", ""),
        Allele=alleles["Tumor_Seq_Allele2"], Feature=feature, Feature_type="Transcript",
        Consequence=text[C.CONSEQUENCE].str.replace("&", ","), Protein_position=text[C.PROTEIN_POSITION],
        STRAND_VEP=text[C.STRAND].map({"+": "1", "-": "-1"}).fillna(""), SYMBOL=text[C.GENE], RefSeq=transcript,
        EXON=text[C.EXON], INTRON=text[C.INTRON], IMPACT=text[C.IMPACT],
        VARIANT_CLASS=pd.Series(alleles["Variant_Type"]).map(_VARIANT_CLASS).to_numpy(),
        FILTER=text[C.FILTER])
    own = rows.reindex(columns=C.ANNOTATED_TSV_COLUMNS)
    return pd.concat([maf, own], axis=1)


def write_annotated_maf(annotated: pd.DataFrame, path: str | os.PathLike, build: str | None,
                        bundle: str | None = None) -> int:
    """Write the MAF atomically (a '#version 2.4' line, then the table); returns the rows written.

    Transcript_ID is the Ensembl id of the panel transcript (from `bundle`, or the shipped panel).
    """
    table = maf_table(annotated, build or "", ensembl_transcript_ids(build, bundle))
    with atomic_output(path, "wb") as handle:
        handle.write((MAF_VERSION_LINE + "\n").encode("utf-8"))
        handle.write(table.to_csv(sep="\t", index=False, na_rep="", lineterminator="\n").encode("utf-8"))
    return len(table)


def ensembl_transcript_ids(build: str | None, bundle: str | None = None) -> dict[str, str]:
    """Panel transcript -> its Ensembl transcript id without version (VEP's Transcript_ID), where known."""
    from ..reference.bundle import load_bundle, load_bundled_panel

    if not (bundle or build):
        return {}
    panel = load_bundle(bundle) if bundle else load_bundled_panel(build)
    ids = {}
    for tx in panel.transcripts:
        ensembl = next((a.split(".")[0] for a in tx.aliases if a.upper().startswith("ENST")), None)
        if ensembl:
            ids[tx.transcript] = ensembl
    return ids
