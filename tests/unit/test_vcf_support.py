"""Depth, alt depth, VAF and genotype from each caller's own FORMAT fields (read by cyvcf2, or split by hand
where htslib cannot read a record as written)."""

import math

import numpy as np
import pandas as pd
import pytest

from krasannot.io.vcf import read_vcf

# the types the callers declare; a key left out of a header is read as String
_TYPES = {"GT": "String", "AD": "Integer", "DP": "Integer", "AF": "Float", "FA": "Float", "TIR": "Integer",
          "TAR": "Integer", "AU": "Integer", "CU": "Integer", "GU": "Integer", "TU": "Integer", "RD": "Integer",
          "FREQ": "String", "AO": "Integer", "RO": "Integer", "PS": "Integer", "PGT": "String", "CN": "Integer"}


def _vcf(tmp_path, fmt, samples, ref="C", alt="A", declared=True, names=None):
    names = names or [f"S{i}" for i in range(len(samples))]
    keys = fmt.split(":")
    meta = [f'##FORMAT=<ID={k},Number=.,Type={_TYPES.get(k, "String")},Description="x">' for k in keys] if declared else []
    text = "\n".join(["##fileformat=VCFv4.2", *meta,
                      "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", *names]),
                      "\t".join(["chr12", "100", ".", ref, alt, ".", "PASS", ".", fmt, *samples])]) + "\n"
    path = tmp_path / "x.vcf"
    path.write_bytes(text.encode("utf-8"))
    return str(path)


def _same(got, want):
    return all(pd.isna(g) if math.isnan(w) else (not pd.isna(g) and g == pytest.approx(w)) for g, w in zip(got, want))


@pytest.mark.parametrize("declared", [True, False], ids=["typed", "all-String"])
@pytest.mark.parametrize("caller,fmt,sample,ref,alt,allele,expected", [
    ("Mutect2", "GT:AD:AF:DP", "0/1:41,17:0.29:58", "C", "A", 1, (58, 17, 0.29)),
    ("Mutect2 2nd ALT", "GT:AD:AF:DP", "1/2:30,6,5:0.15,0.12:41", "G", "A,C", 2, (41, 5, 0.12)),
    ("Mutect1", "GT:AD:BQ:DP:FA", "0/1:57,1:35:58:0.017", "A", "C", 1, (58, 1, 0.017)),
    ("Strelka2 SNV", "DP:FDP:SDP:SUBDP:AU:CU:GU:TU", "60:0:0:0:0,0:45,46:0,0:15,15:0,0", "C", "T", 1,
     (60, 15, 0.25)),
    ("Strelka2 indel", "DP:DP2:TAR:TIR:TOR", "94:94:13,13:78,78:3,3", "GC", "G", 1, (91, 78, 78 / 91)),
    ("VarScan", "GT:GQ:DP:RD:AD:FREQ", "0/1:.:50:40:10:20%", "C", "A", 1, (50, 10, 0.20)),
    ("FreeBayes", "GT:DP:RO:AO", "1/2:30:20:6,4", "C", "A,T", 2, (30, 4, 4 / 30)),
    ("VarDict", "GT:DP:VD:AD:AF", "0/1:100:12:88,12:0.12", "C", "A", 1, (100, 12, 0.12)),
    ("AD with a missing count", "GT:AD", "0/1:40,.", "C", "A", 1, (math.nan, math.nan, math.nan)),
    ("no counts", "GT", "0/1", "C", "A", 1, (math.nan, math.nan, math.nan)),
    # htslib refuses these records (an Integer holding a decimal) or would turn them into missing
    # (beyond 32 bits): their sample columns are split by hand
    ("DP not an integer", "GT:AD:DP", "0/1:40,10:50.0", "C", "A", 1, (50, 10, 0.2)),
    ("DP beyond 32 bits", "GT:AD:DP", "0/1:4000000000,1000000000:5000000000", "C", "A", 1,
     (5_000_000_000, 1_000_000_000, 0.2)),
])
def test_caller_support_fields(tmp_path, declared, caller, fmt, sample, ref, alt, allele, expected):
    calls = read_vcf(_vcf(tmp_path, fmt, [sample], ref, alt, declared)).calls
    row = calls[calls["alt"] == alt.split(",")[allele - 1]].iloc[0]
    got = (row["depth"], row["alt_depth"], row["vaf"])
    assert _same(got, expected), (caller, got)


def test_af_keeps_its_written_decimals(tmp_path):
    """htslib keeps Float in 32 bits; the VAF must be the number as written."""
    calls = read_vcf(_vcf(tmp_path, "GT:AF", ["0/1:0.29"])).calls
    assert calls["vaf"].iloc[0] == 0.29


def test_cohort_keeps_only_carriers(tmp_path):
    samples = ["0/0:30,0", "0|1:20,10", "./.:.", "1/1:0,25", "0/1:5,.", ".:3,3"]
    calls = read_vcf(_vcf(tmp_path, "GT:AD", samples)).calls
    assert calls["sample"].tolist() == ["S1", "S3", "S4"]
    assert calls["genotype"].tolist() == ["0|1", "1/1", "0/1"]
    assert calls["alt_depth"].tolist()[:2] == [10, 25] and pd.isna(calls["alt_depth"].iloc[2])
    assert calls["vaf"].tolist()[:2] == [10 / 30, 1.0]


def test_no_carrier_is_listed_once(tmp_path):
    calls = read_vcf(_vcf(tmp_path, "GT:AD", ["0/0:30,0", "./.:."])).calls
    assert calls[["sample", "status"]].values.tolist() == [["S0,S1", "not_carried"]]


@pytest.mark.parametrize("sample,genotype,phase_set", [
    ("0/1:0|1:152", "0|1", "152"),    # Mutect2: physical phasing beside an unphased GT
    ("0|1:1|0:.", "0|1", ""),          # a phased GT stays
    ("0/1:.:.", "0/1", ""),
])
def test_genotype_and_phase_set(tmp_path, sample, genotype, phase_set):
    calls = read_vcf(_vcf(tmp_path, "GT:PGT:PS", [sample])).calls
    assert (calls["genotype"].iloc[0], calls["phase_set"].iloc[0]) == (genotype, phase_set)


def test_non_ascii_and_extra_subfields_are_split_by_hand(tmp_path):
    """A sample with more subfields than FORMAT keys, or bytes beyond ASCII, is still read."""
    calls = read_vcf(_vcf(tmp_path, "GT:AD:PID", ["0/1:40,10:é", "0/1:30,30:x:extra"])).calls
    assert calls["alt_depth"].tolist() == [10, 30]
    assert calls["phase_set"].tolist() == ["é", "x"]


def test_origin_from_matched_normal(tmp_path):
    path = _vcf(tmp_path, "GT:AD", ["0/1:50,5", "0/1:40,20"], names=["NORMAL", "TUMOR"])
    calls = read_vcf(path).calls
    assert calls[["sample", "origin"]].values.tolist() == [["TUMOR", "somatic"]]
    np.testing.assert_allclose(calls["vaf"].to_numpy(dtype=float), [1 / 3])


@pytest.mark.parametrize("name,row,expected", [
    ("mutect2_example.vcf", 0, ("chrM", 152, "T", "C", 1559, 1556, 0.998)),
    ("strelka-example.vcf", 0, ("chr1", 16385738, "GC", "G", 91, 78, 78 / 91)),
    ("mutect-example.vcf", 1, ("chr1", 10039, "A", "C", 58, 1, 0.017)),
])
def test_real_caller_vcfs(name, row, expected):
    from conftest import shared_dir

    path = shared_dir() / "validation" / "caller_vcfs" / name
    if not path.is_file():
        pytest.skip(f"shared validation data not found: {path}")
    calls = read_vcf(str(path)).calls  # no regions: every record is read
    got = calls.iloc[row][["chrom", "pos", "ref", "alt", "depth", "alt_depth", "vaf"]].tolist()
    assert got[:4] == list(expected[:4]) and got[4:6] == list(expected[4:6])
    assert got[6] == pytest.approx(expected[6])


def test_repeated_key_counts_its_last_value(tmp_path):
    """htslib keeps the first of a repeated FORMAT key; the file's last one is what was read before."""
    calls = read_vcf(_vcf(tmp_path, "GT:AD:AD", ["0/1:1,2:30,10"])).calls
    assert (calls["depth"].iloc[0], calls["alt_depth"].iloc[0]) == (40, 10)


def test_column_that_stops_early_leaves_its_keys_unwritten(tmp_path):
    """A tumour column without TIR/TAR is read by the generic AD rule, not as a Strelka indel with no counts;
    a <DEL> whose sample drops CN leaves INFO's CN to count (an empty sv_cn), while CN=. stays '.'."""
    calls = read_vcf(_vcf(tmp_path, "AD:TAR:TIR", ["3,4"])).calls
    assert (calls["depth"].iloc[0], calls["alt_depth"].iloc[0]) == (7, 4)
    calls = read_vcf(_vcf(tmp_path, "GT:CN", ["0/1", "0/1:."], alt="<DEL>")).calls
    assert calls["sv_cn"].tolist() == ["", "."]


def test_records_read_together_as_each_alone(tmp_path):
    """The support rules run once per group of rows whose records write the same FORMAT keys: a file that
    mixes callers' FORMATs, multi-allelic records, a hand-split record and non-carriers gives every row what
    the record gives read alone."""
    records = [  # (FORMAT, tumour column, normal column, REF, ALT)
        ("GT:AD:AF:DP", "0/1:41,17:0.29:58", "0/0:30,0:0:30", "C", "A"),
        ("DP:FDP:SDP:SUBDP:AU:CU:GU:TU", "60:0:0:0:0,0:45,46:0,0:15,15", "30:0:0:0:0,0:30,30:0,0:0,0", "C", "T"),
        ("GT:AD:AF:DP", "1/2:30,6,5:0.15,0.12:41", "0/1:20,20,0:0.5,0:40", "G", "A,C"),
        ("DP:DP2:TAR:TIR:TOR", "94:94:13,13:78,78:3,3", "50:50:50,50:0,0:0,0", "GC", "G"),
        ("GT:DP:RO:AO", "1/2:30:20:6,4", "0/0:25:25:0,0", "C", "A,T"),
        ("GT:AD:DP", "0/1:40,10:50.0", "0/0:30,0:30", "C", "A"),          # refused by htslib: split by hand
        ("GT:AD:PS", "0|1:40,10:0152", "0/0:30,0:.", "C", "A"),            # leading zero: split by hand
        ("GT:AD:AF:DP", "0/0:40,0:0:40", "0/0:30,0:0:30", "C", "A"),       # carried by no one
        ("GT:GQ:DP:RD:AD:FREQ", "0/1:.:50:40:10:20%", "0/0:.:40:40:0:0%", "C", "A"),
    ]
    keys = sorted({k for fmt, *_ in records for k in fmt.split(":")})
    meta = [f'##FORMAT=<ID={k},Number=.,Type={_TYPES.get(k, "String")},Description="x">' for k in keys]

    def vcf(rows, name):
        header = ["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", "NORMAL", "TUMOR"]
        lines = ["##fileformat=VCFv4.2", "##normal_sample=NORMAL", *meta, "\t".join(header)]
        lines += ["\t".join(["chr12", str(100 + 10 * i), ".", ref, alt, ".", "PASS", ".", fmt, normal, tumour])
                  for i, (fmt, tumour, normal, ref, alt) in rows]
        path = tmp_path / name
        path.write_text("\n".join(lines) + "\n")
        return str(path)

    columns = ["pos", "alt", "sample", "depth", "alt_depth", "vaf", "genotype", "phase_set", "status", "origin"]
    def read(path):  # (a record no one carries has no origin column of its own)
        calls = read_vcf(path).calls
        return calls.assign(origin=calls["origin"] if "origin" in calls else "")[columns]

    together = read(vcf(list(enumerate(records)), "all.vcf"))
    alone = pd.concat([read(vcf([(i, r)], f"r{i}.vcf")) for i, r in enumerate(records)], ignore_index=True)
    pd.testing.assert_frame_equal(together, alone, check_dtype=False)  # (concat widens some dtypes to object)
    assert len(together) == 11  # 2 rows for each of the two multi-allelic records carried twice, 1 not carried
    assert together.loc[together["status"] == "not_carried", "pos"].tolist() == [170]
    assert together["origin"].tolist()[:2] == ["somatic", "somatic"]
