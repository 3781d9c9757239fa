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
wxs fsck
wxs daemon status
rm -rf "$work" "$work.out" "$work.orig"
