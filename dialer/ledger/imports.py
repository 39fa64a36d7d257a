"""One import's writes, in one transaction: the campaign row (new, or extended on
``--append``), its own suppression list, its contacts a chunk at a time and its counters.
Either all of them are committed (``ContactImport.finish``) or, on any error, none.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import Connection
from sqlalchemy.engine import Engine
from sqlmodel import Session

from dialer.leads.seen import SeenNumbers
from dialer.ledger import campaigns as ledger_campaigns
from dialer.ledger import contacts as ledger_contacts
from dialer.models import Campaign


class ContactImport:
    """An import under way in its transaction.

    ``seen`` maps the phones already in the campaign to row 0 (no row of this file) and
    ``suppressed`` holds the numbers nobody may call (global and campaign lists): the
    caller's de-duplication reads them and grows ``seen`` with the rows it accepts.
    """

    def __init__(
        self,
        session: Session,
        campaign_id: int,
        inserter: ThreadPoolExecutor,
        loading: ExitStack,
    ) -> None:
        self._session = session
        self._connection: Connection = session.connection()
        self._inserter = inserter
        self._loading = loading
        self._inserting: Future[int] | None = None
        self.campaign_id = campaign_id
        self.seen = _campaign_numbers(session, campaign_id)
        self.suppressed = ledger_contacts.suppressed_phones(session, campaign_id=campaign_id)

    def load(self, contacts: pd.DataFrame) -> None:
        """Insert a chunk of new contacts (``insert_contacts``' frame) on the insert thread.

        One insert is in flight at a time, so the caller splits the next chunk while the
        database (a server process, or SQLite's C code) works on this one; an insert's error
        surfaces on the next call or in ``finish``. Their numbers are checked and indexed
        all at once in ``finish`` (``adding_contacts``).
        """
        if self._inserting is None:
            self._loading.enter_context(
                ledger_contacts.adding_contacts(self._connection, campaign_id=self.campaign_id)
            )
        prepared = ledger_contacts.prepare_contacts(
            self._connection.dialect.name, campaign_id=self.campaign_id, frame=contacts
        )
        if self._inserting is not None:
            self._inserting.result()
        self._inserting = self._inserter.submit(
            ledger_contacts.insert_prepared, self._connection, prepared
        )

    def finish(self, *, read: int, accepted: int, rejected: int) -> None:
        """Wait for the last insert, index the new numbers (IntegrityError if one is the
        campaign's already), add the import's counts to the campaign and commit."""
        if self._inserting is not None:
            self._inserting.result()
        self._loading.close()
        ledger_campaigns.record_import(
            self._session,
            campaign_id=self.campaign_id,
            read=read,
            accepted=accepted,
            rejected=rejected,
        )
        self._session.commit()


@contextmanager
def import_into(
    engine: Engine,
    *,
    campaign: Campaign,
    append: bool,
    suppress: Collection[str],
    suppress_source: str,
    now: datetime,
) -> Iterator[ContactImport]:
    """Open the import of ``campaign``: a new row, or with ``append`` the existing campaign of
    that name extended by its account, columns, source file and checksum
    (``extend_campaign``). ``suppress`` goes on the campaign's own list. Nothing is committed
    unless the block calls ``finish``.
    """
    with (
        Session(engine) as session,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="insert") as inserter,
        ExitStack() as loading,
    ):
        if append:
            campaign = ledger_campaigns.extend_campaign(
                session,
                name=campaign.name,
                account=campaign.account,
                columns=campaign.columns,
                source_file=campaign.source_file,
                source_checksum=campaign.source_checksum,
            )
        else:
            campaign = ledger_campaigns.create_campaign(session, campaign=campaign)
        assert campaign.id is not None
        if suppress:
            ledger_contacts.add_suppressions(
                session, phones=suppress, campaign_id=campaign.id, source=suppress_source, now=now
            )
        yield ContactImport(session, campaign.id, inserter, loading)


def numbers_known(
    engine: Engine, *, name: str, account: str, append: bool
) -> tuple[SeenNumbers, set[str]]:
    """What an import of campaign ``name`` would be checked against, read only: its
    ``ContactImport.seen`` and ``suppressed`` (the campaign's own list included on
    ``append``). Raises as ``import_into`` would: the name taken, or on ``append`` no such
    campaign, a finished one, another account."""
    with Session(engine) as session:
        if not append:
            ledger_campaigns.check_name_free(session, name=name)
            return SeenNumbers(), ledger_contacts.suppressed_phones(session, campaign_id=None)
        campaign = ledger_campaigns.appendable_campaign(session, name=name, account=account)
        assert campaign.id is not None
        seen = _campaign_numbers(session, campaign.id)
        return seen, ledger_contacts.suppressed_phones(session, campaign_id=campaign.id)


def _campaign_numbers(session: Session, campaign_id: int) -> SeenNumbers:
    """The phones already in the campaign, each as brought by row 0 (no row of this file)."""
    seen = SeenNumbers()
    for phones in ledger_contacts.campaign_phone_batches(session, campaign_id=campaign_id):
        seen.add(phones, np.zeros(len(phones), dtype=np.int64))
    return seen
