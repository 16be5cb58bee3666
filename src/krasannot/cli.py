"""Command line: one subcommand per pipeline step. The only place errors become exit codes.

A thin layer over `krasannot.api`: the parsers are built without importing the pipeline (so
`--help` and `--version` stay fast), and each command imports what it runs.
"""

from __future__ import annotations

import argparse
import sys

from . import __version__
from . import models as M
from .argtypes import at_least, fraction, iso_date, safe_id
from .errors import KrasannotError, UsageError

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT = 0, 1, 2
EXIT_SIGINT, EXIT_SIGTERM = 130, 143  # 128 + signal number, as shells report them


class Terminated(BaseException):
    """SIGTERM (what SLURM and Kubernetes send), raised where the process is so that every
    `finally` removes its temp files and staging folders, as for Ctrl-C."""


def _stderr_lines():
    """A handler for the library's log: on stderr, warnings always, stages of long work only when a
    person watches (stderr is a terminal); sys.stderr is looked up at each line (tests swap it).
    Made here, once arguments are parsed, so that --help and --version do not import logging."""
    import logging

    class StderrLines(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.WARNING:
                print(f"krasannot: warning: {record.getMessage()}", file=sys.stderr)
            elif sys.stderr.isatty():
                print(f"krasannot: {record.getMessage()}", file=sys.stderr, flush=True)

    return StderrLines()


# ---------------------------------------------------------------- the pipeline steps

def _annotate_keywords(args: argparse.Namespace) -> dict:
    """annotate's keywords from the flags `annotate` and `run` share."""
    return dict(build=args.build, input_sample=args.input_sample, specimen=args.specimen, reference=args.reference,
                bundle=args.bundle, targets=args.targets, min_target_depth=args.min_target_depth,
                gene_panel=args.gene_panel, no_index=args.no_index, list_outside=args.list_outside,
                reproducible=args.reproducible)


def _match_keywords(args: argparse.Namespace) -> dict:
    return dict(tumor_type=args.tumor_type, specimen=args.specimen, prior_therapy=args.prior_therapy,
                msi_high=args.msi_high, tmb=args.tmb, include_filtered=args.include_filtered)


def cmd_annotate(args: argparse.Namespace) -> int:
    from pathlib import Path

    from . import api
    from .files import check_output_file

    check_output_file(Path(args.out))  # before any input is read
    with api.annotate(args.inputs, sample=args.sample, **_annotate_keywords(args)) as result:
        result.write(args.out, format=args.format)
    print(f"{args.out}: {_accounting(result.summary)}; build {result.summary['genome_build']} "
          f"({result.summary['build_reason']})", file=sys.stderr)
    return EXIT_OK


def _accounting(summary: dict) -> str:
    """'3,313 read, 3,313 accounted: 41 annotated, 3,272 outside panel, ...'."""
    counts = summary["rows_by_status"]
    parts = [f"{n:,} {status.replace('_', ' ')}" for status, n in sorted(counts.items(), key=lambda kv: -kv[1]) if n]
    if summary["rows_skipped"]:
        parts.append(f"{summary['rows_skipped']:,} skipped")
    if summary.get("records_of_other_samples"):
        parts.append(f"{summary['records_of_other_samples']:,} of other samples, not read")
    return f"{summary['records_read']:,} records read, rows: " + ", ".join(parts)


def cmd_match(args: argparse.Namespace) -> int:
    from pathlib import Path

    from . import api
    from .files import check_output_file

    check_output_file(Path(args.out))
    result = api.match(args.annotated, sample=args.sample, **_match_keywords(args))
    result.write(args.out)
    print(f"{args.out}: {len(result.matches)} matches for {len(result.samples)} sample(s)", file=sys.stderr)
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from . import api

    result = api.report(args.annotated, args.matches, sample=args.sample, tumor_type=args.tumor_type,
                        specimen=args.specimen, patient_id=args.patient_id, build=args.build, vcf=args.vcf,
                        reproducible=args.reproducible)
    written = result.write(args.outdir)
    print(f"{written['.report.html']}: report for {args.sample}", file=sys.stderr)
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    """annotate -> match -> report for one sample, in memory, writing only when every step succeeded."""
    from pathlib import Path

    from . import api
    from . import columns as C
    from .evidence.oncotree import load_oncotree
    from .files import prepare_outdir
    from .report.render import check_sample_id

    # api.run checks the sample id and tumour type too; here they come first so that the errors
    # come in the order they always did: sample, tumour type, output folder, then the inputs
    check_sample_id(args.sample)
    load_oncotree().check(args.tumor_type)
    prepare_outdir(args.outdir)
    keywords = {**_annotate_keywords(args), **_match_keywords(args)}  # both name the specimen
    with api.run(args.inputs, sample=args.sample, patient_id=args.patient_id, **keywords) as result:
        result.write(args.outdir)
    print(f"{Path(args.outdir)}/{args.sample}.report.html: {_accounting(result.annotation.summary)}; "
          f"{len(result.matches.matches)} matches; KRAS {result.matches.samples.at[0, C.KRAS_STATUS]}",
          file=sys.stderr)
    return EXIT_OK


def cmd_genotype(args: argparse.Namespace) -> int:
    from . import api
    from . import columns as C

    result = api.genotype(args.input, build=args.build, reference=args.reference, sample=args.sample,
                          specimen=args.specimen, min_mapq=args.min_mapq, min_baseq=args.min_baseq)
    written = result.write(args.out)
    annotated = result.annotated
    counts = annotated[C.DETECTION].value_counts().to_dict() if len(annotated) else {}
    detected = annotated[annotated[C.DETECTION] == M.DETECTION_DETECTED] if len(annotated) else annotated
    listed = ", ".join(f"{g} {p or a} ({v:.1%})" for g, p, a, v in
                       zip(detected[C.GENE], detected[C.HGVSP_SHORT], detected[C.ALTERATION], detected[C.VAF]))
    print(f"{args.out}: {len(annotated)} alleles tested at {len(result.coverage)} hotspots, build {result.build}; "
          f"{counts.get(M.DETECTION_DETECTED, 0)} detected{': ' + listed if listed else ''}; "
          f"{counts.get(M.DETECTION_NOT_ASSESSED, 0)} not assessed; coverage in {written['coverage']}",
          file=sys.stderr)
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    return EXIT_OK


def cmd_cohort(args: argparse.Namespace) -> int:
    from .report.cohort import write_cohort

    write_cohort(args.report_dirs, args.outdir, quiet=args.quiet)
    return EXIT_OK


def cmd_compare(args: argparse.Namespace) -> int:
    from . import api
    from .report.longitudinal import CHANGE_ORDER

    result = api.compare(args.annotated, args.matches, patient=args.patient, sample=args.samples,
                         timepoints=args.timepoints, specimens=args.specimens, prior_therapy=args.prior_therapy,
                         min_vaf_rise=args.min_vaf_rise, min_vaf_fold=args.min_vaf_fold, kb=args.kb)
    written = result.write(args.out)
    counts = result.changes["change"].value_counts().to_dict()
    print(f"{written['tsv']}: {len(result.timepoints)} timepoints, "
          + ", ".join(f"{counts.get(k, 0)} {k}" for k in CHANGE_ORDER)
          + f", {len(result.resistance)} resistance entries for the prior therapy", file=sys.stderr)
    return EXIT_OK


# ---------------------------------------------------------------- evidence base and reference

def _panel_genes() -> tuple[dict[str, str], set[str]]:
    """Proteins of the panel's genes, and every gene name the product knows (panel + gene loci)."""
    from .io.cnv import gene_loci
    from .reference.bundle import load_bundled_panel

    proteins = {tx.gene: tx.protein for tx in load_bundled_panel("GRCh38").transcripts}
    return proteins, set(proteins) | set(gene_loci("GRCh38")["gene"])


def cmd_kb_validate(args: argparse.Namespace) -> int:
    import datetime as dt

    from .evidence.kb import load_kb, stale_entries, validate_kb

    kb = load_kb(args.kb_dir)
    problems = validate_kb(kb, *_panel_genes())
    for problem in problems:
        print(f"krasannot kb validate: {problem}", file=sys.stderr)
    stale = stale_entries(kb, args.as_of or dt.date.today())
    for warning in stale:   # a warning, not a failure: an old review is not a wrong entry
        print(f"krasannot kb validate: warning: {warning}", file=sys.stderr)
    n_citations = sum(len(e.citations) for e in kb.entries)
    verdict = (f"{len(problems)} problem(s)" if problems else "valid") + \
        (f", {len(stale)} entr{'y' if len(stale) == 1 else 'ies'} due for review" if stale else "")
    print(f"evidence base {kb.version} ({kb.released}): {len(kb.entries)} entries, {n_citations} citations, "
          f"{len(kb.files)} files: {verdict}", file=sys.stderr)
    return EXIT_BAD_INPUT if problems else EXIT_OK


def cmd_kb_show(args: argparse.Namespace) -> int:
    from .evidence.kb import load_kb

    if args.changes:
        return _show_changes(args)
    kb = load_kb(args.kb_dir)
    print("\t".join(["id", "tumor_types", "biomarker", "therapy", "direction", "level", "citations", "confirmed"]))
    for e in kb.entries:
        if args.gene and not any(args.gene.upper() in (*t.genes, t.partner) for t in e.terms()):
            continue
        print("\t".join([e.id, ",".join(e.tumor_types), e.biomarker_text(), e.therapy, e.direction, e.level,
                         str(len(e.citations)), "yes" if e.confirmed else f"no: {e.unconfirmed}"]))
    return EXIT_OK


def _show_changes(args: argparse.Namespace) -> int:
    """What was added, removed or changed since a release (its snapshot) or since another evidence directory."""
    from pathlib import Path

    from .evidence.kb import compare_releases, default_kb_dir, read_snapshot, release_snapshot, release_snapshots

    kb_dir = Path(str(args.kb_dir or default_kb_dir()))
    version, current = release_snapshot(kb_dir)
    if args.since and Path(args.since).is_dir():
        since, previous = release_snapshot(args.since)
        since = f"{since} ({args.since})"
    else:
        snapshots = release_snapshots(kb_dir) or release_snapshots(default_kb_dir())
        earlier = [v for v in snapshots if v != version]
        since = args.since or (earlier[-1] if earlier else "")
        if since not in snapshots:
            raise UsageError(f"--since {since or '(none)'}: no snapshot of that release",
                             hint=f"releases with a snapshot: {', '.join(snapshots) or 'none'}; or give an "
                                  "evidence directory; snapshots are written by "
                                  "workflow/scripts/evidence_release_snapshot.py")
        previous = read_snapshot(snapshots[since])
    changes = compare_releases(previous, current)
    print("\t".join(["change", "kind", "id", "file"]))
    for row in changes:
        print("\t".join(row))
    counts = {c: sum(1 for row in changes if row[0] == c) for c in ("added", "removed", "changed")}
    print(f"evidence base {version} since {since}: " + ", ".join(f"{n} {c}" for c, n in counts.items()),
          file=sys.stderr)
    return EXIT_OK


def cmd_kb_import_civic(args: argparse.Namespace) -> int:
    from .evidence.civic import import_civic, import_counts, write_civic_yaml

    result = import_civic(args.civic_tsv)
    write_civic_yaml(result, args.civic_tsv, args.out)
    print(f"{args.out}: from {args.civic_tsv}", file=sys.stderr)
    for line in import_counts(result):
        print(line, file=sys.stderr)
    return EXIT_OK


def cmd_reference_build(args: argparse.Namespace) -> int:
    from .reference.builds import parse_build
    from .reference.gtf import build_bundle_from_gtf, parse_gene_list

    build = parse_build(args.build) if args.build.lower() != "auto" else None
    if build is None:
        raise UsageError("--build must name the build of the GTF and FASTA", hint="GRCh37 or GRCh38")
    n = build_bundle_from_gtf(args.gtf, args.fasta, parse_gene_list(args.genes), build, args.out)
    print(f"{args.out}: {n} transcripts for {build}", file=sys.stderr)
    return EXIT_OK


def cmd_reference_from_refdata(args: argparse.Namespace) -> int:
    from .reference.refdata import main as refdata_main

    return refdata_main([args.json, args.outdir])


# ---------------------------------------------------------------- parsers

def _add_assay_options(p: argparse.ArgumentParser) -> None:
    """What the assay covered, for inputs that list only what was found (VCF, MAF)."""
    p.add_argument("--targets", metavar="BED",
                   help="the assay's target regions (BED; a 4th column or a mosdepth regions.bed.gz / depth TSV "
                        "gives depth): hotspot codons inside with no call are not detected (codon-level)")
    p.add_argument("--min-target-depth", type=at_least(0.0), default=None,
                   help="depth below which a target region counts as not assessed "
                        "(default: 60 tissue, 300 plasma, as the genotyper)")
    p.add_argument("--gene-panel", nargs="+", metavar="FILE",
                   help="cBioPortal data_gene_panel_matrix.txt and data_gene_panel_<id>.txt files (MSK-IMPACT "
                        "341/410/468 are shipped): a gene the sample's panel lists is assessed (gene-level)")


def _add_match_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tumor-type", required=True, help="OncoTree code: LUAD, NSCLC, COADREAD, PAAD, ...")
    p.add_argument("--specimen", choices=M.SPECIMENS, default="tissue",
                   help="tissue or plasma (plasma flags low-VAF calls in clonal-haematopoiesis genes such as TP53)")
    p.add_argument("--prior-therapy", help="drugs or classes the patient progressed on: sotorasib,anti_EGFR")
    p.add_argument("--msi-high", action="store_true", help="the sample is MSI-high / dMMR")
    p.add_argument("--tmb", type=at_least(0.0), default=float("nan"),
                   help="tumour mutational burden, mut/Mb (0 or more)")
    p.add_argument("--include-filtered", action="store_true", help="match non-PASS calls too")


def _add_annotate_parser(sub) -> None:
    p = sub.add_parser("annotate", help="VCF or MAF in, one annotated row per variant allele out")
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="VCF/BCF, MAF, ctDNA table, genotype calls, copy-number or fusion file (sniffed; plain or gzipped)")
    p.add_argument("--build", default="auto", help="GRCh37, GRCh38 or auto (from ##contig lengths or REF alleles)")
    p.add_argument("--out", required=True, help="output TSV; a .summary.json is written beside it")
    p.add_argument("--format", choices=["tsv", "maf"],
                   help="tsv, or maf (GDC/vcf2maf columns, then ours); default from --out's suffix")
    p.add_argument("--sample", help="the sample's ID: written as the sample of every call (inputs of one sample)")
    p.add_argument("--input-sample", help="which sample of a multi-sample input to read (a VCF column, a MAF's "
                                          "Tumor_Sample_Barcode; default: ##tumor_sample, TUMOR, or all)")
    p.add_argument("--specimen", choices=M.SPECIMENS, default="tissue",
                   help="plasma flags low-VAF calls in clonal-haematopoiesis genes such as TP53")
    p.add_argument("--reproducible", action="store_true", help="fixed run time in the summary")
    p.add_argument("--reference", help="genome FASTA of the same build: REF checks and shifts use its sequence")
    p.add_argument("--bundle", help="a transcript bundle from 'krasannot reference build' instead of the panel")
    _add_assay_options(p)
    p.add_argument("--no-index", action="store_true", help="stream the whole file even if indexed")
    p.add_argument("--list-outside", action="store_true",
                   help="write a row for every VCF record outside the panel (default: counted in the summary); "
                        "with an index only panel regions are read, so add --no-index to list them all")
    p.set_defaults(func=cmd_annotate)


def _add_genotype_parser(sub) -> None:
    p = sub.add_parser("genotype", help="BAM/CRAM in, the hotspot alleles genotyped (detected / not detected / "
                                        "not assessed) out")
    p.add_argument("input", help="coordinate-sorted BAM or CRAM (indexed, or indexed into a temp dir)")
    p.add_argument("--build", default="auto", help="GRCh37, GRCh38 or auto (from the @SQ lengths)")
    p.add_argument("--out", required=True, help="CALLS.tsv to write; CALLS.coverage.tsv is written beside it")
    p.add_argument("--reference", help="genome FASTA of the build (needed for CRAM; widens the background model)")
    p.add_argument("--sample", help="the sample's ID in the calls (default: the @RG SM tag, else the file name)")
    p.add_argument("--specimen", choices=sorted(M.SPECIMENS), default="tissue",
                   help="sets the minimum depth for a wild-type claim (tissue 60, plasma 300 fragments)")
    p.add_argument("--min-mapq", type=at_least(0, int), default=20,
                   help="skip reads below this mapping quality (0 or more)")
    p.add_argument("--min-baseq", type=at_least(0, int), default=20,
                   help="ignore bases below this base quality (0 or more)")
    p.set_defaults(func=cmd_genotype)


def _add_match_parser(sub) -> None:
    p = sub.add_parser("match", help="annotated calls x evidence base -> therapy matches")
    p.add_argument("annotated", help="the TSV 'krasannot annotate' wrote")
    p.add_argument("--out", required=True, help="MATCHES.tsv; MATCHES.samples.tsv (key findings) is written beside")
    p.add_argument("--sample", help="the sample's ID: match only this sample of the table")
    _add_match_options(p)
    p.set_defaults(func=cmd_match)


def _add_report_parser(sub) -> None:
    p = sub.add_parser("report", help="per-sample report: HTML, JSON, TSV and annotated VCF")
    p.add_argument("--annotated", required=True, help="ANNOTATED.tsv from 'krasannot annotate'")
    p.add_argument("--matches", required=True,
                   help="MATCHES.tsv from 'krasannot match' (its MATCHES.samples.tsv is read too)")
    p.add_argument("--sample", required=True,
                   help="the sample's ID (names the output files); must be in the annotated table or its summary")
    p.add_argument("--tumor-type", help="OncoTree code of the sample; must be the one the matches were made for "
                                        "(default: that one, from MATCHES.samples.tsv)")
    p.add_argument("--outdir", required=True, help="folder for ID.report.html, .json, .calls.tsv ...")
    p.add_argument("--specimen", choices=M.SPECIMENS, help="tissue or plasma")
    p.add_argument("--patient-id", help="the sample's patient (the cohort page counts patients by it)")
    p.add_argument("--build", help="genome build (default: the annotated table's summary)")
    p.add_argument("--vcf", help="the input VCF: its records go into ID.annotated.vcf.gz")
    p.add_argument("--reproducible", action="store_true",
                   help=f"fix the run time in the provenance to {M.REPRODUCIBLE_RUN_TIME}")
    p.set_defaults(func=cmd_report)


def _add_run_parser(sub) -> None:
    p = sub.add_parser("run", help="annotate, match and report one sample in one command")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="any inputs 'annotate' reads, of one sample")
    p.add_argument("--sample", required=True, help="the sample's ID: names the report files")
    p.add_argument("--patient-id", help="the sample's patient (the cohort page counts patients by it)")
    p.add_argument("--input-sample", help="which sample of a multi-sample input to read (a VCF column, a MAF's "
                                          "Tumor_Sample_Barcode)")
    p.add_argument("--build", default="auto", help="GRCh37, GRCh38 or auto")
    p.add_argument("--outdir", required=True, help="folder for ID.report.html, .json, .calls.tsv, .annotated.tsv ...")
    p.add_argument("--reference", help="genome FASTA of the same build")
    p.add_argument("--bundle", help="a transcript bundle from 'krasannot reference build'")
    p.add_argument("--no-index", action="store_true", help="stream whole files even if indexed")
    p.add_argument("--list-outside", action="store_true",
                   help="list VCF records outside the panel in ID.annotated.tsv (default: counted); "
                        "needs --no-index for an indexed VCF")
    _add_assay_options(p)
    p.add_argument("--reproducible", action="store_true", help="fixed run time: byte-identical outputs")
    _add_match_options(p)
    p.set_defaults(func=cmd_run)


def _add_cohort_parser(sub) -> None:
    c = sub.add_parser("cohort", help="cohort summary of many reports: cohort.html and cohort.parquet")
    c.add_argument("report_dirs", nargs="+", metavar="REPORT_DIR",
                   help="directories holding ID.report.json, ID.calls.tsv, ID.matches.tsv (searched recursively)")
    c.add_argument("--outdir", required=True, help="folder for cohort.html and cohort.parquet")
    c.add_argument("--quiet", action="store_true", help="no progress on stderr")
    c.set_defaults(func=cmd_cohort)


def _add_compare_parser(sub) -> None:
    p = sub.add_parser("compare", help="one patient's timepoints: new, lost and rising alterations, and the "
                                       "resistance entries that fired for the prior therapy")
    p.add_argument("annotated", nargs="+", metavar="ANNOTATED.tsv",
                   help="annotated tables of the patient's samples, in timepoint order")
    p.add_argument("--matches", nargs="+", required=True, metavar="MATCHES.tsv",
                   help="matches tables of the same samples, in the same order")
    p.add_argument("--patient", required=True, type=safe_id, help="patient id (names PATIENT.changes.tsv/.html)")
    p.add_argument("--outdir", dest="out", required=True, help="folder for PATIENT.changes.tsv and .html")
    p.add_argument("--sample", dest="samples",
                   help="the samples' IDs, comma-separated, one per annotated table (default: from each table)")
    p.add_argument("--timepoints", help="comma-separated timepoint names (baseline,progression)")
    p.add_argument("--specimens", help="comma-separated specimens (tissue,plasma)")
    p.add_argument("--prior-therapy", help="comma-separated drugs or drug classes the patient progressed on")
    p.add_argument("--min-vaf-rise", type=fraction, default=M.VAF_RISE_ABSOLUTE,
                   help=f"absolute VAF increase that counts as rising (default {M.VAF_RISE_ABSOLUTE})")
    p.add_argument("--min-vaf-fold", type=at_least(1.0), default=M.VAF_RISE_FOLD,
                   help=f"and the fold increase, 1 or more (default {M.VAF_RISE_FOLD})")
    p.add_argument("--kb", help="evidence directory (default: the bundled resources/evidence)")
    p.set_defaults(func=cmd_compare)


def _add_kb_parser(sub) -> None:
    kb = sub.add_parser("kb", help="the evidence base").add_subparsers(dest="kb_command", required=True)
    k = kb.add_parser("validate", help="schema, genes, residues, OncoTree codes, citations, duplicates; "
                                       "warns about entries due for review")
    k.add_argument("--kb-dir", help="evidence directory (default: the shipped one)")
    k.add_argument("--as-of", type=iso_date, metavar="YYYY-MM-DD",
                   help="date the review ages are counted to (default: today)")
    k.set_defaults(func=cmd_kb_validate)
    k = kb.add_parser("show", help="list the entries")
    k.add_argument("--gene", help="only entries naming this gene")
    k.add_argument("--changes", action="store_true",
                   help="list entries and drug classes added, removed or changed since the previous release")
    k.add_argument("--since", metavar="VERSION|DIR",
                   help="with --changes: a release with a snapshot (resources/evidence/releases/), or an "
                        "evidence directory to compare with (default: the release before this one)")
    k.add_argument("--kb-dir", help="evidence directory (default: the shipped one)")
    k.set_defaults(func=cmd_kb_show)
    k = kb.add_parser("import-civic",
                      help="CIViC's ClinicalEvidenceSummaries TSV (CC0) -> an evidence file (source: civic)")
    k.add_argument("civic_tsv", metavar="CIVIC_TSV", help="CIViC nightly ClinicalEvidenceSummaries.tsv")
    k.add_argument("--out", required=True, help="evidence YAML to write (load it with the evidence base as "
                                                "an extra file; it never replaces curated entries)")
    k.set_defaults(func=cmd_kb_import_civic)


def _add_reference_parser(sub) -> None:
    ref = sub.add_parser("reference", help="transcript bundles").add_subparsers(dest="reference_command",
                                                                               required=True)
    b = ref.add_parser("build", help="write a bundle from an Ensembl/GENCODE GTF and a genome FASTA")
    b.add_argument("--gtf", required=True, help="Ensembl or GENCODE GTF (plain or gzipped)")
    b.add_argument("--fasta", required=True, help="genome FASTA of the same build (indexed or indexable)")
    b.add_argument("--genes", required=True, help="comma-separated gene names, or a file with one per line")
    b.add_argument("--build", required=True, help="the build of the GTF and FASTA: GRCh37 or GRCh38")
    b.add_argument("--out", required=True, help="bundle JSON to write")
    b.set_defaults(func=cmd_reference_build)
    r = ref.add_parser("from-refdata", help="rebuild the shipped panel bundles from shared/refdata")
    r.add_argument("json", help="panel_transcripts.json")
    r.add_argument("outdir", help="folder to write GRCh37.bundle.json and GRCh38.bundle.json into")
    r.set_defaults(func=cmd_reference_from_refdata)


SUBCOMMAND_PARSERS = {"annotate": _add_annotate_parser, "genotype": _add_genotype_parser,
                      "match": _add_match_parser, "report": _add_report_parser, "run": _add_run_parser,
                      "cohort": _add_cohort_parser, "compare": _add_compare_parser, "kb": _add_kb_parser,
                      "reference": _add_reference_parser}


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The command line parser; given the arguments, only their subcommand's parser is built (argparse
    spends ~10 ms building all of them), otherwise every one (for --help and for a misspelt name)."""
    parser = argparse.ArgumentParser(prog="krasannot", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"krasannot {__version__}")
    parser.add_argument("--debug", action="store_true", help="show a traceback on internal errors")
    sub = parser.add_subparsers(dest="command", required=True)
    named = next((a for a in argv or [] if not a.startswith("-")), None)
    for name, add in SUBCOMMAND_PARSERS.items():
        if named not in SUBCOMMAND_PARSERS or name == named:
            add(sub)
    return parser


# ---------------------------------------------------------------- main

def _one_line(text: str) -> str:
    """A message on one line, whatever line breaks and runs of spaces it holds."""
    return " ".join(text.split())


def _raise_terminated(signum, frame) -> None:
    raise Terminated()


def main(argv: list[str] | None = None) -> int:
    import signal
    import threading

    program = argv is None  # the krasannot command itself, whose process ends when main returns
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(argv).parse_args(argv)
    on_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _raise_terminated) if on_main_thread else None
    import logging

    library_log, handler = logging.getLogger("krasannot"), _stderr_lines()
    before = library_log.level, library_log.propagate
    library_log.addHandler(handler)
    library_log.setLevel(logging.INFO)
    library_log.propagate = False  # this command's lines, not a root logger's as well
    try:
        return args.func(args)
    except KrasannotError as exc:
        print(f"krasannot: error: {_one_line(str(exc))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("krasannot: interrupted (SIGINT); temp files removed, no partial output left", file=sys.stderr)
        return EXIT_SIGINT
    except Terminated:
        print("krasannot: terminated (SIGTERM); temp files removed, no partial output left", file=sys.stderr)
        return EXIT_SIGTERM
    except OSError as exc:  # the machine's, not ours: disk full, permissions, a path that vanished
        if args.debug:
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"krasannot: error: {where}{exc.strerror or exc} (check the path, its permissions and the free "
              "disk space)", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as exc:  # a bug: say so in one line, keep the traceback behind --debug
        if args.debug:
            raise
        print(f"krasannot: internal error: {type(exc).__name__}: {_one_line(str(exc))[:500]} "
              "(rerun with --debug for a traceback and please report it)", file=sys.stderr)
        return EXIT_INTERNAL
    finally:
        library_log.removeHandler(handler)
        library_log.setLevel(before[0])
        library_log.propagate = before[1]
        if on_main_thread:
            signal.signal(signal.SIGTERM, previous)
        if program:
            # Python's last garbage collections at exit walk every object pandas and numpy made (70-100 ms
            # of each command): leave them to the end of the process. Outputs are closed (and renamed)
            # already, and the standard streams are flushed at exit either way.
            import gc

            gc.freeze()


if __name__ == "__main__":
    raise SystemExit(main())
