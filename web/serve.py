"""A tiny static server for the demo clinic page and the widget (standard library only).

    python3 web/serve.py [--port 8080] [--rasa-url http://localhost:5005]

Serves web/demo/ at / and the built widget at /clinic-chat.js. --rasa-url replaces the demo page's
data-server address (for a Rasa server on another host or port). Read-only, GET/HEAD only.
"""
from __future__ import annotations

import argparse
import mimetypes
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

WEB = Path(__file__).resolve().parent
DEMO = WEB / "demo"
WIDGET = WEB / "dist" / "clinic-chat.js"
DEFAULT_RASA_URL = "http://localhost:5005"


def make_handler(rasa_url: str):
    class Handler(BaseHTTPRequestHandler):
        server_version = "clinic-demo"

        def _file(self) -> Path | None:
            path = urlsplit(self.path).path
            if path == "/clinic-chat.js":
                return WIDGET
            if path.endswith("/"):
                path += "index.html"
            candidate = (DEMO / path.lstrip("/")).resolve()
            return candidate if candidate.is_file() and DEMO in candidate.parents else None

        def do_GET(self, head: bool = False):  # noqa: N802
            file = self._file()
            if file is None or not file.is_file():
                self.send_error(HTTPStatus.NOT_FOUND)
                return
            body = file.read_bytes()
            if file.suffix == ".html" and rasa_url != DEFAULT_RASA_URL:
                body = body.replace(f'data-server="{DEFAULT_RASA_URL}"'.encode(), f'data-server="{rasa_url}"'.encode())
            content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", f"{content_type}; charset=utf-8" if content_type.startswith(("text/", "application/javascript")) else content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-cache")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.end_headers()
            if not head:
                self.wfile.write(body)

        def do_HEAD(self):  # noqa: N802
            self.do_GET(head=True)

        def log_message(self, fmt, *args):
            pass

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: this machine only)")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--rasa-url", default=DEFAULT_RASA_URL)
    args = parser.parse_args()
    if not WIDGET.exists():
        raise SystemExit(f"{WIDGET} is missing: run `make widget`")
    server = ThreadingHTTPServer((args.host, args.port), make_handler(args.rasa_url.rstrip("/")))
    print(f"Demo clinic page: http://localhost:{server.server_address[1]}/  (chat server: {args.rasa_url})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
