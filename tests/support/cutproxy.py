"""A loopback proxy in front of the vCenter simulator that drops the connection on demand.

Tests point a module at the proxy instead of the simulator and arm it to cut the stream at a
chosen SOAP call, so a run fails in the middle the way it does when a firewall, a load balancer
or vCenter itself drops the connection::

    with CutProxy(vcsim.host, vcsim.port) as proxy:
        proxy.arm(method="ReconfigVM_Task", phase="response")   # vCenter applies it, the reply is lost
        result = run_module("vm_disk_uuid", {...}, env=proxy.env(vcsim.env()))
        assert proxy.cuts                                       # the cut did happen

The proxy terminates TLS (with a throw-away self-signed certificate made by the ``openssl``
command, so clients must not validate it: ``env()`` keeps VMWARE_VALIDATE_CERTS=false) and
forwards each HTTP request to the simulator over TLS, so it sees every SOAP method by name. A rule
cuts one request, then the proxy forwards everything again (the rule is used up):

* ``method``: the SOAP method (``ReconfigVM_Task``, ``RetrievePropertiesEx``...); None: any request.
* ``index``: cut the request with this global number (1 = the first request the proxy received;
  see ``calls``), whatever its method (with ``method`` too, both must match).
* ``nth``: cut the nth matching request (1 = the first).
* ``after``: count matches only once a request of this method has been forwarded, e.g. the first
  ``RetrievePropertiesEx`` after ``ReconfigVM_Task`` (the module waiting for its task).
* ``phase``: ``"request"``: the request never reaches vCenter; ``"response"``: vCenter runs it and
  the reply is lost.
* ``partial``: with phase "response", send the reply's status line, headers and only its first
  ``partial`` body bytes, then cut (a stream that stops in the middle); a float between 0 and 1 is
  a share of the body (0.5: the first half, at least one byte short of the whole).
* ``how``: ``"close"`` (the socket is closed without a TLS close_notify) or ``"reset"`` (a TCP RST).

Recording: ``calls`` lists every request the proxy received, cut or not, as ``(index, label)``
(the label is the SOAP method, or ``"GET /path"`` for a request without one), so a first uncut run
gives the sequence a fault soak cuts one index at a time (tests/soak)::

    with CutProxy(vcsim.host, vcsim.port) as proxy:
        run_playbook(...)                       # uncut
        sequence = list(proxy.calls)            # [(1, "GET /sdk/vimServiceVersions.xml"), (2, "RetrieveServiceContent"), ...]
    with CutProxy(vcsim.host, vcsim.port) as proxy:
        proxy.arm(index=17, phase="request")    # the 17th request of the next run never reaches vCenter

Only the standard library, plus the ``openssl`` command for the certificate.
"""

from __future__ import annotations

import atexit
import http.client
import os
import re
import shutil
import socket
import ssl
import struct
import subprocess
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Hop-by-hop headers (RFC 9110 7.6.1) and the ones the proxy recomputes.
_HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "host", "content-length"}
_SOAP_METHOD = re.compile(rb"<(?:[\w.-]+:)?Body\b[^>]*>\s*<(?:[\w.-]+:)?([A-Za-z_][\w.-]*)[\s/>]")

_CERT = {}
_CERT_LOCK = threading.Lock()


def soap_method(body: bytes) -> str | None:
    """The name of the SOAP method a request body calls (the first element in the Body), or None."""
    match = _SOAP_METHOD.search(body or b"")
    return match.group(1).decode() if match else None


def _certificate() -> tuple[str, str]:
    """A self-signed certificate and key for 127.0.0.1/localhost, made once per process."""
    with _CERT_LOCK:
        if not _CERT:
            openssl = shutil.which("openssl")
            if not openssl:
                raise RuntimeError("cutproxy needs the openssl command to make its TLS certificate")
            directory = tempfile.mkdtemp(prefix="cutproxy-")
            atexit.register(shutil.rmtree, directory, True)
            cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
            subprocess.run(
                [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost",
                 "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                check=True, capture_output=True, timeout=60,
            )
            _CERT.update(cert=cert, key=key)
        return _CERT["cert"], _CERT["key"]


class _Rule:
    def __init__(self, method, nth, phase, after, partial, how, index=None):  # pylint: disable=too-many-arguments
        if phase not in ("request", "response"):
            raise ValueError(f"phase must be 'request' or 'response', not {phase!r}")
        if how not in ("close", "reset"):
            raise ValueError(f"how must be 'close' or 'reset', not {how!r}")
        if partial is not None and phase != "response":
            raise ValueError("partial needs phase='response'")
        if isinstance(partial, float) and not 0 < partial < 1:
            raise ValueError(f"a float partial is a share of the reply's body, between 0 and 1, not {partial!r}")
        self.method, self.nth, self.phase, self.after, self.partial, self.how = method, nth, phase, after, partial, how
        self.index = index
        self.started = after is None
        self.seen = 0


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, proxy):
        self.proxy = proxy
        super().__init__(("127.0.0.1", 0), _Handler)
        cert, key = _certificate()
        self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.tls.load_cert_chain(cert, key)

    def finish_request(self, request, client_address):
        # TLS in the connection's own thread: a slow handshake never blocks accept().
        try:
            conn = self.tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            self.RequestHandlerClass(conn, client_address, self)
        finally:
            try:
                conn.close()
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as pyVmomi expects
    server: _Server
    upstream = None  # this client connection's own connection to the simulator, opened on first use

    def finish(self):
        try:
            super().finish()
        finally:
            if self.upstream is not None:
                self.upstream.close()

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass  # quiet: tests read proxy.requests and proxy.cuts instead

    def do_GET(self):  # noqa: N802 - http.server's naming
        self._forward()

    def do_POST(self):  # noqa: N802
        self._forward()

    def _cut(self, rule):
        """Drop the client's connection without a reply (or after a partial one)."""
        self.close_connection = True
        try:
            self.wfile.flush()
            if rule.how == "reset":
                # Closing with a zero linger time sends a TCP RST instead of a FIN.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
            else:
                self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _upstream_call(self, body):
        proxy = self.server.proxy
        if self.upstream is None:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE  # the simulator's own self-signed certificate
            self.upstream = http.client.HTTPSConnection(proxy.upstream_host, proxy.upstream_port, context=context, timeout=proxy.timeout)
        headers = {key: value for key, value in self.headers.items() if key.lower() not in _HOP_BY_HOP}
        if body is not None:
            headers["Content-Length"] = str(len(body))
        try:
            self.upstream.request(self.command, self.path, body=body, headers=headers)
            response = self.upstream.getresponse()
            return response, response.read()
        except (OSError, http.client.HTTPException):
            self.upstream.close()
            self.upstream = None
            raise

    def _forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else (b"" if self.command == "POST" else None)
        method = soap_method(body) if body else None
        rule = self.server.proxy._match(method, self.command, self.path)  # pylint: disable=protected-access
        if rule is not None and rule.phase == "request":
            self._cut(rule)
            return
        try:
            response, payload = self._upstream_call(body)
        except (OSError, http.client.HTTPException) as error:
            message = f"cutproxy: upstream {self.server.proxy.upstream_host}:{self.server.proxy.upstream_port}: {error}".encode()
            self.send_response(502)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(message)))
            self.end_headers()
            self.wfile.write(message)
            return
        self.server.proxy._forwarded(method)  # pylint: disable=protected-access
        if rule is not None and rule.partial is None:
            self._cut(rule)
            return
        self.send_response(response.status, response.reason)
        for key, value in response.getheaders():
            if key.lower() not in _HOP_BY_HOP:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if rule is not None:
            self.wfile.write(payload[: _partial_bytes(rule.partial, len(payload))])
            self._cut(rule)
            return
        self.wfile.write(payload)


def _partial_bytes(partial, length):
    """How many body bytes a partial reply sends: ``partial`` bytes, or that share of ``length``."""
    if isinstance(partial, float):
        return max(0, min(int(length * partial), length - 1))
    return partial


class CutProxy:
    """A running proxy to ``upstream_host:upstream_port``; use as a context manager or call stop()."""

    def __init__(self, upstream_host: str, upstream_port: int, timeout: float = 120):
        self.upstream_host = upstream_host
        self.upstream_port = int(upstream_port)
        self.timeout = timeout
        self.host = "127.0.0.1"
        self.port = None
        self.requests: list[str | None] = []  # SOAP method (None for a GET) of each request forwarded
        self.cuts: list[dict] = []  # what was cut: method, phase, partial, request number
        self.calls: list[tuple[int, str]] = []  # every request received, cut or not: (index from 1, label)
        self._rule = None
        self._lock = threading.Lock()
        self._server = None
        self._thread = None

    def start(self) -> CutProxy:
        self._server = _Server(self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"cutproxy-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(10)
            self._server = None

    def __enter__(self):
        return self.start() if self._server is None else self

    def __exit__(self, *exc):
        self.stop()
        return False

    def env(self, base):
        """``base`` (a simulator's env()) with VMWARE_HOST/VMWARE_PORT pointing at the proxy."""
        return dict(base, VMWARE_HOST=self.host, VMWARE_PORT=str(self.port), VMWARE_VALIDATE_CERTS="false")

    def arm(self, method=None, nth=1, phase="response", after=None, partial=None, how="close", index=None):  # pylint: disable=too-many-arguments
        """Cut the `nth` request calling `method`, or request number `index` (see the module docstring);
        replaces any armed rule."""
        rule = _Rule(method, nth, phase, after, partial, how, index)
        with self._lock:
            self._rule = rule
        return self

    def disarm(self):
        with self._lock:
            self._rule = None

    @property
    def armed(self) -> bool:
        return self._rule is not None

    def _match(self, method, command, path):
        """The rule to apply to this request (then used up), or None to forward it."""
        with self._lock:
            self.calls.append((len(self.calls) + 1, method or f"{command} {path}"))
            rule = self._rule
            if rule is None or not rule.started or (rule.method is not None and rule.method != method):
                return None
            if rule.index is not None:
                if rule.index != len(self.calls):
                    return None
            else:
                rule.seen += 1
                if rule.seen < rule.nth:
                    return None
            self._rule = None
            self.cuts.append(dict(method=method, command=command, path=path, phase=rule.phase, partial=rule.partial,
                                  how=rule.how, request=len(self.requests) + 1, index=len(self.calls)))
            return rule

    def _forwarded(self, method):
        with self._lock:
            self.requests.append(method)
            rule = self._rule
            if rule is not None and not rule.started and method == rule.after:
                rule.started = True
