"""dialer.ledger.lists.one_of: the same rows as ``IN``, and on Postgres one statement text
whatever the number of values."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import col

from dialer.ledger.engine import session_scope, utcnow
from dialer.ledger.lists import one_of
from dialer.models import Suppression


def test_one_of_finds_what_in_finds(engine: Engine) -> None:
    phones = [f"+1212555{n:04d}" for n in range(700)]
    with session_scope(engine) as session:
        session.add_all(
            Suppression(phone=phone, campaign_id=0, source="t", created_at=utcnow())
            for phone in phones[::2]
        )
        session.flush()
        texts = set()
        for asked in ([], phones[:1], phones[:3], phones):
            query = select(col(Suppression.phone)).where(
                one_of(session, col(Suppression.phone), asked)
            )
            assert set(session.execute(query).scalars()) == set(asked) & set(phones[::2])
            # As sent: an expanding IN shows its placeholders only once rendered.
            compiled = query.compile(
                session.get_bind(), compile_kwargs={"render_postcompile": True}
            )
            texts.add(str(compiled))
    # One text on Postgres for any number of values; an IN of each length is its own text.
    assert len(texts) == (1 if engine.dialect.name == "postgresql" else 4)
