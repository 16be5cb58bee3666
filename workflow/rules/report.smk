# Report: one directory per sample with the HTML and JSON report, the calls and matches tables
# and an annotated VCF.


rule report:
    input:
        annotated="results/annotate/{sample}/{sample}.annotated.tsv",
        matches="results/match/{sample}/{sample}.matches.tsv",
    output:
        html="results/report/{sample}/{sample}.report.html",
        json="results/report/{sample}/{sample}.report.json",
        calls="results/report/{sample}/{sample}.calls.tsv",
        matches="results/report/{sample}/{sample}.matches.tsv",
    params:
        krasannot=KRASANNOT,
        outdir="results/report/{sample}",
        tumor_type=lambda wildcards: sample_row(wildcards)["tumor_type"],
        specimen=lambda wildcards: sample_row(wildcards)["specimen"],
        patient=lambda wildcards: sample_row(wildcards)["patient_id"],
        build=report_build_arg,
        vcf=report_vcf_arg,
        reproducible="--reproducible" if config["reproducible"] else "",
    conda:
        "../envs/krasannot.yaml"
    log:
        "logs/report/{sample}.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    shell:
        "{params.krasannot} report --annotated {input.annotated} --matches {input.matches} --sample {wildcards.sample}"
        " --tumor-type {params.tumor_type} --outdir {params.outdir} --specimen {params.specimen}"
        " --patient-id {params.patient:q} {params.build} {params.vcf} {params.reproducible} > {log} 2>&1"
