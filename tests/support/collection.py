"""Make the repository importable and usable as ``siterecovery.master_target``.

Ansible finds a collection at ``<path>/ansible_collections/<namespace>/<name>``. The repository root
is the collection root, so tests build such a tree OUTSIDE the repository (a symlink inside it would
make ansible-test, ansible-lint and pytest recurse into themselves) and point Ansible and
``sys.path`` at it.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

NAMESPACE = "siterecovery"
NAME = "master_target"
FQCN = f"{NAMESPACE}.{NAME}"

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_COLLECTIONS_DIR = Path("~/.cache/siterecovery-master-target/collections")


def collections_dir() -> Path:
    """Return the directory that holds ``ansible_collections/`` (not created here).

    ``$SITERECOVERY_COLLECTIONS_DIR`` wins. The default has one subdirectory per checkout (named by
    a hash of its path), so two clones tested at the same time never swap each other's link.
    """
    configured = os.environ.get("SITERECOVERY_COLLECTIONS_DIR")
    if configured:
        return Path(configured).expanduser().resolve()
    checkout = hashlib.sha256(str(REPO_ROOT).encode()).hexdigest()[:12]
    return (DEFAULT_COLLECTIONS_DIR / checkout).expanduser().resolve()


def ensure_collection_tree() -> str:
    """Create (idempotently) ``<dir>/ansible_collections/siterecovery/master_target -> repo root``.

    Returns ``<dir>``, the value for ANSIBLE_COLLECTIONS_PATH and for ``sys.path``.
    An existing link to another checkout is replaced, so the tests always see this tree.
    """
    base = collections_dir()
    if base == REPO_ROOT or REPO_ROOT in base.parents:
        raise RuntimeError(
            f"SITERECOVERY_COLLECTIONS_DIR={base} is inside the repository {REPO_ROOT}; "
            "choose a directory outside it (tools would recurse through the symlink)"
        )
    namespace_dir = base / "ansible_collections" / NAMESPACE
    namespace_dir.mkdir(parents=True, exist_ok=True)
    link = namespace_dir / NAME
    if link.is_symlink():
        if Path(os.readlink(link)) == REPO_ROOT:
            return str(base)
        # Replace atomically: another pytest process may be reading it.
        tmp = namespace_dir / f".{NAME}.{os.getpid()}.tmp"
        if tmp.is_symlink():
            tmp.unlink()
        tmp.symlink_to(REPO_ROOT, target_is_directory=True)
        os.replace(tmp, link)
    elif link.exists():
        raise RuntimeError(f"{link} exists and is not a symlink; remove it so tests can link {REPO_ROOT}")
    else:
        try:
            link.symlink_to(REPO_ROOT, target_is_directory=True)
        except FileExistsError:  # a concurrent process made it first
            if not link.is_symlink() or Path(os.readlink(link)) != REPO_ROOT:
                raise
    return str(base)
