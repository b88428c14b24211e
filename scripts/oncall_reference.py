#!/usr/bin/env python3
"""An independent reference for Parley's on-call engine (Sources/ParleyCore/OnCall).

Computes the handoffs of a layered schedule with Python's zoneinfo, by a different road from the
Swift code: wall-time arithmetic with naive datetimes, each wall time read with fold=0 (a skipped
time moves forward by the gap, a repeated one is its first occurrence), and the person on call
evaluated afresh at every instant where anything could change.

    scripts/oncall_reference.py --zone Europe/Paris --from 2027-01-01T00:00 --to 2028-01-01T00:00 \\
        --layer 'name=primary every=86400 start=2026-01-05T09:00 people=alice,bob,carol' \\
        --layer 'name=day every=604800 start=2027-01-04T09:00 people=dan,eve days=mon-fri hours=09:00-18:00' \\
        --override 'person=zoe start=1800000000 end=1800003600'

Layers are lowest first; a later layer wins where it has someone, an override wins over every layer
and a later override over an earlier one. --from/--to are wall times in the zone or Unix seconds.
Prints JSON: {"zone", "from", "to", "handoffs": [{"at": unix seconds, "from": name|null, "to": name|null}]}
with every instant in [from, to) where the person on call changes. Needs only the standard library.
"""

import argparse
import bisect
import datetime as dt
import json
import sys
from zoneinfo import ZoneInfo

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]  # datetime.weekday() order


def resolve(naive, zone):
    """Unix seconds of a wall time: fold=0 is zoneinfo's own reading of gaps and repeats."""
    return int(naive.replace(tzinfo=zone, fold=0).timestamp())


def wall(seconds, zone):
    return dt.datetime.fromtimestamp(seconds, zone).replace(tzinfo=None, fold=0)


def parse_moment(text, zone):
    if text.lstrip("-").isdigit():
        return int(text)
    return resolve(dt.datetime.fromisoformat(text), zone)


def parse_days(text):
    days = set()
    for item in text.split(","):
        ends = [DAYS.index(part[:3].lower()) for part in item.split("-")]
        day = ends[0]
        days.add(day)
        while day != ends[-1]:
            day = (day + 1) % 7
            days.add(day)
    return days


def clock_seconds(text):
    hours, minutes = text.split(":")
    return int(hours) * 3600 + int(minutes) * 60


class Layer:
    def __init__(self, spec, zone, first, last):
        fields = dict(part.split("=", 1) for part in spec.split())
        self.name = fields["name"]
        self.people = fields["people"].split(",")
        period = dt.timedelta(seconds=int(fields["every"]))
        start = dt.datetime.fromisoformat(fields["start"])
        # Handoff k is at start + k * period on the wall clock.
        k = max(0, (wall(first, zone) - start) // period - 3)
        self.first_index = k
        self.handoffs = []
        while True:
            instant = resolve(start + k * period, zone)
            self.handoffs.append(instant)
            if instant > last:
                break
            k += 1
        if any(b <= a for a, b in zip(self.handoffs, self.handoffs[1:])):
            sys.exit("the reference does not model rotations shorter than a daylight-saving gap")
        self.start_instant = resolve(start, zone)
        self.windows = None
        if "days" in fields or "hours" in fields:
            days = parse_days(fields.get("days", "mon-sun"))
            opens, closes = (clock_seconds(t) for t in fields.get("hours", "00:00-24:00").split("-"))
            day = wall(first, zone).replace(hour=0, minute=0, second=0) - dt.timedelta(days=2)
            end_day = wall(last, zone) + dt.timedelta(days=1)
            self.windows = []
            while day <= end_day:
                if day.weekday() in days:
                    open_at = day + dt.timedelta(seconds=opens)
                    close_at = day + dt.timedelta(seconds=closes)
                    if closes <= opens:
                        close_at += dt.timedelta(days=1)
                    a, b = resolve(open_at, zone), resolve(close_at, zone)
                    if b > a:
                        self.windows.append((a, b))
                day += dt.timedelta(days=1)

    def edges(self):
        found = list(self.handoffs)
        for a, b in self.windows or []:
            found += [a, b]
        return found

    def person(self, t):
        if t < self.start_instant:
            return None
        i = bisect.bisect_right(self.handoffs, t) - 1
        if i < 0 or i + 1 >= len(self.handoffs):
            return None
        k = self.first_index + i
        if self.windows is not None and not any(a <= t < b for a, b in self.windows):
            return None
        return self.people[k % len(self.people)]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--zone", required=True)
    parser.add_argument("--from", dest="start", required=True)
    parser.add_argument("--to", dest="end", required=True)
    parser.add_argument("--layer", action="append", default=[])
    parser.add_argument("--override", action="append", default=[])
    args = parser.parse_args()
    zone = ZoneInfo(args.zone)
    first, last = parse_moment(args.start, zone), parse_moment(args.end, zone)
    layers = [Layer(spec, zone, first - 1, last) for spec in args.layer]
    overrides = []
    for spec in args.override:
        fields = dict(part.split("=", 1) for part in spec.split())
        overrides.append((fields["person"], int(fields["start"]), int(fields["end"])))

    def on_call(t):
        for person, a, b in reversed(overrides):
            if a <= t < b:
                return person
        for layer in reversed(layers):
            person = layer.person(t)
            if person is not None:
                return person
        return None

    candidates = {first}
    for layer in layers:
        candidates.update(layer.edges())
    for _, a, b in overrides:
        candidates.update([a, b])
    handoffs = []
    previous = on_call(first - 1)
    for t in sorted(c for c in candidates if first <= c < last):
        person = on_call(t)
        if person != previous:
            handoffs.append({"at": t, "from": previous, "to": person})
            previous = person
    json.dump({"zone": args.zone, "from": first, "to": last, "handoffs": handoffs}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
