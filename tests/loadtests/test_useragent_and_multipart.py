"""LibreChat's browser check, and the multipart encoder the upload journey uses."""

from __future__ import annotations

from email.parser import BytesParser
from email.policy import HTTP

import pytest

from librechat_sim.useragent import BROWSER_USER_AGENT, is_browser
from loadtests.common import multipart


@pytest.mark.parametrize(
    "agent",
    [
        BROWSER_USER_AGENT,
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/18.1 Safari/605.1.15",
    ],
)
def test_browsers_pass(agent: str) -> None:
    assert is_browser(agent)


@pytest.mark.parametrize(
    "agent",
    [
        None,
        "",
        "curl/8.5.0",
        "python-requests/2.32.3",
        "Go-http-client/1.1",
        "python/gevent-http-client-2",
    ],
)
def test_non_browsers_are_refused(agent: str | None) -> None:
    assert not is_browser(agent)


def test_multipart_body_parses_back() -> None:
    body, content_type = multipart.encode(
        {"file_id": "abc"}, "file", "a.txt", b"hello\x00", "text/plain"
    )
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    parts = list(message.iter_parts())
    assert [p.get_param("name", header="content-disposition") for p in parts] == ["file_id", "file"]
    assert parts[0].get_content().strip() == "abc"
    assert parts[1].get_filename() == "a.txt"
    assert parts[1].get_payload(decode=True) == b"hello\x00"
