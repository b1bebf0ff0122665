"""In-memory connections to a Server, through the same code as stdio: ``MemoryChannel``, the
channel of ``Client(app)``, and ``MemoryConnection``, a bare client end for tests.

Every message is encoded to bytes and decoded again on each side, exactly as on a pipe,
so what a client sees is what a real one would see.
"""

from __future__ import annotations

import queue
import threading
from typing import Any, Callable, Dict, List, Optional, Union

from .connection import ServerConnection
from .jsonrpc import Message, decode, encode, encode_outgoing, error_response
from .errors import ConnectionClosed, MCPError
from .ports import ClientChannel
from .server import Server
from .workers import WorkerPool


class MemoryConnection:
    """The client's end of an in-memory pipe to ``server``.

    ``send`` delivers one message (or a batch list) to the server; ``receive`` returns the
    next message the server wrote, decoded; ``request`` sends a request and returns its
    response, keeping whatever else arrived meanwhile in ``received``.

    ``on_request(method, params)``, when set, answers the server's own requests (sampling,
    elicitation, roots, ping) that arrive while ``request`` waits: it returns the result
    dict, raises MCPError for an error response, or returns None to leave it unanswered.
    """

    def __init__(self, server: Server, max_workers: Optional[int] = None) -> None:
        self._inbox = queue.Queue()  # type: queue.Queue
        self.pool = WorkerPool(max_workers or server.max_workers)
        self.connection = ServerConnection(server, self._from_server, self.pool)
        self.received = []  # type: List[Any]
        self._lock = threading.Lock()
        self._next_id = 0
        self.on_request = None  # type: Optional[Callable[[str, Dict[str, Any]], Optional[Dict[str, Any]]]]

    def _from_server(self, message: Union[Message, List[Message]], about: Any = None) -> None:
        with self._lock:
            if about is None or not about.cancelled:
                self._inbox.put(encode_outgoing(message))

    def send(self, message: Any) -> None:
        self.connection.receive_data(encode(message))

    def send_raw(self, data: Union[bytes, str]) -> None:
        """Deliver bytes as one framed message, valid JSON or not."""
        self.connection.receive_data(data)

    def receive(self, timeout: float = 5.0) -> Any:
        return decode(self._inbox.get(timeout=timeout))

    def new_id(self) -> int:
        with self._lock:
            self._next_id += 1
            return self._next_id

    def request(self, method: str, params: Optional[Dict[str, Any]] = None, id: Any = None,
                timeout: float = 5.0) -> Message:
        """Send a request and wait for the response with its id."""
        rid = self.new_id() if id is None else id
        message = {"jsonrpc": "2.0", "id": rid, "method": method}  # type: Dict[str, Any]
        if params is not None:
            message["params"] = params
        self.send(message)
        while True:
            reply = self.receive(timeout)
            if isinstance(reply, dict) and reply.get("id") == rid and ("result" in reply or "error" in reply) \
                    and type(reply.get("id")) is type(rid):
                return reply
            if self.on_request is not None and isinstance(reply, dict) and "method" in reply and "id" in reply:
                self.received.append(reply)
                self._answer(reply)
                continue
            self.received.append(reply)

    def _answer(self, message: Message) -> None:
        try:
            result = self.on_request(message["method"], message.get("params") or {})  # type: ignore[misc]
        except MCPError as exc:
            self.send(error_response(message["id"], exc))
            return
        if result is not None:
            self.send({"jsonrpc": "2.0", "id": message["id"], "result": result})

    def notify(self, method: str, params: Optional[Dict[str, Any]] = None) -> None:
        message = {"jsonrpc": "2.0", "method": method}  # type: Dict[str, Any]
        if params is not None:
            message["params"] = params
        self.send(message)

    def pending_messages(self) -> List[Any]:
        """Whatever the server wrote that has not been read yet."""
        out = []
        while True:
            try:
                out.append(decode(self._inbox.get_nowait()))
            except queue.Empty:
                return out

    def close(self, timeout: float = 5.0) -> None:
        self.connection.close()
        self.pool.shutdown(timeout)

    def __enter__(self) -> "MemoryConnection":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class MemoryChannel(ClientChannel):
    """A ``Server`` in this process, through the same JSON-RPC code as a pipe: each message
    is encoded and decoded again, so what the client sees is what a pipe would carry."""

    def __init__(self, server: Any) -> None:
        super().__init__()
        self.pool = WorkerPool(server.max_workers)
        self.connection = ServerConnection(server, self._from_server, self.pool)
        self._lock = threading.Lock()
        self._closed = False

    def _from_server(self, message: Any, about: Any = None) -> None:
        if about is not None and about.cancelled:
            return
        data = encode_outgoing(message)
        if not self._closed:
            decoded = decode(data)
            if self.tracer is not None:
                self.tracer.message("<-", decoded, data)
            self.on_message(decoded)

    def send(self, message: Any) -> None:
        if self._closed:
            raise ConnectionClosed("the client is closed")
        data = encode(message)
        if self.tracer is not None:
            self.tracer.message("->", message, data)
        self.connection.receive_data(data)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.connection.close()
            self.pool.shutdown(2.0)
            self.on_close(ConnectionClosed("the client is closed"))
