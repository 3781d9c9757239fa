#!/usr/bin/env bash
# A walk through wxs on this machine, with a throwaway state dir:
# import this project's source as a workspace, fork it, change the fork,
# snapshot, diff, restore, export, and show how little disk it all costs.
set -euo pipefail
cd "$(dirname "$0")/.."
export WXS_HOME=${WXS_HOME:-$(mktemp -d /tmp/wxs-demo-XXXXXX)}
wxs () { echo; echo "\$ wxs $*"; node cli/wxs.js "$@"; }
trap 'node cli/wxs.js daemon stop >/dev/null 2>&1 || true' EXIT
work=$(mktemp -d /tmp/wxs-demo-src-XXXXXX)
echo "state dir: $WXS_HOME"
cp -r core manifests cli tui test package.json "$work/"
cp -r "$work" "$work.orig"

wxs create demo --from "$work"
wxs snapshot demo original
for i in 1 2 3; do wxs fork demo "agent-$i"; done
echo "// changed by agent 1" >> "$work/core/index.ts"
rm -rf "$work/test"
wxs import agent-1 "$work" -m "agent 1: edit core, drop tests"
wxs diff agent-1 0 head | tail -n 5
wxs log agent-1
wxs list
wxs stats
wxs restore agent-1 0
wxs export agent-1 "$work.out"
echo; echo "\$ diff -r <original tree> <export of the restored workspace>"
diff -r "$work.orig" "$work.out" && echo "byte-equal: the restore brought back the original tree"
mnt=$(mktemp -d /tmp/wxs-demo-mnt-XXXXXX)
if wxs mount agent-2 "$mnt"; then
  echo; echo "\$ cd $mnt && git init && git add -A && git commit   # inside the mounted workspace"
  (cd "$mnt" && git -c init.defaultBranch=main init -q . && git add -A && git -c user.name=demo -c user.email=demo@example.com commit -qm "tracked inside wxs" && git log --oneline && ls | head -5)
  echo "edited in the mount" > "$mnt/NOTES.md"
  wxs commit agent-2 -m "notes and a git repo, written through the mount"
  wxs diff agent-2 | tail -n 3
  wxs unmount agent-2
else
  echo "(mounting needs FUSE: /dev/fuse and libfuse2; skipped)"
fi
rmdir "$mnt" 2>/dev/null || true
wxs fsck
wxs daemon status
rm -rf "$work" "$work.out" "$work.orig"
