"""Spreadsheets in and out: the batch import (and its template) and the overview table (一览表)."""
