"""The SSE parser gives the same events however the stream is split."""

from __future__ import annotations

import pytest

from librechat_sim.sse import SSEParser

STREAM = (
    ": heartbeat\n\n"
    'event: message\nid: 1-0\ndata: {"created": true}\n\n'
    'event: message\r\nid: 2-0\r\ndata: {"a":\r\ndata: 1}\r\n\r\n'
    "data: plain\n\n"
)


@pytest.mark.parametrize("size", [1, 3, 7, len(STREAM)])
def test_events_are_the_same_for_any_split(size: int) -> None:
    parser = SSEParser()
    events = []
    for start in range(0, len(STREAM), size):
        events += parser.feed(STREAM[start : start + size])
    assert [e.comment for e in events] == ["heartbeat", None, None, None]
    assert [e.id for e in events[1:]] == ["1-0", "2-0", None]
    assert events[1].json() == {"created": True}
    assert events[2].data == '{"a":\n1}'
    assert events[2].json() == {"a": 1}
    assert events[3].event == "message"
    assert events[3].data == "plain"


def test_an_unfinished_event_is_not_dispatched() -> None:
    parser = SSEParser()
    assert parser.feed("event: message\ndata: {}\n") == []
    assert [e.data for e in parser.feed("\n")] == ["{}"]
