#!/bin/bash
# The Homebrew installer as a simulated node gets it from
# https://raw.githubusercontent.com/Homebrew/install/HEAD/install.sh (the
# node's curl serves this file). Same messages and checks as the real one for
# an unattended run: non-interactive notice, sudo check, prefix by architecture.
set -u
abort() { printf '%s\n' "$@" >&2; exit 1; }
. "${SIM_STATE:?not inside a simulated node}/node.env" && . "$SIM_LIB/common.sh"
if [[ -n "${NONINTERACTIVE-}" ]]; then
  echo '==> Running in non-interactive mode because `$NONINTERACTIVE` is set.'
elif [[ ! -t 0 ]]; then
  echo '==> Running in non-interactive mode because `stdin` is not a TTY.'
fi
if sim_is_root; then abort "Don't run this as root!"; fi
echo '==> Checking for `sudo` access (which may request your password)...'
if ! sudo -n -l mkdir >/dev/null 2>&1; then
  abort "Need sudo access on macOS (e.g. the user ${SIM_USER} needs to be an Administrator)!"
fi
prefix=$SIM_BREW_PREFIX
root=${FLEET_ROOT-}$prefix
if [[ -x "$root/bin/brew" ]]; then
  echo "==> This script will install:"
  echo "$prefix/bin/brew"
  echo "Warning: Homebrew is already installed, running brew update instead."
  echo "Already up-to-date."
  exit 0
fi
if sim_fault disk-full; then abort "Error: No space left on device @ rb_sysopen - $prefix/.git/objects"; fi
echo "==> This script will install:"
printf '%s\n' "$prefix/bin/brew" "$prefix/share/doc/homebrew" "$prefix/share/man/man1/brew.1" \
  "$prefix/share/zsh/site-functions/_brew" "$prefix/etc/bash_completion.d/brew"
echo "==> The following new directories will be created:"
for d in bin etc include lib sbin share var opt Cellar Caskroom Frameworks; do echo "$prefix/$d"; done
echo "==> Downloading and installing Homebrew..."
mkdir -p "$root"/{bin,etc,include,lib,sbin,share,var/log,opt,Cellar,Caskroom,Frameworks} "${FLEET_ROOT-}/Applications" || abort "Failed to create $prefix"
ln -sf "$SIM_HOMEBREW_DIR/brew" "$root/bin/brew"
echo "==> Installation successful!"
echo
echo "==> Homebrew has enabled anonymous aggregate formulae and cask analytics."
echo "==> Next steps:"
echo "- Run these commands in your terminal to add Homebrew to your PATH:"
echo "    echo >> /Users/${SIM_USER}/.zprofile"
echo "    echo 'eval \"\$($prefix/bin/brew shellenv)\"' >> /Users/${SIM_USER}/.zprofile"
echo "    eval \"\$($prefix/bin/brew shellenv)\""
echo "- Run brew help to get started"
