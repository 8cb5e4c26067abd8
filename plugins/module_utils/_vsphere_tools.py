# -*- coding: utf-8 -*-
# Copyright: siterecovery.master_target contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""VMware Tools facts and Azure Site Recovery's Tools requirement, as pure functions.

Shared by vm_tools (which waits for and mounts Tools) and failback_readiness_info (which reports).
"""

from __future__ import annotations

# Every property tools_facts() and guest_facts() read: one RetrievePropertiesEx.
TOOLS_PATHS = (
    "guest.toolsRunningStatus",
    "guest.toolsStatus",
    "summary.guest.toolsStatus",
    "guest.toolsVersion",
    "config.tools.toolsVersion",
    "guest.toolsVersionStatus2",
    "guest.toolsInstallType",
    "guest.guestFamily",
    "guest.guestState",
    "guest.hostName",
    "guest.ipAddress",
    "config.guestId",
    "runtime.powerState",
    "runtime.toolsInstallerMounted",
)

ASR_REASON = (
    "Azure Site Recovery needs VMware Tools installed and running on the master target, "
    "else the ESXi host's datastores are not listed in the portal."
)


def _text(props, path):
    """A property as a string, None when unset or empty (vCenter leaves guest.* empty when unknown)."""
    value = props.get(path)
    return str(value) if value not in (None, "") else None


def _version(props):
    """The Tools version number as a string, None when vCenter knows none ("0" means none)."""
    for path in ("guest.toolsVersion", "config.tools.toolsVersion"):
        value = _text(props, path)
        if value and value.isdigit() and int(value) > 0:
            return value
    return None


def version_text(version):
    """Pure: vCenter's Tools version number as major.minor.patch (12389 -> 12.3.5); None for none."""
    if not version or not str(version).isdigit() or int(version) <= 0:
        return None
    number = int(version)
    return f"{number >> 10}.{(number >> 5) & 0x1F}.{number & 0x1F}"


def tools_facts(props):
    """Pure: VMware Tools facts from the properties in TOOLS_PATHS (a dict path -> value; absent = unset).

    `running` follows guest.toolsRunningStatus (guestToolsExecutingScripts means still starting).
    `installed`: running Tools are installed; else toolsStatus says it (toolsNotInstalled is the only
    "no"), else toolsVersionStatus2, else a known version number.
    """
    running_status = _text(props, "guest.toolsRunningStatus")
    status = _text(props, "guest.toolsStatus") or _text(props, "summary.guest.toolsStatus")
    version_status = _text(props, "guest.toolsVersionStatus2")
    version = _version(props)
    if running_status:
        running = running_status == "guestToolsRunning"
    else:
        running = status in ("toolsOk", "toolsOld")
    if running:
        installed = True
    elif status:
        installed = status != "toolsNotInstalled"
    elif version_status:
        installed = version_status != "guestToolsNotInstalled"
    else:
        installed = version is not None
    return dict(
        installed=installed,
        running=running,
        running_status=running_status,
        status=status,
        version=version,
        version_text=version_text(version),
        version_status=version_status,
        install_type=_text(props, "guest.toolsInstallType"),
        installer_mounted=bool(props.get("runtime.toolsInstallerMounted")),
    )


def guest_facts(props):
    """Pure: power state and what vCenter and the Tools report about the guest."""
    return dict(
        power_state=_text(props, "runtime.powerState"),
        guest_id=_text(props, "config.guestId"),
        guest_family=_text(props, "guest.guestFamily"),
        guest_state=_text(props, "guest.guestState"),
        host_name=_text(props, "guest.hostName"),
        ip_address=_text(props, "guest.ipAddress"),
    )


def requirement_met(tools):
    """Pure: Azure Site Recovery's requirement on the master target: Tools installed and running."""
    return bool(tools["installed"] and tools["running"])


def is_windows(guest):
    """Pure: a Windows guest, by the family its Tools report or else its configured guest id."""
    if guest.get("guest_family"):
        return guest["guest_family"] == "windowsGuest"
    return (guest.get("guest_id") or "").lower().startswith("win")


def tools_problem(name, tools, guest):
    """Pure: what keeps VM `name` from meeting the Tools requirement, and the fix; None when it is met."""
    if requirement_met(tools):
        return None
    if guest.get("power_state") != "poweredOn":
        return f"VM {name} is {guest.get('power_state')}: VMware Tools run only in a powered-on VM. Power it on."
    seen = f"guest.toolsRunningStatus={tools['running_status']}, toolsStatus={tools['status']}"
    if not tools["installed"]:
        how = (
            "Install VMware Tools in the guest: state: installer_mounted mounts the installer in its CD/DVD drive, then run setup64.exe"
            if is_windows(guest)
            else "Install open-vm-tools from the distribution in the guest (apt-get install open-vm-tools, dnf install open-vm-tools)"
        )
        return f"VMware Tools are not installed in VM {name} ({seen}). {how}; the linux and windows roles of this collection do it."
    how = (
        "Start the VMware Tools service in the guest (Start-Service VMTools) and set it to start automatically"
        if is_windows(guest)
        else "Start open-vm-tools in the guest (systemctl enable --now open-vm-tools, vmtoolsd on some distributions)"
    )
    return f"VMware Tools are installed in VM {name} but not running ({seen}). {how}."
