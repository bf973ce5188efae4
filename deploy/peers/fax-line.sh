#!/usr/bin/env bash
# A real fax line on this machine: pairs of iaxmodem instances that call each other over IAX2 on
# loopback (no PBX), so the transmitter can be tested against real Class 1 modems and efax.
#
#   fax-line.sh install              apt-installs iaxmodem, efax, libtiff-tools, ghostscript (and socat,
#                                    which gives the scripted test modem its pseudo-terminal) if missing
#   fax-line.sh start N DIR [PORT]   starts N modem pairs; pair i lives in DIR/pair-i:
#                                      ttyA (the sender's pty, dials 2002), ttyB (the far modem's pty)
#                                      on UDP ports PORT+2(i-1) and PORT+2(i-1)+1 (default PORT 4570)
#   fax-line.sh stop DIR             stops every modem started for DIR
#
# Each step is idempotent: install skips what is there, start leaves a running pair alone, stop of a
# stopped DIR does nothing.
set -euo pipefail

die() { echo "fax-line: $*" >&2; exit 1; }

install_packages() {
  local missing=()
  command -v iaxmodem >/dev/null 2>&1 || missing+=(iaxmodem)
  command -v efax >/dev/null 2>&1 || missing+=(efax)
  command -v tiffcp >/dev/null 2>&1 || missing+=(libtiff-tools)
  command -v gs >/dev/null 2>&1 || missing+=(ghostscript)
  command -v socat >/dev/null 2>&1 || missing+=(socat)
  if [ ${#missing[@]} -eq 0 ]; then
    echo "fax-line: iaxmodem, efax, libtiff-tools, ghostscript and socat are installed"
    return 0
  fi
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "need root (or sudo) to install: ${missing[*]}"
    sudo="sudo"
  fi
  echo "fax-line: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # The package lists may be stale or absent on a fresh machine: install, and on failure refresh once.
  if ! $sudo apt-get install -y --no-install-recommends "${missing[@]}"; then
    $sudo apt-get update
    $sudo apt-get install -y --no-install-recommends "${missing[@]}"
  fi
  # The Debian package starts a system iaxmodem service reading /etc/iaxmodem/*; our pairs are
  # started per test and need none of it.
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet iaxmodem 2>/dev/null; then
    $sudo systemctl stop iaxmodem || true
  fi
}

# iaxmodem reads its configuration only from /etc/iaxmodem/<name>; a relative name reaches DIR.
config_name() { echo "../..$1"; }

modem_config() {
  local device=$1 port=$2 peer_port=$3 name=$4 cidname=$5 cidnumber=$6
  cat <<EOF
device    $device
owner     root:root
mode      660
port      $port
refresh   0
server    127.0.0.1:$peer_port
peername  $name
secret    x
cidname   $cidname
cidnumber $cidnumber
codec     slinear
EOF
}

running() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

start_modem() {
  local dir=$1 side=$2 port=$3 peer_port=$4 cidname=$5 cidnumber=$6
  local cfg="$dir/modem$side.cfg" pidfile="$dir/modem$side.pid" device="$dir/tty$side"
  if running "$pidfile"; then return 0; fi
  rm -f "$device"
  modem_config "$device" "$port" "$peer_port" "modem$side" "$cidname" "$cidnumber" >"$cfg"
  mkdir -p /etc/iaxmodem
  setsid stdbuf -oL iaxmodem "$(config_name "$cfg")" >"$dir/modem$side.log" 2>&1 </dev/null &
  echo $! >"$pidfile"
}

wait_for_device() {
  local device=$1 pidfile=$2 log=$3
  for _ in $(seq 1 100); do
    [ -e "$device" ] && return 0
    running "$pidfile" || die "iaxmodem for $device exited: $(tail -n 5 "$log" 2>/dev/null)"
    sleep 0.1
  done
  die "iaxmodem did not create $device in 10 s: $(tail -n 5 "$log" 2>/dev/null)"
}

start_pairs() {
  local count=$1 dir=$2 base=${3:-4570}
  [[ $count =~ ^[0-9]+$ ]] && [ "$count" -ge 1 ] || die "start: N must be a positive number"
  [[ $base =~ ^[0-9]+$ ]] || die "start: PORT must be a number"
  command -v iaxmodem >/dev/null 2>&1 || die "iaxmodem is not installed: run '$0 install'"
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd -P)
  local i
  for i in $(seq 1 "$count"); do
    local pair="$dir/pair-$i" a=$((base + 2 * (i - 1))) b=$((base + 2 * (i - 1) + 1))
    mkdir -p "$pair"
    start_modem "$pair" A "$a" "$b" SENDER 1001
    start_modem "$pair" B "$b" "$a" RECEIVER 2002
  done
  for i in $(seq 1 "$count"); do
    local pair="$dir/pair-$i"
    wait_for_device "$pair/ttyA" "$pair/modemA.pid" "$pair/modemA.log"
    wait_for_device "$pair/ttyB" "$pair/modemB.pid" "$pair/modemB.log"
    echo "pair-$i $pair/ttyA $pair/ttyB"
  done
}

stop_pairs() {
  local dir=$1
  [ -d "$dir" ] || return 0
  local pidfile pids=()
  while IFS= read -r pidfile; do
    if running "$pidfile"; then
      local pid
      pid=$(cat "$pidfile")
      # Only an iaxmodem we started: the pid file may be stale and the number reused.
      if grep -q iaxmodem "/proc/$pid/cmdline" 2>/dev/null; then
        kill "$pid" 2>/dev/null || true
        pids+=("$pid")
      fi
    fi
    rm -f "$pidfile"
  done < <(find "$dir" -name 'modem*.pid' 2>/dev/null)
  local pid
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
}

case "${1:-}" in
  install) install_packages ;;
  start) [ $# -ge 3 ] || die "usage: $0 start N DIR [PORT]"; start_pairs "$2" "$3" "${4:-}" ;;
  stop) [ $# -ge 2 ] || die "usage: $0 stop DIR"; stop_pairs "$2" ;;
  *) die "usage: $0 install | start N DIR [PORT] | stop DIR" ;;
esac
