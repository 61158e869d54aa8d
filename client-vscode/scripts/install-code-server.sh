#!/usr/bin/env bash
# Install code-server (VS Code 1.100.3 served to a browser) from npm, for the end-to-end test, with
# no downloads outside the npm registry and Debian.
# usage: scripts/install-code-server.sh DIR      result: DIR/node_modules/.bin/code-server (~300 MB)
# env:   CS_VERSION (default 4.100.3: the last release that runs on Node 20)
#        INSTALL_APT=0  do not apt-get the build prerequisites (fail if they are missing)
#
# `npm install code-server` alone fails offline: @vscode/ripgrep's postinstall downloads rg from
# GitHub and npm then rolls back everything. So: install with --ignore-scripts, put Debian's rg
# where @vscode/ripgrep expects it, and replay code-server's postinstall.sh by hand.
set -euo pipefail
DIR=${1:?usage: install-code-server.sh DIR}
VER=${CS_VERSION:-4.100.3}

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$VER" = 4.100.3 ] && [ "$node_major" != 20 ]; then
  echo "code-server $VER needs Node 20 (this is Node $node_major)" >&2
  exit 2
fi

# kerberos needs gssapi headers (libkrb5-dev); Debian's rg replaces the GitHub download
pkgs="build-essential pkg-config python3 libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev ripgrep"
missing=""
for p in $pkgs; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  if [ "${INSTALL_APT:-1}" = 0 ] || [ "$(id -u)" != 0 ]; then
    echo "missing Debian packages:$missing (apt-get install them first)" >&2; exit 2
  fi
  timeout 900 apt-get install -y --no-install-recommends $missing \
    || { timeout 300 apt-get update && timeout 900 apt-get install -y --no-install-recommends $missing; }
fi

# node-pty's install step runs `npx node-gyp`; an npmrc with `yes=false` makes npx refuse to run
export npm_config_yes=true
# node-gyp downloads Node's headers unless nodedir is set; Debian's nodejs ships them under /usr
if [ -z "${npm_config_nodedir:-}" ] && [ "$(npm config get nodedir 2>/dev/null)" = undefined ] \
   && [ -f /usr/include/node/node.h ]; then
  export npm_config_nodedir=/usr
fi

mkdir -p "$DIR"
cd "$DIR"
rm -rf node_modules package-lock.json .complete
echo '{"name":"taskdroid-e2e-code-server","private":true}' > package.json
t0=$(date +%s)
timeout 600 npm install "code-server@$VER" --ignore-scripts --no-audit --no-fund --no-save
timeout 600 npm rebuild argon2                    # its prebuilt download fails -> node-gyp build
cd node_modules/code-server/lib/vscode            # from here on: code-server's postinstall.sh
timeout 900 npm install --omit=dev --ignore-scripts --no-audit --no-fund
mkdir -p node_modules/@vscode/ripgrep/bin
cp "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg   # its postinstall skips when bin/ exists
timeout 1200 npm rebuild                          # native modules: kerberos, node-pty, spdlog, ...
rm -rf node_modules.asar && ln -s node_modules node_modules.asar
(cd bin/remote-cli && rm -f code-server && ln -s code-linux.sh code-server)
(cd bin/helpers && rm -f browser.sh && ln -s browser-linux.sh browser.sh)
cd extensions
timeout 600 npm install --omit=dev --no-audit --no-fund
# code-server writes ~/.config/code-server and ~/.local/share/code-server on any start: keep that here
XDG_CONFIG_HOME="$DIR/.xdg" XDG_DATA_HOME="$DIR/.xdg" "$DIR/node_modules/.bin/code-server" --version | head -1
rm -rf "$DIR/.xdg"
touch "$DIR/.complete"
echo "code-server $VER installed in $DIR in $(( $(date +%s) - t0 ))s"
