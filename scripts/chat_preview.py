#!/usr/bin/env python3
"""A preview page of one chat message, drawn from the exact request `costwatch render` prints.

usage: costwatch render --integration slack --input ENVELOPE | chat_preview.py slack > page.html

The payload is the one the project's own encoder produced (Slack Block Kit, a Teams Adaptive
Card 1.5, a Discord embed); this page only draws it the way the chat tool lays such a payload
out, so `make screenshots` can put a picture of each in the README. It is a preview, not the
vendor's renderer: element types it does not draw are shown as a visible marker, never dropped.
Standard library only.
"""
import html
import json
import re
import sys

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>{title}</title><style>
body {{ margin: 0; padding: 16px; width: {width}px; font: 15px/1.45 "Segoe UI", "Helvetica Neue",
  Arial, sans-serif; background: {bg}; color: {fg}; }}
.row {{ display: flex; gap: 10px; }}
.avatar {{ width: 36px; height: 36px; border-radius: {radius}; background: #2f855a; color: #fff;
  font-weight: 700; display: flex; align-items: center; justify-content: center; flex: none; }}
.who {{ font-weight: 700; }} .when {{ color: {muted}; font-size: 12px; margin-left: 6px; }}
.tag {{ font-size: 10px; background: {tagbg}; color: {tagfg}; border-radius: 3px; padding: 1px 4px;
  margin-left: 4px; vertical-align: 2px; }}
.unknown {{ border: 1px dashed #c00; color: #c00; padding: 2px 6px; font-size: 12px; }}
{css}
</style></head><body>{body}
<script>/* the page's height, read by scripts/screenshot.sh through --dump-dom */
document.title = "height=" + Math.ceil(document.documentElement.getBoundingClientRect().height);
</script></body></html>
"""

UNKNOWN = '<div class="unknown">[not drawn by the preview: {}]</div>'


def esc(text):
    return html.escape(text, quote=True)


# --- Slack: Block Kit -----------------------------------------------------------------------

SLACK_CSS = """
.msg { flex: 1; } .blk { margin: 4px 0; }
.header { font-size: 18px; font-weight: 700; margin: 2px 0 6px; }
.fields { display: grid; grid-template-columns: 1fr 1fr; gap: 6px 16px; }
.context { color: #616061; font-size: 12px; display: flex; gap: 10px; flex-wrap: wrap; }
.divider { border-top: 1px solid #ddd; margin: 8px 0; }
.btn { display: inline-block; border: 1px solid #bbb; border-radius: 4px; padding: 3px 10px;
  font-weight: 700; font-size: 13px; margin-right: 6px; } .btn.primary { background: #007a5a;
  color: #fff; border-color: #007a5a; }
a { color: #1264a3; text-decoration: none; } code { background: #f6f6f6; color: #e01e5a;
  border: 1px solid #ddd; border-radius: 3px; padding: 0 3px; }
"""


def slack_mrkdwn(text):
    """Slack's mrkdwn: &amp; &lt; &gt; are the escapes; <url|label>, *bold*, _italic_, `code`."""
    links = []

    def keep_link(m):
        url, _, label = m.group(1).partition("|")
        links.append((url, label or url))
        return f"\x00{len(links) - 1}\x00"

    text = re.sub(r"<([^<>]+)>", keep_link, text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    out = esc(text)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    out = re.sub(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])", r"<b>\1</b>", out)
    out = re.sub(r"(?<![\w_])_([^_\n]+)_(?![\w_])", r"<i>\1</i>", out)
    out = re.sub(
        r"\x00(\d+)\x00",
        lambda m: '<a href="{}">{}</a>'.format(
            esc(links[int(m.group(1))][0]), esc(links[int(m.group(1))][1])
        ),
        out,
    )
    return out.replace("\n", "<br>")


def slack_text(obj):
    if obj.get("type") == "mrkdwn":
        return slack_mrkdwn(obj["text"])
    return esc(obj["text"]).replace("\n", "<br>")


def slack_block(block):
    kind = block.get("type")
    if kind == "header":
        return f'<div class="header">{slack_text(block["text"])}</div>'
    if kind == "section":
        parts = []
        if "text" in block:
            parts.append(f'<div class="blk">{slack_text(block["text"])}</div>')
        if "fields" in block:
            cells = "".join(f"<div>{slack_text(f)}</div>" for f in block["fields"])
            parts.append(f'<div class="blk fields">{cells}</div>')
        if "accessory" in block:
            parts.append(UNKNOWN.format("accessory " + block["accessory"].get("type", "?")))
        return "".join(parts)
    if kind == "context":
        items = []
        for el in block["elements"]:
            if el.get("type") in ("mrkdwn", "plain_text"):
                items.append(f"<span>{slack_text(el)}</span>")
            else:
                items.append(UNKNOWN.format("context " + str(el.get("type"))))
        return f'<div class="blk context">{"".join(items)}</div>'
    if kind == "divider":
        return '<div class="divider"></div>'
    if kind == "actions":
        buttons = []
        for el in block["elements"]:
            if el.get("type") != "button":
                buttons.append(UNKNOWN.format("action " + str(el.get("type"))))
                continue
            style = " primary" if el.get("style") == "primary" else ""
            buttons.append(f'<span class="btn{style}">{slack_text(el["text"])}</span>')
        return f'<div class="blk">{"".join(buttons)}</div>'
    if kind == "image":
        return f'<div class="blk">[image: {esc(block.get("alt_text", ""))}]</div>'
    return UNKNOWN.format("block " + str(kind))


def slack(body):
    blocks = body.get("blocks")
    inner = (
        "".join(slack_block(b) for b in blocks)
        if blocks
        else f'<div class="blk">{slack_mrkdwn(body.get("text", ""))}</div>'
    )
    attachments = body.get("attachments") or []
    if attachments:
        inner += UNKNOWN.format(f"{len(attachments)} legacy attachment(s)")
    head = '<span class="who">costwatch</span><span class="tag">APP</span><span class="when">8:00 AM</span>'
    body_html = f'<div class="row"><div class="avatar">cw</div><div class="msg">{head}{inner}</div></div>'
    return dict(body=body_html, css=SLACK_CSS, bg="#fff", fg="#1d1c1d", muted="#616061",
                tagbg="#e8e8e8", tagfg="#616061", radius="6px", width=640)


# --- Microsoft Teams: Adaptive Card 1.5 -------------------------------------------------------

TEAMS_CSS = """
.msg { flex: 1; } .card { background: #fff; border-radius: 6px; box-shadow: 0 1px 3px #0002;
  padding: 12px 14px; margin-top: 4px; }
.container.attention { background: #fde7e9; } .container.warning { background: #fff4ce; }
.container.good { background: #dff6dd; } .container.accent { background: #deecf9; }
.container.emphasis { background: #f3f2f1; }
.container.bleed { margin: -12px -14px 8px; padding: 10px 14px; border-radius: 6px 6px 0 0; }
.el { margin-top: 8px; } .el.small { margin-top: 3px; } .el.sep { border-top: 1px solid #e1dfdd;
  padding-top: 8px; }
.s-small { font-size: 12px; } .s-medium { font-size: 17px; } .s-large { font-size: 21px; }
.w-bolder { font-weight: 700; } .subtle { color: #605e5c; }
.c-attention { color: #c4314b; } .c-good { color: #237b4b; } .c-warning { color: #8a6100; }
.c-accent { color: #5b5fc7; }
table { border-collapse: collapse; width: 100%; } td { padding: 3px 8px 3px 0; vertical-align: top; }
table.grid td { border: 1px solid #e1dfdd; padding: 3px 6px; }
.facts td:first-child { font-weight: 700; white-space: nowrap; }
.cols { display: flex; gap: 10px; } .action { display: inline-block; border: 1px solid #c8c6c4;
  border-radius: 4px; padding: 4px 12px; margin: 8px 6px 0 0; font-weight: 600; font-size: 13px; }
a { color: #5b5fc7; }
"""


def teams_inline(run):
    if run.get("type") != "TextRun":
        return UNKNOWN.format("inline " + str(run.get("type")))
    cls = [f's-{run["size"]}' if "size" in run else "", f'w-{run["weight"]}' if "weight" in run else "",
           "subtle" if run.get("isSubtle") else "", f'c-{run["color"]}' if "color" in run else ""]
    text = esc(run["text"]).replace("\n", "<br>")
    if run.get("italic"):
        text = f"<i>{text}</i>"
    if "selectAction" in run and "url" in run["selectAction"]:
        text = f'<a href="{esc(run["selectAction"]["url"])}">{text}</a>'
    return f'<span class="{" ".join(c for c in cls if c)}">{text}</span>'


def teams_text_block(el):
    cls = [f's-{el["size"]}' if "size" in el else "", f'w-{el["weight"]}' if "weight" in el else "",
           "subtle" if el.get("isSubtle") else "", f'c-{el["color"]}' if "color" in el else ""]
    # TextBlock text is Adaptive Cards' markdown subset: **bold**, _italic_, [label](url).
    text = esc(el["text"])
    text = re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", text)
    text = re.sub(r"\[([^\]]+)\]\(([^)]+)\)", r'<a href="\2">\1</a>', text)
    return f'<div class="{" ".join(c for c in cls if c)}">{text.replace(chr(10), "<br>")}</div>'


def teams_element(el, first=False):
    kind = el.get("type")
    if kind == "RichTextBlock":
        inner = "<div>" + "".join(teams_inline(r) for r in el["inlines"]) + "</div>"
    elif kind == "TextBlock":
        inner = teams_text_block(el)
    elif kind == "Container":
        style = el.get("style", "")
        bleed = " bleed" if el.get("bleed") else ""
        items = "".join(teams_element(i, n == 0) for n, i in enumerate(el.get("items", [])))
        inner = f'<div class="container {style}{bleed}">{items}</div>'
    elif kind == "Table":
        widths = [c.get("width", 1) for c in el.get("columns", [])]
        total = sum(w for w in widths if isinstance(w, (int, float))) or 1
        cols = "".join(
            f'<col style="width:{100 * w / total:.0f}%">' if isinstance(w, (int, float)) else "<col>"
            for w in widths
        )
        rows = []
        for row in el.get("rows", []):
            cells = "".join(
                "<td>" + "".join(teams_element(i, True) for i in c.get("items", [])) + "</td>"
                for c in row.get("cells", [])
            )
            rows.append(f"<tr>{cells}</tr>")
        grid = " grid" if el.get("showGridLines", True) else ""
        inner = f'<table class="{grid.strip()}">{cols}{"".join(rows)}</table>'
    elif kind == "FactSet":
        rows = "".join(
            f'<tr><td>{esc(f["title"])}</td><td>{esc(f["value"])}</td></tr>' for f in el["facts"]
        )
        inner = f'<table class="facts">{rows}</table>'
    elif kind == "ColumnSet":
        cols = "".join(
            '<div style="flex:1">' + "".join(teams_element(i, True) for i in c.get("items", [])) + "</div>"
            for c in el.get("columns", [])
        )
        inner = f'<div class="cols">{cols}</div>'
    elif kind == "ActionSet":
        inner = teams_actions(el.get("actions", []))
    else:
        inner = UNKNOWN.format("element " + str(kind))
    cls = ["el"]
    if el.get("spacing") in ("small", "none"):
        cls.append("small")
    if el.get("separator"):
        cls.append("sep")
    if first:
        cls = ["el0"]
    return f'<div class="{" ".join(cls)}">{inner}</div>'


def teams_actions(actions):
    out = []
    for a in actions:
        if a.get("type") == "Action.OpenUrl":
            out.append(f'<span class="action">{esc(a.get("title", a["url"]))}</span>')
        else:
            out.append(UNKNOWN.format("action " + str(a.get("type"))))
    return "<div>" + "".join(out) + "</div>"


def teams(body):
    cards = [a["content"] for a in body.get("attachments", [])
             if a.get("contentType", "application/vnd.microsoft.card.adaptive")
             == "application/vnd.microsoft.card.adaptive"]
    if not cards:
        return dict(body=UNKNOWN.format("no Adaptive Card"), css=TEAMS_CSS, bg="#f5f5f5",
                    fg="#242424", muted="#616161", tagbg="#e0e0e0", tagfg="#424242",
                    radius="50%", width=640)
    card = cards[0]
    inner = "".join(teams_element(e) for e in card.get("body", []))
    inner += teams_actions(card.get("actions", [])) if card.get("actions") else ""
    head = '<span class="who">costwatch</span><span class="tag">Workflows</span><span class="when">08:00</span>'
    body_html = (f'<div class="row"><div class="avatar">cw</div><div class="msg">{head}'
                 f'<div class="card">{inner}</div></div></div>')
    return dict(body=body_html, css=TEAMS_CSS, bg="#f5f5f5", fg="#242424", muted="#616161",
                tagbg="#e0e0e0", tagfg="#424242", radius="50%", width=640)


# --- Discord: embeds --------------------------------------------------------------------------

DISCORD_CSS = """
.msg { flex: 1; min-width: 0; } .embed { display: flex; margin-top: 4px; max-width: 520px;
  background: #2b2d31; border-radius: 4px; overflow: hidden; }
.bar { width: 4px; flex: none; } .ebody { padding: 8px 16px 12px 12px; min-width: 0; }
.etitle { font-weight: 700; color: #fff; margin-top: 4px; } .edesc { font-size: 14px; margin-top: 6px; }
.fields { display: grid; grid-template-columns: repeat(3, 1fr); gap: 8px 12px; margin-top: 8px; }
.field { font-size: 14px; } .field.wide { grid-column: 1 / -1; } .fname { font-weight: 700;
  color: #fff; margin-bottom: 2px; } .footer { font-size: 12px; color: #b5bac1; margin-top: 8px; }
a { color: #00a8fc; text-decoration: none; } code { background: #1e1f22; border-radius: 3px;
  padding: 0 3px; font-size: 13px; }
"""


def discord_markdown(text):
    """Discord's markdown: backslash escapes, **bold**, *italic*, `code`, [label](url)."""
    kept = []

    def keep(m):
        kept.append(m.group(1))
        return f"\x00{len(kept) - 1}\x00"

    text = re.sub(r"\\(.)", keep, text)
    out = esc(text)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    out = re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", out)
    out = re.sub(r"(?<!\*)\*([^*\n]+)\*(?!\*)", r"<i>\1</i>", out)
    out = re.sub(r"\[([^\]]+)\]\(([^)\s]+)\)", r'<a href="\2">\1</a>', out)
    out = re.sub(r"\x00(\d+)\x00", lambda m: esc(kept[int(m.group(1))]), out)
    return out.replace("\n", "<br>")


def discord_embed(e):
    color = "#{:06x}".format(e.get("color", 0x202225))
    parts = []
    if "author" in e:
        parts.append(f'<div class="footer">{esc(e["author"].get("name", ""))}</div>')
    if "title" in e:
        title = discord_markdown(e["title"])
        if "url" in e:
            title = f'<a href="{esc(e["url"])}">{title}</a>'
        parts.append(f'<div class="etitle">{title}</div>')
    if "description" in e:
        parts.append(f'<div class="edesc">{discord_markdown(e["description"])}</div>')
    if e.get("fields"):
        fields = "".join(
            '<div class="field{}"><div class="fname">{}</div>{}</div>'.format(
                "" if f.get("inline") else " wide", discord_markdown(f["name"]),
                discord_markdown(f["value"]))
            for f in e["fields"]
        )
        parts.append(f'<div class="fields">{fields}</div>')
    if "image" in e:
        parts.append(f'<div class="edesc">[image: {esc(e["image"].get("url", ""))}]</div>')
    footer = [esc(e["footer"]["text"])] if "footer" in e else []
    if "timestamp" in e:
        footer.append(esc(e["timestamp"].replace("T", " ").replace("Z", " UTC")))
    if footer:
        parts.append(f'<div class="footer">{" • ".join(footer)}</div>')
    return (f'<div class="embed"><div class="bar" style="background:{color}"></div>'
            f'<div class="ebody">{"".join(parts)}</div></div>')


def discord(body):
    inner = ""
    if body.get("content"):
        inner += f'<div>{discord_markdown(body["content"])}</div>'
    inner += "".join(discord_embed(e) for e in body.get("embeds", []))
    name = esc(body.get("username", "costwatch"))
    head = f'<span class="who" style="color:#fff">{name}</span><span class="tag">APP</span><span class="when">Today at 8:00</span>'
    body_html = f'<div class="row"><div class="avatar">cw</div><div class="msg">{head}{inner}</div></div>'
    return dict(body=body_html, css=DISCORD_CSS, bg="#313338", fg="#dbdee1", muted="#949ba4",
                tagbg="#5865f2", tagfg="#fff", radius="50%", width=600)


VENDORS = {"slack": slack, "teams": teams, "discord": discord}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in VENDORS:
        sys.exit(f"usage: costwatch render --integration X --input ENVELOPE | {sys.argv[0]} "
                 f"{{{'|'.join(VENDORS)}}} > page.html")
    vendor = sys.argv[1]
    requests = json.load(sys.stdin)
    if not requests:
        sys.exit("chat_preview: `costwatch render` returned no request")
    # The first request is the message; later ones (a chart upload, a thread reply) are not drawn.
    page = VENDORS[vendor](requests[0]["body"])
    print(PAGE.format(title=f"costwatch on {vendor}", **page))


if __name__ == "__main__":
    main()
