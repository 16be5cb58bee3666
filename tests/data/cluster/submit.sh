#!/usr/bin/env bash
# A local stand-in for a cluster's submit command, for the cluster-generic executor plugin
# (tests/integration/test_workflow.py). Snakemake calls it as
#     submit.sh RULE WILDCARDS JOBSCRIPT
# It records the submission (job id, rule, wildcards, jobscript) as one line of
# $KRASANNOT_SUBMIT_LOG, starts the jobscript as a separate background process (as a batch
# system would, on another node), and prints the job id, which is what Snakemake reads.
set -euo pipefail
log="${KRASANNOT_SUBMIT_LOG:?set KRASANNOT_SUBMIT_LOG to the file that records submissions}"
rule="$1"
wildcards="$2"
jobscript="${*: -1}"
jobid="local-$(date +%s%N)-$$"
printf '%s\t%s\t%s\t%s\n' "$jobid" "$rule" "$wildcards" "$jobscript" >> "$log"
nohup bash "$jobscript" > "$(dirname "$log")/$jobid.out" 2>&1 < /dev/null &
echo "$jobid"
