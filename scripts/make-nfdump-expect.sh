#!/bin/sh
# make-nfdump-expect.sh: nfdump's statistics of a flow set, as the independent
# expectation of nfanalyze's --stat/--top (analyzer/nfdump_test.go).
#
#   scripts/make-nfdump-expect.sh [flows.jsonl [outdir]]
#
# The flow set (default analyzer/testdata/nfdump/flows.jsonl, made with
# `go run ./analyzer/internal/nfdumpsend -gen -n 400 -seed 1` when it is missing
# or when GEN=1) is sent as NetFlow v9 over loopback to an nfcapd started here,
# and `nfdump -s STAT/ORDER -n 10 -N` of what nfcapd stored is written to
# outdir/STAT-ORDER.txt (default analyzer/testdata/nfdump), for the statistics
# srcip dstip ip srcport dstport port proto srcas dstas as, each ordered by flows,
# packets and bytes; outdir/agg-KEYS.txt, `nfdump -A KEYS -N -q` for a few
# aggregations; and outdir/filters.txt, one line per filter expression (the
# same nfdump-style expression for both tools): the expression, a tab, and the
# summary line of `nfdump -s proto EXPR`. Needs nfdump 1.7.1 (Debian package
# nfdump) and Go.
# NFDUMP_PORT sets the UDP port (default 39995). Output is reproducible: times
# are printed in UTC and nfdump's line with run times is left out.
set -eu

cd "$(dirname "$0")/.."
flows=${1:-analyzer/testdata/nfdump/flows.jsonl}
out=${2:-analyzer/testdata/nfdump}
port=${NFDUMP_PORT:-39995}

for cmd in nfcapd nfdump go; do
	command -v "$cmd" >/dev/null || { echo "$0: $cmd not found (apt-get install nfdump)" >&2; exit 1; }
done
case "$(nfdump -V 2>&1)" in
*1.7.1*) ;;
*) echo "$0: warning: made for nfdump 1.7.1, found: $(nfdump -V 2>&1)" >&2 ;;
esac

mkdir -p "$out" "$(dirname "$flows")"
if [ "${GEN:-}" = 1 ] || [ ! -f "$flows" ]; then
	go run ./analyzer/internal/nfdumpsend -gen -n 400 -seed 1 >"$flows"
fi

tmp=$(mktemp -d)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

go build -o "$tmp/nfdumpsend" ./analyzer/internal/nfdumpsend
nfcapd -b 127.0.0.1 -p "$port" -w "$tmp" -t 3600 >"$tmp/nfcapd.log" 2>&1 &
pid=$!
# Wait (at most 10 s) until nfcapd listens.
i=0
until grep -q "Startup" "$tmp/nfcapd.log" 2>/dev/null; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 "$pid" 2>/dev/null; then
		echo "$0: nfcapd did not start:" >&2
		cat "$tmp/nfcapd.log" >&2
		exit 1
	fi
	sleep 0.1
done
sleep 0.2
"$tmp/nfdumpsend" -send "127.0.0.1:$port" "$flows"
sleep 0.5
kill -TERM "$pid"
wait "$pid" || true
pid=

file=$(ls "$tmp"/nfcapd.2* 2>/dev/null | head -n 1)
[ -n "$file" ] || { echo "$0: nfcapd wrote no file:" >&2; cat "$tmp/nfcapd.log" >&2; exit 1; }
want=$(grep -c . "$flows")
got=$(TZ=UTC nfdump -r "$file" -s proto -n 1 -N | sed -n 's/^Summary: total flows: \([0-9]*\),.*/\1/p')
if [ "$got" != "$want" ]; then
	echo "$0: nfcapd stored $got flows of $want (packets lost?)" >&2
	exit 1
fi

for stat in srcip dstip ip srcport dstport port proto srcas dstas as; do
	for order in flows packets bytes; do
		TZ=UTC nfdump -r "$file" -s "$stat/$order" -n 10 -N | grep -v '^Sys:' >"$out/$stat-$order.txt"
	done
done
# Filter expressions both nfdump 1.7.1 and nfanalyze accept and read alike. Not
# here: "as" (nfdump 1.7.1 refuses every AS primitive without a geo location
# database), bare protocol names ("tcp": nfdump 1.7.1 wants "proto tcp"),
# service names in port lists, and port ranges that ICMP could match (nfdump
# compares ICMP type*256+code as the destination port; nfanalyze's port
# primitives match only protocols with ports). The flows come from two
# exporters, 127.0.0.1 and 127.0.0.2 (for "router ip").
: >"$out/filters.txt"
while IFS= read -r expr; do
	sum=$(TZ=UTC nfdump -r "$file" -s proto -n 1 -N "$expr" | grep '^Summary: ') || {
		echo "$0: nfdump failed on filter: $expr" >&2
		exit 1
	}
	printf '%s\t%s\n' "$expr" "$sum" >>"$out/filters.txt"
done <<'EOF'
src net 192.0.2.0/24 and dst port 443
host 2001:db8::10 and not proto udp
(port 80 or port 443) and bytes > 1m
proto icmp or proto gre
packets < 100
src and dst net 192.0.2.0/24
inet6
inet
not host 192.0.2.10
dst port 53 and proto udp
proto icmp6
net 203.0.113.0/25
bytes >= 500k and packets <= 1000
src port 22 or dst port 25
src or dst port 123
port > 1024 and not (proto icmp or proto icmp6)
src port lt 1024 and dst port gt 32767 and proto tcp
dst net 2001:db8:1::/48 or src host 198.51.100.9
not (src net 192.0.2.0/24 or dst net 192.0.2.0/24)
bytes > 1500000
bytes < 10k
port in [80 443]
src port in [22, 25, 53]
net 192.0/16
dst net 198.51.100/24
net 203.0.113.0 255.255.255.128
flags S
flags AS
flags S and not flags AFRPU
flags X
flags F or flags R
bpp > 1000
bpp < 200
bps > 1m
bps < 10k
pps > 100
pps >= 1k
duration > 60000
duration < 1000
duration = 0
tos 184
tos > 8
src tos 16
in if 3
out if 5
if 7
router ip 127.0.0.2
router ip 127.0.0.1 and proto tcp
vlan 10
src vlan 20
dst vlan 30 and not vlan 10
mac 00:00:5e:00:53:0a
in src mac 02:42:ac:11:00:02
in dst mac 0a:1b:2c:3d:4e:5f
src mask 24
dst mask 16 and inet
mask 64
ip in [192.0.2.10 2001:db8::/48]
icmp-type 8
icmp-code 1
proto icmp and not icmp-type 8
flowdir egress
flowdir ingress and proto udp
flows 1
packets > 1k and bps > 100k
proto tcp and flags R
(proto tcp or proto udp) and port in [53 443] and not flags A
not flags SA
not (proto udp or flags AS)
flags 18
flags > 20
not flags 18
icmp-type 1
EOF

# Aggregations (nfdump -A, nfanalyze --aggregate with the same keys): every
# aggregate, unsorted, numbers plain. A prefix key of one family is checked on
# the flows of that family ("inet", "inet6"): on the other family nfdump 1.7.1
# applies a mask made for the first (IPv6 addresses under srcip4/24 keep about
# 64 bits; IPv4 addresses under srcip6/N become 0.0.0.0), where nfanalyze keeps
# the other family's addresses whole.
for keys in proto srcip4/24,dstport dstip srcport,proto srcip,dstip,proto dstip4/16 srcip6/48,dstport; do
	filter=
	case "$keys" in
	*4/*) filter=inet ;;
	*6/*) filter=inet6 ;;
	esac
	TZ=UTC nfdump -r "$file" -A "$keys" -N -q $filter >"$out/agg_$(echo "$keys" | tr ',/' '+_').txt"
done

echo "$0: wrote $out/*.txt from $want flows of $flows" >&2
