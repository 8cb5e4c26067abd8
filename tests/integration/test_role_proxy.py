"""The roles hand vsphere_proxy_host / vsphere_proxy_port to the modules, as they do the other connection options.

A loopback HTTP proxy that only tunnels (CONNECT, what a proxy does for HTTPS) stands between the
modules and the simulator. The vCenter host name the modules get resolves nowhere but in the proxy,
so a module that does not use the proxy cannot connect. The vsphere role (in check mode: every step
of the main entry point reads vCenter, nothing changes) and the readiness role run with the proxy as
role variables only: nothing in the environment names it.
"""

from __future__ import annotations

import selectors
import socket
import socketserver
import threading

import pytest

from support.ansible import run_playbook
from support.roles import ASR_MT_01_VARS

PLAYBOOK = """
- name: Prepare (check mode) and judge the master target through the proxy
  hosts: localhost
  gather_facts: false
  roles:
    - role: siterecovery.master_target.vsphere
    - role: siterecovery.master_target.readiness
"""
# Known to the proxy only (.invalid never resolves).
VCENTER_NAME = "vcenter.proxied.invalid"


class ConnectProxy(socketserver.ThreadingTCPServer):
    """Tunnels CONNECT requests to their target and records each target ("host:port").

    ``hosts`` maps host names to the addresses the proxy connects to instead.
    """

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, hosts: dict[str, str]):
        self.tunnels: list[str] = []
        self.hosts = hosts
        super().__init__(("127.0.0.1", 0), _TunnelHandler)

    @property
    def port(self) -> int:
        return self.server_address[1]


class _TunnelHandler(socketserver.BaseRequestHandler):
    def handle(self):
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.request.recv(4096)
            if not chunk:
                return
            head += chunk
        method, target = head.split(b"\r\n", 1)[0].decode().split(" ")[:2]
        if method != "CONNECT":
            self.request.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        host, port = target.rsplit(":", 1)
        host = self.server.hosts.get(host, host.strip("[]"))
        with socket.create_connection((host, int(port))) as upstream:
            self.server.tunnels.append(target)
            self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            _pipe(self.request, upstream)


def _pipe(a: socket.socket, b: socket.socket) -> None:
    """Copy bytes both ways until one side closes."""
    with selectors.DefaultSelector() as selector:
        selector.register(a, selectors.EVENT_READ, b)
        selector.register(b, selectors.EVENT_READ, a)
        while True:
            for key, _events in selector.select():
                data = key.fileobj.recv(65536)
                if not data:
                    return
                key.data.sendall(data)


@pytest.fixture(name="proxy")
def fixture_proxy(vcsim):
    server = ConnectProxy({VCENTER_NAME: vcsim.host})
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_the_roles_reach_vcenter_through_the_proxy_they_are_given(vcsim, proxy):
    env = dict(vcsim.env(), VMWARE_HOST=VCENTER_NAME)
    assert not any(name.startswith("VMWARE_PROXY") for name in env)
    result = run_playbook(
        PLAYBOOK,
        env=env,
        check=True,
        extra_vars=dict(
            ASR_MT_01_VARS,
            vsphere_proxy_host="127.0.0.1",
            vsphere_proxy_port=proxy.port,
            readiness_master_targets=["asr/asr-mt-01"],
            readiness_report_dir="",
            readiness_fail_on_error=False,
        ),
    )
    assert not result.failed_hosts, result.debug
    # Each module run logs in once: the plan, the steps it found needed (check mode), the verdict.
    assert len(proxy.tunnels) >= 3, (proxy.tunnels, result.debug)
    assert set(proxy.tunnels) == {f"{VCENTER_NAME}:{vcsim.port}"}, proxy.tunnels
