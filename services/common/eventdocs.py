"""Writes docs/events.md from the registered event schemas: `python -m services.common.eventdocs`."""
from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

from services.common.events import REGISTRY, Envelope

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "events.md"

INTRO = """# Events

Every change of note is published on the bus, so a city's back-office systems can follow the platform
without polling. This page is generated from the code (`make docs`); a test fails when it is out of date.

## How to subscribe
Each service publishes on its own durable **topic exchange** `<service>.events` (for example
`voting.events`); the **routing key** is the event name after the dot (`vote_cast` for
`voting.vote_cast`). Bind a durable queue of your own with plain AMQP, no Nameko needed; bind `#` to
receive everything a service publishes. Messages are JSON, persistent, with the header `event_id`.
See `docs/examples/subscriber.py` for a complete kombu subscriber.

Delivery is at least once: an event can arrive twice (after a crash or a network fault), so
deduplicate by `event_id`. Events of one service are published in the order they were committed,
but consumers of several services can see them interleaved in any order.

## The envelope
Every event has the same envelope; the event's own fields are in `data`.

```json
{envelope}
```

```json
{envelope_schema}
```
"""


def load_all() -> None:
    for path in sorted((ROOT / "services").glob("*/schemas.py")):
        importlib.import_module(f"services.{path.parent.name}.schemas")


def render() -> str:
    load_all()
    example_env = {
        "event_id": "9b2f6f8e-1c0a-4a53-a0f5-3c7a1f0e2b11",
        "type": "voting.vote_cast",
        "version": 1,
        "occurred_at": "2026-05-04T09:30:00.123456Z",
        "city_id": "6f1c1f1e-7d7a-4f61-9c1e-2b8f1f7f0a01",
        "actor_id": "0b5d2c44-3c4f-4d55-8f0e-6a1b2c3d4e5f",
        "data": {"...": "the event's fields"},
    }
    out = [
        INTRO.replace("{envelope}", json.dumps(example_env, indent=2)).replace(
            "{envelope_schema}", json.dumps(Envelope.model_json_schema(), indent=2)
        )
    ]
    by_service: dict[str, list] = {}
    for spec in REGISTRY.values():
        by_service.setdefault(spec.type.split(".")[0], []).append(spec)
    out.append("## Index\n")
    for service in sorted(by_service):
        for spec in sorted(by_service[service], key=lambda s: s.type):
            out.append(f"- [`{spec.type}`](#{spec.type.replace('.', '')}) — {spec.description.splitlines()[0] if spec.description else ''}")
    out.append("")
    for service in sorted(by_service):
        out.append(f"## {service}: exchange `{service}.events`\n")
        for spec in sorted(by_service[service], key=lambda s: s.type):
            out.append(f"### {spec.type}\n")
            out.append(f"Routing key `{spec.type.split('.', 1)[1]}`, version {spec.version}. {spec.description}\n")
            out.append("Example `data`:\n\n```json\n" + json.dumps(spec.example, indent=2) + "\n```\n")
            schema = spec.model.model_json_schema()
            out.append("<details><summary>JSON Schema of <code>data</code></summary>\n\n```json\n"
                       + json.dumps(schema, indent=2) + "\n```\n</details>\n")
    return "\n".join(out)


def main(argv) -> None:
    text = render()
    if argv and argv[0] == "--check":
        if not DOC.exists() or DOC.read_text() != text:
            print("docs/events.md is out of date: run `make docs`")
            sys.exit(1)
        return
    DOC.parent.mkdir(exist_ok=True)
    DOC.write_text(text)
    print(f"wrote {DOC.relative_to(ROOT)} ({len(REGISTRY)} events)")


if __name__ == "__main__":
    main(sys.argv[1:])
