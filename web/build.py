"""Build dist/clinic-chat.js: the socket.io client (node_modules, from npm), the clinic's name and
disclaimer and welcome (config/clinic.yml), the headings of a reply (bot/texts.py), the stylesheet and the widget,
in one file and one private scope (no global `io` leaks onto the clinic's page). Run by `make widget`;
needs `npm ci` first."""
from __future__ import annotations

import json
import sys
from pathlib import Path

WEB = Path(__file__).resolve().parent
ROOT = WEB.parent
SOCKET_IO = WEB / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"


def reply_texts() -> dict:
    """The paragraphs of a reply the widget lays out: the evidence headings (folded with their
    quotes) and the sources line's prefixes, from bot/texts.py (the composer writes them)."""
    sys.path.insert(0, str(ROOT))
    from bot import texts

    return {
        "evidenceHeading": texts.EVIDENCE_HEADING,
        "moreEvidenceHeadings": [texts.GENERAL_TOO],
        "sourcesPrefixes": [t.split("{", 1)[0] for t in (texts.SOURCES, texts.SOURCES_MANY)],
    }


def clinic_defaults() -> dict:
    import yaml

    config = yaml.safe_load((ROOT / "config" / "clinic.yml").read_text(encoding="utf-8"))
    name = config["clinic"]["name"]
    return {
        "title": f"{name}: questions about pain",
        "disclaimer": " ".join(config["disclaimer"].split()),
        "launcher": "Questions about pain? Chat with us",
        "texts": {**reply_texts(), "welcome": " ".join(config["scope_notice"].split())},
    }


def build(output: Path) -> Path:
    if not SOCKET_IO.exists():
        sys.exit(f"{SOCKET_IO} is missing: run `npm ci` in web/ (make widget does)")
    version = json.loads((SOCKET_IO.parents[1] / "package.json").read_text())["version"]
    parts = [
        "/*! Clinic chat widget (built by web/build.py). Includes socket.io-client "
        f"{version} (MIT, https://github.com/socketio/socket.io). */",
        "(function () {",
        "var module = { exports: {} }, exports = module.exports, define;",
        SOCKET_IO.read_text(encoding="utf-8").replace("//# sourceMappingURL=socket.io.min.js.map", ""),
        "var io = module.exports;",
        f"var CLINIC_DEFAULTS = {json.dumps(clinic_defaults(), ensure_ascii=False)};",
        f"var CSS = {json.dumps((WEB / 'src' / 'clinic-chat.css').read_text(encoding='utf-8'))};",
        (WEB / "src" / "clinic-chat.js").read_text(encoding="utf-8"),
        "})();",
    ]
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_suffix(".tmp")
    tmp.write_text("\n".join(parts) + "\n", encoding="utf-8")
    tmp.replace(output)
    return output


if __name__ == "__main__":
    print(build(WEB / "dist" / "clinic-chat.js").relative_to(ROOT))
