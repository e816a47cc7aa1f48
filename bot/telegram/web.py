"""The bot's own HTTP server (aiohttp): Telegram's webhook, /healthz and /metrics.

Webhook mode serves all three on PORT. Polling mode serves /healthz and /metrics on
METRICS_PORT when it is set. The webhook path answers 403 unless the request carries
the secret Telegram was given (X-Telegram-Bot-Api-Secret-Token).
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web
from telegram import Update

from bot.logs import ThrottledLog
from bot.metrics import CONTENT_TYPE, Metrics

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

HealthReport = Callable[[], dict[str, Any]]


def make_web_app(
    *,
    health: HealthReport,
    metrics: Metrics,
    application: Any | None = None,
    webhook_path: str | None = None,
    secret: str | None = None,
) -> web.Application:
    """Routes for health and metrics, and the webhook when a path is given."""
    app = web.Application(client_max_size=2 * 1024 * 1024)

    async def healthz(_: web.Request) -> web.Response:
        report = health()
        status = 200 if report.get("status") == "ok" else 503
        return web.json_response(report, status=status)

    async def metrics_page(_: web.Request) -> web.Response:
        response = web.Response(body=metrics.render())
        response.headers["Content-Type"] = CONTENT_TYPE
        return response

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_page)
    if application is not None and webhook_path is not None and secret is not None:
        expected = secret.encode()
        # Scanners and a misconfigured proxy can send thousands: a line a minute, counted.
        refused = ThrottledLog(logger, interval=60.0)

        async def webhook(request: web.Request) -> web.Response:
            given = request.headers.get(SECRET_HEADER, "").encode()
            if not hmac.compare_digest(given, expected):
                refused.warning("Webhook request without the right secret from %s", request.remote)
                return web.Response(status=403, text="Forbidden")
            try:
                data = await request.json()
                update = Update.de_json(data, application.bot)
            except (json.JSONDecodeError, ValueError, TypeError, KeyError):
                logger.warning("Webhook request with a body that is not an update")
                return web.Response(status=400, text="Bad Request")
            await application.update_queue.put(update)
            return web.Response(status=200)

        app.router.add_post("/" + webhook_path.lstrip("/"), webhook)
    return app
