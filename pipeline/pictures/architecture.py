"""docs/architecture.png: MEFlow's packages, which may import which, and what each imports from
outside, drawn from the import contracts in pyproject.toml and the code's real imports (grimp,
the graph import-linter checks), so the picture cannot drift from what `make lint` enforces.

    python -m pipeline.pictures.architecture pyproject.toml docs/architecture.png
"""
from __future__ import annotations

import importlib
import pkgutil
import sys
import tomllib
from pathlib import Path

BOX_WIDTH, BOX_HEIGHT, BOX_GAP, LAYER_GAP = 4.4, 1.5, 0.35, 0.6
LINE = 0.17  # height of one line of box text, in figure units (inches)
WRAP = 70  # characters per line of box text
FORBIDDEN_COLOUR, USES_COLOUR = "#b03030", "#2c4a7a"
LAYER_COLOURS = ("#dbe8f5", "#e3f0dc", "#f7ecd9", "#eee3f3")


def read_contracts(pyproject: Path) -> tuple[list[list[str]], list[dict]]:
    """The layers contract as [[package, ...] per layer, top first] and the forbidden contracts."""
    config = tomllib.loads(Path(pyproject).read_text())["tool"]["importlinter"]
    contracts = config["contracts"]
    layers = next(c for c in contracts if c["type"] == "layers")["layers"]
    return [[p.strip() for p in layer.split("|")] for layer in layers], [c for c in contracts if c["type"] == "forbidden"]


def external_imports(packages: list[str]) -> dict[str, list[str]]:
    """Third-party top-level modules each package imports (anywhere, also inside functions)."""
    import grimp

    graph = grimp.build_graph(*packages, include_external_packages=True)
    out = {}
    for package in packages:
        names = set()
        for module in {package} | graph.find_descendants(package):
            names |= {m.split(".")[0] for m in graph.find_modules_directly_imported_by(module)}
        out[package] = sorted(n for n in names if n not in packages and n not in sys.stdlib_module_names)
    return out


def summary(package: str) -> str:
    """The first sentence of a package's docstring."""
    doc = " ".join((importlib.import_module(package).__doc__ or "").split())
    return doc.split(". ")[0].rstrip(".")


def sub_packages(package: str) -> list[str]:
    module = importlib.import_module(package)
    return sorted(info.name for info in pkgutil.iter_modules(module.__path__) if info.ispkg)


def _wrap(text: str, width: int = WRAP) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return [*lines, line]


def _box_lines(package: str, externals: list[str], never: list[str]) -> list[tuple[str, str]]:
    """(text, colour) lines of one package's box."""
    lines = [(line, "#222") for line in _wrap(summary(package))]
    parts = sub_packages(package)
    if parts:
        lines += [(line, "#222") for line in _wrap("sub-packages: " + ", ".join(f"{p}/" for p in parts))]
    lines += [(line, USES_COLOUR) for line in _wrap("imports: " + ", ".join(externals))]
    if never:
        lines += [(line, FORBIDDEN_COLOUR) for line in _wrap("never: " + ", ".join(never))]
    return lines


def draw(pyproject: Path, out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    layers, forbidden = read_contracts(pyproject)
    packages = [p for layer in layers for p in layer]
    externals = external_imports(packages)
    never = {p: sorted({m for c in forbidden if p in c["source_modules"] for m in c["forbidden_modules"]}) for p in packages}
    lines = {p: _box_lines(p, externals[p], never[p]) for p in packages}
    heights = [max(BOX_HEIGHT, 0.5 + LINE * max(len(lines[p]) for p in layer)) for layer in layers]
    width = max(len(layer) for layer in layers) * (BOX_WIDTH + BOX_GAP) + BOX_GAP
    height = sum(heights) + LAYER_GAP * len(layers) + 0.3
    fig, ax = plt.subplots(figsize=(width, height))
    top = height - 0.2
    for row, (layer, box_height) in enumerate(zip(layers, heights)):
        y = top - box_height
        ax.add_patch(FancyBboxPatch((0.08, y - 0.1), width - 0.16, box_height + 0.2, boxstyle="round,pad=0.02",
                                    fc=LAYER_COLOURS[row % len(LAYER_COLOURS)], ec="none", zorder=0))
        left = (width - len(layer) * (BOX_WIDTH + BOX_GAP) + BOX_GAP) / 2
        for col, package in enumerate(layer):
            x = left + col * (BOX_WIDTH + BOX_GAP)
            ax.add_patch(FancyBboxPatch((x, y), BOX_WIDTH, box_height, boxstyle="round,pad=0.03", fc="white", ec="#444"))
            ax.text(x + 0.12, y + box_height - 0.1, f"{package}/", fontsize=11, weight="bold", va="top")
            for k, (text, colour) in enumerate(lines[package]):
                ax.text(x + 0.12, y + box_height - 0.45 - k * LINE, text, fontsize=7, va="top", color=colour)
        top = y - LAYER_GAP
        if row + 1 < len(layers):
            ax.annotate("", xy=(width / 2, top + 0.12), xytext=(width / 2, y - 0.12),
                        arrowprops=dict(arrowstyle="-|>", color="#444", lw=1.5))
            ax.text(width / 2 + 0.1, (y + top) / 2, "may import", fontsize=8, va="center", color="#444")
    ax.text(0.12, 0.05, "A layer may import the layers below it, never one above; packages side by side never import each other; "
                        "'never' lists what a package may not import even indirectly. Only render/blender/ imports bpy. "
                        "Checked on every import by `make lint` (import-linter).", fontsize=6, color="#444")
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.axis("off")
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=150, facecolor="white")
    plt.close(fig)
    return out


if __name__ == "__main__":
    print(draw(Path(sys.argv[1]), Path(sys.argv[2])))
