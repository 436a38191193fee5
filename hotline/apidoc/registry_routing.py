"""The registry (see registry.py) for the routing operations under /api/v1."""

from __future__ import annotations

from hotline.apidoc.fields import ANY_OBJECT, array, obj
from hotline.apidoc.registry import Op
from hotline.web.validation import Bool, Str

ENTRIES: dict[tuple[str, str], Op] = {
    ("GET", "/routing/lexicon"): Op(
        "路由词表：各分类的日常用语",
        "routing",
        response=obj(items=array(ANY_OBJECT)),
    ),
    ("PUT", "/routing/lexicon"): Op(
        "修改某分类的路由词表",
        "routing",
        body={
            "category": Str("分类路径", required=True, max_len=255, min_len=2),
            "words": Str("词语", required=True, max_len=8000),
            "enabled": Bool("是否启用"),
        },
    ),
}
