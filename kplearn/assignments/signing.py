"""Signed message lines between the grader and its workers.

A worker writes its heartbeats and its report as HMAC-signed JSON lines; the
grader keeps only the lines signed with the job's key, so text that anything
else writes into the pipe (the student's kernel, a detached child) is ignored.

Examples
--------
>>> line = sign("key", {"type": "alive"})
>>> verify("key", line)
{'type': 'alive'}
>>> verify("another key", line) is None
True
"""

from __future__ import annotations

import hashlib
import hmac
import json

__all__ = ["sign", "verify"]


def sign(key: str, message: dict) -> str:
    """One signed line (no newline) carrying ``message``."""
    data = json.dumps(message, sort_keys=True)
    mac = hmac.new(key.encode(), data.encode(), hashlib.sha256).hexdigest()
    return json.dumps({"data": data, "mac": mac})


def verify(key: str, line: str) -> dict | None:
    """The message of a line signed with ``key``; None for anything else."""
    try:
        wrapped = json.loads(line)
        data = str(wrapped["data"])
        mac = hmac.new(key.encode(), data.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(mac, str(wrapped["mac"])):
            return None
        message = json.loads(data)
    except (ValueError, KeyError, TypeError):
        return None
    return message if isinstance(message, dict) else None
