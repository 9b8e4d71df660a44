#!/usr/bin/env bash
# make-testdata.sh: regenerate the real-exporter captures under testdata/ and
# their tshark expectations (testdata/<name>.pcap + testdata/<name>.tshark.json).
#
#   sudo scripts/make-testdata.sh            # everything
#   sudo scripts/make-testdata.sh NAME...    # only these captures (see CAPTURES below)
#
# What it does (see testdata/README.md):
#   1. installs the Debian packages it needs (softflowd pmacct fprobe nfdump
#      tshark tcpdump socat ethtool) if they are missing;
#   2. writes testdata/synthetic-traffic.pcap with testdata/internal/synth
#      (deterministic: fixed seed and start time), and the longer traffic of
#      the *-long captures (synth -long) and the MPLS-labelled traffic of the
#      *-mpls and *-wide captures (synth -mpls) into a temporary directory:
#      they are not kept, since tests take every other testdata/*.pcap for
#      exports;
#   3. for each capture: starts a UDP sink (socat) on 127.0.0.1:PORT and
#      `tcpdump -i lo udp port PORT`, runs the exporter on the synthetic pcap
#      sending to 127.0.0.1:PORT, then stops what it started (by PID); the
#      nfreplay captures first collect an exporter's flows with nfcapd into
#      an nfcapd file, then capture nfreplay re-exporting that file;
#   4. reduces `tshark -T json` of each capture to <name>.tshark.json with
#      testdata/internal/tsharkjson.
#
# Only loopback is used. Every wait is bounded. Must run as root (tcpdump on
# lo, apt-get). Idempotent: outputs are overwritten; reruns differ only in
# export timestamps and uptimes, exporter source ports, the flows picked by
# pmacct's random sampling, fprobe's record order and First/Last (it
# derives them from the wall clock), and nfreplay's v5 engine type and ID
# (random bytes).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TD=$ROOT/testdata
SYNTH=$TD/synthetic-traffic.pcap

if [[ $(id -u) -ne 0 ]]; then
	echo "make-testdata.sh: must run as root (tcpdump on lo, apt-get)" >&2
	exit 1
fi

log() { printf '==> %s\n' "$*" >&2; }

# ---- packages ---------------------------------------------------------------
need=()
for pair in softflowd:softflowd pmacctd:pmacct fprobe:fprobe nfcapd:nfdump nfreplay:nfdump tshark:tshark tcpdump:tcpdump socat:socat ethtool:ethtool; do
	command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
done
if ((${#need[@]})); then
	log "installing ${need[*]}"
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y "${need[@]}"
fi
command -v go >/dev/null || { echo "make-testdata.sh: go not found" >&2; exit 1; }

# ---- process bookkeeping ------------------------------------------------------
WORK=$(mktemp -d /tmp/nfkit-testdata.XXXXXX)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$WORK"
}
trap cleanup EXIT

forget() { # drop a PID from PIDS once it has been stopped
	local p keep=()
	for p in "${PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
	PIDS=("${keep[@]}")
}

# stop PID [SIGNAL]: signal a process we started, wait at most 10 s, then KILL.
stop() {
	local pid=$1 sig=${2:-TERM} i
	kill -"$sig" "$pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "warning: PID $pid ignored SIG$sig, killing it" >&2
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
	forget "$pid"
}

# wait_for FILE PATTERN SECONDS: wait until FILE contains PATTERN.
wait_for() {
	local f=$1 pat=$2 t=$3 i
	for ((i = 0; i < t * 10; i++)); do
		grep -q -- "$pat" "$f" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "timed out waiting for '$pat' in $f" >&2
	return 1
}

# ---- tools ------------------------------------------------------------------
# testdata/internal is its own Go module (go.mod there requires gopacket), so
# the project's go.mod stays free of it: `go mod tidy` at the root ignores
# testdata/ and would drop the requirement anyway.
log "building testdata/internal/{synth,tsharkjson}"
(cd "$TD/internal" && go build -o "$WORK/synth" ./synth && go build -o "$WORK/tsharkjson" ./tsharkjson)
"$WORK/synth" -o "$SYNTH"
SYNTH_LONG=$WORK/synthetic-traffic-long.pcap
"$WORK/synth" -long -o "$SYNTH_LONG"
SYNTH_MPLS=$WORK/synthetic-traffic-mpls.pcap
"$WORK/synth" -mpls -o "$SYNTH_MPLS"

# ---- capture harness ----------------------------------------------------------
SINK_PID= DUMP_PID=
start_capture() { # NAME PORT
	local name=$1 port=$2
	rm -f "$TD/$name.pcap" "$TD/$name.tshark.json"
	socat -u "UDP-RECV:$port,bind=127.0.0.1,reuseaddr" /dev/null &
	SINK_PID=$!
	PIDS+=("$SINK_PID")
	tcpdump -i lo -n -U -Z root -w "$TD/$name.pcap" "udp and dst host 127.0.0.1 and dst port $port" \
		>"$WORK/$name.tcpdump.log" 2>&1 &
	DUMP_PID=$!
	PIDS+=("$DUMP_PID")
	wait_for "$WORK/$name.tcpdump.log" "listening on" 20
	sleep 0.5
}

finish_capture() { # NAME PORT
	local name=$1 port=$2 n
	sleep 1 # let the last datagrams reach tcpdump
	stop "$DUMP_PID" INT
	stop "$SINK_PID" TERM
	n=$(tshark -r "$TD/$name.pcap" 2>/dev/null | wc -l)
	if ((n == 0)); then
		echo "error: $name.pcap captured no export packets" >&2
		exit 1
	fi
	(cd "$ROOT" && "$WORK/tsharkjson" -port "$port" -o "$TD/$name.tshark.json" "$TD/$name.pcap")
	log "$name: $n packets, $(grep -o '"data_records": [0-9]*' "$TD/$name.tshark.json")"
}

# softflowd_capture NAME PORT ARGS...: read the synthetic pcap with packet
# times (-a), no control socket (-c none, else it never exits), foreground
# (-d). softflowd_long_capture reads the long traffic instead.
# Two things make its output depend on the run, and both are pinned here:
#  - it exports the first 16 bytes of the -r argument as the interface name
#    (IE 82 in its options data): run it from the pcap's directory with a
#    relative name (both names begin with "synthetic-traffi");
#  - its IPFIX meteringProcessId (IE 143) is its PID: run it as PID 1 of a
#    fresh PID namespace (unshare), where available.
PIDNS=()
if unshare --pid --fork --kill-child true 2>/dev/null; then
	PIDNS=(unshare --pid --fork --kill-child)
fi
softflowd_run() { # NAME PORT TRAFFIC ARGS...
	local name=$1 port=$2 traffic=$3
	shift 3
	start_capture "$name" "$port"
	log "$name: softflowd -r $(basename "$traffic") -d -c none -a $* -n 127.0.0.1:$port"
	(cd "$(dirname "$traffic")" && timeout 120 "${PIDNS[@]}" softflowd -r "$(basename "$traffic")" -d -c none -a "$@" -n "127.0.0.1:$port") \
		>"$WORK/$name.log" 2>&1 || {
		cat "$WORK/$name.log" >&2
		exit 1
	}
	finish_capture "$name" "$port"
}
softflowd_capture() { softflowd_run "$1" "$2" "$SYNTH" "${@:3}"; }

# softflowd_tcp_capture NAME PORT: IPFIX over TCP (-P tcp), two connections
# (softflowd -v 10 -6 run twice: a transport session each, each with its
# templates and its sequence numbers from 0), recorded in a network
# namespace of its own whose loopback has an MTU of 600 and no segmentation
# offload, into a receiver that waits before reading: messages are cut
# into several segments and segments carry the end of one message and the
# start of the next, as on a real network. tshark dissects the stream
# (tsharkjson -tcp: -d tcp.port==PORT,cflow).
softflowd_tcp_capture() {
	local name=$1 port=$2
	rm -f "$TD/$name.pcap" "$TD/$name.tshark.json"
	log "$name: softflowd -v 10 -6 -P tcp -n 127.0.0.1:$port, twice, in a network namespace"
	cat >"$WORK/$name.sh" <<-EOF
		set -e
		ip link set lo mtu 600
		ip link set lo up
		ethtool -K lo tso off gso off gro off >/dev/null 2>&1 || true
		tcpdump -i lo -n -U -Z root -w "$TD/$name.pcap" "tcp and host 127.0.0.1 and port $port" >"$WORK/$name.tcpdump.log" 2>&1 &
		TP=\$!
		for i in 1 2 3 4 5 6 7 8 9 10; do grep -q "listening on" "$WORK/$name.tcpdump.log" && break; sleep 0.5; done
		sleep 0.5
		for run in 1 2; do
			socat -u TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,rcvbuf=1024 SYSTEM:"sleep 1; cat >/dev/null" &
			SP=\$!
			sleep 0.5
			(cd "$(dirname "$SYNTH")" && timeout 60 softflowd -r "$(basename "$SYNTH")" -d -c none -a -v 10 -6 -P tcp -n 127.0.0.1:$port) >>"$WORK/$name.log" 2>&1
			sleep 2
			kill \$SP 2>/dev/null || true
			wait \$SP 2>/dev/null || true
		done
		kill -INT \$TP
		wait \$TP || true
	EOF
	timeout 120 unshare --net --pid --fork --kill-child bash "$WORK/$name.sh" || {
		cat "$WORK/$name.log" "$WORK/$name.tcpdump.log" >&2
		exit 1
	}
	(cd "$ROOT" && "$WORK/tsharkjson" -tcp -port "$port" -o "$TD/$name.tshark.json" "$TD/$name.pcap")
	log "$name: $(grep -o -e '"packets": [0-9]*' -e '"data_records": [0-9]*' "$TD/$name.tshark.json" | head -2 | paste -sd' ')"
}
softflowd_mpls_capture() { softflowd_run "$1" "$2" "$SYNTH_MPLS" "${@:3}"; }
# The long captures: with a flow table of 3 (-m 3) softflowd evicts the
# oldest flows as new ones come (it expires nothing on time when it reads a
# file), so it sends many small packets and re-sends its templates and
# options data every 16 packets.
softflowd_long_capture() {
	local n
	softflowd_run "$1" "$2" "$SYNTH_LONG" "${@:3}"
	n=$(grep -o '"options_records": [0-9]*' "$TD/$1.tshark.json" | grep -o '[0-9]*$')
	if ((n < 4)); then # the first options record and at least 3 re-sends
		echo "error: $1.pcap has $n options data records, want at least 4" >&2
		exit 1
	fi
}

# pmacct NAME PORT VERSION [EXTRA CONFIG LINES...]: pmacctd + nfprobe reading
# the pcap; it keeps waiting after the file (pcap_savefile_wait), so it is
# stopped with SIGTERM once it has read everything: nfprobe then exports all
# flows it still holds. PMACCT_TRAFFIC and PMACCT_AGGREGATE override the
# input pcap and the aggregate line; an extra line "aggregate: ..." is not
# allowed (pmacct would take the first).
PMACCT_AGGREGATE_DEFAULT=src_host,dst_host,src_port,dst_port,proto,tos,tcpflags,src_mac,dst_mac,vlan
pmacct_conf() { # CONF PORT VERSION [EXTRA CONFIG LINES...]
	local conf=$1 port=$2 version=$3 l
	shift 3
	{
		echo "daemonize: false"
		echo "pcap_savefile: ${PMACCT_TRAFFIC:-$SYNTH}"
		echo "pcap_savefile_wait: true"
		echo "plugins: nfprobe"
		echo "nfprobe_receiver: 127.0.0.1:$port"
		echo "nfprobe_version: $version"
		echo "aggregate: ${PMACCT_AGGREGATE:-$PMACCT_AGGREGATE_DEFAULT}"
		for l in "$@"; do echo "$l"; done
	} >"$conf"
}
# pmacct_run CONF LOG: run pmacctd on CONF until it has read its pcap.
pmacct_run() {
	local conf=$1 log=$2 pid
	pmacctd -f "$conf" >"$log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	wait_for "$log" "finished reading PCAP capture file" 60 || { cat "$log" >&2; exit 1; }
	sleep 1
	stop "$pid" TERM # pmacctd may exit non-zero here ("connection lost to plugin"): harmless
	if grep -q -e "ERROR" -e "Failed during write" "$log"; then
		cat "$log" >&2
		exit 1
	fi
}
pmacct_capture() {
	local name=$1 port=$2 version=$3 conf
	shift 3
	conf=$WORK/$name.conf
	pmacct_conf "$conf" "$port" "$version" "$@"
	start_capture "$name" "$port"
	log "$name: pmacctd -f $name.conf ($(grep -v -e '^daemonize' -e '^pcap_savefile:' "$conf" | paste -sd';'))"
	pmacct_run "$conf" "$WORK/$name.log"
	finish_capture "$name" "$port"
}

# The wide, router-like template: pmacctd reads the MPLS-labelled traffic
# and exports, besides the default aggregate, src/dst AS, src/dst masks and
# the BGP next hop (from a networks file of documentation prefixes and
# private ASNs), the top MPLS label, the flow count and a fixed input
# interface (nfprobe_ifindex, direction in). pmacctd_ext_sampling_rate
# announces 1:10 sampling in options data without sampling itself, so the
# records stay those of an unsampled run (and deterministic).
PMACCT_WIDE_AGGREGATE=$PMACCT_AGGREGATE_DEFAULT,src_as,dst_as,src_mask,dst_mask,peer_dst_ip,mpls_label_top,flows
pmacct_wide_lines() { # the extra config lines; the plugin is named "wide"
	cat >"$WORK/networks.lst" <<-'EOF'
		192.0.2.254,64496,192.0.2.0/25
		192.0.2.254,64499,192.0.2.128/25
		198.51.100.254,64497,198.51.100.0/24
		203.0.113.254,64498,203.0.113.0/24
		2001:db8::fe,64500,2001:db8:1::/48
		2001:db8::fe,64501,2001:db8::/32
	EOF
	WIDE_LINES=(
		"pmacctd_as: file"
		"pmacctd_net: file"
		"networks_file: $WORK/networks.lst"
		"pmacctd_ext_sampling_rate: 10"
		"nfprobe_ifindex[wide]: 3"
		"nfprobe_direction[wide]: in"
	)
}
pmacct_wide_capture() { # NAME PORT VERSION
	local name=$1 port=$2 version=$3 conf
	pmacct_wide_lines
	conf=$WORK/$name.conf
	PMACCT_TRAFFIC=$SYNTH_MPLS PMACCT_AGGREGATE=$PMACCT_WIDE_AGGREGATE pmacct_conf "$conf" "$port" "$version" "${WIDE_LINES[@]}"
	sed -i 's/^plugins: nfprobe$/plugins: nfprobe[wide]/' "$conf"
	start_capture "$name" "$port"
	log "$name: pmacctd -f $name.conf ($(grep -v -e '^daemonize' -e '^pcap_savefile:' "$conf" | paste -sd';'))"
	pmacct_run "$conf" "$WORK/$name.log"
	finish_capture "$name" "$port"
}

# pmacct's own IPFIX elements (PEN 43874): tag (1) and tag2 (2), 8 bytes,
# and label (3), variable-length (a NUL-terminated string, short length
# form), set by a pre_tag_map from the protocol and the service port.
# nfprobe exports them only in IPFIX. The BPF filters do not match
# VLAN-tagged frames, which keep tag 0 and an empty label.
pmacct_pen_capture() { # NAME PORT
	cat >"$WORK/pretag.map" <<-'EOF'
		set_tag=6 filter='tcp' jeq=svc
		set_tag=17 filter='udp' jeq=svc
		set_tag=1 filter='icmp or icmp6' jeq=svc
		set_tag2=1 filter='tcp port 80 or tcp port 443 or tcp port 8080' label=svc jeq=name
		set_tag2=2 filter='udp port 53' label=svc jeq=name
		set_tag2=3 filter='tcp port 22' label=svc jeq=name
		set_label=web filter='tcp port 80 or tcp port 443 or tcp port 8080' label=name
		set_label=dns filter='udp port 53' label=name
		set_label=secure-shell filter='tcp port 22' label=name
	EOF
	PMACCT_AGGREGATE=src_host,dst_host,src_port,dst_port,proto,tos,tcpflags,tag,tag2,label \
		pmacct_capture "$1" "$2" 10 "pre_tag_map: $WORK/pretag.map"
}

# nfreplay NAME PORT VERSION SOURCE: nfdump's nfreplay re-exporting an
# nfcapd file. The file is made first: nfcapd listens on 127.0.0.1:PORT+1000
# and collects (not captured) either the wide pmacct v9 export above
# (SOURCE pmacct) or softflowd's IPFIX (SOURCE softflowd: -v 10 -6 on the
# synthetic traffic); it writes its file when it gets SIGTERM. Then nfreplay
# sends every record of the file to PORT as NetFlow VERSION (5 or 9; it has
# no IPFIX), one packet each 1 ms.
nfreplay_capture() {
	local name=$1 port=$2 version=$3 source=$4 cport=$(($2 + 1000)) dir=$WORK/$1.nfcapd conf pid file
	mkdir -p "$dir"
	log "$name: nfcapd -w … -b 127.0.0.1 -p $cport  <-  $source"
	nfcapd -w "$dir" -b 127.0.0.1 -p "$cport" -I nfkit >"$WORK/$name.nfcapd.log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	wait_for "$WORK/$name.nfcapd.log" "Startup" 20
	case $source in
	pmacct) # as pmacct-v9-wide
		pmacct_wide_lines
		conf=$WORK/$name.pmacct.conf
		PMACCT_TRAFFIC=$SYNTH_MPLS PMACCT_AGGREGATE=$PMACCT_WIDE_AGGREGATE pmacct_conf "$conf" "$cport" 9 "${WIDE_LINES[@]}"
		sed -i 's/^plugins: nfprobe$/plugins: nfprobe[wide]/' "$conf"
		pmacct_run "$conf" "$WORK/$name.pmacct.log"
		;;
	softflowd) # as softflowd-ipfix
		(cd "$(dirname "$SYNTH")" && timeout 120 "${PIDNS[@]}" softflowd -r "$(basename "$SYNTH")" -d -c none -a -v 10 -6 -n "127.0.0.1:$cport") \
			>"$WORK/$name.softflowd.log" 2>&1 || {
			cat "$WORK/$name.softflowd.log" >&2
			exit 1
		}
		;;
	*)
		echo "nfreplay_capture: unknown source $source" >&2
		exit 1
		;;
	esac
	sleep 1
	stop "$pid" TERM
	file=$(find "$dir" -name 'nfcapd.2*' -print -quit)
	if [[ -z $file ]]; then
		cat "$WORK/$name.nfcapd.log" >&2
		echo "error: nfcapd wrote no file" >&2
		exit 1
	fi
	nfdump -r "$file" -q -o line >"$WORK/$name.nfdump.txt"
	start_capture "$name" "$port"
	log "$name: nfreplay -r nfcapd.… -v $version -H 127.0.0.1 -p $port -d 1000 ($(wc -l <"$WORK/$name.nfdump.txt") flows)"
	timeout 120 nfreplay -r "$file" -v "$version" -H 127.0.0.1 -p "$port" -d 1000 >"$WORK/$name.log" 2>&1 || {
		cat "$WORK/$name.log" >&2
		exit 1
	}
	finish_capture "$name" "$port"
}

# fprobe NAME PORT VERSION [ARGS...]: fprobe reads a pcap only from stdin; fed at full
# speed it loses packets at EOF, so the file is paced in 2 KiB chunks.
pace() {
	local f=$1 size chunks i
	size=$(stat -c %s "$f")
	chunks=$(((size + 2047) / 2048))
	for ((i = 0; i < chunks; i++)); do
		dd if="$f" bs=2048 skip="$i" count=1 status=none
		sleep 0.02
	done
}
fprobe_capture() {
	local name=$1 port=$2 version=$3
	shift 3
	start_capture "$name" "$port"
	log "$name: fprobe -i - -l 2 -n $version${*:+ $*} 127.0.0.1:$port < synthetic-traffic.pcap (paced)"
	pace "$SYNTH" | timeout 120 fprobe -i - -l 2 -n "$version" "$@" "127.0.0.1:$port" >"$WORK/$name.log" 2>&1 || {
		cat "$WORK/$name.log" >&2
		exit 1
	}
	finish_capture "$name" "$port"
}

# sfprobe NAME PORT PACE RATE AGENT: pmacctd + sfprobe reading the synthetic
# pcap and exporting sFlow v5 (flow samples with the raw packet header and
# extended switch, router and gateway records, from the networks file of
# the wide captures; counter samples) as agent AGENT, sub-agent 7, sampling
# 1 in RATE. sfprobe sends its generic interface counters every 20 s of
# wall-clock time while packets come, so PACE=paced feeds the pcap through
# a FIFO in 2 KiB chunks every 0.6 s (about 30 s); PACE=fast reads the file
# at once (no counter samples). The tshark expectations come from its sflow
# dissector (tsharkjson -sflow).
sfprobe_capture() {
	local name=$1 port=$2 pace=$3 rate=$4 agent=$5 conf traffic=$SYNTH pid
	conf=$WORK/$name.conf
	pmacct_wide_lines # writes networks.lst
	if [[ $pace == paced ]]; then
		traffic=$WORK/$name.fifo
		mkfifo "$traffic"
	fi
	cat >"$conf" <<-EOF
		daemonize: false
		pcap_savefile: $traffic
		pcap_savefile_wait: true
		plugins: sfprobe
		sfprobe_receiver: 127.0.0.1:$port
		sfprobe_agentip: $agent
		sfprobe_agentsubid: 7
		sfprobe_ifspeed: 1000000000
		sampling_rate: $rate
		pmacctd_as: file
		pmacctd_net: file
		networks_file: $WORK/networks.lst
	EOF
	start_capture "$name" "$port"
	log "$name: pmacctd -f $name.conf ($(grep -v -e '^daemonize' -e '^pcap_savefile:' "$conf" | paste -sd';')), $pace"
	pmacctd -f "$conf" >"$WORK/$name.log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	if [[ $pace == paced ]]; then
		local size chunks i
		size=$(stat -c %s "$SYNTH")
		chunks=$(((size + 2047) / 2048))
		for ((i = 0; i < chunks; i++)); do
			dd if="$SYNTH" bs=2048 skip="$i" count=1 status=none
			sleep 0.6
		done >"$traffic"
	fi
	wait_for "$WORK/$name.log" "finished reading PCAP capture file" 90 || { cat "$WORK/$name.log" >&2; exit 1; }
	sleep 1
	stop "$pid" TERM
	if grep -q -e "ERROR" "$WORK/$name.log"; then
		cat "$WORK/$name.log" >&2
		exit 1
	fi
	sleep 1
	stop "$DUMP_PID" INT
	stop "$SINK_PID" TERM
	(cd "$ROOT" && "$WORK/tsharkjson" -sflow -port "$port" -o "$TD/$name.tshark.json" "$TD/$name.pcap")
	log "$name: $(grep -o -e '"packets": [0-9]*' -e '"flow_samples": [0-9]*' -e '"counter_samples": [0-9]*' "$TD/$name.tshark.json" | head -3 | paste -sd' ')"
}

# ---- the captures -------------------------------------------------------------
# name                               port   how
CAPTURES=(
	"softflowd-v1                    20101  softflowd_capture -v 1"
	"softflowd-v5                    20102  softflowd_capture -v 5"
	"softflowd-v9                    20103  softflowd_capture -v 9 -6"
	"softflowd-v9-sampling           20104  softflowd_capture -v 9 -6 -s 10"
	"softflowd-ipfix                 20105  softflowd_capture -v 10 -6"
	"softflowd-ipfix-biflow          20106  softflowd_capture -v 10 -6 -b"
	"softflowd-ipfix-abstime-milli   20107  softflowd_capture -v 10 -6 -A milli"
	"softflowd-ipfix-abstime-micro   20108  softflowd_capture -v 10 -6 -A micro"
	"softflowd-ipfix-abstime-nano    20109  softflowd_capture -v 10 -6 -A nano"
	"softflowd-ipfix-ether           20110  softflowd_capture -v 10 -6 -T ether"
	"softflowd-ipfix-long            20111  softflowd_long_capture -v 10 -6 -m 3"
	"softflowd-v9-long               20112  softflowd_long_capture -v 9 -6 -m 3"
	"softflowd-ipfix-mpls            20113  softflowd_mpls_capture -v 10 -6 -x 3"
	"softflowd-ipfix-sampling        20114  softflowd_capture -v 10 -6 -s 10"
	"softflowd-psamp                 20115  softflowd_capture -v psamp -6 -s 10"
	"softflowd-ipfix-tcp             20116  softflowd_tcp_capture"
	"pmacct-v9                       20201  pmacct_capture 9"
	"pmacct-ipfix                    20202  pmacct_capture 10"
	"pmacct-v9-sampling              20203  pmacct_capture 9 sampling_rate:~10"
	"pmacct-ipfix-sampling           20204  pmacct_capture 10 sampling_rate:~10"
	"pmacct-ipfix-usec               20205  pmacct_capture 10 nfprobe_tstamp_usec:~true"
	"pmacct-v9-wide                  20206  pmacct_wide_capture 9"
	"pmacct-ipfix-wide               20207  pmacct_wide_capture 10"
	"pmacct-ipfix-pen                20208  pmacct_pen_capture"
	"fprobe-v5                       20301  fprobe_capture 5"
	"fprobe-v7                       20302  fprobe_capture 7"
	"fprobe-v1                       20303  fprobe_capture 1 -x 3:4"
	"nfreplay-v9                     20401  nfreplay_capture 9 pmacct"
	"nfreplay-v5                     20402  nfreplay_capture 5 pmacct"
	"nfreplay-v9-softflowd           20403  nfreplay_capture 9 softflowd"
	"sfprobe-sflow                   20501  sfprobe_capture paced 1 192.0.2.254"
	"sfprobe-sflow-sampling          20502  sfprobe_capture fast 10 203.0.113.254"
)

want=("$@")
for entry in "${CAPTURES[@]}"; do
	read -r name port fn args <<<"$entry"
	if ((${#want[@]})); then
		match=
		for w in "${want[@]}"; do [[ $w == "$name" ]] && match=1; done
		[[ -n $match ]] || continue
	fi
	# shellcheck disable=SC2086 # args are split on purpose; "~" stands for a space in config lines
	read -r -a argv <<<"$args"
	for i in "${!argv[@]}"; do argv[i]=${argv[i]//\~/ }; done
	"$fn" "$name" "$port" "${argv[@]}"
done

log "done: $(du -sh "$TD" | cut -f1) in testdata/"
