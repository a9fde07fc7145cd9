"""Train the sync dictionary (`src/zctui/data/sync.zdict`, coding `zstd-d1`).

Samples: sync bodies of the demo's half-done application (`sync_bodies.training_samples`,
UUIDs and hashes fresh in each). Held out: bodies of the complete application, on which
each dictionary size is judged (compressed bytes with the dictionary against plain zstd).
The judge is the small bodies (all but the full push): they are what the dictionary is
for, and what the issue's budgets (600 B a one-field edit) are about; a full push is far
under its budget either way. The smallest dictionary within 2 % of the best is kept: a
bigger one is more fitted to the demo's own words.

Run: `PYTHONPATH=src .venv/bin/python bench/sync_zdict.py [--write]`. Without --write it
only prints. A retrained dictionary is a new coding (`zstd-d2`), never a new file under
the old token: a client and a server with different files would garble every body.
"""

from __future__ import annotations

import argparse
import uuid
from pathlib import Path

import zstandard

import sync_bodies
from zctui.domain import codec

OUT = Path(__file__).resolve().parent.parent / "src" / "zctui" / "data" / codec.DICT_FILE
SIZES = (1024, 2048, 4096, 8192, 16384)
DICT_ID = 0x7A630001  # "zc" + version 1 (not written in frames: the token names it)


def held_out(d: sync_bodies.Demo) -> dict[str, bytes]:
    client = uuid.uuid4()
    edit_in, edit_out = sync_bodies.one_field_edit(d, client)
    none_in, none_out = sync_bodies.no_change(client)
    push_in, push_out = sync_bodies.full_push(d, client)
    _, pull_out = sync_bodies.pull_one_row(d, client)
    return {
        "one-field edit ↑": edit_in.model_dump_json(exclude_defaults=True).encode(),
        "one-field edit ↓": edit_out.model_dump_json().encode(),
        "no-change ↑": none_in.model_dump_json(exclude_defaults=True).encode(),
        "no-change ↓": none_out.model_dump_json().encode(),
        "pull one row ↓": pull_out.model_dump_json().encode(),
        "full push ↑": push_in.model_dump_json(exclude_defaults=True).encode(),
        "full push ↓": push_out.model_dump_json().encode(),
    }


def size(body: bytes, d: zstandard.ZstdCompressionDict | None) -> int:
    level = codec.LEVEL_SMALL
    if d is None:
        return len(zstandard.ZstdCompressor(level=level).compress(body))
    cctx = zstandard.ZstdCompressor(level=level, dict_data=d, write_dict_id=False)
    return len(cctx.compress(body))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", action="store_true", help=f"write {OUT.name}")
    args = parser.parse_args()
    d = sync_bodies.demo()
    samples: list[bytes | bytearray | memoryview] = [*sync_bodies.training_samples(d)]
    bodies = held_out(d)
    print(f"{len(samples)} samples, {sum(len(x) for x in samples) / 1024:.0f} KiB; held out:")
    names = list(bodies)
    print(f"{'dictionary':>12} " + " ".join(f"{n:>17}" for n in names) + f" {'small':>7}")
    print(f"{'raw':>12} " + " ".join(f"{len(bodies[n]):>17}" for n in names))
    plain = [size(bodies[n], None) for n in names]
    plain_small = sum(v for n, v in zip(names, plain, strict=True) if not n.startswith("full"))
    print(f"{'zstd':>12} " + " ".join(f"{v:>17}" for v in plain) + f" {plain_small:>7}")
    totals: dict[int, tuple[int, zstandard.ZstdCompressionDict]] = {}
    for n_bytes in SIZES:
        zd = zstandard.train_dictionary(
            n_bytes, samples, dict_id=DICT_ID, level=codec.LEVEL_SMALL, threads=-1
        )
        got = [size(bodies[n], zd) for n in names]
        small = sum(v for n, v in zip(names, got, strict=True) if not n.startswith("full"))
        totals[n_bytes] = (small, zd)
        print(f"{n_bytes:>12} " + " ".join(f"{v:>17}" for v in got) + f" {small:>7}")
    best = min(total for total, _ in totals.values())
    keep = min(n for n, (total, _) in totals.items() if total <= best * 1.02)
    print(f"keep {keep} bytes: small bodies {totals[keep][0]} B (best {best}, zstd {plain_small})")
    if args.write:
        OUT.write_bytes(totals[keep][1].as_bytes())
        print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
