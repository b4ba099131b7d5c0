#!/usr/bin/env bash
# test-peers.sh - real third-party DICOM peers on loopback for the integration tests.
#
#   scripts/test-peers.sh start [DATA_DIR]   install what is missing, start, wait until ready
#   scripts/test-peers.sh stop  [DATA_DIR]   stop exactly the processes started from DATA_DIR
#   scripts/test-peers.sh env   [DATA_DIR]   print the endpoints without starting anything
#
# DATA_DIR defaults to $PEERS_DATA_DIR, else <repo>/tmp/peers. `start` and `env` print KEY=VALUE
# lines (unquoted) on stdout and nothing else; logs go to stderr and DATA_DIR/logs.
#
#   Orthanc      AET ORTHANC  DICOM :4242, HTTP :8042 (REST, DICOMweb at /dicom-web, HTTP Basic),
#                ModalityWorklists plugin serving DATA_DIR/orthanc/worklists/*.wl
#   storescp     AET STORESCP :11212, writes DATA_DIR/storescp/<Modality>.<SOPInstanceUID>
#   wlmscpfs     AET WLMSCP   :11214, serves DATA_DIR/wlmscpfs/WLMSCP/*.wl
#
# The defaults stay clear of the product's own ports (Storage SCP 11112, HTTP 3000-3003).
# MOVESCU (:11213) and PACSLINK (:11112) are only registered in Orthanc as C-MOVE destinations;
# the code under test serves them.
#
# Env overrides: ORTHANC_AET ORTHANC_DICOM_PORT ORTHANC_HTTP_PORT ORTHANC_USER ORTHANC_PASSWORD
#   ORTHANC_AUTH (1 = HTTP Basic on, the default; 0 = off)
#   STORESCP_AET STORESCP_PORT WLM_AET WLM_PORT MOVESCU_AET MOVESCU_PORT PACSLINK_AET PACSLINK_PORT
#   PEERS_TCP_NODELAY (default 1) PEERS_SKIP_INSTALL=1 (never call apt-get)
# `start` is idempotent. While peers from DATA_DIR run, `env` prints the settings they were started
# with, and `start` with different settings fails instead of half-applying them.
set -euo pipefail

log() { printf '[test-peers] %s\n' "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
COMMAND="${1:-}"
DATA_DIR="$(realpath -m "${2:-${PEERS_DATA_DIR:-$REPO_ROOT/tmp/peers}}")"
RUN_DIR="$DATA_DIR/run"
LOG_DIR="$DATA_DIR/logs"
SETTINGS_FILE="$RUN_DIR/settings.env"

HOST=127.0.0.1
ORTHANC_AET="${ORTHANC_AET:-ORTHANC}"
ORTHANC_DICOM_PORT="${ORTHANC_DICOM_PORT:-4242}"
ORTHANC_HTTP_PORT="${ORTHANC_HTTP_PORT:-8042}"
ORTHANC_USER="${ORTHANC_USER:-pacs}"
ORTHANC_PASSWORD="${ORTHANC_PASSWORD:-pacs-secret}"
ORTHANC_AUTH="${ORTHANC_AUTH:-1}"
STORESCP_AET="${STORESCP_AET:-STORESCP}"
STORESCP_PORT="${STORESCP_PORT:-11212}"
WLM_AET="${WLM_AET:-WLMSCP}"
WLM_PORT="${WLM_PORT:-11214}"
MOVESCU_AET="${MOVESCU_AET:-MOVESCU}"
MOVESCU_PORT="${MOVESCU_PORT:-11213}"
PACSLINK_AET="${PACSLINK_AET:-PACSLINK}"
PACSLINK_PORT="${PACSLINK_PORT:-11112}"

for var in ORTHANC_DICOM_PORT ORTHANC_HTTP_PORT STORESCP_PORT WLM_PORT MOVESCU_PORT PACSLINK_PORT; do
  if ! [[ "${!var}" =~ ^[0-9]{1,5}$ ]] || [ "${!var}" -lt 1 ] || [ "${!var}" -gt 65535 ]; then
    die "$var=${!var} is not a TCP port"
  fi
done

# Both end up in a JSON string and an HTTP Basic header.
UNSAFE_CREDENTIAL_CHARS='["\[:space:]]'
[[ "$ORTHANC_AUTH" =~ ^[01]$ ]] || die "ORTHANC_AUTH must be 1 (HTTP Basic on) or 0 (off), not '$ORTHANC_AUTH'"
if [[ "$ORTHANC_USER$ORTHANC_PASSWORD" =~ $UNSAFE_CREDENTIAL_CHARS ]] || [[ "$ORTHANC_USER" == *:* ]]; then
  die "ORTHANC_USER/ORTHANC_PASSWORD may not contain quotes, backslashes or spaces, nor the user a ':'"
fi

# Debian's DCMTK (storescp, wlmscpfs and Orthanc's DICOM layer) leaves Nagle on unless TCP_NODELAY=1
# is in the environment: every DIMSE round trip on loopback then costs 40-90 ms (delayed ACK).
export TCP_NODELAY="${PEERS_TCP_NODELAY:-1}"

ORTHANC_PLUGIN_DIR=/usr/share/orthanc/plugins
declare -A BIN=([orthanc]=Orthanc [storescp]=storescp [wlmscpfs]=wlmscpfs)

settings() {
  cat <<EOF
PEERS_DATA_DIR=$DATA_DIR
PEERS_TCP_NODELAY=$TCP_NODELAY
ORTHANC_AET=$ORTHANC_AET
ORTHANC_HOST=$HOST
ORTHANC_DICOM_PORT=$ORTHANC_DICOM_PORT
ORTHANC_HTTP_PORT=$ORTHANC_HTTP_PORT
ORTHANC_HTTP_URL=http://$HOST:$ORTHANC_HTTP_PORT
ORTHANC_DICOMWEB_URL=http://$HOST:$ORTHANC_HTTP_PORT/dicom-web
ORTHANC_USER=$ORTHANC_USER
ORTHANC_PASSWORD=$ORTHANC_PASSWORD
ORTHANC_AUTH=$ORTHANC_AUTH
ORTHANC_WORKLIST_DIR=$DATA_DIR/orthanc/worklists
STORESCP_AET=$STORESCP_AET
STORESCP_HOST=$HOST
STORESCP_PORT=$STORESCP_PORT
STORESCP_DIR=$DATA_DIR/storescp
WLM_AET=$WLM_AET
WLM_HOST=$HOST
WLM_PORT=$WLM_PORT
WLM_DIR=$DATA_DIR/wlmscpfs/$WLM_AET
MOVESCU_AET=$MOVESCU_AET
MOVESCU_HOST=$HOST
MOVESCU_PORT=$MOVESCU_PORT
PACSLINK_AET=$PACSLINK_AET
PACSLINK_HOST=$HOST
PACSLINK_PORT=$PACSLINK_PORT
EOF
}

# Serialises start/stop on one DATA_DIR: parallel jest workers may all call `start` at once.
lock_data_dir() {
  mkdir -p "$RUN_DIR"
  exec 9>"$RUN_DIR/lock"
  flock -w 300 9 || die "another test-peers.sh holds $RUN_DIR/lock for more than 300 s"
}

# runs_as NAME PID: PID is alive and runs NAME's binary with a path inside DATA_DIR, so a recycled
# PID or someone else's Orthanc is never mistaken for ours.
runs_as() {
  local cmdline
  kill -0 "$2" 2>/dev/null || return 1
  cmdline="$(tr '\0' ' ' <"/proc/$2/cmdline" 2>/dev/null || true)"
  case "$cmdline" in *"${BIN[$1]}"*"$DATA_DIR/"*) return 0 ;; *) return 1 ;; esac
}
is_ours() { # is_ours NAME: NAME's PID file names our live peer; a stale PID file is removed
  local pidf="$RUN_DIR/$1.pid"
  [ -s "$pidf" ] && runs_as "$1" "$(cat "$pidf")" && return 0
  rm -f "$pidf"
  return 1
}

# ---------------------------------------------------------------------------------------- install
install_packages() {
  local missing=()
  command -v Orthanc >/dev/null 2>&1 && [ -e "$ORTHANC_PLUGIN_DIR/libModalityWorklists.so" ] || missing+=(orthanc)
  [ -e "$ORTHANC_PLUGIN_DIR/libOrthancDicomWeb.so" ] || missing+=(orthanc-dicomweb)
  for tool in storescp wlmscpfs echoscu; do
    command -v "$tool" >/dev/null 2>&1 || {
      missing+=(dcmtk)
      break
    }
  done
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  command -v ss >/dev/null 2>&1 || missing+=(iproute2)
  # the MPPS tests' SCP (libs/dimse/test/support/odil-mpps-scp.py), independent of our engine
  /usr/bin/python3 -c 'import odil' >/dev/null 2>&1 || missing+=(python3-odil)
  # the database-roles test's PgBouncer in transaction mode (apps/config-service/test/pgbouncer.harness.ts)
  [ -x /usr/sbin/pgbouncer ] || command -v pgbouncer >/dev/null 2>&1 || missing+=(pgbouncer)
  [ ${#missing[@]} -eq 0 ] && return 0

  local hint="apt-get install -y --no-install-recommends ${missing[*]}"
  [ "${PEERS_SKIP_INSTALL:-0}" = 1 ] && die "missing Debian packages: ${missing[*]} (PEERS_SKIP_INSTALL=1); run: $hint"
  [ "$(id -u)" = 0 ] || die "missing Debian packages: ${missing[*]}; install them as root: sudo $hint"
  log "installing Debian packages: ${missing[*]}"
  # On a systemd host the orthanc package starts its own service on 4242/8042; the port check
  # below reports that case.
  env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2 || {
    apt-get update >&2
    env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2
  } || die "could not install: ${missing[*]}"
}

# ---------------------------------------------------------------------------------------- start
# check_port PORT VARIABLE: the port must be free, since no peer of ours listens on it.
check_port() {
  local holder hint="stop that process"
  holder="$(ss -ltnpH "sport = :$1" 2>/dev/null | head -1)"
  [ -z "$holder" ] && return 0
  case "$holder" in *Orthanc*) hint="stop that Orthanc (the Debian package's service: systemctl disable --now orthanc)" ;; esac
  die "port $1 ($2) is in use by a process that test-peers.sh did not start from $DATA_DIR:
  $holder
  Either $hint, or choose another port: $2=<free port> $0 start"
}

show_logs() { tail -n 20 "$LOG_DIR/$1.out" "$LOG_DIR/$1.log" 2>/dev/null >&2 || true; }

start_bg() { # start_bg NAME CMD... ; records the PID once the child has exec'd the peer
  local name="$1" pid
  shift
  # 9>&-: the peer must not inherit the lock, or every later start/stop would wait for it forever.
  setsid "$@" >>"$LOG_DIR/$name.out" 2>&1 </dev/null 9>&- &
  pid=$!
  for _ in $(seq 1 100); do
    runs_as "$name" "$pid" && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  runs_as "$name" "$pid" || {
    show_logs "$name"
    die "$name did not start (logs above and in $LOG_DIR)"
  }
  echo "$pid" >"$RUN_DIR/$name.pid"
  STARTED_NOW+=("$name")
  log "started $name (pid $pid)"
}

wait_ready() { # wait_ready NAME SECONDS CMD...
  local name="$1" seconds="$2"
  shift 2
  for _ in $(seq 1 $((seconds * 4))); do
    "$@" >/dev/null 2>&1 && return 0
    if ! is_ours "$name"; then
      show_logs "$name"
      die "$name exited during start-up (logs above and in $LOG_DIR)"
    fi
    sleep 0.25
  done
  die "$name did not become ready within ${seconds}s (see $LOG_DIR)"
}

write_orthanc_config() {
  mkdir -p "$DATA_DIR/orthanc/db" "$DATA_DIR/orthanc/worklists"
  # Orthanc answers C-FIND, C-GET, C-MOVE and worklist queries only from the calling AE titles
  # listed in DicomModalities, and a C-MOVE destination must be listed there too.
  # RemoteAccessAllowed=false: HTTP answers loopback clients only (the DICOM port binds 0.0.0.0).
  cat >"$DATA_DIR/orthanc/orthanc.json" <<EOF
{
  "Name": "pacslink-test-orthanc",
  "StorageDirectory": "$DATA_DIR/orthanc/db",
  "IndexDirectory": "$DATA_DIR/orthanc/db",
  "Plugins": ["$ORTHANC_PLUGIN_DIR/libOrthancDicomWeb.so", "$ORTHANC_PLUGIN_DIR/libModalityWorklists.so"],
  "HttpServerEnabled": true,
  "HttpPort": $ORTHANC_HTTP_PORT,
  "RemoteAccessAllowed": false,
  "AuthenticationEnabled": $([ "$ORTHANC_AUTH" = 1 ] && echo true || echo false),
  "RegisteredUsers": { "$ORTHANC_USER": "$ORTHANC_PASSWORD" },
  "DicomServerEnabled": true,
  "DicomAet": "$ORTHANC_AET",
  "DicomPort": $ORTHANC_DICOM_PORT,
  "DicomCheckCalledAet": false,
  "DefaultEncoding": "Utf8",
  "UnknownSopClassAccepted": false,
  "DicomScpTimeout": 30,
  "DicomModalities": {
    "MOVESCU": ["$MOVESCU_AET", "$HOST", $MOVESCU_PORT],
    "PACSLINK": ["$PACSLINK_AET", "$HOST", $PACSLINK_PORT],
    "STORESCP": ["$STORESCP_AET", "$HOST", $STORESCP_PORT],
    "NODESCU": ["NODESCU", "$HOST", 11215],
    "FINDSCU": ["FINDSCU", "$HOST", 11216],
    "GETSCU": ["GETSCU", "$HOST", 11217],
    "MOVESCU_DCMTK": ["MOVESCU_DCMTK", "$HOST", 11218],
    "STORESCU": ["STORESCU", "$HOST", 11219]
  },
  "SyncStorageArea": true,
  "SaveJobs": false,
  "StableAge": 5,
  "Worklists": { "Enable": true, "Database": "$DATA_DIR/orthanc/worklists" },
  "DicomWeb": { "Enable": true, "Root": "/dicom-web/", "EnableWado": true, "WadoRoot": "/wado", "Ssl": false }
}
EOF
}

cmd_start() {
  lock_data_dir
  install_packages
  mkdir -p "$LOG_DIR" "$DATA_DIR/storescp" "$DATA_DIR/wlmscpfs/$WLM_AET"
  # wlmscpfs serves DIR/<CalledAET>/*.wl and refuses to answer without a 'lockfile' in that folder.
  touch "$DATA_DIR/wlmscpfs/$WLM_AET/lockfile"

  local running=()
  for name in orthanc storescp wlmscpfs; do if is_ours "$name"; then running+=("$name"); fi; done
  if [ ${#running[@]} -gt 0 ] && [ -s "$SETTINGS_FILE" ]; then
    if ! settings | cmp -s - "$SETTINGS_FILE"; then
      diff <(settings) "$SETTINGS_FILE" >&2 || true
      die "peers from $DATA_DIR (${running[*]}) already run with other settings (diff above: < requested, > running); run '$0 stop $DATA_DIR' first"
    fi
  fi
  settings >"$SETTINGS_FILE"
  trap undo_failed_start EXIT

  local to_start=()
  for name in orthanc storescp wlmscpfs; do
    if is_ours "$name"; then log "$name already running (pid $(cat "$RUN_DIR/$name.pid"))"; else to_start+=("$name"); fi
  done
  # All ports are checked before anything starts, so a busy port leaves no half-started set behind.
  for name in "${to_start[@]}"; do
    case "$name" in
    orthanc) check_port "$ORTHANC_DICOM_PORT" ORTHANC_DICOM_PORT && check_port "$ORTHANC_HTTP_PORT" ORTHANC_HTTP_PORT ;;
    storescp) check_port "$STORESCP_PORT" STORESCP_PORT ;;
    wlmscpfs) check_port "$WLM_PORT" WLM_PORT ;;
    esac
  done
  for name in "${to_start[@]}"; do
    case "$name" in
    orthanc)
      write_orthanc_config
      start_bg orthanc Orthanc --logfile="$LOG_DIR/orthanc.log" "$DATA_DIR/orthanc/orthanc.json"
      ;;
    storescp)
      # +xa: accept every transfer syntax DCMTK knows; -uf: file names from the SOP Instance UID
      start_bg storescp storescp --single-process -aet "$STORESCP_AET" +xa -od "$DATA_DIR/storescp" -uf "$STORESCP_PORT"
      ;;
    wlmscpfs)
      start_bg wlmscpfs wlmscpfs --single-process -dfp "$DATA_DIR/wlmscpfs" "$WLM_PORT"
      ;;
    esac
  done

  local auth="$ORTHANC_USER:$ORTHANC_PASSWORD"
  wait_ready orthanc 60 curl -fsS -u "$auth" "http://$HOST:$ORTHANC_HTTP_PORT/system"
  wait_ready orthanc 30 echoscu -aet ECHOSCU -aec "$ORTHANC_AET" "$HOST" "$ORTHANC_DICOM_PORT"
  wait_ready storescp 30 echoscu -aet ECHOSCU -aec "$STORESCP_AET" "$HOST" "$STORESCP_PORT"
  wait_ready wlmscpfs 30 echoscu -aet ECHOSCU -aec "$WLM_AET" "$HOST" "$WLM_PORT"

  local version
  version="$(curl -fsS -u "$auth" "http://$HOST:$ORTHANC_HTTP_PORT/system" | sed -n 's/.*"Version" *: *"\([^"]*\)".*/\1/p')"
  log "ready (Orthanc $version, logs in $LOG_DIR)"
  trap - EXIT
  cat "$SETTINGS_FILE"
  echo "ORTHANC_VERSION=$version"
}

# A failed start stops what it started and leaves no settings behind for `env` to report.
STARTED_NOW=()
undo_failed_start() {
  for name in "${STARTED_NOW[@]}"; do stop_one "$name"; done
  for name in orthanc storescp wlmscpfs; do is_ours "$name" && return 0; done
  rm -f "$SETTINGS_FILE"
}

# ---------------------------------------------------------------------------------------- stop
stop_one() { # stop_one NAME: TERM, then KILL after 15 s; only if the PID file still names our peer
  local pid
  if ! is_ours "$1"; then
    log "$1: not running from $DATA_DIR"
    return 0
  fi
  pid="$(cat "$RUN_DIR/$1.pid")"
  kill -TERM "$pid"
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.25
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$1: pid $pid ignored SIGTERM for 15 s, sending SIGKILL"
    kill -KILL "$pid"
  fi
  rm -f "$RUN_DIR/$1.pid"
  log "$1: stopped (pid $pid)"
}

cmd_stop() {
  [ -d "$RUN_DIR" ] || {
    log "nothing to stop in $DATA_DIR"
    return 0
  }
  lock_data_dir
  for name in wlmscpfs storescp orthanc; do stop_one "$name"; done
  rm -f "$SETTINGS_FILE"
}

# ---------------------------------------------------------------------------------------- env
cmd_env() {
  if [ -s "$SETTINGS_FILE" ]; then cat "$SETTINGS_FILE"; else settings; fi
}

case "$COMMAND" in
start) cmd_start ;;
stop) cmd_stop ;;
env) cmd_env ;;
*)
  echo "usage: $0 start|stop|env [DATA_DIR]" >&2
  exit 2
  ;;
esac
