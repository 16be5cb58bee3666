# Longitudinal: for a patient with samples at two or more timepoints, what changed between them
# (new, lost, rising alterations) and the resistance entries that fired for the prior therapy.


rule compare:
    input:
        annotated=patient_annotated,
        matches=patient_matches,
    output:
        tsv="results/longitudinal/{patient}/{patient}.changes.tsv",
        html="results/longitudinal/{patient}/{patient}.changes.html",
    params:
        krasannot=KRASANNOT,
        outdir="results/longitudinal/{patient}",
        prior=patient_prior_therapies,
        samples=lambda wildcards: ",".join(patient_samples(wildcards)),
        timepoints=lambda wildcards: ",".join(SAMPLES.loc[patient_samples(wildcards), "timepoint"]),
        specimens=lambda wildcards: ",".join(SAMPLES.loc[patient_samples(wildcards), "specimen"]),
        min_rise=config["longitudinal"]["min_vaf_rise"],
        min_fold=config["longitudinal"]["min_vaf_fold"],
    conda:
        "../envs/krasannot.yaml"
    log:
        "logs/longitudinal/{patient}.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    shell:
        "{params.krasannot} compare {input.annotated} --matches {input.matches} --patient {wildcards.patient}"
        " --sample {params.samples} --timepoints {params.timepoints} --specimens {params.specimens} {params.prior}"
        " --min-vaf-rise {params.min_rise} --min-vaf-fold {params.min_fold} --outdir {params.outdir} > {log} 2>&1"
