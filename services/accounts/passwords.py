"""Which passwords are refused: short ones, common ones, and the account's own e-mail or name.

The common passwords are zxcvbn's list of the 30,000 most frequent ones in leaked password sets
(the `zxcvbn` package, MIT licence; its source is Dropbox's zxcvbn, from Xato's corpus of 10 million).
"""
from __future__ import annotations

from functools import lru_cache

MIN_LENGTH = 10


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def weakness(password: str, *, email: str | None = None, name: str | None = None) -> str | None:
    """Why the password is refused, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"must be at least {MIN_LENGTH} characters"
    folded = password.strip().casefold()
    if folded in common_passwords():
        return "is one of the most common passwords; choose another"
    own = {v.strip().casefold() for v in (email, email.split("@")[0] if email else None, name) if v}
    if folded in own:
        return "must not be your e-mail address or name"
    return None
