"""`manage.py render_nginx_config`: the reverse-proxy config for several ExamPulse processes."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.template.loader import render_to_string


class Command(BaseCommand):
    help = "Print an nginx config that spreads HTTP and WebSocket traffic over several server processes."

    def add_arguments(self, parser):
        parser.add_argument(
            "--upstream", action="append", required=True, help="host:port of one server process (repeat)"
        )
        parser.add_argument("--listen", default="80", help="what nginx listens on, e.g. 80 or 127.0.0.1:8080")
        parser.add_argument("--server-name", default="_")
        parser.add_argument("--static-root", help="serve /static/ from this collectstatic directory")
        parser.add_argument(
            "--standalone",
            metavar="PREFIX",
            help="emit a whole nginx.conf (daemon off, pid and logs under PREFIX) instead of an http-block snippet",
        )
        parser.add_argument("--worker-connections", type=int, default=16384)

    def handle(self, *args, upstream, listen, server_name, static_root, standalone, worker_connections, **options):
        for item in upstream:
            host, _, port = item.rpartition(":")
            if not host or not port.isdigit():
                raise CommandError(f"--upstream must be host:port, not {item!r}")
        self.stdout.write(
            render_to_string(
                "deploy/nginx.conf",
                {
                    "upstreams": upstream,
                    "listen": listen,
                    "server_name": server_name,
                    "static_root": static_root,
                    "standalone": bool(standalone),
                    "prefix": standalone,
                    "worker_connections": worker_connections,
                },
            ),
            ending="",
        )
