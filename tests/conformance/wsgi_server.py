"""The conformance fixture server (examples/conformance/server.py) as a WSGI application, for
``scripts/conformance --wsgi``, which serves it with gunicorn's gthread worker:

    gunicorn -k gthread --threads 32 --pythonpath examples/conformance,. \\
        --chdir tests/conformance wsgi_server:application
"""

from server import app  # examples/conformance/server.py, on the path gunicorn is given

application = app.wsgi()
