"""Depth, alt depth and VAF from each caller's own FORMAT fields."""

import math

import pytest

from krasannot.io.vcf import _format_values, _support


@pytest.mark.parametrize("caller,fmt,sample,ref,alt,allele,expected", [
    ("Mutect2", "GT:AD:AF:DP", "0/1:41,17:0.29:58", "C", "A", 1, (58, 17, 0.29)),
    ("Mutect2 2nd ALT", "GT:AD:AF:DP", "1/2:30,6,5:0.15,0.12:41", "G", "A,C", 2, (41, 5, 0.12)),
    ("Mutect1", "GT:AD:BQ:DP:FA", "0/1:57,1:35:58:0.017", "A", "C", 1, (58, 1, 0.017)),
    ("Strelka2 SNV", "DP:FDP:SDP:SUBDP:AU:CU:GU:TU", "60:0:0:0:0,0:45,46:0,0:15,15:0,0", "C", "T", 1,
     (60, 15, 0.25)),
    ("Strelka2 indel", "DP:DP2:TAR:TIR:TOR", "94:94:13,13:78,78:3,3", "GC", "G", 1, (91, 78, 78 / 91)),
    ("VarScan", "GT:GQ:DP:RD:AD:FREQ", "0/1:.:50:40:10:20%", "C", "A", 1, (50, 10, 0.20)),
    ("FreeBayes", "GT:DP:RO:AO", "0/1:30:20:6,4", "C", "A,T", 2, (30, 4, 4 / 30)),
    ("VarDict", "GT:DP:VD:AD:AF", "0/1:100:12:88,12:0.12", "C", "A", 1, (100, 12, 0.12)),
    ("no counts", "GT", "0/1", "C", "A", 1, (math.nan, math.nan, math.nan)),
])
def test_caller_support_fields(caller, fmt, sample, ref, alt, allele, expected):
    got = _support(_format_values(fmt, sample), allele, ref, alt.split(",")[allele - 1])
    for value, want in zip(got, expected):
        assert (math.isnan(value) and math.isnan(want)) or value == pytest.approx(want), caller


@pytest.mark.parametrize("name,row,expected", [
    ("mutect2_example.vcf", 0, ("chrM", 152, "T", "C", 1559, 1556, 0.998)),
    ("strelka-example.vcf", 0, ("chr1", 16385738, "GC", "G", 91, 78, 78 / 91)),
    ("mutect-example.vcf", 1, ("chr1", 10039, "A", "C", 58, 1, 0.017)),
])
def test_real_caller_vcfs(name, row, expected):
    from conftest import shared_dir
    from krasannot.io.vcf import read_vcf

    path = shared_dir() / "validation" / "caller_vcfs" / name
    if not path.is_file():
        pytest.skip(f"shared validation data not found: {path}")
    calls = read_vcf(str(path)).calls  # no regions: every record is read
    got = calls.iloc[row][["chrom", "pos", "ref", "alt", "depth", "alt_depth", "vaf"]].tolist()
    assert got[:4] == list(expected[:4]) and got[4:6] == list(expected[4:6])
    assert got[6] == pytest.approx(expected[6])
