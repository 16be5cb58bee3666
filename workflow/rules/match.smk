# Match: the annotated calls against the evidence base for the sample's tumour type, specimen,
# prior therapies and (where given) MSI/TMB.


rule match:
    input:
        annotated="results/annotate/{sample}/{sample}.annotated.tsv",
    output:
        matches="results/match/{sample}/{sample}.matches.tsv",
        samples="results/match/{sample}/{sample}.matches.samples.tsv",
    params:
        krasannot=KRASANNOT,
        tumor_type=lambda wildcards: sample_row(wildcards)["tumor_type"],
        specimen=lambda wildcards: sample_row(wildcards)["specimen"],
        extra=match_extra_args,
    conda:
        "../envs/krasannot.yaml"
    log:
        "logs/match/{sample}.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    shell:
        "{params.krasannot} match {input.annotated} --tumor-type {params.tumor_type} --out {output.matches}"
        " --sample {wildcards.sample} --specimen {params.specimen} {params.extra} > {log} 2>&1"
