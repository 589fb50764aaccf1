"""Votes: the signed-in citizen's own votes for a page of cards, and casting or withdrawing one."""
from __future__ import annotations

import asyncio
import time

from web.gateway import ApiError, BoundClient

VALUES = ("up", "down")
BATCH = 100             # ids per GET /users/me/votes
RECHECK = 300.0         # seconds before asking again a gateway that did not have the batch route

_no_batch_until = 0.0


async def own_votes(client: BoundClient, city: str, target_type: str, ids: list[str]) -> dict[str, str | None]:
    """{target id: "up" | "down" | None} for the signed-in citizen; {} for an anonymous one.

    One GET /users/me/votes for up to 100 targets; from a gateway without that route, one call per
    target, all at once."""
    global _no_batch_until
    if not client.token or not ids:
        return {}
    if time.monotonic() >= _no_batch_until:
        try:
            pages = await asyncio.gather(*(
                client.get(f"/cities/{city}/users/me/votes",
                           params={"target_type": target_type, "ids": ",".join(ids[i:i + BATCH])})
                for i in range(0, len(ids), BATCH)))
            votes: dict[str, str | None] = dict.fromkeys(ids)
            for page in pages:
                votes.update({item["target_id"]: item["value"] for item in page["items"]})
            return votes
        except ApiError as exc:
            if exc.status not in (404, 405):
                raise
            _no_batch_until = time.monotonic() + RECHECK
    return await _one_by_one(client, city, target_type, ids)


async def _one_by_one(client: BoundClient, city: str, target_type: str, ids: list[str]) -> dict[str, str | None]:
    answers = await asyncio.gather(
        *(client.get(f"/cities/{city}/{target_type}s/{target_id}/vote") for target_id in ids), return_exceptions=True)
    votes = {}
    for target_id, answer in zip(ids, answers):
        if isinstance(answer, dict):
            votes[target_id] = answer.get("value")
        elif isinstance(answer, ApiError) and answer.status in (401, 503):
            raise answer
    return votes


async def cast(client: BoundClient, city: str, target_type: str, target_id: str, value: str,
               current: str | None) -> dict:
    """Vote `value`; the same value again withdraws the vote. Answers {value, up_votes, down_votes}."""
    path = f"/cities/{city}/{target_type}s/{target_id}/vote"
    if value not in VALUES:
        raise ApiError(422, "VALIDATION_ERROR", "value must be up or down", [{"field": "value", "issue": "up or down"}])
    if current == value:
        return await client.delete(path)
    return await client.put(path, json={"value": value})
