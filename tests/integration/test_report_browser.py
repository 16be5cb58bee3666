"""The demo patient's HTML report in a real browser (headless Chromium): it renders, runs no script
(and so raises no script error), fetches nothing, and the DOM shows the KRAS allele and the therapies.

Script errors are checked from Chromium's own log (--enable-logging=stderr --v=0), which prints every
console message and uncaught exception as "CONSOLE(...)" / "Uncaught ..." lines, so no CDP client is needed.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
from report_inputs import DEMO, DEMO_VCF, PROVENANCE, annotate_demo, demo_matches, demo_summary  # noqa: E402

from krasannot.report.render import write_sample_report  # noqa: E402

CHROMIUM = shutil.which("chromium") or (Path("/usr/bin/chromium") if Path("/usr/bin/chromium").exists() else None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install -y chromium)")


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "profile"
    profile.mkdir(exist_ok=True)
    return subprocess.run([str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu",
                           "--disable-background-networking", "--disable-component-update", "--disable-sync",
                           "--no-first-run", f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
                           *args], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def report_html(tmp_path_factory):
    work = tmp_path_factory.mktemp("browser")
    annotated = pd.read_csv(annotate_demo(work), sep="\t", dtype=str, keep_default_na=False)
    written = write_sample_report(annotated, demo_matches(), demo_summary(), sample=DEMO, tumor_type="LUAD",
                                  specimen="tissue", build="GRCh38", outdir=work / "report", provenance=PROVENANCE,
                                  input_vcf=str(DEMO_VCF), reproducible=True)
    return written[".report.html"]


def test_dom_shows_the_kras_allele_and_therapies(report_html, tmp_path):
    result = chromium(tmp_path, "--dump-dom", report_html.as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    assert '<span class="allele">KRAS G12C</span>' in dom
    assert "<strong>sotorasib</strong>" in dom and "<strong>adagrasib</strong>" in dom
    assert 'id="sample-id">DEMO-LUAD-01<' in dom
    assert "https://pubmed.ncbi.nlm.nih.gov/34096690/" in dom
    statement = dom[dom.index('id="result-statement"'):].split("</p>")[0]
    assert "5 alterations found in the panel genes." in statement
    assert dom.index('id="result"') < dom.index('id="key-findings"') < dom.index('id="matches"')
    assert "Ordered by rank within each direction" in dom
    assert "resistant to osimertinib in this tumour type" in dom
    log = result.stderr
    assert "Uncaught" not in log and "CONSOLE(" not in log, log[-2000:]
    # the page's Content-Security-Policy would be reported if anything tried to load
    assert "Content Security Policy" not in log and "Refused to" not in log


def test_screenshot_is_written(report_html, tmp_path):
    png = tmp_path / "report.png"
    result = chromium(tmp_path, "--window-size=1200,1800", f"--screenshot={png}", report_html.as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
    assert "Uncaught" not in result.stderr and "CONSOLE(" not in result.stderr


def test_the_log_check_catches_a_script_error(tmp_path):
    """The error check is live: a page that throws is seen in the same log."""
    page = tmp_path / "throws.html"
    page.write_text("<!DOCTYPE html><html><body><script>null.boom()</script></body></html>")
    log = chromium(tmp_path, "--dump-dom", page.as_uri()).stderr
    assert "Uncaught TypeError" in log


def test_negative_report_renders_its_result(tmp_path):
    """A sample with no call at all: the browser shows the result statement first and no script error."""
    written = write_sample_report(pd.DataFrame(columns=demo_matches().columns.tolist()[:1]), demo_matches().iloc[:0],
                                  None, sample="NEG-01", tumor_type="LUAD", specimen="plasma", build="GRCh38",
                                  outdir=tmp_path / "report", provenance=dict(PROVENANCE, rows_by_status={
                                      "outside_panel": 8}), reproducible=True)
    result = chromium(tmp_path, "--dump-dom", written[".report.html"].as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    statement = dom[dom.index('id="result-statement"'):].split("</p>")[0]
    assert "No alteration found in the panel genes." in statement
    assert "8 records read, 8 outside these genes" in dom and "KRAS not assessed" in dom
    assert "Uncaught" not in result.stderr and "CONSOLE(" not in result.stderr
