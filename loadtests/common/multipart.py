"""Encode a ``multipart/form-data`` body (FastHttpUser has no ``files=``)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping


def encode(
    fields: Mapping[str, str], file_field: str, filename: str, content: bytes, content_type: str
) -> tuple[bytes, str]:
    """The body and its ``Content-Type`` header for ``fields`` plus one file part."""
    boundary = "----librechatops" + secrets.token_hex(12)
    parts: list[bytes] = []
    for name, value in fields.items():
        disposition = f'Content-Disposition: form-data; name="{name}"'
        parts.append(f"--{boundary}\r\n{disposition}\r\n\r\n{value}\r\n".encode())
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="{file_field}"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    )
    parts.append(head.encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"
