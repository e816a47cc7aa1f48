"""A fake Telegram Bot API server for end-to-end tests.

Telegram is unreachable from the test environment, and mocking python-telegram-bot's
``Bot`` methods would skip exactly the parts that break in production: parameter
encoding, HTTP status handling, HTML validation and flood control. So the bot under
test talks real HTTP to this server on 127.0.0.1, configured through PTB's
``base_url``/``base_file_url`` (see :func:`bot_base_urls`).

The server only uses the standard library: a ``ThreadingHTTPServer`` in a daemon
thread and one re-entrant ``threading.Condition`` that guards all state, so tests can
block until the bot did something (``wait_for*``) or await it without blocking their
event loop (``await_*``).

Errors mirror Telegram's: the HTTP status *and* the JSON body, so PTB raises
``BadRequest``/``Forbidden``/``RetryAfter``/``NetworkError`` as it would in production.

Deliberate deviations from the real Bot API, chosen to catch bugs early:

* A bare ``&`` in HTML text that does not start a valid entity is rejected (Telegram
  keeps it literally); pass ``strict_ampersand=False`` for Telegram's leniency.
* ``<a>`` without ``href`` is rejected (Telegram silently drops the link).
* Messages can only be sent to chats that appeared in an injected update or were
  added with :meth:`FakeBotApi.add_chat` (``strict_chats=False`` turns this off).
* Long polls are capped at ``max_poll_timeout`` (1 s) to keep tests fast.
* MarkdownV2/Markdown text is accepted literally, without validation.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import email.parser
import email.policy
import itertools
import json
import re
import select
import socket
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, TypedDict, Unpack
from urllib.parse import parse_qsl, unquote, urlsplit

from tests.fake_faults import Faults

JSON = dict[str, Any]

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
INLINE_RESULTS_LIMIT = 50
DEFAULT_GROUP_CHAT_ID = -1001234567890

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
POLL_CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
BLOCKED = "Forbidden: bot was blocked by the user"

# What an nginx in front of the Bot API answers when the backend is gone. Not JSON on
# purpose: PTB must cope with an unparsable error body.
_PROXY_PAGES = {
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Time-out",
}
_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
}

# Update types Telegram delivers when the bot never asked for specific ones.
_OPT_IN_UPDATE_TYPES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)


# --------------------------------------------------------------------------- data types


@dataclass(frozen=True)
class Call:
    """One request the bot made; kept so tests can assert on what the bot did."""

    method: str
    params: JSON
    time: float
    status: int
    result: Any = None
    description: str | None = None

    @property
    def ok(self) -> bool:
        """True when the fake answered with a 2xx status."""
        return 200 <= self.status < 300


@dataclass
class _Fault:
    """A queued misbehaviour for the next call of one method."""

    status: int | None
    description: str | None
    retry_after: int | None
    delay: float


@dataclass(frozen=True)
class _Reply:
    """An HTTP answer, built before any byte is written so it can be recorded too."""

    status: int
    body: bytes
    content_type: str = "application/json"
    result: Any = None
    description: str | None = None
    abandoned: bool = False  # the client hung up; answer nothing


@dataclass(frozen=True)
class _Poll:
    """Per-request state of one getUpdates call."""

    generation: int
    client_gone: Callable[[], bool]


class _Abandoned(Exception):
    """The client of a superseded long poll is gone; drop the request silently."""


class ApiError(Exception):
    """Raised inside method handlers; becomes a Telegram-style error reply."""

    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


def _bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


class SenderOptions(TypedDict, total=False):
    """Who acts, and in which chat; shared by all update-injecting helpers."""

    user_id: int
    chat_id: int | None
    chat_type: str
    first_name: str


class MessageOptions(SenderOptions, total=False):
    """Sender plus the optional message details every ``send_*`` helper accepts."""

    reply_to_bot_message_id: int | None
    message_id: int | None


def bot_base_urls(server: FakeBotApi) -> tuple[str, str]:
    """Return ``(base_url, base_file_url)`` to hand to PTB's ``Bot``/``ApplicationBuilder``."""
    return f"{server.url}/bot", f"{server.url}/file/bot"


def utf16_len(text: str) -> int:
    """Telegram measures entity offsets in UTF-16 code units, not code points."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _byte_offset(text: str, index: int) -> int:
    """Telegram reports HTML errors at UTF-8 byte offsets."""
    return len(text[:index].encode("utf-8", "surrogatepass"))


# --------------------------------------------------------------------------- HTML


class HtmlParseError(ValueError):
    """The text is not HTML that Telegram's parser would accept."""


_ALLOWED_TAGS = frozenset(
    {
        "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span",
        "tg-spoiler", "a", "code", "pre", "blockquote", "tg-emoji",
    }
)  # fmt: skip
_SIMPLE_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "code": "code",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(?:(lt|gt|amp|quot)|#([0-9]{1,8})|#[xX]([0-9a-fA-F]{1,8}));")
_ENTITY_LIKE_RE = re.compile(r"&#?[A-Za-z0-9]{1,32};")
_TAG_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9-]*")
_ATTR_NAME_RE = re.compile(r"[A-Za-z0-9_:-]+")
_SPECIAL_RE = re.compile(r"[<&]")
_SPACE = " \t\r\n\f"


@dataclass
class _OpenTag:
    name: str
    attrs: dict[str, str]
    start: int  # UTF-16 offset in the plain text
    byte_offset: int
    language: str | None = None


@dataclass
class _HtmlScanner:
    """Strict hand-rolled scanner for Telegram's HTML subset.

    ``html.parser`` silently repairs broken markup; Telegram rejects it, so tests must.
    """

    source: str
    strict_ampersand: bool = True
    pos: int = 0
    out: list[str] = field(default_factory=list)
    utf16: int = 0
    stack: list[_OpenTag] = field(default_factory=list)
    entities: list[JSON] = field(default_factory=list)

    def parse(self) -> tuple[str, list[JSON]]:
        while self.pos < len(self.source):
            match = _SPECIAL_RE.search(self.source, self.pos)
            end = match.start() if match else len(self.source)
            self._emit(self.source[self.pos : end])
            self.pos = end
            if match is None:
                break
            if self.source[end] == "<":
                self._tag()
            else:
                decoded, self.pos = self._entity(end)
                self._emit(decoded)
        if self.stack:
            name = self.stack[-1].name
            raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{name}"')
        return "".join(self.out), sorted(self.entities, key=_entity_order)

    def _emit(self, text: str) -> None:
        self.out.append(text)
        self.utf16 += utf16_len(text)

    def _error(self, message: str, index: int) -> HtmlParseError:
        return HtmlParseError(f"{message} at byte offset {_byte_offset(self.source, index)}")

    def _entity(self, index: int) -> tuple[str, int]:
        match = _ENTITY_RE.match(self.source, index)
        char = _decode_entity(match) if match else None
        if match and char is not None:
            return char, match.end()
        if self.strict_ampersand:
            named = _ENTITY_LIKE_RE.match(self.source, index)
            if named:
                raise self._error(f'Unsupported HTML entity "{named.group()}"', index)
            raise self._error('Character "&" must be escaped as "&amp;"', index)
        return "&", index + 1

    def _skip_space(self, index: int) -> int:
        while index < len(self.source) and self.source[index] in _SPACE:
            index += 1
        return index

    def _tag(self) -> None:
        if self.source.startswith("</", self.pos):
            self._end_tag()
        else:
            self._start_tag()

    def _start_tag(self) -> None:
        begin = self.pos
        match = _TAG_NAME_RE.match(self.source, begin + 1)
        name = match.group().lower() if match else ""
        if name not in _ALLOWED_TAGS:
            raise self._error(f'Unsupported start tag "{name}"', begin)
        assert match is not None
        attrs, self.pos = self._attributes(name, match.end(), begin)
        _check_tag_attributes(name, attrs, self._error, begin)
        self.stack.append(_OpenTag(name, attrs, self.utf16, _byte_offset(self.source, begin)))

    def _attributes(self, tag: str, index: int, begin: int) -> tuple[dict[str, str], int]:
        attrs: dict[str, str] = {}
        while True:
            index = self._skip_space(index)
            if index >= len(self.source):
                raise self._error("Unclosed start tag", begin)
            if self.source[index] == ">":
                return attrs, index + 1
            match = _ATTR_NAME_RE.match(self.source, index)
            if match is None:
                raise self._error(f'Empty attribute name in the tag "{tag}"', begin)
            index = self._skip_space(match.end())
            value = ""
            if index < len(self.source) and self.source[index] == "=":
                value, index = self._attribute_value(self._skip_space(index + 1), begin)
            attrs[match.group().lower()] = value

    def _attribute_value(self, index: int, begin: int) -> tuple[str, int]:
        if index >= len(self.source):
            raise self._error("Unclosed start tag", begin)
        quote = self.source[index]
        if quote in "\"'":
            end = self.source.find(quote, index + 1)
            if end < 0:
                raise self._error("Unclosed start tag", begin)
            return self._decode_value(index + 1, end), end + 1
        end = index
        while end < len(self.source) and self.source[end] not in _SPACE + ">":
            end += 1
        return self._decode_value(index, end), end

    def _decode_value(self, start: int, end: int) -> str:
        parts: list[str] = []
        index = start
        while index < end:
            amp = self.source.find("&", index, end)
            if amp < 0:
                parts.append(self.source[index:end])
                break
            parts.append(self.source[index:amp])
            decoded, index = self._entity(amp)
            parts.append(decoded)
        return "".join(parts)

    def _end_tag(self) -> None:
        begin = self.pos
        match = _TAG_NAME_RE.match(self.source, begin + 2)
        name = match.group().lower() if match else ""
        index = self._skip_space(match.end() if match else begin + 2)
        if index >= len(self.source) or self.source[index] != ">":
            raise self._error("Unclosed end tag", begin)
        if not self.stack:
            raise self._error("Unexpected end tag", begin)
        top = self.stack[-1]
        if name != top.name:
            raise HtmlParseError(
                f"Unmatched end tag at byte offset {_byte_offset(self.source, begin)}, "
                f'expected "</{top.name}>", found "</{name}>"'
            )
        self.stack.pop()
        self.pos = index + 1
        self._close(top)

    def _close(self, tag: _OpenTag) -> None:
        length = self.utf16 - tag.start
        if tag.name == "code" and self.stack and self.stack[-1].name == "pre":
            # <pre><code class="language-x"> is Telegram's way to give a pre block a language.
            self.stack[-1].language = _code_language(tag.attrs) or self.stack[-1].language
            return
        if length > 0:
            self.entities.append(_entity_for(tag, length))


def _decode_entity(match: re.Match[str]) -> str | None:
    named, decimal, hexadecimal = match.groups()
    if named:
        return _NAMED_ENTITIES[named]
    code = int(decimal) if decimal else int(hexadecimal, 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code)


def _check_tag_attributes(
    name: str, attrs: dict[str, str], error: Callable[[str, int], HtmlParseError], begin: int
) -> None:
    if name == "span" and attrs.get("class") != "tg-spoiler":
        raise error('Tag "span" must have class "tg-spoiler"', begin)
    if name == "a" and not attrs.get("href"):
        raise error('Tag "a" must have attribute "href"', begin)
    if name == "tg-emoji" and not attrs.get("emoji-id"):
        raise error('Tag "tg-emoji" must have attribute "emoji-id"', begin)


def _code_language(attrs: dict[str, str]) -> str | None:
    css = attrs.get("class", "")
    return css.removeprefix("language-") if css.startswith("language-") else None


def _entity_for(tag: _OpenTag, length: int) -> JSON:
    entity: JSON = {"offset": tag.start, "length": length}
    if tag.name in _SIMPLE_ENTITY_TYPES:
        entity["type"] = _SIMPLE_ENTITY_TYPES[tag.name]
    elif tag.name == "a":
        entity.update(type="text_link", url=tag.attrs["href"])
    elif tag.name == "pre":
        entity["type"] = "pre"
        if tag.language:
            entity["language"] = tag.language
    elif tag.name == "blockquote":
        expandable = "expandable" in tag.attrs
        entity["type"] = "expandable_blockquote" if expandable else "blockquote"
    else:  # tg-emoji
        entity.update(type="custom_emoji", custom_emoji_id=tag.attrs["emoji-id"])
    return entity


def _entity_order(entity: JSON) -> tuple[int, int]:
    return int(entity["offset"]), -int(entity["length"])


def parse_html(source: str, *, strict_ampersand: bool = True) -> tuple[str, list[JSON]]:
    """Return Telegram's plain text and entities for ``source``, or raise HtmlParseError."""
    return _HtmlScanner(source, strict_ampersand).parse()


def _strip_text(text: str, entities: list[JSON]) -> tuple[str, list[JSON]]:
    """Trim surrounding whitespace like Telegram does, keeping entities in place."""
    stripped = text.strip()
    if not stripped:
        return "", []
    shift = utf16_len(text[: len(text) - len(text.lstrip())])
    limit = utf16_len(stripped)
    kept: list[JSON] = []
    for entity in entities:
        start = max(int(entity["offset"]) - shift, 0)
        end = min(int(entity["offset"]) + int(entity["length"]) - shift, limit)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept


# --------------------------------------------------------------------------- request decoding

# Free-text parameters: never JSON-decoded, so a message text "123" stays a string.
_STRING_PARAMS = frozenset(
    {
        "text", "caption", "parse_mode", "query", "data", "url", "secret_token",
        "callback_query_id", "inline_query_id", "inline_message_id", "action",
        "language_code", "next_offset", "description", "short_description", "name",
        "title", "emoji", "ip_address", "file_id", "business_connection_id",
        "message_effect_id", "photo", "document", "voice", "audio", "video",
        "animation", "sticker", "switch_pm_text", "switch_pm_parameter",
    }
)  # fmt: skip


def decode_value(name: str, raw: str) -> Any:
    """Undo PTB's form encoding: non-string values arrive JSON-dumped as strings."""
    if name in _STRING_PARAMS:
        return raw
    try:
        value = json.loads(raw)
    except ValueError:
        return raw
    return raw if isinstance(value, str) or value is None else value


def _normalise_json_body(params: JSON) -> JSON:
    """JSON bodies may still carry nested objects as JSON strings (as Telegram allows)."""
    return {
        key: decode_value(key, value) if isinstance(value, str) else value
        for key, value in params.items()
    }


def _decode_multipart(content_type: str, body: bytes) -> tuple[JSON, dict[str, bytes]]:
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    params: JSON = {}
    files: dict[str, bytes] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            files[name] = content
            params[name] = {"upload": filename, "size": len(content)}
        else:
            params[name] = decode_value(name, content.decode("utf-8"))
    return params, files


def decode_params(content_type: str, body: bytes, query: str) -> tuple[JSON, dict[str, bytes]]:
    """Parse query string plus form, multipart or JSON body into typed parameters."""
    params: JSON = {key: decode_value(key, value) for key, value in parse_qsl(query)}
    files: dict[str, bytes] = {}
    kind = content_type.split(";")[0].strip().lower()
    if kind == "application/json" and body:
        loaded = json.loads(body)
        if not isinstance(loaded, dict):
            raise _bad_request("request body must be a JSON object")
        params.update(_normalise_json_body(loaded))
    elif kind == "multipart/form-data":
        form, files = _decode_multipart(content_type, body)
        params.update(form)
    elif body:
        text = body.decode("utf-8")
        params.update({k: decode_value(k, v) for k, v in parse_qsl(text, keep_blank_values=True)})
    return params, files


# --------------------------------------------------------------------------- replies


def _json_reply(status: int, payload: JSON) -> _Reply:
    try:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: Telegram sends it escaped, "\ud800"
        body = json.dumps(payload).encode("ascii")
    return _Reply(
        status, body, result=payload.get("result"), description=payload.get("description")
    )


def _ok(result: Any) -> _Reply:
    return _json_reply(200, {"ok": True, "result": result})


def _error_reply(error: ApiError) -> _Reply:
    if error.status in _PROXY_PAGES:
        return _proxy_page(error.status)
    payload: JSON = {"ok": False, "error_code": error.status, "description": error.description}
    if error.parameters:
        payload["parameters"] = error.parameters
    return _json_reply(error.status, payload)


def _proxy_page(status: int) -> _Reply:
    phrase = f"{status} {_PROXY_PAGES[status]}"
    html = (
        f"<html>\r\n<head><title>{phrase}</title></head>\r\n<body>\r\n"
        f"<center><h1>{phrase}</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n"
        "</body>\r\n</html>\r\n"
    )
    return _Reply(status, html.encode(), "text/html", description=phrase)


def _fault_error(fault: _Fault, status: int) -> ApiError:
    if status == 429:
        retry_after = fault.retry_after if fault.retry_after is not None else 1
        description = fault.description or f"Too Many Requests: retry after {retry_after}"
        return ApiError(429, description, {"retry_after": retry_after})
    default = _DEFAULT_DESCRIPTIONS.get(status, "Error")
    return ApiError(status, fault.description or default)


# --------------------------------------------------------------------------- HTTP plumbing


class _Server(ThreadingHTTPServer):
    """Tracks open connections so ``stop`` can cut keep-alive sockets and join threads."""

    daemon_threads = True
    block_on_close = True

    def __init__(self, api: FakeBotApi) -> None:
        self.api = api
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def cut_connections(self) -> None:
        with self.connections_lock:
            open_sockets = list(self.connections)
        for sock in open_sockets:
            with contextlib.suppress(OSError):  # already closed by the client
                sock.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hanging up mid-answer (timeouts, shutdown) are expected, not errors."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle's algorithm and the client's
    # delayed ACK every keep-alive response would wait ~40 ms (measured: 175 req/s).
    disable_nagle_algorithm = True
    server: _Server

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output clean; the calls are recorded on the FakeBotApi instead."""

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        content_type = self.headers.get("Content-Type", "")
        reply = self.server.api.handle_http(self.path, content_type, body, self._client_gone)
        if reply.abandoned:
            self.close_connection = True
            return
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
        except OSError:
            self.close_connection = True  # the client gave up waiting

    def _client_gone(self) -> bool:
        """True when the client closed its end (EOF is readable without blocking)."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True


# --------------------------------------------------------------------------- the fake


class FakeBotApi:
    """An in-process Telegram Bot API: inject updates, observe calls, inject faults."""

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        bot_username: str = "faq_test_bot",
        bot_id: int = 4242,
        *,
        max_poll_timeout: float = 1.0,
        strict_ampersand: bool = True,
        strict_chats: bool = True,
    ) -> None:
        self.token = token
        self.bot_username = bot_username
        self.bot_id = bot_id
        self.max_poll_timeout = max_poll_timeout
        self.strict_ampersand = strict_ampersand
        self.strict_chats = strict_chats
        self.webhook: JSON | None = None
        self.callback_answers: dict[str, JSON] = {}
        self.inline_answers: dict[str, JSON] = {}
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self.internal_errors: list[str] = []
        self._cond = threading.Condition(threading.RLock())
        self._stopping = threading.Event()
        self._calls: list[Call] = []
        self._updates: deque[JSON] = deque()
        self._next_update_id = 1
        self._last_returned_id = 0
        self._allowed_updates: list[str] = []
        self._poll_generation = 0
        self._chats: dict[int, JSON] = {}
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._messages: dict[tuple[int, int], JSON] = {}
        self._sent: list[tuple[int, int]] = []
        self._sent_meta: dict[tuple[int, int], JSON] = {}
        self._open_callback_queries: set[str] = set()
        self._open_inline_queries: set[str] = set()
        self._query_ids = itertools.count(1)
        self._files: dict[str, tuple[str, bytes]] = {}
        self._file_ids = itertools.count(1)
        self._blocked: set[int] = set()
        self._faults: dict[str, deque[_Fault]] = {}
        self.faults = Faults()
        """Lasting misbehaviours (flood limits per chat, 5xx storms, outages, migrations)."""
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._methods: dict[str, tuple[str, Callable[[JSON, dict[str, bytes]], Any]]] = {}
        self._register_methods()

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``; only valid after :meth:`start`."""
        if self._server is None:
            raise RuntimeError("FakeBotApi is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def bot_user(self) -> JSON:
        """The bot's own ``User`` object, as Telegram puts it in ``from`` fields."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "FAQ Test",
            "username": self.bot_username,
        }

    def start(self) -> None:
        """Bind a free port on 127.0.0.1 and serve in a daemon thread."""
        if self._server is not None:
            raise RuntimeError("FakeBotApi already started")
        self._stopping.clear()
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-bot-api",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving, wake long polls, cut keep-alive connections and join all threads."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()
        server.shutdown()
        server.cut_connections()
        server.server_close()  # joins the handler threads (block_on_close)
        thread.join()
        self._server = self._thread = None

    def __enter__(self) -> FakeBotApi:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ chats and users

    def add_chat(
        self,
        chat_id: int,
        chat_type: str = "private",
        *,
        title: str = "Testgruppe",
        first_name: str = "Kunde",
        username: str | None = None,
    ) -> JSON:
        """Make a chat known, e.g. an admin chat the bot writes to unprompted."""
        chat: JSON = {"id": chat_id, "type": chat_type}
        if chat_type == "private":
            chat["first_name"] = first_name
        else:
            chat["title"] = title
        if username:
            chat["username"] = username
        with self._cond:
            self._chats.setdefault(chat_id, chat)
            return copy.deepcopy(self._chats[chat_id])

    def block_user(self, chat_id: int) -> None:
        """From now on, anything the bot sends to ``chat_id`` fails with 403."""
        with self._cond:
            self._blocked.add(chat_id)

    def unblock_user(self, chat_id: int) -> None:
        """Undo :meth:`block_user` (the user restarted the bot)."""
        with self._cond:
            self._blocked.discard(chat_id)

    def _user(self, user_id: int, first_name: str) -> JSON:
        return {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "de"}

    def _next_message_id(self, chat_id: int) -> int:
        # Both sides of a chat share one message id sequence, as in Telegram.
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    # ------------------------------------------------------------------ injecting updates

    def add_update(self, update: JSON) -> JSON:
        """Queue a raw update; assigns ``update_id`` when missing and returns a copy."""
        with self._cond:
            update = copy.deepcopy(update)
            update.setdefault("update_id", self._next_update_id)
            self._next_update_id = max(self._next_update_id, int(update["update_id"]) + 1)
            self._absorb(update)
            self._updates.append(update)
            self._cond.notify_all()
            return copy.deepcopy(update)

    def _absorb(self, update: JSON) -> None:
        """Remember chats and messages of raw updates so the bot can reply to them."""
        message = update.get("message") or update.get("edited_message")
        if isinstance(message, dict) and isinstance(message.get("chat"), dict):
            chat = message["chat"]
            self._chats.setdefault(int(chat["id"]), copy.deepcopy(chat))
            key = (int(chat["id"]), int(message["message_id"]))
            self._messages[key] = copy.deepcopy(message)

    def send_text(
        self,
        text: str,
        *,
        user_id: int = 1001,
        chat_id: int | None = None,
        chat_type: str = "private",
        first_name: str = "Kunde",
        reply_to_bot_message_id: int | None = None,
        entities: list[JSON] | None = None,
        message_id: int | None = None,
    ) -> JSON:
        """A user writes ``text`` to the bot."""
        content: JSON = {"text": text}
        if entities:
            content["entities"] = entities
        return self._inject_message(
            content,
            MessageOptions(
                user_id=user_id,
                chat_id=chat_id,
                chat_type=chat_type,
                first_name=first_name,
                reply_to_bot_message_id=reply_to_bot_message_id,
                message_id=message_id,
            ),
        )

    def send_command(self, command_with_args: str, **kw: Unpack[MessageOptions]) -> JSON:
        """A user sends ``/command args``; adds the bot_command entity PTB filters on."""
        command = command_with_args.split(maxsplit=1)[0]
        entity = {"type": "bot_command", "offset": 0, "length": utf16_len(command)}
        return self._inject_message({"text": command_with_args, "entities": [entity]}, kw)

    def send_sticker(self, *, emoji: str = "🙂", **kw: Unpack[MessageOptions]) -> JSON:
        """A user sends a sticker (no text: the bot must not crash on it)."""
        sticker = {
            **self._register_file("stickers", b"RIFF-fake-webp"),
            "type": "regular", "width": 512, "height": 512,
            "is_animated": False, "is_video": False, "emoji": emoji,
        }  # fmt: skip
        return self._inject_message({"sticker": sticker}, kw)

    def send_photo(self, *, caption: str | None = None, **kw: Unpack[MessageOptions]) -> JSON:
        """A user sends a photo, optionally with a caption."""
        sizes = [
            {**self._register_file("photos", b"\xff\xd8fake-jpeg"), "width": w, "height": h}
            for w, h in ((90, 67), (800, 600))
        ]
        return self._inject_message(_with_caption({"photo": sizes}, caption), kw)

    def send_voice(self, *, duration: int = 3, **kw: Unpack[MessageOptions]) -> JSON:
        """A user sends a voice note."""
        voice = {
            **self._register_file("voice", b"OggS-fake"),
            "duration": duration,
            "mime_type": "audio/ogg",
        }
        return self._inject_message({"voice": voice}, kw)

    def send_document(
        self,
        *,
        file_name: str = "rechnung.pdf",
        mime_type: str = "application/pdf",
        content: bytes = b"%PDF-1.4 fake",
        caption: str | None = None,
        **kw: Unpack[MessageOptions],
    ) -> JSON:
        """A user sends a file; ``content`` is what the bot downloads via getFile."""
        document = {
            **self._register_file("documents", content),
            "file_name": file_name,
            "mime_type": mime_type,
        }
        return self._inject_message(_with_caption({"document": document}, caption), kw)

    def send_location(
        self, *, latitude: float = 52.52, longitude: float = 13.405, **kw: Unpack[MessageOptions]
    ) -> JSON:
        """A user shares a location."""
        return self._inject_message(
            {"location": {"latitude": latitude, "longitude": longitude}}, kw
        )

    def edit_text(self, message_id: int, text: str, **kw: Unpack[SenderOptions]) -> JSON:
        """A user edits an earlier message; yields an ``edited_message`` update."""
        with self._cond:
            chat = self._sender_chat(kw)
            key = (int(chat["id"]), message_id)
            if key not in self._messages:
                raise KeyError(f"no message {message_id} in chat {chat['id']} to edit")
            message = self._messages[key]
            message.update(text=text, edit_date=int(time.time()))
            message.pop("entities", None)
            return self.add_update({"edited_message": copy.deepcopy(message)})

    def click(self, message: JSON, callback_data: str, *, user_id: int | None = None) -> JSON:
        """A user presses the inline button carrying ``callback_data`` on a bot message."""
        with self._cond:
            chat_id = int(message["chat"]["id"])
            live = self._messages.get((chat_id, int(message["message_id"])))
            if live is None or live.get("from", {}).get("id") != self.bot_id:
                raise ValueError(f"message {message.get('message_id')} is not a live bot message")
            if callback_data not in _callback_datas(live.get("reply_markup")):
                raise ValueError(f"no button with callback_data {callback_data!r} on the message")
            query_id = f"cq{next(self._query_ids)}"
            self._open_callback_queries.add(query_id)
            clicker = user_id if user_id is not None else (chat_id if chat_id > 0 else 1001)
            query = {
                "id": query_id,
                "from": self._user(clicker, "Kunde"),
                "message": copy.deepcopy(live),
                "chat_instance": f"ci{chat_id}",
                "data": callback_data,
            }
            return self.add_update({"callback_query": query})

    def press(self, message: JSON, callback_data: str, *, user_id: int | None = None) -> JSON:
        """Like :meth:`click`, but for any ``callback_data`` on the message as given: a
        client showing a stale copy of it, or one that forges the data."""
        with self._cond:
            chat_id = int(message["chat"]["id"])
            query_id = f"cq{next(self._query_ids)}"
            self._open_callback_queries.add(query_id)
            clicker = user_id if user_id is not None else (chat_id if chat_id > 0 else 1001)
            extras = {"parse_mode", "source_text", "reply_parameters", "method", "deleted"}
            query = {
                "id": query_id,
                "from": self._user(clicker, "Kunde"),
                "message": {k: v for k, v in copy.deepcopy(message).items() if k not in extras},
                "chat_instance": f"ci{chat_id}",
                "data": callback_data,
            }
            return self.add_update({"callback_query": query})

    def inline_query(
        self, query: str, *, user_id: int = 1001, offset: str = "", chat_type: str = "sender"
    ) -> JSON:
        """A user types ``@bot query`` in any chat."""
        with self._cond:
            query_id = f"iq{next(self._query_ids)}"
            self._open_inline_queries.add(query_id)
            inline = {
                "id": query_id,
                "from": self._user(user_id, "Kunde"),
                "query": query,
                "offset": offset,
                "chat_type": chat_type,
            }
            return self.add_update({"inline_query": inline})

    def chosen_inline_result(self, result_id: str, query: str, *, user_id: int = 1001) -> JSON:
        """A user picked one of the bot's inline results."""
        chosen = {"result_id": result_id, "from": self._user(user_id, "Kunde"), "query": query}
        return self.add_update({"chosen_inline_result": chosen})

    def _sender_chat(self, options: SenderOptions) -> JSON:
        user_id = options.get("user_id", 1001)
        chat_type = options.get("chat_type", "private")
        chat_id = options.get("chat_id")
        if chat_id is None:
            chat_id = user_id if chat_type == "private" else DEFAULT_GROUP_CHAT_ID
        first_name = options.get("first_name", "Kunde")
        return self.add_chat(chat_id, chat_type, first_name=first_name)

    def _inject_message(self, content: JSON, options: MessageOptions) -> JSON:
        with self._cond:
            chat = self._sender_chat(options)
            chat_id = int(chat["id"])
            message_id = options.get("message_id") or self._next_message_id(chat_id)
            message: JSON = {
                "message_id": message_id,
                "from": self._user(
                    options.get("user_id", 1001), options.get("first_name", "Kunde")
                ),
                "chat": chat,
                "date": int(time.time()),
                **content,
            }
            reply_to = options.get("reply_to_bot_message_id")
            if reply_to is not None:
                message["reply_to_message"] = self._reply_target(chat_id, reply_to)
            return self.add_update({"message": message})

    def _reply_target(self, chat_id: int, message_id: int) -> JSON:
        target = self._messages.get((chat_id, message_id))
        if target is None:
            raise KeyError(f"no message {message_id} in chat {chat_id} to reply to")
        target = copy.deepcopy(target)
        target.pop("reply_to_message", None)  # Telegram does not nest replies further
        return target

    def _register_file(self, folder: str, content: bytes) -> JSON:
        number = next(self._file_ids)
        file_id = f"FILE{number:06d}"
        self._files[file_id] = (f"{folder}/file_{number}", content)
        return {"file_id": file_id, "file_unique_id": f"U{number:06d}", "file_size": len(content)}

    # ------------------------------------------------------------------ observing

    @property
    def calls(self) -> list[Call]:
        """A snapshot of every request so far, oldest first."""
        with self._cond:
            return list(self._calls)

    def calls_to(self, method: str) -> list[Call]:
        """The calls of one method (case-insensitive, like Telegram)."""
        wanted = method.lower()
        return [call for call in self.calls if call.method.lower() == wanted]

    def clear_calls(self) -> None:
        """Forget recorded calls, e.g. the startup chatter before the interesting part."""
        with self._cond:
            self._calls.clear()

    @property
    def sent_count(self) -> int:
        """How many messages the bot sent: cheap enough to poll in a wait_for predicate."""
        with self._cond:
            return len(self._sent)

    def sent_messages(self, chat_id: int | None = None) -> list[JSON]:
        """Messages the bot sent, in order, in their current (possibly edited) state.

        Each is the Telegram message object plus what the bot asked for: ``parse_mode``,
        ``source_text`` (before HTML parsing), ``reply_markup`` (any kind, parsed),
        ``reply_parameters``, ``method`` and ``deleted``.
        """
        with self._cond:
            return [
                self._sent_view(key) for key in self._sent if chat_id is None or key[0] == chat_id
            ]

    def _sent_view(self, key: tuple[int, int]) -> JSON:
        meta = self._sent_meta[key]
        message = self._messages.get(key) or meta["last_state"]
        return {**copy.deepcopy(message), **copy.deepcopy(meta["request"])}

    @property
    def pending_updates(self) -> list[JSON]:
        """Updates the bot has not confirmed yet (via getUpdates offset)."""
        with self._cond:
            return copy.deepcopy(list(self._updates))

    def file_content(self, file_id: str) -> bytes:
        """What the bot uploaded (or what a user sent) under ``file_id``."""
        with self._cond:
            return self._files[file_id][1]

    # ------------------------------------------------------------------ waiting

    def wait_for(
        self,
        predicate: Callable[[FakeBotApi], bool],
        timeout: float = 10.0,
        *,
        what: str = "condition",
    ) -> None:
        """Block until ``predicate(self)`` holds; on timeout fail with the recent calls.

        Do not call this from a coroutine running the bot's event loop: use the
        ``await_*`` variants, which wait in a worker thread.
        """
        with self._cond:
            if not self._cond.wait_for(lambda: predicate(self), timeout):
                raise AssertionError(self._timeout_report(what, timeout))

    def wait_for_messages(
        self, count: int, chat_id: int | None = None, timeout: float = 10.0
    ) -> list[JSON]:
        """Block until the bot sent at least ``count`` messages (to ``chat_id``); return all."""
        self.wait_for(
            lambda api: len(api.sent_messages(chat_id)) >= count,
            timeout,
            what=f"{count} sent message(s)" + (f" in chat {chat_id}" if chat_id else ""),
        )
        return self.sent_messages(chat_id)

    def wait_for_call(self, method: str, *, count: int = 1, timeout: float = 10.0) -> list[Call]:
        """Block until ``method`` was called ``count`` times; return those calls."""
        self.wait_for(
            lambda api: len(api.calls_to(method)) >= count,
            timeout,
            what=f"{count} call(s) of {method}",
        )
        return self.calls_to(method)

    def wait_until_fetched(self, timeout: float = 10.0) -> None:
        """Block until getUpdates handed out every queued update.

        Fetched is not handled. To assert that the bot ignored an update, inject a
        second update the bot answers and wait for that answer: PTB handles updates in
        order unless ``concurrent_updates`` is on.
        """
        self.wait_for(lambda api: not api._undelivered(), timeout, what="updates fetched")

    async def await_for(
        self,
        predicate: Callable[[FakeBotApi], bool],
        timeout: float = 10.0,
        *,
        what: str = "condition",
    ) -> None:
        """:meth:`wait_for` without blocking the event loop the bot runs on."""
        await asyncio.to_thread(self.wait_for, predicate, timeout, what=what)

    async def await_messages(
        self, count: int, chat_id: int | None = None, timeout: float = 10.0
    ) -> list[JSON]:
        """:meth:`wait_for_messages` without blocking the event loop."""
        return await asyncio.to_thread(self.wait_for_messages, count, chat_id, timeout)

    async def await_call(self, method: str, *, count: int = 1, timeout: float = 10.0) -> list[Call]:
        """:meth:`wait_for_call` without blocking the event loop."""
        return await asyncio.to_thread(self.wait_for_call, method, count=count, timeout=timeout)

    async def await_fetched(self, timeout: float = 10.0) -> None:
        """:meth:`wait_until_fetched` without blocking the event loop."""
        await asyncio.to_thread(self.wait_until_fetched, timeout)

    def _timeout_report(self, what: str, timeout: float) -> str:
        interesting = [c for c in self._calls if not _is_empty_poll(c)][-15:]
        lines = [
            f"Timed out after {timeout:g} s waiting for {what}.",
            f"Queued updates: {len(self._updates)}, not yet fetched: {len(self._undelivered())}.",
            f"Messages sent by the bot: {len(self._sent)}.",
            "Last calls (empty getUpdates polls omitted):"
            if interesting
            else "No calls besides empty getUpdates polls.",
        ]
        lines += [f"  {_describe_call(call)}" for call in interesting]
        lines += [f"  INTERNAL ERROR in fake: {error}" for error in self.internal_errors]
        return "\n".join(lines)

    # ------------------------------------------------------------------ faults

    def fail_next(
        self,
        method: str,
        *,
        status: int | None = None,
        description: str | None = None,
        retry_after: int | None = None,
        delay: float = 0.0,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls of ``method`` (``"*"``: any method) misbehave.

        ``status`` defaults to 429 (with ``parameters.retry_after``, default 1 s). With a
        ``delay`` and no ``status`` the call is answered normally after sleeping, like a
        slow Telegram that still delivers: good for client timeouts. 502/503/504 answer
        with a proxy's HTML page, other statuses with Telegram's JSON error body.
        """
        resolved = status if status is not None or delay > 0 else 429
        fault = _Fault(resolved, description, retry_after, delay)
        with self._cond:
            self._faults.setdefault(method.lower(), deque()).extend([fault] * times)

    def user_deletes(self, chat_id: int, message_id: int) -> None:
        """The user deletes a message (e.g. the bot's, whose button is still being handled)."""
        with self._cond:
            message = self._messages.pop((chat_id, message_id), None)
            if message is None:
                raise KeyError(f"no message {message_id} in chat {chat_id}")
            key = (chat_id, message_id)
            if key in self._sent_meta:
                self._sent_meta[key]["last_state"] = message
                self._sent_meta[key]["request"]["deleted"] = True

    def _take_fault(self, method: str) -> _Fault | None:
        with self._cond:
            for key in (method.lower(), "*"):
                queue = self._faults.get(key)
                if queue:
                    return queue.popleft()
        return None

    # ------------------------------------------------------------------ HTTP entry point

    def handle_http(
        self,
        raw_path: str,
        content_type: str,
        body: bytes,
        client_gone: Callable[[], bool] = lambda: False,
    ) -> _Reply:
        """Route one HTTP request; runs on a handler thread."""
        parts = urlsplit(raw_path)
        path = unquote(parts.path)  # PTB percent-encodes the token's ":" in file URLs
        if path.startswith("/file/bot"):
            return self._serve_file(path)
        match = re.fullmatch(r"/bot([^/]+)/([A-Za-z0-9_]+)/?", path)
        if match is None:
            return _error_reply(ApiError(404, "Not Found"))
        if match.group(1) != self.token:
            return _error_reply(ApiError(401, "Unauthorized"))
        method = match.group(2)
        canonical = self._methods.get(method.lower(), (method, None))[0]
        poll = _Poll(self._claim_poll(), client_gone) if canonical == "getUpdates" else None
        try:
            params, files = decode_params(content_type, body, parts.query)
        except (ApiError, ValueError) as exc:
            error = exc if isinstance(exc, ApiError) else _bad_request(f"invalid body: {exc}")
            return self._record(canonical, {}, _error_reply(error))
        try:
            reply = self._answer(method, params, files, poll)
        except _Abandoned:
            return _Reply(499, b"", abandoned=True)
        return self._record(canonical, params, reply)

    def _answer(
        self, method: str, params: JSON, files: dict[str, bytes], poll: _Poll | None
    ) -> _Reply:
        injected = self.faults.intercept(method, params)
        if injected is not None:
            if injected.cut:
                raise _Abandoned
            return _error_reply(
                ApiError(injected.status, injected.description, injected.parameters)
            )
        fault = self._take_fault(method)
        if fault is not None:
            self._stopping.wait(fault.delay)
            if fault.status is not None:
                return _error_reply(_fault_error(fault, fault.status))
        entry = self._methods.get(method.lower())
        try:
            with self._cond:
                self._check_blocked(params)
            if poll is not None:
                return _ok(self._get_updates(params, poll))
            return _ok(entry[1](params, files) if entry else True)
        except ApiError as error:
            return _error_reply(error)
        except _Abandoned:
            raise
        except Exception as exc:  # a bug in the fake must not look like a Telegram answer
            self.internal_errors.append(f"{method}: {exc!r}")
            return _error_reply(ApiError(500, f"Internal Server Error: fake bug {exc!r}"))

    def _record(self, method: str, params: JSON, reply: _Reply) -> _Reply:
        call = Call(method, params, time.time(), reply.status, reply.result, reply.description)
        with self._cond:
            self._calls.append(call)
            self._cond.notify_all()
        return reply

    def _serve_file(self, path: str) -> _Reply:
        prefix = f"/file/bot{self.token}/"
        with self._cond:
            by_path = {file_path: content for file_path, content in self._files.values()}
        if path.startswith(prefix) and path[len(prefix) :] in by_path:
            return _Reply(200, by_path[path[len(prefix) :]], "application/octet-stream")
        return _error_reply(ApiError(404, "Not Found"))

    def _check_blocked(self, params: JSON) -> None:
        chat_id = params.get("chat_id")
        if isinstance(chat_id, int) and chat_id in self._blocked:
            raise ApiError(403, BLOCKED)

    # ------------------------------------------------------------------ method table

    def _register_methods(self) -> None:
        handlers: dict[str, Callable[[JSON, dict[str, bytes]], Any]] = {
            "getMe": self._get_me,
            "getUpdates": lambda params, files: [],  # answered by _answer with its _Poll
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "answerInlineQuery": self._answer_inline_query,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "sendChatAction": self._send_chat_action,
            "getFile": self._get_file,
            "close": lambda params, files: True,
            "logOut": lambda params, files: True,
        }
        for kind in ("photo", "document", "audio", "voice", "video", "animation", "sticker"):
            handlers[f"send{kind.capitalize()}"] = self._media_sender(kind)
        self._methods = {name.lower(): (name, handler) for name, handler in handlers.items()}

    # ------------------------------------------------------------------ getMe / getUpdates

    def _get_me(self, params: JSON, files: dict[str, bytes]) -> JSON:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _claim_poll(self) -> int:
        """A new getUpdates supersedes any waiting one, as on Telegram (409 Conflict)."""
        with self._cond:
            self._poll_generation += 1
            self._cond.notify_all()
            return self._poll_generation

    def _get_updates(self, params: JSON, poll: _Poll) -> list[JSON]:
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = min(max(float(params.get("timeout") or 0), 0.0), self.max_poll_timeout)
        deadline = time.monotonic() + timeout
        with self._cond:
            if self.webhook is not None:
                raise ApiError(409, WEBHOOK_CONFLICT)
            self._confirm(params.get("offset"))
            if isinstance(params.get("allowed_updates"), list):
                self._allowed_updates = list(params["allowed_updates"])
            while True:
                if self._poll_generation != poll.generation:
                    # Nobody hears the 409 of a poll the client already cancelled (PTB
                    # does that on shutdown); recording it would only be noise.
                    raise _Abandoned if poll.client_gone() else ApiError(409, POLL_CONFLICT)
                batch = [u for u in self._updates if self._allowed(u)][:limit]
                remaining = deadline - time.monotonic()
                if batch or remaining <= 0 or self._stopping.is_set():
                    break
                self._cond.wait(remaining)
            if batch:
                self._last_returned_id = max(self._last_returned_id, batch[-1]["update_id"])
                self._cond.notify_all()
            return copy.deepcopy(batch)

    def _confirm(self, offset: Any) -> None:
        if not isinstance(offset, int) or offset == 0:
            return
        if offset < 0:  # -N: keep only the last N updates
            while len(self._updates) > -offset:
                self._updates.popleft()
            return
        while self._updates and self._updates[0]["update_id"] < offset:
            self._updates.popleft()

    def _allowed(self, update: JSON) -> bool:
        kind = _update_type(update)
        if self._allowed_updates:
            return kind in self._allowed_updates
        return kind not in _OPT_IN_UPDATE_TYPES

    def _undelivered(self) -> list[JSON]:
        return [
            u for u in self._updates if u["update_id"] > self._last_returned_id and self._allowed(u)
        ]

    # ------------------------------------------------------------------ sending

    def _target_chat(self, params: JSON) -> JSON:
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise _bad_request("chat_id is empty")
        if isinstance(raw, str) and raw.startswith("@"):
            for chat in self._chats.values():
                if chat.get("username") == raw[1:]:
                    return chat
            raise _bad_request("chat not found")
        if not isinstance(raw, int):
            raise _bad_request("chat not found")
        if raw not in self._chats:
            if self.strict_chats:
                raise _bad_request("chat not found")
            self.add_chat(raw, "private" if raw > 0 else "supergroup")
        return self._chats[raw]

    def _format(self, params: JSON, key: str, limit: int) -> tuple[str, list[JSON]]:
        """Apply parse_mode and Telegram's length rules to ``params[key]``."""
        source = params.get(key)
        source = "" if source is None else str(source)
        parse_mode = str(params.get("parse_mode") or "").lower()
        if parse_mode == "html":
            try:
                text, entities = parse_html(source, strict_ampersand=self.strict_ampersand)
            except HtmlParseError as exc:
                raise _bad_request(f"can't parse entities: {exc}") from None
        elif parse_mode in ("", "markdown", "markdownv2"):
            given = params.get("entities") if key == "text" else params.get("caption_entities")
            text, entities = source, list(given) if isinstance(given, list) else []
        else:
            raise _bad_request("unsupported parse_mode")
        text, entities = _strip_text(text, entities)
        if len(text) > limit:
            too_long = "message is too long" if key == "text" else "message caption is too long"
            raise _bad_request(too_long)
        return text, entities

    def _message_text(self, params: JSON) -> tuple[str, list[JSON]]:
        text, entities = self._format(params, "text", TEXT_LIMIT)
        if not text:
            raise _bad_request("message text is empty")
        return text, entities

    def _reply_to(self, chat_id: int, params: JSON) -> JSON | None:
        reply = params.get("reply_parameters")
        if not isinstance(reply, dict):
            if params.get("reply_to_message_id") is None:
                return None
            reply = {
                "message_id": params["reply_to_message_id"],
                "allow_sending_without_reply": params.get("allow_sending_without_reply", False),
            }
        target_chat = reply.get("chat_id", chat_id)
        key = (int(target_chat), int(reply["message_id"]))
        if key in self._messages:
            return self._reply_target(*key)
        if reply.get("allow_sending_without_reply"):
            return None
        raise _bad_request("message to be replied not found")

    def _store_sent(self, chat: JSON, content: JSON, params: JSON, method: str) -> JSON:
        """Create, store and return the message object for something the bot sent."""
        chat_id = int(chat["id"])
        reply_to = self._reply_to(chat_id, params)
        markup = _checked_markup(params.get("reply_markup"))
        message: JSON = {
            "message_id": self._next_message_id(chat_id),
            "from": self.bot_user,
            "chat": copy.deepcopy(chat),
            "date": int(time.time()),
            **content,
        }
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        if markup and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        key = (chat_id, int(message["message_id"]))
        self._messages[key] = message
        self._sent.append(key)
        self._sent_meta[key] = {"request": _request_view(params, method), "last_state": message}
        return copy.deepcopy(message)

    def _send_message(self, params: JSON, files: dict[str, bytes]) -> JSON:
        with self._cond:
            chat = self._target_chat(params)
            text, entities = self._message_text(params)
            content: JSON = {"text": text}
            if entities:
                content["entities"] = entities
            return self._store_sent(chat, content, params, "sendMessage")

    def _media_sender(self, kind: str) -> Callable[[JSON, dict[str, bytes]], Any]:
        def send(params: JSON, files: dict[str, bytes]) -> JSON:
            with self._cond:
                chat = self._target_chat(params)
                if params.get(kind) in (None, ""):
                    raise _bad_request(f"there is no {kind} in the request")
                media = self._media_object(kind, files.get(kind, b"fake-" + kind.encode()))
                content: JSON = {kind: media}
                caption, entities = self._format(params, "caption", CAPTION_LIMIT)
                if caption and kind != "sticker":
                    content["caption"] = caption
                if entities:
                    content["caption_entities"] = entities
                return self._store_sent(chat, content, params, f"send{kind.capitalize()}")

        return send

    def _media_object(self, kind: str, content: bytes) -> Any:
        base = self._register_file(f"{kind}s", content)
        if kind == "photo":
            return [{**base, "width": 800, "height": 600}]
        extra: dict[str, JSON] = {
            "audio": {"duration": 30},
            "voice": {"duration": 3},
            "video": {"duration": 5, "width": 640, "height": 360},
            "animation": {"duration": 2, "width": 320, "height": 240},
            "sticker": {
                "type": "regular", "width": 512, "height": 512,
                "is_animated": False, "is_video": False,
            },
        }  # fmt: skip
        return {**base, **extra.get(kind, {})}

    def _send_chat_action(self, params: JSON, files: dict[str, bytes]) -> bool:
        with self._cond:
            self._target_chat(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        return True

    # ------------------------------------------------------------------ editing

    def _editable(self, params: JSON, missing: str) -> JSON:
        chat = self._target_chat(params)
        message_id = params.get("message_id")
        message = self._messages.get((int(chat["id"]), int(message_id or 0)))
        if message is None:
            raise _bad_request(missing)
        if message.get("from", {}).get("id") != self.bot_id:
            raise _bad_request("message can't be edited")
        return message

    def _edit_message_text(self, params: JSON, files: dict[str, bytes]) -> Any:
        with self._cond:
            if params.get("inline_message_id"):
                self._message_text(params)
                return True
            message = self._editable(params, "message to edit not found")
            if "text" not in message:
                raise _bad_request("there is no text in the message to edit")
            text, entities = self._message_text(params)
            markup = _inline_markup(params.get("reply_markup"))
            # Without reply_markup Telegram removes the inline keyboard.
            changed = {"text": text, "entities": entities, "reply_markup": markup}
            return self._apply_edit(message, changed, params)

    def _edit_message_reply_markup(self, params: JSON, files: dict[str, bytes]) -> Any:
        with self._cond:
            if params.get("inline_message_id"):
                _checked_markup(params.get("reply_markup"))
                return True
            message = self._editable(params, "message to edit not found")
            changed = {"reply_markup": _inline_markup(params.get("reply_markup"))}
            return self._apply_edit(message, changed, params)

    def _apply_edit(self, message: JSON, changed: JSON, params: JSON) -> JSON:
        current = {name: message.get(name) or None for name in changed}
        wanted = {name: value or None for name, value in changed.items()}
        if current == wanted:
            raise _bad_request(NOT_MODIFIED.removeprefix("Bad Request: "))
        for name, value in wanted.items():
            if value is None:
                message.pop(name, None)
            else:
                message[name] = value
        message["edit_date"] = int(time.time())
        key = (int(message["chat"]["id"]), int(message["message_id"]))
        if key in self._sent_meta:
            self._sent_meta[key]["request"].update(_request_view(params, None))
        return copy.deepcopy(message)

    def _delete_message(self, params: JSON, files: dict[str, bytes]) -> bool:
        with self._cond:
            chat = self._target_chat(params)
            key = (int(chat["id"]), int(params.get("message_id") or 0))
            message = self._messages.pop(key, None)
            if message is None:
                raise _bad_request("message to delete not found")
            if key in self._sent_meta:
                self._sent_meta[key]["last_state"] = message
                self._sent_meta[key]["request"]["deleted"] = True
            return True

    # ------------------------------------------------------------------ queries

    def _answer_callback_query(self, params: JSON, files: dict[str, bytes]) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        with self._cond:
            if query_id not in self._open_callback_queries:
                raise ApiError(400, QUERY_TOO_OLD)
            self._open_callback_queries.discard(query_id)
            self.callback_answers[query_id] = _without_private(params)
            return True

    def _answer_inline_query(self, params: JSON, files: dict[str, bytes]) -> bool:
        query_id = str(params.get("inline_query_id") or "")
        results = params.get("results")
        if not isinstance(results, list):
            raise _bad_request("results must be an array")
        _check_inline_results(results, self._inline_text_check)
        with self._cond:
            if query_id not in self._open_inline_queries:
                raise ApiError(400, QUERY_TOO_OLD)
            self._open_inline_queries.discard(query_id)
            self.inline_answers[query_id] = _without_private(params)
            return True

    def _inline_text_check(self, content: JSON) -> None:
        if "message_text" in content:
            self._message_text({"text": content["message_text"], **content})

    # ------------------------------------------------------------------ webhook, commands, files

    def _set_webhook(self, params: JSON, files: dict[str, bytes]) -> bool:
        url = str(params.get("url") or "")
        if not url:
            return self._delete_webhook(params, files)
        parts = urlsplit(url)
        if parts.scheme != "https":
            raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if (parts.port or 443) not in (80, 88, 443, 8443):
            raise _bad_request(
                "bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443"
            )
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise _bad_request("secret token contains unallowed characters")
        with self._cond:
            self.webhook = _without_private(params)
            if params.get("drop_pending_updates"):
                self._updates.clear()
            self._cond.notify_all()
        return True

    def _delete_webhook(self, params: JSON, files: dict[str, bytes]) -> bool:
        with self._cond:
            self.webhook = None
            if params.get("drop_pending_updates"):
                self._updates.clear()
            self._cond.notify_all()
        return True

    def _get_webhook_info(self, params: JSON, files: dict[str, bytes]) -> JSON:
        with self._cond:
            info: JSON = {
                "url": (self.webhook or {}).get("url", ""),
                "has_custom_certificate": False,
                "pending_update_count": len(self._updates),
            }
            if self.webhook is not None:
                info["max_connections"] = self.webhook.get("max_connections", 40)
                if self.webhook.get("allowed_updates"):
                    info["allowed_updates"] = self.webhook["allowed_updates"]
            return info

    def deliver_webhook_updates(
        self, target_url: str | None = None, timeout: float = 5.0
    ) -> list[int]:
        """POST queued updates to the webhook (or ``target_url``), like Telegram would.

        Telegram needs a public HTTPS URL, so tests set that and pass the local listen
        address as ``target_url``. Delivered (2xx) updates are dropped; returns statuses.
        Blocking: from a coroutine use ``await asyncio.to_thread(...)``.
        """
        with self._cond:
            if self.webhook is None:
                raise RuntimeError("no webhook set")
            url = target_url or str(self.webhook["url"])
            secret = self.webhook.get("secret_token")
            updates = [u for u in self._updates if self._allowed(u)]
        statuses = [self._post_update(url, secret, update, timeout) for update in updates]
        with self._cond:
            done = {u["update_id"] for u, s in zip(updates, statuses, strict=True) if s < 300}
            self._updates = deque(u for u in self._updates if u["update_id"] not in done)
            self._cond.notify_all()
        return statuses

    def _post_update(self, url: str, secret: Any, update: JSON, timeout: float) -> int:
        headers = {"Content-Type": "application/json"}
        if secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = str(secret)
        request = urllib.request.Request(url, json.dumps(update).encode(), headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            exc.close()
            return int(exc.code)

    def _set_my_commands(self, params: JSON, files: dict[str, bytes]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad_request("commands must be an array")
        for command in commands:
            _check_command(command)
        with self._cond:
            self.commands[_commands_key(params)] = [
                {"command": c["command"], "description": c["description"]} for c in commands
            ]
        return True

    def _get_my_commands(self, params: JSON, files: dict[str, bytes]) -> list[JSON]:
        with self._cond:
            return copy.deepcopy(self.commands.get(_commands_key(params), []))

    def _delete_my_commands(self, params: JSON, files: dict[str, bytes]) -> bool:
        with self._cond:
            self.commands.pop(_commands_key(params), None)
        return True

    def _get_file(self, params: JSON, files: dict[str, bytes]) -> JSON:
        file_id = str(params.get("file_id") or "")
        with self._cond:
            if file_id not in self._files:
                raise _bad_request("invalid file_id")
            path, content = self._files[file_id]
        unique = f"U{file_id.removeprefix('FILE')}"
        return {
            "file_id": file_id,
            "file_unique_id": unique,
            "file_size": len(content),
            "file_path": path,
        }


# --------------------------------------------------------------------------- helpers


def _with_caption(content: JSON, caption: str | None) -> JSON:
    return {**content, "caption": caption} if caption else content


def _update_type(update: JSON) -> str:
    return next((key for key in update if key != "update_id"), "")


def _is_empty_poll(call: Call) -> bool:
    return call.method == "getUpdates" and call.ok and not call.result


def _describe_call(call: Call) -> str:
    params = ", ".join(f"{k}={_short(v)}" for k, v in call.params.items())
    outcome = f" -> {call.description}" if call.description else ""
    return f"{call.method}({params}) {call.status}{outcome}"


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _without_private(params: JSON) -> JSON:
    return {k: v for k, v in params.items() if not k.startswith("_")}


def _request_view(params: JSON, method: str | None) -> JSON:
    """The parts of a send/edit request tests want to see next to the message."""
    view: JSON = {
        "parse_mode": params.get("parse_mode"),
        "source_text": params.get("text", params.get("caption")),
        "reply_markup": params.get("reply_markup"),
        "reply_parameters": params.get("reply_parameters"),
        "deleted": False,
    }
    if method is not None:
        view["method"] = method
    else:  # edits keep the original method and deletion flag
        del view["deleted"]
    return view


def _iter_buttons(markup: Any) -> Iterator[JSON]:
    if not isinstance(markup, dict):
        return
    for row in markup.get("inline_keyboard") or []:
        yield from (button for button in row if isinstance(button, dict))


def _callback_datas(markup: Any) -> set[str]:
    return {str(b["callback_data"]) for b in _iter_buttons(markup) if "callback_data" in b}


_BUTTON_ACTIONS = frozenset(
    {
        "url", "callback_data", "web_app", "login_url", "switch_inline_query",
        "switch_inline_query_current_chat", "switch_inline_query_chosen_chat",
        "copy_text", "callback_game", "pay",
    }
)  # fmt: skip


def _checked_markup(markup: Any) -> JSON | None:
    """Reject inline keyboards Telegram would reject (oversized callback data, no action)."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise _bad_request("can't parse reply keyboard markup JSON object")
    for button in _iter_buttons(markup):
        if not str(button.get("text") or "").strip():
            raise _bad_request("inline keyboard button text is empty")
        if not _BUTTON_ACTIONS.intersection(button):
            raise _bad_request("text buttons are unallowed in the inline keyboard")
        data = button.get("callback_data")
        if data is not None and not 1 <= len(str(data).encode()) <= CALLBACK_DATA_LIMIT:
            raise _bad_request("BUTTON_DATA_INVALID")
    return markup


def _inline_markup(markup: Any) -> JSON | None:
    checked = _checked_markup(markup)
    return checked if checked and checked.get("inline_keyboard") else None


def _check_inline_results(results: list[Any], check_text: Callable[[JSON], None]) -> None:
    if len(results) > INLINE_RESULTS_LIMIT:
        raise _bad_request("RESULTS_TOO_MUCH")
    seen: set[str] = set()
    for result in results:
        if not isinstance(result, dict) or "type" not in result:
            raise _bad_request("can't parse inline query result")
        result_id = str(result.get("id", ""))
        if not 1 <= len(result_id.encode()) <= 64:
            raise _bad_request("RESULT_ID_INVALID")
        if result_id in seen:
            raise _bad_request("RESULT_ID_DUPLICATE")
        seen.add(result_id)
        content = result.get("input_message_content")
        if isinstance(content, dict):
            check_text(content)
        _checked_markup(result.get("reply_markup"))


def _check_command(command: Any) -> None:
    if not isinstance(command, dict):
        raise _bad_request("can't parse BotCommand")
    name = str(command.get("command", ""))
    if not re.fullmatch(r"[a-z0-9_]{1,32}", name):
        raise _bad_request("BOT_COMMAND_INVALID")
    if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
        raise _bad_request("command description must be 1-256 characters")


def _commands_key(params: JSON) -> tuple[str, str]:
    scope = params.get("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")
