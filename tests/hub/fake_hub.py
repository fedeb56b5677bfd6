"""A Hub-compatible HTTP server on 127.0.0.1 answering the `huggingface_hub` calls glean makes.

It keeps repos in memory as real commit graphs (files per commit, branches, tags) and speaks the same wire
formats as huggingface.co: `POST /api/repos/create`, `GET /api/{type}s/{repo}[/revision/{rev}]`,
`POST /api/validate-yaml`, `POST /api/{type}s/{repo}/preupload/{rev}`, the git-LFS batch API
(`POST /{type}s/{repo}.git/info/lfs/objects/batch`, basic transfer PUT, verify), the NDJSON
`POST /api/{type}s/{repo}/commit/{rev}`, `POST /api/{type}s/{repo}/tag/{rev}`, `GET /api/{type}s/{repo}/refs`,
`GET /api/{type}s/{repo}/tree/{rev}[/{path}]` and `HEAD|GET /{type}s/{repo}/resolve/{rev}/{path}`.
Uploads go through legacy LFS, so tests set HF_HUB_DISABLE_XET=1.

`fail_next[route] = n` answers the next n calls of a route with 500 (routes: "commit", "tag", "preupload",
"lfs_batch", "lfs_upload", "refs", "create"); `commits` holds every commit's parsed NDJSON lines.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

import yaml

LFS_THRESHOLD = 10 * 1024 * 1024
LFS_SUFFIXES = (".parquet", ".arrow", ".bin", ".safetensors", ".zst", ".gz")


def git_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass(frozen=True)
class Blob:
    content: bytes
    lfs: bool

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    @property
    def pointer(self) -> bytes:
        return (f"version https://git-lfs.github.com/spec/v1\noid sha256:{self.sha256}\n"
                f"size {len(self.content)}\n").encode()

    @property
    def git_oid(self) -> str:
        return git_sha1(self.pointer if self.lfs else self.content)

    @property
    def etag(self) -> str:
        return self.sha256 if self.lfs else git_sha1(self.content)


@dataclass
class Commit:
    oid: str
    parent: str | None
    files: dict[str, Blob]
    summary: str
    date: datetime


@dataclass
class Repo:
    repo_type: str
    repo_id: str
    commits: dict[str, Commit] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)

    def resolve(self, rev: str) -> Commit | None:
        oid = self.branches.get(rev) or self.tags.get(rev)
        if oid is None and len(rev) >= 7:
            oid = next((o for o in self.commits if o.startswith(rev)), None)
        return self.commits.get(oid) if oid else None

    def add_commit(self, parent: Commit | None, files: dict[str, Blob], summary: str) -> Commit:
        seed = f"{parent.oid if parent else ''}|{summary}|{len(self.commits)}|" + "|".join(
            f"{p}:{b.etag}" for p, b in sorted(files.items()))
        commit = Commit(hashlib.sha1(seed.encode()).hexdigest(), parent.oid if parent else None, files, summary,
                        datetime.now(UTC))
        self.commits[commit.oid] = commit
        return commit


def hub_time(value: datetime) -> str:
    """The Hub's timestamp format (`2024-01-01T00:00:00.000Z`), the only one huggingface_hub parses."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


class HubError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


REPO = r"(?P<type>model|dataset|space)s/(?P<repo>[^/]+/[^/]+?)"
ROUTES = [
    ("POST", "create", re.compile(r"^/api/repos/create$")),
    ("POST", "validate_yaml", re.compile(r"^/api/validate-yaml$")),
    ("GET", "info", re.compile(rf"^/api/{REPO}(?:/revision/(?P<rev>[^/]+))?$")),
    ("POST", "preupload", re.compile(rf"^/api/{REPO}/preupload/(?P<rev>[^/]+)$")),
    ("POST", "commit", re.compile(rf"^/api/{REPO}/commit/(?P<rev>[^/]+)$")),
    ("POST", "tag", re.compile(rf"^/api/{REPO}/tag/(?P<rev>[^/]+)$")),
    ("GET", "refs", re.compile(rf"^/api/{REPO}/refs$")),
    ("GET", "tree", re.compile(rf"^/api/{REPO}/tree/(?P<rev>[^/]+)(?:/(?P<path>.*))?$")),
    ("POST", "lfs_batch", re.compile(rf"^/{REPO}\.git/info/lfs/objects/batch$")),
    ("PUT", "lfs_upload", re.compile(r"^/__lfs/upload/(?P<oid>[0-9a-f]{64})$")),
    ("POST", "lfs_verify", re.compile(r"^/__lfs/verify$")),
    ("GET", "resolve", re.compile(rf"^/{REPO}/resolve/(?P<rev>[^/]+)/(?P<path>.+)$")),
    ("HEAD", "resolve", re.compile(rf"^/{REPO}/resolve/(?P<rev>[^/]+)/(?P<path>.+)$")),
]


class FakeHub:
    """Run with `with FakeHub() as hub:`; point HfApi / HubTarget at `hub.url`."""

    def __init__(self) -> None:
        self.repos: dict[tuple[str, str], Repo] = {}
        self.lfs: dict[str, bytes] = {}
        self.fail_next: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self.commits: list[list[dict]] = []
        self.unknown: list[str] = []
        self._lock = threading.RLock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeHub:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- state helpers for tests -------------------------------------------------------------------
    def repo(self, repo_id: str, repo_type: str = "dataset") -> Repo:
        return self.repos[(repo_type, repo_id)]

    def files_at(self, repo_id: str, rev: str = "main", repo_type: str = "dataset") -> dict[str, bytes]:
        commit = self.repo(repo_id, repo_type).resolve(rev)
        assert commit is not None, rev
        return {p: b.content for p, b in commit.files.items()}

    # --- request handling --------------------------------------------------------------------------
    def _handler(self):
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                        if size == 0:
                            self.rfile.readline()
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _dispatch(self, method: str) -> None:
                split = urlsplit(self.path)
                body = self._body() if method in ("POST", "PUT") else b""
                try:
                    status, headers, payload = hub._route(method, split.path, parse_qs(split.query), body,
                                                          self.headers)
                except HubError as exc:
                    status, payload = exc.status, json.dumps({"error": exc.message}).encode()
                    headers = {"Content-Type": "application/json", "X-Error-Message": exc.message}
                    if exc.code:
                        headers["X-Error-Code"] = exc.code
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                if "Content-Length" not in headers:
                    self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if method != "HEAD":
                    self.wfile.write(payload)

            def do_GET(self) -> None:
                self._dispatch("GET")

            def do_HEAD(self) -> None:
                self._dispatch("HEAD")

            def do_POST(self) -> None:
                self._dispatch("POST")

            def do_PUT(self) -> None:
                self._dispatch("PUT")

        return Handler

    def _route(self, method: str, path: str, query: dict, body: bytes, headers) -> tuple[int, dict, bytes]:
        for verb, name, pattern in ROUTES:
            match = pattern.match(path)
            if verb == method and match:
                with self._lock:
                    self.calls[name] += 1
                    if self.fail_next[name] > 0:
                        self.fail_next[name] -= 1
                        raise HubError(500, f"injected failure of {name}")
                    groups = {k: unquote(v) for k, v in match.groupdict().items() if v is not None}
                    return getattr(self, f"_{name}")(groups, query, body, headers)
        self.unknown.append(f"{method} {path}")
        raise HubError(404, f"no route {method} {path}")

    def _json(self, data, status: int = 200) -> tuple[int, dict, bytes]:
        return status, {"Content-Type": "application/json"}, json.dumps(data).encode()

    def _repo(self, groups: dict) -> Repo:
        repo = self.repos.get((groups["type"], groups["repo"]))
        if repo is None:
            raise HubError(404, f"Repository not found: {groups['repo']}", "RepoNotFound")
        return repo

    def _commit_at(self, repo: Repo, rev: str) -> Commit:
        commit = repo.resolve(rev)
        if commit is None:
            raise HubError(404, f"Invalid rev id: {rev}", "RevisionNotFound")
        return commit

    def _create(self, groups, query, body, headers):
        data = json.loads(body)
        repo_type = data.get("type") or "model"
        repo_id = f"{data['organization']}/{data['name']}" if data.get("organization") else data["name"]
        url = f"{self.url}/{repo_type}s/{repo_id}" if repo_type != "model" else f"{self.url}/{repo_id}"
        if (repo_type, repo_id) in self.repos:
            return self._json({"error": "You already created this repo", "url": url}, 409)
        repo = Repo(repo_type, repo_id)
        initial = repo.add_commit(None, {".gitattributes": Blob(b"*.parquet filter=lfs diff=lfs merge=lfs -text\n",
                                                               False)}, "initial commit")
        repo.branches["main"] = initial.oid
        self.repos[(repo_type, repo_id)] = repo
        return self._json({"url": url, "name": repo_id, "id": initial.oid})

    def _validate_yaml(self, groups, query, body, headers):
        content = json.loads(body)["content"]
        match = re.match(r"^---\n(.*?)\n---\n", content, re.S)
        try:
            meta = yaml.safe_load(match.group(1)) if match else {}
        except yaml.YAMLError as exc:
            return self._json({"errors": [{"message": f"invalid YAML: {exc}"}]}, 400)
        if meta is not None and not isinstance(meta, dict):
            return self._json({"errors": [{"message": "metadata must be a mapping"}]}, 400)
        return self._json({"errors": [], "warnings": []})

    def _info(self, groups, query, body, headers):
        repo = self._repo(groups)
        commit = self._commit_at(repo, groups.get("rev", "main"))
        return self._json({
            "_id": hashlib.md5(repo.repo_id.encode()).hexdigest()[:24], "id": repo.repo_id,
            "author": repo.repo_id.split("/")[0], "sha": commit.oid, "private": False, "disabled": False,
            "gated": False, "downloads": 0, "likes": 0, "tags": [], "createdAt": hub_time(commit.date),
            "lastModified": hub_time(commit.date), "siblings": [{"rfilename": p} for p in sorted(commit.files)],
        })

    def _preupload(self, groups, query, body, headers):
        repo = self._repo(groups)
        commit = self._commit_at(repo, groups["rev"])
        files = []
        for f in json.loads(body)["files"]:
            sample = base64.b64decode(f["sample"])
            lfs = f["path"].endswith(LFS_SUFFIXES) or f["size"] > LFS_THRESHOLD or b"\0" in sample
            existing = commit.files.get(f["path"])
            oid = None if existing is None else existing.etag
            files.append({"path": f["path"], "uploadMode": "lfs" if lfs else "regular", "shouldIgnore": False,
                          "oid": oid})
        return self._json({"files": files, "commitOid": commit.oid})

    def _lfs_batch(self, groups, query, body, headers):
        self._repo(groups)
        data = json.loads(body)
        assert data["operation"] == "upload", data
        objects = []
        for obj in data["objects"]:
            entry = {"oid": obj["oid"], "size": obj["size"], "authenticated": True}
            if obj["oid"] not in self.lfs:
                entry["actions"] = {
                    "upload": {"href": f"{self.url}/__lfs/upload/{obj['oid']}", "header": {}},
                    "verify": {"href": f"{self.url}/__lfs/verify", "header": {}},
                }
            objects.append(entry)
        return self._json({"transfer": "basic", "objects": objects, "hash_algo": "sha256"})

    def _lfs_upload(self, groups, query, body, headers):
        if hashlib.sha256(body).hexdigest() != groups["oid"]:
            raise HubError(400, "sha256 of the upload does not match its oid")
        self.lfs[groups["oid"]] = body
        return 200, {}, b""

    def _lfs_verify(self, groups, query, body, headers):
        data = json.loads(body)
        stored = self.lfs.get(data["oid"])
        if stored is None or len(stored) != data["size"]:
            raise HubError(404, f"LFS object {data['oid']} not uploaded")
        return self._json({"ok": True})

    def _commit(self, groups, query, body, headers):
        repo = self._repo(groups)
        branch = groups["rev"]
        if branch not in repo.branches:
            raise HubError(404, f"branch {branch} not found", "RevisionNotFound")
        lines = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
        if not lines or lines[0]["key"] != "header":
            raise HubError(400, "first NDJSON line must be the header")
        header = lines[0]["value"]
        parent = repo.commits[repo.branches[branch]]
        if header.get("parentCommit") and header["parentCommit"] != parent.oid:
            raise HubError(412, "parent commit is not the head of the branch")
        files = dict(parent.files)
        for line in lines[1:]:
            value = line["value"]
            if line["key"] == "file":
                files[value["path"]] = Blob(base64.b64decode(value["content"]), False)
            elif line["key"] == "lfsFile":
                content = self.lfs.get(value["oid"])
                if content is None or ("size" in value and value["size"] != len(content)):
                    raise HubError(400, f"LFS object of {value['path']} was not uploaded")
                files[value["path"]] = Blob(content, True)
            elif line["key"] == "deletedFile":
                files.pop(value["path"], None)
            elif line["key"] == "deletedFolder":
                prefix = value["path"].rstrip("/") + "/"
                files = {p: b for p, b in files.items() if not p.startswith(prefix)}
            else:
                raise HubError(400, f"unknown commit operation {line['key']}")
        commit = repo.add_commit(parent, files, header["summary"])
        repo.branches[branch] = commit.oid
        self.commits.append(lines)
        kind = f"{repo.repo_type}s/" if repo.repo_type != "model" else ""
        return self._json({"success": True, "commitOid": commit.oid, "pullRequestUrl": None,
                           "commitUrl": f"{self.url}/{kind}{repo.repo_id}/commit/{commit.oid}"})

    def _tag(self, groups, query, body, headers):
        repo = self._repo(groups)
        commit = self._commit_at(repo, groups["rev"])
        tag = json.loads(body)["tag"]
        if tag in repo.tags:
            raise HubError(409, f"tag {tag} already exists")
        repo.tags[tag] = commit.oid
        return self._json({"name": tag, "ref": f"refs/tags/{tag}", "targetCommit": commit.oid})

    def _refs(self, groups, query, body, headers):
        repo = self._repo(groups)

        def refs(kind: str, items: dict[str, str]) -> list[dict]:
            return [{"name": n, "ref": f"refs/{kind}/{n}", "targetCommit": o} for n, o in sorted(items.items())]

        return self._json({"branches": refs("heads", repo.branches), "tags": refs("tags", repo.tags),
                           "converts": [], "pullRequests": []})

    def _tree(self, groups, query, body, headers):
        repo = self._repo(groups)
        commit = self._commit_at(repo, groups["rev"])
        base = groups.get("path", "").strip("/")
        prefix = f"{base}/" if base else ""
        recursive = query.get("recursive", ["false"])[0].lower() in ("1", "true")
        entries: dict[str, dict] = {}
        for path, blob in sorted(commit.files.items()):
            if not path.startswith(prefix):
                continue
            rest = path[len(prefix):].split("/")
            for depth in range(1, len(rest)):
                folder = prefix + "/".join(rest[:depth])
                if recursive or depth == 1:
                    entries.setdefault(folder, {"type": "directory", "oid": git_sha1(folder.encode()), "size": 0,
                                                "path": folder})
            if recursive or len(rest) == 1:
                entry = {"type": "file", "oid": blob.git_oid, "size": len(blob.content), "path": path}
                if blob.lfs:
                    entry["lfs"] = {"oid": blob.sha256, "size": len(blob.content), "pointerSize": len(blob.pointer)}
                entries[path] = entry
        if base and not entries:
            raise HubError(404, f"{base} not found", "EntryNotFound")
        return self._json(list(entries.values()))

    def _resolve(self, groups, query, body, headers):
        repo = self._repo(groups)
        commit = self._commit_at(repo, groups["rev"])
        blob = commit.files.get(groups["path"])
        if blob is None:
            raise HubError(404, f"{groups['path']} not found", "EntryNotFound")
        out = {"X-Repo-Commit": commit.oid, "ETag": f'"{blob.etag}"', "Content-Type": "application/octet-stream",
               "Accept-Ranges": "bytes", "Content-Length": str(len(blob.content))}
        if blob.lfs:
            out["X-Linked-Etag"] = f'"{blob.sha256}"'
            out["X-Linked-Size"] = str(len(blob.content))
        return 200, out, blob.content
