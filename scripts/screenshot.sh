#!/usr/bin/env bash
# screenshot.sh PAGE.html OUT.png WIDTH [HEIGHT]: a PNG of a local page with headless Chromium
# (Debian's `chromium`). Without HEIGHT the page says its own height in its <title>
# ("height=N", as scripts/chat_preview.py's pages do), read through --dump-dom, so the picture
# is the whole message and no more.
set -euo pipefail
page=$(realpath "$1") out=$2 width=$3 height=${4:-}
chrome=(chromium --headless --no-sandbox --disable-gpu --hide-scrollbars
  --force-device-scale-factor=1 --disable-extensions --no-first-run)
if [[ -z $height ]]; then
  height=$("${chrome[@]}" --window-size="$width,2000" --dump-dom "file://$page" 2>/dev/null |
    sed -n 's:.*<title>height=\([0-9]*\)</title>.*:\1:p')
  [[ -n $height ]] || { echo "screenshot.sh: $1 did not say its height" >&2; exit 1; }
fi
"${chrome[@]}" --window-size="$width,$height" --screenshot="$out" "file://$page" 2>/dev/null
test -s "$out"
echo "$out: ${width}x$height, $(stat -c %s "$out") bytes"
