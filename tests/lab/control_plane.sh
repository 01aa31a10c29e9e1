#!/usr/bin/env bash
# Live test of the control plane: fwctl (every command, text and JSON) after TCP, UDP,
# ICMP and PPTP traffic; the metrics endpoint checked by promtool and against the
# traffic sent; a real Prometheus server scraping it; reload under traffic, valid and
# invalid; fwctl's errors when ferrowall is not running.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export LAB_PREFIX=${LAB_PREFIX:-fwt$$}
. "$ROOT/tests/lab/lib.sh"
WORK=$(mktemp -d /tmp/ferrowall-ctl.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  lab_cleanup
  rm -rf "$WORK"
}
trap cleanup EXIT

SOCK=$RUN_DIR/api.sock
FWCTL=("$ROOT/target/release/fwctl" --socket "$SOCK")
fwctl() { "${FWCTL[@]}" "$@"; }
c1() { ip netns exec "$LAB_PREFIX-c1" "$@"; }
srv() { ip netns exec "$LAB_PREFIX-srv" "$@"; }
fwns() { ip netns exec "$LAB_PREFIX-fw" "$@"; }
PEER="$ROOT/tests/lab/peer.py"
PPTP="$ROOT/tests/lab/pptp_peer.py"
metrics() { fwns curl -sf http://127.0.0.1:9469/metrics; }
metric() { metrics | awk -v m="$1" '$1==m {print $2}'; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

echo "lab control_plane"
out=$(fwctl display statistics 2>&1); rc=$?
if [ "$rc" = 3 ] && echo "$out" | grep -q "is ferrowall running"; then ok "fwctl without ferrowall: $out"; else fail "fwctl error when not running (rc $rc): $out"; fi

LAB_SERVER_ROUTE=1 "$ROOT/scripts/lab.sh" up 1
CONFIG=$WORK/ferrowall.toml
lab_config "$ROOT/tests/lab/control.toml" >"$CONFIG"
# systemd's side of sd_notify: a datagram socket that writes down each message.
NOTIFY_LOG=$WORK/notify.log
python3 - "$WORK/notify.sock" "$NOTIFY_LOG" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as log:
    while True:
        log.write(s.recv(4096).decode().replace("\n", " ") + "\n")
PY
PIDS+=($!)
wait_until 5 test -S "$WORK/notify.sock"
NOTIFY_SOCKET=$WORK/notify.sock WATCHDOG_USEC=200000 fw_start "$CONFIG" --stats-interval 1 \
  || { fail "ferrowall starts"; summary control_plane; exit 1; }
ok "ferrowall starts with the API on $SOCK and metrics on 127.0.0.1:9469"
if wait_until 5 grep -q "^READY=1 STATUS=running: 2 port(s), 1 worker(s)$" "$NOTIFY_LOG"; then
  ok "systemd hears READY=1 once it runs: $(grep -m1 READY "$NOTIFY_LOG")"
else
  fail "sd_notify READY=1: $(cat "$NOTIFY_LOG")"
fi
fed() { [ "$(grep -c '^WATCHDOG=1$' "$NOTIFY_LOG")" -ge 5 ]; }
if wait_until 5 fed; then ok "the watchdog is fed while every core polls (WATCHDOG_USEC 0.2 s)"; else fail "watchdog: $(grep -c WATCHDOG "$NOTIFY_LOG") pings"; fi
out=$(fwctl health); rc=$?
if [ $rc = 0 ] && echo "$out" | grep -q "^ ferrowall: healthy" && echo "$out" | grep -q "^ worker 0   polling" \
  && echo "$out" | grep -q "^ slow path  polling" && echo "$out" | grep -q "every worker answered"; then
  ok "fwctl health: healthy, exit 0 ($(echo "$out" | grep -c polling) cores polling)"
else
  fail "fwctl health (rc $rc): $out"
fi
if [ "$(stat -c %a "$SOCK")" = 600 ]; then ok "the API socket is root-only (0600)"; else fail "socket mode $(stat -c %a "$SOCK")"; fi
reports() { grep -c "^rate: rx " "$FW_LOG"; }
at_least_2_reports() { [ "$(reports)" -ge 2 ]; }
if wait_until 10 at_least_2_reports; then ok "--stats-interval 1: counters and rates printed every second"; else fail "--stats-interval: $(reports) reports"; fi
# A second ferrowall on the same API socket (its own EAL files, null ports) must stop
# with that reason, and leave the first one serving.
sed -e 's|"--file-prefix", "[^"]*"|"--file-prefix", "'"$LAB_PREFIX"'-second"|' \
  -e 's|^device = "net_af_packet0.*|device = "net_null0"|' -e 's|^device = "net_af_packet1.*|device = "net_null1"|' \
  "$CONFIG" >"$WORK/second.toml"
out=$(fwns timeout 60 "$FW_BIN" --config "$WORK/second.toml" 2>&1); rc=$?
if [ $rc = 1 ] && echo "$out" | grep -q "is in use: is another ferrowall running?"; then
  ok "a second ferrowall on the same socket stops and says why"
else
  fail "second ferrowall (rc $rc): $(echo "$out" | tail -2)"
fi
check "the first ferrowall still answers on its socket" fwctl display statistics

# Traffic: ICMP, UDP, TCP and a PPTP tunnel held open.
check "ICMP to the server" c1 ping -c 3 -i 0.2 -W 2 203.0.113.1
srv python3 "$PEER" udp-serve 203.0.113.1 5353 >/dev/null 2>&1 &
PIDS+=($!)
wait_until 10 listening srv udp 5353
check "UDP to the server" c1 python3 "$PEER" udp-send 203.0.113.1 5353
srv python3 "$PEER" tcp-serve 203.0.113.1 5001 >/dev/null 2>&1 &
PIDS+=($!)
wait_until 10 listening srv tcp 5001
check "TCP to the server" c1 python3 "$PEER" tcp-send 203.0.113.1 5001 65536
srv python3 "$PPTP" server 203.0.113.1 128 1 >"$WORK/pptp-server.log" 2>&1 &
PIDS+=($!)
wait_until 10 listening srv tcp 1723
HOLD=300 c1 python3 "$PPTP" client 203.0.113.1 192.168.1.1 4660 >"$WORK/pptp-client.log" 2>&1 &
PPTP_CLIENT=$!
PIDS+=($PPTP_CLIENT)
wait_until 10 grep -q "tunnel up" "$WORK/pptp-client.log"
if grep -q "tunnel up: sent 20, echoed 20" "$WORK/pptp-client.log"; then ok "PPTP tunnel: $(cat "$WORK/pptp-client.log")"; else fail "PPTP tunnel: $(cat "$WORK/pptp-client.log")"; fi

# display firewall session-table, text and JSON, with filters.
t=$(fwctl display firewall session-table)
for p in "tcp" "udp" "icmp" "pptp" "pptp-gre"; do
  if echo "$t" | grep -q "^ $p VPN:public"; then ok "session-table shows $p: $(echo "$t" | grep -m1 "^ $p VPN" | sed 's/^ //')"; else fail "session-table shows $p"; echo "$t"; fi
done
if echo "$t" | grep -Eq '^ pptp VPN:public --> public 192\.168\.1\.1:[0-9]+\[203\.0\.113\.2:[0-9]+\] \+-> 203\.0\.113\.1:1723$'; then ok "the control session in the reference format"; else fail "pptp line format"; fi
if echo "$t" | grep -Eq '^ pptp-gre VPN:public --> public 203\.0\.113\.1:0 --> 203\.0\.113\.2:[0-9]+\[192\.168\.1\.1:4660\]$'; then ok "the server's GRE session in the reference format"; else fail "pptp-gre line format"; fi
if [ "$(fwctl --json display firewall session-table | json 'sorted({s["protocol"] for s in d["sessions"]})')" = "['icmp', 'pptp', 'pptp-gre', 'tcp', 'udp']" ]; then ok "session-table --json lists the same protocols"; else fail "session-table json"; fi
v=$(fwctl display firewall session-table verbose protocol pptp-gre)
if [ "$(echo "$v" | grep -c 'Owner: worker')" = 2 ] && echo "$v" | grep -q "Current Total Sessions : 2"; then ok "verbose, protocol pptp-gre: two sessions with state, owner, packets and bytes"; else fail "verbose filter"; echo "$v"; fi
if [ "$(fwctl --json display firewall session-table destination 203.0.113.1 protocol udp | json 'd["total"]')" = 1 ]; then ok "filter destination + protocol udp: 1 session"; else fail "filter udp"; fi
if [ "$(fwctl --json display firewall session-table source 192.168.1.9 | json 'd["total"]')" = 0 ]; then ok "filter source 192.168.1.9: none"; else fail "filter source"; fi

# display firewall server-map
m=$(fwctl display firewall server-map)
if [ "$(echo "$m" | grep -c '^ Type: ASPF, ')" = 2 ]; then ok "server-map: $(echo "$m" | grep -m1 'Type: ASPF, 203' | sed 's/^ //')"; else fail "server-map"; echo "$m"; fi
if [ "$(fwctl --json display firewall server-map aspf | json 'd["total"]')" = 2 ]; then ok "server-map --json: 2 entries"; else fail "server-map json"; fi

# display nat, interface, statistics
n=$(fwctl display nat address-group)
if echo "$n" | grep -q "203.0.113.2 .*tcp:[1-9]"; then ok "nat address-group: $(echo "$n" | grep 203.0.113.2 | sed 's/^ *//')"; else fail "nat address-group"; echo "$n"; fi
check "nat address-group --json" bash -c "${FWCTL[*]} --json display nat address-group | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"groups\"][0][\"addresses\"][0][\"address\"]==\"203.0.113.2\"'"
s=$(fwctl display nat statistics)
if echo "$s" | grep -q "PPTP ALG: 1 control connection(s), 1 call(s), 2 server-map entries"; then ok "nat statistics: $(echo "$s" | grep 'PPTP ALG' | sed 's/^ //')"; else fail "nat statistics"; echo "$s"; fi
if [ "$(fwctl --json display nat statistics | json 'd["call_ids_in_use"]')" = 1 ]; then ok "nat statistics --json: 1 translated Call ID in use"; else fail "nat statistics json"; fi
i=$(fwctl display interface)
if echo "$i" | grep -q "^ inside (port" && echo "$i" | grep -q "^ outside (port"; then ok "display interface: both ports"; else fail "display interface"; echo "$i"; fi
check "display interface --json" bash -c "[ \"\$(${FWCTL[*]} --json display interface | python3 -c 'import json,sys; print(len(json.load(sys.stdin)[\"interfaces\"]))')\" = 2 ]"
st=$(fwctl display statistics)
if echo "$st" | grep -q "^ Packets: received [1-9]" && echo "$st" | grep -q "^ worker 0: "; then ok "display statistics"; else fail "display statistics"; echo "$st"; fi

# Metrics: promtool's lint, then counters against traffic sent.
if metrics >"$WORK/metrics.txt" && promtool check metrics <"$WORK/metrics.txt" >"$WORK/promtool.txt" 2>&1; then
  ok "promtool check metrics: $(wc -l <"$WORK/metrics.txt") lines, no problems"
else
  fail "promtool check metrics"; cat "$WORK/promtool.txt"
fi
# Port and core metrics agree with the API: each port counter between the API's reading
# before and after the scrape, the queues summing to their port (one scrape reads a port
# once), busy ratios between 0 and 1.
fwctl --json display interface >"$WORK/if0.json"
metrics >"$WORK/ports.txt"
fwctl --json display interface >"$WORK/if1.json"
bad=$(python3 - "$WORK/if0.json" "$WORK/ports.txt" "$WORK/if1.json" <<'PY'
import json, re, sys
before, after = (json.load(open(f))["interfaces"] for f in (sys.argv[1], sys.argv[3]))
m = {}
for line in open(sys.argv[2]):
    if line.startswith("ferrowall_"):
        name, value = line.rsplit(" ", 1)
        m[name] = float(value)
bad, checked = [], 0
fields = [("received_packets", "rx", "packets"), ("received_bytes", "rx", "bytes"),
          ("missed_packets", "rx", "missed"), ("rx_no_buffer", "rx", "no_buffer"),
          ("transmitted_packets", "tx", "packets"), ("transmitted_bytes", "tx", "bytes")]
for b, a in zip(before, after):
    port = b["name"]
    for metric, side, key in fields:
        v = m.get(f'ferrowall_port_{metric}_total{{port="{port}"}}')
        checked += 1
        if v is None or not b[side][key] <= v <= a[side][key]:
            bad.append(f"{port} {metric}: {v}, API {b[side][key]}..{a[side][key]}")
    for direction, total in (("rx", "received_packets"), ("tx", "transmitted_packets")):
        q = [v for k, v in m.items() if k.startswith("ferrowall_port_queue_packets_total{")
             and dict(re.findall(r'(\w+)="([^"]*)"', k)).items() >= {("port", port), ("direction", direction)}]
        whole = m.get(f'ferrowall_port_{total}_total{{port="{port}"}}')
        checked += 1
        if not q or sum(q) != whole:
            bad.append(f"{port} {direction} queues sum to {sum(q)}, port says {whole}")
    if b["rx"]["packets"] == 0 or b["tx"]["packets"] == 0:
        bad.append(f"{port}: no traffic counted")
busy = {k: v for k, v in m.items() if k.startswith("ferrowall_core_busy_ratio")}
checked += len(busy)
if len(busy) < 2 or not all(0 <= v <= 1 for v in busy.values()):
    bad.append(f"busy ratios {busy}")
print("\n".join(bad) if bad else f"checked {checked}")
PY
); rc=$?
if [ $rc = 0 ] && echo "$bad" | grep -qx "checked [1-9][0-9]*"; then ok "port and core metrics agree with display interface ($bad values)"; else fail "port metrics (rc $rc): $bad"; fi
deny0=$(metric 'ferrowall_dropped_packets_total{reason="policy_deny"}')
srv ping -c 5 -i 0.2 -W 1 192.168.1.1 >/dev/null 2>&1
# Counters reach the metrics within 10 ms; wait for the five, but no longer than 5 s.
denied_5() { [ "$(metric 'ferrowall_dropped_packets_total{reason="policy_deny"}')" -ge $((deny0 + 5)) ]; }
wait_until 5 denied_5
deny1=$(metric 'ferrowall_dropped_packets_total{reason="policy_deny"}')
if [ $((deny1 - deny0)) = 5 ]; then ok "5 unsolicited pings: policy_deny went from $deny0 to $deny1"; else fail "policy_deny $deny0 -> $deny1"; fi
for want in 'ferrowall_sessions{protocol="pptp-gre"} 2' 'ferrowall_server_map_entries 2' \
  'ferrowall_alg_messages_total{alg="pptp",direction="client_to_server",type="ocrq"} 1' \
  'ferrowall_pptp_call_ids_in_use{address="203.0.113.2"} 1'; do
  if grep -qxF "$want" "$WORK/metrics.txt"; then ok "metric: $want"; else fail "metric $want"; grep "${want%% *}" "$WORK/metrics.txt"; fi
done
fwd=$(grep -F 'ferrowall_core_packets_total{core="worker0",outcome="forwarded"}' "$WORK/metrics.txt" | awk '{print $2}')
# The tunnel's own sessions count its GRE: 20 packets each way, one session a way.
gre=$(fwctl --json display firewall session-table protocol pptp-gre | json 'sum(s["packets"]["original"] for s in d["sessions"])')
if [ "${gre:-0}" = 40 ] && [ "${fwd:-0}" -ge 40 ]; then ok "forwarded packets counted ($fwd, 40 of them in the tunnel's two pptp-gre sessions)"; else fail "forwarded $fwd, pptp-gre sessions $gre"; fi

# A real Prometheus server scraping the appliance, queried through its HTTP API.
cat >"$WORK/prometheus.yml" <<EOF
global: { scrape_interval: 1s }
scrape_configs:
  - job_name: ferrowall
    static_configs: [ { targets: ["127.0.0.1:9469"] } ]
EOF
fwns prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
  --web.listen-address=127.0.0.1:9090 >"$WORK/prometheus.log" 2>&1 &
PROM=$!
PIDS+=($PROM)
val=""
for _ in $(seq 1 60); do
  val=$(fwns curl -sf 'http://127.0.0.1:9090/api/v1/query?query=ferrowall_server_map_entries' | json 'd["data"]["result"][0]["value"][1] if d["data"]["result"] else ""' 2>/dev/null)
  [ "$val" = 2 ] && break
  sleep 0.5
done
if [ "$val" = 2 ]; then ok "Prometheus scraped it: ferrowall_server_map_entries = $val through the query API"; else fail "Prometheus query: '$val'"; tail -5 "$WORK/prometheus.log"; fi
# The Grafana dashboard: every query valid for Prometheus, every metric it names served.
bad=$(python3 - "$ROOT/docs/grafana/ferrowall.json" "$WORK/metrics.txt" "$LAB_PREFIX-fw" <<'PY'
import json, re, subprocess, sys, urllib.parse
dash = json.load(open(sys.argv[1]))
served = {l.split("{")[0].split()[0] for l in open(sys.argv[2]) if l.startswith("ferrowall_")}
bad = []
checked = 0
for p in dash["panels"]:
    for t in p["targets"]:
        checked += 1
        expr = t["expr"].replace("$__rate_interval", "1m")
        for name in re.findall(r"ferrowall_[a-z_]+", expr):
            if name not in served:
                bad.append(f"{p['title']}: {name} is not served")
        url = "http://127.0.0.1:9090/api/v1/query?query=" + urllib.parse.quote(expr)
        out = subprocess.run(["ip", "netns", "exec", sys.argv[3] if len(sys.argv) > 3 else "", "curl", "-s", url], capture_output=True, text=True).stdout
        if '"status":"success"' not in out:
            bad.append(f"{p['title']}: {out.strip()[:200]}")
print("\n".join(bad) if bad else f"checked {checked} queries")
PY
); rc=$?
# Only a checker that ran to its end and checked something may pass (a crash prints no
# failures either).
if [ $rc = 0 ] && echo "$bad" | grep -qx "checked [1-9][0-9]* queries"; then ok "Grafana dashboard: every query runs in Prometheus, every metric is served ($bad)"; else fail "Grafana dashboard (rc $rc): $bad"; fi
kill "$PROM" 2>/dev/null; wait "$PROM" 2>/dev/null

# reset firewall session-table
r=$(fwctl reset firewall session-table protocol udp)
if echo "$r" | grep -q "1 session(s) reset" && [ "$(fwctl --json display firewall session-table protocol udp | json 'd["total"]')" = 0 ]; then ok "reset protocol udp: $r"; else fail "reset: $r"; fi
check "reset --json" bash -c "${FWCTL[*]} --json reset firewall session-table source 192.168.1.77 | grep -q '\"reset\": 0'"

# Reload under traffic: a transfer runs while the policy changes; it is seen running
# before the reload and still moving after it, completes, its session survives, and no
# packet is dropped. Every wait polls for its condition with a deadline.
srv python3 "$PEER" tcp-serve 203.0.113.1 5002 >"$WORK/serve.log" 2>&1 &
PIDS+=($!)
# A telnet server too: reachable before the reload, its port denied after.
srv python3 "$PEER" tcp-serve 203.0.113.1 23 2 >"$WORK/telnet.log" 2>&1 &
PIDS+=($!)
wait_until 10 grep -q listening "$WORK/serve.log" || fail "the server did not start listening"
wait_until 10 grep -q listening "$WORK/telnet.log" || fail "the telnet server did not start listening"
check "TCP 23 is reachable before the reload" c1 timeout 5 python3 "$PEER" tcp-send 203.0.113.1 23 10
drops0=$(fwctl --json display statistics | json 'd["dropped"]')
rm -f "$WORK/stop"
c1 python3 "$PEER" tcp-stream 203.0.113.1 5002 "$WORK/stop" >"$WORK/transfer.log" 2>&1 &
XFER=$!
sent_now() { awk '/^sent/ {n=$2} END {print n+0}' "$WORK/transfer.log"; }
sessions_5002() {
  fwctl --json display firewall session-table destination 203.0.113.1 protocol tcp |
    json 'len([s for s in d["sessions"] if s["original"]["dport"]==5002])'
}
wait_until 10 grep -q "^sent" "$WORK/transfer.log" || fail "the transfer did not start: $(cat "$WORK/transfer.log")"
before=$(sessions_5002)
# The deny rule goes before the permit (the first matching rule decides).
python3 - "$CONFIG" <<'EOF'
import sys
path = sys.argv[1]
text = open(path).read()
rule = '[[policy]]\nname = "no-telnet"\nfrom = "trust"\nto = "untrust"\nprotocol = "tcp"\nports = ["23"]\naction = "deny"\n\n'
at = text.index("[[policy]]")
open(path, "w").write(text[:at] + rule + text[at:])
EOF
at_reload=$(sent_now)
r=$(fwctl reload 2>&1); rc=$?
if [ $rc = 0 ] && echo "$r" | grep -q "reload: applied (2 security rule(s)"; then ok "valid reload under traffic: $r"; else fail "valid reload: $r"; fi
notified=$(grep -v "^WATCHDOG=1$" "$NOTIFY_LOG" | grep -A1 "^RELOADING=1")
if grep -q "^READY=1 STATUS=reload: applied (2 security rule(s)" <<<"$notified"; then
  ok "systemd hears RELOADING=1, then READY=1 with the reload's result"
else
  fail "sd_notify around the reload: $(grep -v WATCHDOG "$NOTIFY_LOG")"
fi
during=$(sessions_5002)
moving() { [ "$(sent_now)" -gt $((at_reload + 262144)) ]; }
if wait_until 20 moving; then moved=1; else moved=0; fi
touch "$WORK/stop"
wait "$XFER"; xrc=$?
if [ $xrc = 0 ] && [ "$before" = 1 ] && [ "$during" = 1 ] && [ $moved = 1 ]; then
  ok "the transfer ran across the reload (its session seen before and after; $at_reload bytes before, 256 KiB more after) and completed: $(tail -1 "$WORK/transfer.log")"
else
  fail "transfer across reload (rc $xrc, session before $before after $during, moved after reload $moved): $(tail -1 "$WORK/transfer.log")"
fi
drops1=$(fwctl --json display statistics | json 'd["dropped"]')
if [ "$drops0" = "$drops1" ]; then ok "no packet dropped across the reload ($drops0 before and after)"; else fail "drops $drops0 -> $drops1"; fwctl display statistics drop; fi
td0=$(metric 'ferrowall_dropped_packets_total{reason="policy_deny"}')
if c1 timeout 3 python3 "$PEER" tcp-send 203.0.113.1 23 10 >/dev/null 2>&1; then fail "the new rule denies telnet"; else
  td1=$(metric 'ferrowall_dropped_packets_total{reason="policy_deny"}')
  if [ "$td1" -gt "$td0" ]; then ok "the reloaded policy denies TCP 23 (policy_deny $td0 -> $td1)"; else fail "TCP 23 failed but policy_deny stayed $td0"; fi
fi

cp "$CONFIG" "$WORK/good.toml"
echo 'action = "allow"' >>"$CONFIG"
r=$(fwctl reload 2>&1); rc=$?
if [ $rc = 1 ] && echo "$r" | grep -q "reload refused: .*ferrowall.toml:[0-9]*:[0-9]*: "; then ok "invalid reload refused, fwctl exits 1: $r"; else fail "invalid reload (rc $rc): $r"; fi
cp "$WORK/good.toml" "$CONFIG"
sed -i 's/^workers = \[1\]/workers = [0]/' "$CONFIG"
r=$(fwctl reload 2>&1); rc=$?
if [ $rc = 1 ] && echo "$r" | grep -q "needs a restart"; then ok "a change of cores is refused: $r"; else fail "restart-needing reload (rc $rc): $r"; fi
cp "$WORK/good.toml" "$CONFIG"
if [ "$(fwctl --json display firewall session-table protocol pptp-gre | json 'd["total"]')" = 2 ]; then
  ok "after the refused reloads the tunnel's sessions are still there"
else
  fail "state after refused reloads"
fi
# SIGUSR1 prints both displays, the tunnel's sessions and server-map entries among them.
kill -USR1 "$FW_PID"
usr1_map() { sed -n '/^display firewall server-map/,$p' "$FW_LOG" | grep -c 'Appro: pptp-gre'; }
usr1_shown() { [ "$(usr1_map)" -ge 2 ] && [ "$(grep -c '^ pptp-gre VPN' "$FW_LOG")" -ge 2 ]; }
if wait_until 5 usr1_shown; then
  ok "SIGUSR1 prints the session table and the server map with the tunnel's entries"
else
  fail "SIGUSR1 displays"; grep -A4 "^display firewall" "$FW_LOG"
fi

# SIGHUP applies a change: the no-telnet rule goes, and TCP 23 is reachable again.
python3 - "$CONFIG" <<'EOF'
import re, sys
path = sys.argv[1]
text = open(path).read()
open(path, "w").write(re.sub(r'\[\[policy\]\]\nname = "no-telnet"\n(?:[^\[\n][^\n]*\n)*\n', "", text, count=1))
EOF
kill -HUP "$FW_PID"
if wait_until 5 grep -q "SIGHUP reload: applied (1 security rule(s)" "$FW_LOG"; then
  ok "SIGHUP applies a changed config: $(grep -o 'SIGHUP reload: applied.*' "$FW_LOG" | tail -1)"
else
  fail "SIGHUP reload applied"; grep -i reload "$FW_LOG"
fi
check "TCP 23 reachable again after the SIGHUP reload" c1 timeout 5 python3 "$PEER" tcp-send 203.0.113.1 23 10
kill -HUP "$FW_PID"
if wait_until 5 grep -q "SIGHUP reload: no change" "$FW_LOG"; then ok "SIGHUP with nothing changed: no change"; else fail "SIGHUP reload"; grep -i reload "$FW_LOG"; fi

if fw_stop; then ok "ferrowall exits 0 on SIGTERM"; else fail "ferrowall exits 0 on SIGTERM"; fi
if grep -q "^STOPPING=1 " "$NOTIFY_LOG"; then ok "systemd hears STOPPING=1 on SIGTERM"; else fail "sd_notify STOPPING=1"; fi
if grep -Eq "pptp call up: 192\.168\.1\.1\[203\.0\.113\.2\] --> 203\.0\.113\.1, client Call ID 4660 as [0-9]+, server Call ID 128" "$FW_LOG"; then
  ok "event log: $(grep -o 'pptp call up: .*' "$FW_LOG" | head -1)"
else
  fail "event log has the PPTP call"
fi
if grep -Eq "session opened: udp 192\.168\.1\.1:[0-9]+\[203\.0\.113\.2:[0-9]+\] --> 203\.0\.113\.1:5353" "$FW_LOG" \
  && grep -q "session closed: udp 192.168.1.1" "$FW_LOG"; then
  ok "event log: sessions opened and closed ($(grep -c 'session opened' "$FW_LOG") opened)"
else
  fail "event log has sessions"
fi
out=$(fwctl display firewall session-table 2>&1); rc=$?
if [ "$rc" = 3 ] && [ ! -e "$SOCK" ]; then ok "after stop the socket is gone and fwctl says so"; else fail "after stop (rc $rc): $out"; fi
summary control_plane
