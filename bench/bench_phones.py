"""Throughput of phone normalization on realistic, distinct lead-export values.

    python bench/bench_phones.py [--values 200000] [--chunk 100000] [--seed 7]

Feeds normalize_many the way the importer does (distinct values, one call per chunk) and
prints values/s for the pool path and for a single process, and the single process's CPU
time per value, which is the figure to trust on a busy machine (wall-clock rates there
depend on what else runs). The first pool call includes starting the workers; it is
reported separately.
"""

from __future__ import annotations

import argparse
import os
import random
import time

import phonenumbers
from phonenumbers import PhoneNumberType

from dialer.leads.phones import normalize_many, normalize_phone, shutdown_pool

# Regions and share of foreign leads roughly like a US-centred campaign with some abroad.
_FOREIGN = ["GB", "CA", "MX", "DE", "FR", "IN", "AU", "BR", "ES", "IT", "NL", "PH"]
_GARBAGE = ["", " ", "n/a", "N/A", "nan", "-", "none", "asdf", "call me", "?", "''", "0"]


def _us_area_codes() -> list[str]:
    return [
        str(npa)
        for npa in range(200, 1000)
        if phonenumbers.is_valid_number(phonenumbers.parse(f"{npa}2345678", "US"))
    ]


def _us_value(rng: random.Random, npas: list[str]) -> str:
    npa, nxx, line = rng.choice(npas), str(rng.randint(200, 999)), f"{rng.randint(0, 9999):04d}"
    digits = npa + nxx + line
    pick = rng.random()
    if pick < 0.25:
        return f"({npa}) {nxx}-{line}"
    if pick < 0.45:
        return f"+1{digits}"
    if pick < 0.60:
        return f"{npa}-{nxx}-{line}"
    if pick < 0.70:
        return digits
    if pick < 0.76:
        return f"{npa}.{nxx}.{line}"
    if pick < 0.82:
        return f"{digits}.0"
    if pick < 0.85:
        return f"1.{digits}E10" if rng.random() < 0.5 else f"p:+1{digits}"
    if pick < 0.89:
        return f"{npa}-{nxx}-{line} {rng.choice(['x', 'ext. ', '#'])}{rng.randint(1, 9999)}"
    if pick < 0.92:
        return f"1 {npa}\u00a0{nxx}\u00a0{line}"
    if pick < 0.94:
        return "".join(chr(ord(d) + 0xFEE0) for d in digits)  # full-width
    if pick < 0.96:
        return f' "{npa} {nxx} {line}" '
    return f"1-800-{''.join(rng.choice('ABCDEFGHIJKLMNOPRSTUVWXY') for _ in range(7))}"


def _foreign_value(rng: random.Random) -> str:
    region = rng.choice(_FOREIGN)
    kind = rng.choice([PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE])
    example = phonenumbers.example_number_for_type(region, kind)
    assert example is not None
    nsn = phonenumbers.national_significant_number(example)
    nsn = nsn[:-4] + f"{rng.randint(0, 9999):04d}"
    return rng.choice([f"+{example.country_code} {nsn}", f"00{example.country_code}{nsn}"])


def make_values(count: int, seed: int) -> list[tuple[str, str]]:
    """Distinct (raw, "US") pairs: ~85% US formats, ~8% foreign, ~7% garbage or invalid."""
    rng = random.Random(seed)
    npas = _us_area_codes()
    values: set[str] = set()
    while len(values) < count:
        pick = rng.random()
        if pick < 0.85:
            values.add(_us_value(rng, npas))
        elif pick < 0.93:
            values.add(_foreign_value(rng))
        elif pick < 0.96:
            values.add(str(rng.randint(10**6, 10**12)))  # mostly invalid lengths
        else:
            values.add(rng.choice(_GARBAGE) + str(rng.randint(0, 10**6)) * (rng.random() < 0.3))
    ordered = sorted(values)
    rng.shuffle(ordered)
    return [(value, "US") for value in ordered]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--values", type=int, default=200_000)
    parser.add_argument("--chunk", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    pairs = make_values(args.values, args.seed)
    chunks = [pairs[i : i + args.chunk] for i in range(0, len(pairs), args.chunk)]

    started = time.perf_counter()
    normalize_many(pairs[:5_000])  # starts and warms the pool
    startup = time.perf_counter() - started

    started = time.perf_counter()
    pooled = [result for chunk in chunks for result in normalize_many(chunk)]
    pooled_s = time.perf_counter() - started
    shutdown_pool()

    started, cpu = time.perf_counter(), time.process_time()
    single = [normalize_phone(raw, region) for raw, region in pairs]
    single_s, single_cpu = time.perf_counter() - started, time.process_time() - cpu

    assert pooled == single
    accepted = sum(1 for result in single if hasattr(result, "e164"))
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"values: {len(pairs)} distinct ({accepted} accepted), chunks of {args.chunk}")
    print(f"load average before the single-process run: {load}")
    print(f"pool start + first 5000: {startup:.2f} s")
    print(f"normalize_many (pool):   {len(pairs) / pooled_s:,.0f} values/s ({pooled_s:.2f} s)")
    print(f"single process:          {len(pairs) / single_s:,.0f} values/s ({single_s:.2f} s)")
    print(f"single process CPU:      {single_cpu / len(pairs) * 1e6:.1f} us/value")


if __name__ == "__main__":
    main()
