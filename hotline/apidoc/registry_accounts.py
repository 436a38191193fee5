"""The registry (see registry.py) for the accounts operations under /api/v1 (issue 17: hotline/users/api.py)."""

from __future__ import annotations

from hotline.apidoc.registry import Op
from hotline.models.users import ROLES

USER_FIELDS = {
    "name": {"type": "string", "minLength": 1, "maxLength": 64},
    "role": {
        "type": "string",
        "description": "角色代码或中文名：" + "、".join(f"{r}（{lbl}）" for r, lbl in ROLES.items()),
    },
    "unit_code": {"type": "string", "maxLength": 32, "description": "所属单位代码；承办单位的角色必填"},
    "phone": {"type": "string", "maxLength": 32},
    "email": {"type": "string", "maxLength": 255},
}
NEW_USER = {
    "type": "object",
    "required": ["username", "name", "role"],
    "properties": {"username": {"type": "string", "minLength": 2, "maxLength": 64}, **USER_FIELDS},
}
EDIT_USER = {"type": "object", "properties": {**USER_FIELDS, "active": {"type": "boolean"}}}
TOKEN_BODY = {"type": "object", "properties": {"label": {"type": "string", "maxLength": 64}}}
UPLOAD = {
    "type": "object",
    "x-multipart": True,
    "required": ["file"],
    "properties": {
        "file": {
            "type": "string",
            "format": "binary",
            "description": "CSV/XLSX：username,name,role,unit_code,phone,email",
        },
        "partial": {"type": "string", "enum": ["1", "0"], "description": "1：只导入正确的行"},
    },
}

ENTRIES: dict[tuple[str, str], Op] = {
    ("POST", "/users"): Op("新增账号（管理员）：返回一次性密码（只返回这一次）", "users", body=NEW_USER, status="201"),
    ("GET", "/users/{username}"): Op("账号详情（管理员）", "users"),
    ("PATCH", "/users/{username}"): Op(
        "修改账号：姓名、角色（记入审计）、单位、电话、邮箱、停用/启用（管理员）", "users", body=EDIT_USER
    ),
    ("POST", "/users/{username}/password-reset"): Op("重置密码（管理员）：一次性密码，首次登录须修改", "users"),
    ("POST", "/users/{username}/totp-reset"): Op("重置两步验证（管理员）：下次登录重新绑定", "users"),
    ("POST", "/users/import"): Op(
        "批量导入账号（管理员，multipart/form-data）：全部正确才导入，partial=1 只导入正确的行", "users", body=UPLOAD
    ),
    ("GET", "/users/{username}/tokens"): Op("某账号的 API 令牌（管理员）", "users"),
    ("DELETE", "/users/{username}/tokens/{token_id}"): Op("吊销某账号的令牌（管理员）", "users"),
    ("GET", "/account/tokens"): Op("我的 API 令牌", "users"),
    ("POST", "/account/tokens"): Op("创建我的 API 令牌（令牌只返回这一次）", "users", body=TOKEN_BODY, status="201"),
    ("DELETE", "/account/tokens/{token_id}"): Op("吊销我的 API 令牌", "users"),
}
