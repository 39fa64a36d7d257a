"""The ``dialer`` command: an edge that parses options and makes one call into the core."""
