"""Reading a whole list of the API (a poll's questions, a budget's items): the pages one after another."""
from __future__ import annotations

PAGE = 100  # the API's largest page


async def every_item(client, path: str, params: dict | None = None, cap: int = 1000) -> list[dict]:
    """The items of `path`, following `next_cursor`, at most `cap` of them."""
    items: list[dict] = []
    cursor = None
    while True:
        page = await client.get(path, params={**(params or {}), "limit": PAGE, "cursor": cursor})
        items += page["items"]
        cursor = page.get("next_cursor")
        if not cursor or len(items) >= cap:
            return items[:cap]
