# krasannot workflow: sample sheet in, per-sample reports, cohort summary and longitudinal
# comparisons out. Configure in config.yaml; run with `snakemake --cores 2`.

configfile: "config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/ingest.smk"
include: "workflow/rules/sample.smk"
include: "workflow/rules/cohort.smk"
include: "workflow/rules/longitudinal.smk"


rule all:
    input:
        all_outputs(),
    default_target: True
