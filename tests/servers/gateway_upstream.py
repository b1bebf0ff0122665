"""An upstream for the gateway pass-through tests (tests/test_gateway_passthrough.py), served on
stdio: ``python gateway_upstream.py``. Its tools ask the client (elicitation in form and URL
mode, sampling, roots), log at three levels, and change a resource (``touch``, which sends
``notifications/resources/updated`` to subscribers); it completes a prompt's argument and a
template's variable, and lists its tools two to a page (pagination through the mount); and it
fails on request: ``crash`` ends the process, ``garble`` answers garbage.
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))  # the checkout (mcplite)

from mcplite import Context, Server, UrlElicitationRequired  # noqa: E402

# The protocol's stdout, kept before the server points fd 1 at stderr (for ``garble``).
RAW_STDOUT = [1]


def make_upstream() -> Server:
    app = Server("upstream", version="1.0.0", page_size=2)
    consents = []  # one entry per call of consent: every other one is refused

    @app.tool()
    def consent() -> str:
        """Needs the user at a page first (-32042 in a 2025-11-25 session) every other call."""
        consents.append(1)
        if len(consents) % 2:
            raise UrlElicitationRequired("Consent at the bank", "https://bank.example/consent", "consent-1")
        return "consented"

    @app.tool()
    def ask_name(ctx: Context) -> str:
        """Ask the user's name (form elicitation)."""
        answer = ctx.elicit("Your name?", {"name": str})
        if answer["action"] != "accept":
            return "no name: " + answer["action"]
        return "hello " + answer["content"]["name"]

    @app.tool()
    def ask_twice(ctx: Context) -> str:
        """Two questions, one after the other."""
        first = ctx.elicit("First?", {"a": str})
        second = ctx.elicit("Second?", {"b": str})
        return "%s+%s" % (first["content"]["a"], second["content"]["b"])

    @app.tool()
    def ask_url(ctx: Context) -> str:
        """Send the user to a page (URL elicitation)."""
        return ctx.elicit_url("Sign in at the bank", "https://bank.example/consent")["action"]

    @app.tool()
    def finish_url(ctx: Context, elicitation_id: str) -> str:
        """Tell a 2025-11-25 session that URL elicitation ``elicitation_id`` is complete."""
        return "told" if ctx.notify_elicitation_complete(elicitation_id) else "not told"

    @app.tool()
    def ask_model(ctx: Context) -> str:
        """Ask the client's model (sampling)."""
        answer = ctx.sample("Say a colour", max_tokens=10)
        return "%s said %s" % (answer["model"], answer["content"]["text"])

    @app.tool()
    def list_roots(ctx: Context) -> str:
        """The client's roots."""
        return ",".join(root["uri"] for root in ctx.roots())

    @app.tool()
    def chatty(ctx: Context) -> str:
        """Log at debug, info and warning."""
        for level in ("debug", "info", "warning"):
            ctx.log(level, "a %s message" % level, logger="chatty")
        return "logged"

    @app.tool(task="optional")
    def job(seconds: float) -> str:
        """Runs as a task for a client that declared the tasks extension."""
        import time
        time.sleep(seconds)
        return "job done"

    @app.tool(task="optional")
    def confirm_job(ctx: Context) -> str:
        """A task that asks two things at once before it ends."""
        first, second = ctx.gather(lambda: ctx.elicit("Sure?", {"sure": str}, key="sure"),
                                   lambda: ctx.elicit("Why?", {"why": str}, key="why"))
        return "%s because %s" % (first["content"]["sure"], second["content"]["why"])

    @app.tool()
    def nap(seconds: float) -> str:
        """Sleep (a call kept in flight)."""
        import time
        time.sleep(seconds)
        return "rested"

    @app.tool()
    def crash() -> str:
        """The process dies at once, without an answer."""
        os._exit(3)

    @app.tool()
    def garble(ctx: Context) -> str:
        """Answers garbage: a line that is not JSON, then a response whose result is not an
        object (written past the server's own writer, straight to the real stdout)."""
        os.write(RAW_STDOUT[0], b"Traceback (most recent call last): oops\n")
        os.write(RAW_STDOUT[0], ('{"jsonrpc": "2.0", "id": %s, "result": "nonsense"}\n' % json.dumps(ctx.request_id)).encode())
        return "not this"

    @app.tool()
    def touch() -> str:
        """Change note://U/state."""
        app.notify_resource_updated("note://U/state")
        return "touched"

    @app.resource("note://U/state", mime_type="text/plain")
    def state() -> str:
        return "state"

    @app.resource("item://{kind}/{name}", mime_type="text/plain")
    def item(kind: str, name: str) -> str:
        return "%s %s" % (kind, name)

    @app.completion("kind", template="item://{kind}/{name}")
    def kinds(value: str) -> list:
        return [k for k in ("book", "bowl", "chair") if k.startswith(value)]

    @app.prompt()
    def story(genre: str) -> str:
        """A story."""
        return "Tell a %s story." % genre

    @app.completion("genre", prompt="story")
    def genres(value: str) -> list:
        return [g for g in ("saga", "satire", "thriller") if g.startswith(value)]

    return app


if __name__ == "__main__":
    RAW_STDOUT[0] = os.dup(1)
    make_upstream().run()
