from pathlib import Path

import pytest

from schemas import DomainCatalog, DomainSpecError
from schemas.domain import load_domain_file


def test_builtin_domains_load():
    catalog = DomainCatalog.load()
    assert {"ml-research", "world-news", "python-ecosystem"} <= set(catalog.ids())
    for spec in catalog:
        assert spec.sources and (spec.relevance.keywords or spec.relevance.phrases)


def test_unknown_domain_names_the_known_ones():
    with pytest.raises(DomainSpecError) as info:
        DomainCatalog.load().get("cooking")
    assert "unknown domain 'cooking'" in str(info.value)
    assert "python-ecosystem" in info.value.hint


def _write(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(body)
    return path


MINIMAL = """id: {id}
title: T
sources: [{{kind: web, params: {{seeds: [https://example.com/]}}}}]
relevance: {{keywords: {{python: 1}}, min_score: {min_score}}}
"""


def test_malformed_field_names_file_field_and_fix(tmp_path):
    path = _write(tmp_path, "bad", MINIMAL.format(id="bad", min_score=3))
    with pytest.raises(DomainSpecError) as info:
        load_domain_file(path)
    assert str(path) in info.value.message
    assert "relevance.min_score" in info.value.message
    assert "fix that field" in info.value.hint


def test_invalid_yaml_is_reported(tmp_path):
    path = _write(tmp_path, "broken", "id: [unclosed\n")
    with pytest.raises(DomainSpecError, match="not valid YAML"):
        load_domain_file(path)


def test_id_must_match_file_name(tmp_path):
    path = _write(tmp_path, "other", MINIMAL.format(id="mine", min_score=0.1))
    with pytest.raises(DomainSpecError) as info:
        load_domain_file(path)
    assert "rename the file to mine.yaml" in info.value.hint


def test_unknown_source_kind_is_rejected(tmp_path):
    path = _write(tmp_path, "x1", MINIMAL.format(id="x1", min_score=0.1).replace("kind: web", "kind: telegram"))
    with pytest.raises(DomainSpecError, match=r"sources\.0\.kind"):
        load_domain_file(path)


def test_extra_folder_overrides_builtin(tmp_path):
    _write(tmp_path, "python-ecosystem", MINIMAL.format(id="python-ecosystem", min_score=0.3))
    catalog = DomainCatalog.load([tmp_path])
    assert catalog.get("python-ecosystem").relevance.min_score == 0.3
    assert "world-news" in catalog
