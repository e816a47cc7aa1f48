"""The aiohttp transport maps failures to the errors PTB and deliver() expect."""

from __future__ import annotations

import asyncio
import socket

import pytest
from telegram import Bot
from telegram.error import NetworkError, TimedOut

from bot.telegram.transport import AiohttpRequest
from tests.fake_bot_api import FakeBotApi, bot_base_urls


def bot_for(fake: FakeBotApi, request: AiohttpRequest) -> Bot:
    base_url, base_file_url = bot_base_urls(fake)
    return Bot(fake.token, base_url=base_url, base_file_url=base_file_url, request=request)


def test_transport_sends_and_parses_like_ptb(fake: FakeBotApi) -> None:
    fake.add_chat(5)

    async def scenario() -> str:
        async with bot_for(fake, AiohttpRequest()) as bot:
            message = await bot.send_message(5, "<b>Hallo</b> &amp; willkommen", parse_mode="HTML")
            return str(message.text)

    assert asyncio.run(scenario()) == "Hallo & willkommen"


def test_transport_slow_server_raises_timed_out(fake: FakeBotApi) -> None:
    fake.add_chat(5)
    fake.fail_next("sendMessage", delay=1.5)

    async def scenario() -> None:
        async with bot_for(fake, AiohttpRequest(read_timeout=0.5, write_timeout=0.0)) as bot:
            await bot.send_message(5, "x")

    with pytest.raises(TimedOut):
        asyncio.run(scenario())


def test_transport_unreachable_server_raises_network_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there

    async def scenario() -> None:
        request = AiohttpRequest()
        await request.initialize()
        try:
            await request.post(f"http://127.0.0.1:{port}/bot1:x/getMe")
        finally:
            await request.shutdown()

    with pytest.raises(NetworkError):
        asyncio.run(scenario())


def test_transport_502_is_a_network_error(fake: FakeBotApi) -> None:
    fake.fail_next("getMe", status=502)

    async def scenario() -> None:
        request = AiohttpRequest()
        await request.initialize()
        try:
            await request.post(f"{fake.url}/bot{fake.token}/getMe")
        finally:
            await request.shutdown()

    with pytest.raises(NetworkError):
        asyncio.run(scenario())
