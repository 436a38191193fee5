"""The registry (see registry.py) for the evidence operations under /api/v1."""

from __future__ import annotations

from hotline.apidoc.fields import BOOLEAN, INTEGER, NULLABLE_STRING, STRING, array, obj
from hotline.apidoc.registry import Op
from hotline.models.attachments import ATTACHMENT_KINDS

ATTACHMENT = obj(
    id=INTEGER,
    name=STRING,
    kind={"type": "string", "enum": list(ATTACHMENT_KINDS)},
    kind_label=STRING,
    source=STRING,
    content_type=STRING,
    size=INTEGER,
    checksum={"type": "string", "pattern": "^[0-9a-f]{64}$", "description": "存储内容的 SHA-256"},
    checksum_algorithm=STRING,
    width={"type": ["integer", "null"]},
    height={"type": ["integer", "null"]},
    url=STRING,
    thumbnail_status={"type": "string", "enum": ["pending", "done", "failed", "none"]},
    thumbnail_url=NULLABLE_STRING,
    shared=BOOLEAN,
    created_at=STRING,
)
UPLOAD = {
    "type": "object",
    "x-multipart": True,
    "required": ["file"],
    "properties": {
        "file": {"type": "string", "format": "binary", "description": "文件（类型按内容识别，与文件名无关）"},
        "kind": {"type": "string", "enum": list(ATTACHMENT_KINDS), "default": "evidence"},
        "use_photo_location": {"type": "boolean", "description": "市民同意时，用照片的 GPS 作为工单位置"},
    },
}

ENTRIES: dict[tuple[str, str], Op] = {
    ("POST", "/cases/{number}/attachments"): Op(
        "上传附件（照片、视频、音频、PDF、Office 文档；图片去除 EXIF 后保存；同一工单同一文件只存一份）",
        "cases",
        body=UPLOAD,
        response=ATTACHMENT,
        status="201",
    ),
    ("GET", "/cases/{number}/attachments"): Op("工单的附件列表", "cases", response=obj(items=array(ATTACHMENT))),
    ("GET", "/attachments/{attachment_id}"): Op(
        "下载附件（流式；与工单相同的权限，其他单位 404；保密诉求人的文件须中心共享后单位才可见）",
        "cases",
        response={"type": "string", "format": "binary"},
    ),
    ("GET", "/attachments/{attachment_id}/thumbnail"): Op(
        "附件缩略图（JPEG，最长边 320；生成前 400 thumbnail_not_ready）", "cases", response={"type": "string"}
    ),
    ("GET", "/cases/{number}/recording"): Op(
        "工单的通话录音（由呼叫平台经本系统转发，支持 Range；每次播放记入审计日志；中心人员）",
        "cases",
        response={"type": "string", "format": "binary"},
    ),
    ("POST", "/attachments/{attachment_id}/share"): Op(
        "把保密诉求人上传的文件共享给承办单位（中心人员）", "cases", body={}, response=ATTACHMENT
    ),
}
