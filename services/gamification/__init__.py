"""Gamification: points for taking part, badges with levels, and the city's leaderboards.

Where things live:
- `rules.py`: the points each action earns, the daily cap per voter and author, badge thresholds and
  levels; defaults, and a city's overrides stored as data.
- `votes.py`: a vote's state from its cast/changed/withdrawn events in any order (versions, tombstones).
- `ledger.py`: what each subject (an idea posted, a vote, an idea accepted, ...) is worth now, including
  the daily cap and hidden or deleted content; the ledger books the difference with what was awarded.
- `badges.py`: badge levels, streaks of days, overall levels.
- `ranking.py`: period buckets (all, calendar month, ISO week; UTC) and standard competition ranks.
- `store.py`: the tables at work (SQLAlchemy Core); `service.py`: the Nameko entrypoints.
"""
