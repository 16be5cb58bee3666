"""The streamed VCF read: BGZF inflated by several threads, the checksum taken from the bytes read,
records outside the regions counted (and listed only when asked)."""

import gzip
import hashlib

import pysam
import pytest

from krasannot.errors import InputFormatError
from krasannot.files import file_sha256
from krasannot.io import vcf as V

HEADER = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n"


def records(n: int) -> str:
    """n records on chr1 (outside any panel) and a KRAS G12C in the middle."""
    lines = [f"chr1\t{1000 + i}\t.\tA\tG\t.\tPASS\tDP={i}\tGT:AD\t0/1:{i},{i + 1}\n" for i in range(n)]
    lines.insert(n // 2, "chr12\t25245351\t.\tC\tA\t.\tPASS\t.\tGT:AD\t0/1:40,10\n")
    return HEADER + "".join(lines)


def bgzipped(path, text: str) -> str:
    with pysam.BGZFile(str(path), "wb") as handle:
        handle.write(text.encode())
    return str(path)


def read_text(path: str) -> tuple[bytes, str]:
    digest = hashlib.sha256()
    return b"".join(V._text_blocks(path, digest)), digest.hexdigest()


@pytest.mark.parametrize("kind", ["bgzf", "gzip", "plain"])
def test_blocks_are_the_file_text_and_the_checksum_is_the_files(tmp_path, kind, monkeypatch):
    monkeypatch.setattr(V, "_MEMBERS_PER_BLOCK", 3)  # many groups, inflated out of order by the threads
    monkeypatch.setattr(V, "_READ_BYTES", 1000)      # members cut across reads
    monkeypatch.setattr(V, "BLOCK_BYTES", 5000)
    text = records(20000)
    path = tmp_path / "t.vcf.gz"
    if kind == "bgzf":
        bgzipped(path, text)
    elif kind == "gzip":  # two members, as `cat a.gz b.gz` makes
        path.write_bytes(gzip.compress(text[:70000].encode()) + gzip.compress(text[70000:].encode()))
    else:
        path = tmp_path / "t.vcf"
        path.write_text(text)
    blocks = list(V._text_blocks(str(path), hashlib.sha256()))
    assert len(blocks) > 5 and all(b.endswith(b"\n") for b in blocks)
    assert read_text(str(path)) == (text.encode(), file_sha256(path))


def test_a_damaged_bgzf_member_is_one_error(tmp_path):
    path = bgzipped(tmp_path / "t.vcf.gz", records(5000))
    data = bytearray(open(path, "rb").read())
    data[200] ^= 0xFF  # inside the first member's deflate data
    open(path, "wb").write(bytes(data))
    with pytest.raises(InputFormatError, match="gzip file"):
        read_text(path)


def test_bgzf_cut_inside_a_member_is_truncated(tmp_path):
    path = bgzipped(tmp_path / "t.vcf.gz", records(5000))
    data = open(path, "rb").read()
    eof = V._BGZF_EOF
    open(path, "wb").write(data[:len(data) - len(eof) - 100] + eof)  # the EOF block is there, a member is cut
    with pytest.raises(InputFormatError, match="truncated gzip file"):
        read_text(path)


@pytest.mark.parametrize("list_outside", [False, True])
def test_outside_records_are_counted_and_listed_only_when_asked(tmp_path, list_outside):
    path = bgzipped(tmp_path / "t.vcf.gz", records(3000))  # no index beside it: streamed
    regions = [("chr12", 25205246, 25250929)]
    read = V.read_vcf(path, regions=regions, list_outside=list_outside)
    assert (read.n_records, read.n_outside, len(read.calls)) == (3001, 3000, 1)
    assert read.checksum == "sha256:" + file_sha256(path)
    listed = b"".join(read.outside_text)
    if list_outside:
        assert listed.count(b"\n") == 3000 and listed.startswith(b"chr1\t1000\t.\tA\tG\n")
    else:
        assert listed == b""


def test_an_outside_record_that_is_not_utf8_is_skipped_listed_or_not(tmp_path):
    path = tmp_path / "t.vcf"
    path.write_bytes(records(10).encode() + b"chr1\t5000\tcaf\xe9\tA\tT\t.\tPASS\t.\tGT\t0/1\n")
    for list_outside in (False, True):
        read = V.read_vcf(str(path), regions=[("chr12", 25205246, 25250929)], list_outside=list_outside)
        assert (read.n_records, read.n_outside, len(read.skipped)) == (12, 10, 1)
        assert read.skipped["reason"].tolist() == ["CHROM, POS, ID, REF or ALT is not valid UTF-8"]
