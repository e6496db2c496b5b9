"""A synthetic population with ground truth, deterministic by seed, as NDJSON for `idgraph import`.

    .venv/bin/python -m bench.population --persons 1000 --seed 7 --out /tmp/pop
    # writes /tmp/pop/events.ndjson and /tmp/pop/truth.json

Persons: each has 1-4 devices (anonymous ids), 1-3 emails, a phone (50%), a customer id (60%; it is their
Segment `userId` too). Each person has 3-8 sessions spread over 8 weeks, each on one of their devices; a
device speaks one dialect (the site's Tracardi or Unomi tracker, the app's Segment SDK, the shop's Loymax web
events, the Converge pixel), and about half of the sessions log in (an identify with email / phone / customer
id, depending on the dialect). Orders go out as Converge server postbacks with the email and a checkout token.

Noise, as in real life:
- shared devices: households (2-3 persons) sharing a family tablet, and shop kiosks each used by ~10 persons
  who log in on it;
- junk ids: trackers that send "undefined", "null", "0" as anonymous id, email or customer id;
- near-identical emails: distinct persons whose emails differ by one letter (john.smith@x vs john.smyth@x);
- re-used checkout tokens: a token that shows up on the orders of two different persons;
- a few repeated lines (client retries): duplicates.

Ground truth (`truth.json`): `aliases` maps every URN the data carries to its true person, or null when no
single person owns it (shared devices, junk values, re-used tokens); `noise` lists those URNs by kind;
`line_person` names the person behind each line (what bench/quality.py needs to know which of a person's
aliases their own evidence can link at all).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench._common import arguments

FIRST = [
    "john", "anna", "maria", "peter", "olga", "ivan", "kate", "li", "sara", "tom", "nina", "omar", "eva",
    "paul", "yuki", "fatima", "lars", "ana", "mark", "zoe", "igor", "lena", "raj", "mia", "sam", "dina",
]  # fmt: skip
LAST = [
    "smith", "ivanova", "garcia", "muller", "rossi", "kim", "novak", "silva", "jensen", "khan", "dubois",
    "tanaka", "nowak", "lopez", "petrov", "brown", "martin", "costa", "berg", "young", "white", "sato",
]  # fmt: skip
DOMAINS = ["example.com", "mail.example", "inbox.example", "post.example"]
JUNK = ["undefined", "null", "0"]
PAGES = ["/", "/catalog", "/product/kettle", "/product/lamp", "/cart", "/help", "/blog/tea"]
START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
# Which tracker a device runs (weights): site trackers, the app's Segment SDK, the shop, the Converge pixel.
CHANNELS = [("tracardi", 3), ("esp", 2), ("segment", 3), ("loymax", 2), ("converge", 2)]


@dataclass
class Person:
    id: str
    emails: list[str]
    devices: list[tuple[str, str]]  # (anonymous id, dialect)
    phone: str | None
    customer_id: str | None
    orders: int = 0
    shared_devices: list[tuple[str, str]] = field(default_factory=list)


class Population:
    def __init__(self, persons: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.n = persons
        self.lines: list[tuple[str, dict[str, Any]]] = []  # (true person, line)
        self.owner: dict[str, set[str]] = {}  # urn -> persons it was used by
        self.noise: dict[str, list[str]] = {"shared_device": [], "kiosk": [], "junk": [], "reused_token": []}
        self.near_identical_pairs: list[tuple[str, str]] = []
        self._counter = 0
        self.persons: list[Person] = []

    # -- ids ------------------------------------------------------------------------------------------------
    def _hex(self, bits: int = 64) -> str:
        return f"{self.rng.getrandbits(bits):0{bits // 4}x}"

    def _next(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}-{self._counter}"

    def _use(self, urn: str, person: str) -> str:
        self.owner.setdefault(urn, set()).add(person)
        return urn

    # -- persons --------------------------------------------------------------------------------------------
    def make_persons(self) -> None:
        rng = self.rng
        taken: set[str] = set()
        for i in range(self.n):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            emails = []
            for _ in range(rng.randint(1, 3)):
                while True:
                    email = f"{first}.{last}{rng.randint(1, 9999)}@{rng.choice(DOMAINS)}"
                    if email not in taken:
                        break
                taken.add(email)
                emails.append(email)
            devices = [(self._hex(), self._channel()) for _ in range(rng.randint(1, 4))]
            phone = f"+1555{rng.randint(0, 9_999_999):07d}" if rng.random() < 0.5 else None
            customer = f"C{100000 + i}" if rng.random() < 0.6 else None
            self.persons.append(Person(f"p{i}", emails, devices, phone, customer))
        # Near-identical emails: for 3% of persons, another person's email differs by one letter.
        for _ in range(max(1, self.n * 3 // 100)):
            a, b = rng.sample(self.persons, 2)
            base = a.emails[0]
            local, _, domain = base.partition("@")
            for _attempt in range(20):
                pos = rng.randrange(len(local))
                if local[pos].isalpha():
                    twin = local[:pos] + rng.choice("aeiouy") + local[pos + 1 :] + "@" + domain
                    if twin not in taken:
                        taken.add(twin)
                        b.emails.append(twin)
                        self.near_identical_pairs.append((base, twin))
                        break
        # Households: 6% of persons, in groups of 2-3, share a family tablet.
        pool = rng.sample(self.persons, max(2, self.n * 6 // 100))
        while len(pool) >= 2:
            size = min(len(pool), rng.choice((2, 3)))
            group, pool = pool[:size], pool[size:]
            tablet = (self._hex(), rng.choice(("tracardi", "segment", "converge")))
            self.noise["shared_device"].append(f"urn:anonymous_id:{tablet[0]}")
            for person in group:
                person.shared_devices.append(tablet)

    def _channel(self) -> str:
        names = [c for c, _ in CHANNELS]
        return self.rng.choices(names, weights=[w for _, w in CHANNELS])[0]

    # -- sessions -------------------------------------------------------------------------------------------
    def make_events(self) -> None:
        rng = self.rng
        for person in self.persons:
            for _ in range(rng.randint(3, 8)):
                device = rng.choice(person.devices + person.shared_devices)
                when = START + timedelta(minutes=rng.randint(0, 8 * 7 * 24 * 60))
                self.session(person, device, when, login=rng.random() < 0.5)
            for _ in range(rng.choice((0, 0, 1, 1, 2))):
                self.order(person, START + timedelta(minutes=rng.randint(0, 8 * 7 * 24 * 60)))
        # Kiosks: one per 100 persons, each used by ~10 persons who log in on it.
        for _ in range(max(1, self.n // 100)):
            kiosk = (self._hex(), "tracardi")
            self.noise["kiosk"].append(f"urn:anonymous_id:{kiosk[0]}")
            for person in rng.sample(self.persons, min(10, self.n)):
                self.session(person, kiosk, START + timedelta(minutes=rng.randint(0, 8 * 7 * 24 * 60)), True)
        # Re-used checkout tokens: 1% of persons place an order with a token another person's order used.
        tokens = [(urn, next(iter(ps))) for urn, ps in self.owner.items() if urn.startswith("urn:checkout")]
        for _ in range(max(1, self.n // 100)):
            if not tokens:
                break
            urn, first_owner = rng.choice(tokens)
            other = rng.choice([p for p in self.persons if p.id != first_owner])
            self.order(other, START + timedelta(days=rng.randint(0, 55)), token=urn.rsplit(":", 1)[1])
            self.noise["reused_token"].append(urn)
        # Client retries: 1% of lines sent twice.
        for line in rng.sample(self.lines, len(self.lines) // 100):
            self.lines.append(line)
        rng.shuffle(self.lines)  # arrival order is not person order (sessions interleave)

    def _junk(self) -> str | None:
        """A junk value a broken tracker sends instead of an id, 4% of the time."""
        return self.rng.choice(JUNK) if self.rng.random() < 0.04 else None

    def session(self, person: Person, device: tuple[str, str], when: datetime, login: bool) -> None:
        rng = self.rng
        device_id, dialect = device
        sid = "s-" + self._hex()
        pid = person.id
        device_urn = self._use(f"urn:anonymous_id:{device_id}", pid)
        email = rng.choice(person.emails)
        pages = [rng.choice(PAGES) for _ in range(rng.randint(1, 4))]
        times = [(when + timedelta(seconds=30 * i)).isoformat() for i in range(len(pages) + 1)]
        junk = self._junk()
        if junk is not None:  # whichever id the broken tracker fills with it
            self.noise["junk"] += [f"urn:{t}:{junk}" for t in ("anonymous_id", "email", "customer_id")]
        if dialect == "tracardi":
            events: list[dict[str, Any]] = [
                {"type": "page-view", "id": self._next("t"), "time": t, "properties": {"url": url}}
                for url, t in zip(pages, times, strict=False)
            ]
            if login:
                props: dict[str, Any] = {"email": junk or (self._use(f"urn:email:{email}", pid) and email)}
                if person.phone:
                    self._use(f"urn:phone:{person.phone}", pid)
                    props["phone"] = person.phone
                if person.customer_id:
                    self._use(f"urn:customer_id:{person.customer_id}", pid)
                    props["customer_id"] = person.customer_id
                events.append(
                    {"type": "identify", "id": self._next("t"), "time": times[-1], "properties": props}
                )
            aliases = [device_urn] if junk is None else [device_urn, f"urn:anonymous_id:{junk}"]
            self.lines.append((pid, {"session": {"id": sid}, "events": events, "aliases": aliases}))
        elif dialect == "esp":
            esp_events: list[dict[str, Any]] = [
                {"eventType": "view", "itemId": self._next("u"), "timeStamp": t, "properties": {"path": url}}
                for url, t in zip(pages, times, strict=False)
            ]
            if login:
                target = {"email": junk or (self._use(f"urn:email:{email}", pid) and email), "firstName": "x"}
                esp_events.append(
                    {
                        "eventType": "identify",
                        "itemId": self._next("u"),
                        "timeStamp": times[-1],
                        "target": {"itemType": "analyticsUser", "itemId": pid, "properties": target},
                    }
                )
            self.lines.append((pid, {"sessionId": sid, "events": esp_events}))
        elif dialect == "loymax":
            customer = person.customer_id if login else None
            if customer:
                self._use(f"urn:customer_id:{customer}", pid)
            for i, (url, t) in enumerate(zip(pages, times, strict=False)):
                line: dict[str, Any] = {
                    "session_id": sid,
                    "event_type": "product_view",
                    "event_id": self._next("l"),
                    "timestamp": t,
                    "context": {"id": url},
                }
                if i == len(pages) - 1 and (customer or junk):
                    line["customer_id"] = customer or junk
                self.lines.append((pid, line))
        elif dialect == "segment":
            user = person.customer_id if login else None
            if user:
                self._use(f"urn:user_id:{user}", pid)
            anon = junk or device_id
            for url, t in zip(pages, times, strict=False):
                msg: dict[str, Any] = {
                    "type": "page",
                    "anonymousId": anon,
                    "name": url,
                    "messageId": self._next("m"),
                    "timestamp": t,
                }
                if user:
                    msg["userId"] = user
                self.lines.append((pid, msg))
            if login:
                self._use(f"urn:email:{email}", pid)
                identify: dict[str, Any] = {
                    "type": "identify",
                    "anonymousId": device_id,
                    "traits": {"email": email},
                    "messageId": self._next("m"),
                    "timestamp": times[-1],
                }
                if user:
                    identify["userId"] = user
                if person.phone:
                    self._use(f"urn:phone:{person.phone}", pid)
                    identify["traits"]["phone"] = person.phone
                self.lines.append((pid, identify))
        else:  # converge pixel, browser form
            for url, t in zip(pages, times, strict=False):
                self.lines.append(
                    (
                        pid,
                        {
                            "method": "page",
                            "eventID": self._next("c"),
                            "sessionId": sid,
                            "timestamp": t,
                            "properties": {"url": url},
                            "aliases": [device_urn],
                        },
                    )
                )
            if login:
                self.lines.append(
                    (
                        pid,
                        {
                            "method": "track",
                            "eventName": "Logged In",
                            "eventID": self._next("c"),
                            "sessionId": sid,
                            "timestamp": times[-1],
                            "aliases": [device_urn, self._use(f"urn:email:{email}", pid)],
                        },
                    )
                )

    def order(self, person: Person, when: datetime, token: str | None = None) -> None:
        email = self.rng.choice(person.emails)
        token = token or self._hex(48)
        aliases = [
            self._use(f"urn:email:{email}", person.id),
            self._use(f"urn:checkout_token:{token}", person.id),
        ]
        self.lines.append(
            (
                person.id,
                {
                    "event_name": "Placed Order",
                    "event_id": self._next("o"),
                    "timestamp": when.isoformat(),
                    "properties": {"value": round(self.rng.uniform(5, 300), 2)},
                    "profile_properties": {"$email": email},
                    "aliases": aliases,
                },
            )
        )

    def truth(self) -> dict[str, Any]:
        unowned = {u for kind in ("shared_device", "kiosk", "junk", "reused_token") for u in self.noise[kind]}
        aliases = {
            urn: (next(iter(ps)) if len(ps) == 1 and urn not in unowned else None)
            for urn, ps in sorted(self.owner.items())
        }
        for urn in unowned:
            aliases.setdefault(urn, None)
        return {
            "persons": self.n,
            "lines": len(self.lines),
            # The person behind each line (line n is line_person[n - 1]): what the evidence of one person is.
            "line_person": [person for person, _ in self.lines],
            "aliases": aliases,
            "noise": {k: sorted(set(v)) for k, v in self.noise.items()},
            "near_identical_emails": self.near_identical_pairs,
            "shared_by": {u: sorted(ps) for u, ps in self.owner.items() if len(ps) > 1},
        }


def generate(persons: int, seed: int, out: Path) -> dict[str, Any]:
    pop = Population(persons, seed)
    pop.make_persons()
    pop.make_events()
    out.mkdir(parents=True, exist_ok=True)
    with (out / "events.ndjson").open("w") as f:
        for _, line in pop.lines:
            f.write(json.dumps(line, separators=(",", ":")) + "\n")
    truth = pop.truth()
    (out / "truth.json").write_text(json.dumps(truth, indent=1))
    return truth


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--persons", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path("bench/results/population"))
    args = parser.parse_args()
    truth = generate(args.persons, args.seed, args.out)
    owned = sum(1 for v in truth["aliases"].values() if v)
    print(f"{args.persons} persons, {truth['lines']} lines, {len(truth['aliases'])} aliases ({owned} owned)")


if __name__ == "__main__":
    main()
