"""The bot's own HTTP server (aiohttp): Telegram's webhook, /healthz and /metrics.

Webhook mode serves all three on PORT. Polling mode serves /healthz and /metrics on
METRICS_PORT when it is set. The webhook path answers 403 unless the request carries
the secret Telegram was given (X-Telegram-Bot-Api-Secret-Token). With several replicas
(DATABASE_URL) an update is claimed in the database before it is answered, so one that
reaches two replicas is answered by the first only (bot/stores.py's UpdateClaims).
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from telegram import Update

from bot.logs import ThrottledLog
from bot.metrics import CONTENT_TYPE, Metrics
from bot.telegram.updates import UpdateLedger

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
    ledger: UpdateLedger | None = None,
    claim: Callable[[int], Awaitable[bool]] | None = None,
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
            update = await _update_from(request, application)
            if update is None:
                # 400, not 500 with a traceback: there is nothing in it to handle.
                return web.Response(status=400, text="Bad Request")
            if isinstance(update, int):
                # An update PTB cannot read (yet): skipped, or Telegram resends it forever.
                metrics.updates_skipped.labels("unparseable").inc()
                return web.Response(status=200)
            if ledger is not None and not ledger.receive(update.update_id):
                # Telegram re-sends an update it thinks failed: answer it once.
                metrics.updates_skipped.labels("duplicate").inc()
                return web.Response(status=200)
            if claim is not None and not await claim(update.update_id):
                # Another replica has it (a load balancer retried, or Telegram re-sent).
                if ledger is not None:
                    ledger.mark_done(update.update_id)
                metrics.updates_skipped.labels("duplicate").inc()
                return web.Response(status=200)
            await application.update_queue.put(update)
            return web.Response(status=200)

        app.router.add_post("/" + webhook_path.lstrip("/"), webhook)
    return app


async def _update_from(request: web.Request, application: Any) -> Update | int | None:
    """The update in a webhook body; its id alone if PTB cannot read it; None if no update.

    Logged without the content, which is customer data.
    """
    try:
        data = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        logger.warning("Webhook request with a body that is not JSON")
        return None
    update_id = data.get("update_id") if isinstance(data, dict) else None
    if not isinstance(update_id, int):
        logger.warning("Webhook request with JSON that is not an update (no update_id)")
        return None
    try:
        return Update.de_json(data, application.bot)
    except Exception as exc:
        # The class of the error only: its text may quote the customer's data.
        logger.warning(
            "Skipping update %d: python-telegram-bot cannot read it (%s)",
            update_id,
            type(exc).__name__,
        )
        return update_id
