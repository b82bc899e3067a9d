# Sourced by every stand-in after the node's facts:
#   . "${SIM_STATE:?not inside a simulated node}/node.env" && . "$SIM_LIB/common.sh"
# Stand-ins are the simulator's own code: besides the simulated Mac's userland
# (their caller's PATH) they may use the host's tools (sed, awk, ls), which a
# Mac has but the contract does not list. A stand-in that shadows a host tool
# calls the host's by the absolute path in node.env (SIM_REAL_*). sudo runs
# its command with the Mac's PATH alone (SIM_MAC_PATH).
case ":$PATH:" in
  *:/usr/bin:/bin:*) ;;
  *) SIM_MAC_PATH=$PATH; PATH=$PATH:/usr/bin:/bin ;;
esac
# POSIX sh helpers; no node process per call. A process costs milliseconds
# and one observe probe runs ~20 stand-ins, so the hot paths use builtins
# (read, case, parameter expansion) instead of $(...), cat, sed and awk.

SIM_NL='
'

# cat FILE for small text files, without a process (a last line without a
# newline stays without one). Fails, silently, where cat would fail.
sim_cat() {
  [ -f "$1" ] && [ -r "$1" ] || return 1
  while IFS= read -r _l; do printf '%s\n' "$_l"; done < "$1"
  [ -z "$_l" ] || printf '%s' "$_l"
}

sim_uid() { echo "${SIM_UID:-501}"; }
sim_is_root() { [ "${SIM_UID:-501}" = 0 ]; }
sim_fault() { [ -e "$SIM_STATE/faults/$1" ]; }
# Value of KEY=VALUE in a fault's parameter file, or $3 when absent.
sim_fault_param() {
  v=$(sed -n "s/^$2=//p" "$SIM_STATE/faults/$1" 2>/dev/null | head -n 1)
  echo "${v:-$3}"
}

# Calls the simulator process over the node's unix socket; the answer is sh
# text (printf ... ; exit N) that reproduces the real command's output.
sim_ctl() {
  route=$1; shift
  n=$#
  for a in "$@"; do set -- "$@" --data-urlencode "a=$a"; done
  shift "$n"
  out=$("$SIM_REAL_CURL" -sS --max-time 60 --unix-socket "$SIM_CTL" -H 'Expect:' \
    --data-urlencode "cwd=$PWD" --data-urlencode "uid=${SIM_UID:-501}" "$@" "http://sim/$route") || {
    echo "${0##*/}: the simulator's control channel did not answer" >&2
    exit 1
  }
  eval "$out"
}

# The kernel host name as `hostname` prints it: HostName when set, else
# LocalHostName.local (configd derives it).
# (read, not cat: no fork on the hot path of a probe)
sim_hostname() {
  _h=
  [ -s "$SIM_STATE/names/HostName" ] && IFS= read -r _h < "$SIM_STATE/names/HostName"
  if [ -n "$_h" ]; then printf '%s\n' "$_h"; return; fi
  _h=
  [ -r "$SIM_STATE/names/LocalHostName" ] && IFS= read -r _h < "$SIM_STATE/names/LocalHostName"
  printf '%s.local\n' "$_h"
}

# Disk accounting shared by df and (in Node) the Ollama store: the data
# volume's size, a base "used" for macOS and apps, plus the apparent size of
# the node's files (model blobs are sparse files of their real size).
# Sets $total, $used and $avail (KB). The du lines are summed with read (no awk).
sim_disk_kb() {
  _o=$("$SIM_REAL_DU" -sk --apparent-size "$HOME" "$FLEET_ROOT" 2>/dev/null)
  files_kb=0
  while IFS= read -r _l; do
    _l=${_l%%[!0-9]*}; files_kb=$((files_kb + ${_l:-0}))
  done <<EOF
$_o
EOF
  used=$((SIM_DISK_BASE_USED_KB + files_kb))
  total=$SIM_DISK_TOTAL_KB
  [ "$used" -gt "$total" ] && used=$total
  avail=$((total - used))
  if sim_fault disk-full; then used=$total avail=0; fi
}
