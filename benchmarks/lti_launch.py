"""LTI launch cost and exam-day burst, against a real daphne and the project's test LMS, on loopback only.

    .venv/bin/python -m benchmarks.lti_launch                      # SQLite, 50 timed launches, 300 in a burst
    .venv/bin/python -m benchmarks.lti_launch --database-url postgres://postgres@127.0.0.1:5432/bench_lti

It starts daphne (production settings: DEBUG off) on a fresh database, registers the test platform
(harness/lti_platform.py) with `manage.py lti_register`, and sets up a course and exam through an
instructor's launch and the REST API. Then:

1. Cost: N learners launch one after another; each launch is the OIDC login (GET, answered with the
   redirect to the platform) plus the launch (POST of the signed id_token, answered with the exam
   page). The platform's own step (signing the id_token) runs in this process and is not counted.
   The exam page itself is timed alone (GET of the same exam page's demo form, no launch), so
   "beyond the page" = login + launch - page. Medians and p90 in milliseconds.
2. Burst: --burst learners (default 300) launch from this one address with --concurrency parallel
   browsers, all within --burst-window seconds (paced), each a new account. Every one must land on
   the exam page (200 with its #exampulse-launch tokens); the run prints how many did and how long
   the whole burst took.
Bounded: --launches, --burst and a hard --deadline.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.lti_platform import INSTRUCTOR, LEARNER, LtiPlatform, Person  # noqa: E402
from harness.servers import Server, free_port, manage  # noqa: E402

QUESTIONS = [
    {"id": f"q{i}", "text": f"Question {i}?", "type": "mcq", "options": ["a", "b", "c"], "answer": "b", "points": 1}
    for i in range(1, 11)
]
LAUNCH_JSON = re.compile(r'<script id="exampulse-launch" type="application/json">(.*?)</script>')


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Lms:
    """The test platform plus the browser's part of a launch, over real HTTP to the tool."""

    def __init__(self, platform: LtiPlatform, login_url: str, launch_url: str) -> None:
        self.platform = platform
        self.login_url = login_url
        self.launch_url = launch_url

    def launch(self, person: Person, custom: dict[str, str] | None = None) -> tuple[float, float, requests.Response]:
        """(login seconds, launch seconds, the launch's response), each with a fresh cookie-less browser."""
        hint = self.platform.prepare_launch(person, custom=custom)
        with requests.Session() as browser:
            started = time.perf_counter()
            login = browser.get(
                self.login_url,
                params=self.platform.login_params(hint, target_link_uri=self.launch_url),
                allow_redirects=False,
                timeout=30,
            )
            login_s = time.perf_counter() - started
            if login.status_code != 302:
                raise RuntimeError(f"login answered {login.status_code}: {login.text[:300]}")
            params = {k: v[0] for k, v in parse_qs(urlsplit(login.headers["Location"]).query).items()}
            redirect_uri, token, state = self.platform.authorize(params)  # the platform's side, not timed
            started = time.perf_counter()
            response = browser.post(redirect_uri, data={"id_token": token, "state": state}, timeout=30)
            return login_s, time.perf_counter() - started, response


def tokens_of(response: requests.Response) -> dict:
    match = LAUNCH_JSON.search(response.text)
    if response.status_code != 200 or not match:
        raise RuntimeError(f"launch answered {response.status_code}: {response.text[:300]}")
    return json.loads(match.group(1))


def setup_exam(server: Server, lms: Lms) -> tuple[int, int]:
    """An instructor's launch makes the course; their token makes the bound exam and an open twin
    (the same questions, no course) whose demo page is the 'exam page itself' baseline."""
    teacher = Person("bench-instructor", "Bench Instructor", "bench.instructor@lms.example.edu", [INSTRUCTOR])
    _, _, response = lms.launch(teacher)
    launch = tokens_of(response)
    headers = {"Authorization": f"Bearer {launch['access']}"}
    exam = {"name": "Benchmark exam", "duration_minutes": 60, "status": "active", "questions": QUESTIONS}
    made = requests.post(
        f"{server.url}/api/exams/", json={**exam, "course": launch["course_id"]}, headers=headers, timeout=30
    )
    twin = requests.post(f"{server.url}/api/exams/", json=exam, headers=headers, timeout=30)
    made.raise_for_status()
    twin.raise_for_status()
    return made.json()["data"]["id"], twin.json()["data"]["id"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--launches", type=int, default=50, help="timed sequential launches (new learners)")
    parser.add_argument("--burst", type=int, default=300, help="learners launching in the burst (0: skip)")
    parser.add_argument("--burst-window", type=float, default=60.0, help="seconds the burst is spread over")
    parser.add_argument("--concurrency", type=int, default=16, help="parallel browsers in the burst")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--deadline", type=float, default=600.0, help="hard limit for the whole run, seconds")
    args = parser.parse_args(argv)
    if not 1 <= args.launches <= 1000 or not 0 <= args.burst <= 2000:
        parser.error("--launches 1..1000, --burst 0..2000")
    stop_at = time.monotonic() + args.deadline

    port = free_port()
    public = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        database_url = args.database_url or f"sqlite:///{tmp}/lti_bench.sqlite3"
        env = {
            "DEBUG": "false",
            "SECRET_KEY": "lti-bench-" + "x" * 40,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",
            "PUBLIC_URL": public,
            "EXAMPULSE_DEMO": "true",
            "MODEL_DIR": f"{tmp}/models",
            "STATIC_ROOT": f"{tmp}/static",
        }
        manage("migrate", "--noinput", database_url=database_url, extra_env=env)
        # DEBUG off serves hashed static files from the manifest, as in production.
        manage("collectstatic", "--noinput", database_url=database_url, extra_env=env)
        with LtiPlatform() as platform, Server(database_url=database_url, extra_env=env, port=port) as server:
            platform.launch_url = f"{public}/lti/launch/"
            out = manage("lti_register", *platform.register_args(), database_url=database_url, extra_env=env)
            printed = dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)
            lms = Lms(platform, printed["login_url"], printed["launch_url"])
            exam_id, twin_id = setup_exam(server, lms)
            custom = {"exam_id": str(exam_id)}
            print(f"daphne {server.url} ({'PostgreSQL' if 'postgres' in database_url else 'SQLite'}), exam {exam_id}")

            # Warm-up: the first launch fetches and caches the platform's JWKS; first page renders compile templates.
            for i in range(3):
                lms.launch(Person(f"warm-{i}", f"Warm {i}", f"warm{i}@lms.example.edu", [LEARNER]), custom)
                requests.get(f"{server.url}/demo/exam/{twin_id}/", timeout=30)

            logins, launches, pages = [], [], []
            for i in range(args.launches):
                if time.monotonic() > stop_at:
                    break
                person = Person(f"seq-{i}", f"Learner {i}", f"seq{i}@lms.example.edu", [LEARNER])
                login_s, launch_s, response = lms.launch(person, custom)
                tokens_of(response)
                logins.append(login_s)
                launches.append(launch_s)
                started = time.perf_counter()
                requests.get(f"{server.url}/demo/exam/{twin_id}/", timeout=30).raise_for_status()
                pages.append(time.perf_counter() - started)
            beyond = [lo + la - pa for lo, la, pa in zip(logins, launches, pages, strict=True)]
            again = []
            for i in range(min(20, args.launches)):  # returning learners: the account exists already
                person = Person(f"seq-{i}", f"Learner {i}", f"seq{i}@lms.example.edu", [LEARNER])
                login_s, launch_s, response = lms.launch(person, custom)
                tokens_of(response)
                again.append(login_s + launch_s)
            print(f"\nsequential launches: {len(launches)} first launches, {len(again)} returning (ms: median, p90)")
            for name, values in [
                ("login (GET, redirect to the LMS)", logins),
                ("launch (POST id_token -> exam page)", launches),
                ("exam page alone (GET)", pages),
                ("login + launch - page = LTI cost", beyond),
                ("returning learner, login + launch", again),
            ]:
                print(f"  {name:38s} {ms(statistics.median(values)):8.1f} {ms(pct(values, 0.9)):8.1f}")

            if args.burst:
                results: list[tuple[bool, float, str]] = []
                lock = threading.Lock()
                interval = args.burst_window / args.burst
                started = time.monotonic()

                def one(i: int) -> None:
                    # Paced arrivals: learner i starts at i x interval, as a lab clicking within the window.
                    time.sleep(max(0.0, started + i * interval - time.monotonic()))
                    person = Person(f"burst-{i}", f"Burst {i}", f"burst{i}@lms.example.edu", [LEARNER])
                    try:
                        login_s, launch_s, response = lms.launch(person, custom)
                        tokens_of(response)
                        outcome = (True, login_s + launch_s, "")
                    except Exception as exc:
                        outcome = (False, 0.0, str(exc)[:200])
                    with lock:
                        results.append(outcome)

                with concurrent.futures.ThreadPoolExecutor(args.concurrency) as pool:
                    list(pool.map(one, range(args.burst)))
                elapsed = time.monotonic() - started
                ok = [r for r in results if r[0]]
                failed = [r for r in results if not r[0]]
                took = [r[1] for r in ok]
                landed = f"{len(ok)}/{args.burst} learners landed on the exam page"
                print(f"\nburst: {landed} from one address in {elapsed:.1f} s")
                if took:
                    print(f"  login + launch under the burst (ms): median {ms(statistics.median(took)):.1f}, "
                          f"p90 {ms(pct(took, 0.9)):.1f}, max {ms(max(took)):.1f}")  # fmt: skip
                for _, _, why in failed[:5]:
                    print(f"  failed: {why}")
                if failed:
                    return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
