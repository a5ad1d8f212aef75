"""The production set-up: waitress behind real nginx (Debian's, started on
loopback with the shipped ``scripts/nginx-newsletter.conf``). With 1,000
idle or trickling connections open, one-click unsubscribes through nginx
still answer in under a second, and the app sees nginx's X-Forwarded-For,
never a client's."""

from __future__ import annotations

import os
import resource
import shutil
import socket
import subprocess
import threading
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode

import pytest

from newsletter import config as config_mod
from newsletter.delivery import subscribers
from newsletter.delivery.web import make_server
from newsletter.store import Archive
from smtpserver import free_port
from weblinks import token_for

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
EXAMPLE = Path(__file__).resolve().parent.parent / "scripts" / "nginx-newsletter.conf"
SECRET = "s3cret-s3cret-s3cret-0123456789"
NOW = datetime.now(timezone.utc)
pytestmark = pytest.mark.skipif(NGINX is None, reason="nginx is not installed (CI installs it)")


def start_nginx(folder: Path, port: int, upstream: int) -> subprocess.Popen[bytes]:
    site = EXAMPLE.read_text()
    assert "listen 80;" in site and "server 127.0.0.1:8080;" in site
    (folder / "newsletter.conf").write_text(site.replace("listen 80;", f"listen 127.0.0.1:{port};")
                                            .replace("server 127.0.0.1:8080;", f"server 127.0.0.1:{upstream};"))
    temp = folder / "temp"
    temp.mkdir()
    user = "user root;\n" if os.geteuid() == 0 else ""
    (folder / "nginx.conf").write_text(f"""{user}worker_processes 1;
worker_rlimit_nofile 8192;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {folder}/newsletter.conf;
}}
""")
    proc = subprocess.Popen([NGINX, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-g", "daemon off;"],
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(proc.stderr.read().decode() if proc.stderr else "nginx exited")
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("nginx did not start")


def open_connections(port: int, n: int, trickle: bool) -> list[socket.socket]:
    """``n`` connections from many loopback addresses (like many clients):
    idle ones say nothing; trickling ones send half a request."""
    out = []
    for i in range(n):
        s = socket.socket()
        s.bind((f"127.0.{1 + i // 250}.{2 + i % 250}", 0))
        s.connect(("127.0.0.1", port))
        if trickle:
            s.sendall(b"POST /unsubscribe HTTP/1.1\r\nHost: app\r\nContent-Length: 5000\r\n\r\nList-Unsub")
        out.append(s)
    return out


@pytest.fixture
def many_files():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))
    if resource.getrlimit(resource.RLIMIT_NOFILE)[0] < 2500:
        pytest.skip("cannot open 2,500 files here")
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_unsubscribes_through_nginx_stay_fast_with_a_thousand_slow_connections(tmp_path, many_files):
    cfg = config_mod.from_dict({"newsletter": {"site_url": "https://hot.example.org"},
                                "web": {"trusted_proxies": ["127.0.0.1"]}}, base_dir=tmp_path)
    readers = [f"r{i}@example.org" for i in range(10)]
    with Archive(cfg.store_path) as a:
        subscribers.add(a, readers, "", None, NOW)
    app = make_server(cfg, "127.0.0.1", 0, env={"NEWSLETTER_SECRET": SECRET}, outbox=False)
    serving = threading.Thread(target=app.run, daemon=True)
    serving.start()
    port = free_port()
    nginx = start_nginx(tmp_path, port, app.effective_port)
    stop = threading.Event()
    conns: list[socket.socket] = []
    try:
        conns = open_connections(port, 500, trickle=False) + open_connections(port, 500, trickle=True)

        def trickle() -> None:  # one more byte on each slow request, now and then
            while not stop.wait(0.5):
                for s in conns[500:]:
                    try:
                        s.send(b"x")
                    except OSError:
                        pass

        threading.Thread(target=trickle, daemon=True).start()
        for address in readers:
            token = token_for(cfg.store_path, address, SECRET)
            req = urllib.request.Request(f"http://127.0.0.1:{port}/unsubscribe?{urlencode({'t': token})}",
                                         data=b"List-Unsubscribe=One-Click",
                                         headers={"X-Forwarded-For": "6.6.6.6"})  # a client's forgery
            with urllib.request.urlopen(req, timeout=5) as r:  # a held request would wait out the 10 s timeouts
                assert r.status == 200 and b"Unsubscribed" in r.read()
        with Archive(cfg.store_path) as a:
            assert {s.status for s in subscribers.listing(a, everyone=True)} == {"unsubscribed"}
        req = urllib.request.Request(f"http://127.0.0.1:{port}/subscribe", data=b"email=new%40example.org",
                                     headers={"X-Forwarded-For": "6.6.6.6"})
        with urllib.request.urlopen(req, timeout=5) as r:
            assert r.status == 200
        with Archive(cfg.store_path) as a:
            (client,) = [r[0] for r in a.db.execute("SELECT client FROM signups")]
        assert client == "127.0.0.1"  # nginx's X-Forwarded-For, not the forged one
    finally:
        stop.set()
        for s in conns:
            s.close()
        nginx.terminate()
        nginx.wait(10)
        app.close()
        serving.join(10)
