# Cohort: the per-sample report directories (one shard per sample) aggregated into one HTML
# summary and one Parquet table.


rule cohort:
    input:
        reports=expand("results/report/{sample}/{sample}.report.json", sample=SAMPLE_IDS),
    output:
        html="results/cohort/cohort.html",
        parquet="results/cohort/cohort.parquet",
    params:
        krasannot=KRASANNOT,
        report_dirs=expand("results/report/{sample}", sample=SAMPLE_IDS),
    conda:
        "../envs/krasannot.yaml"
    log:
        "logs/cohort/cohort.log",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    shell:
        "{params.krasannot} cohort {params.report_dirs} --outdir results/cohort --quiet > {log} 2>&1"
