"""The ledger: the one place where SQL lives. Submodules by concern; import from here."""
