"""A counting HTTPS reverse proxy for the vSphere SOAP API, on loopback.

Both collections talk to the simulator through it, so their round trips are counted the same way:
every POST is counted under the name of the first element inside the SOAP Body (the method, e.g.
``RetrievePropertiesEx``), every other request as ``GET /path``. Response bytes are summed too.

    with CountingProxy("127.0.0.1", 8989) as proxy:    # upstream: the simulator
        env["VMWARE_PORT"] = str(proxy.port)            # clients connect to the proxy
        before = proxy.snapshot()
        ...                                             # run modules
        calls = proxy.snapshot() - before               # Counter: method -> requests

With `latency` (seconds), every request waits that long before it is forwarded: a stand-in for the
round trip to a real vCenter across a network, which loopback to the simulator does not have.

The proxy presents a throw-away self-signed certificate (clients run with validate_certs=false) and
opens one upstream connection per client connection, so HTTP keep-alive is kept end to end. It
listens on 127.0.0.1 only and forwards only to the one upstream given.
"""

from __future__ import annotations

import datetime
import http.client
import http.server
import os
import re
import ssl
import tempfile
import threading
import time
from collections import Counter

_METHOD = re.compile(rb"<(?:[\w-]+:)?Body\b[^>]*>\s*<(?:[\w-]+:)?(\w+)")
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection", "content-length"}

BYTES = "_bytes"  # the Counter key holding response bytes (not a request count)


def soap_method(body: bytes) -> str:
    match = _METHOD.search(body[:4096])
    return match.group(1).decode() if match else "POST ?"


def _self_signed(directory):
    """Write a self-signed certificate and key for 127.0.0.1; return (cert path, key path)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "soapcount")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    with open(cert_path, "wb") as out:
        out.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as out:
        out.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return cert_path, key_path


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as pyVmomi and requests expect
    server: "_Server"

    def log_message(self, *args):  # quiet
        pass

    def _upstream(self):
        conn = getattr(self, "_conn", None)
        if conn is None:
            conn = http.client.HTTPSConnection(self.server.upstream_host, self.server.upstream_port,
                                               context=self.server.upstream_context, timeout=600)
            self._conn = conn
        return conn

    def _forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        key = soap_method(body) if self.command == "POST" else f"{self.command} {self.path.split('?')[0]}"
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP and k.lower() != "host"}
        headers["Host"] = f"{self.server.upstream_host}:{self.server.upstream_port}"
        if self.server.latency:
            time.sleep(self.server.latency)
        for attempt in (1, 2):
            conn = self._upstream()
            try:
                conn.request(self.command, self.path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
                break
            except (http.client.HTTPException, ConnectionError):
                conn.close()
                self._conn = None
                if attempt == 2:
                    raise
        self.server.count(key, len(data))
        self.send_response(response.status, response.reason)
        for name, value in response.getheaders():
            if name.lower() not in _HOP_BY_HOP:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _forward

    def finish(self):
        super().finish()
        conn = getattr(self, "_conn", None)
        if conn is not None:
            conn.close()


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, upstream_host, upstream_port, latency=0.0):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.upstream_host, self.upstream_port = upstream_host, upstream_port
        self.latency = latency
        self.upstream_context = ssl._create_unverified_context()  # the simulator's own self-signed certificate
        self._lock = threading.Lock()
        self.counts = Counter()

    def count(self, key, size):
        with self._lock:
            self.counts[key] += 1
            self.counts[BYTES] += size


class CountingProxy:
    def __init__(self, upstream_host, upstream_port, latency=0.0):
        self._server = _Server(upstream_host, upstream_port, latency)
        self._tmp = tempfile.mkdtemp(prefix="soapcount-")
        cert, key = _self_signed(self._tmp)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.host, self.port = self._server.server_address[:2]
        self._thread = None

    def start(self):
        self._thread = threading.Thread(target=self._server.serve_forever, name="soapcount", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()
        for name in os.listdir(self._tmp):
            os.unlink(os.path.join(self._tmp, name))
        os.rmdir(self._tmp)

    def snapshot(self) -> Counter:
        with self._server._lock:  # pylint: disable=protected-access
            return Counter(self._server.counts)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False
