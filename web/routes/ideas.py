"""An idea: its page, posting, editing, voting, comments and flags."""
from __future__ import annotations

routes: list = []
