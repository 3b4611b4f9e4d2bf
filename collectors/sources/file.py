"""``file``: CSV / XLSX exports of merchant back-ends (美团/大众点评开店宝, 饿了么商家版 …).

A column map (``columns``, field → header) or a ``preset`` of common header names
says where id, time, rating, content, reply state and store are. Files are streamed
in batches (bounded memory); a watched directory imports each new or grown file once.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any, Callable, ClassVar, Literal, Sequence

from pydantic import Field, field_validator

from collectors.base import CommonOptions, Context, Item
from collectors.errors import ParseError
from collectors.imports import import_rows, progress_of, watched_files
from collectors.parse.counts import parse_count
from collectors.parse.dates import parse_datetime
from collectors.parse.ratings import parse_rating
from collectors.parse.tabular import iter_csv_lists, iter_xlsx_lists
from collectors.parse.text import collapse_whitespace

FIELDS = ("id", "text", "time", "author", "rating", "store", "product", "link", "title", "likes", "reply")

# header names seen in common merchant exports, most specific first
PRESETS: dict[str, dict[str, list[str]]] = {
    "generic": {
        "id": ["id", "review_id", "comment_id", "评价ID", "评论ID", "编号"],
        "text": ["content", "text", "comment", "review", "评价内容", "评论内容", "内容"],
        "time": ["time", "created_at", "create_time", "date", "评价时间", "评论时间", "时间", "日期"],
        "author": ["author", "user", "nickname", "用户昵称", "用户名", "昵称"],
        "rating": ["rating", "stars", "star", "score", "评分", "星级", "总评分"],
        "store": ["store", "store_id", "shop", "shop_id", "门店", "门店名称", "门店ID", "店铺"],
        "product": ["product", "sku", "商品", "商品名称", "菜品"],
        "reply": ["reply", "replied", "商家回复", "回复状态", "是否回复"],
    },
    "meituan": {  # 美团/大众点评 开店宝 评价导出
        "id": ["评价ID", "评价id", "评论ID"],
        "text": ["评价内容", "评论内容"],
        "time": ["评价时间", "评论时间"],
        "author": ["用户昵称", "用户名"],
        "rating": ["星级", "总体评分", "评分"],
        "store": ["门店ID", "门店id", "门店名称", "门店"],
        "product": ["推荐菜", "菜品"],
        "reply": ["商家回复", "回复状态", "是否回复"],
    },
    "eleme": {  # 饿了么商家版 评价导出
        "id": ["评价编号", "评价ID", "订单号"],
        "text": ["评价内容", "顾客评价"],
        "time": ["评价时间", "下单时间"],
        "author": ["顾客昵称", "用户名"],
        "rating": ["总体评分", "商家评分", "评分"],
        "store": ["店铺ID", "门店ID", "店铺名称", "门店名称"],
        "product": ["商品", "商品评价"],
        "reply": ["回复内容", "商家回复", "回复状态"],
    },
    "taobao": {  # 淘宝/天猫/京东 商品评价导出
        "id": ["评价ID", "评论ID", "订单编号"],
        "text": ["评价内容", "评论内容", "初评内容"],
        "time": ["评价时间", "评论时间"],
        "author": ["买家昵称", "会员昵称", "用户昵称"],
        "rating": ["评价等级", "评分", "商品评分"],
        "store": ["店铺", "店铺名称"],
        "product": ["宝贝标题", "商品名称", "商品"],
        "reply": ["卖家回复", "商家回复", "解释内容"],
    },
}
_GRADE = {"好评": 5.0, "中评": 3.0, "差评": 1.0}


class FileOptions(CommonOptions):
    """Options of a ``file`` source."""

    kind: str | None = Field("review", description="mention kind stored")
    path: str = Field(description="a file, or a directory watched for new files")
    pattern: str = Field("*", description="glob of files inside a directory (** recursive)")
    format: Literal["auto", "csv", "xlsx"] = "auto"
    preset: Literal["generic", "meituan", "eleme", "taobao"] = "generic"
    columns: dict[str, str] = Field(default_factory=dict, description="field -> header, overrides the preset")
    encoding: str = Field("auto", description="CSV encoding; auto = UTF-8 (with or without BOM) else GB18030")
    delimiter: str = Field(",", min_length=1, max_length=1)
    sheet: str | None = None
    time_format: str | None = None
    rating_scale: float = Field(5.0, gt=0)
    batch_size: int = Field(20_000, ge=1, le=20_000, description="rows per transaction")

    @field_validator("columns")
    @classmethod
    def _known_fields(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(FIELDS))
        if unknown:
            raise ValueError(f"unknown field(s) {', '.join(unknown)}; known: {', '.join(FIELDS)}")
        return value


def resolve_columns(header: list[str], options: FileOptions) -> dict[str, str]:
    """field → header actually present; raises ParseError when text or time is missing."""
    present = set(header)
    mapping: dict[str, str] = {}
    candidates = PRESETS[options.preset]
    for field in FIELDS:
        if field in options.columns:
            if options.columns[field] in present:
                mapping[field] = options.columns[field]
            continue
        for name in candidates.get(field, []):
            if name in present:
                mapping[field] = name
                break
    missing = [f for f in ("text", "time") if f not in mapping]
    if missing:
        tried = {f: [options.columns[f]] if f in options.columns else candidates.get(f, []) for f in missing}
        raise ParseError(f"no column for {', '.join(missing)} (tried {tried}; header {header[:20]})")
    return mapping


def item_reader(header: list[str], options: FileOptions, *, now: datetime,
                tz: tzinfo) -> Callable[[Sequence[Any]], Item]:
    """A function turning one row (values in ``header`` order) into an Item; raises
    ParseError when the header lacks the text or time column. With a header name
    given twice, the last such column is read."""
    mapping = resolve_columns(header, options)
    position = {name: index for index, name in enumerate(header)}
    fields = [(field, position[column]) for field, column in mapping.items()]

    def read(values: Sequence[Any]) -> Item:
        size = len(values)
        return fields_to_item({field: _clean(values[index]) if index < size else None for field, index in fields},
                              options, now=now, tz=tz)

    return read


def fields_to_item(values: dict[str, Any], options: FileOptions, *, now: datetime, tz: tzinfo) -> Item:
    """One export row (field → cleaned cell) as an Item; raises ValueError naming the bad field."""
    get = values.get
    text = collapse_whitespace(str(get("text") or ""))
    if not text:
        raise ValueError("empty text")
    raw_time = get("time")
    try:
        published = parse_datetime(raw_time, now=now, tz=tz, fmt=options.time_format)
    except (ValueError, OverflowError, OSError) as exc:
        raise ValueError(f"bad time {raw_time!r}") from exc
    author, ident, raw_rating, store = get("author"), get("id"), get("rating"), get("store")
    if ident is None:
        ident = hashlib.sha1(f"{raw_time}|{author}|{text}".encode()).hexdigest()
    rating = _GRADE[raw_rating] if raw_rating in _GRADE else parse_rating(raw_rating, scale=options.rating_scale)
    extra: dict[str, Any] = {}
    reply = get("reply")
    if reply is not None:
        extra["reply"] = str(reply)
    if store is not None:
        store = str(store)
        extra["page_store"] = store
    product = get("product")
    return Item(external_id=str(ident), text=text, published_at=published, kind=options.kind or "review",
                url=get("link"), author=str(author) if author is not None else None, title=get("title"),
                rating=rating, likes=parse_count(get("likes")), store_hint=store,
                product_hint=str(product) if product is not None else None, extra=extra)


def _clean(value: Any) -> Any:
    """Cell value with strings stripped; empty cells are None."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


class _SheetName:
    """Where an XLSX row is, for error lines: ``sheet '评价' row 5`` (Excel's row number)."""

    def __init__(self) -> None:
        self.name = "?"

    def set(self, name: str) -> None:
        self.name = name

    def row(self, number: int) -> str:
        return f"sheet {self.name!r} row {number + 1}"


def _format(path: Path, options: FileOptions) -> str:
    if options.format != "auto":
        return options.format
    return "xlsx" if path.suffix.lower() in (".xlsx", ".xlsm") else "csv"


class FileCollector:
    """Collector for CSV / XLSX exports (a file or a watched directory)."""

    type: ClassVar[str] = "file"
    Options: ClassVar[type[FileOptions]] = FileOptions

    async def collect(self, ctx: Context, options: FileOptions) -> None:
        """Import every new or grown file, resuming a half-imported one at its offset."""
        root = Path(options.path).expanduser()
        files = watched_files(root, options.pattern)
        if not files and not root.exists():
            raise ParseError(f"{root} does not exist")
        for path in files:
            if _format(path, options) == "csv" and path.suffix.lower() not in (".csv", ".txt", ".tsv", ""):
                continue
            key = str(path.resolve())
            start = progress_of(ctx.state, key, path)
            if start is None:
                continue
            where = None
            if _format(path, options) == "xlsx":
                sheet = _SheetName()
                rows = iter_xlsx_lists(path, sheet=options.sheet, skip=start, on_open=sheet.set)
                where = sheet.row
            else:
                rows = iter_csv_lists(path, encoding=options.encoding, delimiter=options.delimiter, skip=start)
            try:
                _, header = next(rows)
                first = next(rows, None)
            except (UnicodeError, ValueError, KeyError, OSError) as exc:
                ctx.log_error(f"{path.name}: unreadable: {exc}")
                continue
            if first is None:
                import_rows(ctx, key=key, path=path, rows=iter(()), to_item=lambda r: r, start=start)
                continue
            try:
                to_item = item_reader(header, options, now=ctx.now, tz=ctx.tz)
            except ParseError as exc:
                ctx.log_error(f"{path.name}: {exc}")
                continue

            def stream(first=first, rows=rows):
                yield first
                yield from rows

            import_rows(ctx, key=key, path=path, rows=stream(), to_item=to_item,
                        batch_size=options.batch_size, start=start, where=where)
