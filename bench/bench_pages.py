"""The web site's pages with 100,000 ideas in a project: server time per page, page weight, and the
gateway's own JSON answer for the same data beside them.

Starts accounts + ideas, voting, gamification and the gateway (separate processes) on a scratch
database and broker vhost (dropped at the end), and the web site (`python -m web`) against that
gateway. Creates a city, a project, a citizen and one idea with a discussion through the API, then
fills the services' tables directly with generate_series: 100,000 ideas in the measured project
(skewed vote totals, topics, statuses, trending scores, 5,000 authors), 20,000 in another project,
the voting service's targets and totals for them, the citizen's own votes on the newest ideas, and
20,000 ranked citizens in the leaderboard.

Each page is requested `--samples` times one at a time, by an anonymous visitor and by the signed-in
citizen (a session cookie from the site's own log-in form): p50/p95 of the time to the last byte on
loopback, i.e. the server's time. The page's HTML and the CSS it links are weighed (bytes, before
compression). The *baseline* is the gateway's JSON answer for the same data, asked the way the page
asks it (the same calls, the concurrent ones concurrently) by a client beside the site: page time
divided by baseline time says what the site adds to the API; page minus baseline is the site's own
share (rendering, session, its HTTP client).

Usage: python bench/bench_pages.py [--ideas 100000] [--samples 200]
Results: bench/results/pages.json, and the table between the pages markers of bench/README.md
Targets (issue 15): p95 <= 150 ms per page; HTML + CSS of a page < 100 KB.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform as host
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urljoin

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]
os.environ.setdefault("AGORA_SERVICES", "accounts,ideas,voting,gamification")

import httpx  # noqa: E402
import requests  # noqa: E402
from sqlalchemy import text  # noqa: E402

import loadgen  # noqa: E402
from cluster import Proc, Scratch, service_modules  # noqa: E402
from support import Api, free_port  # noqa: E402

OUT = ROOT / "bench" / "results" / "pages.json"
README = ROOT / "bench" / "README.md"
START, END = "<!-- pages:start -->", "<!-- pages:end -->"
SERVICES = ["accounts", "ideas", "voting", "gamification"]
TOPICS = ["mobility", "green", "culture", "health", "housing"]
PASSWORD = "citizen-password-1"  # tests/support.py Api.new_user's
TARGET_P95_MS, TARGET_KB = 150, 100
PAGE_SIZE, COMMENTS_PAGE, LEADERS, BOARD_PAGE = 12, 50, 5, 20  # as the site asks (web/routes/*.py)


# -- the data ----------------------------------------------------------------------------------------
def seed(scratch: Scratch, city_id: str, project_id: str, citizen_id: str, ideas: int) -> dict:
    started = time.perf_counter()
    other = str(uuid.uuid4())
    with scratch.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO ideas.projects (id, city_id, title, method, status, topics) "
            "VALUES (:p, :c, '{\"en\": \"Another project\"}'::jsonb, 'ideation', 'active', :t)"),
            {"p": other, "c": city_id, "t": TOPICS})
        conn.execute(text(
            "INSERT INTO ideas.users (id, city_id, display_name, role, locale) "
            "SELECT md5('author' || a)::uuid, :c, 'Citizen ' || a, 'citizen', 'en' FROM generate_series(0, 4999) a"),
            {"c": city_id})
        for project, count in ((project_id, ideas), (other, ideas // 5)):
            conn.execute(text("""
                INSERT INTO ideas.ideas (id, city_id, project_id, author_id, title, body, topics, locale, status,
                                         up_votes, down_votes, votes_version, controversy, trend_score, trend_at,
                                         lat, lng, created_at)
                SELECT md5(:p || g)::uuid, :c, :p, md5('author' || (g % 5000))::uuid,
                       'Idea number ' || g || ': shade and benches on the square of district ' || (g % 40),
                       repeat('A longer text about the city, its streets and what should change there. ', 1 + g % 6),
                       ARRAY[(:topics)[1 + g % 5]] || CASE WHEN g % 3 = 0 THEN ARRAY[(:topics)[1 + (g / 3) % 5]]
                                                          ELSE ARRAY[]::text[] END,
                       'en',
                       CASE WHEN g % 50 = 0 THEN 'accepted' WHEN g % 50 = 1 THEN 'under_review'
                            WHEN g % 97 = 0 THEN 'rejected' ELSE 'proposed' END,
                       u, d, 1,
                       CASE WHEN u + d = 0 THEN 0 ELSE power(u + d, least(u, d)::float / greatest(u, d)) END,
                       random() * 20, now(),
                       CASE WHEN g % 3 = 0 THEN 50.80 + random() * 0.1 END,
                       CASE WHEN g % 3 = 0 THEN 4.30 + random() * 0.13 END,
                       now() - make_interval(secs => g * 30)
                FROM (SELECT g, floor(200 * power(random(), 4))::int AS u, floor(40 * power(random(), 3))::int AS d
                      FROM generate_series(1, :n) AS g) s
            """), {"p": project, "c": city_id, "n": count, "topics": TOPICS})
            conn.execute(text("""
                INSERT INTO voting.targets (city_id, target_type, target_id, idea_id, project_id, author_id)
                SELECT city_id, 'idea', id, id, project_id, author_id FROM ideas.ideas WHERE project_id = :p
                ON CONFLICT DO NOTHING"""), {"p": project})
            conn.execute(text("""
                INSERT INTO voting.vote_counts (city_id, target_type, target_id, up_votes, down_votes, version)
                SELECT city_id, 'idea', id, up_votes, down_votes, 1 FROM ideas.ideas WHERE project_id = :p
                ON CONFLICT DO NOTHING"""), {"p": project})
        # the citizen's own votes on the newest ideas, so signed-in cards show them
        conn.execute(text("""
            INSERT INTO voting.votes (id, city_id, target_type, target_id, voter_id, value)
            SELECT gen_random_uuid(), :c, 'idea', md5(:p || g)::uuid, :u, CASE WHEN g % 4 = 0 THEN 'down' ELSE 'up' END
            FROM generate_series(1, 40) g"""), {"c": city_id, "p": project_id, "u": citizen_id})
        conn.execute(text("""
            INSERT INTO gamification.users (city_id, user_id, display_name)
            SELECT :c, md5('author' || g)::uuid, 'Citizen ' || g FROM generate_series(0, 19999) AS g
            ON CONFLICT DO NOTHING"""), {"c": city_id})
        conn.execute(text("""
            INSERT INTO gamification.totals (city_id, period, user_id, points)
            SELECT :c, 'all', md5('author' || g)::uuid, floor(5000 * power(random(), 6))::int + 1
            FROM generate_series(0, 19999) AS g ON CONFLICT DO NOTHING"""), {"c": city_id})
        for table in ("ideas.ideas", "ideas.users", "voting.targets", "voting.vote_counts", "voting.votes",
                      "gamification.totals"):
            conn.execute(text(f"ANALYZE {table}"))
    return {"ideas_in_project": ideas, "ideas_elsewhere": ideas // 5, "authors": 5000, "ranked_citizens": 20000,
            "seed_seconds": round(time.perf_counter() - started, 1)}


def discussion(api: Api, city: dict, project: str) -> tuple[str, list[dict]]:
    """One idea posted through the API, the newest of the project, with 30 comments and replies by
    five citizens; returns its id and the citizens."""
    people = [api.new_user(city, display_name=f"Neighbour {n}") for n in range(5)]
    r = api.post(f"/cities/{city['slug']}/projects/{project}/ideas", token=people[0]["token"], json={
        "title": "A shaded square with benches and water", "topics": ["green"], "locale": "en",
        "body": "Trees on the south side, benches facing the playground, and a drinking fountain."})
    assert r.status_code == 201, r.text
    idea = r.json()["id"]
    parents: list[str] = []
    for n in range(30):
        body = {"body": f"Comment {n}: yes, and the benches should stay in the shade in the afternoon."}
        if n % 3 == 2 and parents:
            body["parent_id"] = parents[-1]
        r = api.post(f"/cities/{city['slug']}/ideas/{idea}/comments", token=people[1 + n % 4]["token"], json=body)
        assert r.status_code == 201, r.text
        if "parent_id" not in body:
            parents.append(r.json()["id"])
    return idea, people


# -- the site ----------------------------------------------------------------------------------------
def start_web(gateway_url: str, log_dir: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "GATEWAY_URL": gateway_url, "WEB_HOST": "127.0.0.1", "WEB_PORT": str(port),
           "AGORA_ENV": "development", "PYTHONPATH": str(ROOT)}
    env.pop("DEV_MAIL_DIR", None)
    log = open(log_dir / "bench-pages-web.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "web"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "/healthz", timeout=2).status_code == 200:
                return proc, url
        except requests.RequestException:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.3)
    proc.terminate()
    raise RuntimeError(f"the web site did not start (see {log_dir / 'bench-pages-web.log'})")


def sign_in(web: str, slug: str, email: str) -> requests.Session:
    """A browser-like session signed in through the site's own log-in form."""
    session = requests.Session()
    form = session.get(f"{web}/{slug}/login", timeout=30)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    r = session.post(f"{web}/{slug}/login", data={"email": email, "password": PASSWORD, "csrf_token": token,
                                                   "next": f"/{slug}/"}, allow_redirects=False, timeout=30)
    assert r.status_code in (302, 303), (r.status_code, r.text[:300])
    return session


def weigh(session: requests.Session, base: str, html: str, cache: dict) -> dict:
    """The page's HTML and the stylesheets it links, in bytes (before compression)."""
    css = 0
    for href in re.findall(r'<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"', html) + \
            re.findall(r'<link[^>]+href="([^"]+)"[^>]+rel="stylesheet"', html):
        address = urljoin(base + "/", href)
        if address not in cache:
            cache[address] = len(session.get(address, timeout=30).content)
        css += cache[address]
    return {"html_bytes": len(html.encode()), "css_bytes": css}


def time_page(session: requests.Session, url: str, samples: int) -> tuple[dict, str]:
    for _ in range(5):
        session.get(url, timeout=30)
    times, html = [], ""
    for _ in range(samples):
        started = time.perf_counter()
        r = session.get(url, timeout=30)
        times.append((time.perf_counter() - started) * 1000)
        assert r.status_code == 200, (url, r.status_code, r.text[:300])
        html = r.text
    return loadgen.percentiles(times), html


# -- the baseline: the same data from the gateway, asked as the page asks ----------------------------------
def plans(slug: str, project: str, idea: str, citizen: dict, newest: list[str], comments: list[str],
          popular_cursor: str | None) -> dict[str, dict]:
    """Each page: its address on the site, and the gateway calls behind it for an anonymous and for a
    signed-in visitor, in stages as web/routes/*.py make them (the calls of a stage go out together,
    a stage waits for the one before). The city itself is left out: the site keeps it for 30 s.
    `None`: the page is not for that visitor (the form sends an anonymous visitor to log in)."""
    api = f"/api/v1/cities/{slug}"
    listing = f"{api}/projects/{project}/ideas?limit={PAGE_SIZE}"
    own_votes = [f"{api}/ideas/{i}/vote" for i in newest]

    def project_page(query: str) -> tuple[list, list]:
        stages = [[f"{api}/projects/{project}"], [listing + query]]
        return stages, stages + [own_votes]

    home = [[f"{api}/projects?status=active&limit=100", f"{api}/leaderboard?period=all&limit={LEADERS}"]]
    idea_first = [f"{api}/ideas/{idea}", f"{api}/ideas/{idea}/comments?limit={COMMENTS_PAGE}"]
    board = f"{api}/leaderboard?period=all&limit={BOARD_PAGE}"
    pages = {
        "home": (f"/{slug}/", home, home),
        "project, newest first": (f"/{slug}/projects/{project}", *project_page("&sort=new")),
        "project, popular": (f"/{slug}/projects/{project}?sort=popular", *project_page("&sort=popular")),
        "project, trending": (f"/{slug}/projects/{project}?sort=trending", *project_page("&sort=trending")),
        "project, controversial": (f"/{slug}/projects/{project}?sort=controversial",
                                   *project_page("&sort=controversial")),
        "project, popular, page 2": (f"/{slug}/projects/{project}?sort=popular&cursor={popular_cursor}",
                                     *project_page(f"&sort=popular&cursor={popular_cursor}")),
        "idea with 30 comments": (f"/{slug}/ideas/{idea}",
                                  [idea_first, [f"{api}/projects/{project}"]],
                                  [idea_first + [f"{api}/ideas/{idea}/vote"],
                                   [f"{api}/projects/{project}"] + [f"{api}/comments/{c}/vote" for c in comments]]),
        "post an idea (form)": (f"/{slug}/projects/{project}/ideas/new", None, [[f"{api}/projects/{project}"]]),
        "leaderboard": (f"/{slug}/leaderboard", [[board]], [[board, f"{api}/users/{citizen['id']}/score?period=all"]]),
    }
    return {name: {"path": path, "anonymous": anonymous, "signed in": signed}
            for name, (path, anonymous, signed) in pages.items()}


async def baseline(gateway: str, stages: list[list[str]], token: str | None, samples: int) -> dict:
    """The gateway's time for a page's calls, stage after stage, each stage's calls together."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    limits = httpx.Limits(max_connections=50, max_keepalive_connections=50)
    async with httpx.AsyncClient(base_url=gateway, headers=headers, limits=limits, timeout=30) as client:
        async def once() -> float:
            started = time.perf_counter()
            for stage in stages:
                answers = await asyncio.gather(*(client.get(p) for p in stage))
                for a in answers:
                    assert a.status_code == 200, (str(a.request.url), a.status_code, a.text[:200])
            return (time.perf_counter() - started) * 1000
        for _ in range(5):
            await once()
        times = [await once() for _ in range(samples)]
        # each distinct call alone, to name the slow one
        alone = {}
        for path in dict.fromkeys(p for stage in stages for p in stage):
            took = []
            for _ in range(max(10, samples // 5)):
                started = time.perf_counter()
                await client.get(path)
                took.append((time.perf_counter() - started) * 1000)
            alone[shape(path)] = max(alone.get(shape(path), 0), loadgen.percentiles(took)["p50_ms"])
    slowest = max(alone, key=alone.get)
    return {**loadgen.percentiles(times), "calls": sum(len(s) for s in stages), "stages": len(stages),
            "calls_alone_p50_ms": alone, "slowest_call": slowest, "slowest_call_p50_ms": alone[slowest]}


def shape(path: str) -> str:
    """A call's path with its ids, slug and cursor as placeholders: `GET /projects/{id}/ideas?sort=new`."""
    path = re.sub(r"^/api/v1/cities/[^/]+", "", path)
    path = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "{id}", path)
    path = re.sub(r"cursor=[^&]+", "cursor=…", path)
    return "GET " + path


# -- the report ---------------------------------------------------------------------------------------
def table(result: dict) -> str:
    s = result["setup"]
    lines = [
        f"### Web pages ({result['machine']['cpus']} cores; {s['ideas_in_project']:,} ideas in the project, "
        f"{s['ideas_elsewhere']:,} elsewhere, {s['ranked_citizens']:,} ranked citizens; {s['samples']} requests "
        f"per page one at a time)",
        "",
        "| page | visitor | p50 ms | p95 ms | gateway p50 ms | gateway p95 ms | calls | page / gateway (p50) | "
        "slowest call alone (p50 ms) | HTML KB | CSS KB | HTML+CSS KB | targets |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---|",
    ]
    for row in result["pages"]:
        kb = (row["html_bytes"] + row["css_bytes"]) / 1024
        ok = row["page"]["p95_ms"] <= TARGET_P95_MS and kb < TARGET_KB
        lines.append(
            f"| {row['name']} | {row['visitor']} | {row['page']['p50_ms']:.0f} | {row['page']['p95_ms']:.0f} | "
            f"{row['baseline']['p50_ms']:.0f} | {row['baseline']['p95_ms']:.0f} | {row['baseline']['calls']} | "
            f"{row['ratio_p50']:.2f} | `{row['baseline']['slowest_call']}` ({row['baseline']['slowest_call_p50_ms']:.0f}) | "
            f"{row['html_bytes'] / 1024:.1f} | {row['css_bytes'] / 1024:.1f} | {kb:.1f} | "
            f"{'met' if ok else 'missed'} |")
    lines += ["", f"Targets: p95 ≤ {TARGET_P95_MS} ms per page, HTML + CSS < {TARGET_KB} KB. Measured "
              f"{result['measured_at']}, commit {result['commit']}.", ""]
    return "\n".join(lines)


def write_readme(result: dict) -> None:
    readme = README.read_text()
    block = f"{START}\n{table(result)}{END}"
    if START in readme and END in readme:
        head, rest = readme.split(START, 1)
        readme = head + block + rest.split(END, 1)[1]
    else:
        readme = readme.rstrip("\n") + "\n\n" + block + "\n"
    README.write_text(readme)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ideas", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args()

    started = time.monotonic()
    scratch = Scratch(SERVICES, prefix="agora_bench")
    procs: list[Proc] = []
    web = None
    log_dir = Path(os.environ.get("BENCH_LOG_DIR", "/tmp"))
    env = {"LOG_LEVEL": "WARNING", "MAX_WORKERS": "32"}
    try:
        for name, modules in (("accounts-ideas", service_modules("accounts", "ideas")),
                              ("voting", service_modules("voting")), ("gamification", service_modules("gamification"))):
            procs.append(Proc(scratch, modules, name=name, log_dir=log_dir, extra_env=env).start())
        procs.append(Proc(scratch, ["gateway.service"], name="gateway", log_dir=log_dir,
                          extra_env={**env, "MAX_WORKERS": "64"}).start())
        gateway = procs[-1].url
        api = Api(gateway)
        city = api.new_city(locales=("en", "nl", "fr"))
        slug = city["slug"]
        r = api.post(f"/cities/{slug}/projects", token=city["admin_token"], json={
            "title": {"en": "Ideas for the city", "nl": "Ideeën voor de stad", "fr": "Des idées pour la ville"},
            "description": {"en": "Tell us what to change."}, "method": "ideation", "status": "active",
            "topics": TOPICS})
        assert r.status_code == 201, r.text
        project = r.json()["id"]
        citizen = api.new_user(city, display_name="Bench Citizen", birth_year=1980, gender="female", district="Noord")
        email = api.get(f"/cities/{slug}/users/me", token=citizen["token"]).json()["email"]
        print("seeding", flush=True)
        seeded = seed(scratch, city["id"], project, citizen["id"], args.ideas)
        idea, _people = discussion(api, city, project)
        print(f"seeded in {seeded['seed_seconds']} s", flush=True)

        web, web_url = start_web(gateway, log_dir)
        anonymous = requests.Session()
        signed_in = sign_in(web_url, slug, email)
        newest = [i["id"] for i in api.get(f"/cities/{slug}/projects/{project}/ideas?sort=new&limit={PAGE_SIZE}").json()["items"]]
        comments = [c["id"] for c in api.get(f"/cities/{slug}/ideas/{idea}/comments?limit={COMMENTS_PAGE}").json()["items"]]
        first = api.get(f"/cities/{slug}/projects/{project}/ideas?sort=popular&limit={PAGE_SIZE}").json()
        page_plans = plans(slug, project, idea, citizen, newest, comments, first["next_cursor"])

        rows, css_cache = [], {}
        for name, plan in page_plans.items():
            for visitor, session, token in (("anonymous", anonymous, None), ("signed in", signed_in, citizen["token"])):
                if plan[visitor] is None:
                    continue  # the form sends an anonymous visitor to the log-in page
                page, html = time_page(session, web_url + plan["path"], args.samples)
                base = asyncio.run(baseline(gateway, plan[visitor], token, args.samples))
                weight = weigh(session, web_url, html, css_cache)
                row = {"name": name, "visitor": visitor, "path": plan["path"], "page": page, "baseline": base,
                       "ratio_p50": round(page["p50_ms"] / base["p50_ms"], 2),
                       "ratio_p95": round(page["p95_ms"] / base["p95_ms"], 2),
                       "site_share_p50_ms": round(page["p50_ms"] - base["p50_ms"], 1), **weight}
                rows.append(row)
                print(f"{name} ({visitor}): p50 {page['p50_ms']:.0f} ms, p95 {page['p95_ms']:.0f} ms; gateway "
                      f"p50 {base['p50_ms']:.0f} ms, p95 {base['p95_ms']:.0f} ms ({base['calls']} calls); "
                      f"HTML {weight['html_bytes'] / 1024:.1f} KB + CSS {weight['css_bytes'] / 1024:.1f} KB", flush=True)

        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True).stdout.strip()
        result = {
            "benchmark": "pages",
            "machine": {"cpus": os.cpu_count(), "python": host.python_version(), "platform": host.platform(),
                        "load_average": os.getloadavg()},
            "setup": {**seeded, "samples": args.samples, "web_processes": 1, "gateway_processes": 1},
            "targets": {"p95_ms": TARGET_P95_MS, "html_css_kb": TARGET_KB},
            "pages": rows,
            "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "commit": commit,
            "wall_seconds": round(time.monotonic() - started, 1),
        }
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
        if Path(args.out).resolve() == OUT.resolve():  # a trial run elsewhere leaves the README alone
            write_readme(result)
        return 0
    finally:
        if web is not None:
            web.terminate()
            try:
                web.wait(10)
            except subprocess.TimeoutExpired:
                web.kill()
        for p in reversed(procs):
            p.stop()
        scratch.close()


if __name__ == "__main__":
    sys.exit(main())
