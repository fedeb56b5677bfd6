"""Publishing to a Hub-compatible server on loopback through huggingface_hub (legacy LFS, no xet)."""

from __future__ import annotations

import io

import pyarrow.parquet as pq
import pytest

from hub import HubTarget, Publisher, pull
from hub.hub_target import is_transient
from hub.state import PublishState
from schemas.errors import PublishError
from tests.hub.conftest import mixed_records

REPO = "glean/test-data"


def _publisher(engine, fake_hub, catalog, *, retries: int = 3) -> Publisher:
    target = HubTarget(REPO, token="hf_test", endpoint=fake_hub.url, retries=retries, backoff_seconds=0.01)
    return Publisher(engine, target, catalog)


def _urls_on_main(fake_hub) -> list[str]:
    urls = []
    for path, content in fake_hub.files_at(REPO).items():
        if path.endswith(".parquet"):
            urls += pq.read_table(io.BytesIO(content), columns=["uri"])["uri"].to_pylist()
    return urls


def _committed_paths(lines: list[dict]) -> list[str]:
    return sorted(line["value"]["path"] for line in lines if line["key"] != "header")


def test_release_is_one_commit_of_the_new_shards_and_the_card(engine, fake_hub, catalog, store):
    publisher = _publisher(engine, fake_hub, catalog)
    publisher.publish(store.fetch_after, validator_hotkey="5V")
    store.add(mixed_records(121, 150))

    info = publisher.publish(store.fetch_after, validator_hotkey="5V")

    assert len(fake_hub.commits) == 2
    assert _committed_paths(fake_hub.commits[-1]) == [
        "README.md", "data/ml-research/r00000121/part-00000.parquet", "data/world-news/r00000121/part-00000.parquet",
        "overview.png"]
    assert {line["key"] for line in fake_hub.commits[-1][1:]} == {"lfsFile", "file"}
    assert info.location == f"{REPO}@r00000121"


def test_each_release_is_tagged_on_its_commit(engine, fake_hub, catalog, store):
    publisher = _publisher(engine, fake_hub, catalog)
    first = publisher.publish(store.fetch_after, validator_hotkey="5V")
    store.add(mixed_records(121, 150))
    second = publisher.publish(store.fetch_after, validator_hotkey="5V")

    repo = fake_hub.repo(REPO)
    assert repo.tags == {"r00000001": first.revision, "r00000121": second.revision}
    assert repo.branches["main"] == second.revision


def test_a_commit_failing_once_is_retried_into_one_commit(engine, fake_hub, catalog, store):
    fake_hub.fail_next["commit"] = 1

    _publisher(engine, fake_hub, catalog).publish(store.fetch_after, validator_hotkey="5V")

    assert fake_hub.calls["commit"] == 2 and len(fake_hub.commits) == 1
    assert sorted(_urls_on_main(fake_hub)) == sorted(r.record.uri for r in store.records)


def test_crash_after_commit_before_state_reruns_without_a_new_commit(engine, fake_hub, catalog, store):
    with pytest.MonkeyPatch.context() as patch, pytest.raises(SystemExit):
        patch.setattr(PublishState, "complete", _crash)
        _publisher(engine, fake_hub, catalog).publish(store.fetch_after, validator_hotkey="5V")
    store.add(mixed_records(121, 150))

    publisher = _publisher(engine, fake_hub, catalog)
    first = publisher.publish(store.fetch_after, validator_hotkey="5V")
    publisher.publish(store.fetch_after, validator_hotkey="5V")

    assert first.release == "r00000001" and first.revision == fake_hub.repo(REPO).tags["r00000001"]
    assert len(fake_hub.commits) == 2
    urls = _urls_on_main(fake_hub)
    assert len(urls) == len(set(urls)) == 150


def test_publish_failing_past_its_retries_is_completed_by_a_rerun(engine, fake_hub, catalog, store):
    fake_hub.fail_next["commit"] = 5
    with pytest.raises(PublishError):
        _publisher(engine, fake_hub, catalog, retries=2).publish(store.fetch_after, validator_hotkey="5V")
    fake_hub.fail_next.clear()
    store.add(mixed_records(121, 150))

    publisher = _publisher(engine, fake_hub, catalog)
    assert publisher.publish(store.fetch_after, validator_hotkey="5V").release == "r00000001"
    assert publisher.publish(store.fetch_after, validator_hotkey="5V").release == "r00000121"
    urls = _urls_on_main(fake_hub)
    assert len(urls) == len(set(urls)) == 150


def test_tag_failing_past_its_retries_is_completed_by_a_rerun_without_a_second_commit(engine, fake_hub, catalog,
                                                                                       store):
    fake_hub.fail_next["tag"] = 5
    with pytest.raises(PublishError):
        _publisher(engine, fake_hub, catalog, retries=2).publish(store.fetch_after, validator_hotkey="5V")
    fake_hub.fail_next.clear()

    info = _publisher(engine, fake_hub, catalog).publish(store.fetch_after, validator_hotkey="5V")

    assert len(fake_hub.commits) == 1
    assert fake_hub.repo(REPO).tags == {"r00000001": info.revision}
    assert sorted(_urls_on_main(fake_hub)) == sorted(r.record.uri for r in store.records)


def test_pull_from_the_hub_at_a_release_tag_leaves_later_rows_out(engine, fake_hub, catalog, store):
    publisher = _publisher(engine, fake_hub, catalog)
    first = publisher.publish(store.fetch_after, validator_hotkey="5V")
    store.add(mixed_records(121, 150))
    publisher.publish(store.fetch_after, validator_hotkey="5V")

    old = pull("ml-research", repo=REPO, revision=first.release, endpoint=fake_hub.url)
    latest = pull("ml-research", repo=REPO, endpoint=fake_hub.url)

    assert len(old) == 80 and set(old["release"]) == {"r00000001"}
    assert len(latest) == 100


def test_missing_repo_is_created_as_a_dataset_repo(engine, fake_hub, catalog, store):
    _publisher(engine, fake_hub, catalog).publish(store.fetch_after, validator_hotkey="5V")

    assert fake_hub.repo(REPO, "dataset").repo_type == "dataset"
    assert fake_hub.calls["create"] == 1


def test_server_and_network_errors_are_transient_and_client_errors_are_not():
    from huggingface_hub.errors import OfflineModeIsEnabled

    class Response:
        def __init__(self, status: int) -> None:
            self.status_code = status

    class HttpError(Exception):
        def __init__(self, status: int) -> None:
            self.response = Response(status)

    assert is_transient(HttpError(503)) and is_transient(HttpError(429))
    assert not is_transient(HttpError(401)) and not is_transient(HttpError(404))
    wrapped = RuntimeError("Error while uploading a shard")
    wrapped.__cause__ = HttpError(502)
    assert is_transient(wrapped) and is_transient(ConnectionResetError())
    assert not is_transient(ValueError("Invalid metadata in README.md"))
    assert not is_transient(OfflineModeIsEnabled("offline mode is enabled"))


def _crash(*args, **kwargs):
    raise SystemExit("killed after the commit, before the state recorded it")


def test_glean_pull_reads_a_repo_release_from_the_configured_endpoint(engine, fake_hub, catalog, store, tmp_path):
    from typer.testing import CliRunner

    from glean.cli import app

    publisher = _publisher(engine, fake_hub, catalog)
    publisher.publish(store.fetch_after, validator_hotkey="5V")
    store.add(mixed_records(121, 150))
    publisher.publish(store.fetch_after, validator_hotkey="5V")
    out = tmp_path / "wn.parquet"

    result = CliRunner().invoke(app, ["pull", "world-news", "--repo", REPO, "--revision", "r00000001",
                                      "--out", str(out)], env={"GLEAN_HUB__ENDPOINT": fake_hub.url})

    assert result.exit_code == 0, repr(result.exception)
    assert sorted(pq.read_table(out)["uri"].to_pylist()) == sorted(
        r.record.uri for r in store.records if r.record.domain == "world-news" and r.accepted_id <= 120)
