#!/usr/bin/env bash
# wxs on this machine, end to end, with two local peers ("laptop" and "server",
# each its own state dir and daemon) on a private DHT bootstrap on 127.0.0.1:
# the laptop imports this project as a workspace, works in it through a mount
# (git inside), snapshots and shares it; the server joins it, browses and reads
# it at once while content streams in, follows a new commit, and forks it to
# continue the work. Nothing here talks to the public DHT.
set -euo pipefail
cd "$(dirname "$0")/.."
export WXS_NO_PUBLIC_BOOTSTRAP=1
base=$(mktemp -d /tmp/wxs-demo-XXXXXX)
LAPTOP=$base/laptop SERVER=$base/server
laptop () { echo; echo "[laptop]\$ wxs $*"; WXS_HOME=$LAPTOP node cli/wxs.js "$@"; }
server () { echo; echo "[server]\$ wxs $*"; WXS_HOME=$SERVER node cli/wxs.js "$@"; }
boot_pid=
cleanup () {
  for home in "$SERVER" "$LAPTOP"; do WXS_HOME=$home node cli/wxs.js daemon stop >/dev/null 2>&1 || true; done
  [ -n "$boot_pid" ] && kill "$boot_pid" 2>/dev/null || true
  for m in "$base"/mnt-*; do [ -d "$m" ] && { fusermount -uz "$m" 2>/dev/null || true; }; done
  rm -rf "$base"
}
trap cleanup EXIT

echo "state dirs: $LAPTOP and $SERVER"
node cli/wxs.js bootstrap --json > "$base/bootstrap.json" 2> "$base/bootstrap.log" &
boot_pid=$!
for _ in $(seq 1 100); do [ -s "$base/bootstrap.json" ] && break; sleep 0.1; done
export WXS_BOOTSTRAP=$(node -p "require('$base/bootstrap.json').bootstrap")
echo "private DHT bootstrap on $WXS_BOOTSTRAP (wxs bootstrap)"

src=$base/src
mkdir -p "$src" && cp -r core manifests mount net cli tui test package.json README.md "$src/"
mnt=$base/mnt-laptop
laptop create api --from "$src" -m "import the project" --mount "$mnt"
echo; echo "[laptop]\$ cd $mnt && git init && git add -A && git commit   # inside the mounted workspace"
(cd "$mnt" && git -c init.defaultBranch=main init -q . && git add -A && git -c user.name=demo -c user.email=demo@example.com commit -qm "tracked inside wxs" && git log --oneline)
laptop snapshot api before-sharing
laptop fork api api-experiment
KEY=$(WXS_HOME=$LAPTOP node cli/wxs.js share api 2>/dev/null)
echo; echo "[laptop]\$ wxs share api"; echo "$KEY"

smnt=$base/mnt-server
server join "$KEY" --mount "$smnt"
echo; echo "[server]\$ ls $smnt   # browsable at once; file content is fetched on demand and in the background"
ls "$smnt"
echo; echo "[server]\$ head -3 $smnt/README.md"
head -3 "$smnt/README.md"
server sync api
server peers

echo "// edited on the laptop" >> "$mnt/core/index.ts"
laptop commit api -m "edit core"
for _ in $(seq 1 50); do grep -q "edited on the laptop" "$smnt/core/index.ts" 2>/dev/null && break; sleep 0.2; done
echo; echo "[server]\$ tail -1 $smnt/core/index.ts   # the laptop's new commit, followed"
tail -1 "$smnt/core/index.ts"
echo; echo "[server]\$ touch $smnt/x   # a joined workspace is read-only; fork it to write"
touch "$smnt/x" 2>&1 || true
server fork api api-server
fmnt=$base/mnt-fork
server mount api-server "$fmnt"
(cd "$fmnt" && git status --short | head -3 && echo "continued on the server" > NOTES.md && git add NOTES.md && git -c user.name=demo -c user.email=demo@example.com commit -qm "continue on the server" && git log --oneline | head -3)
server unmount api-server

echo; echo "--- move the workspace: the laptop pauses it, the server goes on with it, then hands it back ---"
echo "work in progress, not committed" > "$mnt/WIP.md"
echo; echo "[laptop]\$ wxs pause api --note 'go on with WIP.md' --meta cwd=/core --wait"
LINK=$(WXS_HOME=$LAPTOP node cli/wxs.js pause api --note 'go on with WIP.md' --meta cwd=/core --wait)
echo "$LINK"
echo; echo "[laptop]\$ echo more >> $mnt/WIP.md   # paused: the mount is read-only now"
echo more >> "$mnt/WIP.md" 2>&1 || true
server resume "$LINK" --mount
echo; echo "[server]\$ cat $smnt/WIP.md && git commit   # writable here now, the laptop's uncommitted file included"
cat "$smnt/WIP.md"
(cd "$smnt" && echo "done on the server" >> WIP.md && git add -A && git -c user.name=demo -c user.email=demo@example.com commit -qm "finish WIP on the server" && git log --oneline | head -2)
server log api -n 3
BACK=$(WXS_HOME=$SERVER node cli/wxs.js pause api --note 'back to the laptop')
echo; echo "[server]\$ wxs pause api"; echo "$BACK"
laptop resume "$BACK" --mount
echo; echo "[laptop]\$ tail -1 $mnt/WIP.md   # only the server's changes crossed"
tail -1 "$mnt/WIP.md"
laptop info api
server list
server stats
laptop unmount api
laptop list
