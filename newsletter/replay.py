"""Serving recorded HTTP responses from files, for ``newsletter demo``.

A ``requests`` transport adapter: the code under it is exactly the code that
talks to the real services; only the bytes come from disk. A request with no
recording gets a 404 so nothing is ever invented.
"""

from __future__ import annotations

from typing import Any
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict


@dataclass(frozen=True)
class Recording:
    url: str  # scheme://host/path the request must match (query ignored...)
    file: Path | None
    params: dict[str, str] = field(default_factory=dict)  # ...except these
    status: int = 200
    content_type: str = "application/octet-stream"
    body: bytes | None = None  # instead of a file

    def content(self) -> bytes:
        if self.body is not None:
            return self.body
        assert self.file is not None
        return self.file.read_bytes()


class ReplayAdapter(BaseAdapter):
    def __init__(self, recordings: list[Recording]):
        super().__init__()
        self.recordings = recordings
        self.requests: list[str] = []

    def _find(self, url: str) -> Recording | None:
        parts = urlsplit(url)
        base = f"{parts.scheme}://{parts.netloc}{parts.path}"
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        for rec in self.recordings:
            if rec.url == base and all(query.get(k) == v for k, v in rec.params.items()):
                return rec
        return None

    def send(self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None,
             verify: Any = True, cert: Any = None, proxies: Any = None) -> requests.Response:
        url = str(request.url)
        self.requests.append(url)
        rec = self._find(url)
        resp = requests.Response()
        resp.url = url
        resp.request = request
        if rec is None:
            resp.status_code = 404
            resp._content = b"no recording for this request"
            resp.headers = CaseInsensitiveDict({"Content-Type": "text/plain"})
        else:
            resp.status_code = rec.status
            resp._content = rec.content()
            resp.headers = CaseInsensitiveDict({"Content-Type": rec.content_type})
        resp._content_consumed = True  # the body is all there
        resp.encoding = "utf-8"
        return resp

    def close(self) -> None:
        pass


def replay_session(recordings: list[Recording]) -> requests.Session:
    session = requests.Session()
    adapter = ReplayAdapter(recordings)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
