"""Start the vCenter simulator harness (tests/vcsim) from Python tests and scripts.

    with start_vcsim() as sim:          # default scene, see tests/vcsim/README.md
        si = sim.connect()               # pyvmomi ServiceInstance
        env = sim.env()                  # VMWARE_HOST, VMWARE_PORT, ... for modules
        props = read_props(si, "VirtualMachine", ["runtime.powerState"])

CLI (for demos): python tests/support/vcsim.py --scene default
prints the harness's JSON line and serves until interrupted.

Only the standard library is needed, except for connect() and read_props()
which import pyVmomi when called.
"""

import argparse
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
VCSIM_DIR = os.path.join(os.path.dirname(HERE), "vcsim")
BUILD_SH = os.path.join(VCSIM_DIR, "build.sh")

DEFAULT_USERNAME = "administrator@vsphere.local"
DEFAULT_PASSWORD = "VMware1!"


def build(timeout=300):
    """Build the harness binary if needed (tests/vcsim/build.sh); return its path."""
    out = subprocess.run(["bash", BUILD_SH], check=True, stdout=subprocess.PIPE, timeout=timeout)
    return out.stdout.decode().strip().splitlines()[-1]


class Vcsim:
    """A running harness process. Use as a context manager or call stop()."""

    def __init__(self, scene="default", extra_vms=0, master_targets=2,
                 username=DEFAULT_USERNAME, password=DEFAULT_PASSWORD,
                 binary=None, start_timeout=120, stderr=None):
        self.scene = scene
        self.extra_vms = extra_vms
        self.master_targets = master_targets
        self.username = username
        self.password = password
        self.binary = binary
        self.start_timeout = start_timeout
        self.stderr = stderr  # None: inherit (vcsim logs go to the test's stderr)
        self.proc = None
        self.info = {}
        self.host = self.port = self.url = self.cert = None
        self.startup_seconds = None  # process start to JSON line, build excluded
        self._tmpdir = None

    def start(self):
        binary = self.binary or os.environ.get("VCSIM_BIN_PATH") or build()
        self._tmpdir = tempfile.mkdtemp(prefix="vcsim-py-")
        cert_out = os.path.join(self._tmpdir, "vcsim-cert.pem")
        cmd = [binary, "-scene", self.scene, "-extra-vms", str(self.extra_vms),
               "-master-targets", str(self.master_targets),
               "-username", self.username, "-password", self.password,
               "-cert-out", cert_out]
        started = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.stderr)
        try:
            line = self._read_line(started)
            self.info = json.loads(line)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started
        self.host = self.info["host"]
        self.port = int(self.info["port"])
        self.url = self.info["url"]
        self.cert = self.info.get("cert") or None
        return self

    def _read_line(self, started):
        """Read the one JSON line, with a deadline (readline alone could block forever)."""
        fd = self.proc.stdout.fileno()
        buf = b""
        while b"\n" not in buf:
            left = self.start_timeout - (time.monotonic() - started)
            if left <= 0:
                raise TimeoutError("vcsim did not report ready in %ss" % self.start_timeout)
            ready = select.select([fd], [], [], left)[0]
            if not ready:
                continue
            chunk = os.read(fd, 4096)
            if not chunk:
                raise RuntimeError("vcsim exited with code %s before it was ready" % self.proc.wait())
            buf += chunk
        return buf.split(b"\n", 1)[0].decode()

    def env(self):
        """community.vmware-style environment variables for modules and playbooks."""
        return {
            "VMWARE_HOST": self.host,
            "VMWARE_PORT": str(self.port),
            "VMWARE_USER": self.username,
            "VMWARE_PASSWORD": self.password,
            "VMWARE_VALIDATE_CERTS": "false",
        }

    def connect(self, username=None, password=None):
        """A pyvmomi ServiceInstance (certificate validation off)."""
        from pyVim.connect import SmartConnect
        return SmartConnect(host=self.host, port=self.port,
                            user=self.username if username is None else username,
                            pwd=self.password if password is None else password,
                            disableSslCertValidation=True)

    def stop(self, timeout=10):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None and self.proc.stdout:
            self.proc.stdout.close()
        if self._tmpdir:
            for name in os.listdir(self._tmpdir):
                os.unlink(os.path.join(self._tmpdir, name))
            os.rmdir(self._tmpdir)
            self._tmpdir = None

    def __enter__(self):
        if self.proc is None:
            self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False


def start_vcsim(scene="default", extra_vms=0, master_targets=2,
                username=DEFAULT_USERNAME, password=DEFAULT_PASSWORD, **kwargs):
    """Start a harness and return the running Vcsim (also usable in a with block)."""
    return Vcsim(scene=scene, extra_vms=extra_vms, master_targets=master_targets,
                 username=username, password=password, **kwargs).start()


def read_props(si, obj_type, paths, names=None, container=None):
    """Read `paths` of every `obj_type` object with ONE RetrievePropertiesEx call.

    obj_type is a vim type or its name ("VirtualMachine"). Goes through a
    ContainerView (recursive, from the root folder unless `container` is given),
    never through property accessors. Returns {name: {path: value}}; a path
    that is unset on an object is absent from its dict. With `names`, only those
    objects are kept. Objects sharing a name (e.g. dup-vm) would collide:
    use read_props_list for those.
    """
    result = {}
    for entry in read_props_list(si, obj_type, paths, container=container):
        name = entry["name"]
        if names is None or name in names:
            result[name] = {k: v for k, v in entry.items() if k != "obj"}
    return result


def read_props_list(si, obj_type, paths, container=None):
    """Like read_props, but a list of dicts, each with "obj" (the managed object) and "name"."""
    from pyVmomi import vim, vmodl

    if isinstance(obj_type, str):
        obj_type = getattr(vim, obj_type)
    content = si.RetrieveContent()
    view = content.viewManager.CreateContainerView(container or content.rootFolder, [obj_type], True)
    try:
        pc = vmodl.query.PropertyCollector
        spec = pc.FilterSpec(
            objectSet=[pc.ObjectSpec(obj=view, skip=True, selectSet=[pc.TraversalSpec(
                name="view", path="view", skip=False, type=vim.view.ContainerView)])],
            propSet=[pc.PropertySpec(type=obj_type, pathSet=sorted(set(["name"] + list(paths))))])
        out = []
        res = content.propertyCollector.RetrievePropertiesEx([spec], pc.RetrieveOptions())
        while res is not None:
            for oc in res.objects:
                entry = {"obj": oc.obj}
                entry.update((p.name, p.val) for p in oc.propSet)
                out.append(entry)
            if not res.token:
                break
            res = content.propertyCollector.ContinueRetrievePropertiesEx(res.token)
        return out
    finally:
        view.DestroyView()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    ap.add_argument("--scene", default="default", choices=["default", "empty", "esx"])
    ap.add_argument("--extra-vms", type=int, default=0)
    ap.add_argument("--master-targets", type=int, default=2)
    ap.add_argument("--username", default=DEFAULT_USERNAME)
    ap.add_argument("--password", default=DEFAULT_PASSWORD)
    args = ap.parse_args(argv)
    sim = Vcsim(scene=args.scene, extra_vms=args.extra_vms, master_targets=args.master_targets,
                username=args.username, password=args.password)

    def on_term(*_args):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    try:
        sim.start()
        print(json.dumps(sim.info), flush=True)
        while sim.proc.poll() is None:
            time.sleep(0.5)
        return sim.proc.returncode or 0
    except KeyboardInterrupt:
        return 0
    finally:
        sim.stop()


if __name__ == "__main__":
    sys.exit(main())
