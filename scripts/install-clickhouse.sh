#!/usr/bin/env bash
# Installs Debian's clickhouse-server for the ClickHouse tests when it is
# missing and this runs as root with apt-get (as CI does); otherwise says
# loudly that those tests will skip. Prints nothing when it is installed.
set -euo pipefail
have() { command -v clickhouse-server >/dev/null 2>&1 || [ -x /usr/sbin/clickhouse-server ]; }
have && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "installing clickhouse-server (Debian) for the ClickHouse tests" >&2
	apt-get update -q >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q clickhouse-server clickhouse-client >&2
	have && exit 0
fi
echo "*** clickhouse-server is missing and cannot be installed here (needs root and apt-get):" >&2
echo "*** the ClickHouse tests (internal/chtest, internal/chtest/e2e, analyzer) will SKIP" >&2
