"""The conformance fixture server (examples/conformance/server.py) as a WSGI application, for
``scripts/conformance --wsgi``, which serves it with gunicorn's gthread worker:

    gunicorn -k gthread --threads 32 --pythonpath examples/conformance,. \\
        --chdir tests/conformance wsgi_server:application

``scripts/conformance --nginx`` starts two of them behind nginx, each with
``MCPLITE_CONFORMANCE_ROUTE`` (the route token its session ids start with: ``a.``, ``b.``), one
``MCPLITE_CONFORMANCE_SECRET`` (hex: the sealing key both share, so a cursor or a
``requestState`` one seals the other opens) and one ``MCPLITE_CONFORMANCE_PG`` (a PostgreSQL
port on 127.0.0.1, user mcplite: the store both keep tasks and change notifications in, through
pg8000).
"""

import os

from server import app  # examples/conformance/server.py, on the path gunicorn is given

from mcplite.sealing import Sealer

if os.environ.get("MCPLITE_CONFORMANCE_SECRET"):
    app.sealer = Sealer(bytes.fromhex(os.environ["MCPLITE_CONFORMANCE_SECRET"]))
if os.environ.get("MCPLITE_CONFORMANCE_PG"):
    import pg8000.dbapi

    from mcplite import PostgresStore

    _port = int(os.environ["MCPLITE_CONFORMANCE_PG"])
    app.store = PostgresStore(lambda: pg8000.dbapi.connect(host="127.0.0.1", port=_port, user="mcplite",
                                                           database="postgres"))
    # The fixture's task tools, registered as it was imported, made it an in-memory task store
    # then (Server(store=...) is the public way, at construction): dropped, so the first task
    # makes one on the shared store.
    app._task_store = None
if os.environ.get("MCPLITE_CONFORMANCE_ROUTE"):
    # One of several instances behind one address: a tool or prompt a trigger tool registered
    # at run time would be on the instance that ran it alone, and two tools/list answered by
    # different instances would differ (the harness's deterministic-order check then says it
    # cannot apply: a warning, which fails the run). Registered on every instance at start
    # instead; the triggers then only notify list_changed, which is what they are checked for.
    from server import _dynamic

    app.add_tool(_dynamic, name="test_dynamic_tool")
    app.add_prompt(_dynamic, name="test_dynamic_prompt")
application = app.wsgi(session_prefix=os.environ.get("MCPLITE_CONFORMANCE_ROUTE", ""))
