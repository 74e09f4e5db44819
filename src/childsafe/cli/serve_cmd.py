"""`childsafe serve`: run the gateway (OpenAI-compatible safety proxy and moderation API)."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Annotated

import typer

DEMO_BANNER = """\
childsafe gateway DEMO
  upstream : a built-in SCRIPTED demo assistant (not a real model)
  API key  : demo          child: child-demo-11 (age 11)
  database : SQLite in {data_dir} (temporary)
  try      : curl http://{host}:{port}/v1/chat/completions -H 'Authorization: Bearer demo' \\
               -H 'Content-Type: application/json' \\
               -d '{{"model":"demo","user":"child-demo-11",\
                    "messages":[{{"role":"user","content":"demo: unsafe answer"}}]}}'
"""


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve(
        config: Annotated[
            Path | None,
            typer.Option("--config", "-c", help="Config file (YAML); default: $CHILDSAFE_CONFIG or built-in"),
        ] = None,
        host: Annotated[str | None, typer.Option("--host", help="Address to listen on (default: server.host)")] = None,
        port: Annotated[
            int | None, typer.Option("--port", min=0, max=65535, help="Port (default: server.port)")
        ] = None,
        demo: Annotated[
            bool, typer.Option("--demo", help="Scripted demo upstream, temporary SQLite, API key 'demo'")
        ] = False,
    ) -> None:
        """Serve the gateway: POST /v1/chat/completions, /v1/moderations, /v1/check; /healthz /readyz /metrics."""
        from childsafe.config import ConfigError, load_config
        from childsafe.types import ChildsafeError

        try:
            cfg = load_config(config)
        except ConfigError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        server = cfg.server.model_copy(update={k: v for k, v in (("host", host), ("port", port)) if v is not None})
        store = cfg.store
        demo_dir: tempfile.TemporaryDirectory[str] | None = None
        if demo:
            demo_dir = tempfile.TemporaryDirectory(prefix="childsafe-demo-")
            store = store.model_copy(update={"url": None, "data_dir": demo_dir.name, "store_messages": False})
            server = server.model_copy(update={"demo": True})
        cfg = cfg.model_copy(update={"server": server, "store": store})
        try:
            import uvicorn

            from childsafe.gateway import create_app
        except ImportError as exc:
            typer.echo(
                f"error: the gateway needs the server extra: pip install 'childsafe[server]' ({exc.name})", err=True
            )
            raise typer.Exit(2) from None
        try:
            application = create_app(cfg)
        except ChildsafeError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        if demo:
            typer.echo(DEMO_BANNER.format(data_dir=store.data_dir, host=server.host, port=server.port), err=True)
        elif cfg.server.upstream.url is None:
            typer.echo("warning: no server.upstream.url configured; chat completions will answer 503", err=True)
        logging.getLogger("childsafe").setLevel(logging.INFO)
        try:
            uvicorn.run(application, host=server.host, port=server.port, log_level="info")
        except OSError as exc:
            typer.echo(f"error: cannot listen on {server.host}:{server.port}: {exc.strerror}", err=True)
            raise typer.Exit(1) from None
        finally:
            if demo_dir is not None:
                demo_dir.cleanup()
