"""The ctDNA reader on megSAP's cfDNA monitoring TSV from the shared validation folder (skipped without it)."""

import csv

import pytest

from krasannot import columns as C
from krasannot import models as M
from krasannot.annotate.pipeline import annotate_calls
from krasannot.io.ctdna import read_ctdna, sniff_ctdna

from conftest import shared_dir


@pytest.fixture
def monitoring_tsv():
    path = shared_dir() / "validation" / "cfdna_megsap" / "vc_cfdna_out1_monitoring.tsv"
    if not path.is_file():
        pytest.skip(f"shared validation data not found: {path}")
    return path


def test_megsap_monitoring_rows_keep_megsap_depth_counts_and_af(monitoring_tsv, panels):
    with open(monitoring_tsv, encoding="utf-8") as handle:  # the source values, read without our code
        source = list(csv.DictReader(handle, delimiter="\t"))
        handle.seek(0)
        assert sniff_ctdna(handle.read().splitlines()[:5]) == "megsap-cfdna-monitoring"
    result = read_ctdna(monitoring_tsv, panels["GRCh38"])  # megSAP's test data is GRCh38
    calls = result.calls
    assert result.n_records == len(source) == len(calls) and len(result.skipped) == 0
    assert calls[C.CHROM].tolist() == [row["CHROM"] for row in source]
    assert calls[C.POS].tolist() == [int(row["POS"]) for row in source]
    assert calls[C.DEPTH].tolist() == [int(row["DP_HQ"]) for row in source]
    assert calls[C.ALT_DEPTH].tolist() == [int(row["ALT_COUNT"]) for row in source]
    assert calls[C.VAF].tolist() == pytest.approx([float(row["AF"]) for row in source])
    # an allele monitored and not seen (ALT_COUNT 0) is not detected; megSAP's "NA" filter is no filter
    assert calls[C.DETECTION].tolist() == [M.DETECTION_NOT_DETECTED if row["ALT_COUNT"] == "0"
                                           else M.DETECTION_DETECTED for row in source]
    assert calls[C.FILTER].tolist() == ["" if row["FILTER"] == "NA" else row["FILTER"] for row in source]
    annotated = annotate_calls(calls, panels["GRCh38"], panels["GRCh37"])
    assert set(annotated[C.STATUS]) == {M.STATUS_OUTSIDE_PANEL}  # monitored sites lie outside the 26-gene panel
