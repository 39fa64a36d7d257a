"""The HTTP API of ``dialer serve``: an edge like the CLI (nothing in the core imports it).

app.py               create_app(settings): the router list, error handlers, shared context
auth.py              X-API-Key, checked in constant time; which keys a server runs with
errors.py            the one mapping from the exception tree to status codes and JSON
upload.py, forms.py  the streamed multipart upload and its form (campaign create's options)
routes_*.py          thin routes calling campaigns/* (routes_activity: what the console watches)
metrics.py           /metrics (Prometheus text)
console.py           the operator console's pages and static files (console/)
"""
