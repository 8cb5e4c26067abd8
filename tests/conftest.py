"""Shared pytest set-up: make ``ansible_collections.siterecovery.master_target`` importable.

Runs when pytest loads this file, before any test module is imported:

* builds the out-of-tree collection link (tests/support/collection.py);
* puts its directory first on ``sys.path``: ``ansible_collections`` is a namespace package, so our
  collection and the ones installed with the ``ansible`` package (site-packages) both resolve;
* exports ANSIBLE_COLLECTIONS_PATH so ansible-playbook, ansible-doc etc. started by tests find it
  (ahead of the site-packages collections, which Ansible still searches after it).
"""

from __future__ import annotations

import os
import sys

from support.collection import ensure_collection_tree

COLLECTIONS_DIR = ensure_collection_tree()

if COLLECTIONS_DIR in sys.path:
    sys.path.remove(COLLECTIONS_DIR)
sys.path.insert(0, COLLECTIONS_DIR)
os.environ["ANSIBLE_COLLECTIONS_PATH"] = COLLECTIONS_DIR
