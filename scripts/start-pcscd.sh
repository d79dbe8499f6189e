#!/usr/bin/env bash
# Starts the machine's one pcscd for the tests: `pcscd --foreground` in the background, never with
# --auto-exit (an idle exit would close vpcd's ports under the simulator). Idempotent: a pcscd that
# already answers on its socket is left alone.
#
#   scripts/start-pcscd.sh            start if not running, wait for the socket
#   scripts/start-pcscd.sh --restart  stop the pcscd this script started (or the one in the pid
#                                     file), then start a new one
#   scripts/start-pcscd.sh --stop     stop it
#   scripts/start-pcscd.sh --status   exit 0 when pcscd is running
#
# Environment: PCSCD_LOG (default /tmp/cardbridge-pcscd.log), PCSCD_DEBUG=1 adds --debug --apdu,
# PCSCD_NO_QUICKACK=1 leaves the loopback route alone.
set -euo pipefail

SOCKET=/run/pcscd/pcscd.comm
PIDFILE=/run/pcscd/pcscd.pid
LOG=${PCSCD_LOG:-/tmp/cardbridge-pcscd.log}
TIMEOUT_S=${PCSCD_START_TIMEOUT:-15}

log() { echo "start-pcscd: $*" >&2; }

pcscd_pid() {
  local pid
  if [[ -r $PIDFILE ]]; then
    pid=$(tr -dc '0-9' <"$PIDFILE")
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && [[ $(cat "/proc/$pid/comm" 2>/dev/null) == pcscd ]]; then
      echo "$pid"
      return 0
    fi
  fi
  return 1
}

running() { pcscd_pid >/dev/null && [[ -S $SOCKET ]]; }

set_quickack() {
  # Debian's vpcd writes every message in two writes; with delayed ACK on loopback each APDU then
  # costs ~40 ms. quickack on the local route removes that. Speed only, never needed for correctness.
  [[ ${PCSCD_NO_QUICKACK:-} == 1 ]] && return 0
  [[ $(id -u) -eq 0 ]] || return 0
  command -v ip >/dev/null || return 0
  if ip route show table local 2>/dev/null | grep -q '^local 127.0.0.1 .*quickack 1'; then
    return 0
  fi
  if ip route change local 127.0.0.1 dev lo proto kernel scope host src 127.0.0.1 table local quickack 1 2>/dev/null; then
    log "quickack enabled on the loopback route"
  else
    log "could not set quickack on the loopback route (slower APDUs, still correct)"
  fi
}

stop() {
  local pid i
  if ! pid=$(pcscd_pid); then
    log "pcscd is not running"
    return 0
  fi
  log "stopping pcscd (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "pcscd (pid $pid) ignored SIGTERM, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.2
  fi
  # A killed pcscd leaves its socket and pid file behind; the next start refuses to run with them.
  rm -f "$SOCKET" "$PIDFILE"
}

start() {
  local i args=(--foreground)
  set_quickack
  if running; then
    log "pcscd already running (pid $(pcscd_pid))"
    return 0
  fi
  if ! command -v pcscd >/dev/null; then
    log "pcscd is not installed (scripts/install-system-deps.sh)"
    return 1
  fi
  # Leftovers of a pcscd that died without cleaning up make a new one exit at once.
  if ! pcscd_pid >/dev/null; then
    rm -f "$SOCKET" "$PIDFILE"
  fi
  if [[ ${PCSCD_DEBUG:-} == 1 ]]; then
    args+=(--debug --apdu)
  fi
  mkdir -p /run/pcscd
  log "starting pcscd ${args[*]} (log: $LOG)"
  # setsid: the daemon must not die with the shell or the CI step that started it.
  setsid pcscd "${args[@]}" >>"$LOG" 2>&1 </dev/null &
  for ((i = 0; i < TIMEOUT_S * 10; i++)); do
    if running; then
      log "pcscd ready (pid $(pcscd_pid), socket $SOCKET)"
      return 0
    fi
    sleep 0.1
  done
  log "pcscd did not create $SOCKET within ${TIMEOUT_S}s; last log lines:"
  tail -n 20 "$LOG" >&2 || true
  return 1
}

case ${1:-start} in
  start | --start) start ;;
  restart | --restart) stop && start ;;
  stop | --stop) stop ;;
  status | --status)
    if running; then
      echo "pcscd running (pid $(pcscd_pid))"
    else
      echo "pcscd not running"
      exit 1
    fi
    ;;
  -h | --help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' ;;
  *)
    log "unknown option: $1 (--start, --restart, --stop, --status)"
    exit 2
    ;;
esac
