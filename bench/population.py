"""A synthetic population with ground truth, deterministic by seed, as NDJSON for `idgraph import`.

    .venv/bin/python -m bench.population --persons 1000 --seed 7 --out /tmp/pop
    # writes /tmp/pop/events.ndjson and /tmp/pop/truth.json

Persons: each has 1-4 devices of their own, a primary email (the one their account and their orders use), a
phone (50%), a login id (60%: a customer id, which is their Segment `userId` too). Each person has 3-8
sessions spread over 8 weeks, each on one of their devices; a device speaks one dialect (the site's Tracardi
or Unomi tracker, the app's Segment SDK, the shop's Loymax web events, the Converge pixel), and about half of
the sessions log in with what that channel sends: Tracardi the email with the phone and the customer id of
the account, Segment an identify with the email and phone traits and the `userId`, Loymax the customer id,
Unomi the email, the Converge pixel a "Logged In" with the device id and the email. Orders go out as Converge
server postbacks with the primary email and a checkout token.

Second emails (25% of persons), each person one way:
- with their login id: a person with a login id changed or added an address on the account, and some of
  their logins (Tracardi, Segment) send the second email with the login id;
- alone on their own device: a person signs up for the newsletter or checks out as a guest with another
  address, on a device they also use with their account, and nothing else goes with it (a Tracardi identify
  or a Segment identify with only the email, a Converge "Logged In" with the device id and the email).
  Identity rules v2 do not join that email to the person (a weak device id never joins two strong ids);
  it is a miss by design;
- at checkout only: a guest order with the second email (persons without a login id or a device that
  sends an id), which no evidence of theirs connects to the rest.

Noise, as in real life:
- shared devices: households (2-3 persons) sharing a family tablet, each member logging in on the tablet and
  on a device of their own; shop kiosks each used by ~10 persons who log in on it (and elsewhere on their
  own devices);
- junk ids: trackers that send "undefined", "null", "0" as anonymous id, email or customer id;
- near-identical emails: distinct persons whose primary emails differ by one letter (john.smith@x vs
  john.smyth@x);
- re-used checkout tokens: a token that shows up on the orders of two different persons;
- a few repeated lines (client retries): duplicates.
Lines arrive shuffled (sessions interleave; a session's lines are not in order).

Ground truth (`truth.json`), written from what the generator put in each line (never from idgraph's code):
- `aliases` maps every URN the data carries to its true person, or null when no single person owns it
  (shared devices, kiosks, junk values, re-used tokens); `noise` lists those URNs by kind;
- `people`: for each person their `kinds` (one_email, second_email_with_login_id,
  second_email_alone_on_own_device, second_email_at_checkout, household_tablet, kiosk,
  near_identical_email), their `emails`, and their `evidence`: one entry per session, Segment session
  (the messages of one visit, which all carry the device's anonymous id or the user id) and order, with the
  URNs it carries (`aliases`), where it happened (`device`: own, household, kiosk, or none for an order) and
  what kind of login it was (`login`: null, primary, second_with_login_id, second_alone, order,
  second_at_checkout). What a person's own evidence connects is what bench/quality.py counts as recall;
- `line_person`: the person behind each line (line n is `line_person[n - 1]`).
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
WEEKS = 8
# Which tracker a device runs (weights): site trackers, the app's Segment SDK, the shop, the Converge pixel.
CHANNELS = [("tracardi", 3), ("esp", 2), ("segment", 3), ("loymax", 2), ("converge", 2)]
# Trackers that send a device id with every session (Unomi and Loymax sessions carry none).
DEVICE_ID_CHANNELS = ("tracardi", "segment", "converge")
# Trackers whose login sends the account's login id along with the email.
LOGIN_ID_CHANNELS = ("tracardi", "segment")
NOISE_KINDS = ("shared_device", "kiosk", "junk", "reused_token")

SECOND_EMAIL = 0.25  # persons with a second email
LOGIN = 0.5  # sessions that log in
SWITCH_TO_SECOND = 0.25  # logins of a "with login id" person that use the second email

Device = tuple[str, str]  # (anonymous id, dialect)


@dataclass
class Person:
    id: str
    email: str  # primary: the account's, used by logins and orders
    devices: list[Device]
    phone: str | None
    customer_id: str | None
    second_email: str | None = None
    second_use: str | None = None  # with_login_id, alone_on_own_device, at_checkout
    household: Device | None = None
    kinds: list[str] = field(default_factory=list)
    evidence: list[dict[str, Any]] = field(default_factory=list)


class Population:
    def __init__(self, persons: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.n = persons
        self.lines: list[tuple[str, dict[str, Any]]] = []  # (true person, line)
        self.owner: dict[str, set[str]] = {}  # urn -> persons whose lines carry it
        self.noise: dict[str, list[str]] = {kind: [] for kind in NOISE_KINDS}
        self.near_identical_pairs: list[tuple[str, str]] = []
        self._counter = 0
        self.persons: list[Person] = []

    # -- ids ------------------------------------------------------------------------------------------------
    def _hex(self, bits: int = 64) -> str:
        return f"{self.rng.getrandbits(bits):0{bits // 4}x}"

    def _next(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}-{self._counter}"

    def _when(self) -> datetime:
        return START + timedelta(minutes=self.rng.randint(0, WEEKS * 7 * 24 * 60))

    def _channel(self) -> str:
        names = [c for c, _ in CHANNELS]
        return self.rng.choices(names, weights=[w for _, w in CHANNELS])[0]

    def _email(self, first: str, last: str, taken: set[str]) -> str:
        while True:
            email = f"{first}.{last}{self.rng.randint(1, 9999)}@{self.rng.choice(DOMAINS)}"
            if email not in taken:
                taken.add(email)
                return email

    # -- persons --------------------------------------------------------------------------------------------
    def make_persons(self) -> None:
        rng = self.rng
        taken: set[str] = set()
        for i in range(self.n):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            email = self._email(first, last, taken)
            devices = [(self._hex(), self._channel()) for _ in range(rng.randint(1, 4))]
            phone = f"+1555{rng.randint(0, 9_999_999):07d}" if rng.random() < 0.5 else None
            customer = f"C{100000 + i}" if rng.random() < 0.6 else None
            person = Person(f"p{i}", email, devices, phone, customer)
            if rng.random() < SECOND_EMAIL:
                person.second_email = self._email(first, last, taken)
                person.second_use = self._second_use(person)
            person.kinds.append(
                "one_email" if person.second_email is None else f"second_email_{person.second_use}"
            )
            self.persons.append(person)
        # Near-identical emails: for 3% of persons, their primary email differs from another person's by one
        # letter (two people, two accounts; a typo-tolerant matcher would join them).
        for _ in range(max(1, self.n * 3 // 100)):
            a, b = rng.sample(self.persons, 2)
            if "near_identical_email" in a.kinds + b.kinds:
                continue
            local, _, domain = a.email.partition("@")
            for _attempt in range(20):
                pos = rng.randrange(len(local))
                if local[pos].isalpha():
                    twin = local[:pos] + rng.choice("aeiouy") + local[pos + 1 :] + "@" + domain
                    if twin not in taken:
                        taken.add(twin)
                        b.email = twin
                        a.kinds.append("near_identical_email")
                        b.kinds.append("near_identical_email")
                        self.near_identical_pairs.append((a.email, twin))
                        break
        # Households: 6% of persons, in groups of 2-3, share a family tablet.
        pool = rng.sample(self.persons, max(2, self.n * 6 // 100))
        while len(pool) >= 2:
            size = min(len(pool), rng.choice((2, 3)))
            group, pool = pool[:size], pool[size:]
            tablet = (self._hex(), rng.choice(("tracardi", "segment", "converge")))
            self.noise["shared_device"].append(f"urn:anonymous_id:{tablet[0]}")
            for person in group:
                person.household = tablet
                person.kinds.append("household_tablet")

    def _second_use(self, person: Person) -> str:
        """How a person uses their second email: with the login id on a device whose login sends it (half of
        those who have both), else alone on a device of their own that sends a device id (half of the rest),
        else at checkout only."""
        rng = self.rng
        if (
            person.customer_id
            and any(d in LOGIN_ID_CHANNELS for _, d in person.devices)
            and rng.random() < 0.5
        ):
            return "with_login_id"
        if any(d in DEVICE_ID_CHANNELS for _, d in person.devices) and rng.random() < 0.5:
            return "alone_on_own_device"
        return "at_checkout"

    # -- sessions -------------------------------------------------------------------------------------------
    def make_events(self) -> None:
        rng = self.rng
        for person in self.persons:
            choices = [(d, "own") for d in person.devices]
            if person.household:
                choices.append((person.household, "household"))
            plans: list[tuple[Device, str, str | None]] = []
            for _ in range(rng.randint(3, 8)):
                device, where = rng.choice(choices)
                plans.append((device, where, "primary" if rng.random() < LOGIN else None))
            if person.household:
                # A household member logs in on the tablet and on a device of their own.
                if not any(w == "household" and login for _, w, login in plans):
                    plans.append((person.household, "household", "primary"))
                if not any(w == "own" and login for _, w, login in plans):
                    plans.append((rng.choice(person.devices), "own", "primary"))
            if person.second_use == "with_login_id":
                with_id = [d for d in person.devices if d[1] in LOGIN_ID_CHANNELS]
                plans = [
                    (d, w, "second_with_login_id")
                    if login and w == "own" and d in with_id and rng.random() < SWITCH_TO_SECOND
                    else (d, w, login)
                    for d, w, login in plans
                ]
                if not any(login == "second_with_login_id" for _, _, login in plans):
                    plans.append((rng.choice(with_id), "own", "second_with_login_id"))
            elif person.second_use == "alone_on_own_device":
                with_device_id = [d for d in person.devices if d[1] in DEVICE_ID_CHANNELS]
                for _ in range(rng.choice((1, 1, 2))):
                    plans.append((rng.choice(with_device_id), "own", "second_alone"))
            for device, where, login in plans:
                self.session(person, device, where, self._when(), login)
            for _ in range(rng.choice((0, 0, 1, 1, 2))):
                self.order(person, self._when())
            if person.second_use == "at_checkout":
                self.order(person, self._when(), second=True)
        # Kiosks: one per 100 persons, each used by ~10 persons who log in on it.
        for _ in range(max(1, self.n // 100)):
            kiosk = (self._hex(), "tracardi")
            self.noise["kiosk"].append(f"urn:anonymous_id:{kiosk[0]}")
            for person in rng.sample(self.persons, min(10, self.n)):
                if "kiosk" not in person.kinds:
                    person.kinds.append("kiosk")
                self.session(person, kiosk, "kiosk", self._when(), "primary")
        # Re-used checkout tokens: 1% of persons place an order with a token another person's order used.
        tokens = sorted(
            (urn, next(iter(ps))) for urn, ps in self.owner.items() if urn.startswith("urn:checkout")
        )
        for _ in range(max(1, self.n // 100)):
            if not tokens:
                break
            urn, first_owner = rng.choice(tokens)
            other = rng.choice([p for p in self.persons if p.id != first_owner])
            self.order(other, self._when(), token=urn.rsplit(":", 1)[1])
            self.noise["reused_token"].append(urn)
        # Client retries: 1% of lines sent twice.
        for line in rng.sample(self.lines, len(self.lines) // 100):
            self.lines.append(line)
        rng.shuffle(self.lines)  # arrival order is not person order (sessions interleave)

    def _junk(self) -> str | None:
        """A junk value a broken tracker sends instead of an id, 4% of the time."""
        return self.rng.choice(JUNK) if self.rng.random() < 0.04 else None

    def _carry(self, person: Person, urns: list[str], device: str | None, login: str | None) -> None:
        """Record one unit of a person's evidence: the URNs their session (or order) carries."""
        for urn in urns:
            self.owner.setdefault(urn, set()).add(person.id)
        person.evidence.append({"aliases": sorted(set(urns)), "device": device, "login": login})

    def session(self, person: Person, device: Device, where: str, when: datetime, login: str | None) -> None:
        """One visit on `device`; `login`: None (anonymous), primary (the account's email and login id),
        second_with_login_id (the second email with the login id) or second_alone (the second email only)."""
        rng = self.rng
        device_id, dialect = device
        sid = "s-" + self._hex()
        pid = person.id
        device_urn = f"urn:anonymous_id:{device_id}"
        email = person.second_email if login in ("second_alone", "second_with_login_id") else person.email
        assert email is not None
        alone = login == "second_alone"  # nothing of the account goes with it
        phone = None if alone else person.phone
        customer = None if alone or not login else person.customer_id
        pages = [rng.choice(PAGES) for _ in range(rng.randint(1, 4))]
        times = [(when + timedelta(seconds=30 * i)).isoformat() for i in range(len(pages) + 1)]
        junk = self._junk()
        if junk is not None:  # whichever id the broken tracker fills with it
            self.noise["junk"] += [f"urn:{t}:{junk}" for t in ("anonymous_id", "email", "customer_id")]
        carried: list[str] = []
        if dialect == "tracardi":
            events: list[dict[str, Any]] = [
                {"type": "page-view", "id": self._next("t"), "time": t, "properties": {"url": url}}
                for url, t in zip(pages, times, strict=False)
            ]
            if login:
                props: dict[str, Any] = {"email": junk or email}
                carried.append(f"urn:email:{junk or email}")
                if phone:
                    props["phone"] = phone
                    carried.append(f"urn:phone:{phone}")
                if customer:
                    props["customer_id"] = customer
                    carried.append(f"urn:customer_id:{customer}")
                events.append(
                    {"type": "identify", "id": self._next("t"), "time": times[-1], "properties": props}
                )
            aliases = [device_urn] if junk is None else [device_urn, f"urn:anonymous_id:{junk}"]
            carried += aliases
            self.lines.append((pid, {"session": {"id": sid}, "events": events, "aliases": aliases}))
        elif dialect == "esp":
            esp_events: list[dict[str, Any]] = [
                {"eventType": "view", "itemId": self._next("u"), "timeStamp": t, "properties": {"path": url}}
                for url, t in zip(pages, times, strict=False)
            ]
            if login:
                target = {"email": junk or email, "firstName": "x"}
                carried.append(f"urn:email:{junk or email}")
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
            # The shop's login is the customer id; a person without one browses anonymously.
            login = login if customer else None
            if customer or junk:
                carried.append(f"urn:customer_id:{customer or junk}")
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
            user = customer  # the app's userId is the login id
            anon = junk or device_id
            carried.append(f"urn:anonymous_id:{anon}")
            if user:
                carried.append(f"urn:user_id:{user}")
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
                carried += [device_urn, f"urn:email:{email}"]
                identify: dict[str, Any] = {
                    "type": "identify",
                    "anonymousId": device_id,
                    "traits": {"email": email},
                    "messageId": self._next("m"),
                    "timestamp": times[-1],
                }
                if user:
                    identify["userId"] = user
                if phone:
                    carried.append(f"urn:phone:{phone}")
                    identify["traits"]["phone"] = phone
                self.lines.append((pid, identify))
        else:  # converge pixel, browser form
            carried.append(device_urn)
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
                carried.append(f"urn:email:{email}")
                self.lines.append(
                    (
                        pid,
                        {
                            "method": "track",
                            "eventName": "Logged In",
                            "eventID": self._next("c"),
                            "sessionId": sid,
                            "timestamp": times[-1],
                            "aliases": [device_urn, f"urn:email:{email}"],
                        },
                    )
                )
        self._carry(person, carried, where, login)

    def order(self, person: Person, when: datetime, token: str | None = None, second: bool = False) -> None:
        email = person.second_email if second else person.email
        assert email is not None
        token = token or self._hex(48)
        aliases = [f"urn:email:{email}", f"urn:checkout_token:{token}"]
        self._carry(person, aliases, None, "second_at_checkout" if second else "order")
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
        unowned = {u for kind in NOISE_KINDS for u in self.noise[kind]}
        aliases = {
            urn: (next(iter(ps)) if len(ps) == 1 and urn not in unowned else None)
            for urn, ps in sorted(self.owner.items())
        }
        for urn in unowned:
            aliases.setdefault(urn, None)
        return {
            "persons": self.n,
            "lines": len(self.lines),
            # The person behind each line (line n is line_person[n - 1]).
            "line_person": [person for person, _ in self.lines],
            "aliases": aliases,
            "noise": {k: sorted(set(v)) for k, v in self.noise.items()},
            "near_identical_emails": self.near_identical_pairs,
            "shared_by": {u: sorted(ps) for u, ps in sorted(self.owner.items()) if len(ps) > 1},
            "people": {
                p.id: {
                    "kinds": p.kinds,
                    "emails": [e for e in (p.email, p.second_email) if e],
                    "evidence": p.evidence,
                }
                for p in self.persons
            },
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
    kinds: dict[str, int] = {}
    for person in truth["people"].values():
        for kind in person["kinds"]:
            kinds[kind] = kinds.get(kind, 0) + 1
    print(f"{args.persons} persons, {truth['lines']} lines, {len(truth['aliases'])} aliases ({owned} owned)")
    print(json.dumps(dict(sorted(kinds.items()))))


if __name__ == "__main__":
    main()
