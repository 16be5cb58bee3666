"""XSS corpus: hostile sample names, notes, citations and VCF header values are shown as text, never markup."""

import json
import shutil
import subprocess
from html.parser import HTMLParser

import pandas as pd
import pysam
import pytest

from krasannot import columns as C
from krasannot.errors import UsageError
from krasannot.report.cohort import write_cohort
from krasannot.report.render import write_sample_report
from report_inputs import DEMO_VCF, PROVENANCE, annotate_demo, demo_matches, summary_row

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
SVG = "<svg/onload=alert(1)>"
JS_URL = "javascript:alert(1)"


class Elements(HTMLParser):
    """Every start tag and its attributes, as a browser's tokenizer sees them."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def assert_no_markup_injected(html: str) -> Elements:
    parsed = Elements(html)
    names = {tag for tag, _ in parsed.tags}
    assert "script" not in names and "img" not in names and "iframe" not in names
    for tag, attrs in parsed.tags:
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        href = attrs.get("href")
        if href is not None:
            assert not href.lower().startswith(("javascript:", "data:", "vbscript:")), href
    assert "<script" not in html and "<img" not in html and "<svg/onload" not in html
    return parsed


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """The demo patient with a hostile tumour sample name and ##source header value, really annotated."""
    work = tmp_path_factory.mktemp("hostile")
    text = DEMO_VCF.read_text().replace("DEMO-LUAD-01\n", IMG + "\n").replace("=DEMO-LUAD-01\n", "=" + IMG + "\n")
    text = text.replace("##tumor_sample", f"##source=Mutect2 {SCRIPT} {IMG}\n"
                        '##INFO=<ID=KA_GENE,Number=1,Type=Integer,Description="planted">\n##tumor_sample')
    text = text.replace("chr12\t25245351\t.\tC\tA\t.\tPASS\t.", "chr12\t25245351\t.\tC\tA\t.\tPASS\tKA_GENE=5")
    vcf = work / "hostile.vcf"
    vcf.write_text(text)
    annotated = pd.read_csv(annotate_demo(work, vcf, drop_outside=True), sep="\t", dtype=str, keep_default_na=False)
    assert set(annotated[C.SAMPLE]) == {IMG}
    matches = demo_matches(IMG).assign(
        **{C.SUMMARY: f"Gene note {SCRIPT} {IMG}", C.BIOMARKER: f"KRAS p.G12C {SVG}",
           C.CITATIONS: f"PMID:34096690; {JS_URL}; <a href='{JS_URL}'>x</a>; FDA {JS_URL} ({IMG}) label; "
                        f"doi:{JS_URL}; doi:10.1000/x{SCRIPT}", C.CAVEATS: f"low_vaf;{SCRIPT}",
           C.THERAPY: ["sotorasib", f"adagrasib {IMG}", "osimertinib", ""],
           C.MATCHED_CALLS: ["KRAS p.G12C", "KRAS p.G12C", f"MET amplification {SVG}", "STK11 p.Q37*"]})
    summary = pd.DataFrame([summary_row(IMG, resistance=f"MET amplification {SVG}")])
    outdir = work / "report"
    written = write_sample_report(annotated, matches, summary, sample=IMG, tumor_type=f"LUAD{SCRIPT}",
                                  specimen="plasma", build="GRCh38", outdir=outdir, provenance=PROVENANCE,
                                  input_vcf=str(vcf), reproducible=True)
    return written, outdir


def test_hostile_values_are_text_in_the_report(hostile):
    written, _ = hostile
    html = written[".report.html"].read_text()
    parsed = assert_no_markup_injected(html)
    text = "".join(parsed.text)
    # each hostile value is there, as the text a reader sees
    for value in (IMG, SCRIPT, SVG, JS_URL, f"Gene note {SCRIPT} {IMG}", f"Mutect2 {SCRIPT} {IMG}",
                  f"MET amplification {SVG}", f"adagrasib {IMG}", f"LUAD{SCRIPT}"):
        assert value in text, value
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    links = [attrs["href"] for tag, attrs in parsed.tags if tag == "a"]
    assert links and all(h.startswith(("https://pubmed.ncbi.nlm.nih.gov/", "https://clinicaltrials.gov/study/",
                                       "https://doi.org/10.", "https://dailymed.nlm.nih.gov/dailymed/search.cfm?query="))
                         for h in links)
    # a hostile FDA label becomes a search on its leading word only; a hostile DOI is percent-encoded
    assert "https://dailymed.nlm.nih.gov/dailymed/search.cfm?query=javascript" in links
    assert "https://doi.org/10.1000/x%3Cscript%3Ealert(1)%3C/script%3E" in links
    title = html[html.index("<title>"):html.index("</title>")]
    assert "&lt;img" in title


def test_hostile_values_stay_data_in_json_and_vcf(hostile):
    written, outdir = hostile
    report = json.loads(written[".report.json"].read_text())
    assert report["sample"]["id"] == IMG
    assert report["provenance"]["variant_caller"][-1] == f"Mutect2 {SCRIPT} {IMG}"
    assert [c["url"] for c in report["matches"][0]["matches"][0]["citations"]] == [
        "https://pubmed.ncbi.nlm.nih.gov/34096690/", None, None,
        "https://dailymed.nlm.nih.gov/dailymed/search.cfm?query=javascript", None,
        "https://doi.org/10.1000/x%3Cscript%3Ealert(1)%3C/script%3E"]
    with pysam.VariantFile(str(written[".annotated.vcf.gz"])) as vcf:
        assert list(vcf.header.samples)[-1] == IMG
        assert vcf.header.info["KA_GENE"].type == "String"  # the planted Integer definition is replaced
        kras = [r for r in vcf if r.pos == 25245351][0]
        assert kras.info["KA_GENE"] == ("KRAS",) and kras.info["KA_HGVSP_SHORT"] == ("p.G12C",)
    if shutil.which("bcftools"):
        view = subprocess.run(["bcftools", "view", "-H", str(written[".annotated.vcf.gz"])], capture_output=True)
        assert view.returncode == 0 and len(view.stdout.splitlines()) == 8


def test_hostile_values_are_text_in_the_cohort_page(hostile, tmp_path):
    _, outdir = hostile
    written = write_cohort([str(outdir)], tmp_path / "cohort", quiet=True)
    html = written["html"].read_text()
    parsed = assert_no_markup_injected(html)
    assert IMG in "".join(parsed.text) and f"LUAD{SCRIPT}" in "".join(parsed.text)
    hrefs = [attrs["href"] for tag, attrs in parsed.tags if tag == "a"]
    assert len(hrefs) == 1 and hrefs[0].endswith("%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E.report.html")
    assert ":" not in hrefs[0]


def test_a_script_sample_name_cannot_name_files(tmp_path):
    with pytest.raises(UsageError):
        write_sample_report(pd.DataFrame(columns=C.ANNOTATED_TSV_COLUMNS), pd.DataFrame(columns=C.MATCH_COLUMNS),
                            None, sample=SCRIPT, tumor_type="LUAD", specimen=None, build=None, outdir=tmp_path,
                            provenance={})
    assert list(tmp_path.iterdir()) == []
