"""Print the package's modules, one package a line (for the README).

Names only: line counts would make every source edit a README change (``cog --check`` in CI).
"""

from __future__ import annotations

from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "paperlike"


def main() -> None:
    groups: dict[str, list[str]] = {}
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC)
        package = "paperlike/" + (str(rel.parent) + "/" if rel.parent != Path(".") else "")
        groups.setdefault(package, []).append(rel.name)
    width = max(len(p) for p in groups)
    for package, files in groups.items():
        row, rows = "", []
        for item in files:
            if row and len(row) + len(item) + 3 > 100 - width:
                rows.append(row)
                row = ""
            row = f"{row} · {item}" if row else item
        rows.append(row)
        print(f"{package:<{width}}  {rows[0]}")
        for more in rows[1:]:
            print(f"{'':<{width}}  {more}")


if __name__ == "__main__":
    main()
