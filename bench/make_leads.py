"""Write a leads CSV that looks like a real export, for the import benchmark and tests.

    python bench/make_leads.py OUT.csv [--rows 1000000] [--seed 7]

Phone cells mix the shapes CRM and spreadsheet exports produce: E.164, ``(212) 555-2674``,
dashes, dots, bare digits, spreadsheet floats (``2125552674.0``, ``1.2125552674E10``), lead-ad
``p:+1`` prefixes, extensions, NBSP and full-width digits, a few foreign numbers, and about 4%
garbage (``n/a``, ``asdf``, too-short numbers, empty cells). Numbers spread over every US and
Canadian area code phonenumbers knows, so their time zones vary. About 15% of rows repeat an
earlier row's number, half of them written in another shape, as merged lists do. Other
columns: names (some accented), e-mail, company (some with commas, so quoted), city, state,
ZIP, lead source. The same seed always writes the same file.
"""

from __future__ import annotations

import argparse
import csv
import random
from collections.abc import Callable
from pathlib import Path

import phonenumbers

HEADER = (
    "First Name",
    "Last Name",
    "Email",
    "Phone",
    "Company",
    "City",
    "State",
    "Zip",
    "Lead Source",
)
DUPLICATE_SHARE = 0.15
GARBAGE_SHARE = 0.04
FOREIGN_SHARE = 0.01

_FIRST = (
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "Michael",
    "Linda",
    "David",
    "Jennifer",
    "José",
    "Zoë",
    "Renée",
    "Siobhán",
)
_LAST = (
    "Smith",
    "Johnson",
    "Garcia",
    "Nguyen",
    "Williams",
    "Brown",
    "Martinez",
    "O'Brien",
    "Müller",
    "Tremblay",
    "Côté",
    "Lee",
)
_CITIES = (
    ("New York", "NY"),
    ("Los Angeles", "CA"),
    ("Chicago", "IL"),
    ("Houston", "TX"),
    ("Phoenix", "AZ"),
    ("Denver", "CO"),
    ("Seattle", "WA"),
    ("Anchorage", "AK"),
    ("Honolulu", "HI"),
    ("Miami", "FL"),
    ("Boston", "MA"),
    ("Atlanta", "GA"),
    ("Toronto", "ON"),
    ("Montréal", "QC"),
    ("Vancouver", "BC"),
    ("Calgary", "AB"),
    ("Halifax", "NS"),
    ("St. John's", "NL"),
)
_COMPANIES = (
    "Acme, Inc.",
    "Globex",
    "Initech LLC",
    "Umbrella Corp",
    "Stark Industries",
    "Wayne Enterprises",
    "Hooli",
    "Vandelay Industries",
    "",
)
_SOURCES = ("Facebook Lead Ad", "Website", "Referral", "Trade show", "Cold list", "")
_DOMAINS = ("gmail.com", "yahoo.com", "outlook.com", "icloud.com", "example.org")
_GARBAGE = (
    "",
    " ",
    "n/a",
    "N/A",
    "#N/A",
    "-",
    "none",
    "asdf",
    "call me later",
    "555-1234",
    "12345",
    "0",
    "212555",
    "(000) 000-0000",
)
# Real numbers of other countries, as exports write them (+CC, or 00 from Europe).
_FOREIGN = (
    "+44 20 7946 {line}",
    "+44 7911 12{line}",
    "0033 1 42 68 {pair} {pair}",
    "+52 55 1234 {line}",
    "+61 2 9876 {line}",
)
_FULL_WIDTH = str.maketrans("0123456789", "".join(chr(0xFF10 + d) for d in range(10)))

# A NANP number as (area code, exchange, line); each shape writes one.
_Number = tuple[str, str, str]
_SHAPES: tuple[tuple[float, Callable[[_Number], str]], ...] = (
    (0.22, lambda n: f"+1{n[0]}{n[1]}{n[2]}"),
    (0.20, lambda n: f"({n[0]}) {n[1]}-{n[2]}"),
    (0.12, lambda n: f"{n[0]}-{n[1]}-{n[2]}"),
    (0.08, lambda n: f"{n[0]}.{n[1]}.{n[2]}"),
    (0.08, lambda n: f"{n[0]}{n[1]}{n[2]}"),
    (0.05, lambda n: f"1-{n[0]}-{n[1]}-{n[2]}"),
    (0.08, lambda n: f"{n[0]}{n[1]}{n[2]}.0"),
    (0.01, lambda n: f"1.{n[0]}{n[1]}{n[2]}E10"),
    (0.05, lambda n: f"p:+1{n[0]}{n[1]}{n[2]}"),
    (0.02, lambda n: f"{n[0]}-{n[1]}-{n[2]} x{int(n[2]) % 900 + 100}"),
    (0.01, lambda n: f"({n[0]}) {n[1]}-{n[2]} ext. {int(n[1]) % 90 + 10}"),
    (0.02, lambda n: f"+1 {n[0]}\u00a0{n[1]}\u00a0{n[2]}"),
    (0.02, lambda n: f"{n[0]}{n[1]}{n[2]}".translate(_FULL_WIDTH)),
    (0.04, lambda n: f"+1 {n[0]} {n[1]} {n[2]}"),
)


def area_codes() -> list[str]:
    """Every US and Canadian area code phonenumbers takes as valid (toll-free included)."""
    codes = []
    for npa in range(200, 1000):
        number = phonenumbers.parse(f"+1{npa}2345678")
        if phonenumbers.is_valid_number(number) and phonenumbers.region_code_for_number(number) in (
            "US",
            "CA",
        ):
            codes.append(str(npa))
    return codes


def write_leads(path: Path, rows: int, *, seed: int = 7) -> None:
    """Write ``rows`` leads (plus the header) to ``path`` as UTF-8 CSV."""
    rng = random.Random(seed)
    npas = area_codes()
    weights = [weight for weight, _ in _SHAPES]
    shapes = [shape for _, shape in _SHAPES]
    numbers: list[_Number] = []
    cells: list[str] = []
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        batch: list[tuple[str, ...]] = []
        for _ in range(rows):
            pick = rng.random()
            if pick < GARBAGE_SHARE:
                phone = rng.choice(_GARBAGE)
            elif pick < GARBAGE_SHARE + FOREIGN_SHARE:
                line = f"{rng.randrange(10_000):04d}"
                phone = rng.choice(_FOREIGN).format(line=line, pair=line[:2])
            elif pick < GARBAGE_SHARE + FOREIGN_SHARE + DUPLICATE_SHARE and numbers:
                earlier = rng.randrange(len(numbers))
                same_shape = rng.random() < 0.5
                phone = (
                    cells[earlier]
                    if same_shape
                    else rng.choices(shapes, weights)[0](numbers[earlier])
                )
            else:
                number = (
                    rng.choice(npas),
                    str(rng.randrange(200, 1000)),
                    f"{rng.randrange(10_000):04d}",
                )
                phone = rng.choices(shapes, weights)[0](number)
                numbers.append(number)
                cells.append(phone)
            first, last = rng.choice(_FIRST), rng.choice(_LAST)
            city, state = rng.choice(_CITIES)
            batch.append(
                (
                    first,
                    last,
                    f"{first.lower()}.{last.lower()}{rng.randrange(100)}@{rng.choice(_DOMAINS)}",
                    phone,
                    rng.choice(_COMPANIES),
                    city,
                    state,
                    f"{rng.randrange(100_000):05d}",
                    rng.choice(_SOURCES),
                )
            )
            if len(batch) == 10_000:
                writer.writerows(batch)
                batch.clear()
        writer.writerows(batch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="CSV file to write")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    write_leads(args.out, args.rows, seed=args.seed)
    print(f"wrote {args.rows:,} rows to {args.out}")


if __name__ == "__main__":
    main()
