"""Command line: one subcommand per pipeline step. The only place errors become exit codes."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
from dataclasses import dataclass, field
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


@dataclass
class _Input:
    """What any reader gives the annotate command."""

    format: str
    calls: object                      # the calls table
    samples: list[str]
    n_records: int
    checksum: str
    contig_lengths: dict = field(default_factory=dict)
    declared_build: str | None = None  # a MAF's NCBI_Build
    n_outside: int = 0                 # raw outside-panel records spooled (VCF)
    indexed: bool = False


def _sniff_format(path: str) -> str:
    """'maf' for a MAF header, else 'vcf' (whose reader explains what is wrong with a non-VCF)."""
    import gzip

    from .io.maf import looks_like_maf

    try:
        with open(path, "rb") as handle:
            head = handle.read(1 << 16)
        if head[:2] == b"\x1f\x8b":
            with gzip.open(path, "rb") as handle:
                head = handle.read(1 << 16)
    except (OSError, EOFError):
        return "vcf"
    lines = head.decode("utf-8", "replace").splitlines()[:50]
    return "maf" if not head.startswith(b"##fileformat=VCF") and looks_like_maf(lines) else "vcf"


def _read_input(args: argparse.Namespace, input_format: str, regions: list, spool) -> _Input:
    if input_format == "maf":
        from .io.maf import read_maf

        maf = read_maf(args.input, sample=args.sample)
        declared = next(iter(maf.builds)) if len(maf.builds) == 1 else None
        return _Input("maf", maf.calls, maf.samples, maf.n_records, maf.checksum, declared_build=declared)
    from .io.vcf import read_vcf

    vcf = read_vcf(args.input, sample=args.sample, regions=regions, use_index=not args.no_index,
                   on_outside=spool.write)
    return _Input("vcf", vcf.calls, vcf.samples_read, vcf.n_records, vcf.checksum,
                  contig_lengths=vcf.header.contig_lengths, n_outside=vcf.n_outside, indexed=vcf.indexed)


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


def cmd_annotate(args: argparse.Namespace) -> int:
    from .annotate.normalize import reference_votes
    from .annotate.pipeline import annotate_calls
    from .io.tables import line_aligned, write_annotated_tsv, write_json
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
    input_format = _sniff_format(args.input)
    builds = _builds_to_read(args.input, input_format, requested)
    regions = sorted({r for b, p in panels.items() if b in builds for r in p.regions()})

    with tempfile.TemporaryFile() as spool:
        read = _read_input(args, input_format, regions, spool)
        votes = reference_votes(read.calls, list(panels.values()))
        build, why = choose_build(requested, read.contig_lengths, votes, len(read.calls), args.input,
                                  declared=read.declared_build)
        # with no call in either panel (build None) any panel gives the same, empty, annotation
        panel = panels[build] if build else next(iter(panels.values()))
        if args.reference and build:
            panel = with_reference_sequence(panel, args.reference)
        other = next((p for b, p in panels.items() if b != panel.build), None)
        annotated = annotate_calls(read.calls, panel, other)
        # outside-panel records are listed once per record, under the sample(s) read
        write_annotated_tsv(annotated, args.out, raw_outside=line_aligned(_spooled(spool)),
                            raw_sample=",".join(read.samples), raw_source=read.format)

    counts = annotated[C.STATUS].value_counts().to_dict()
    counts[M.STATUS_OUTSIDE_PANEL] = counts.get(M.STATUS_OUTSIDE_PANEL, 0) + read.n_outside
    summary = {
        "krasannot_version": __version__,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "input": {"path": args.input, "format": read.format, "checksum": read.checksum,
                  "records_read": read.n_records, "indexed_panel_regions_only": read.indexed,
                  "samples": read.samples},
        "genome_build": build, "build_reason": why,
        "transcript_bundle": {"path": panel.path, "source": panel.source} if build else None,
        "rows_by_status": counts,
        "mnv_merges": annotated.loc[annotated[C.MNV_MERGE].fillna("") != "", C.MNV_MERGE].tolist(),
        "source_protein_changes": _compare_source_protein(annotated),
        "notes": (["records outside the panel regions were skipped through the index and are not listed"]
                  if read.indexed else []),
    }
    write_json(summary, _summary_path(args.out))
    annotated_n = counts.get(M.STATUS_ANNOTATED, 0)
    print(f"{args.out}: {read.n_records} records, {annotated_n} annotated rows, build {build} ({why})",
          file=sys.stderr)
    return EXIT_OK


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

    p = sub.add_parser("annotate", help="VCF or MAF in, one annotated row per variant allele out")
    p.add_argument("input", help="VCF (.vcf, .vcf.gz) or MAF (GDC/TCGA, cBioPortal data_mutations; plain or gzipped)")
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
