"""The pipeline steps as Python functions: paths or DataFrames in, typed results out.

Each step returns a result holding its tables and writes nothing until its ``write`` is called,
which writes exactly what the matching ``krasannot`` subcommand writes. The keywords follow the
command line's flags (``--input-sample`` is ``input_sample``, ``--no-index`` is ``no_index``).

    >>> from krasannot import api
    >>> with api.annotate("resources/demo/DEMO-LUAD-01.GRCh38.vcf") as annotation:  # doctest: +SKIP
    ...     matches = api.match(annotation, tumor_type="LUAD")
    ...     matches.matches[["sample", "therapy", "level"]]

Library code logs what it is doing on the ``krasannot`` logger (stage messages at INFO, things a
person should look at at WARNING) and raises ``KrasannotError`` subclasses for bad input.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import tempfile
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import __version__
from . import columns as C
from . import models as M
from .errors import InputFormatError, UsageError

log = logging.getLogger("krasannot")

PathLike = str | os.PathLike


class _HoldsTempFiles:
    """A result holding temp files until `close()`, or the end of a `with` block."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# ---------------------------------------------------------------- annotate

@dataclass
class Annotation(_HoldsTempFiles):
    """What the annotate step gives: the annotated table, the rows no reader could use, and the summary.

    Holds temp files of the outside-panel records of streamed VCFs until `close()` (or the end of a
    `with` block); `write` needs them.
    """

    annotated: pd.DataFrame            # one row per call (columns.ANNOTATED_TSV_COLUMNS and more)
    skipped: pd.DataFrame              # rows the readers could not use, with the reason
    summary: dict                      # what OUT.summary.json holds
    bundle: str | None = None          # the transcript bundle given instead of the panel (named in MAF output)
    specimen: str = "tissue"           # what the calls were classified for (plasma flags possible CH)
    raw_outside: list = field(default_factory=list, repr=False)  # (spool, samples, source) per streamed VCF
    resources: ExitStack = field(default_factory=ExitStack, repr=False)

    def write(self, out: PathLike, *, format: str | None = None) -> dict[str, Path]:
        """Write OUT (TSV, or MAF for format="maf" or a .maf suffix), OUT.skipped.tsv and OUT.summary.json,
        all or none: what `krasannot annotate --out OUT` writes."""
        from .files import beside, check_output_file, write_json, write_together
        from .io.tables import write_annotated_tsv, write_tsv

        out = str(out)
        check_output_file(Path(out))
        if (format or ("maf" if out.endswith(".maf") else "tsv")) == "maf":
            from .io.maf_writer import write_annotated_maf

            def write_main(path):
                write_annotated_maf(self.annotated, path, self.summary["genome_build"], self.bundle)
        else:
            def write_main(path):
                write_annotated_tsv(self.annotated, path, raw_outside=self.raw_outside)
        writers = {out: write_main,
                   beside(out, ".skipped.tsv"): lambda path: write_tsv(self.skipped, path),
                   beside(out, ".summary.json"): lambda path: write_json(self.summary, path)}
        write_together(writers, "annotate")
        return {name: Path(path) for name, path in zip(("annotated", "skipped", "summary"), writers)}

    def close(self) -> None:
        """Remove the temp files."""
        self.resources.close()


def annotate(inputs: PathLike | list[PathLike], *, build: str = "auto", sample: str | None = None,
             input_sample: str | None = None, specimen: str = "tissue", reference: str | None = None,
             bundle: str | None = None, targets: str | None = None, min_target_depth: float | None = None,
             gene_panel: list[str] | None = None, no_index: bool = False, list_outside: bool = False,
             reproducible: bool = False) -> Annotation:
    """Read every input with its reader, choose the build, annotate and classify: `krasannot annotate`.

    Parameters
    ----------
    inputs : one path or several (VCF/BCF, MAF, ctDNA table, genotype calls, copy-number or fusion file)
    build : "GRCh37", "GRCh38" or "auto" (from ##contig lengths or REF alleles)
    sample : the sample's ID, written as the sample of every call (inputs of one sample)
    input_sample : which sample of a multi-sample input to read
    specimen : "tissue" or "plasma"
    reference : genome FASTA of the same build
    bundle : a transcript bundle from `krasannot reference build` instead of the panel
    targets, min_target_depth, gene_panel : what the assay covered (see the README)
    no_index : stream whole files even where indexed
    list_outside : a row for every VCF record outside the panel (default: only counted in the summary)
    reproducible : fixed run time in the summary

    Returns
    -------
    Annotation (use it in a `with` block, or call close(), to remove its temp files)
    """
    stack = ExitStack()
    try:
        return _annotate([str(p) for p in ([inputs] if isinstance(inputs, (str, os.PathLike)) else inputs)],
                         stack, build=build, sample=sample, input_sample=input_sample, specimen=specimen,
                         reference=reference, bundle=bundle, targets=targets, min_target_depth=min_target_depth,
                         gene_panel=gene_panel or [], no_index=no_index, list_outside=list_outside,
                         reproducible=reproducible)
    except BaseException:
        stack.close()
        raise


def _annotate(inputs: list[str], stack: ExitStack, *, build, sample, input_sample, specimen, reference, bundle,
              targets, min_target_depth, gene_panel, no_index, list_outside, reproducible) -> Annotation:
    from .annotate.classify import classify_calls
    from .annotate.pipeline import annotate_calls, annotate_gene_level_calls, with_call_defaults
    from .evidence.kb import shipped_kb
    from .io.inputs import read_any, sniff_format
    from .io.result import empty_skipped
    from .io.vcf import SV_INFO
    from .reference.builds import parse_build
    from .reference.bundle import PanelsByBuild, load_bundle, with_reference_sequence

    requested = parse_build(build)
    if bundle:
        custom = load_bundle(bundle)
        if requested not in ("auto", custom.build):
            raise UsageError(f"--bundle is for {custom.build} but --build says {requested}")
        requested = custom.build
        panels = PanelsByBuild(custom)
    else:
        panels = PanelsByBuild()  # each build's panel is read when first needed
    kb = shipped_kb()  # first, so a broken evidence base stops the run before any input is read
    formats = {path: sniff_format(path) for path in inputs}
    reads, raw_outside = [], []
    # ctDNA tables are placed on the genome through the panel, so they are read once the build is known
    for path in sorted(inputs, key=lambda p: formats[p] == "ctdna"):
        fmt = formats[path]
        if fmt == "ctdna":
            wanted = _chosen_build(requested, reads, panels, path)[0] or "GRCh38"
            panel_for_table = panels[wanted] if wanted in panels else panels.first()
            reads.append((path, read_any(path, fmt, sample=input_sample, regions=[], use_index=False,
                                         on_outside=None, panel=panel_for_table)))
            continue
        regions = sorted({r for b in _builds_to_read(path, fmt, requested, panels) for r in panels[b].regions()})
        spool = stack.enter_context(tempfile.TemporaryFile())
        log.info(f"reading {path} ({fmt})")
        read = read_any(path, fmt, sample=input_sample, regions=regions, use_index=not no_index,
                        on_outside=spool.write, build=requested, list_outside=list_outside)
        reads.append((path, read))
        log.info(f"{path}: {read.n_records:,} records read")
        if read.n_outside:
            raw_outside.append((spool, ",".join(read.samples), read.format))
    for warning in (f"{path}: {w}" for path, r in reads for w in r.warnings):  # e.g. most rows failing one way
        log.warning(warning)
    build, why = _chosen_build(requested, reads, panels, inputs[0])
    if build:  # symbolic and breakend VCF records become copy-number and fusion calls on the build's genes
        for _, read in reads:
            if read.format == "vcf" and SV_INFO in read.calls:
                from .io.fusions import structural_records_to_calls

                other, structural, sv_skipped = structural_records_to_calls(read.calls, build)
                read.calls = pd.concat([other, structural], ignore_index=True)
                read.skipped = pd.concat([read.skipped, sv_skipped], ignore_index=True)
    all_calls = pd.concat([with_call_defaults(r.calls) for _, r in reads], ignore_index=True)
    panel = panels[build] if build else panels.first()
    if reference and build:
        panel = with_reference_sequence(panel, reference)
    other = panels.lazy_other(panel.build)  # read only if a REF allele disagrees with the panel
    if sample:  # the sheet's ID for a tumour column named TUMOR, or a table's file name
        read_samples = sorted({s for s in all_calls[C.SAMPLE].dropna() if s and "," not in s})
        if len(read_samples) > 1:
            raise UsageError(f"the inputs hold {len(read_samples)} samples ({', '.join(read_samples[:5])}), "
                             f"and --sample names one", hint="choose the one to read with --input-sample")
        all_calls[C.SAMPLE] = sample
        raw_outside = [(spool, sample, fmt) for spool, _, fmt in raw_outside]
        samples = [sample]
        # a gene-panel matrix names the sample as the input did (a MAF's Tumor_Sample_Barcode)
        input_names = {sample: input_sample or (read_samples[0] if read_samples else sample)}
    else:  # every sample read, those without a panel call too: a negative result is a result
        samples = list(dict.fromkeys([s for _, r in reads for s in r.samples]
                                     + [s for s in all_calls[C.SAMPLE].dropna() if s and "," not in s]))
        input_names = {}
    log.info(f"annotating {len(all_calls):,} call(s) in the panel regions")
    annotated = annotate_calls(all_calls, panel, other)
    assessment, assessed_by = _assessment_rows(annotated, panel, build, samples, input_names, targets=targets,
                                               gene_panel=gene_panel, min_target_depth=min_target_depth,
                                               specimen=specimen)
    if len(assessment):
        annotated = pd.concat([annotated, annotate_gene_level_calls(with_call_defaults(assessment))],
                              ignore_index=True)
    annotated = classify_calls(annotated, specimen=specimen)  # resistance only in context: see match
    skipped = pd.concat([r.skipped for _, r in reads] + [empty_skipped()], ignore_index=True)

    counts = annotated[C.STATUS].value_counts().to_dict()
    n_outside = sum(r.n_outside for _, r in reads)
    counts[M.STATUS_OUTSIDE_PANEL] = counts.get(M.STATUS_OUTSIDE_PANEL, 0) + n_outside
    summary = {
        "krasannot_version": __version__,
        "created": _created(reproducible),
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
    return Annotation(annotated, skipped, summary, bundle=bundle, specimen=specimen, raw_outside=raw_outside,
                      resources=stack)


def _builds_to_read(path: str, input_format: str, requested: str, panels) -> tuple[str, ...]:
    """Whose panel regions to read: the header's build when its ##contig lengths say it;
    otherwise every build's, because calls on the other build's genes are how a wrong build shows."""
    if input_format == "vcf":
        from .io.vcf import read_header
        from .reference.builds import build_from_contig_lengths

        header_build = build_from_contig_lengths(read_header(path).contig_lengths)[0]
        if header_build is not None and requested in ("auto", header_build) and header_build in panels:
            return (header_build,)
    return tuple(panels)


def _assessment_rows(annotated: pd.DataFrame, panel, build: str | None, samples: list[str],
                     input_names: dict[str, str], *, targets: str | None, gene_panel: list[str],
                     min_target_depth: float | None, specimen: str) -> tuple[pd.DataFrame, list[dict]]:
    """not_detected / not_assessed rows from `targets` (codon level) and `gene_panel` (gene level), and
    what they rest on (for the summary). `input_names`: a sample's name in the input, where `sample` renamed it."""
    from .annotate.classify import residue_numbers
    from .io.targets import (assessment_from_gene_panels, assessment_from_targets, read_gene_panels,
                             read_targets)

    parts, assessed_by = [], []
    if (targets or gene_panel) and build is None:
        raise UsageError("--targets and --gene-panel need the genome build, and the inputs do not tell it",
                         hint="give --build GRCh37 or GRCh38")
    if targets:
        from .genotype.caller import MIN_DEPTH

        target_table = read_targets(targets)
        min_depth = min_target_depth if min_target_depth is not None else MIN_DEPTH[specimen]
        detected = annotated[annotated[C.DETECTION] == M.DETECTION_DETECTED]
        called = set(zip(detected[C.SAMPLE], detected[C.GENE].fillna(""), residue_numbers(detected)))
        parts.append(assessment_from_targets(target_table, panel, samples, min_depth, called))
        assessed_by.append({"kind": "targets", "path": targets, "level": "codon",
                            "min_depth": min_depth if target_table.has_depth else None,
                            "depth_given": target_table.has_depth})
    if gene_panel:
        matrix, gene_lists, matrix_path = read_gene_panels(gene_panel)
        parts.append(assessment_from_gene_panels(matrix, gene_lists, panel, samples, matrix_path, input_names))
        assessed_by.append({"kind": "gene_panel", "path": matrix_path, "level": "gene",
                            "panels": sorted(set(matrix["panel"]) - {"", "NA"})})
    return (pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()), assessed_by


def _chosen_build(requested: str, reads: list, panels, path: str) -> tuple[str | None, str]:
    """The build of the inputs read so far, and why: ##contig lengths, a MAF's NCBI_Build, or REF votes."""
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
    return choose_build(requested, lengths, _ReferenceVotes(calls, panels), len(calls), path, declared=declared)


class _ReferenceVotes(Mapping):
    """Per build, (REF alleles that match its panel bases, REF alleles checked), counted when first asked
    for: a build the header or --build names is checked against the other build only if its own bases
    disagree (the wrong-build check), so the other build's panel is read only then."""

    def __init__(self, calls: pd.DataFrame, panels) -> None:
        self.calls, self.panels, self._counted = calls, panels, {}

    def __getitem__(self, build: str) -> tuple[int, int]:
        from .annotate.normalize import reference_votes

        if build not in self._counted:
            if build not in self.panels:
                raise KeyError(build)
            self._counted[build] = reference_votes(self.calls, [self.panels[build]])[build]
        return self._counted[build]

    def __iter__(self):
        return iter(self.panels)

    def __len__(self) -> int:
        return len(self.panels)


def _created(reproducible: bool) -> str:
    """Run time for provenance; reproducible fixes it so outputs are byte-identical."""
    if reproducible:
        return "1970-01-01T00:00:00+00:00"
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _compare_source_protein(annotated: pd.DataFrame) -> dict:
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


# ---------------------------------------------------------------- match

@dataclass
class Matches:
    """What the match step gives: therapy matches, key findings per sample, and the annotated table
    with resistance set in the context of the matches."""

    matches: pd.DataFrame              # columns.MATCH_COLUMNS
    samples: pd.DataFrame              # one row per sample: MATCHES.samples.tsv
    annotated: pd.DataFrame            # the matched samples' rows, classified in context
    summary: dict                      # tumor_type, specimen, prior_therapies, evidence_base, counts

    def write(self, out: PathLike) -> dict[str, Path]:
        """Write OUT and OUT.samples.tsv together: what `krasannot match --out OUT` writes."""
        from .files import beside, check_output_file, write_together
        from .io.tables import write_tsv

        out = str(out)
        check_output_file(Path(out))
        writers = {out: lambda path: write_tsv(self.matches, path),
                   beside(out, ".samples.tsv"): lambda path: write_tsv(self.samples, path)}
        write_together(writers, "match")
        return {name: Path(path) for name, path in zip(("matches", "samples"), writers)}


def match(annotated: "Annotation | pd.DataFrame | PathLike", *, tumor_type: str, sample: str | None = None,
          specimen: str = "tissue", prior_therapy: str | list[str] | None = None, msi_high: bool = False,
          tmb: float = float("nan"), include_filtered: bool = False) -> Matches:
    """Matches and key findings for every sample of an annotated table (or the one named): `krasannot match`.

    `annotated` is an Annotation, an annotated table, or the path of the TSV `krasannot annotate`
    wrote (its OUT.summary.json beside it names the samples read, those without a call too: each
    gets a summary row and its tumour-agnostic matches). `prior_therapy`: drugs or drug classes the
    patient progressed on ("sotorasib,anti_EGFR" or a list).
    """
    from .annotate.classify import classify_calls, summarize_samples
    from .evidence.kb import shipped_kb
    from .evidence.match import contextual_resistance, match_samples

    if isinstance(annotated, Annotation):
        table, samples = annotated.annotated, annotated.summary["samples"]
    elif isinstance(annotated, pd.DataFrame):
        table, samples = annotated, []
    else:
        from .report.render import samples_in_summary

        table, samples = _read_annotated(str(annotated)), samples_in_summary(str(annotated))
    kb = shipped_kb()
    tumor_type = kb.oncotree.check(tumor_type)
    prior = _prior_therapies(prior_therapy, kb)
    # raw outside rows may list several samples in one cell
    names = list(dict.fromkeys(list(samples) + [s for s in pd.unique(table[C.SAMPLE]) if s and "," not in s]))
    if sample:
        if sample not in names:
            raise UsageError(f"sample {sample!r} is not in the annotated table or its summary",
                             hint="samples there: " + (", ".join(sorted(names)[:10]) or "none"))
        table, names = table[table[C.SAMPLE] == sample], [sample]
    if not (isinstance(annotated, Annotation) and annotated.specimen == specimen):  # else classified already
        table = classify_calls(table, specimen=specimen)
    facts = pd.DataFrame({C.SAMPLE: names, C.TUMOR_TYPE: tumor_type, "specimen": specimen,
                          "prior_therapies": [prior] * len(names), "msi_high": msi_high, "tmb": tmb})
    matches = match_samples(table, facts, kb, include_filtered=include_filtered)
    table = contextual_resistance(table, matches)
    per_sample = summarize_samples(table[table[C.SAMPLE].isin(names)], matches, include_filtered, samples=names)
    per_sample.insert(1, C.TUMOR_TYPE, tumor_type)
    per_sample.insert(2, "specimen", specimen)
    per_sample.insert(3, "prior_therapies", ",".join(prior))
    summary = {"tumor_type": tumor_type, "specimen": specimen, "prior_therapies": prior,
               "evidence_base": {"version": kb.version, "released": kb.released},
               "samples": len(per_sample), "matches": len(matches)}
    return Matches(matches, per_sample, table, summary)


def _read_annotated(path: str) -> pd.DataFrame:
    """An annotated TSV back into a table (every cell text; numbers parsed where used)."""
    from .annotate.pipeline import with_call_defaults
    from .io.tables import read_annotated_tsv

    return with_call_defaults(read_annotated_tsv(path))


def _prior_therapies(given: str | list[str] | None, kb) -> list[str]:
    """Prior therapy names, each a drug or drug class the evidence base knows (a typo would silently
    hide acquired resistance)."""
    import difflib

    names = [p.strip() for p in (given.split(",") if isinstance(given, str) else given or []) if p.strip()]
    known = ({d.lower() for e in kb.entries for d in e.drugs} | {d.lower() for ds in kb.drug_classes.values()
                                                               for d in ds} | {c.lower() for c in kb.drug_classes})
    for name in names:
        if name.lower() not in known:
            close = difflib.get_close_matches(name.lower(), sorted(known), n=3)
            raise UsageError(f"--prior-therapy: unknown drug or drug class {name!r}",
                             hint=("did you mean " + ", ".join(close) + "?") if close else
                             "see 'krasannot kb show' for the drugs and classes the evidence base knows")
    return names


# ---------------------------------------------------------------- report

@dataclass
class Report:
    """One sample's report (the content of ID.report.json, checked against its schema), with the
    sample's calls and matches rows."""

    report: dict
    calls: pd.DataFrame
    matches: pd.DataFrame
    sample: str
    build: str | None = None
    input_vcf: str | None = None       # its records go into ID.annotated.vcf.gz

    @property
    def html(self) -> str:
        from .report.render import render_report_html

        return render_report_html(self.report)

    def write(self, outdir: PathLike) -> dict[str, Path]:
        """Write ID.report.html, .report.json, .calls.tsv, .matches.tsv and .annotated.vcf.gz(+.tbi) into
        `outdir`, all or none: what `krasannot report --outdir` writes. Returns suffix -> path."""
        from .report.render import write_report_files

        return write_report_files(self.report, self.calls, self.matches, sample=self.sample, build=self.build,
                                  outdir=outdir, input_vcf=self.input_vcf)


def report(annotated: "Annotation | PathLike", matches: "Matches | PathLike", *, sample: str,
           tumor_type: str | None = None, specimen: str | None = None, patient_id: str | None = None,
           build: str | None = None, vcf: str | None = None, reproducible: bool = False) -> Report:
    """One sample's report: `krasannot report`.

    `annotated` and `matches` are the files `krasannot annotate` and `krasannot match` wrote
    (MATCHES.samples.tsv and ANNOTATED.summary.json beside them are read where present), or the
    results of `annotate` and `match` in memory (provenance from the annotation's summary).
    `tumor_type` and `specimen` default to those the matches were made for, and must be those if given.
    """
    if isinstance(annotated, Annotation) and isinstance(matches, Matches):
        return _report_from_results(annotated, matches, sample=sample, tumor_type=tumor_type,
                                    specimen=specimen, patient_id=patient_id, reproducible=reproducible)
    from .evidence.match import contextual_resistance
    from .files import beside
    from .report.render import (check_belongs_together, provenance_from_files, read_tsv, samples_summary_beside,
                                sample_report)

    annotated, matches = str(annotated), str(matches)
    annotated_table = read_tsv(annotated, "annotated table")
    matches_table = read_tsv(matches, "matches table")
    for frame, columns, path in ((annotated_table, [C.SAMPLE, C.STATUS, C.GENE], annotated),
                                 (matches_table, [C.SAMPLE, C.LEVEL, C.THERAPY], matches)):
        missing = [c for c in columns if c not in frame]
        if missing:
            raise InputFormatError(f"lacks column(s) {', '.join(missing)}", path=path, line=1,
                                   hint="give the output of 'krasannot annotate' / 'krasannot match'")
    # resistance in this patient's context, from the matches made for it (as `run` labels its calls)
    annotated_table = contextual_resistance(annotated_table, matches_table)
    samples_summary = samples_summary_beside(matches, annotated_table)
    written_beside = beside(matches, ".samples.tsv").is_file()
    tumor_type = check_belongs_together(sample, tumor_type, specimen, annotated_table, matches_table,
                                        samples_summary if written_beside else None,
                                        annotated_path=annotated, matches_path=matches)
    if not specimen and written_beside and "specimen" in samples_summary:  # the specimen the matches were made for
        made_for = samples_summary.loc[samples_summary[C.SAMPLE].astype(str) == sample, "specimen"]
        specimen = str(made_for.iloc[0]) if len(made_for) and made_for.iloc[0] in M.SPECIMENS else None
    provenance = provenance_from_files(annotated, matches, vcf)
    if not build:
        import json

        summary_path = beside(annotated, ".summary.json")
        build = json.loads(summary_path.read_text(encoding="utf-8")).get("genome_build") \
            if summary_path.is_file() else None
    content, calls, sample_match_rows = sample_report(
        annotated_table, matches_table, samples_summary, sample=sample, tumor_type=tumor_type, specimen=specimen,
        build=build, provenance=provenance, input_vcf=vcf, reproducible=reproducible, patient_id=patient_id)
    return Report(content, calls, sample_match_rows, sample, build, vcf)


def _report_from_results(annotation: Annotation, matched: Matches, *, sample: str, tumor_type: str | None,
                         specimen: str | None, patient_id: str | None, reproducible: bool) -> Report:
    """One sample's report from `annotate` and `match` results in memory: the report `krasannot run` writes."""
    from .report.render import sample_report

    made_for = matched.summary
    for flag, given, key in (("tumor_type", tumor_type, "tumor_type"), ("specimen", specimen, "specimen")):
        if given and given.upper() != made_for[key].upper():
            raise UsageError(f"{flag} {given}, but the matches were made for {made_for[key]}")
    if sample not in set(matched.samples[C.SAMPLE]):
        raise UsageError(f"sample {sample!r} was not matched",
                         hint="matched: " + (", ".join(sorted(matched.samples[C.SAMPLE])[:10]) or "none"))
    summary = annotation.summary
    bundle = summary["transcript_bundle"] or {}
    provenance = {
        "krasannot_version": __version__,
        "evidence_base": matched.summary["evidence_base"],
        "transcript_bundle": {"name": Path(str(bundle.get("path", ""))).name or None, "source": bundle.get("source")},
        "build_reason": summary["build_reason"],
        "inputs": [{"role": i["format"], "name": Path(i["path"]).name, "sha256": i["checksum"]}
                   for i in summary["inputs"]],
        "records_read": summary["records_read"],
        "rows_by_status": summary["rows_by_status"],
        "rows_skipped": summary["rows_skipped"],
    }
    vcf_inputs = [i["path"] for i in summary["inputs"] if i["format"] == "vcf"]
    input_vcf = vcf_inputs[0] if len(vcf_inputs) == 1 else None
    build = summary["genome_build"]
    content, calls, sample_match_rows = sample_report(
        matched.annotated, matched.matches, matched.samples, sample=sample,
        tumor_type=made_for["tumor_type"], specimen=made_for["specimen"], build=build, provenance=provenance,
        input_vcf=input_vcf, reproducible=reproducible, patient_id=patient_id)
    return Report(content, calls, sample_match_rows, sample, build, input_vcf)


# ---------------------------------------------------------------- run

@dataclass
class Run(_HoldsTempFiles):
    """annotate -> match -> report for one sample, in memory."""

    annotation: Annotation
    matches: Matches
    report: Report

    def write(self, outdir: PathLike) -> dict[str, Path]:
        """Write the report's files, annotate's (ID.annotated.tsv, .annotated.skipped.tsv, .annotated.summary.json)
        and match's per-sample table (.matches.samples.tsv, which `report` reads) into `outdir`, all or none:
        what `krasannot run --outdir` writes."""
        from .files import write_json
        from .io.tables import write_annotated_tsv, write_tsv
        from .report.render import write_report_files

        annotation, annotated = self.annotation, self.matches.annotated
        step_outputs = {  # the matched table, as `run` always wrote it
            ".annotated.tsv": lambda path: write_annotated_tsv(annotated, path, raw_outside=annotation.raw_outside),
            ".annotated.skipped.tsv": lambda path: write_tsv(annotation.skipped, path),
            ".annotated.summary.json": lambda path: write_json(annotation.summary, path),
            ".matches.samples.tsv": lambda path: write_tsv(self.matches.samples, path)}
        report = self.report
        return write_report_files(report.report, report.calls, report.matches, sample=report.sample,
                                  build=report.build, outdir=outdir, input_vcf=report.input_vcf,
                                  extra_outputs=step_outputs)

    def close(self) -> None:
        self.annotation.close()


def run(inputs: PathLike | list[PathLike], *, sample: str, tumor_type: str, patient_id: str | None = None,
        input_sample: str | None = None, build: str = "auto", reference: str | None = None,
        bundle: str | None = None, no_index: bool = False, list_outside: bool = False, targets: str | None = None,
        min_target_depth: float | None = None, gene_panel: list[str] | None = None, reproducible: bool = False,
        specimen: str = "tissue", prior_therapy: str | list[str] | None = None, msi_high: bool = False,
        tmb: float = float("nan"), include_filtered: bool = False) -> Run:
    """annotate -> match -> report for one sample: `krasannot run` (keywords as `annotate` and `match`)."""
    from .evidence.oncotree import load_oncotree
    from .report.render import check_sample_id

    sample = check_sample_id(sample)
    load_oncotree().check(tumor_type)  # before any input is read
    annotation = annotate(inputs, build=build, sample=sample, input_sample=input_sample, specimen=specimen,
                          reference=reference, bundle=bundle, targets=targets, min_target_depth=min_target_depth,
                          gene_panel=gene_panel, no_index=no_index, list_outside=list_outside,
                          reproducible=reproducible)
    try:
        log.info("matching and writing the report")
        matched = match(annotation, tumor_type=tumor_type, sample=sample, specimen=specimen,
                        prior_therapy=prior_therapy, msi_high=msi_high, tmb=tmb, include_filtered=include_filtered)
        content = report(annotation, matched, sample=sample, patient_id=patient_id, reproducible=reproducible)
    except BaseException:
        annotation.close()
        raise
    return Run(annotation, matched, content)


# ---------------------------------------------------------------- genotype

@dataclass
class GenotypeResult:
    """The hotspot alleles genotyped from a BAM/CRAM (detected / not detected / not assessed), annotated."""

    annotated: pd.DataFrame            # one row per tested allele
    coverage: pd.DataFrame             # one row per hotspot
    build: str
    notes: list[str] = field(default_factory=list)

    def write(self, out: PathLike) -> dict[str, Path]:
        """Write OUT (CALLS.tsv) and OUT.coverage.tsv: what `krasannot genotype --out OUT` writes."""
        from .genotype.caller import write_genotype_outputs

        coverage_path = write_genotype_outputs(self.annotated, self.coverage, str(out))
        return {"calls": Path(out), "coverage": Path(coverage_path)}


def genotype(alignment: PathLike, *, build: str = "auto", reference: str | None = None, sample: str | None = None,
             specimen: str = "tissue", min_mapq: int = 20, min_baseq: int = 20) -> GenotypeResult:
    """Genotype the panel's hotspots straight from a coordinate-sorted BAM/CRAM: `krasannot genotype`."""
    from .genotype.caller import annotate_genotype_calls, genotype_alignments
    from .reference.builds import build_from_contig_lengths, parse_build
    from .reference.bundle import PanelsByBuild

    alignment = str(alignment)
    requested = parse_build(build)
    if requested == "auto":  # the header decides; the caller says so if it cannot open the file
        import pysam

        try:
            with pysam.AlignmentFile(alignment, reference_filename=reference) as handle:
                requested = build_from_contig_lengths(dict(zip(handle.references, handle.lengths)))[0] or "auto"
        except (OSError, ValueError):
            pass
        if requested == "auto":
            raise UsageError(f"cannot tell the genome build of {alignment} from its header",
                             hint="give --build GRCh37 or GRCh38")
    panels = PanelsByBuild()
    panel = panels[requested]
    calls, coverage = genotype_alignments(alignment, panel, reference=reference, sample=sample, specimen=specimen,
                                          min_mapq=min_mapq, min_baseq=min_baseq)
    annotated = annotate_genotype_calls(calls, panel, panels.lazy_other(requested))
    return GenotypeResult(annotated, coverage, requested, list(calls.attrs.get("notes", [])))


# ---------------------------------------------------------------- compare

@dataclass
class Comparison:
    """One patient's timepoints compared: new, lost and rising alterations, and the resistance entries
    that fired for the prior therapy."""

    patient: str
    changes: pd.DataFrame
    resistance: pd.DataFrame
    html: str                          # a self-contained HTML section
    timepoints: list                   # report.longitudinal.Timepoint, in order

    def write(self, outdir: PathLike) -> dict[str, Path]:
        """Write PATIENT.changes.tsv and PATIENT.changes.html into `outdir`: what `krasannot compare` writes."""
        from .files import atomic_output

        targets = {"tsv": Path(outdir) / f"{self.patient}.changes.tsv",
                   "html": Path(outdir) / f"{self.patient}.changes.html"}
        with atomic_output(targets["tsv"]) as handle:
            self.changes.to_csv(handle, sep="\t", index=False, na_rep="", float_format="%.4g", lineterminator="\n")
        with atomic_output(targets["html"]) as handle:
            handle.write(self.html)
        return targets


def compare(annotated: list[PathLike], matches: list[PathLike], *, patient: str,
            sample: str | list[str] | None = None, timepoints: str | list[str] | None = None,
            specimens: str | list[str] | None = None, prior_therapy: str | None = None,
            min_vaf_rise: float = M.VAF_RISE_ABSOLUTE, min_vaf_fold: float = M.VAF_RISE_FOLD,
            kb: str | None = None) -> Comparison:
    """Compare a patient's timepoints, one annotated and one matches table each, in order: `krasannot compare`.

    `sample`, `timepoints` and `specimens` give one value per table (a list, or comma-separated);
    `kb` is an evidence directory (default: the shipped one).
    """
    from .report.longitudinal import (Timepoint, prior_therapy_requirements, read_table, render_changes_html,
                                      sample_of, what_changed)

    if len(annotated) < 2:
        raise UsageError("compare needs two or more ANNOTATED.tsv files, one per timepoint, in timepoint order")
    if len(matches) != len(annotated):
        raise UsageError(f"{len(annotated)} ANNOTATED.tsv but {len(matches)} --matches files",
                         hint="one MATCHES.tsv per ANNOTATED.tsv, in the same order")
    n = len(annotated)
    samples = _one_per_table(sample, n, "samples")
    names = _one_per_table(timepoints, n, "timepoints") or [f"T{i}" for i in range(n)]
    specimens = _one_per_table(specimens, n, "specimens") or [""] * n
    series = []
    for i, (annotated_path, matches_path) in enumerate(zip(map(str, annotated), map(str, matches))):
        annotated_table = read_table(annotated_path, C.ANNOTATED_TSV_COLUMNS, "an annotated table")
        matches_table = read_table(matches_path, C.MATCH_COLUMNS, "a matches table")
        name = samples[i] if samples else sample_of(annotated_table, annotated_path)
        series.append(Timepoint(name, names[i], specimens[i], annotated_table, matches_table))
    required_prior, knowledge = prior_therapy_requirements(kb)
    received = knowledge.expand_drugs([t for t in (prior_therapy or "").split(",") if t.strip()])
    changes, resistance = what_changed(patient, series, required_prior, received, min_vaf_rise, min_vaf_fold)
    html = render_changes_html(patient, series, changes, resistance, prior_therapy or "", knowledge.version,
                               min_vaf_rise, min_vaf_fold)
    return Comparison(patient, changes, resistance, html, series)


def _one_per_table(given: str | list[str] | None, n: int, what: str) -> list[str]:
    """One value per table, from a list or a comma-separated text; [] when not given."""
    values = [v.strip() for v in (given.split(",") if isinstance(given, str) else given)] if given else []
    if values and len(values) != n:
        raise UsageError(f"--{what} names {len(values)} values for {n} samples", hint="one per ANNOTATED.tsv, in order")
    return values
