# Per sample: annotate, match and report in one `krasannot run` process (one Python start-up per sample,
# not three), every input of the sample (VCF, MAF, ctDNA, copy number, fusions, BAM genotype calls) at once.
# run writes every file into the report folder; the annotate and match steps' files then move to their own
# folders, the paths the cohort and longitudinal rules read.


rule sample:
    input:
        calls=annotate_inputs,
        targets=annotate_targets,
    output:
        annotated="results/annotate/{sample}/{sample}.annotated.tsv",
        annotated_summary="results/annotate/{sample}/{sample}.annotated.summary.json",
        skipped="results/annotate/{sample}/{sample}.annotated.skipped.tsv",
        matches="results/match/{sample}/{sample}.matches.tsv",
        samples="results/match/{sample}/{sample}.matches.samples.tsv",
        html="results/report/{sample}/{sample}.report.html",
        json="results/report/{sample}/{sample}.report.json",
        calls="results/report/{sample}/{sample}.calls.tsv",
        report_matches="results/report/{sample}/{sample}.matches.tsv",
    params:
        krasannot=KRASANNOT,
        outdir="results/report/{sample}",
        build=sample_build,
        input_sample=annotate_input_sample_arg,
        targets=annotate_targets_arg,
        tumor_type=lambda wildcards: sample_row(wildcards)["tumor_type"],
        specimen=lambda wildcards: sample_row(wildcards)["specimen"],
        patient=lambda wildcards: sample_row(wildcards)["patient_id"],
        extra=match_extra_args,
        reproducible="--reproducible" if config["reproducible"] else "",
        reference=f"--reference {config['genotype']['reference']}" if config["genotype"]["reference"] else "",
    conda:
        "../envs/krasannot.yaml"
    log:
        "logs/sample/{sample}.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    shell:
        "({params.krasannot} run {input.calls} {params.targets} --build {params.build} {params.input_sample}"
        " --sample {wildcards.sample} --patient-id {params.patient:q} --outdir {params.outdir}"
        " --tumor-type {params.tumor_type} --specimen {params.specimen} {params.extra}"
        " {params.reproducible} {params.reference}"
        " && mv {params.outdir}/{wildcards.sample}.annotated.tsv {output.annotated}"
        " && mv {params.outdir}/{wildcards.sample}.annotated.summary.json {output.annotated_summary}"
        " && mv {params.outdir}/{wildcards.sample}.annotated.skipped.tsv {output.skipped}"
        " && mv {params.outdir}/{wildcards.sample}.matches.samples.tsv {output.samples}"
        " && cp {output.report_matches} {output.matches}) > {log} 2>&1"
