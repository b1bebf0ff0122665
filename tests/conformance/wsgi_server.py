"""The conformance fixture server (examples/conformance/server.py) as a WSGI application, for
``scripts/conformance --wsgi``, which serves it with gunicorn's gthread worker:

    gunicorn -k gthread --threads 32 --pythonpath examples/conformance,. \\
        --chdir tests/conformance wsgi_server:application

``scripts/conformance --nginx`` starts two of them behind nginx, each with
``MCPLITE_CONFORMANCE_ROUTE`` (the route token its session ids start with: ``a.``, ``b.``) and
one ``MCPLITE_CONFORMANCE_SECRET`` (hex: the sealing key both share, so a cursor or a
``requestState`` one seals the other opens).
"""

import os

from server import app  # examples/conformance/server.py, on the path gunicorn is given

from mcplite.sealing import Sealer

if os.environ.get("MCPLITE_CONFORMANCE_SECRET"):
    app.sealer = Sealer(bytes.fromhex(os.environ["MCPLITE_CONFORMANCE_SECRET"]))
application = app.wsgi(session_prefix=os.environ.get("MCPLITE_CONFORMANCE_ROUTE", ""))
