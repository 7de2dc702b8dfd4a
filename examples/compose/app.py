"""The greeting service of the tutorial's Compose chapter: the example service
with a count of greetings kept in Redis.

GET / returns "Hello, Anonymous (greeting number N)" and GET /NAME returns
"Hello, NAME (greeting number N)", where N counts every greeting so far. The
count is a Redis key, so it is shared by every copy of the service and
outlives a restart. GET /health returns "OK" without counting, for the health
check. REDIS_HOST names the Redis server (default: localhost).
"""

import logging
import os

from aiohttp import web
from redis.asyncio import Redis

PORT = int(os.environ.get("PORT", "9191"))
REDIS_HOST = os.environ.get("REDIS_HOST", "localhost")
COUNTER_KEY = "greetings"
REDIS = web.AppKey("redis", Redis)


async def greet(request: web.Request) -> web.Response:
    name = request.match_info.get("name", "Anonymous")
    count = await request.app[REDIS].incr(COUNTER_KEY)
    return web.Response(text=f"Hello, {name} (greeting number {count})")


async def health(request: web.Request) -> web.Response:
    return web.Response(text="OK")


async def connect_redis(app: web.Application):
    app[REDIS] = Redis(host=REDIS_HOST, port=6379)
    yield
    await app[REDIS].aclose()


def create_app() -> web.Application:
    app = web.Application()
    app.cleanup_ctx.append(connect_redis)
    app.router.add_get("/health", health)
    app.router.add_get("/", greet)
    app.router.add_get("/{name}", greet)
    return app


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(name)s %(message)s")
    web.run_app(create_app(), host="0.0.0.0", port=PORT)
