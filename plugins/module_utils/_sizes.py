# -*- coding: utf-8 -*-
# Copyright: (c) 2026, siterecovery.master_target contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Byte counts as people read them, shared by the retention-plan filters' messages."""

from __future__ import annotations


def human_size(size):
    """Bytes -> '1.0 TiB' / '512.0 MiB' / '12 B'; 'size unknown' when not a number."""
    try:
        size = float(size or 0)
    except (TypeError, ValueError):
        return "size unknown"
    for unit, factor in (("TiB", 1024**4), ("GiB", 1024**3), ("MiB", 1024**2)):
        if size >= factor:
            return f"{size / factor:.1f} {unit}"
    return f"{int(size)} B"
