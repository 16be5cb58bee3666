"""Command line: one subcommand per pipeline step. The only place errors become exit codes."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
from pathlib import Path
from typing import Iterator

from . import __version__
from . import columns as C
from . import models as M
from .errors import KrasannotError, UsageError

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT = 0, 1, 2


def _spooled(spool, size: int = 8 << 20) -> Iterator[bytes]:
    spool.seek(0)
    while chunk := spool.read(size):
        yield chunk


def cmd_annotate(args: argparse.Namespace) -> int:
    import pandas as pd

    from .annotate.normalize import reference_votes
    from .annotate.pipeline import annotate_calls
    from .io.tables import line_aligned, write_annotated_tsv, write_json
    from .io.vcf import read_vcf
    from .reference.builds import BUILDS, choose_build, parse_build
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
    # read both builds' panel regions: calls on the other build's genes are how a wrong build shows
    regions = sorted({r for p in panels.values() for r in p.regions()})

    with tempfile.TemporaryFile() as spool:
        read = read_vcf(args.input, sample=args.sample, regions=regions, use_index=not args.no_index,
                        on_outside=spool.write)
        votes = reference_votes(read.calls, list(panels.values()))
        build, why = choose_build(requested, read.header.contig_lengths, votes, len(read.calls), args.input)
        # with no call in either panel (build None) any panel gives the same, empty, annotation
        panel = panels[build] if build else next(iter(panels.values()))
        if args.reference and build:
            panel = with_reference_sequence(panel, args.reference)
        other = next((p for b, p in panels.items() if b != panel.build), None)
        annotated = annotate_calls(read.calls, panel, other)
        # outside-panel records are listed once per record, under the sample(s) read
        write_annotated_tsv(annotated, args.out, raw_outside=line_aligned(_spooled(spool)),
                            raw_sample=",".join(read.samples_read), raw_source="vcf")

    counts = annotated[C.STATUS].value_counts().to_dict()
    counts[M.STATUS_OUTSIDE_PANEL] = counts.get(M.STATUS_OUTSIDE_PANEL, 0) + read.n_outside
    summary = {
        "krasannot_version": __version__,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "input": {"path": args.input, "checksum": read.checksum, "records_read": read.n_records,
                  "indexed_panel_regions_only": read.indexed,
                  "samples": read.header.samples},
        "genome_build": build, "build_reason": why,
        "transcript_bundle": {"path": panel.path, "source": panel.source} if build else None,
        "rows_by_status": counts,
        "mnv_merges": annotated.loc[annotated[C.MNV_MERGE].fillna("") != "", C.MNV_MERGE].tolist(),
        "notes": (["records outside the panel regions were skipped through the index and are not listed"]
                  if read.indexed else []),
    }
    write_json(summary, _summary_path(args.out))
    annotated_n = counts.get(M.STATUS_ANNOTATED, 0)
    print(f"{args.out}: {read.n_records} records, {annotated_n} annotated rows, build {build} ({why})",
          file=sys.stderr)
    return EXIT_OK


def _summary_path(out: str) -> str:
    path = Path(out)
    stem = path.name[:-4] if path.name.endswith(".tsv") else path.name
    return str(path.with_name(stem + ".summary.json"))


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

    p = sub.add_parser("annotate", help="VCF in, one annotated row per variant allele out")
    p.add_argument("input", help="VCF or bgzipped VCF (.vcf, .vcf.gz)")
    p.add_argument("--build", default="auto", help="GRCh37, GRCh38 or auto (from ##contig lengths or REF alleles)")
    p.add_argument("--out", required=True, help="output TSV; a .summary.json is written beside it")
    p.add_argument("--sample", help="sample column to read (default: ##tumor_sample, TUMOR, or all)")
    p.add_argument("--reference", help="genome FASTA of the same build: REF checks and shifts use its sequence")
    p.add_argument("--bundle", help="a transcript bundle from 'krasannot reference build' instead of the panel")
    p.add_argument("--no-index", action="store_true",
                   help="stream the whole file even if indexed, listing every record outside the panel")
    p.set_defaults(func=cmd_annotate)

    ref = sub.add_parser("reference", help="transcript bundles").add_subparsers(dest="reference_command",
                                                                               required=True)
    b = ref.add_parser("build", help="write a bundle from an Ensembl/GENCODE GTF and a genome FASTA")
    b.add_argument("--gtf", required=True)
    b.add_argument("--fasta", required=True)
    b.add_argument("--genes", required=True, help="comma-separated gene names, or a file with one per line")
    b.add_argument("--build", required=True)
    b.add_argument("--out", required=True, help="bundle JSON to write")
    b.set_defaults(func=cmd_reference_build)
    r = ref.add_parser("from-refdata", help="rebuild the shipped panel bundles from shared/refdata")
    r.add_argument("json", help="panel_transcripts.json")
    r.add_argument("outdir", help="where to write GRCh37.bundle.json and GRCh38.bundle.json")
    r.set_defaults(func=cmd_reference_from_refdata)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except KrasannotError as exc:
        print(f"krasannot: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("krasannot: interrupted; no output was written", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: say so in one line, keep the traceback behind --debug
        if args.debug:
            raise
        print(f"krasannot: internal error: {type(exc).__name__}: {exc} "
              "(rerun with --debug for a traceback and please report it)", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    raise SystemExit(main())
