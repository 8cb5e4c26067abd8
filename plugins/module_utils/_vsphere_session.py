# -*- coding: utf-8 -*-
# Copyright: (c) 2026, siterecovery.master_target contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Opt-in reuse of one vCenter session across the tasks of a run (a session cache on disk).

Every module call is its own process, so without this each one logs in and out again. With
SITERECOVERY_VSPHERE_SESSION_CACHE=true the first call keeps its session and writes its id to a
file that only the user can read; later calls with the same host, port, user and password use it
after checking with vCenter that it is still valid (SessionManager.currentSession). The session id
is a bearer credential while the session lives (vCenter ends idle sessions, by default after 30
minutes), which is why this is opt-in.

Safety: the file is 0600 in a 0700 directory, written atomically, refused unless owned by the user
and private; it is named after host, port and user, and holds a salted PBKDF2 digest of the
password, so a changed password never reuses an old session; the session id is never logged nor
returned. Any problem with the cache means a normal login: the cache can make a task faster, never
make it fail.

It uses pyVmomi's session API (SoapStubAdapter.GetSessionId and sessionId=, from 8.0.3.0 on); the
collection's pyVmomi floor (_vsphere_client.PYVMOMI_FLOOR) guarantees it, and connect() refuses older ones.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import stat

from ansible.module_utils.parsing.convert_bool import boolean

try:
    from pyVmomi import SoapStubAdapter, vim, vmodl
except ImportError:  # pragma: no cover - connect() reports the missing library
    pass

CACHE_ENV = "SITERECOVERY_VSPHERE_SESSION_CACHE"
CACHE_DIR_ENV = "SITERECOVERY_VSPHERE_SESSION_CACHE_DIR"
_PBKDF2_ROUNDS = 20000  # about 10 ms: cheap for one task, slow for guessing passwords from a stolen file


def enabled(environ=None):
    """Whether the session cache is on (SITERECOVERY_VSPHERE_SESSION_CACHE, default off)."""
    value = (os.environ if environ is None else environ).get(CACHE_ENV, "")
    try:
        return boolean(value.strip() or "false", strict=True)
    except TypeError:
        return False  # an unparsable value keeps the safe default


def cache_dir(environ=None):
    environ = os.environ if environ is None else environ
    return environ.get(CACHE_DIR_ENV) or os.path.join(os.path.expanduser("~"), ".cache", "siterecovery.master_target", "vsphere-sessions")


class SessionCache:
    """The cache entry of one host, port and user: load(), store(), forget()."""

    def __init__(self, hostname, port, username, password, directory=None):
        who = f"{hostname.lower()}\0{port}\0{username}"
        self.path = os.path.join(directory or cache_dir(), hashlib.sha256(who.encode()).hexdigest()[:32] + ".json")
        self._digest = hashlib.pbkdf2_hmac("sha256", password.encode(), b"siterecovery.session\0" + who.encode(), _PBKDF2_ROUNDS).hex()

    def load(self):
        """(session id, API version) of a private cache file for this password, else None."""
        try:
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            return None
        try:
            info = os.fstat(fd)
            if info.st_uid != os.getuid() or stat.S_IMODE(info.st_mode) & 0o077:
                return None  # not ours, or readable by others: never trust it
            with os.fdopen(fd, "r", encoding="utf-8") as handle:
                fd = None
                entry = json.load(handle)
        except (OSError, ValueError):
            return None
        finally:
            if fd is not None:
                os.close(fd)
        if not isinstance(entry, dict) or not hmac.compare_digest(str(entry.get("password_digest", "")), self._digest):
            return None
        if not entry.get("session") or not entry.get("version"):
            return None
        return entry["session"], entry["version"]

    def store(self, session_id, version):
        """Write the entry atomically (a private temporary file renamed into place); False on failure."""
        directory = os.path.dirname(self.path)
        tmp = f"{self.path}.{os.getpid()}.tmp"
        try:
            os.makedirs(directory, mode=0o700, exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(dict(session=session_id, version=version, password_digest=self._digest), handle)
            os.replace(tmp, self.path)
            return True
        except OSError:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            return False

    def holds(self, session_id):
        """Whether the cache file still names this session (another process may have replaced it)."""
        entry = self.load()
        return entry is not None and hmac.compare_digest(entry[0], session_id)

    def forget(self):
        try:
            os.unlink(self.path)
        except OSError:
            pass


def current_session(content):
    """SessionManager.currentSession through the PropertyCollector: None when not logged in."""
    spec = vmodl.query.PropertyCollector.FilterSpec(
        objectSet=[vmodl.query.PropertyCollector.ObjectSpec(obj=content.sessionManager)],
        propSet=[vmodl.query.PropertyCollector.PropertySpec(type=vim.SessionManager, pathSet=["currentSession"])],
    )
    try:
        result = content.propertyCollector.RetrievePropertiesEx([spec], vmodl.query.PropertyCollector.RetrieveOptions())
    except vim.fault.NotAuthenticated:
        return None
    for item in (result.objects if result else None) or []:
        for prop in item.propSet or []:
            if prop.name == "currentSession":
                return prop.val
    return None


def resume(cache, hostname, port, ssl_context, proxy_host=None, proxy_port=None):
    """(ServiceInstance, ServiceContent) of the cached session when vCenter still knows it, else None.

    Two round trips (RetrieveServiceContent, then the currentSession read), against four for a
    fresh login and logout (the API version probe, RetrieveServiceContent, Login, Logout).
    """
    entry = cache.load()
    if entry is None:
        return None
    session_id, version = entry
    stub = SoapStubAdapter(host=hostname, port=port, version=version, sslContext=ssl_context,
                           httpProxyHost=proxy_host, httpProxyPort=proxy_port or 80, sessionId=session_id)
    service_instance = vim.ServiceInstance("ServiceInstance", stub)
    try:
        content = service_instance.RetrieveContent()
        valid = current_session(content) is not None
    except Exception:  # pylint: disable=broad-except
        # Whatever went wrong (the server, the network, an old API version), a normal login follows and
        # reports the real problem with its clear message; the cache itself must never fail a task.
        valid = False
        content = None
    if not valid:
        stub.DropConnections()
        cache.forget()
        return None
    return service_instance, content
