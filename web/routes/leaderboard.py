"""The city's leaderboard: all time, this month, this week; the signed-in citizen's own rank beside it."""
from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from web.gateway import api
from web.pages import load_city, render
from web.session import current_user

PERIODS = ("all", "month", "week")
PAGE = 25


async def _nothing():
    return None


async def leaderboard(request: Request) -> Response:
    city = await load_city(request)
    slug = city["slug"]
    period = request.query_params.get("period")
    period = period if period in PERIODS else "all"
    cursor = request.query_params.get("cursor") or None
    user = current_user(request)
    client = api(request)
    board, mine = await asyncio.gather(
        client.get(f"/cities/{slug}/leaderboard", params={"period": period, "limit": PAGE, "cursor": cursor}),
        client.get(f"/cities/{slug}/users/{user['id']}/score", params={"period": period}) if user else _nothing())
    return render(request, "leaderboard/page.html", {
        "board": board, "period": period, "periods": PERIODS, "mine": mine, "cursor": cursor,
    })


routes = [
    Route("/{city}/leaderboard", leaderboard, methods=["GET"], name="leaderboard"),
]
