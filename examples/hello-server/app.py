"""A greeting web service: the example that the tutorial packages as an image.

GET / returns "Hello, Anonymous" and GET /NAME returns "Hello, NAME", as plain
text, on port 9191. aiohttp's run_app stops the server cleanly on SIGTERM, so
`docker stop` ends the container at once instead of waiting for its time-out.
"""

import logging
import os

from aiohttp import web

PORT = int(os.environ.get("PORT", "9191"))


async def greet(request: web.Request) -> web.Response:
    name = request.match_info.get("name", "Anonymous")
    return web.Response(text=f"Hello, {name}")


def create_app() -> web.Application:
    app = web.Application()
    app.router.add_get("/", greet)
    app.router.add_get("/{name}", greet)
    return app


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(name)s %(message)s")
    web.run_app(create_app(), host="0.0.0.0", port=PORT)
