"""What a route handler receives: the caller, the city, the validated input and a way to call services."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from pydantic import BaseModel


@dataclass
class Call:
    params: dict
    query: Any  # the validated query model, or the raw args
    body: Any  # the validated body model, the raw text, or None
    principal: dict | None
    city: dict | None
    headers: Any
    remote_addr: str
    rpc: Callable  # rpc(service, method, *args)
    batched: Callable | None = None  # batched(service, method, item): sent with the calls waiting alongside

    @property
    def json(self) -> dict:
        """The body as plain JSON data, exactly as the client sent the fields it set."""
        if isinstance(self.body, BaseModel):
            return self.body.model_dump(mode="json", exclude_unset=True)
        return self.body

    @property
    def city_id(self) -> str:
        return self.city["id"]
