"""Readers for data as NHS England and NHS Digital publish it (not the capwatch input contract).

A published file's name does not name a table, so each reader recognises its files by their
content (`recognise`). Each returns validated Polars frames or raises `FileRejected`.
"""

from __future__ import annotations
