"""Query-string models shared by route modules."""
from pydantic import BaseModel, ConfigDict, Field


class ListQuery(BaseModel):
    """`?limit=&cursor=` of every list (API.md: default 20, max 100)."""

    model_config = ConfigDict(extra="ignore")

    limit: int = Field(20, ge=1, le=100, description="page size, 1-100")
    cursor: str | None = Field(None, max_length=512, description="next_cursor of the previous page")
