# -*- coding: utf-8 -*-
# Copyright: (c) 2026, siterecovery.master_target contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection to vCenter/ESXi: options, login, and one clear error per failure.

Private to this collection. The option names, aliases and environment variables are
community.vmware's, so existing inventories and AWX "VMware vCenter" credentials work.
"""

from __future__ import annotations

import atexit
import http.client
import importlib.metadata
import socket
import ssl
import sys
from xml.etree.ElementTree import ParseError
from xml.parsers.expat import ExpatError

from ansible.module_utils.basic import env_fallback, missing_required_lib

from ansible_collections.siterecovery.master_target.plugins.module_utils import _vsphere_session

try:
    from pyVim.connect import SmartStubAdapter
    from pyVmomi import SoapStubAdapter, vim, vmodl
except ImportError:  # pragma: no cover - reported by connect()
    HAS_PYVMOMI = False
else:
    HAS_PYVMOMI = True

# The oldest pyVmomi supported (README "Supported versions"; `scripts/test lowest` runs on it): 8.0.3.0
# is the first release for Python 3.12 and the first with the session API that the session cache uses
# (SoapStubAdapter.GetSessionId, sessionId=); 8.0.3.0.0 is not on PyPI.
PYVMOMI_FLOOR = "8.0.3.0.1"


# What pyVmomi raises when the connection to vCenter breaks in the middle of a call: the socket
# closed or reset (http.client.RemoteDisconnected is a ConnectionResetError), a timeout, a TLS
# error, a reply cut short (IncompleteRead, or ExpatError when the SOAP parser hits the cut, or
# ElementTree's ParseError when the API version probe's /sdk/vimServiceVersions.xml is cut).
CONNECTION_ERRORS = (ConnectionError, TimeoutError, ssl.SSLError, http.client.HTTPException, ExpatError, ParseError)


class VSphereError(Exception):
    """A failure the user can act on: the message names the object, the cause and the fix.

    Helpers raise it; only the module's entry point turns it into fail_json.
    """

    def __init__(self, msg, **details):
        super().__init__(msg)
        self.msg = msg
        self.details = details


def pyvmomi_too_old():
    """The installed pyVmomi's version when it is older than PYVMOMI_FLOOR, else None.

    Decided by the API this collection needs (the session API of 8.0.3), not by parsing versions.
    """
    if hasattr(SoapStubAdapter, "GetSessionId"):
        return None
    try:
        return importlib.metadata.version("pyvmomi")
    except importlib.metadata.PackageNotFoundError:
        return "(version unknown)"


def connection_argument_spec():
    return dict(
        hostname=dict(type="str", fallback=(env_fallback, ["VMWARE_HOST"])),
        username=dict(type="str", aliases=["user", "admin"], fallback=(env_fallback, ["VMWARE_USER"])),
        password=dict(type="str", aliases=["pass", "pwd"], no_log=True, fallback=(env_fallback, ["VMWARE_PASSWORD"])),
        port=dict(type="int", default=443, fallback=(env_fallback, ["VMWARE_PORT"])),
        validate_certs=dict(type="bool", default=True, fallback=(env_fallback, ["VMWARE_VALIDATE_CERTS"])),
        proxy_host=dict(type="str", fallback=(env_fallback, ["VMWARE_PROXY_HOST"])),
        proxy_port=dict(type="int", fallback=(env_fallback, ["VMWARE_PROXY_PORT"])),
    )


class VSphereClient:
    """A logged-in session; `content` is the ServiceContent (root folder, collectors, managers).

    With the session cache (_vsphere_session), `session_cache` is the cache entry and `resumed` says
    whether this session came from it; disconnect() then leaves the session logged in for later tasks.
    """

    def __init__(self, service_instance, hostname, content=None):
        self.service_instance = service_instance
        self.hostname = hostname
        # connect() passes the ServiceContent it already read: one round trip less per task.
        self.content = content or service_instance.RetrieveContent()
        self.session_cache = None
        self.resumed = False

    @property
    def stub(self):
        return self.service_instance._stub  # pylint: disable=protected-access

    def _keeps_session(self):
        if self.resumed:
            return True  # other tasks may be using the cached session right now
        # A task running at the same time may have put its own session in the cache meanwhile: then
        # this one logs out, so at most one session per cache entry is left behind.
        return self.session_cache is not None and self.session_cache.holds(self.stub.GetSessionId() or "")

    def disconnect(self):
        if self.service_instance is not None:
            try:
                if not self._keeps_session():
                    # The ServiceContent read at login names the SessionManager (pyVim's Disconnect
                    # would read it again: one round trip more).
                    self.content.sessionManager.Logout()
                self.stub.DropConnections()
            except Exception:  # pylint: disable=broad-except
                pass  # logging out of a session that is already gone must not mask the real result
            self.service_instance = None


def connection_error_text(error):
    """Pure: what broke, for a message: the reply cut short, or the error's own words with its type."""
    if isinstance(error, (ExpatError, ParseError, http.client.IncompleteRead)):
        return f"the reply was cut short: {type(error).__name__}: {error}"
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def connection_lost(params, error):
    """The VSphereError for a connection that broke in the middle of a run (not at login)."""
    where = f"{params.get('hostname')}:{params.get('port') or 443}"
    return VSphereError(
        f"The connection to vCenter {where} was lost in the middle of the run ({connection_error_text(error)}). "
        "A change this run had already submitted to vCenter may have been applied; nothing else was. Check the network path "
        "to vCenter (proxies, firewalls, load balancers) and that vCenter is up, then run the task again: it reads the "
        "current state and does only what is left."
    )


def _require(params, name, env):
    value = params.get(name)
    if not value:
        raise VSphereError(f"The {name} option is required to connect to vCenter: set {name} or the {env} environment variable.")
    return value


def _is_certificate_error(error):
    if isinstance(error, ssl.SSLCertVerificationError):
        return True
    # pyVmomi sometimes wraps the SSL error; look one level down.
    cause = getattr(error, "reason", None) or error.__cause__ or error.__context__
    return isinstance(cause, ssl.SSLCertVerificationError)


def connect(params):
    """Log in with the connection options; raise VSphereError with one clear message on failure."""
    if not HAS_PYVMOMI:
        raise VSphereError(missing_required_lib("pyvmomi"))
    too_old = pyvmomi_too_old()
    if too_old:
        raise VSphereError(
            f"pyVmomi {too_old} is too old: this collection needs pyVmomi {PYVMOMI_FLOOR} or newer. Upgrade it in the Python "
            f"that runs the modules ({sys.executable} -m pip install --upgrade 'pyvmomi>={PYVMOMI_FLOOR}')."
        )
    hostname = _require(params, "hostname", "VMWARE_HOST")
    username = _require(params, "username", "VMWARE_USER")
    password = _require(params, "password", "VMWARE_PASSWORD")
    port = params.get("port") or 443
    where = f"{hostname}:{port}"

    kwargs = dict(host=hostname, port=port, user=username, pwd=password)
    if params.get("validate_certs", True):
        kwargs["sslContext"] = ssl.create_default_context()
    else:
        kwargs["disableSslCertValidation"] = True
    if params.get("proxy_host"):
        kwargs["httpProxyHost"] = params["proxy_host"]
        kwargs["httpProxyPort"] = params.get("proxy_port") or 80

    cache = _vsphere_session.SessionCache(hostname, port, username, password) if _vsphere_session.enabled() else None
    if cache is not None:
        ssl_context = kwargs.get("sslContext") or ssl._create_unverified_context()  # pylint: disable=protected-access
        resumed = _vsphere_session.resume(cache, hostname, port, ssl_context, kwargs.get("httpProxyHost"), kwargs.get("httpProxyPort"))
        if resumed is not None:
            client = VSphereClient(resumed[0], hostname, resumed[1])
            client.session_cache, client.resumed = cache, True
            atexit.register(client.disconnect)
            return client

    try:
        service_instance, content = _login(kwargs)
    except vim.fault.InvalidLogin:
        raise VSphereError(
            f"Login to vCenter {where} as '{username}' failed: the user name or password is wrong. "
            "Fix the username/password options (or VMWARE_USER/VMWARE_PASSWORD)."
        ) from None
    except socket.gaierror as error:
        raise VSphereError(
            f"Cannot resolve the vCenter host name '{hostname}' ({error.strerror}). Fix the hostname option (or VMWARE_HOST)."
        ) from None
    except ConnectionRefusedError:
        raise VSphereError(
            f"Connection to vCenter {where} was refused: nothing listens there. Check the hostname and port options and that vCenter is up."
        ) from None
    except (socket.timeout, TimeoutError):
        raise VSphereError(f"Connection to vCenter {where} timed out. Check the address, the port and any firewall or proxy on the way.") from None
    except vmodl.MethodFault as error:
        raise VSphereError(f"Login to vCenter {where} failed: {error.msg}") from None
    except Exception as error:  # pylint: disable=broad-except
        if _is_certificate_error(error):
            raise VSphereError(
                f"The TLS certificate of vCenter {where} is not trusted ({error}). Trust the vCenter CA: add its certificate to this "
                "machine's trust store, or point the SSL_CERT_FILE environment variable at a PEM file holding it. Or set "
                "validate_certs: false (VMWARE_VALIDATE_CERTS=false) if you accept an unverified connection."
            ) from None
        if isinstance(error, (ExpatError, ParseError, http.client.HTTPException)):
            raise VSphereError(
                f"The connection to vCenter {where} broke while logging in ({connection_error_text(error)}). Nothing was changed. "
                "Check the network path to vCenter (proxies, firewalls, load balancers) and that vCenter is up, then run the task again."
            ) from None
        if isinstance(error, (OSError, ssl.SSLError)):
            raise VSphereError(f"Cannot connect to vCenter {where}: {error}. Check the hostname, port and proxy options.") from None
        raise
    client = VSphereClient(service_instance, hostname, content)
    if cache is not None and client.stub.GetSessionId():
        client.session_cache = cache
        cache.store(client.stub.GetSessionId(), client.stub.version)
    atexit.register(client.disconnect)
    return client


def _login(kwargs):
    """SmartConnect without its second RetrieveServiceContent: (ServiceInstance, ServiceContent).

    The same steps: probe the newest API version both sides speak, read the ServiceContent, Login.
    """
    login = dict(kwargs)
    user, pwd = login.pop("user"), login.pop("pwd")
    stub = SmartStubAdapter(**login)
    service_instance = vim.ServiceInstance("ServiceInstance", stub)
    content = service_instance.RetrieveContent()
    content.sessionManager.Login(user, pwd, None)
    return service_instance, content
