# Ingest: a BAM/CRAM becomes a calls table at the panel hotspots (wild-type is a claim only where
# the depth says so). VCF, MAF, ctDNA, copy-number and fusion files need no ingest step:
# `krasannot run` reads them directly (sample.smk).


rule genotype:
    input:
        alignments=alignment_input,
    output:
        calls="results/ingest/{sample}/{sample}.calls.tsv",
        coverage="results/ingest/{sample}/{sample}.calls.coverage.tsv",
    params:
        krasannot=KRASANNOT,
        build=sample_build,
        specimen=lambda wildcards: sample_row(wildcards)["specimen"],
        min_mapq=config["genotype"]["min_mapq"],
        min_baseq=config["genotype"]["min_baseq"],
        reference=lambda wildcards: (
            f"--reference {config['genotype']['reference']}" if config["genotype"]["reference"] else ""
        ),
    conda:
        "../envs/krasannot.yaml"
    log:
        "logs/ingest/{sample}.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=20,
    shell:
        "{params.krasannot} genotype {input.alignments} --build {params.build} --out {output.calls}"
        " --sample {wildcards.sample} --specimen {params.specimen} {params.reference}"
        " --min-mapq {params.min_mapq} --min-baseq {params.min_baseq} > {log} 2>&1"
