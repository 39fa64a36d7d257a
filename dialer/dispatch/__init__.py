"""Dispatch: claimed contacts become provider requests, each at most once.

- :mod:`~dialer.dispatch.protocol` the order of the steps and why (start here)
- :mod:`~dialer.dispatch.admission` which claims may be dialed now
- :mod:`~dialer.dispatch.pacing` rate-limit slots: reserving them, waiting for one
- :mod:`~dialer.dispatch.requests` the request a contact's call sends
- :mod:`~dialer.dispatch.answers` a provider's answer → the contact's next state
- :mod:`~dialer.dispatch.recorder` answers written to the ledger as they come back
- :mod:`~dialer.dispatch.results` what happened to each contact of a batch
"""
