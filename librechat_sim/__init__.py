"""The local LibreChat API simulator: a stand-in for LibreChat's API image where no container
runtime exists — replicas sharing Redis behind haproxy, and a mock OpenAI-compatible LLM.

What belongs here: the aiohttp applications (API replica, mock upstream) and the Redis-backed
state they share; starting and stopping the real processes (:mod:`.cluster`, :mod:`.processes`);
the running simulator's description (:mod:`.description`) and where it lives (:mod:`.paths`);
and what every client of the simulator shares: the SSE parser, the chat delivery ledger and the
browser identity. It imports no product area (load tests, chaos, the operator, the command line):
they import it. Nothing here imports locust or gevent.
"""
