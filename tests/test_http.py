import pytest
import responses

from newsletter.errors import SourceError
from newsletter.http import HttpClient


@responses.activate
def test_retry_after_http_date_and_max_wait():
    import email.utils
    now = 1_800_000_000.0
    when = email.utils.formatdate(now + 30, usegmt=True)
    responses.get("https://svc.test/a", status=503, headers={"Retry-After": when})
    responses.get("https://svc.test/a", body="ok")
    sleeps = []
    c = HttpClient(user_agent="ua/1", sleep=sleeps.append, clock=lambda: now, backoff=1, service="svc")
    assert c.get("https://svc.test/a").text == "ok"
    assert sleeps == [30.0]
    assert responses.calls[0].request.headers["User-Agent"] == "ua/1"


@responses.activate
def test_a_wait_longer_than_max_wait_is_an_error():
    responses.get("https://svc.test/a", status=429, headers={"Retry-After": "86400"})
    c = HttpClient(user_agent="u", sleep=lambda s: None, max_wait=600, service="svc")
    with pytest.raises(SourceError, match="asks us to wait 86400 s"):
        c.get("https://svc.test/a")


@responses.activate
def test_connection_errors_are_retried_then_reported():
    import requests
    responses.get("https://svc.test/a", body=requests.ConnectionError("refused"))
    c = HttpClient(user_agent="u", sleep=lambda s: None, retries=2, service="svc")
    with pytest.raises(SourceError, match="svc did not answer: ConnectionError after 3 tries"):
        c.get("https://svc.test/a")
    assert len(responses.calls) == 3
