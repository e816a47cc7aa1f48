"""The Telegram front end (python-telegram-bot v22)."""

from __future__ import annotations

import os

# PTB 22 warns unless told to express retry_after and similar periods as timedelta;
# deliver() handles both, and the warning would otherwise replace RetryAfter in tests.
os.environ.setdefault("PTB_TIMEDELTA", "true")
