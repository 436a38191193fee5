"""WeChat official account: the server callback (/wechat) and what a message does (intake)."""
