#!/usr/bin/env python3
"""Writes GeneratedVectors.swift: cron vectors from an oracle independent of CronSchedule.

Away from DST (UTC): a naive matcher walks days and minutes. Around DST transitions: a
minute-by-minute simulation of cronie's daemon loop (src/cron.c: virtualTime, timeRunning,
the small / medium / negative / large wake-up kinds, wildcard vs fixed-time jobs).

    python3 Tests/SchedulerTests/gen_vectors.py > Tests/SchedulerTests/GeneratedVectors.swift
"""
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
MACROS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
          "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}


def field(text, low, high, names):
    def num(s):
        if s.isdigit():
            return int(s)
        return names.index(s.lower()) + low
    out = set()
    for item in text.split(","):
        step = 1
        single_step = False
        if "/" in item:
            item, s = item.split("/")
            step = int(s)
            single_step = True
        if item == "*":
            a, b = low, high
        elif "-" in item:
            a, b = (num(x) for x in item.split("-"))
            if high == 7 and a > b and b == 0:
                b = 7
        else:
            a = num(item)
            b = (6 if high == 7 else high) if single_step else a
        out.update(range(a, b + 1, step))
    return out


class Job:
    def __init__(self, expr):
        line = MACROS.get(expr, expr)
        f = line.split()
        self.minute = field(f[0], 0, 59, [])
        self.hour = field(f[1], 0, 23, [])
        self.dom = field(f[2], 1, 31, [])
        self.month = field(f[3], 1, 12, MONTHS)
        self.dow = {d % 7 for d in field(f[4], 0, 7, DAYS)}
        self.wild = f[0].startswith("*") or f[1].startswith("*")
        self.dom_star = f[2].startswith("*")
        self.dow_star = f[4].startswith("*")

    def matches(self, wall):  # wall: naive datetime
        dow = (wall.weekday() + 1) % 7
        d = wall.day in self.dom
        w = dow in self.dow
        day = (d and w) if (self.dom_star or self.dow_star) else (d or w)
        return wall.minute in self.minute and wall.hour in self.hour and wall.month in self.month and day


EPOCH = datetime(1970, 1, 1)


def naive_next(job, start, count):
    """UTC: the first `count` matching minutes strictly after `start` (naive, walking days)."""
    out = []
    day = datetime(start.year, start.month, start.day)
    while len(out) < count and day.year < start.year + 30:
        probe = day.replace(hour=0, minute=0)
        if probe.month in job.month and job.matches(probe.replace(hour=min(job.hour), minute=min(job.minute))):
            for h in sorted(job.hour):
                for m in sorted(job.minute):
                    t = day.replace(hour=h, minute=m)
                    if t > start and len(out) < count:
                        out.append(t)
        day += timedelta(days=1)
    return out


def naive_prev(job, start):
    day = datetime(start.year, start.month, start.day)
    while day.year > start.year - 30:
        probe = day
        if probe.month in job.month and job.matches(probe.replace(hour=min(job.hour), minute=min(job.minute))):
            for h in sorted(job.hour, reverse=True):
                for m in sorted(job.minute, reverse=True):
                    t = day.replace(hour=h, minute=m)
                    if t <= start:
                        return t
        day -= timedelta(days=1)
    return None


def simulate(job, zone, start_utc, end_utc):
    """cronie's daemon loop: the instants (UTC minutes since epoch) a job starts at."""
    tz = ZoneInfo(zone)

    def clock(t):  # local wall minute of real minute t
        u = datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(minutes=t)
        return t + int(u.astimezone(tz).utcoffset().total_seconds()) // 60

    def wall(v):
        return EPOCH + timedelta(minutes=v)

    fires = []
    t = int((start_utc - datetime(1970, 1, 1, tzinfo=timezone.utc)).total_seconds()) // 60
    end = int((end_utc - datetime(1970, 1, 1, tzinfo=timezone.utc)).total_seconds()) // 60
    virtual = clock(t)
    while t < end:
        t += 1
        running = clock(t)
        diff = running - virtual
        run = False
        if diff == 1:
            virtual = running
            run = job.matches(wall(running))
        elif diff > 180 or diff < -180:
            virtual = running
            run = job.matches(wall(running))
        elif diff > 5:
            run = job.wild and job.matches(wall(running))
            for v in range(virtual + 1, running + 1):
                if not job.wild and job.matches(wall(v)):
                    run = True
            virtual = running
        elif diff > 0:
            for v in range(virtual + 1, running + 1):
                if job.matches(wall(v)):
                    run = True
            virtual = running
        else:
            run = job.wild and job.matches(wall(running))
        if run:
            fires.append(t)
    return fires


def iso(t_minutes, zone):
    u = datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(minutes=t_minutes)
    return u.astimezone(ZoneInfo(zone)).isoformat()


def utc_iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


UTC_EXPRESSIONS = [
    "* * * * *", "*/15 * * * *", "5/10 * * * *", "1-30/5 * * * *", "0 * * * *", "30 */6 * * *",
    "0 0 * * *", "15 3 * * *", "59 23 * * *", "0 0 1 * *", "0 0 31 * *", "0 0 30 * *", "0 0 29 2 *",
    "0 0 28-31 2 *", "0 12 15 * *", "0 0 1,15 * 1", "0 0 * * 1", "0 0 1,15 * *", "0 0 */2 * 1",
    "0 0 1-7 * 1", "0 0 1-7 * *", "0 0 8-14 * 2", "0 9 * * mon-fri", "0 9 * * MON-FRI", "0 18 * * sat,sun",
    "0 0 * * 7", "0 0 * * 0", "0 0 * * 5-7", "0 0 * * fri-sun", "0 6 * jan,jul *", "0 0 1 JAN *",
    "0 0 1 jan-mar *", "0 0 1 */3 *", "0 0 1 2/3 *", "45 4 1-10/3 * *", "0 22 * * 1-5", "23 0-23/2 * * *",
    "5 4 * * sun", "0 0,12 1 */2 *", "0 4/6 * * *", "0 0 */3 * *", "10 2 * 2 *", "@yearly", "@annually",
    "@monthly", "@weekly", "@daily", "@midnight", "@hourly", "0 0 * * Sun", "0 0 13 * 5", "30 4 1,15 * 5",
    "0 0 31 1,3,5 *", "0 0 31 1-12 *", "7 7 7 7 *", "*/7 */5 * * *", "0-5 0 1 1 *", "0 0 29 2 1",
]

UTC_STARTS = [
    datetime(2026, 1, 1, 0, 0), datetime(2026, 2, 27, 23, 59, 30), datetime(2027, 12, 31, 23, 59),
    datetime(2028, 2, 28, 12, 0), datetime(2026, 7, 9, 15, 45),
]

DST_CASES = [
    # zone, UTC start, UTC end of the simulation window
    ("Europe/Warsaw", datetime(2026, 3, 28, 18, 0, tzinfo=timezone.utc), datetime(2026, 3, 30, 6, 0, tzinfo=timezone.utc)),
    ("Europe/Warsaw", datetime(2026, 10, 24, 18, 0, tzinfo=timezone.utc), datetime(2026, 10, 26, 6, 0, tzinfo=timezone.utc)),
    ("America/New_York", datetime(2026, 3, 7, 23, 0, tzinfo=timezone.utc), datetime(2026, 3, 9, 12, 0, tzinfo=timezone.utc)),
    ("America/New_York", datetime(2026, 10, 31, 23, 0, tzinfo=timezone.utc), datetime(2026, 11, 2, 12, 0, tzinfo=timezone.utc)),
    ("America/Santiago", datetime(2026, 4, 4, 18, 0, tzinfo=timezone.utc), datetime(2026, 4, 6, 6, 0, tzinfo=timezone.utc)),
    ("America/Santiago", datetime(2026, 9, 5, 18, 0, tzinfo=timezone.utc), datetime(2026, 9, 7, 6, 0, tzinfo=timezone.utc)),
    # Samoa skipped 2011-12-30 (24 hours forward): a clock correction to cronie, no DST rule.
    ("Pacific/Apia", datetime(2011, 12, 29, 0, 0, tzinfo=timezone.utc), datetime(2011, 12, 31, 12, 0, tzinfo=timezone.utc)),
    ("Australia/Lord_Howe", datetime(2026, 4, 4, 8, 0, tzinfo=timezone.utc), datetime(2026, 4, 5, 20, 0, tzinfo=timezone.utc)),
]

DST_EXPRESSIONS = [
    "30 2 * * *", "0 2 * * *", "59 2 * * *", "0,30 2 * * *", "30 1 * * *", "0 3 * * *", "*/30 * * * *",
    "0 * * * *", "15 * * * *", "*/15 2 * * *", "30 */1 * * *", "0 1-3 * * *", "@hourly", "@daily", "45 1 * * *",
    "30 2 * * sun", "0 0 * * *", "30 0 * * *", "30 12 * * *", "0 23 * * *",
]


def main():
    rows = []
    for expr in UTC_EXPRESSIONS:
        job = Job(expr)
        for start in UTC_STARTS:
            nxt = naive_next(job, start.replace(second=0), 3) if start.second == 0 else naive_next(job, start.replace(second=0), 3)
            prev = naive_prev(job, start.replace(second=0))
            rows.append((expr, "UTC", utc_iso(start) if start.second else utc_iso(start),
                         [utc_iso(x) for x in nxt], utc_iso(prev) if prev else None, start.second))
    dst_rows = []
    for zone, start, end in DST_CASES:
        for expr in DST_EXPRESSIONS:
            job = Job(expr)
            fires = simulate(job, zone, start - timedelta(hours=6), end)
            t0 = int((start - datetime(1970, 1, 1, tzinfo=timezone.utc)).total_seconds()) // 60
            after = [f for f in fires if f > t0]
            before = [f for f in fires if f <= t0]
            # A vector from the window start, and one from just before each of the first fires.
            starts = [t0] + [f - 1 for f in after[:6]]
            for s in starts:
                later = [f for f in fires if f > s][:4]
                earlier = [f for f in fires if f <= s]
                if len(later) < 1:
                    continue
                dst_rows.append((expr, zone, iso(s, zone), [iso(f, zone) for f in later],
                                 iso(earlier[-1], zone) if earlier else None))
    print("// Generated by gen_vectors.py (an oracle independent of CronSchedule); do not edit.")
    print("")
    print("/// Away from DST, UTC: naive matching (expression, from, next three, previous at or before from).")
    print("let generatedUTCVectors: [CronVector] = [")
    for expr, zone, start, nxt, prev, sec in rows:
        p = f'"{prev}"' if prev else "nil"
        print(f'    CronVector("{expr}", "{zone}", "{start}", [' + ", ".join(f'"{x}"' for x in nxt) + f"], previous: {p}),")
    print("]")
    print("")
    print("/// Around DST transitions: cronie's daemon loop simulated minute by minute.")
    print("let generatedDSTVectors: [CronVector] = [")
    for expr, zone, start, nxt, prev in dst_rows:
        p = f'"{prev}"' if prev else "nil"
        print(f'    CronVector("{expr}", "{zone}", "{start}", [' + ", ".join(f'"{x}"' for x in nxt) + f"], previous: {p}),")
    print("]")


main()
