#!/usr/bin/env bash
# Installs the system packages the test suite drives: tmux (the real-terminal test) and Debian's
# prometheus package (prometheus + promtool: the real-Prometheus integration suite). Needs root or sudo.
set -euo pipefail
need=()
command -v tmux >/dev/null 2>&1 || need+=(tmux)
{ command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; } || need+=(prometheus)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# The package may start its own server where systemd runs; the tests start their own on a free port.
echo "system packages ready: $(command -v tmux) $(prometheus --version 2>&1 | head -1)"
