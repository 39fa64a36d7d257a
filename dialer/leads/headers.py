"""Naming a leads file's columns: header cells in, snake_case column names out, and which
column holds what (the phone, the country, the names, the e-mail).

Pure string work: no file is read here (``dialer.leads.files`` does that).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from operator import itemgetter

PHONE_COLUMN_NAMES: tuple[str, ...] = (
    "phone",
    "phone_number",
    "mobile",
    "mobile_phone",
    "mobile_number",
    "cell",
    "cell_phone",
    "cellphone",
    "cell_number",
    "telephone",
    "telephone_number",
    "tel",
    "phone_no",
    "contact_number",
    "contact_phone",
    "whatsapp",
    "whatsapp_number",
    "msisdn",
    # The words of our users' other languages (compared without accents: Téléphone, Móvil).
    "telefon",
    "telefonnummer",
    "telefono",
    "numero_de_telefono",
    "numero_di_telefono",
    "telefone",
    "numero_de_telefone",
    "numero_de_telephone",
    "telefoon",
    "telefoonnummer",
    "numer_telefonu",
    "handy",
    "handynummer",
    "mobil",
    "mobilnummer",
    "mobiltelefon",
    "celular",
    "movil",
    "portable",
    "cellulare",
    "cellulaire",
    "mobiel",
    "gsm",
    "telemovel",
    "number",
)
"""Column names (after ``snake_case``) taken as phone columns, most likely first. Names match
whatever their case, accents and spacing: ``Téléphone``, ``TELEFONO``, ``Tele fon``."""

# Words that, ending a column name ("Work Phone", "Primary Mobile", "Teléfono Móvil"), mark a
# phone column. Only the last word counts ("phone_type" is not one), once words saying
# "number" are set aside ("Mobile Phone Number", "Numer telefonu").
_PHONE_WORDS = frozenset(
    {
        *("phone", "mobile", "cell", "cellphone", "telephone", "tel", "whatsapp"),
        *("telefon", "telefono", "telefone", "telefonu", "telefoon", "handy", "mobil"),
        *("celular", "movil", "portable", "cellulare", "cellulaire", "mobiel", "gsm"),
    }
)
_NUMBER_WORDS = frozenset({"number", "no", "nr", "num", "nummer", "numero", "numer"})
# Taken only when no other column is a phone column: "number" may be anything.
_LAST_RESORT_RANK = len(PHONE_COLUMN_NAMES) + 1

ROW_COLUMN = "row"
"""The column ``iter_chunks`` adds; a lead column that would take this name becomes ``lead_row``
(the export's rule for a lead column named like one of its own, see ``campaigns.export``)."""


def snake_case(header: str) -> str:
    """The snake_case form of one header cell: ``"First Name"`` -> ``"first_name"``.

    Camel case is split (``FirstName``, ``ZIPCode`` -> ``first_name``, ``zip_code``), anything
    that is not a letter or digit becomes one ``_`` (``"Phone #"`` -> ``phone``, ``"E-mail"``
    -> ``e_mail``), and letters are lower-cased after NFKC normalization. Non-ASCII letters
    are kept (``"Prénom"`` -> ``prénom``): Python identifiers and ``str.format`` fields allow
    them, so message templates can still say ``{prénom}``.

    The result is ``""`` when the header has no letter or digit (``column_names`` then calls
    it ``column_N``); otherwise a Python identifier with no ``_`` at either end, except a
    leading one added when it would start with a digit (``"2nd Phone"`` -> ``_2nd_phone``).
    ``snake_case(snake_case(h)) == snake_case(h)``.
    """
    text = unicodedata.normalize("NFKC", header)
    text = _split_camel_case(text)
    # lower() and NFKC can each undo the other's work on a few characters; repeat until stable
    # so that the function is idempotent.
    lowered = unicodedata.normalize("NFKC", text.lower())
    while lowered != text:
        text, lowered = lowered, unicodedata.normalize("NFKC", lowered.lower())
    words = "".join(ch if ("_" + ch).isidentifier() else "_" for ch in text)
    name = "_".join(part for part in words.split("_") if part)
    if name and not name.isidentifier():
        name = "_" + name
    return name


def _split_camel_case(text: str) -> str:
    """Put ``_`` where a lower-case word starts with a capital: ``FirstName``, ``ZIPCode``."""
    out: list[str] = []
    for i, ch in enumerate(text):
        if i and ch.isupper() and ch.lower() != ch:
            before = text[i - 1]
            after = text[i + 1] if i + 1 < len(text) else ""
            if before.islower() or before.isdigit() or (before.isupper() and after.islower()):
                out.append("_")
        out.append(ch)
    return "".join(out)


def column_names(headers: Sequence[str]) -> tuple[str, ...]:
    """The unique column names of a header row, in order.

    Each is ``snake_case(header)``; a header with no letter or digit becomes ``column_N``
    (N its 1-based position); a repeated name gets ``_2``, ``_3``... in order of appearance,
    and a header whose name would be ``row`` (``ROW_COLUMN`` is taken) is ``lead_row``.
    """
    taken = {ROW_COLUMN}
    names: list[str] = []
    for position, header in enumerate(headers, start=1):
        base = snake_case(header) or f"column_{position}"
        if base == ROW_COLUMN:
            base = f"lead_{ROW_COLUMN}"
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}_{n}"
        taken.add(name)
        names.append(name)
    return tuple(names)


def find_phone_column(columns: Sequence[str]) -> str | None:
    """The column most likely to hold phone numbers (``find_phone_columns``' first), or None."""
    found = find_phone_columns(columns)
    return found[0] if found else None


def find_phone_columns(columns: Sequence[str]) -> tuple[str, ...]:
    """Every column that holds phone numbers, most likely first.

    First the columns named in ``PHONE_COLUMN_NAMES``, in its order; then, in file order,
    those whose last word is a phone word (``work_phone``, ``primary_mobile``,
    ``mobile_phone_number``). A column named ``number`` only when there is no other.
    Names are compared without case, accents or ``_`` (``téléphone``, ``tele_fon``).
    """
    ranked = [(rank, column) for column in columns if (rank := _rank(column)) is not None]
    ranked.sort(key=itemgetter(0))  # stable: equal ranks stay in file order
    strong = [column for rank, column in ranked if rank != _LAST_RESORT_RANK]
    return tuple(strong or (column for _, column in ranked))


def _rank(column: str) -> int | None:
    """Where ``column`` stands among phone columns (lower is likelier), None if it is none."""
    named = _NAME_RANKS.get(_fold(column))
    if named is not None:
        return named
    return len(PHONE_COLUMN_NAMES) if _ends_with_phone_word(column) else None


def _fold(name: str) -> str:
    """``name`` without accents, case or ``_``: what two spellings of a header share."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch) and ch != "_")


def _ends_with_phone_word(column: str) -> bool:
    words = [_fold(word) for word in column.split("_") if word]
    while len(words) > 1 and words[-1] in _NUMBER_WORDS:
        words.pop()
    return bool(words) and words[-1] in _PHONE_WORDS


# "number", the last name of the list, ranks after the columns the word rule finds too.
_NAME_RANKS = {_fold(name): rank for rank, name in enumerate(PHONE_COLUMN_NAMES)} | {
    "number": _LAST_RESORT_RANK
}


FIRST_NAME_COLUMNS = ("first_name", "firstname", "first", "given_name", "forename")
LAST_NAME_COLUMNS = ("last_name", "lastname", "last", "surname", "family_name")
FULL_NAME_COLUMNS = ("name", "full_name", "fullname", "contact_name", "lead_name")
EMAIL_COLUMNS = ("email", "e_mail", "email_address", "e_mail_address", "mail")
ALTERNATES = "alternate_phones"
"""The lead variable holding a row's other valid numbers when it has several phone columns."""


@dataclass(frozen=True)
class LeadColumns:
    """Which of the file's (snake_case) columns hold what.

    ``phones`` are the phone columns, most preferred first; with several, a row's contact is
    its first valid number and its other valid numbers go into the variable ``alternates``
    (``ALTERNATES``, or with a suffix when the file has a column of that name).
    """

    phones: tuple[str, ...]
    country: str | None
    first_name: str | None
    last_name: str | None
    full_name: str | None
    email: str | None
    variables: tuple[str, ...]
    alternates: str | None = None

    @property
    def phone(self) -> str:
        """The preferred phone column."""
        return self.phones[0]

    @classmethod
    def detect(
        cls, columns: Sequence[str], phones: str | Sequence[str], country: str | None
    ) -> LeadColumns:
        def first_of(names: Iterable[str]) -> str | None:
            return next((name for name in names if name in columns), None)

        phones = (phones,) if isinstance(phones, str) else tuple(phones)
        alternates = None
        if len(phones) > 1:
            alternates = column_names([*columns, ALTERNATES])[-1]
        return cls(
            phones=phones,
            country=country,
            first_name=first_of(FIRST_NAME_COLUMNS),
            last_name=first_of(LAST_NAME_COLUMNS),
            full_name=first_of(FULL_NAME_COLUMNS),
            email=first_of(EMAIL_COLUMNS),
            variables=tuple(c for c in columns if c != "row"),
            alternates=alternates,
        )

    @property
    def names(self) -> tuple[str, ...]:
        """The lead variables every contact has: the file's columns, then ``alternates``."""
        return self.variables if self.alternates is None else (*self.variables, self.alternates)
