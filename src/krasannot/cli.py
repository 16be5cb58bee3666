"""Command line: one subcommand per pipeline step. The only place errors become exit codes."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__
from . import columns as C
from . import models as M
from .argtypes import at_least, iso_date
from .errors import KrasannotError, UsageError

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT = 0, 1, 2
EXIT_SIGINT, EXIT_SIGTERM = 130, 143  # 128 + signal number, as shells report them


class Terminated(BaseException):
    """SIGTERM (what SLURM and Kubernetes send), raised where the process is so that every
    `finally` removes its temp files and staging folders, as for Ctrl-C."""


def progress(message: str) -> None:
    """A stage of long work on stderr, only when a person watches (stderr is a terminal)."""
    if sys.stderr.isatty():
        print(f"krasannot: {message}", file=sys.stderr, flush=True)


@dataclass
class _Annotated:
    """What the annotate step gives: the annotated table, and what it needs to account for its inputs."""

    annotated: object                  # the annotated table
    summary: dict
    raw_outside: list = field(default_factory=list)  # (spool, samples, source) of outside-panel VCF records
    skipped: object = None             # rows the readers could not use, with the reason


def _builds_to_read(path: str, input_format: str, requested: str) -> tuple[str, ...]:
    """Whose panel regions to read: the header's build when its ##contig lengths say it;
    otherwise both, because calls on the other build's genes are how a wrong build shows."""
    from .reference.builds import BUILDS, build_from_contig_lengths

    if input_format == "vcf":
        from .io.vcf import read_header

        header_build = build_from_contig_lengths(read_header(path).contig_lengths)[0]
        if header_build is not None and requested in ("auto", header_build):
            return (header_build,)
    return BUILDS


def annotate_inputs(args: argparse.Namespace, stack: ExitStack) -> _Annotated:
    """Read every input with its reader, choose the build, annotate and classify: the annotate step."""
    import pandas as pd

    from .annotate.classify import classify_calls
    from .annotate.pipeline import annotate_calls, annotate_gene_level_calls, with_call_defaults
    from .evidence.kb import shipped_kb
    from .io.fusions import structural_records_to_calls
    from .io.inputs import sniff_format, read_any
    from .io.vcf import SV_INFO
    from .io.result import empty_skipped
    from .reference.builds import BUILDS, parse_build
    from .reference.bundle import load_bundle, load_bundled_panel, with_reference_sequence

    requested = parse_build(args.build)
    if args.bundle:
        custom = load_bundle(args.bundle)
        panels = {custom.build: custom}
        if requested not in ("auto", custom.build):
            raise UsageError(f"--bundle is for {custom.build} but --build says {requested}")
        requested = custom.build
    else:
        panels = {b: load_bundled_panel(b) for b in BUILDS}
    kb = shipped_kb()  # first, so a broken evidence base stops the run before any input is read
    formats = {path: sniff_format(path) for path in args.inputs}
    reads, raw_outside = [], []
    # ctDNA tables are placed on the genome through the panel, so they are read once the build is known
    for path in sorted(args.inputs, key=lambda p: formats[p] == "ctdna"):
        fmt = formats[path]
        if fmt == "ctdna":
            build = _chosen_build(requested, reads, panels, path)[0]
            panel_for_table = panels.get(build or "GRCh38", next(iter(panels.values())))
            reads.append((path, read_any(path, fmt, sample=args.input_sample, regions=[], use_index=False,
                                         on_outside=None, panel=panel_for_table)))
            continue
        builds = _builds_to_read(path, fmt, requested) if fmt == "vcf" else BUILDS
        regions = sorted({r for b, p in panels.items() if b in builds for r in p.regions()})
        spool = stack.enter_context(tempfile.TemporaryFile())
        progress(f"reading {path} ({fmt})")
        read = read_any(path, fmt, sample=args.input_sample, regions=regions, use_index=not args.no_index,
                        on_outside=spool.write, build=requested)
        reads.append((path, read))
        progress(f"{path}: {read.n_records:,} records read")
        if read.n_outside:
            raw_outside.append((spool, ",".join(read.samples), read.format))
    for warning in (f"{path}: {w}" for path, r in reads for w in r.warnings):  # e.g. most rows failing one way
        print(f"krasannot: warning: {warning}", file=sys.stderr)
    build, why = _chosen_build(requested, reads, panels, args.inputs[0])
    if build:  # symbolic and breakend VCF records become copy-number and fusion calls on the build's genes
        for _, read in reads:
            if read.format == "vcf" and SV_INFO in read.calls:
                other, structural, sv_skipped = structural_records_to_calls(read.calls, build)
                read.calls = pd.concat([other, structural], ignore_index=True)
                read.skipped = pd.concat([read.skipped, sv_skipped], ignore_index=True)
    all_calls = pd.concat([with_call_defaults(r.calls) for _, r in reads], ignore_index=True)
    panel = panels[build] if build else next(iter(panels.values()))
    if args.reference and build:
        panel = with_reference_sequence(panel, args.reference)
    other = next((p for b, p in panels.items() if b != panel.build), None)
    if args.sample:  # the sheet's ID for a tumour column named TUMOR, or a table's file name
        read_samples = sorted({s for s in all_calls[C.SAMPLE].dropna() if s and "," not in s})
        if len(read_samples) > 1:
            raise UsageError(f"the inputs hold {len(read_samples)} samples ({', '.join(read_samples[:5])}), "
                             f"and --sample names one", hint="choose the one to read with --input-sample")
        all_calls[C.SAMPLE] = args.sample
        raw_outside = [(spool, args.sample, fmt) for spool, _, fmt in raw_outside]
        samples = [args.sample]
        # a gene-panel matrix names the sample as the input did (a MAF's Tumor_Sample_Barcode)
        input_names = {args.sample: args.input_sample or (read_samples[0] if read_samples else args.sample)}
    else:  # every sample read, those without a panel call too: a negative result is a result
        samples = list(dict.fromkeys([s for _, r in reads for s in r.samples]
                                     + [s for s in all_calls[C.SAMPLE].dropna() if s and "," not in s]))
        input_names = {}
    progress(f"annotating {len(all_calls):,} call(s) in the panel regions")
    annotated = annotate_calls(all_calls, panel, other)
    assessment, assessed_by = _assessment_rows(args, annotated, panel, build, samples, input_names)
    if len(assessment):
        annotated = pd.concat([annotated, annotate_gene_level_calls(with_call_defaults(assessment))],
                              ignore_index=True)
    annotated = classify_calls(annotated, specimen=args.specimen)  # resistance only in context: see match
    skipped = pd.concat([r.skipped for _, r in reads] + [empty_skipped()], ignore_index=True)

    counts = annotated[C.STATUS].value_counts().to_dict()
    n_outside = sum(r.n_outside for _, r in reads)
    counts[M.STATUS_OUTSIDE_PANEL] = counts.get(M.STATUS_OUTSIDE_PANEL, 0) + n_outside
    summary = {
        "krasannot_version": __version__,
        "created": _created(args),
        "inputs": [{"path": path, "format": r.format, "checksum": r.checksum, "records_read": r.n_records,
                    "indexed_panel_regions_only": r.indexed, "samples": r.samples, "notes": r.notes}
                   for path, r in reads],
        "samples": samples,
        "genome_build": build, "build_reason": why,
        "transcript_bundle": {"path": panel.path, "source": panel.source} if build else None,
        "evidence_base": {"version": kb.version, "released": kb.released},
        "records_read": sum(r.n_records for _, r in reads),
        "rows_by_status": counts,
        "rows_skipped": int(len(skipped)),
        "records_of_other_samples": sum(r.n_other_samples for _, r in reads),
        "skipped_by_reason": skipped["reason"].value_counts().to_dict() if len(skipped) else {},
        "mnv_merges": annotated.loc[annotated[C.MNV_MERGE].fillna("") != "", C.MNV_MERGE].tolist(),
        "source_protein_changes": _compare_source_protein(annotated),
        "notes": [f"{path}: records outside the panel regions were skipped through the index and are not listed"
                  for path, r in reads if r.indexed],
        "assessed_by": assessed_by,
    }
    return _Annotated(annotated, summary, raw_outside, skipped)


def _assessment_rows(args: argparse.Namespace, annotated, panel, build: str | None, samples: list[str],
                     input_names: dict[str, str]):
    """not_detected / not_assessed rows from --targets (codon level) and --gene-panel (gene level), and
    what they rest on (for the summary). `input_names`: a sample's name in the input, where --sample renamed it."""
    import pandas as pd

    from .annotate.classify import residue_numbers
    from .genotype.caller import MIN_DEPTH
    from .io.targets import (assessment_from_gene_panels, assessment_from_targets, read_gene_panels,
                             read_targets)

    parts, assessed_by = [], []
    targets_path, panel_paths = getattr(args, "targets", None), getattr(args, "gene_panel", None) or []
    if (targets_path or panel_paths) and build is None:
        raise UsageError("--targets and --gene-panel need the genome build, and the inputs do not tell it",
                         hint="give --build GRCh37 or GRCh38")
    if targets_path:
        targets = read_targets(targets_path)
        min_depth = args.min_target_depth if args.min_target_depth is not None else MIN_DEPTH[args.specimen]
        detected = annotated[annotated[C.DETECTION] == M.DETECTION_DETECTED]
        called = set(zip(detected[C.SAMPLE], detected[C.GENE].fillna(""), residue_numbers(detected)))
        parts.append(assessment_from_targets(targets, panel, samples, min_depth, called))
        assessed_by.append({"kind": "targets", "path": targets_path, "level": "codon",
                            "min_depth": min_depth if targets.has_depth else None,
                            "depth_given": targets.has_depth})
    if panel_paths:
        matrix, gene_lists, matrix_path = read_gene_panels(panel_paths)
        parts.append(assessment_from_gene_panels(matrix, gene_lists, panel, samples, matrix_path, input_names))
        assessed_by.append({"kind": "gene_panel", "path": matrix_path, "level": "gene",
                            "panels": sorted(set(matrix["panel"]) - {"", "NA"})})
    return (pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()), assessed_by


def _chosen_build(requested: str, reads: list, panels: dict, path: str) -> tuple[str | None, str]:
    """The build of the inputs read so far, and why: ##contig lengths, a MAF's NCBI_Build, or REF votes."""
    import pandas as pd

    from .annotate.normalize import reference_votes
    from .annotate.pipeline import has_genomic_allele
    from .io.inputs import BUILD_FREE
    from .reference.builds import choose_build

    sequence = [r for _, r in reads if r.format not in BUILD_FREE]
    calls = pd.concat([r.calls for r in sequence], ignore_index=True) if sequence else pd.DataFrame()
    if len(calls):
        calls = calls[has_genomic_allele(calls)]  # only calls with a genomic allele can vote
    if not len(calls):
        build = None if requested == "auto" else requested
        return build, "given" if build else "no sequence call to tell the build from"
    lengths = next((r.contig_lengths for r in sequence if r.contig_lengths), {})
    declared = next((r.declared_build for r in sequence if r.declared_build), None)
    votes = reference_votes(calls, list(panels.values()))
    return choose_build(requested, lengths, votes, len(calls), path, declared=declared)


def _created(args: argparse.Namespace) -> str:
    """Run time for provenance; --reproducible fixes it so outputs are byte-identical."""
    if getattr(args, "reproducible", False):
        return "1970-01-01T00:00:00+00:00"
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def cmd_annotate(args: argparse.Namespace) -> int:
    from .files import check_output_file, write_json, write_together
    from .io.tables import write_annotated_tsv, write_skipped_tsv

    check_output_file(Path(args.out))  # before any input is read
    with ExitStack() as stack:
        result = annotate_inputs(args, stack)
        if (getattr(args, "format", None) or ("maf" if str(args.out).endswith(".maf") else "tsv")) == "maf":
            from .io.maf_writer import write_annotated_maf

            def write_main(path):
                write_annotated_maf(result.annotated, path, result.summary["genome_build"], args.bundle)
        else:
            def write_main(path):
                write_annotated_tsv(result.annotated, path, raw_outside=result.raw_outside)
        write_together({args.out: write_main,
                        _beside(args.out, ".skipped.tsv"): lambda path: write_skipped_tsv(result.skipped, path),
                        _beside(args.out, ".summary.json"): lambda path: write_json(result.summary, path)},
                       "annotate")
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


def _compare_source_protein(annotated) -> dict:
    """Our protein change against the one the input brought (a MAF's HGVSp_Short), where both exist."""
    if C.SOURCE_HGVSP_SHORT not in annotated:
        return {"compared": 0, "agree": 0, "disagreements": []}
    both = annotated[(annotated[C.STATUS] == M.STATUS_ANNOTATED) & (annotated[C.HGVSP_SHORT] != "")
                     & annotated[C.SOURCE_HGVSP_SHORT].fillna("").str.startswith("p.")
                     & ~annotated[C.SOURCE_HGVSP_SHORT].fillna("").str.contains("_splice")]
    differ = both[both[C.HGVSP_SHORT] != both[C.SOURCE_HGVSP_SHORT]]
    listed = [f"{r[C.SAMPLE]} {r[C.GENE]} ours {r[C.HGVSP_SHORT]} ({r[C.TRANSCRIPT]}), source "
              f"{r[C.SOURCE_HGVSP_SHORT]} ({r[C.SOURCE_TRANSCRIPT]})" for _, r in differ.head(200).iterrows()]
    return {"compared": int(len(both)), "agree": int(len(both) - len(differ)), "disagreements": listed}


def _beside(out: str, suffix: str) -> str:
    """OUT.tsv -> OUT<suffix> (OUT.summary.json, OUT.skipped.tsv)."""
    path = Path(out)
    stem = path.name[:-4] if path.name.endswith((".tsv", ".maf")) else path.name
    return str(path.with_name(stem + suffix))


def _read_annotated(path: str):
    """An annotated TSV back into a table (every cell text; numbers parsed where used)."""
    from .annotate.pipeline import with_call_defaults
    from .io.tables import read_annotated_tsv

    return with_call_defaults(read_annotated_tsv(path))


def _known_drugs(kb) -> set[str]:
    return {d.lower() for e in kb.entries for d in e.drugs} | {d.lower() for ds in kb.drug_classes.values()
                                                             for d in ds} | {c.lower() for c in kb.drug_classes}


def _prior_therapies(text: str | None, kb) -> list[str]:
    """--prior-therapy names, each a drug or drug class the evidence base knows (a typo would silently
    hide acquired resistance)."""
    import difflib

    names = [p.strip() for p in (text or "").split(",") if p.strip()]
    known = _known_drugs(kb)
    for name in names:
        if name.lower() not in known:
            close = difflib.get_close_matches(name.lower(), sorted(known), n=3)
            raise UsageError(f"--prior-therapy: unknown drug or drug class {name!r}",
                             hint=("did you mean " + ", ".join(close) + "?") if close else
                             "see 'krasannot kb show' for the drugs and classes the evidence base knows")
    return names


def match_annotated(annotated, args: argparse.Namespace, samples: list[str] | None = None):
    """Matches and per-sample summary for every sample of an annotated table: the match step.

    `samples` are the samples annotate read (its summary's "samples"): each gets a summary row and
    its tumour-agnostic matches even without a single row in the table (a negative result)."""
    import pandas as pd

    from .annotate.classify import classify_calls, summarize_samples
    from .evidence.kb import shipped_kb
    from .evidence.match import contextual_resistance, match_samples

    kb = shipped_kb()
    tumor_type = kb.oncotree.check(args.tumor_type)
    prior = _prior_therapies(args.prior_therapy, kb)
    # raw outside rows may list several samples in one cell
    names = list(dict.fromkeys(list(samples or []) + [s for s in pd.unique(annotated[C.SAMPLE]) if s and "," not in s]))
    if args.sample:
        if args.sample not in names:
            raise UsageError(f"sample {args.sample!r} is not in the annotated table or its summary",
                             hint="samples there: " + (", ".join(sorted(names)[:10]) or "none"))
        annotated, names = annotated[annotated[C.SAMPLE] == args.sample], [args.sample]
    annotated = classify_calls(annotated, specimen=args.specimen)
    samples = pd.DataFrame({C.SAMPLE: names, C.TUMOR_TYPE: tumor_type, "specimen": args.specimen,
                            "prior_therapies": [prior] * len(names), "msi_high": args.msi_high, "tmb": args.tmb})
    matches = match_samples(annotated, samples, kb, include_filtered=args.include_filtered)
    annotated = contextual_resistance(annotated, matches)
    summary = summarize_samples(annotated[annotated[C.SAMPLE].isin(names)], matches, args.include_filtered,
                                samples=names)
    summary.insert(1, C.TUMOR_TYPE, tumor_type)
    summary.insert(2, "specimen", args.specimen)
    summary.insert(3, "prior_therapies", ",".join(prior))
    return annotated, matches, summary, kb


def cmd_match(args: argparse.Namespace) -> int:
    from .files import check_output_file, write_together
    from .report.render import samples_in_summary

    check_output_file(Path(args.out))
    _, matches, summary, _ = match_annotated(_read_annotated(args.annotated), args,
                                             samples_in_summary(args.annotated))
    write_together({args.out: lambda path: matches.to_csv(path, sep="\t", index=False, lineterminator="\n"),
                    _beside(args.out, ".samples.tsv"): lambda path: summary.to_csv(
                        path, sep="\t", index=False, lineterminator="\n")}, "match")
    print(f"{args.out}: {len(matches)} matches for {len(summary)} sample(s)", file=sys.stderr)
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    """annotate -> match -> report for one sample, in memory, writing only when every step succeeded."""
    from pathlib import Path as _Path

    from .evidence.oncotree import load_oncotree
    from .files import prepare_outdir, write_json
    from .io.tables import write_annotated_tsv, write_skipped_tsv
    from .report.render import check_sample_id, write_sample_report

    sample = check_sample_id(args.sample)
    load_oncotree().check(args.tumor_type)  # before any input is read
    prepare_outdir(args.outdir)
    with ExitStack() as stack:
        result = annotate_inputs(args, stack)
        progress("matching and writing the report")
        annotated, matches, summary, kb = match_annotated(result.annotated, args, result.summary["samples"])
        build = result.summary["genome_build"]
        vcf_inputs = [i["path"] for i in result.summary["inputs"] if i["format"] == "vcf"]
        provenance = {
            "krasannot_version": __version__,
            "evidence_base": {"version": kb.version, "released": kb.released},
            "transcript_bundle": {"name": _Path(str((result.summary["transcript_bundle"] or {}).get("path", ""))).name
                                  or None, "source": (result.summary["transcript_bundle"] or {}).get("source")},
            "build_reason": result.summary["build_reason"],
            "inputs": [{"role": i["format"], "name": _Path(i["path"]).name, "sha256": i["checksum"]}
                       for i in result.summary["inputs"]],
            "records_read": result.summary["records_read"],
            "rows_by_status": result.summary["rows_by_status"],
            "rows_skipped": result.summary["rows_skipped"],
        }
        outdir = _Path(args.outdir)
        annotate_outputs = {  # annotate's and match's outputs, written with the report's: all or none
            ".annotated.tsv": lambda path: write_annotated_tsv(annotated, path, raw_outside=result.raw_outside),
            ".annotated.skipped.tsv": lambda path: write_skipped_tsv(result.skipped, path),
            ".annotated.summary.json": lambda path: write_json(result.summary, path),
            ".matches.samples.tsv": lambda path: summary.to_csv(path, sep="\t", index=False, lineterminator="\n")}
        write_sample_report(annotated, matches, summary, sample=sample, tumor_type=summary.at[0, C.TUMOR_TYPE],
                            specimen=args.specimen, build=build, outdir=outdir, provenance=provenance,
                            input_vcf=vcf_inputs[0] if len(vcf_inputs) == 1 else None,
                            reproducible=args.reproducible, patient_id=args.patient_id,
                            extra_outputs=annotate_outputs)
    print(f"{outdir}/{sample}.report.html: {_accounting(result.summary)}; {len(matches)} matches; "
          f"KRAS {summary.at[0, C.KRAS_STATUS]}", file=sys.stderr)
    return EXIT_OK


def _panel_genes() -> tuple[dict[str, str], set[str]]:
    """Proteins of the panel's genes, and every gene name the product knows (panel + gene loci)."""
    from .io.cnv import gene_loci
    from .reference.bundle import load_bundled_panel

    proteins = {tx.gene: tx.protein for tx in load_bundled_panel("GRCh38").transcripts}
    return proteins, set(proteins) | set(gene_loci("GRCh38")["gene"])


def cmd_kb_validate(args: argparse.Namespace) -> int:
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
    p.add_argument("--specimen", choices=["tissue", "plasma"], default="tissue",
                   help="tissue or plasma (plasma flags low-VAF calls in clonal-haematopoiesis genes such as TP53)")
    p.add_argument("--prior-therapy", help="drugs or classes the patient progressed on: sotorasib,anti_EGFR")
    p.add_argument("--msi-high", action="store_true", help="the sample is MSI-high / dMMR")
    p.add_argument("--tmb", type=at_least(0.0), default=float("nan"),
                   help="tumour mutational burden, mut/Mb (0 or more)")
    p.add_argument("--include-filtered", action="store_true", help="match non-PASS calls too")


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="krasannot", description=__doc__)
    parser.add_argument("--version", action="version", version=f"krasannot {__version__}")
    parser.add_argument("--debug", action="store_true", help="show a traceback on internal errors")
    sub = parser.add_subparsers(dest="command", required=True)
    from .report.longitudinal import register as _register_compare; _register_compare(sub)
    from .report.render import register as _register_report; _register_report(sub)

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
    p.add_argument("--specimen", choices=["tissue", "plasma"], default="tissue",
                   help="plasma flags low-VAF calls in clonal-haematopoiesis genes such as TP53")
    p.add_argument("--reproducible", action="store_true", help="fixed run time in the summary")
    p.add_argument("--reference", help="genome FASTA of the same build: REF checks and shifts use its sequence")
    p.add_argument("--bundle", help="a transcript bundle from 'krasannot reference build' instead of the panel")
    _add_assay_options(p)
    p.add_argument("--no-index", action="store_true",
                   help="stream the whole file even if indexed, listing every record outside the panel")
    p.set_defaults(func=cmd_annotate)
    from .genotype.caller import register as _register_genotype; _register_genotype(sub)  # noqa: E702

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
    _add_assay_options(p)
    p.add_argument("--reproducible", action="store_true", help="fixed run time: byte-identical outputs")
    _add_match_options(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("match", help="annotated calls x evidence base -> therapy matches")
    p.add_argument("annotated", help="the TSV 'krasannot annotate' wrote")
    p.add_argument("--out", required=True, help="MATCHES.tsv; MATCHES.samples.tsv (key findings) is written beside")
    p.add_argument("--sample", help="the sample's ID: match only this sample of the table")
    _add_match_options(p)
    p.set_defaults(func=cmd_match)

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
    from .evidence.civic import add_civic_parser

    add_civic_parser(kb)

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
    return parser


def _one_line(text: str) -> str:
    """A message on one line, whatever line breaks and runs of spaces it holds."""
    return " ".join(text.split())


def _raise_terminated(signum, frame) -> None:
    raise Terminated()


def main(argv: list[str] | None = None) -> int:
    import signal
    import threading

    parser = build_parser()
    args = parser.parse_args(argv)
    on_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _raise_terminated) if on_main_thread else None
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
        if on_main_thread:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    raise SystemExit(main())
