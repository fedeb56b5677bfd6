"""Drive a sample web running in another process through its /_control/ API (what `glean local up` and
end-to-end tests use to change pages and install fault rules while miners and validators run)."""

from __future__ import annotations

from typing import Any

import httpx

from schemas.errors import ConfigError

CONTROL_TIMEOUT = 10.0


class SampleWebClient:
    """The same run-time changes as `SampleWeb.edit/delete/add_fault/...`, over HTTP."""

    def __init__(self, base_url: str, *, timeout: float = CONTROL_TIMEOUT) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = httpx.Client(base_url=self.base_url + "/_control", timeout=timeout)

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self._client.request(method, path, json=body)
        data = response.json()
        if response.status_code >= 400:
            raise ConfigError(f"sample web refused {method} {path}: {data.get('error')}",
                              hint=data.get("hint") or "see docs/sampleweb.md")
        return data

    def state(self) -> dict[str, Any]:
        return self._call("GET", "/state")

    def hits(self) -> dict[str, Any]:
        return self._call("GET", "/hits")

    def edit(self, key: str, *, text: str | None = None, append: str | None = None) -> dict[str, Any]:
        return self._call("POST", "/edit", {"key": key, "text": text, "append": append})

    def delete(self, key: str) -> dict[str, Any]:
        return self._call("POST", "/delete", {"key": key})

    def publish(self, area: str, *, title: str | None = None, text: str | None = None) -> dict[str, Any]:
        return self._call("POST", "/publish", {"area": area, "title": title, "text": text})

    def change(self, key: str, *, text: str | None = None, append: str | None = None) -> dict[str, Any]:
        return self._call("POST", "/change", {"key": key, "text": text, "append": append})

    def remove(self, key: str) -> dict[str, Any]:
        return self._call("POST", "/remove", {"key": key})

    def start_schedule(self, *, interval: float, seed: int = 0) -> dict[str, Any]:
        return self._call("POST", "/schedule", {"interval": interval, "seed": seed})

    def stop_schedule(self) -> dict[str, Any]:
        return self._call("POST", "/schedule", {"stop": True})

    def changes(self) -> dict[str, Any]:
        return self._call("GET", "/changes")

    def publish_wiki_page(self, title: str, text: str, namespace: int) -> dict[str, Any]:
        return self._call("POST", "/wiki", {"title": title, "text": text, "namespace": namespace})

    def add_fault(self, **fields: Any) -> dict[str, Any]:
        return self._call("POST", "/faults", fields)

    def clear_faults(self, fault_id: int | None = None) -> dict[str, Any]:
        return self._call("DELETE", "/faults" if fault_id is None else f"/faults/{fault_id}")

    def reset(self) -> dict[str, Any]:
        return self._call("POST", "/reset")

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> SampleWebClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
