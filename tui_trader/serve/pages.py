"""The two HTML pages of the web workstation: the login form and the terminal page.

No inline script and no third-party resource: the terminal's script, styles and fonts are
textual-serve's own static files, served from here.
"""

from __future__ import annotations

from html import escape

_STYLE = """
@font-face { font-family: 'Roboto Mono'; src: url('/static/fonts/RobotoMono-VariableFont_wght.ttf'); }
html, body { margin: 0; height: 100%; background: #0c181f; color: #e8e8e8;
  font-family: 'Roboto Mono', Menlo, monospace; }
form.login { max-width: 22rem; margin: 12vh auto; padding: 1.5rem; background: #12232d; }
form.login label { display: block; margin: .8rem 0 .3rem; }
form.login input { width: 100%; box-sizing: border-box; padding: .5rem; font: inherit; }
form.login button, header button { margin-top: 1rem; padding: .5rem 1.2rem; font: inherit; cursor: pointer; }
.error { color: #ff6b6b; }
header { height: 28px; display: flex; align-items: center; gap: 1rem; padding: 0 .6rem; font-size: 13px;
  background: #12232d; }
header form { margin: 0 0 0 auto; } header button { margin: 0; padding: 0 .8rem; }
.role { padding: 0 .4rem; font-weight: bold; }
.role-viewer { background: #2d5b8a; } .role-trader { background: #8a5b2d; }
#terminal.textual-terminal { position: absolute; top: 28px; left: 0; width: 100vw; height: calc(100vh - 28px); }
"""


def login_page(csrf: str, message: str = "", user: str = "") -> str:
    note = f'<p class="error" id="login-error">{escape(message)}</p>' if message else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tui-trader: log in</title><style>{_STYLE}</style></head>
<body><form class="login" method="post" action="/login">
<h1>tui-trader</h1>{note}
<input type="hidden" name="csrf" value="{escape(csrf)}">
<label for="user">User</label>
<input id="user" name="user" autocomplete="username" autocapitalize="none" required value="{escape(user)}">
<label for="secret">Password or token</label>
<input id="secret" name="secret" type="password" autocomplete="current-password" required>
<button type="submit" id="login">Log in</button>
</form></body></html>
"""


def terminal_page(user: str, role: str, csrf: str, websocket_url: str, font_size: int) -> str:
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tui-trader: {escape(user)} ({escape(role)})</title>
<link rel="stylesheet" href="/static/css/xterm.css">
<script src="/static/js/textual.js"></script>
<style>{_STYLE}</style></head>
<body>
<header><span>tui-trader</span><span id="who">{escape(user)}</span>
<span class="role role-{escape(role)}" id="role">{escape(role.upper())}</span>
<form method="post" action="/logout"><input type="hidden" name="csrf" value="{escape(csrf)}">
<button type="submit" id="logout">Log out</button></form></header>
<div id="terminal" class="textual-terminal" data-session-websocket-url="{escape(websocket_url)}"
 data-font-size="{font_size}"></div>
</body></html>
"""


def message_page(title: str, message: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title><style>{_STYLE}</style></head>
<body><form class="login"><h1>{escape(title)}</h1><p>{escape(message)}</p>
<p><a href="/login" style="color:#9cf">Log in</a></p></form></body></html>
"""
