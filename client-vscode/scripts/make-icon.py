"""Draw media/icon.png (128x128): a checklist with a droid's eye, in pure Python (no PIL).

Run once when the design changes: python3 scripts/make-icon.py
"""

import math
import struct
import zlib
from pathlib import Path

N, SS = 128, 4  # size, supersampling
BG1, BG2 = (22, 92, 125), (14, 58, 84)
WHITE, GREEN, AMBER = (245, 248, 250), (94, 214, 140), (255, 196, 70)


def rounded(x, y, x0, y0, x1, y1, r):
    cx = min(max(x, x0 + r), x1 - r)
    cy = min(max(y, y0 + r), y1 - r)
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r and x0 <= x <= x1 and y0 <= y <= y1


def seg_dist(px, py, ax, ay, bx, by):
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


def shade(x, y):
    """colour at (x, y) in 0..128 coordinates, or None (transparent)"""
    if not rounded(x, y, 4, 4, 124, 124, 22):
        return None
    t = (x + y) / 256
    col = tuple(int(BG1[i] * (1 - t) + BG2[i] * t) for i in range(3))
    rows = [(30, GREEN, True), (62, AMBER, False), (94, WHITE, False)]
    for cy, box, done in rows:
        # the marker box
        if rounded(x, y, 22, cy - 11, 44, cy + 11, 5) and not rounded(
            x, y, 26, cy - 7, 40, cy + 7, 2
        ):
            col = box
        if done and (
            seg_dist(x, y, 27, cy, 32, cy + 6) < 3 or seg_dist(x, y, 32, cy + 6, 42, cy - 8) < 3
        ):
            col = box
        if not done and box is AMBER and rounded(x, y, 29, cy - 4, 37, cy + 4, 4):
            col = box  # the droid's eye: a run in progress
        # the task line
        length = 52 if cy != 62 else 44
        if rounded(x, y, 54, cy - 4, 54 + length, cy + 4, 4):
            col = WHITE
    return col


def main():
    rows = []
    for py in range(N):
        row = bytearray([0])
        for px in range(N):
            acc = [0, 0, 0, 0]
            for sy in range(SS):
                for sx in range(SS):
                    c = shade(px + (sx + 0.5) / SS, py + (sy + 0.5) / SS)
                    if c is not None:
                        acc[0] += c[0]
                        acc[1] += c[1]
                        acc[2] += c[2]
                        acc[3] += 1
            n = acc[3]
            if n:
                row += bytes([acc[0] // n, acc[1] // n, acc[2] // n, 255 * n // (SS * SS)])
            else:
                row += bytes(4)
        rows.append(bytes(row))

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", N, N, 8, 6, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b"")
    out = Path(__file__).resolve().parent.parent / "media" / "icon.png"
    out.write_bytes(png)
    print(f"wrote {out} ({len(png)} bytes)")


if __name__ == "__main__":
    main()
