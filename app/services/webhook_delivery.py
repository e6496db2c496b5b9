"""The webhook delivery worker: a task inside each API process (started in the lifespan).

Each webhook has a feed position (its cursor) and a lease (owner, expiry) on its node. Every
IDGRAPH_WEBHOOK_POLL_SECONDS the worker looks at the webhooks; for each one whose lease it holds or can take,
it reads the feed after the cursor and POSTs the changes one at a time, in feed order, so a profile's
changes arrive in the order they were committed. A change is retried (exponential backoff with jitter, the
first retry after about IDGRAPH_WEBHOOK_BACKOFF_SECONDS) until a 2xx, or until IDGRAPH_WEBHOOK_RETRY_HOURS
have passed since its first attempt, when it is recorded as abandoned and the next one goes. The cursor moves
past a change only after that, in a transaction that checks the lease is still this process's: a process
that dies mid-delivery leaves the cursor before the change, and whoever takes the lease next (after it
expires) delivers it again with the same delivery id. At least once, never skipped; receivers deduplicate on
X-Idgraph-Delivery. One process holds a webhook's lease at a time, so a webhook is never delivered twice at
once; its lease is renewed with every step and outlasts one POST (settings check lease > timeout).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime
from typing import Any

from app.logging import get_logger
from app.metrics import FEED_LAG, WEBHOOK_DELIVERIES
from app.services.changes import ChangeFeed
from app.store.repository import GraphRepository
from graph_model.changes import backoff_seconds, delivery_id, host_allowed, signature, stamp_time

log = get_logger(__name__)

PAGE = 50
# An idle webhook's cursor follows the watermark at most this often (one write), so that a webhook whose
# types are rare does not scan the same entries on every poll.
_IDLE_ADVANCE_SECONDS = 10.0


class _LeaseLost(Exception):
    pass


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer like any non-2xx: never followed, so the allow-list holds."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


# No proxies from the environment either: the request goes to the allowed host itself.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


def _post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int | None, str | None]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return int(response.status), None
    except urllib.error.HTTPError as exc:
        return int(exc.code), f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return None, f"{type(exc).__name__}: {reason}"[:300]


class DeliveryWorker:
    def __init__(
        self,
        store: GraphRepository,
        feed: ChangeFeed,
        *,
        allowed_hosts: tuple[str, ...],
        retry_hours: float,
        backoff_seconds: float,
        backoff_max_seconds: float,
        poll_seconds: float,
        lease_seconds: float,
        timeout_seconds: float,
    ) -> None:
        store.catalog.require(
            "webhook_list",
            "webhook_lease",
            "webhook_advance",
            "webhook_release",
            "webhook_delivery_record",
            "webhook_delivery_done",
            "webhook_deliveries_purge",
        )
        self._store = store
        self._feed = feed
        self._allowed = allowed_hosts
        self._retry_seconds = retry_hours * 3600
        self._backoff = backoff_seconds
        self._backoff_max = backoff_max_seconds
        self._poll = poll_seconds
        self._lease_ms = int(lease_seconds * 1000)
        self._lease_seconds = lease_seconds
        self._timeout = timeout_seconds
        self.owner = f"worker-{uuid.uuid4()}"
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._idle_advanced: dict[str, float] = {}

    async def run(self, purge_every_seconds: float = 3600.0) -> None:
        """Until cancelled: a task per webhook whose lease this process can take, and the retention purge."""
        next_purge = time.monotonic()
        try:
            while True:
                try:
                    for hook in await self._store.read("webhook_list"):
                        task = self._tasks.get(hook["id"])
                        if task is None or task.done():
                            self._tasks[hook["id"]] = asyncio.create_task(
                                self._serve(hook["id"]), name=f"webhook-{hook['id']}"
                            )
                    if time.monotonic() >= next_purge:
                        next_purge = time.monotonic() + purge_every_seconds
                        await self.purge()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # Neo4j away: try again next poll
                    log.warning("webhook poll failed", error_type=type(exc).__name__, error=str(exc)[:200])
                await asyncio.sleep(self._poll)
        finally:
            for task in self._tasks.values():
                task.cancel()
            for task in self._tasks.values():
                with contextlib.suppress(BaseException):
                    await task
            with contextlib.suppress(Exception):
                await self._store.write("webhook_release", owner=self.owner)

    async def purge(self) -> None:
        deleted = await self._feed.purge()
        cutoff = datetime.now(UTC).timestamp() - self._feed.retention_days * 86400
        while True:
            rows = await self._store.write(
                "webhook_deliveries_purge",
                cutoff=datetime.fromtimestamp(cutoff, UTC).isoformat(),
                limit=1000,
            )
            if not rows or int(rows[0]["deleted"]) < 1000:
                break
        if deleted:
            log.info("change feed purged", changes=deleted)

    async def _serve(self, webhook_id: str) -> None:
        try:
            rows = await self._lease(webhook_id)
            if not rows:
                return  # another process delivers it, or it is gone
            await self._drain(rows[0])
        except (_LeaseLost, asyncio.CancelledError):
            return
        except Exception as exc:
            log.warning("webhook delivery stopped", webhook=webhook_id, error_type=type(exc).__name__)

    async def _advance(self, webhook_id: str, seq: str) -> None:
        rows = await self._store.write(
            "webhook_advance", id=webhook_id, owner=self.owner, cursor=seq, ttl_ms=self._lease_ms
        )
        if not rows:
            raise _LeaseLost(webhook_id)

    async def _lease(self, webhook_id: str) -> list[dict[str, Any]]:
        ttl_ms = self._lease_ms
        return await self._store.write("webhook_lease", id=webhook_id, owner=self.owner, ttl_ms=ttl_ms)

    async def _renew(self, webhook_id: str) -> None:
        rows = await self._lease(webhook_id)
        if not rows:
            raise _LeaseLost(webhook_id)

    async def _drain(self, hook: dict[str, Any]) -> None:
        webhook_id, cursor = hook["id"], hook["cursor"] or ""
        types, event_types = list(hook["types"] or []), list(hook["event_types"] or [])
        while True:
            page = await self._feed.positions(cursor, limit=PAGE, types=types, event_types=event_types)
            FEED_LAG.labels(webhook_id).set(
                max(0.0, (datetime.now(UTC) - stamp_time(page.items[0]["seq"])).total_seconds())
                if page.items
                else 0.0
            )
            for item in page.items:
                await self._deliver(hook, item)  # moves the cursor past it
                cursor = item["seq"]
            if len(page.items) < PAGE:
                now = time.monotonic()
                if page.next_seq > cursor and (
                    page.items or now - self._idle_advanced.get(webhook_id, 0.0) >= _IDLE_ADVANCE_SECONDS
                ):
                    self._idle_advanced[webhook_id] = now
                    await self._advance(webhook_id, page.next_seq)
                FEED_LAG.labels(webhook_id).set(0.0)
                return

    async def _deliver(self, hook: dict[str, Any], item: dict[str, Any]) -> None:
        """POST one change until a 2xx or the retry window is over; every attempt recorded."""
        webhook_id = hook["id"]
        if item["type"] == "event" and item.get("event") is None:
            await self._advance(webhook_id, item["seq"])
            return  # the event was erased since: nothing to say
        did = delivery_id(webhook_id, item["seq"])
        body = json.dumps(
            {"delivery_id": did, "webhook_id": webhook_id, "change": item}, separators=(",", ":")
        ).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "idgraph-webhooks",
            "X-Idgraph-Delivery": did,
            "X-Idgraph-Signature": signature(hook["secret"], body),
        }
        first = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            started = time.monotonic()
            if host_allowed(hook["url"], self._allowed):
                status, error = await asyncio.to_thread(_post, hook["url"], body, headers, self._timeout)
            else:
                status, error = None, "host not in IDGRAPH_WEBHOOK_ALLOWED_HOSTS"
            took = round((time.monotonic() - started) * 1000, 1)
            if status is not None and 200 <= status < 300:
                outcome = "delivered"
            elif time.monotonic() - first >= self._retry_seconds:
                outcome = "abandoned"
            else:
                outcome = "failed"
            record = {
                "id": str(uuid.uuid4()),
                "webhook_id": webhook_id,
                "delivery_id": did,
                "seq": item["seq"],
                "change_type": item["type"],
                "profile_id": item.get("profile_id"),
                "attempt": attempt,
                "outcome": outcome,
                "status_code": status,
                "error": error,
                "duration_ms": took,
            }
            WEBHOOK_DELIVERIES.labels(webhook_id, outcome).inc()
            if outcome != "failed":
                if outcome == "abandoned":
                    log.warning("webhook delivery abandoned", webhook=webhook_id, attempts=attempt)
                # The attempt and the cursor past the change in one transaction, under the lease.
                done = await self._store.write(
                    "webhook_delivery_done", owner=self.owner, ttl_ms=self._lease_ms, **record
                )
                if not done:
                    raise _LeaseLost(webhook_id)
                return
            await self._store.write("webhook_delivery_record", **record)
            await self._wait(webhook_id, backoff_seconds(attempt, self._backoff, self._backoff_max))

    async def _wait(self, webhook_id: str, seconds: float) -> None:
        """Sleep between attempts, renewing the lease so no other process takes the webhook meanwhile."""
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            await asyncio.sleep(min(left, self._lease_seconds / 3))
            await self._renew(webhook_id)
        await self._renew(webhook_id)
