"""Votes: the signed-in citizen's own votes for a page of cards, and casting or withdrawing one."""
from __future__ import annotations

import asyncio

from web.gateway import ApiError, BoundClient

VALUES = ("up", "down")


async def own_votes(client: BoundClient, city: str, target_type: str, ids: list[str]) -> dict[str, str | None]:
    """{target id: "up" | "down" | None} for the signed-in citizen; {} for an anonymous one.

    One call per target, all at once (the API has no batch read of one's own votes yet)."""
    if not client.token or not ids:
        return {}
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
