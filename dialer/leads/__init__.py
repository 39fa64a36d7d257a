"""Reading leads: a CSV file in, contacts and rejects out, a chunk at a time.

The pipeline, in the order a row meets it:

- ``files``: look at the file once (encoding, delimiter, header) and name its columns
  (``headers``: snake_case names, which column holds the phone, the names, the e-mail);
- ``chunks``: stream its rows as pandas frames of text, each row with its number;
- ``phones``: normalize phone values to E.164 with time zones and type (pure; a process
  pool for large batches), ``known_numbers`` telling plain repeats without parsing;
- ``contacts``: split a chunk into new contacts and rejects (row, value, reason);
- ``stream``: the whole file as contacts and rejects, normalizing ahead of the split;
- ``rejects``: the rejects file.

Nothing is imported here: the phone pool's workers import ``dialer.leads.phones`` and must
not pay for pandas or pyarrow.
"""
