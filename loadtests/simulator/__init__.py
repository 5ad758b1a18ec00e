"""The local LibreChat API simulator: replicas sharing Redis behind haproxy, and a mock LLM.

What belongs here: the aiohttp applications (API replica, mock OpenAI-compatible upstream), the
Redis-backed state they share, and :mod:`.cluster`, which starts and stops the real processes.
Nothing here imports locust or gevent.
"""
