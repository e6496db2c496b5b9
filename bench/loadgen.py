"""A minimal HTTP/1.1 keep-alive client for load generation: one connection per worker, POST and read.

The benchmarks run the load generator, the API and Neo4j on the same two cores, so whatever the generator
spends is taken from the system under test. httpx cost about 1.5 ms of CPU per small request here, as much
as half of what the API itself spends; this client costs a small fraction of that. It speaks only what the
API answers (a status line, headers with Content-Length or chunked encoding, a body) and is no general
client: bench/ingest.py checks every status it returns.
"""

from __future__ import annotations

import asyncio
import contextlib


class KeepAliveConnection:
    def __init__(self, host: str, port: int) -> None:
        self._host = host
        self._port = port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def post(
        self, path: str, body: bytes, content_type: str = "application/json", headers: str = ""
    ) -> tuple[int, bytes]:
        """POST `body` to `path`; the status and the response body. Reconnects when the server closed."""
        return await self.request("POST", path, body, f"Content-Type: {content_type}\r\n{headers}")

    async def get(self, path: str, headers: str = "") -> tuple[int, bytes]:
        """GET `path` with `headers` (lines ending in CRLF); the status and the response body. A connection
        the server closed while it sat idle (uvicorn closes keep-alive connections after 5 s) is opened
        again and the GET sent once more."""
        try:
            return await self.request("GET", path, b"", headers)
        except (ConnectionError, asyncio.IncompleteReadError):
            await self.close()
            return await self.request("GET", path, b"", headers)

    async def request(self, method: str, path: str, body: bytes, headers: str = "") -> tuple[int, bytes]:
        if self._writer is None or self._writer.is_closing():
            self._reader, self._writer = await asyncio.open_connection(self._host, self._port)
        assert self._reader is not None and self._writer is not None
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self._host}:{self._port}\r\n"
            f"{headers}Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        self._writer.write(head + body)
        status_line = await self._reader.readline()
        if not status_line:
            raise ConnectionError("the server closed the connection")
        status = int(status_line.split(b" ", 2)[1])
        length: int | None = None
        chunked = close = False
        while True:
            line = await self._reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif name == b"connection" and b"close" in value.lower():
                close = True
        if chunked:
            parts = []
            while True:
                size = int((await self._reader.readline()).split(b";")[0], 16)
                if size == 0:
                    await self._reader.readline()
                    break
                parts.append(await self._reader.readexactly(size))
                await self._reader.readline()
            payload = b"".join(parts)
        else:
            payload = await self._reader.readexactly(length or 0)
        if close:
            await self.close()
        return status, payload

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(ConnectionError):
                await self._writer.wait_closed()
        self._reader = self._writer = None
