"""An aiohttp transport for python-telegram-bot.

PTB's default HTTPXRequest spends most of a busy bot's CPU in httpx and httpcore:
every request scans the connection pool and asks anyio for each socket's state. In
the burst benchmark the bot process was CPU-bound at about 3 ms per update; aiohttp's
client does the same work in a fraction (see benchmarks/bench_burst.py). PTB supports
other transports through BaseRequest, which is what this is.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData


class TransportObserver(Protocol):
    """Told about every Bot API response and failure (metrics, the heartbeat)."""

    def response(self, api_method: str, status: int) -> None: ...

    def failure(self, api_method: str, kind: str) -> None: ...


class AiohttpRequest(BaseRequest):
    """BaseRequest over one aiohttp ClientSession with a bounded connection pool."""

    def __init__(
        self,
        *,
        connection_pool_size: int = 8,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
        observer: TransportObserver | None = None,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        self._observer = observer

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        # PTB passes BaseRequest.DEFAULT_NONE for "not given"; its type lives in a
        # private module, so the parameters are typed by what they may hold.
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        has_files = request_data is not None and request_data.contains_files
        read = _given(read_timeout, self._read_timeout)
        write = _given(
            write_timeout, self._media_write_timeout if has_files else self._write_timeout
        )
        connect = _given(connect_timeout, self._connect_timeout)
        pool = _given(pool_timeout, self._pool_timeout)
        timeout = aiohttp.ClientTimeout(
            # aiohttp's "connect" includes waiting for a free pooled connection.
            connect=_sum(connect, pool),
            sock_read=_sum(read, write),
        )
        api_method = url.rsplit("/", 1)[-1]
        try:
            async with self._session.request(
                method, url, data=_body(request_data), timeout=timeout
            ) as response:
                body = await response.read()
        except TimeoutError as exc:  # asyncio.TimeoutError is the same class on 3.11
            if self._observer is not None:
                self._observer.failure(api_method, "timeout")
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            if self._observer is not None:
                self._observer.failure(api_method, "network")
            raise NetworkError(f"aiohttp.{exc.__class__.__name__}: {exc}") from exc
        if self._observer is not None:
            self._observer.response(api_method, response.status)
        if response.status >= 400 and not body.lstrip().startswith(b"{"):
            # A proxy's HTML error page (nginx's 502 while the Bot API is down): PTB would
            # log a traceback with the whole page for each attempt. Say it as Telegram does.
            body = _error_body(response.status, response.reason)
        return response.status, body


def _error_body(status: int, reason: str | None) -> bytes:
    description = reason or f"HTTP {status}"
    return json.dumps({"ok": False, "error_code": status, "description": description}).encode()


def _sum(first: float | None, second: float | None) -> float | None:
    if first is None or second is None:
        return None
    return first + second


def _body(request_data: RequestData | None) -> Any:
    """Form fields as PTB encodes them; multipart when files are attached."""
    if request_data is None:
        return None
    if not request_data.contains_files:
        return request_data.json_parameters
    form = aiohttp.FormData()
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, part in request_data.multipart_data.items():
        filename, content, mime_type = part[0], part[1], part[2] if len(part) > 2 else None
        form.add_field(name, content, filename=filename, content_type=mime_type)
    return form


def _given(value: object, default: float | None) -> float | None:
    """A timeout PTB passed, or ``default`` where it passed BaseRequest.DEFAULT_NONE."""
    if value is BaseRequest.DEFAULT_NONE:
        return default
    if value is None or isinstance(value, int | float):
        return None if value is None else float(value)
    raise TypeError(f"a timeout must be a number of seconds or None, not {value!r}")
