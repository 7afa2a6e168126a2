#!/bin/sh
# bench/export.sh - what a user would do instead of mounting linkupfs: a
# plain exporter with curl and jq that follows the inbox cursor and each
# conversation's cursor chain, and writes the text files to disk.
#
#   bench/export.sh OUTDIR [CONVERSATION_ID_OR_PROFILE_URL]
#
# Environment: LINKUP_API_KEY, LINKUP_LOGIN_TOKEN (required), LINKUP_API_URL
# (default https://api.linkupapi.com), PAGE_SIZE (default 100, the same page
# size as linkupfs), INBOX_LIMIT (default 200).
#
# For each conversation, OUTDIR/NAME/ holds page-NNNN.json (the API's answer
# as it came), page-NNNN.txt (one line per message, oldest first,
# further lines of a message indented by two spaces) and transcript.txt (the
# pages from the last down to page 1). NAME is the last part of the profile
# URL, else the conversation id with unsafe characters replaced. With a
# second argument only that conversation is exported and the inbox is not
# read.
set -eu

[ $# -ge 1 ] || { echo "usage: $0 OUTDIR [CONVERSATION]" >&2; exit 2; }
out=$1
only=${2:-}
url=${LINKUP_API_URL:-https://api.linkupapi.com}
size=${PAGE_SIZE:-100}
limit=${INBOX_LIMIT:-200}
: "${LINKUP_API_KEY:?LINKUP_API_KEY is not set}"
: "${LINKUP_LOGIN_TOKEN:?LINKUP_LOGIN_TOKEN is not set}"

mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The key and the token never go on a command line (ps): the key in a
# private header file, the token in the body on curl's stdin.
umask 077
printf 'x-api-key: %s\nContent-Type: application/json\n' "$LINKUP_API_KEY" \
	>"$work/headers"
umask 022

# post PATH BODY_JSON FILE: the answer, as the API sent it, into FILE
post() {
	printf '%s' "$2" | curl -sS -X POST -H @"$work/headers" \
		--data-binary @- -o "$3" "$url$1"
}

# One jq per page: fails on an error answer (v1 may say "error" under HTTP
# 200); else prints the next cursor ("" at the end of the chain) on the
# first line, then one line per message, oldest first, in the mounting
# user's time zone, further lines of a message indented by two spaces.
page_jq='if .status != "success" then
		error("\(.message // .error // .data // "error answer")") else . end
	| .data | ((if .pagination.has_next_page then
		.pagination.next_cursor // "" else "" end),
	(.messages | reverse | .[] |
	"[\(.timestamp / 1000 | floor | strflocaltime("%Y-%m-%d %H:%M:%S"))] " +
	(.sender // ("\(.sender_info.first_name // "") \(.sender_info.last_name // "")"))
	+ (if (.message_type // "TEXT") != "TEXT" then " (\(.message_type))" else "" end)
	+ (if (.text // "") != "" then ": " + (.text | rtrimstr("\n") | gsub("\r?\n"; "\n  ")) else "" end)))'

# export_conversation REF_FIELD REF NAME
export_conversation() {
	dir="$out/$3"
	mkdir -p "$dir"
	cursor=""
	n=0
	while :; do
		n=$((n + 1))
		pg=$(printf 'page-%04d' "$n")
		body=$(printf '{"%s":"%s","login_token":"%s","total_results":%d' \
			"$1" "$2" "$LINKUP_LOGIN_TOKEN" "$size")
		[ -z "$cursor" ] || body="$body,\"cursor\":\"$cursor\""
		post /v1/messages/conversation "$body}" "$dir/$pg.json"
		jq -r "$page_jq" "$dir/$pg.json" >"$work/out"
		{ IFS= read -r next; cat >"$dir/$pg.txt"; } <"$work/out"
		[ -n "$next" ] || break
		cursor=$next
	done
	# the transcript: oldest page first
	ls -r "$dir"/page-*.txt | xargs cat >"$dir/transcript.txt"
}

if [ -n "$only" ]; then
	case $only in
	http://* | https://*)
		name=$(basename "$only")
		export_conversation linkedin_url "$only" "$name" ;;
	*)
		name=$(printf '%s' "$only" | tr -c 'A-Za-z0-9._-' '_')
		export_conversation conversation_id "$only" "$name" ;;
	esac
	exit 0
fi

# The inbox: conversation id and directory name, one per line.
cursor=""
: >"$work/list"
left=$limit
while [ "$left" -gt 0 ]; do
	want=$((left < 100 ? left : 100))
	body=$(printf '{"login_token":"%s","total_results":%d' \
		"$LINKUP_LOGIN_TOKEN" "$want")
	[ -z "$cursor" ] || body="$body,\"next_cursor\":\"$cursor\""
	post /v1/messages/inbox "$body}" "$work/answer"
	jq -r 'if .status != "success" then error("\(.message // "error answer")")
		else .data end | (.next_cursor // ""), (.conversations | length),
		(.conversations[] | [.conversation_id, ((.participant.profile_url
		// "") | rtrimstr("/") | split("/") | last // "")] | @tsv)' \
		"$work/answer" >"$work/out"
	{ IFS= read -r cursor; IFS= read -r got; cat >>"$work/list"; } <"$work/out"
	left=$((left - got))
	[ -n "$cursor" ] && [ "$got" -gt 0 ] || break
done

tab=$(printf '\t')
while IFS=$tab read -r id name; do
	[ -n "$name" ] || name=$(printf '%s' "$id" | tr -c 'A-Za-z0-9._-' '_')
	export_conversation conversation_id "$id" "$name"
done <"$work/list"
