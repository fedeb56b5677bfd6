from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from schemas import Record, content_hash, normalize_text

TEXT = "Python is a programming language.\n\nIt has many libraries."


def _good(**over):
    fields = dict(uri="https://example.com/a", source="web", domain="python-ecosystem", title="A",
                  text=TEXT, content_hash=content_hash(TEXT), fetched_at=datetime.now(UTC))
    fields.update(over)
    return fields


def _error_of(**over) -> str:
    with pytest.raises(ValidationError) as info:
        Record(**_good(**over))
    return str(info.value)


def test_good_record_passes():
    record = Record(**_good())
    assert record.content_hash == content_hash(TEXT)
    assert Record.model_validate_json(record.model_dump_json()) == record


def test_build_normalises_text_canonicalises_url_and_hashes():
    record = Record.build(uri="HTTPS://Example.com:443/a?utm_source=x#top", text="  Hello\u00a0 world \r\n",
                          source="web",
                          domain="python-ecosystem")
    assert record.uri == "https://example.com/a"
    assert record.text == "Hello world"
    assert record.content_hash == content_hash("Hello world")


def test_wrong_hash_is_rejected():
    assert "content_hash does not match text" in _error_of(content_hash="0" * 64)


def test_non_hex_hash_is_rejected():
    assert "content_hash" in _error_of(content_hash="xyz")


@pytest.mark.parametrize("uri", ["ftp://example.com/a", "javascript:alert(1)", "file:///etc/passwd"])
def test_non_http_scheme_is_rejected(uri):
    assert "not allowed" in _error_of(uri=uri)


def test_non_canonical_uri_is_rejected():
    assert "uri is not canonical" in _error_of(uri="https://EXAMPLE.com/a?utm_source=x")


def test_future_timestamp_is_rejected():
    assert "in the future" in _error_of(fetched_at=datetime.now(UTC) + timedelta(days=1))


def test_published_after_fetched_is_rejected_with_its_own_error_type():
    fetched = datetime.now(UTC) - timedelta(days=30)
    with pytest.raises(ValidationError) as info:
        Record(**_good(fetched_at=fetched, published_at=fetched + timedelta(days=1)))
    assert [e["type"] for e in info.value.errors()] == ["published_after_fetched"]
    assert "after fetched_at" in str(info.value)


def test_published_at_up_to_the_clock_skew_after_fetching_is_accepted():
    fetched = datetime.now(UTC) - timedelta(days=30)
    assert Record(**_good(fetched_at=fetched, published_at=fetched + timedelta(minutes=4))).published_at
    assert Record(**_good(fetched_at=fetched, published_at=fetched - timedelta(days=400))).published_at


def test_naive_timestamp_is_rejected():
    assert "timezone-aware" in _error_of(published_at=datetime(2024, 1, 1))


def test_oversized_text_is_rejected():
    text = "word " * 50_000
    text = normalize_text(text)
    assert "at most 200000 characters" in _error_of(text=text, content_hash=content_hash(text))


def test_unnormalised_text_is_rejected():
    assert "text is not normalised" in _error_of(text="a  b", content_hash=content_hash("a  b"))


def test_unknown_field_is_rejected():
    assert "Extra inputs are not permitted" in _error_of(score=1.0)


def test_wrong_types_are_rejected():
    assert "labels" in _error_of(labels="not-a-list")
    assert "source" in _error_of(source="telegram")


def test_large_meta_is_rejected():
    assert "meta is" in _error_of(meta={"x": "y" * 5000})


def test_multiline_title_is_rejected():
    assert "single line" in _error_of(title="a\nb")
