#!/bin/sh
# make demo / make undemo: the bundled mock API with sample conversations,
# mounted with linkupfs. State lives in build/demo/.
set -e
cmd=$1
mnt=${2:-demo}
state=build/demo
py=/usr/bin/python3

stop() {
	if mountpoint -q "$mnt" 2>/dev/null; then
		fusermount3 -u "$mnt" && echo "unmounted $mnt"
	fi
	if [ -f "$state/mock.pid" ]; then
		kill "$(cat "$state/mock.pid")" 2>/dev/null && echo "mock API stopped"
		rm -f "$state/mock.pid"
	fi
}

start() {
	stop
	mkdir -p "$state" "$mnt"
	: >"$state/mock.out"
	$py tests/mock_api.py --port 0 --latency-ms "${LATENCY_MS:-100}" \
		--api-key demo-api-key --login-token demo-login-token \
		>"$state/mock.out" 2>"$state/mock.log" &
	echo $! >"$state/mock.pid"
	i=0
	until grep -q '^LISTENING' "$state/mock.out"; do
		i=$((i + 1))
		if [ $i -gt 500 ]; then
			echo "linkupfs demo: the mock API did not start:" >&2
			cat "$state/mock.log" >&2
			stop
			exit 1
		fi
		sleep 0.01
	done
	port=$(awk '/^LISTENING/ {print $2}' "$state/mock.out")
	# The mock's own demo credentials; real ones never go in a file like this.
	LINKUP_API_KEY=demo-api-key LINKUP_LOGIN_TOKEN=demo-login-token \
	XDG_CONFIG_HOME="$state/config" \
		./linkupfs -o "api_url=http://127.0.0.1:$port" "$mnt"
	cat <<EOT
linkupfs demo mounted at $mnt (mock API on 127.0.0.1:$port, ${LATENCY_MS:-100} ms per request).
Try:
  ls -lt $mnt                                  conversations, most recent first
  ls $mnt/long-talker-42                       its pages (walks the cursor chain)
  grep -r "café" $mnt                          search every message
  tail $mnt/long-talker-42/transcript.txt      the newest messages
  vim $mnt/alés-préw-aa0262324/transcript.txt
  jq -c '{sender, text}' $mnt/long-talker-42/page-0001.jsonl
  cat $mnt/.stats                              requests, credits, cache
Stop it with: make undemo
EOT
}

case "$cmd" in
start) start ;;
stop) stop ;;
*) echo "usage: $0 start|stop [MOUNTPOINT]" >&2; exit 2 ;;
esac
