"""The site's areas: each module exposes `routes`, listed in web/app.py's AREAS."""
