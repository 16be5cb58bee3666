"""The checked copy of the evidence base (evidence/checked.py): used only for the content it was made from."""

import shutil
from pathlib import Path

import pytest
import yaml

from krasannot.cli import main
from krasannot.errors import ReferenceDataError
from krasannot.evidence import checked
from krasannot.evidence import kb as kb_module
from krasannot.evidence.kb import default_kb_dir, load_kb, validate_kb

SHIPPED = Path(str(default_kb_dir()))


def _as_loaded(kb) -> str:
    """Everything a loaded base holds, typed (repr tells 1 from 1.0 and True), file paths by name."""
    return repr((kb.entries, kb.drug_classes, kb.version, kb.released, kb.oncotree, [Path(f).name for f in kb.files],
                 kb.class_names, kb.cross_resistance_classes))


@pytest.fixture
def kb_copy(tmp_path):
    """A copy of the shipped evidence directory."""
    return Path(shutil.copytree(SHIPPED, tmp_path / "evidence"))


def test_shipped_checked_copy_is_current():
    assert checked.shipped_copy_path().read_text("utf-8") == checked.shipped_copy_now(), (
        f"{checked.shipped_copy_path().name} does not match resources/evidence/*.yaml and kb.schema.json: "
        f"run `{checked.REGENERATE}` and commit the result")


def test_c_loader_reads_the_shipped_yaml_as_the_pure_python_loader_does():
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    for path in sorted(SHIPPED.glob("*.yaml")):
        text = path.read_text("utf-8")
        assert repr(yaml.load(text, Loader=loader)) == repr(yaml.load(text, Loader=yaml.SafeLoader)), path.name


def test_base_from_the_shipped_copy_is_the_base_from_the_yaml(monkeypatch, tmp_path):
    from_copy = _as_loaded(load_kb())
    monkeypatch.setattr(checked, "shipped_copy_path", lambda: tmp_path / "no-shipped-copy.json")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "empty-cache"))
    checked_now, check = [], kb_module.schema_checked_data
    monkeypatch.setattr(kb_module, "schema_checked_data", lambda *args: checked_now.append(args[0]) or check(*args))
    assert _as_loaded(load_kb()) == from_copy
    assert [p.name for p in checked_now] == [p.name for p in kb_module.evidence_files()]


def test_loads_from_the_shipped_copy_without_checking(monkeypatch):
    def never(*_):
        raise AssertionError("the YAML was checked although the shipped copy matches")
    monkeypatch.setattr(kb_module, "schema_checked_data", never)
    assert len(load_kb().entries) > 100


def test_a_kb_dir_is_checked_once_then_loaded_from_the_cache(kb_copy, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    kb_yaml = kb_copy / "kb.yaml"
    kb_yaml.write_text(kb_yaml.read_text("utf-8").replace('version: "', 'version: "edited-', 1), "utf-8")
    first = load_kb(kb_copy)
    assert [p.name for p in (tmp_path / "cache" / "krasannot").iterdir()] == [
        f"evidence-{checked._read(kb_module.evidence_files(kb_copy), kb_module._schema_text())[0]}.json"]

    def never(*_):
        raise AssertionError("the YAML was checked although a cached copy matches")
    monkeypatch.setattr(kb_module, "schema_checked_data", never)
    assert _as_loaded(load_kb(kb_copy)) == _as_loaded(first)
    assert first.version.startswith("edited-")


def test_a_changed_yaml_is_checked_again_despite_a_cached_copy(kb_copy, capsys):
    load_kb(kb_copy)   # a cached copy of the valid content now exists
    nsclc = kb_copy / "nsclc.yaml"
    nsclc.write_text(nsclc.read_text("utf-8").replace("direction: sensitive", "direction: maybe", 1), "utf-8")
    with pytest.raises(ReferenceDataError, match=r"nsclc\.yaml: entries/\d+/therapy/direction \(entry "):
        load_kb(kb_copy)
    assert main(["kb", "show", "--kb-dir", str(kb_copy)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("krasannot: error: ") and "nsclc.yaml" in err and "'maybe'" in err and "\n" not in err


def test_an_unwritable_cache_means_checking_every_time(kb_copy, monkeypatch, tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "a-file"))
    assert _as_loaded(load_kb(kb_copy)) == _as_loaded(load_kb())
    (kb_copy / "kb.yaml").write_text((kb_copy / "kb.yaml").read_text("utf-8") + "unknown_key: 1\n", "utf-8")
    with pytest.raises(ReferenceDataError, match="kb.yaml"):
        load_kb(kb_copy)


def test_validate_checks_the_yaml_not_the_copy_it_was_loaded_from(kb_copy, panels):
    kb = load_kb(kb_copy)
    (kb_copy / "kb.yaml").write_text((kb_copy / "kb.yaml").read_text("utf-8") + "unknown_key: 1\n", "utf-8")
    proteins = {tx.gene: tx.protein for tx in panels["GRCh38"].transcripts}
    with pytest.raises(ReferenceDataError, match="kb.yaml"):
        validate_kb(kb, proteins, set(proteins))
