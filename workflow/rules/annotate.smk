# Annotate: every input of a sample (VCF, MAF, ctDNA, copy number, fusions, BAM genotype calls)
# in one `krasannot annotate` call, one annotated table per sample.


rule annotate:
    input:
        calls=annotate_inputs,
        targets=annotate_targets,
    output:
        annotated="results/annotate/{sample}/{sample}.annotated.tsv",
        summary="results/annotate/{sample}/{sample}.annotated.summary.json",
    params:
        krasannot=KRASANNOT,
        build=report_build,
        input_sample=annotate_input_sample_arg,
        targets=annotate_targets_arg,
        specimen=lambda wildcards: sample_row(wildcards)["specimen"],
        reproducible="--reproducible" if config["reproducible"] else "",
        reference=f"--reference {config['genotype']['reference']}" if config["genotype"]["reference"] else "",
    conda:
        "../envs/krasannot.yaml"
    log:
        "logs/annotate/{sample}.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    shell:
        "{params.krasannot} annotate {input.calls} {params.targets} --build {params.build} --out {output.annotated} {params.input_sample}"
        " --sample {wildcards.sample}"
        " --specimen {params.specimen} {params.reproducible} {params.reference} > {log} 2>&1"
