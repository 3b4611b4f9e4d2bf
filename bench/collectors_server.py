"""Benchmark helper: a small asyncio HTTP/1.1 server on 127.0.0.1 serving synthetic
review listings (``/s{source}/reviews?page={n}``) with keep-alive, run in its own
process so it does not share the collector's interpreter. Loopback only."""

from __future__ import annotations

import asyncio
import socket
import sys

ROBOTS = b"User-agent: *\nAllow: /\n"


def listing(source: int, page: int, pages: int, items: int) -> bytes:
    """One page: ``items`` reviews, a 下一页 link until ``pages``."""
    parts = ['<html><head><meta charset="utf-8"><title>评价</title></head><body><ul class="reviews">']
    for i in range(items):
        rid = (page - 1) * items + i
        minute = rid % 60
        parts.append(
            f'<li class="review" data-id="s{source}-r{rid}" data-shop="H{source}">'
            f'<span class="name">用户{rid}</span><span class="time">2026-11-{1 + rid % 20:02d} 12:{minute:02d}</span>'
            f'<span class="star star-{10 * (1 + rid % 5)}"></span>'
            f'<div class="review-words">第{rid}条评价：门店{source}的奶茶口感不错，排队{rid % 30}分钟，服务态度很好，下次还来。</div>'
            f'<a class="permalink" href="/s{source}/review/{rid}">全文</a></li>')
    parts.append("</ul>")
    if page < pages:
        parts.append(f'<div class="pager"><a href="/s{source}/reviews?page={page + 1}">下一页</a></div>')
    parts.append("</body></html>")
    return "".join(parts).encode("utf-8")


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, pages: int, items: int) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            target = head.split(b" ", 2)[1].decode()
            if target == "/robots.txt":
                status, body = b"200 OK", ROBOTS
            elif target.startswith("/s") and "/reviews" in target:
                source = int(target[2:target.index("/", 2)])
                page = int(target.rsplit("page=", 1)[1]) if "page=" in target else 1
                status, body = b"200 OK", listing(source, page, pages, items)
            else:
                status, body = b"404 Not Found", b"no"
            writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: "
                         + str(len(body)).encode() + b"\r\n\r\n" + body)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def serve(sock: socket.socket, pages: int, items: int) -> None:
    server = await asyncio.start_server(lambda r, w: handle(r, w, pages, items), sock=sock, backlog=1024)
    async with server:
        await server.serve_forever()


def main() -> None:
    """``python collectors_server.py HOSTS PAGES ITEMS``: prints the ports, serves until killed."""
    hosts, pages, items = (int(a) for a in sys.argv[1:4])
    sockets = []
    for _ in range(hosts):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(1024)
        sockets.append(sock)
    print(" ".join(str(s.getsockname()[1]) for s in sockets), flush=True)

    async def all_servers() -> None:
        await asyncio.gather(*(serve(s, pages, items) for s in sockets))

    asyncio.run(all_servers())


if __name__ == "__main__":
    main()
