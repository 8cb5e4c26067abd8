# -*- coding: utf-8 -*-
# Copyright: (c) 2026, siterecovery.master_target contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection to vCenter/ESXi: options, login, and one clear error per failure.

Private to this collection. The option names, aliases and environment variables are
community.vmware's, so existing inventories and AWX "VMware vCenter" credentials work.
"""

from __future__ import annotations

import atexit
import socket
import ssl

from ansible.module_utils.basic import env_fallback, missing_required_lib

try:
    from pyVim.connect import Disconnect, SmartConnect
    from pyVmomi import vim, vmodl
except ImportError:  # pragma: no cover - reported by connect()
    HAS_PYVMOMI = False
else:
    HAS_PYVMOMI = True


class VSphereError(Exception):
    """A failure the user can act on: the message names the object, the cause and the fix.

    Helpers raise it; only the module's entry point turns it into fail_json.
    """

    def __init__(self, msg, **details):
        super().__init__(msg)
        self.msg = msg
        self.details = details


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
    """A logged-in session; `content` is the ServiceContent (root folder, collectors, managers)."""

    def __init__(self, service_instance, hostname):
        self.service_instance = service_instance
        self.hostname = hostname
        self.content = service_instance.RetrieveContent()

    @property
    def stub(self):
        return self.service_instance._stub  # pylint: disable=protected-access

    def disconnect(self):
        if self.service_instance is not None:
            try:
                Disconnect(self.service_instance)
            except Exception:  # pylint: disable=broad-except
                pass  # logging out of a session that is already gone must not mask the real result
            self.service_instance = None


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

    try:
        service_instance = SmartConnect(**kwargs)
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
                f"The TLS certificate of vCenter {where} is not trusted ({error}). Add the vCenter CA certificate to this machine's "
                "trust store, or set validate_certs: false (VMWARE_VALIDATE_CERTS=false) if you accept an unverified connection."
            ) from None
        if isinstance(error, (OSError, ssl.SSLError)):
            raise VSphereError(f"Cannot connect to vCenter {where}: {error}. Check the hostname, port and proxy options.") from None
        raise
    client = VSphereClient(service_instance, hostname)
    atexit.register(client.disconnect)
    return client
